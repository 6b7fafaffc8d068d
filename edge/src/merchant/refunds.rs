//! Refunds: creating one (the JSON API and the v2 dialect share every rule), completing it
//! (the sandbox settles at once; above the merchant's threshold an approver must agree first),
//! and finding one.

use super::store::{Ledger, Merchant, OrderRow, RefundRow, Result};
use crate::domain::approval::ApprovalKind;
use crate::domain::events::EventKind;
use crate::domain::idempotency::{self, Repeat};
use crate::domain::refund_rules::{self, RefundContext, Requester};
use crate::domain::state::Event;
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::{CreateRefund, ErrorCode};
use paydesk_shared::{OrderStatus, RefundStatus};
use serde::Deserialize;

impl Ledger<'_> {
    /// Creates a refund, or finds the same one again (`false`): every refund rule, the
    /// approval threshold, and settlement in the sandbox. `notify_url` is the v2 dialect's.
    pub fn create_refund(
        &self,
        m: &Merchant,
        req: &CreateRefund,
        notify_url: Option<&str>,
    ) -> Result<(RefundRow, bool)> {
        self.open_refund(m, req, notify_url, Requester::Merchant)
    }

    /// A refund the merchant asks for, or one the ledger owes by its own rules
    /// (`refund_rules::admit` tells them apart).
    fn open_refund(
        &self,
        m: &Merchant,
        req: &CreateRefund,
        notify_url: Option<&str>,
        who: Requester,
    ) -> Result<(RefundRow, bool)> {
        refund_rules::check_request(req)?;
        let fingerprint = refund_rules::fingerprint(req);
        match idempotency::repeat(
            self.refund(&req.out_refund_no)?,
            |r| &r.fingerprint,
            &fingerprint,
        ) {
            Repeat::Same(existing) => return Ok((existing, false)),
            Repeat::Other => return Err(refund_rules::reused_number().into()),
            Repeat::New => {}
        }
        let o = self.order_or_fail(&req.out_trade_no)?;
        refund_rules::check_refundable(o.status)?;
        let now = self.now(m);
        let ctx = self.refund_context(
            &req.out_trade_no,
            o.amount_total,
            o.paid_at_ms.unwrap_or(o.created_at_ms),
        )?;
        let above = m.config.refund_approval_above;
        let needs_approval = refund_rules::admit(who, &ctx, req.amount, now, above)?;
        let approval_id = needs_approval
            .then(|| self.open_approval(m, ApprovalKind::Refund, &req.out_refund_no, 1, now))
            .transpose()?;
        self.x(
            "INSERT INTO refunds (out_refund_no, out_trade_no, amount, reason, status, created_at_ms, fingerprint, approval_id,
                                  refund_id, notify_url)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                req.out_refund_no.as_str().into(),
                req.out_trade_no.as_str().into(),
                (req.amount as i64).into(),
                req.reason.clone().into(),
                RefundStatus::Processing.as_str().into(),
                now.into(),
                fingerprint.into(),
                approval_id.clone().into(),
                crate::domain::v2::refund_id(now, runtime::random_bytes()).into(),
                notify_url.into(),
            ],
        )?;
        let no = req.out_refund_no.as_str();
        let actor = who.actor();
        self.audit(now, actor, "refund.create", no, "", "PROCESSING")?;
        match approval_id {
            None => self.complete_refund(m, no, now, actor)?,
            Some(_) => self.refund_event(m, now, EventKind::RefundApprovalRequired, no)?,
        }
        Ok((self.refund_known(no)?, true))
    }

    /// Refunds in full a payment the ledger can no longer use (a subscription ended or a plan
    /// defaulted while it was in flight). A refusal of the refund rules is recorded, not raised:
    /// the rest of what fell due still happens, and the merchant sees the paid order.
    pub fn refund_unwanted(&self, m: &Merchant, o: &OrderRow, why: &str) -> Result<()> {
        self.refund_rest(m, o, why).map(|_| ())
    }

    /// Refunds what is left of an order's payment, less the refunds still in progress (they
    /// hold their money already); the amount refunded (0 when nothing was left or the refund
    /// rules refused, which is audited).
    /// The payer is owed the rest from now on: nothing of it is released until it is refunded
    /// (`orders.refund_owed`), and if this refund does not go through, staff are told.
    pub fn refund_rest(&self, m: &Merchant, o: &OrderRow, why: &str) -> Result<u64> {
        let paid = self.order_or_fail(&o.out_trade_no)?;
        let is_paid = matches!(paid.status, OrderStatus::Success | OrderStatus::Refund);
        if is_paid && paid.refunded_total < paid.amount_total && paid.refund_owed == 0 {
            self.x(
                "UPDATE orders SET refund_owed = 1 WHERE out_trade_no = ?",
                vec![paid.out_trade_no.as_str().into()],
            )?;
        }
        let paid_at = paid.paid_at_ms.unwrap_or(paid.created_at_ms);
        let ctx = self.refund_context(&paid.out_trade_no, paid.amount_total, paid_at)?;
        let ask = CreateRefund {
            out_trade_no: paid.out_trade_no.clone(),
            out_refund_no: format!("RA{}", runtime::random_hex(10)),
            amount: ctx.paid_total.saturating_sub(ctx.refunded_or_pending),
            reason: Some(why.to_owned()),
        };
        if ask.amount == 0 {
            return Ok(0);
        }
        match self.open_refund(m, &ask, None, Requester::Rule) {
            Ok(_) => Ok(ask.amount),
            Err(AppError::Refused(r)) => {
                let now = self.now(m);
                let otn = paid.out_trade_no.as_str();
                self.audit(
                    now,
                    "system:refund",
                    "refund.refused",
                    otn,
                    "",
                    r.code.as_str(),
                )?;
                self.owed_refund_failed(otn, &r.message, now)?;
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    /// What the order's refunds so far mean for one more.
    fn refund_context(
        &self,
        out_trade_no: &str,
        paid_total: i64,
        paid_at_ms: i64,
    ) -> Result<RefundContext> {
        #[derive(Deserialize)]
        struct Agg {
            held: Option<i64>,
            n: Option<i64>,
            last: Option<i64>,
        }
        // Refunds that succeeded or are still in progress hold the money.
        let agg: Option<Agg> = self.first(
            "SELECT SUM(CASE WHEN status IN ('SUCCESS', 'PROCESSING') THEN amount ELSE 0 END) AS held,
                    SUM(CASE WHEN status IN ('SUCCESS', 'PROCESSING') THEN 1 ELSE 0 END) AS n,
                    MAX(created_at_ms) AS last
             FROM refunds WHERE out_trade_no = ?",
            vec![out_trade_no.into()],
        )?;
        let (held, n, last) = agg.map_or((None, None, None), |a| (a.held, a.n, a.last));
        Ok(RefundContext {
            paid_total: paid_total as u64,
            refunded_or_pending: held.unwrap_or(0) as u64,
            refund_count: n.unwrap_or(0) as u32,
            paid_at_ms,
            last_refund_at_ms: last,
        })
    }

    /// A refund the merchant may make now: the sandbox settles it at once; an order paid
    /// through the upstream channel waits for the upstream (`merchant/upstream.rs`).
    pub fn complete_refund(
        &self,
        m: &Merchant,
        out_refund_no: &str,
        now: i64,
        actor: &str,
    ) -> Result<()> {
        let r = self.refund_known(out_refund_no)?;
        let o = self.order_or_fail(&r.out_trade_no)?;
        if o.channel.as_deref() == Some(super::upstream::WECHAT_V2) {
            return self.refund_through_upstream(out_refund_no, now);
        }
        self.settle_refund(m, out_refund_no, now, actor)
    }

    /// The refund succeeds and the order shows it; once: a refund that is no longer in progress
    /// is left as it is.
    pub fn settle_refund(
        &self,
        m: &Merchant,
        out_refund_no: &str,
        now: i64,
        actor: &str,
    ) -> Result<()> {
        let r = self.refund_known(out_refund_no)?;
        if r.status != RefundStatus::Processing {
            return Ok(());
        }
        let o = self.order_or_fail(&r.out_trade_no)?;
        self.x(
            "UPDATE refunds SET status = ?, settled_at_ms = ? WHERE out_refund_no = ?",
            vec![
                RefundStatus::Success.as_str().into(),
                now.into(),
                out_refund_no.into(),
            ],
        )?;
        // Refunded in full, the payer is owed nothing more.
        self.x(
            "UPDATE orders SET refunded_total = refunded_total + ?1,
                    refund_owed = refund_owed AND refunded_total + ?1 < amount_total
              WHERE out_trade_no = ?2",
            vec![r.amount.into(), r.out_trade_no.as_str().into()],
        )?;
        if o.refund_owed != 0 && o.refunded_total + r.amount >= o.amount_total {
            let cause = format!("owed:{}", r.out_trade_no);
            self.resolve_alert(&cause, "refunded in full", now)?;
        }
        self.audit(
            now,
            actor,
            "refund.succeed",
            out_refund_no,
            "PROCESSING",
            "SUCCESS",
        )?;
        self.apply(&o, Event::Refund, now, actor)?;
        let fee_back = self.give_fee_back(&o, r.amount as u64)?;
        self.book_refund(m, &o, out_refund_no, r.amount as u64, fee_back, now)?;
        self.refund_ends_entitlement(&o, now)?;
        self.refund_event(m, now, EventKind::RefundSucceeded, out_refund_no)?;
        // A refund rate over the merchant's limit freezes it.
        self.check_freeze(m, now)?;
        self.refund_ended(m, &r.out_trade_no, now)
    }

    /// The channel refused a refund: it closes (the money stays paid), and the merchant is told.
    pub fn refund_refused(
        &self,
        m: &Merchant,
        out_refund_no: &str,
        why: &str,
        now: i64,
    ) -> Result<()> {
        self.x(
            "UPDATE refunds SET status = ? WHERE out_refund_no = ?",
            vec![RefundStatus::Closed.as_str().into(), out_refund_no.into()],
        )?;
        self.audit(
            now,
            "system:channel",
            "refund.close",
            out_refund_no,
            "PROCESSING",
            why,
        )?;
        self.refund_event(m, now, EventKind::RefundFailed, out_refund_no)?;
        let r = self.refund_known(out_refund_no)?;
        self.owed_refund_failed(&r.out_trade_no, why, now)?;
        self.refund_ended(m, &r.out_trade_no, now)
    }

    /// A refund the payer is owed did not go through (the channel or the refund rules refused
    /// it) and none is left in progress: the money stays held for them, and staff are told to
    /// refund it (`refund.owed`, resolved when the payment is refunded in full).
    fn owed_refund_failed(&self, out_trade_no: &str, why: &str, now: i64) -> Result<()> {
        let o = self.order_or_fail(out_trade_no)?;
        if o.refund_owed == 0 || o.refunding != 0 {
            return Ok(());
        }
        let detail = format!(
            "{out_trade_no}: the refund of {} fen its payer is owed did not go through ({why}); \
             the money stays held for them until it is refunded (POST /v1/refunds)",
            o.amount_total - o.refunded_total
        );
        let cause = format!("owed:{out_trade_no}");
        self.raise_alert("refund.owed", &cause, &detail, now)
            .map(|_| ())
    }

    pub fn refund_or_fail(&self, out_refund_no: &str) -> Result<RefundRow> {
        self.refund(out_refund_no)?.ok_or_else(|| {
            AppError::code(
                ErrorCode::RefundNotExist,
                "no refund with this out_refund_no",
            )
        })
    }
}
