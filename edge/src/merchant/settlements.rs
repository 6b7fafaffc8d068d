//! Settlement (T+1): every movement of released money is booked on the merchant day it
//! happens (a release, its fee, its receivers' shares; a refund of released money, the fee it
//! gives back, the shares it claws back). When a merchant day closes (24:00 on the merchant's
//! calendar, UTC+8 unless it says otherwise), its movements become one batch, settled the next
//! day: `GET /v1/settlements`, the `settlement.created` event, an audit entry. The close is one
//! transaction with the movements it settles, so a restart mid-close settles each day once.
//! `GET /v1/balance` says where the money is at this moment of the merchant's clock. The
//! arithmetic is `domain::settlement_rules`'.

use super::protocol::{Balance, Settlement, SettlementList};
use super::store::{Ledger, Merchant, NewEvent, OrderRow, Result};
use crate::domain::events::{EventKind, Format};
use crate::domain::money_rules::Split;
use crate::domain::settlement_rules::{self as rules, Move, MoveKind, Paid};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::time::{civil_from_days, format_rfc3339};
use paydesk_shared::urlenc::query_pairs;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct SettlementRow {
    pub settlement_id: String,
    pub date: String,
    pub gross: i64,
    pub refunds: i64,
    pub fees: i64,
    pub splits: i64,
    pub net: i64,
    pub order_count: i64,
    pub created_at_ms: i64,
    pub group_id: Option<String>,
    pub swept_at_ms: Option<i64>,
}

pub const SETTLEMENT_COLUMNS: &str = "settlement_id, date, gross, refunds, fees, splits, net, \
    order_count, created_at_ms, group_id, swept_at_ms";

impl SettlementRow {
    pub fn wire(&self) -> Settlement {
        Settlement {
            settlement_id: self.settlement_id.clone(),
            date: self.date.clone(),
            gross: self.gross as u64,
            refunds: self.refunds as u64,
            fees: self.fees,
            splits: self.splits,
            net: self.net,
            order_count: self.order_count as u64,
            created_at: format_rfc3339(self.created_at_ms),
            group_id: self.group_id.clone(),
            swept_at: self.swept_at_ms.map(format_rfc3339),
        }
    }
}

impl OrderRow {
    /// Its profit-sharing splits (none for most orders).
    pub fn splits(&self) -> Result<Vec<Split>> {
        Ok(match &self.splits_json {
            Some(j) => crate::json_text::from_text(j)?,
            None => vec![],
        })
    }

    fn money<'a>(&self, splits: &'a [Split]) -> Paid<'a> {
        Paid {
            paid: self.amount_total as u64,
            refunded: self.refunded_total as u64,
            fee: self.fee.unwrap_or(0) as u64,
            fee_refunded: self.fee_refunded as u64,
            splits,
        }
    }
}

