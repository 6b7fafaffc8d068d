//! Seven years, then let go: records are kept for `export_rules::RETENTION_YEARS` of business
//! time on the merchant's calendar (what exports can ask for, `merchant/exports.rs`), and what
//! is older is let go as the clock passes it, so storage stops growing with the merchant's age:
//! - orders that can no longer change (not payable, their money released or refunded and
//!   settled, no live subscription or instalment plan still counting them), with their
//!   refunds and money movements; what they added to the books (paid, refunded, fees, shares,
//!   per receiver too) is carried in `retention`, so lifetime totals still add up;
//! - settlements of days before the horizon (once swept, for a pool member), their net carried;
//! - delivered or abandoned notifications, and messages to people;
//! - the audit chain's oldest entries, a prefix of it (never its head): `retention` keeps the
//!   last one let go, which the first kept entry links to, so the chain still verifies.
//!
//! It runs with everything else that falls due (`run_due`), a batch at a time, and costs an
//! index probe or two when there is nothing to let go.

use super::store::{Ledger, Merchant, Result};
use crate::domain::audit::GENESIS;
use crate::domain::export_rules::horizon_ms;
use crate::domain::settlement_rules::DAY_MS;
use serde::Deserialize;

/// Orders let go per run, so one transaction stays short.
const BATCH: i64 = 500;

/// What was let go, carried forward.
#[derive(Debug, Clone, Deserialize)]
pub struct RetentionRow {
    pub horizon_ms: i64,
    pub audit_seq: i64,
    pub audit_hash: String,
    pub orders: i64,
    pub paid: i64,
    pub refunded: i64,
    pub fees: i64,
    pub settled: i64,
    pub shared: i64,
}

/// The orders of a batch, a JSON array bound once.
const IN_BATCH: &str = "out_trade_no IN (SELECT value FROM json_each(?))";

#[derive(Deserialize)]
struct No {
    out_trade_no: String,
}

#[derive(Deserialize)]
struct Carried {
    n: i64,
    paid: Option<i64>,
    refunded: Option<i64>,
    fees: Option<i64>,
    shared: Option<i64>,
}

