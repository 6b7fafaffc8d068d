//! Refund rules: what a refund request must look like, what makes two requests the same one,
//! and what the order allows: partial refunds, at most 50 per order, never more than was paid,
//! not for orders older than a year, at least a minute between two refunds of one order.

use super::order_rules::{is_out_refund_no, is_out_trade_no};
use super::refusal::{Reason, Refusal};
use paydesk_shared::api::{CreateRefund, ErrorCode};
use paydesk_shared::OrderStatus;

pub const MAX_REFUNDS_PER_ORDER: u32 = 50;
pub const MAX_ORDER_AGE_MS: i64 = 365 * 86_400_000;
pub const MIN_GAP_MS: i64 = 60_000;

const EXCEEDS: &str = "refunds would exceed the paid amount";

/// The shape of a refund request, before any order is looked at.
pub fn check_request(req: &CreateRefund) -> Result<(), Refusal> {
    if !is_out_refund_no(&req.out_refund_no) {
        return Err(Refusal::param(
            "out_refund_no",
            "out_refund_no must be 6-64 characters of 0-9 A-Z a-z _ - | * @",
        ));
    }
    if !is_out_trade_no(&req.out_trade_no) {
        return Err(Refusal::param(
            "out_trade_no",
            "out_trade_no must be 6-32 characters of 0-9 A-Z a-z _ - | *",
        ));
    }
    let reason_ok = |r: &str| r.chars().count() <= 80 && !r.chars().any(char::is_control);
    if req.reason.as_deref().is_some_and(|r| !reason_ok(r)) {
        return Err(Refusal::param(
            "reason",
            "reason must be at most 80 characters of plain text",
        ));
    }
    Ok(())
}

/// What makes two refund requests "the same request": the parsed body in canonical form.
pub fn fingerprint(req: &CreateRefund) -> String {
    let canonical = serde_json::to_vec(req).expect("request types serialise");
    paydesk_shared::sign::hex_lower(&paydesk_shared::sign::sha256(&canonical))
}

/// Only a paid order (or one partly refunded already) can be refunded.
pub fn check_refundable(status: OrderStatus) -> Result<(), Refusal> {
    if matches!(status, OrderStatus::Success | OrderStatus::Refund) {
        Ok(())
    } else {
        Err(Refusal::new(
            ErrorCode::OrderNotPaid,
            "only paid orders can be refunded",
        ))
    }
}

/// The same `out_refund_no` with a different request.
pub fn reused_number() -> Refusal {
    Refusal::new(
        ErrorCode::OutRefundNoUsed,
        "this out_refund_no was used for a different refund",
    )
    .at("out_refund_no")
}

/// What the ledger knows about an order when a refund is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundContext {
    pub paid_total: u64,
    /// Sum of refunds that succeeded or are still in progress (they hold the money).
    pub refunded_or_pending: u64,
    pub refund_count: u32,
    pub paid_at_ms: i64,
    pub last_refund_at_ms: Option<i64>,
}

/// Who a refund is for: the merchant's request, or a rule of the ledger's own (an automatic
/// refund, a rejected review, a payment it can no longer use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    Merchant,
    Rule,
}

impl Requester {
    /// Who the audit chain names for the refund: the merchant's API key or console user
    /// (resolved from the request), or the rule, whichever request or alarm ran it.
    pub fn actor(self) -> &'static str {
        match self {
            Requester::Merchant => "merchant_api",
            Requester::Rule => "system:refund",
        }
    }
}

/// Whether `who` may refund `amount` more now, and whether it waits for an approver: the
/// merchant's refund meets every rule, and waits when it takes the order's refunds (succeeded or
/// in progress, this one included) over the threshold, so a large refund split into small ones
/// is still one approver's decision, not the asker's alone; one the ledger owes meets
/// `check_owed` and waits for nobody (the merchant agreed to the rule in advance, and the payer
/// was promised it).
pub fn admit(
    who: Requester,
    ctx: &RefundContext,
    amount: u64,
    now_ms: i64,
    approval_above: Option<u64>,
) -> Result<bool, Refusal> {
    match who {
        Requester::Merchant => {
            check(ctx, amount, now_ms)?;
            Ok(super::approval::refund_needs_approval(
                approval_above,
                ctx.refunded_or_pending.saturating_add(amount),
            ))
        }
        Requester::Rule => check_owed(ctx, amount, now_ms).map(|()| false),
    }
}

