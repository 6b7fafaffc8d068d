//! Refund rules (DESIGN.md §3.1): partial refunds, at most 50 per order, never more than was
//! paid, not for orders older than a year, at least a minute between two refunds of one order.

use paydesk_shared::api::ErrorCode;

pub const MAX_REFUNDS_PER_ORDER: u32 = 50;
pub const MAX_ORDER_AGE_MS: i64 = 365 * 86_400_000;
pub const MIN_GAP_MS: i64 = 60_000;

/// Refusal messages the v2 dialect answers with their own codes.
pub const EXCEEDS: &str = "refunds would exceed the paid amount";
pub const TOO_OLD: &str = "orders paid more than a year ago cannot be refunded";

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

pub fn check(
    ctx: &RefundContext,
    amount: u64,
    now_ms: i64,
) -> Result<(), (ErrorCode, &'static str)> {
    if amount == 0 {
        return Err((ErrorCode::ParamError, "amount must be at least 1"));
    }
    if now_ms - ctx.paid_at_ms > MAX_ORDER_AGE_MS {
        return Err((ErrorCode::RefundNotAllowed, TOO_OLD));
    }
    if ctx.refund_count >= MAX_REFUNDS_PER_ORDER {
        return Err((
            ErrorCode::RefundNotAllowed,
            "an order can be refunded at most 50 times",
        ));
    }
    let after = ctx
        .refunded_or_pending
        .checked_add(amount)
        .ok_or((ErrorCode::RefundNotAllowed, EXCEEDS))?;
    if after > ctx.paid_total {
        return Err((ErrorCode::RefundNotAllowed, EXCEEDS));
    }
    if let Some(last) = ctx.last_refund_at_ms {
        if now_ms - last < MIN_GAP_MS {
            return Err((
                ErrorCode::FrequencyLimited,
                "wait a minute between two refunds of one order",
            ));
        }
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
            check(&c, 401, NOW).unwrap_err().0,
            ErrorCode::RefundNotAllowed
        );
        assert_eq!(
            check(&c, u64::MAX, NOW).unwrap_err().0,
            ErrorCode::RefundNotAllowed
        );
        assert_eq!(check(&ctx(), 0, NOW).unwrap_err().0, ErrorCode::ParamError);
    }

    #[test]
    fn count_age_and_gap() {
        let c = RefundContext {
            refund_count: 50,
            ..ctx()
        };
        assert_eq!(
            check(&c, 1, NOW).unwrap_err().0,
            ErrorCode::RefundNotAllowed
        );
        let c = RefundContext {
            paid_at_ms: NOW - MAX_ORDER_AGE_MS - 1,
            ..ctx()
        };
        assert_eq!(
            check(&c, 1, NOW).unwrap_err().0,
            ErrorCode::RefundNotAllowed
        );
        let c = RefundContext {
            last_refund_at_ms: Some(NOW - 59_999),
            ..ctx()
        };
        assert_eq!(
            check(&c, 1, NOW).unwrap_err().0,
            ErrorCode::FrequencyLimited
        );
    }
}
