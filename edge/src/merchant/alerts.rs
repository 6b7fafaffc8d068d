//! Staff alerts, one open alert per cause: raising it again while it is open counts it (how
//! often, and when it was last seen) instead of adding another; when the cause clears, the alert
//! is resolved with what cleared it. Causes: `notifications` (deliveries keep failing),
//! `frozen` (a risk rule froze the merchant), `channel:<id>` (a channel's circuit is open),
//! `mismatch:<out_trade_no>` (the upstream reported a payment an order cannot take),
//! `reviews` (payments wait for risk review), `approvals` (orders or refunds wait for approval),
//! `dunning:<subscription_id>` (a subscription ended when its charge kept failing).
//! `GET /v1/alerts` lists them (`merchant/notifications.rs`). Raising one and resolving it each
//! tell staff, where the merchant routes its kind (`merchant/messages.rs`).

use super::store::{Ledger, Result};

impl Ledger<'_> {
    /// Raises the alert of `cause`, or counts it again while it is open; `true` if it is new.
    pub fn raise_alert(&self, kind: &str, cause: &str, detail: &str, now: i64) -> Result<bool> {
        let open = self.number(
            "SELECT seq AS v FROM alerts WHERE cause = ? AND cleared_at_ms IS NULL",
            vec![cause.into()],
        )?;
        if let Some(seq) = open {
            self.x(
                "UPDATE alerts SET count = count + 1, last_seen_ms = ?, detail = ? WHERE seq = ?",
                vec![now.into(), detail.into(), seq.into()],
            )?;
            return Ok(false);
        }
        self.x(
            "INSERT INTO alerts (kind, cause, raised_at_ms, last_seen_ms, detail) VALUES (?, ?, ?, ?, ?)",
            vec![
                kind.into(),
                cause.into(),
                now.into(),
                now.into(),
                detail.into(),
            ],
        )?;
        let seq = self.number(
            "SELECT seq AS v FROM alerts WHERE cause = ? AND cleared_at_ms IS NULL",
            vec![cause.into()],
        )?;
        self.tell_staff_or_log(kind, seq.unwrap_or_default(), true, detail, now);
        Ok(true)
    }

    /// Resolves the open alert of `cause`, saying what cleared it; `true` if one was open.
    pub fn resolve_alert(&self, cause: &str, resolution: &str, now: i64) -> Result<bool> {
        #[derive(serde::Deserialize)]
        struct Open {
            seq: i64,
            kind: String,
        }
        let open: Option<Open> = self.first(
            "SELECT seq, kind FROM alerts WHERE cause = ? AND cleared_at_ms IS NULL",
            vec![cause.into()],
        )?;
        let Some(Open { seq, kind }) = open else {
            return Ok(false);
        };
        self.x(
            "UPDATE alerts SET cleared_at_ms = ?, resolution = ? WHERE seq = ?",
            vec![now.into(), resolution.into(), seq.into()],
        )?;
        self.tell_staff_or_log(&kind, seq, false, resolution, now);
        Ok(true)
    }

    /// Staff are told; a message that cannot be written (settings that no longer open) never
    /// holds up the alert or what raised it: it is logged.
    fn tell_staff_or_log(&self, kind: &str, seq: i64, raised: bool, note: &str, now: i64) {
        if let Err(e) = self.tell_staff(kind, seq, raised, note, now) {
            worker::console_error!("staff message for alert {seq}: {e:?}");
        }
    }

    /// A queue that waits for people (risk reviews, approvals): raised (counted) as something
    /// joins it, resolved once nothing waits.
    pub fn queue_changed(&self, q: WaitingQueue, joined: bool, now: i64) -> Result<()> {
        let (kind, cause, sql, what) = match q {
            WaitingQueue::Reviews => (
                "reviews.waiting",
                "reviews",
                "SELECT COUNT(*) AS v FROM reviews WHERE status = 'pending'",
                "payments wait for risk review",
            ),
            WaitingQueue::Approvals => (
                "approvals.waiting",
                "approvals",
                "SELECT COUNT(*) AS v FROM approvals WHERE status = 'pending'",
                "orders or refunds wait for approval",
            ),
        };
        let waiting = self.number(sql, vec![])?.unwrap_or(0);
        if waiting == 0 {
            self.resolve_alert(cause, "nothing waits any more", now)?;
        } else if joined {
            self.raise_alert(kind, cause, &format!("{waiting} {what}"), now)?;
        }
        Ok(())
    }
}

/// The queues staff are told are waiting for them.
#[derive(Debug, Clone, Copy)]
pub enum WaitingQueue {
    Reviews,
    Approvals,
}