impl Ledger<'_> {
    /// What was let go so far, if anything was.
    pub fn retention(&self) -> Result<Option<RetentionRow>> {
        self.first(
            "SELECT horizon_ms, audit_seq, audit_hash, orders, paid, refunded, fees, settled, shared
             FROM retention WHERE id = 1",
            vec![],
        )
    }

    /// Lets go of what is older than the horizon at business time `now`.
    pub fn run_due_retention(&self, m: &Merchant, now: i64) -> Result<()> {
        let off = m.config.utc_offset_minutes;
        let h = horizon_ms(now, off);
        self.let_go_orders(h, off)?;
        self.let_go_settlements(h, off)?;
        self.let_go_events(h)?;
        self.let_go_messages(h)?;
        self.let_go_audit(h)
    }

    fn carry(&self, h: i64, set: &str, binds: Vec<worker::SqlStorageValue>) -> Result<()> {
        self.x(
            "INSERT OR IGNORE INTO retention (id, horizon_ms, audit_seq, audit_hash)
             VALUES (1, ?, 0, ?)",
            vec![h.into(), GENESIS.into()],
        )?;
        self.x(
            &format!("UPDATE retention SET horizon_ms = MAX(horizon_ms, ?), {set} WHERE id = 1"),
            [vec![h.into()], binds].concat(),
        )
    }

    /// Orders created before the horizon whose every trace is older too: no refund made since
    /// or still in progress (one waiting for an approver or the upstream can still change the
    /// order), no money movement settled on a day still kept (its day's bill must still add up).
    fn let_go_orders(&self, h: i64, utc_offset_minutes: i32) -> Result<()> {
        let kept_day = (h + i64::from(utc_offset_minutes) * 60_000).div_euclid(DAY_MS);
        let batch: Vec<No> = self.q(
            "SELECT out_trade_no FROM orders o
             WHERE created_at_ms < ?
               AND status NOT IN ('NOTPAY', 'USERPAYING', 'PENDING_APPROVAL')
               AND (held_until_ms IS NULL OR released_at_ms IS NOT NULL
                    OR refunded_total = amount_total)
               AND NOT EXISTS (SELECT 1 FROM money_moves mv WHERE mv.out_trade_no = o.out_trade_no
                               AND (mv.settlement_id IS NULL OR mv.day >= ?))
               AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.out_trade_no = o.out_trade_no
                               AND (r.created_at_ms >= ? OR r.status = 'PROCESSING'))
               AND (subscription_id IS NULL OR subscription_id IN (SELECT subscription_id
                    FROM subscriptions WHERE status IN ('canceled', 'incomplete_expired', 'unpaid')))
               AND (plan_no IS NULL OR plan_no IN (SELECT plan_no FROM installment_plans
                    WHERE status != 'ACTIVE'))
             ORDER BY created_at_ms LIMIT ?",
            vec![h.into(), kept_day.into(), h.into(), BATCH.into()],
        )?;
        if batch.is_empty() {
            return Ok(());
        }
        let nos: Vec<&str> = batch.iter().map(|b| b.out_trade_no.as_str()).collect();
        let nos = serde_json::to_string(&nos)?;
        // The balance's own conditions (`merchant/settlements.rs`), summed over the batch.
        let c: Carried = self
            .first(
                &format!(
                    "SELECT COUNT(*) AS n,
                        SUM(CASE WHEN held_until_ms IS NOT NULL AND status IN ('SUCCESS', 'REFUND')
                            THEN amount_total END) AS paid,
                        SUM(CASE WHEN held_until_ms IS NOT NULL THEN refunded_total END) AS refunded,
                        SUM(CASE WHEN fee IS NOT NULL AND held_until_ms IS NOT NULL
                            THEN fee - fee_refunded END) AS fees,
                        (SELECT -SUM(amount) FROM money_moves
                         WHERE receiver_id IS NOT NULL AND {IN_BATCH}) AS shared
                     FROM orders WHERE {IN_BATCH}"
                ),
                vec![nos.as_str().into(), nos.as_str().into()],
            )?
            .ok_or_else(|| crate::error::AppError::internal("a sum has a row"))?;
        self.x(
            &format!(
                "UPDATE receivers SET
                   retired_booked = retired_booked + COALESCE((SELECT -SUM(amount) FROM money_moves
                     WHERE receiver_id = receivers.receiver_id AND kind = 'split' AND {IN_BATCH}), 0),
                   retired_clawed_back = retired_clawed_back + COALESCE((SELECT SUM(amount)
                     FROM money_moves WHERE receiver_id = receivers.receiver_id
                     AND kind = 'split_back' AND {IN_BATCH}), 0)"
            ),
            vec![nos.as_str().into(), nos.as_str().into()],
        )?;
        let with_orders = [
            "money_moves",
            "refunds",
            "sandbox_books",
            "upstream_payments",
            "orders",
        ];
        for table in with_orders {
            self.x(
                &format!("DELETE FROM {table} WHERE {IN_BATCH}"),
                vec![nos.as_str().into()],
            )?;
        }
        self.carry(
            h,
            "orders = orders + ?, paid = paid + ?, refunded = refunded + ?, fees = fees + ?,
             shared = shared + ?",
            vec![
                c.n.into(),
                c.paid.unwrap_or(0).into(),
                c.refunded.unwrap_or(0).into(),
                c.fees.unwrap_or(0).into(),
                c.shared.unwrap_or(0).into(),
            ],
        )
    }

    /// Settlements of merchant days before the horizon (a member's once it swept).
    fn let_go_settlements(&self, h: i64, utc_offset_minutes: i32) -> Result<()> {
        let day = (h + i64::from(utc_offset_minutes) * 60_000).div_euclid(DAY_MS);
        const GONE: &str = "day < ? AND (group_id IS NULL OR swept_at_ms IS NOT NULL)";
        let Some(net) = self.number(
            &format!("SELECT SUM(net) AS v FROM settlements WHERE {GONE}"),
            vec![day.into()],
        )?
        else {
            return Ok(());
        };
        self.x(
            &format!("DELETE FROM settlements WHERE {GONE}"),
            vec![day.into()],
        )?;
        self.carry(h, "settled = settled + ?", vec![net.into()])
    }

    /// Notifications made before the horizon that are no longer being delivered.
    fn let_go_events(&self, h: i64) -> Result<()> {
        let Some(cut) = self.first_seq_since("events", "created_at_ms", h)? else {
            return Ok(());
        };
        self.x(
            "DELETE FROM events WHERE seq < ? AND status != 'PENDING'",
            vec![cut.into()],
        )
    }

    /// Messages to people made before the horizon that are no longer being sent, a batch at a
    /// time (an unsubscribe is kept: it is a wish, not a record).
    fn let_go_messages(&self, h: i64) -> Result<()> {
        self.x(
            "DELETE FROM messages WHERE message_id IN (SELECT message_id FROM messages
               WHERE created_at_ms < ? AND status != 'PENDING' ORDER BY created_at_ms LIMIT ?)",
            vec![h.into(), BATCH.into()],
        )
    }

    /// The chain's entries before the first one made at or after the horizon, but never its
    /// head; the last one let go becomes the anchor the kept chain starts after.
    fn let_go_audit(&self, h: i64) -> Result<()> {
        let Some(cut) = self.first_seq_since("audit", "at_ms", h)? else {
            return Ok(());
        };
        let head = self.audit_head()?.map_or(0, |a| a.seq);
        let last = cut.min(head) - 1;
        #[derive(Deserialize)]
        struct E {
            hash: String,
        }
        let Some(anchor) =
            self.first::<E>("SELECT hash FROM audit WHERE seq = ?", vec![last.into()])?
        else {
            return Ok(());
        };
        self.x("DELETE FROM audit WHERE seq <= ?", vec![last.into()])?;
        self.carry(
            h,
            "audit_seq = ?, audit_hash = ?",
            vec![last.into(), anchor.hash.into()],
        )
    }

    /// `None` when `table`'s oldest row (by seq) is not older than `h`; else the seq of its
    /// first row at or after `h` (one past the last row if there is none). Reads only the rows
    /// older than `h`.
    fn first_seq_since(&self, table: &str, at: &str, h: i64) -> Result<Option<i64>> {
        let oldest = self.number(
            &format!("SELECT {at} AS v FROM {table} ORDER BY seq LIMIT 1"),
            vec![],
        )?;
        if oldest.is_none_or(|t| t >= h) {
            return Ok(None);
        }
        let first_kept = self.number(
            &format!("SELECT seq AS v FROM {table} WHERE {at} >= ? ORDER BY seq LIMIT 1"),
            vec![h.into()],
        )?;
        match first_kept {
            Some(s) => Ok(Some(s)),
            None => Ok(self.number(&format!("SELECT MAX(seq) + 1 AS v FROM {table}"), vec![])?),
        }
    }
}
