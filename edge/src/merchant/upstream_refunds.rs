//! Refunds of orders paid through the upstream channel. A refund stays `PROCESSING` while the
//! upstream has it: sent (`secapi/pay/refund`, again a minute later when the answer is lost or
//! the upstream asks to have it again; it deduplicates on `out_refund_no`), then, once accepted,
//! asked about (`refundquery`) until the upstream says the money reached the payer (the refund
//! succeeds here) or never will (`REFUNDCLOSE`: it fails here and the money stays paid). A
//! refund that left the account but did not reach the payer (`CHANGE`) stays in progress
//! (`stuck`: not asked again, never refundable twice) with a `settlement.anomaly` alert, to
//! be settled at the upstream. Acceptance alone is not the payer's money back. The times to send and ask again are
//! real time, and the alarm waits for the earliest (`merchant/deadlines.rs`, `UPSTREAM_DUE`).
//!
//! `upstream_state`: `pending` (to send), `accepted` (to ask about), `done` (answered for good),
//! `stuck` (settled by hand).

use super::store::{Ledger, Result};
use super::upstream::{ask, WECHAT_V2};
use crate::domain::upstream_rules::{self as rules, RefundAnswer, RefundOutcome};
use crate::error::AppError;
use crate::runtime;
use serde::Deserialize;

#[derive(Deserialize)]
struct DueRefund {
    out_refund_no: String,
    out_trade_no: String,
    amount: i64,
    amount_total: i64,
}

#[derive(Deserialize)]
struct Accepted {
    out_refund_no: String,
    upstream_accepted_at_ms: Option<i64>,
}

impl Ledger<'_> {
    /// A refund of an order paid through the upstream waits for the upstream: it stays
    /// `PROCESSING` until the upstream says the money reached the payer (`push_refunds`).
    pub fn refund_through_upstream(&self, out_refund_no: &str, now: i64) -> Result<()> {
        self.x(
            "UPDATE refunds SET upstream_state = 'pending', upstream_retry_at_ms = ? WHERE out_refund_no = ?",
            vec![self.real_now().into(), out_refund_no.into()],
        )?;
        self.upstream_due.set(true);
        self.audit(
            now,
            "system:channel",
            "refund.upstream",
            out_refund_no,
            "",
            WECHAT_V2,
        )
    }

    fn due_upstream_refunds(&self) -> Result<Vec<DueRefund>> {
        self.q(
            "SELECT r.out_refund_no, r.out_trade_no, r.amount, o.amount_total FROM refunds r
             JOIN orders o ON o.out_trade_no = r.out_trade_no
             WHERE r.upstream_state = 'pending' AND r.upstream_retry_at_ms <= ? LIMIT 20",
            vec![self.real_now().into()],
        )
    }

    /// Accepted refunds whose outcome is due to be asked about; all of them for the test
    /// clock's walk (`every`).
    fn due_refund_queries(&self, every: bool) -> Result<Vec<Accepted>> {
        let before = if every { i64::MAX } else { self.real_now() };
        self.q(
            "SELECT out_refund_no, upstream_accepted_at_ms FROM refunds
             WHERE upstream_state = 'accepted' AND upstream_retry_at_ms <= ? LIMIT 20",
            vec![before.into()],
        )
    }

    /// The upstream's answer to a refund: accepted (its outcome is asked about next), refused
    /// (it closes, the money stays paid) or not known or not taken yet (sent again in a
    /// minute). Only a refund still waiting takes an answer: two sends of one refund can
    /// overlap (the request that created it and the alarm, or two requests, each send what is
    /// due), and the second answer must not settle it twice.
    fn upstream_refund_answered(
        &self,
        no: &str,
        answer: Result<crate::domain::v2::Params>,
    ) -> Result<()> {
        if !self.refund_in(no, "pending")? {
            return Ok(());
        }
        let m = self.merchant_or_fail()?;
        let now = self.now(&m);
        let p = match answer {
            Ok(p) => p,
            Err(AppError::Refused(r)) => {
                self.upstream_answered_for_good(no)?;
                return self.refund_refused(&m, no, &r.message, now);
            }
            Err(_) => return self.refund_sent_again(no),
        };
        match rules::refund_answer(&p) {
            RefundAnswer::AskAgain => self.refund_sent_again(no),
            RefundAnswer::Accepted => self.x(
                "UPDATE refunds SET upstream_state = 'accepted', upstream_accepted_at_ms = ?1,
                 upstream_retry_at_ms = ?1 WHERE out_refund_no = ?2",
                vec![self.real_now().into(), no.into()],
            ),
            RefundAnswer::Refused => {
                self.upstream_answered_for_good(no)?;
                let why = p.get("err_code_des").or(p.get("err_code"));
                self.refund_refused(&m, no, why.unwrap_or("refused"), now)
            }
        }
    }

    /// What the upstream's `refundquery` said of an accepted refund, settled once.
    fn refund_outcome_heard(&self, r: &Accepted, outcome: RefundOutcome) -> Result<()> {
        let no = r.out_refund_no.as_str();
        if !self.refund_in(no, "accepted")? {
            return Ok(());
        }
        let m = self.merchant_or_fail()?;
        let now = self.now(&m);
        match outcome {
            RefundOutcome::Succeeded => {
                self.upstream_answered_for_good(no)?;
                self.settle_refund(&m, no, now, "channel:refund")
            }
            RefundOutcome::Failed => {
                self.upstream_answered_for_good(no)?;
                let why = "the upstream accepted the refund, but it did not reach the payer";
                self.refund_refused(&m, no, why, now)
            }
            RefundOutcome::Stuck => {
                self.x(
                    "UPDATE refunds SET upstream_state = 'stuck' WHERE out_refund_no = ?",
                    vec![no.into()],
                )?;
                let r = self.refund_known(no)?;
                let detail = format!(
                    "{}: refund {no} left the account but did not reach the payer (CHANGE); \
                     settle it at the upstream",
                    r.out_trade_no
                );
                self.raise_alert("settlement.anomaly", &format!("refund:{no}"), &detail, now)
                    .map(|_| ())
            }
            RefundOutcome::Processing => {
                let real = self.real_now();
                let accepted = r.upstream_accepted_at_ms.unwrap_or(real);
                self.x(
                    "UPDATE refunds SET upstream_retry_at_ms = ? WHERE out_refund_no = ?",
                    vec![rules::refund_query_after(accepted, real).into(), no.into()],
                )
            }
        }
    }

    fn refund_in(&self, no: &str, state: &str) -> Result<bool> {
        Ok(self
            .number(
                "SELECT 1 AS v FROM refunds WHERE out_refund_no = ? AND upstream_state = ?",
                vec![no.into(), state.into()],
            )?
            .is_some())
    }

    fn refund_sent_again(&self, no: &str) -> Result<()> {
        self.x(
            "UPDATE refunds SET upstream_retry_at_ms = ? WHERE out_refund_no = ?",
            vec![(self.real_now() + 60_000).into(), no.into()],
        )
    }

    /// The upstream settled the refund one way or the other: it is neither sent nor asked
    /// about again.
    fn upstream_answered_for_good(&self, no: &str) -> Result<()> {
        self.x(
            "UPDATE refunds SET upstream_state = 'done' WHERE out_refund_no = ?",
            vec![no.into()],
        )
    }
}

