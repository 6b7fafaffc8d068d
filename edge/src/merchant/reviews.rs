//! The review queue: a payment a risk rule sent to review is charged, and its money held
//! (not released, not fulfilable) until the merchant decides: `POST /v1/reviews/{id}/approve`
//! lets it go on as any paid order; `.../reject` refunds it in full; a review left undecided
//! for the merchant's `review_hours` is rejected by itself (refunded), which is what the pay page
//! promises the payer. Every decision is an audit entry and an `order.reviewed` event.
//! `GET /v1/reviews?status=` lists them.

use super::alerts::WaitingQueue;
use super::protocol::{Review, ReviewDecision, ReviewList};
use super::store::{Ledger, Merchant, OrderRow, Result};
use crate::domain::events::EventKind;
use crate::domain::risk_rules::{self, Decision};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::urlenc::query_pairs;
use serde::Deserialize;

#[derive(Deserialize)]
struct ReviewRow {
    review_id: String,
    out_trade_no: String,
    status: String,
    rule: String,
    figures: String,
    created_at_ms: i64,
    due_at_ms: i64,
    decided_at_ms: Option<i64>,
    decided_by: Option<String>,
    reason: Option<String>,
    amount_total: i64,
}

const REVIEW_SELECT: &str = "SELECT r.review_id, r.out_trade_no, r.status, r.rule, r.figures,
    r.created_at_ms, r.due_at_ms, r.decided_at_ms, r.decided_by, r.reason, o.amount_total
    FROM reviews r JOIN orders o ON o.out_trade_no = r.out_trade_no";

impl ReviewRow {
    fn wire(self) -> Review {
        Review {
            review_id: self.review_id,
            out_trade_no: self.out_trade_no,
            status: self.status,
            rule: self.rule,
            figures: self.figures,
            amount: self.amount_total as u64,
            created_at: format_rfc3339(self.created_at_ms),
            due_at: format_rfc3339(self.due_at_ms),
            decided_at: self.decided_at_ms.map(format_rfc3339),
            decided_by: self.decided_by,
            reason: self.reason,
        }
    }
}

/// When the next pending risk review times out (business time). One of the subqueries the alarm's schedule reads together
/// (`merchant/deadlines.rs`, `dues`).
pub(super) const REVIEW_DUE: &str = "SELECT MIN(due_at_ms) FROM reviews WHERE status = 'pending'";

