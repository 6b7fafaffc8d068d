//! Profit sharing (分账): receivers the merchant registers (`POST /v1/receivers`), the
//! `splits` an order names (checked when it is created: registered receivers, each share
//! positive, together at most the amount less the highest fee it can have), and each
//! receiver's balance (`GET /v1/receivers`): shares booked when an order's money is released,
//! less what refunds clawed back pro rata (`merchant/settlements.rs` books both).

use super::protocol::{CreateReceiver, Receiver, ReceiverList};
use super::store::{Ledger, Merchant, Result};
use crate::domain::money_rules::{self as rules, Split};
use crate::error::AppError;
use paydesk_shared::time::format_rfc3339;
use serde::Deserialize;

#[derive(Deserialize)]
struct ReceiverRow {
    receiver_id: String,
    name: String,
    relation: String,
    created_at_ms: i64,
    booked: Option<i64>,
    clawed_back: Option<i64>,
}

impl ReceiverRow {
    fn wire(self) -> Receiver {
        let (booked, clawed_back) = (self.booked.unwrap_or(0), self.clawed_back.unwrap_or(0));
        Receiver {
            receiver_id: self.receiver_id,
            name: self.name,
            relation: self.relation,
            created_at: format_rfc3339(self.created_at_ms),
            booked,
            clawed_back,
            balance: booked - clawed_back,
        }
    }
}

const RECEIVER_SELECT: &str = "SELECT r.receiver_id, r.name, r.relation, r.created_at_ms,
        r.retired_booked + COALESCE((SELECT -SUM(amount) FROM money_moves
            WHERE receiver_id = r.receiver_id AND kind = 'split'), 0) AS booked,
        r.retired_clawed_back + COALESCE((SELECT SUM(amount) FROM money_moves
            WHERE receiver_id = r.receiver_id AND kind = 'split_back'), 0) AS clawed_back
     FROM receivers r";

impl Ledger<'_> {
    /// `POST /v1/receivers`: registered now (`true`), or the same registration again.
    pub fn create_receiver(&self, m: &Merchant, c: &CreateReceiver) -> Result<(Receiver, bool)> {
        rules::check_receiver(&c.receiver_id, &c.name, &c.relation)?;
        if let Some(r) = self.receiver(&c.receiver_id)? {
            if r.name != c.name || r.relation != c.relation {
                return Err(AppError::param(
                    "receiver_id",
                    "a receiver with this receiver_id is registered with another name or relation",
                ));
            }
            return Ok((r, false));
        }
        let now = self.now(m);
        self.x(
            "INSERT INTO receivers (receiver_id, name, relation, created_at_ms) VALUES (?, ?, ?, ?)",
            vec![
                c.receiver_id.as_str().into(),
                c.name.as_str().into(),
                c.relation.as_str().into(),
                now.into(),
            ],
        )?;
        self.audit(
            now,
            "merchant_api",
            "receiver.create",
            &c.receiver_id,
            "",
            &c.relation,
        )?;
        let r = self.receiver(&c.receiver_id)?;
        Ok((
            r.ok_or_else(|| AppError::internal("receiver vanished"))?,
            true,
        ))
    }

    fn receiver(&self, receiver_id: &str) -> Result<Option<Receiver>> {
        let row: Option<ReceiverRow> = self.first(
            &format!("{RECEIVER_SELECT} WHERE r.receiver_id = ?"),
            vec![receiver_id.into()],
        )?;
        Ok(row.map(ReceiverRow::wire))
    }

    /// `GET /v1/receivers`, with their balances.
    pub fn list_receivers(&self) -> Result<ReceiverList> {
        self.run_due()?;
        let rows: Vec<ReceiverRow> = self.q(
            &format!("{RECEIVER_SELECT} ORDER BY r.created_at_ms, r.receiver_id"),
            vec![],
        )?;
        Ok(ReceiverList {
            receivers: rows.into_iter().map(ReceiverRow::wire).collect(),
        })
    }

    /// A new order's splits, checked, as stored (`None` without any).
    pub fn order_splits(
        &self,
        m: &Merchant,
        splits: Option<&[Split]>,
        amount: u64,
    ) -> Result<Option<String>> {
        let Some(splits) = splits.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let mut registered = std::collections::BTreeSet::new();
        for s in splits.iter().take(rules::MAX_SPLITS) {
            if self.receiver(&s.receiver_id)?.is_some() {
                registered.insert(s.receiver_id.as_str());
            }
        }
        let fee = rules::highest_fee(m.config.industry, amount);
        rules::check_splits(splits, amount, fee, |r| registered.contains(r))?;
        Ok(Some(serde_json::to_string(splits)?))
    }
}