/// Sends the refunds waiting for the upstream, then asks about the accepted ones whose time has
/// come (after the request that created them, and from the alarm; `every`: the test clock's
/// walk asks about all of them).
pub async fn push_refunds(l: &Ledger<'_>, every: bool) -> Result<()> {
    let (due, to_ask) =
        l.atomically(|l| Ok((l.due_upstream_refunds()?, l.due_refund_queries(every)?)))?;
    if due.is_empty() && to_ask.is_empty() {
        return Ok(());
    }
    let m = l.merchant_or_fail()?;
    let Some(up) = l.upstream(&m)? else {
        return Ok(());
    };
    for r in due {
        let ask_refund = rules::UpstreamRefund {
            out_trade_no: r.out_trade_no,
            out_refund_no: r.out_refund_no.clone(),
            total_fee: r.amount_total as u64,
            refund_fee: r.amount as u64,
        };
        let (url, body) = up.refund(&ask_refund, &runtime::random_hex(16));
        let answer = ask(&up, &url, &body).await;
        l.atomically(|l| l.upstream_refund_answered(&r.out_refund_no, answer))?;
    }
    // Those accepted just now are asked about at once: the upstream may have paid already.
    let accepted_now = l.atomically(|l| l.due_refund_queries(every))?;
    for r in accepted_now {
        let (url, body) = up.refund_query(&r.out_refund_no, &runtime::random_hex(16));
        let outcome = match ask(&up, &url, &body).await {
            Ok(p) => rules::refund_outcome(&p),
            Err(e) => {
                worker::console_error!("upstream refundquery: {e:?}");
                RefundOutcome::Processing
            }
        };
        l.atomically(|l| l.refund_outcome_heard(&r, outcome))?;
    }
    Ok(())
}