impl Ledger<'_> {
    /// Puts an order about to be charged in review (undone if the charge does not succeed).
    pub fn open_review(&self, m: &Merchant, o: &OrderRow, d: &Decision, now: i64) -> Result<()> {
        let due = crate::domain::risk_rules::review_due(&m.config.risk, now);
        self.x(
            "INSERT INTO reviews (review_id, out_trade_no, status, rule, figures, created_at_ms, due_at_ms)
             VALUES (?, ?, 'pending', ?, ?, ?, ?)",
            vec![
                format!("rv_{}", runtime::random_hex(12)).into(),
                o.out_trade_no.as_str().into(),
                d.rule.as_str().into(),
                d.figures.as_str().into(),
                now.into(),
                due.into(),
            ],
        )?;
        self.x(
            "UPDATE orders SET in_review = 1 WHERE out_trade_no = ?",
            vec![o.out_trade_no.as_str().into()],
        )?;
        self.queue_changed(WaitingQueue::Reviews, true, now)?;
        self.audit_decision(now, "order.review", &o.out_trade_no, d)
    }

    /// A payment the channel confirmed after its review was rejected (the review was opened
    /// when the charge started, and decided while the channel still had it pending): the
    /// rejection stands, so the payment is refunded in full now that the money is in.
    pub fn refund_if_rejected_in_review(&self, m: &Merchant, o: &OrderRow) -> Result<()> {
        let rejected = self
            .review_of(&o.out_trade_no)?
            .is_some_and(|r| r.status == "rejected");
        if rejected {
            self.refund_rest(
                m,
                o,
                "rejected in risk review while the payment was pending",
            )?;
        }
        Ok(())
    }

    /// The charge did not succeed: there is nothing to review, whether the review was still
    /// waiting or was decided while the channel had the payment pending (kept, a rejection
    /// would refund the order's next payment and an approval would stand for one nobody saw;
    /// the decision stays in the audit chain).
    pub fn drop_review(&self, o: &OrderRow, now: i64) -> Result<()> {
        self.x(
            "DELETE FROM reviews WHERE out_trade_no = ?",
            vec![o.out_trade_no.as_str().into()],
        )?;
        self.x(
            "UPDATE orders SET in_review = 0 WHERE out_trade_no = ?",
            vec![o.out_trade_no.as_str().into()],
        )?;
        self.queue_changed(WaitingQueue::Reviews, false, now)
    }

    /// The review of an order, if it had one.
    pub fn review_of(&self, out_trade_no: &str) -> Result<Option<Review>> {
        let r: Option<ReviewRow> = self.first(
            &format!("{REVIEW_SELECT} WHERE r.out_trade_no = ?"),
            vec![out_trade_no.into()],
        )?;
        Ok(r.map(ReviewRow::wire))
    }

    /// The hours the pay page names for an order's review: those it was opened with (a review
    /// keeps the deadline it was given, whatever the setting is now), or the setting's.
    pub fn review_hours(&self, m: &Merchant, o: &OrderRow) -> Result<u32> {
        if o.in_review == 0 {
            return Ok(m.config.risk.review_hours);
        }
        let r: Option<ReviewRow> = self.first(
            &format!("{REVIEW_SELECT} WHERE r.out_trade_no = ?"),
            vec![o.out_trade_no.as_str().into()],
        )?;
        Ok(r.map_or(m.config.risk.review_hours, |r| {
            risk_rules::review_hours(r.created_at_ms, r.due_at_ms)
        }))
    }

    /// `GET /v1/reviews?status=pending|approved|rejected&after=<review_id>`: oldest first, 100
    /// a page.
    pub fn list_reviews(&self, query: &str) -> Result<ReviewList> {
        self.run_due()?;
        let (mut status, mut after) = (String::from("pending"), String::new());
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "status" if ["pending", "approved", "rejected", "all"].contains(&v.as_str()) => {
                    status = v
                }
                "status" => {
                    return Err(AppError::param(
                        "status",
                        "status is pending, approved, rejected or all",
                    ))
                }
                "after" => after = v,
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        let rows: Vec<ReviewRow> = self.q(
            &format!(
                "{REVIEW_SELECT} WHERE (? = 'all' OR r.status = ?)
                 AND (r.created_at_ms, r.review_id) > (SELECT COALESCE(
                     (SELECT created_at_ms FROM reviews WHERE review_id = ?), -1), ?)
                 ORDER BY r.created_at_ms, r.review_id LIMIT 101"
            ),
            vec![
                status.as_str().into(),
                status.as_str().into(),
                after.as_str().into(),
                after.as_str().into(),
            ],
        )?;
        let more = rows.len() > 100;
        let reviews: Vec<Review> = rows.into_iter().take(100).map(ReviewRow::wire).collect();
        let next_after = reviews.last().filter(|_| more).map(|r| r.review_id.clone());
        Ok(ReviewList {
            reviews,
            next_after,
        })
    }

    /// `POST /v1/reviews/{id}/approve|reject {reason}`. The same decision again answers the
    /// review as it is; the other one is `REVIEW_DECIDED`.
    pub fn decide_review(
        &self,
        m: &Merchant,
        id: &str,
        approve: bool,
        ask: &ReviewDecision,
        actor: &str,
    ) -> Result<Review> {
        self.run_due()?;
        let r: ReviewRow = self
            .first(
                &format!("{REVIEW_SELECT} WHERE r.review_id = ?"),
                vec![id.into()],
            )?
            .ok_or_else(|| AppError::code(ErrorCode::ReviewNotExist, "no review with this id"))?;
        let want = if approve { "approved" } else { "rejected" };
        if r.status == want {
            return Ok(r.wire());
        }
        if r.status != "pending" {
            return Err(AppError::code(
                ErrorCode::ReviewDecided,
                format!("this review was already {}", r.status),
            ));
        }
        let reason = ask
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let plain = crate::domain::order_rules::is_plain_text;
        if reason.is_some_and(|s| s.chars().count() > 200 || !plain(s)) {
            return Err(AppError::param(
                "reason",
                "reason is at most 200 characters, no control characters",
            ));
        }
        self.settle_review(m, &r, want, reason, actor)?;
        let r: ReviewRow = self
            .first(
                &format!("{REVIEW_SELECT} WHERE r.review_id = ?"),
                vec![id.into()],
            )?
            .ok_or_else(|| AppError::internal("a review just decided is gone"))?;
        Ok(r.wire())
    }

    fn settle_review(
        &self,
        m: &Merchant,
        r: &ReviewRow,
        status: &str,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        let now = self.now(m);
        self.x(
            "UPDATE reviews SET status = ?, decided_at_ms = ?, decided_by = ?, reason = ?
             WHERE review_id = ?",
            vec![
                status.into(),
                now.into(),
                self.actor_name(actor).into(),
                reason.map(str::to_owned).into(),
                r.review_id.as_str().into(),
            ],
        )?;
        self.x(
            "UPDATE orders SET in_review = 0 WHERE out_trade_no = ?",
            vec![r.out_trade_no.as_str().into()],
        )?;
        self.queue_changed(WaitingQueue::Reviews, false, now)?;
        let action = if status == "approved" {
            "review.approve"
        } else {
            "review.reject"
        };
        self.audit(now, actor, action, &r.review_id, "pending", status)?;
        if status == "rejected" {
            let o = self.order_or_fail(&r.out_trade_no)?;
            let why = format!("rejected in risk review: {}", reason.unwrap_or(&r.rule));
            self.refund_rest(m, &o, &why)?;
        }
        let extra = serde_json::json!({"review_id": r.review_id, "review_reason": reason,
            "decided_by": self.actor_name(actor)});
        self.order_event(m, now, EventKind::OrderReviewed, &r.out_trade_no, extra)
    }

    /// Reviews left undecided past their deadline are rejected (refunded), as the payer was
    /// told.
    pub fn run_due_reviews(&self, m: &Merchant, now: i64) -> Result<()> {
        let due: Vec<ReviewRow> = self.q(
            &format!(
                "{REVIEW_SELECT} WHERE r.status = 'pending' AND r.due_at_ms <= ?
                 ORDER BY r.due_at_ms"
            ),
            vec![now.into()],
        )?;
        for r in due {
            let hours = risk_rules::review_hours(r.created_at_ms, r.due_at_ms);
            let why = format!("not decided within {hours} hours");
            self.settle_review(m, &r, "rejected", Some(&why), "system:review")?;
        }
        Ok(())
    }
}