/// `2026-12-03` for a merchant day.
fn date_of(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The oldest merchant day with money not yet settled; it falls due when that day closes
/// (`domain::settlement_rules::day_closes_at`). One of the subqueries the alarm's schedule reads
/// together (`merchant/deadlines.rs`, `dues`).
pub(super) const OPEN_DAY: &str = "SELECT MIN(day) FROM money_moves WHERE settlement_id IS NULL";

impl Ledger<'_> {
    /// Called as a held order is released (`o` as it was): its money reaches the books.
    /// Answers what was booked.
    pub fn book_release(&self, m: &Merchant, o: &OrderRow, now: i64) -> Result<Vec<Move>> {
        let splits = o.splits()?;
        let moves = rules::on_release(o.money(&splits));
        self.book(m, o, None, &moves, now)?;
        Ok(moves)
    }

    /// Called as a refund of `amount` succeeds (`o` as it was before; `fee_back` what it gave
    /// back of the fee). A refund of held money books nothing: the held funds shrink.
    pub fn book_refund(
        &self,
        m: &Merchant,
        o: &OrderRow,
        out_refund_no: &str,
        amount: u64,
        fee_back: u64,
        now: i64,
    ) -> Result<()> {
        if o.released_at_ms.is_none() {
            return Ok(());
        }
        let splits = o.splits()?;
        let moves = rules::on_refund_of_released(o.money(&splits), amount, fee_back);
        self.book(m, o, Some(out_refund_no), &moves, now)
    }

    fn book(
        &self,
        m: &Merchant,
        o: &OrderRow,
        out_refund_no: Option<&str>,
        moves: &[Move],
        now: i64,
    ) -> Result<()> {
        // A day that has closed takes nothing more: a movement counts on the first open day.
        let closed = self.number("SELECT MAX(day) AS v FROM settlements", vec![])?;
        let day = rules::merchant_day(now, m.config.utc_offset_minutes)
            .max(closed.map_or(i64::MIN, |d| d + 1));
        for mv in moves {
            self.x(
                "INSERT INTO money_moves (at_ms, day, kind, out_trade_no, out_refund_no,
                    receiver_id, amount) VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    now.into(),
                    day.into(),
                    mv.kind.as_str().into(),
                    o.out_trade_no.as_str().into(),
                    out_refund_no.into(),
                    mv.receiver_id.clone().into(),
                    mv.amount.into(),
                ],
            )?;
        }
        Ok(())
    }

    /// Closes every merchant day that ended by `now`, oldest first, each into its batch.
    pub fn run_due_settlements(&self, m: &Merchant, now: i64) -> Result<()> {
        let offset = m.config.utc_offset_minutes;
        while let Some(day) = self.number(
            "SELECT MIN(day) AS v FROM money_moves WHERE settlement_id IS NULL",
            vec![],
        )? {
            let closes = rules::day_closes_at(day, offset);
            if closes > now {
                break;
            }
            self.close_day(m, day, closes)?;
        }
        Ok(())
    }

    fn close_day(&self, m: &Merchant, day: i64, at: i64) -> Result<()> {
        #[derive(Deserialize)]
        struct Row {
            kind: String,
            amount: i64,
            out_trade_no: String,
        }
        let rows: Vec<Row> = self.q(
            "SELECT kind, amount, out_trade_no FROM money_moves
             WHERE settlement_id IS NULL AND day = ?",
            vec![day.into()],
        )?;
        let moves = rows
            .iter()
            .filter_map(|r| Some((MoveKind::parse(&r.kind)?, r.amount)));
        let b = rules::batch(moves);
        let orders: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r.out_trade_no.as_str()).collect();
        let date = date_of(day);
        let id = format!("stl_{}_{}", date.replace('-', ""), runtime::random_hex(6));
        self.x(
            "INSERT INTO settlements (settlement_id, day, date, gross, refunds, fees, splits, net,
                order_count, created_at_ms, group_id, sweep_next_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                id.as_str().into(),
                day.into(),
                date.as_str().into(),
                (b.gross as i64).into(),
                (b.refunds as i64).into(),
                b.fees.into(),
                b.splits.into(),
                b.net.into(),
                (orders.len() as i64).into(),
                at.into(),
                m.row.group_id.clone().into(),
                m.row.group_id.as_ref().map(|_| at).into(),
            ],
        )?;
        self.x(
            "UPDATE money_moves SET settlement_id = ? WHERE settlement_id IS NULL AND day = ?",
            vec![id.as_str().into(), day.into()],
        )?;
        self.audit(
            at,
            "system:settlement",
            "settlement.create",
            &id,
            // A new settlement: nothing before (its day is in its id); its net after.
            "",
            &b.net.to_string(),
        )?;
        // The chain's head, this entry included, is anchored in the day's signed statement.
        self.x(
            "UPDATE settlements SET (audit_seq, audit_hash) =
                (SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1)
             WHERE settlement_id = ?",
            vec![id.as_str().into()],
        )?;
        self.settlement_event(m, EventKind::SettlementCreated, &id, at)
    }

    /// A settlement's event, with the settlement as it is now; a merchant's settlement events
    /// are delivered in order.
    pub fn settlement_event(&self, m: &Merchant, kind: EventKind, id: &str, at: i64) -> Result<()> {
        let s = self.settlement_or_fail(id)?;
        let mut data = serde_json::to_value(s.wire())?;
        // The day's signed statement goes out with it, so the chain's head is held outside the
        // merchant's object from the moment the day closes. Without a receipt key configured
        // the settlement still closes; the statement is left out (and can be fetched later).
        if kind == EventKind::SettlementCreated {
            match self.statement(m, id) {
                Ok(st) => data["statement"] = serde_json::to_value(st)?,
                Err(e) => worker::console_error!("statement of {id}: {e:?}"),
            }
        }
        self.record_event(
            at,
            NewEvent {
                kind,
                target: id,
                order_key: "settlements",
                data,
                url: m.config.notify_url.clone(),
                format: Format::Json,
            },
        )
    }

    pub fn settlement_or_fail(&self, id: &str) -> Result<SettlementRow> {
        self.first(
            &format!("SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE settlement_id = ?"),
            vec![id.into()],
        )?
        .ok_or_else(|| AppError::internal("settlement vanished"))
    }

    /// `GET /v1/settlements?from=YYYY-MM-DD&to=YYYY-MM-DD`: newest first, at most 400.
    pub fn list_settlements(&self, query: &str) -> Result<SettlementList> {
        self.run_due()?;
        let (mut from, mut to) = (String::from("0000-00-00"), String::from("9999-99-99"));
        for (k, v) in query_pairs(query) {
            let ok = v.len() == 10 && crate::domain::bill_rules::parse_day(&v).is_some();
            match k.as_str() {
                "from" | "to" if !ok => {
                    return Err(AppError::param(
                        &k,
                        format!("{k} must be a date YYYY-MM-DD"),
                    ))
                }
                "from" => from = v,
                "to" => to = v,
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        let rows: Vec<SettlementRow> = self.q(
            &format!(
                "SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE date >= ? AND date <= ?
                 ORDER BY day DESC LIMIT {}",
                rules::LISTED_AT_MOST
            ),
            vec![from.into(), to.into()],
        )?;
        Ok(SettlementList {
            settlements: rows.iter().map(SettlementRow::wire).collect(),
        })
    }

    /// `GET /v1/balance`, at this moment of the merchant's clock (what fell due has run).
    /// Orders paid before escrow existed (no `held_until_ms`) were never held and are not on
    /// these books. Records let go after seven years (`merchant/retention.rs`) count by what
    /// was carried forward.
    pub fn balance(&self, m: &Merchant) -> Result<Balance> {
        self.run_due()?;
        let n = |sql: &str| -> Result<i64> { Ok(self.number(sql, vec![])?.unwrap_or(0)) };
        let gone = self.retention()?;
        let carried = |f: fn(&super::retention::RetentionRow) -> i64| gone.as_ref().map_or(0, f);
        Ok(Balance {
            business_time: format_rfc3339(self.now(m)),
            held: n(
                "SELECT SUM(amount_total - refunded_total - COALESCE(fee, 0) + fee_refunded)
                     AS v FROM orders INDEXED BY orders_held
                     WHERE held_until_ms IS NOT NULL AND released_at_ms IS NULL
                     AND status IN ('SUCCESS', 'REFUND')",
            )?,
            releasable: n("SELECT SUM(amount) AS v FROM money_moves WHERE settlement_id IS NULL")?,
            settled: n("SELECT SUM(net) AS v FROM settlements")? + carried(|r| r.settled),
            shared: -n("SELECT SUM(amount) AS v FROM money_moves WHERE receiver_id IS NOT NULL")?
                + carried(|r| r.shared),
            paid: n(
                "SELECT SUM(amount_total) AS v FROM orders WHERE held_until_ms IS NOT NULL
                     AND status IN ('SUCCESS', 'REFUND')",
            )? + carried(|r| r.paid),
            refunded: n(
                "SELECT SUM(refunded_total) AS v FROM orders WHERE held_until_ms IS NOT NULL",
            )? + carried(|r| r.refunded),
            fees: n("SELECT SUM(fee - fee_refunded) AS v FROM orders
                     WHERE fee IS NOT NULL AND held_until_ms IS NOT NULL")?
                + carried(|r| r.fees),
        })
    }
}
