//! Exports of a merchant's records (`GET /v1/exports?from=&to=`), kept for seven years of
//! business time. The object answers the export's head once the merchant is authenticated, then
//! its lines a page at a time (`ExportPage`), which the worker streams and seals
//! (`routes/exports.rs`): orders, refunds and settlements created in the range, each with the
//! audit-chain entry that last changed it, then the chain's entries of the range. What a range
//! holds, the order and the seal are `domain::export_rules`'.

use super::protocol::{ExportHead, ExportLines, ExportPage};
use super::settlements::{SettlementRow, SETTLEMENT_COLUMNS};
use super::store::{Ledger, Merchant, OrderRow, RefundRow, Result, ORDER_COLUMNS, REFUND_COLUMNS};
use crate::domain::audit::Entry;
use crate::domain::export_rules::{self as rules, AuditRef, Cursor, Part, Range};
use crate::error::AppError;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::urlenc::query_pairs;
use serde_json::json;

/// Records per page: each is one line of up to a few KB.
const PAGE_RECORDS: i64 = 200;
/// Chain entries per page.
const PAGE_ENTRIES: i64 = 500;

impl Ledger<'_> {
    /// `GET /v1/exports?from=&to=`: checks the range and answers the export's head line.
    pub fn export_head(&self, m: &Merchant, query: &str) -> Result<ExportHead> {
        self.run_due()?;
        let off = m.config.utc_offset_minutes;
        let (mut from, mut to) = (None, None);
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "from" => from = Some(rules::parse_bound("from", &v, false, off)?),
                "to" => to = Some(rules::parse_bound("to", &v, true, off)?),
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        let now = self.now(m);
        let horizon = rules::horizon_ms(now, off);
        let range = rules::check_range(from, to, horizon)?;
        let head = json!({
            "merchant_id": m.id(),
            "from": format_rfc3339(range.from_ms),
            "to": format_rfc3339(range.to_ms),
            "generated_at": format_rfc3339(now),
            "kept_since": format_rfc3339(horizon),
            "version": 1,
        });
        let serde_json::Value::Object(mut fields) = head else {
            return Err(AppError::internal("an export head is an object"));
        };
        if let Some(r) = self.retention()? {
            // What was let go so far: orders created before `before`, and the chain's entries
            // up to `audit_seq` (the kept chain links to `audit_hash`).
            let gone = json!({
                "before": format_rfc3339(r.horizon_ms),
                "orders": r.orders,
                "audit_seq": r.audit_seq,
                "audit_hash": r.audit_hash,
            });
            fields.insert("let_go".into(), gone);
        }
        Ok(ExportHead {
            merchant_id: m.id().to_owned(),
            range,
            utc_offset_minutes: m.config.utc_offset_minutes,
            head_line: rules::line("export", fields),
        })
    }

    /// A page of an export: the next records of its part, or the first of the next part.
    pub fn export_page(&self, m: &Merchant, p: &ExportPage) -> Result<ExportLines> {
        let (text, last) = match p.cursor.part {
            Part::Orders => self.export_orders(m, &p.range, &p.cursor)?,
            Part::Refunds => self.export_refunds(&p.range, &p.cursor)?,
            Part::Settlements => self.export_settlements(m, &p.range, &p.cursor)?,
            Part::Audit => self.export_entries(&p.range, &p.cursor)?,
        };
        let lines = text.iter().filter(|l| !l.is_empty()).count() as u64;
        let next = match last {
            Some((after_ms, after_key)) => Some(Cursor {
                part: p.cursor.part,
                after_ms,
                after_key,
            }),
            None => p.cursor.part.next().map(Cursor::start),
        };
        let head = match next {
            Some(_) => None,
            None => self.audit_head()?,
        };
        Ok(ExportLines {
            text: text.concat(),
            lines,
            next,
            head,
        })
    }

    /// The chain entry that last changed the record `target` (its actions start `prefix.`).
    fn last_entry(&self, prefix: &str, target: &str) -> Result<Option<AuditRef>> {
        self.first(
            "SELECT seq, hash FROM audit WHERE target = ? AND action LIKE ? || '.%'
             ORDER BY seq DESC LIMIT 1",
            vec![target.into(), prefix.into()],
        )
    }

    fn export_orders(&self, m: &Merchant, r: &Range, c: &Cursor) -> Result<Page> {
        let rows: Vec<OrderRow> = self.q(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders
                 WHERE created_at_ms >= ? AND created_at_ms < ?
                   AND (created_at_ms, out_trade_no) > (?, ?)
                 ORDER BY created_at_ms, out_trade_no LIMIT ?"
            ),
            keyset(r, c),
        )?;
        let mut text = Vec::new();
        for o in &rows {
            let mut record = serde_json::to_value(self.wire_order(o, m)?)?;
            if let Some(obj) = record.as_object_mut() {
                // Links to pages, not records: they expire.
                obj.remove("checkout_url");
                obj.remove("contract_url");
            }
            let audit = self.last_entry("order", &o.out_trade_no)?;
            text.push(rules::record_line("order", record, audit.as_ref()));
        }
        let last = rows
            .last()
            .map(|o| (o.created_at_ms, o.out_trade_no.clone()));
        Ok((text, last.filter(|_| rows.len() as i64 == PAGE_RECORDS)))
    }

    fn export_refunds(&self, r: &Range, c: &Cursor) -> Result<Page> {
        let rows: Vec<RefundRow> = self.q(
            &format!(
                "SELECT {REFUND_COLUMNS} FROM refunds
                 WHERE created_at_ms >= ? AND created_at_ms < ?
                   AND (created_at_ms, out_refund_no) > (?, ?)
                 ORDER BY created_at_ms, out_refund_no LIMIT ?"
            ),
            keyset(r, c),
        )?;
        let mut text = Vec::new();
        for f in &rows {
            let audit = self.last_entry("refund", &f.out_refund_no)?;
            let record = serde_json::to_value(f.wire())?;
            text.push(rules::record_line("refund", record, audit.as_ref()));
        }
        let last = rows
            .last()
            .map(|f| (f.created_at_ms, f.out_refund_no.clone()));
        Ok((text, last.filter(|_| rows.len() as i64 == PAGE_RECORDS)))
    }

    /// Settlements of the merchant days that start in the range.
    fn export_settlements(&self, m: &Merchant, r: &Range, c: &Cursor) -> Result<Page> {
        let off_ms = i64::from(m.config.utc_offset_minutes) * 60_000;
        let rows: Vec<SettlementRow> = self.q(
            &format!(
                "SELECT {SETTLEMENT_COLUMNS} FROM settlements
                 WHERE day * 86400000 - ? >= ? AND day * 86400000 - ? < ? AND day > ?
                 ORDER BY day LIMIT ?"
            ),
            vec![
                off_ms.into(),
                r.from_ms.into(),
                off_ms.into(),
                r.to_ms.into(),
                c.after_ms.into(),
                PAGE_RECORDS.into(),
            ],
        )?;
        let mut text = Vec::new();
        for s in &rows {
            let audit = self.last_entry("settlement", &s.settlement_id)?;
            let record = serde_json::to_value(s.wire())?;
            text.push(rules::record_line("settlement", record, audit.as_ref()));
        }
        let last = match rows.last() {
            Some(s) if rows.len() as i64 == PAGE_RECORDS => {
                Some((self.settlement_day(&s.settlement_id)?, String::new()))
            }
            _ => None,
        };
        Ok((text, last))
    }

    fn settlement_day(&self, id: &str) -> Result<i64> {
        self.number(
            "SELECT day AS v FROM settlements WHERE settlement_id = ?",
            vec![id.into()],
        )?
        .ok_or_else(|| AppError::internal("a settlement read a moment ago is gone"))
    }

    /// The chain's entries made in the range, in chain order.
    fn export_entries(&self, r: &Range, c: &Cursor) -> Result<Page> {
        let after = match c.after_ms {
            i64::MIN => {
                let first = self.number(
                    "SELECT MIN(seq) AS v FROM audit WHERE at_ms >= ?",
                    vec![r.from_ms.into()],
                )?;
                first.map_or(i64::MAX, |s| s - 1)
            }
            seq => seq,
        };
        let rows: Vec<Entry> = self.q(
            "SELECT seq, at_ms, actor, action, target, before, after, prev_hash, hash FROM audit
             WHERE seq > ? AND at_ms >= ? AND at_ms < ? ORDER BY seq LIMIT ?",
            vec![
                after.into(),
                r.from_ms.into(),
                r.to_ms.into(),
                PAGE_ENTRIES.into(),
            ],
        )?;
        let text = rows
            .iter()
            .map(|e| {
                let mut entry = serde_json::to_value(super::audit_log::wire_entry(e))?;
                if let Some(obj) = entry.as_object_mut() {
                    // The chain hashes the time as this integer; `at` is its display.
                    obj.insert("at_ms".into(), e.at_ms.into());
                }
                let mut f = serde_json::Map::new();
                f.insert("entry".into(), entry);
                Ok(rules::line("audit", f))
            })
            .collect::<Result<Vec<String>>>()?;
        let last = rows.last().map(|e| (e.seq, String::new()));
        Ok((text, last.filter(|_| rows.len() as i64 == PAGE_ENTRIES)))
    }
}

/// A page's lines and, if more may follow, the key of its last record.
type Page = (Vec<String>, Option<(i64, String)>);

/// The binds of a keyset page over `(created_at_ms, key)` in the range.
fn keyset(r: &Range, c: &Cursor) -> Vec<worker::SqlStorageValue> {
    vec![
        r.from_ms.into(),
        r.to_ms.into(),
        c.after_ms.into(),
        c.after_key.as_str().into(),
        PAGE_RECORDS.into(),
    ]
}
