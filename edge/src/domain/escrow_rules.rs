//! Escrow: a paid order's money is held until the merchant fulfils it or `release_days` pass
//! on its clock, and, if the merchant says so, refunded in full when it is not fulfilled within
//! `auto_refund_hours` of payment. An automatic refund always happens while the money is still
//! held (the setting cannot reach past the release), so it never has to be clawed back. Pure;
//! the pay page's promise is made from the same two settings (`shared/src/checkout.rs`).

use super::refusal::Refusal;

const HOUR_MS: i64 = 3_600_000;
pub const DEFAULT_RELEASE_DAYS: u32 = 7;
pub const MAX_RELEASE_DAYS: u32 = 90;

/// `release_days` 1-90; `auto_refund_hours`, when set, 1 hour up to the release.
pub fn check_settings(release_days: u32, auto_refund_hours: Option<u32>) -> Result<(), Refusal> {
    if !(1..=MAX_RELEASE_DAYS).contains(&release_days) {
        return Err(Refusal::param(
            "release_days",
            "release_days must be 1 to 90",
        ));
    }
    if auto_refund_hours.is_some_and(|h| h == 0 || h > release_days * 24) {
        return Err(Refusal::param(
            "auto_refund_hours",
            "auto_refund_hours must be 1 up to release_days × 24, so the refund comes from funds still held",
        ));
    }
    Ok(())
}

/// When the money of an order paid at `paid_at_ms` is released, and when (if ever) it is
/// refunded by itself.
pub fn schedule(
    paid_at_ms: i64,
    release_days: u32,
    auto_refund_hours: Option<u32>,
) -> (i64, Option<i64>) {
    let release = paid_at_ms + i64::from(release_days) * 24 * HOUR_MS;
    let refund = auto_refund_hours.map(|h| paid_at_ms + i64::from(h) * HOUR_MS);
    (release, refund)
}

/// What falls due for a paid order's held money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Not fulfilled in time: refunded in full (what is left of it), once.
    AutoRefund,
    Release,
}

/// The held money's next step at `now_ms`, if any: an automatic refund comes first (it is
/// never later than the release).
pub fn due(
    held_until_ms: i64,
    auto_refund_at_ms: Option<i64>,
    fulfilled: bool,
    auto_refunded: bool,
    now_ms: i64,
) -> Option<Due> {
    let refund_due = !fulfilled && !auto_refunded && auto_refund_at_ms.is_some_and(|t| t <= now_ms);
    if refund_due {
        Some(Due::AutoRefund)
    } else if held_until_ms <= now_ms {
        Some(Due::Release)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * HOUR_MS;

    #[test]
    fn settings_keep_the_refund_inside_the_hold() {
        assert_eq!(check_settings(7, None), Ok(()));
        assert_eq!(check_settings(7, Some(168)), Ok(()));
        assert!(check_settings(7, Some(169)).is_err());
        assert!(check_settings(0, None).is_err());
        assert!(check_settings(91, None).is_err());
        assert!(check_settings(3, Some(0)).is_err());
    }

    #[test]
    fn money_is_refunded_or_released_once_in_order() {
        let (release, refund) = schedule(0, 7, Some(48));
        assert_eq!((release, refund), (7 * DAY, Some(2 * DAY)));
        assert_eq!(due(release, refund, false, false, DAY), None);
        assert_eq!(
            due(release, refund, false, false, 2 * DAY),
            Some(Due::AutoRefund)
        );
        // Fulfilled in time, or refunded already: only the release remains.
        assert_eq!(due(release, refund, true, false, 3 * DAY), None);
        assert_eq!(due(release, refund, false, true, 3 * DAY), None);
        assert_eq!(
            due(release, refund, false, true, 7 * DAY),
            Some(Due::Release)
        );
        assert_eq!(
            due(release, None, false, false, 7 * DAY),
            Some(Due::Release)
        );
    }
}
