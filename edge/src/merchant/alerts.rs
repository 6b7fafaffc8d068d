//! Staff alerts, one open alert per cause: raising it again while it is open counts it (how
//! often, and when it was last seen) instead of adding another; when the cause clears, the alert
//! is resolved with what cleared it. Causes: `notifications` (deliveries keep failing),
//! `frozen` (a risk rule froze the merchant), `channel:<id>` (a channel's circuit is open),
//! `mismatch:<out_trade_no>` (the upstream reported a payment an order cannot take).
//! `GET /v1/alerts` lists them (`merchant/notifications.rs`).

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
        Ok(true)
    }

    /// Resolves the open alert of `cause`, saying what cleared it; `true` if one was open.
    pub fn resolve_alert(&self, cause: &str, resolution: &str, now: i64) -> Result<bool> {
        let open = self.number(
            "SELECT seq AS v FROM alerts WHERE cause = ? AND cleared_at_ms IS NULL",
            vec![cause.into()],
        )?;
        let Some(seq) = open else {
            return Ok(false);
        };
        self.x(
            "UPDATE alerts SET cleared_at_ms = ?, resolution = ? WHERE seq = ?",
            vec![now.into(), resolution.into(), seq.into()],
        )?;
        Ok(true)
    }
}
