//! The audit log, readable: `GET /v1/audit?from=&to=&kind=&after=` lists the chain's entries
//! (who acted: `api_key:<id>`, `admin`, `payer`, or the rule that fired as `system:<rule>`;
//! when; what changed, field by field) with their hashes, a page of at most 500 at a time; and
//! a settlement's signed daily statement (`GET /v1/settlements/{id}/statement`), which anchors
//! the chain's head when the day closed outside the merchant's object: whoever holds it can
//! tell if any entry up to that head was rewritten afterwards, even consistently.

use super::protocol::{AuditEntry, AuditLog};
use super::settlements::SettlementRow;
use super::store::{Ledger, Merchant, Result};
use crate::domain::audit::{self, Entry};
use crate::domain::receipt_rules::{self, SignedReceipt, Statement};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::{format_rfc3339, parse_rfc3339};
use paydesk_shared::urlenc::query_pairs;
use serde::Deserialize;

const PAGE: i64 = 500;

/// `from` / `to`: an RFC 3339 time or a date (its start, UTC).
fn instant(k: &str, v: &str) -> Result<i64> {
    parse_rfc3339(v)
        .or_else(|| parse_rfc3339(&format!("{v}T00:00:00Z")))
        .ok_or_else(|| AppError::param(k, format!("{k} is an RFC 3339 time or a date YYYY-MM-DD")))
}

/// An entry as the audit log and exports show it.
pub fn wire_entry(e: &Entry) -> AuditEntry {
    AuditEntry {
        seq: e.seq,
        at: format_rfc3339(e.at_ms),
        actor: e.actor.clone(),
        action: e.action.clone(),
        target: e.target.clone(),
        changes: audit::changes(&e.action, &e.before, &e.after),
        before: e.before.clone(),
        after: e.after.clone(),
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
    }
}

impl Ledger<'_> {
    pub fn audit_log(&self, query: &str) -> Result<AuditLog> {
        let (mut from, mut to, mut kind, mut after) = (i64::MIN, i64::MAX, String::new(), 0i64);
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "from" => from = instant(&k, &v)?,
                "to" => to = instant(&k, &v)?,
                "kind" => kind = v,
                "after" => {
                    after = v
                        .parse()
                        .map_err(|_| AppError::param("after", "after is an entry's seq"))?
                }
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        let rows: Vec<Entry> = self.q(
            "SELECT seq, at_ms, actor, action, target, before, after, prev_hash, hash FROM audit
             WHERE seq > ? AND at_ms >= ? AND at_ms < ?
               AND (? = '' OR action = ? OR action LIKE ? || '.%')
             ORDER BY seq LIMIT ?",
            vec![
                after.into(),
                from.into(),
                to.into(),
                kind.as_str().into(),
                kind.as_str().into(),
                kind.as_str().into(),
                (PAGE + 1).into(),
            ],
        )?;
        let more = rows.len() as i64 > PAGE;
        let entries: Vec<AuditEntry> = rows.iter().take(PAGE as usize).map(wire_entry).collect();
        let next_after = entries.last().filter(|_| more).map(|e| e.seq);
        Ok(AuditLog {
            entries,
            next_after,
        })
    }

    /// The entries about one thing (an order's number), oldest first, at most a page.
    pub fn audit_of(&self, target: &str) -> Result<Vec<AuditEntry>> {
        let rows: Vec<Entry> = self.q(
            "SELECT seq, at_ms, actor, action, target, before, after, prev_hash, hash FROM audit
             WHERE target = ? ORDER BY seq LIMIT ?",
            vec![target.into(), PAGE.into()],
        )?;
        Ok(rows.iter().map(wire_entry).collect())
    }

    /// `GET /v1/settlements/{id}/statement`: the day's batch and the chain's head when it
    /// closed, signed with the deployment's receipt key.
    pub fn statement(&self, m: &Merchant, id: &str) -> Result<SignedReceipt> {
        #[derive(Deserialize)]
        struct Head {
            audit_seq: Option<i64>,
            audit_hash: Option<String>,
        }
        let none = || AppError::code(ErrorCode::NotFound, "no statement for this settlement_id");
        let head: Head = self
            .first(
                "SELECT audit_seq, audit_hash FROM settlements WHERE settlement_id = ?",
                vec![id.into()],
            )?
            .ok_or_else(none)?;
        let (Some(audit_seq), Some(audit_hash)) = (head.audit_seq, head.audit_hash) else {
            return Err(none());
        };
        let s: SettlementRow = self.settlement_or_fail(id)?;
        let statement = Statement {
            audit_hash,
            audit_seq,
            date: s.date,
            fees: s.fees,
            gross: s.gross as u64,
            kind: "statement".into(),
            merchant_id: m.id().to_owned(),
            net: s.net,
            order_count: s.order_count as u64,
            refunds: s.refunds as u64,
            settlement_id: s.settlement_id,
            splits: s.splits,
            version: 1,
        };
        let keys = runtime::receipt_keys(self.env)?;
        Ok(receipt_rules::sign(&statement, &keys[0]))
    }
}