/// Whether the order allows the merchant to refund `amount` more at `now_ms`.
pub fn check(ctx: &RefundContext, amount: u64, now_ms: i64) -> Result<(), Refusal> {
    check_owed(ctx, amount, now_ms)?;
    if let Some(last) = ctx.last_refund_at_ms {
        if now_ms - last < MIN_GAP_MS {
            return Err(Refusal::new(
                ErrorCode::FrequencyLimited,
                "wait a minute between two refunds of one order",
            )
            .retry_after(60));
        }
    }
    Ok(())
}

/// Whether the order allows a refund the ledger owes by its own rules (an automatic refund, a
/// rejected review, a payment it can no longer use): every rule but the minute between two
/// refunds, which paces the merchant's requests, not what is owed.
pub fn check_owed(ctx: &RefundContext, amount: u64, now_ms: i64) -> Result<(), Refusal> {
    let not_allowed = |msg: &str| Refusal::new(ErrorCode::RefundNotAllowed, msg);
    if amount == 0 {
        return Err(Refusal::param("amount", "amount must be at least 1"));
    }
    if now_ms - ctx.paid_at_ms > MAX_ORDER_AGE_MS {
        return Err(
            not_allowed("orders paid more than a year ago cannot be refunded")
                .because(Reason::RefundOrderTooOld),
        );
    }
    if ctx.refund_count >= MAX_REFUNDS_PER_ORDER {
        return Err(not_allowed("an order can be refunded at most 50 times"));
    }
    let exceeds = || not_allowed(EXCEEDS).because(Reason::RefundExceedsPaid);
    let after = ctx
        .refunded_or_pending
        .checked_add(amount)
        .ok_or_else(exceeds)?;
    if after > ctx.paid_total {
        return Err(exceeds());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_778_560_000;

    fn ctx() -> RefundContext {
        RefundContext {
            paid_total: 1000,
            refunded_or_pending: 0,
            refund_count: 0,
            paid_at_ms: NOW - 1000,
            last_refund_at_ms: None,
        }
    }

    #[test]
    fn partial_refunds_up_to_the_paid_amount() {
        assert!(check(&ctx(), 1000, NOW).is_ok());
        let c = RefundContext {
            refunded_or_pending: 600,
            refund_count: 1,
            last_refund_at_ms: Some(NOW - 60_000),
            ..ctx()
        };
        assert!(check(&c, 400, NOW).is_ok());
        assert_eq!(
            check(&c, 401, NOW).unwrap_err().code,
            ErrorCode::RefundNotAllowed
        );
        assert_eq!(
            check(&c, u64::MAX, NOW).unwrap_err().code,
            ErrorCode::RefundNotAllowed
        );
        assert_eq!(
            check(&ctx(), 0, NOW).unwrap_err().code,
            ErrorCode::ParamError
        );
    }

    #[test]
    fn count_age_and_gap() {
        let c = RefundContext {
            refund_count: 50,
            ..ctx()
        };
        assert_eq!(
            check(&c, 1, NOW).unwrap_err().code,
            ErrorCode::RefundNotAllowed
        );
        let c = RefundContext {
            paid_at_ms: NOW - MAX_ORDER_AGE_MS - 1,
            ..ctx()
        };
        assert_eq!(
            check(&c, 1, NOW).unwrap_err().code,
            ErrorCode::RefundNotAllowed
        );
        let c = RefundContext {
            last_refund_at_ms: Some(NOW - 59_999),
            ..ctx()
        };
        assert_eq!(
            check(&c, 1, NOW).unwrap_err().code,
            ErrorCode::FrequencyLimited
        );
        assert!(check_owed(&c, 1, NOW).is_ok(), "what is owed is not paced");
        let paced = admit(Requester::Merchant, &c, 600, NOW, Some(500));
        assert_eq!(paced.unwrap_err().code, ErrorCode::FrequencyLimited);
        let fresh = RefundContext {
            last_refund_at_ms: None,
            ..c
        };
        assert_eq!(
            admit(Requester::Merchant, &fresh, 600, NOW, Some(500)),
            Ok(true)
        );
        assert_eq!(admit(Requester::Rule, &c, 600, NOW, Some(500)), Ok(false));
        // Split: 300 after 300 already refunded (or waiting) is 600 of the order, over 500.
        let split = RefundContext {
            refunded_or_pending: 300,
            ..fresh
        };
        assert_eq!(
            admit(Requester::Merchant, &split, 200, NOW, Some(500)),
            Ok(false)
        );
        assert_eq!(
            admit(Requester::Merchant, &split, 300, NOW, Some(500)),
            Ok(true)
        );
        let over = RefundContext {
            refunded_or_pending: 1,
            ..c
        };
        assert_eq!(
            check_owed(&over, c.paid_total, NOW).unwrap_err().code,
            ErrorCode::RefundNotAllowed,
            "nor more than was paid"
        );
    }

    fn request() -> CreateRefund {
        CreateRefund {
            out_trade_no: "ORDER_0001".into(),
            out_refund_no: "REFUND@0001".into(),
            amount: 100,
            reason: Some("damaged".into()),
        }
    }

    #[test]
    fn request_shapes_name_the_field() {
        assert!(check_request(&request()).is_ok());
        let field = |f: fn(&mut CreateRefund)| {
            let mut r = request();
            f(&mut r);
            check_request(&r).unwrap_err().param
        };
        assert_eq!(
            field(|r| r.out_refund_no = "R1".into()).as_deref(),
            Some("out_refund_no")
        );
        assert_eq!(
            field(|r| r.out_trade_no = "A@1234".into()).as_deref(),
            Some("out_trade_no")
        );
        assert_eq!(
            field(|r| r.reason = Some("x".repeat(81))).as_deref(),
            Some("reason")
        );
        assert_eq!(
            field(|r| r.reason = Some("a\nb".into())).as_deref(),
            Some("reason")
        );
        assert!(check_request(&CreateRefund {
            reason: Some("退".repeat(80)),
            ..request()
        })
        .is_ok());
    }

    #[test]
    fn only_paid_orders() {
        assert!(check_refundable(OrderStatus::Success).is_ok());
        assert!(check_refundable(OrderStatus::Refund).is_ok());
        for st in [
            OrderStatus::NotPay,
            OrderStatus::UserPaying,
            OrderStatus::Closed,
            OrderStatus::PayError,
        ] {
            assert_eq!(
                check_refundable(st).unwrap_err().code,
                ErrorCode::OrderNotPaid
            );
        }
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint() {
        assert_eq!(fingerprint(&request()), fingerprint(&request()));
        let other = CreateRefund {
            amount: 101,
            ..request()
        };
        assert_ne!(fingerprint(&request()), fingerprint(&other));
        assert_eq!(reused_number().code, ErrorCode::OutRefundNoUsed);
    }

    #[test]
    fn dialects_can_tell_the_reasons_apart() {
        let c = RefundContext {
            refunded_or_pending: 1000,
            ..ctx()
        };
        assert_eq!(
            check(&c, 1, NOW).unwrap_err().reason,
            Some(Reason::RefundExceedsPaid)
        );
        let old = RefundContext {
            paid_at_ms: NOW - MAX_ORDER_AGE_MS - 1,
            ..ctx()
        };
        assert_eq!(
            check(&old, 1, NOW).unwrap_err().reason,
            Some(Reason::RefundOrderTooOld)
        );
        let soon = RefundContext {
            last_refund_at_ms: Some(NOW - 1),
            ..ctx()
        };
        assert_eq!(check(&soon, 1, NOW).unwrap_err().retry_after, Some(60));
        assert_eq!(
            check(&ctx(), 0, NOW).unwrap_err().param.as_deref(),
            Some("amount")
        );
    }
}
