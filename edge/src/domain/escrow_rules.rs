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

/// Where a paid order's held money stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub held_until_ms: i64,
    pub auto_refund_at_ms: Option<i64>,
    pub fulfilled: bool,
    pub auto_refunded: bool,
    /// Refunds of it still in progress (waiting for an approver or for the channel).
    pub refunding: bool,
    /// The ledger owes the payer the rest (an automatic refund, a rejected review, a payment it
    /// could not use): it is the payer's, held until refunded, never released.
    pub owed: bool,
    /// Released already: nothing more is due, ever.
    pub released: bool,
    /// Its payment waits in risk review: nothing is due until it is decided.
    pub in_review: bool,
}

/// The held money's next step at `now_ms`, if any: an automatic refund comes first (it is
/// never later than the release). The money is released once the merchant fulfilled the order
/// or the hold ran out, but never while a refund of it is in progress: what that refund takes
/// is not the merchant's yet, and what it leaves is released, once, when it ends; nor while the
/// payer is owed the rest (a refund the channel refused leaves it held for them).
pub fn due(h: Held, now_ms: i64) -> Option<Due> {
    if h.released || h.in_review {
        return None;
    }
    let refund_due =
        !h.fulfilled && !h.auto_refunded && h.auto_refund_at_ms.is_some_and(|t| t <= now_ms);
    if refund_due {
        Some(Due::AutoRefund)
    } else if !h.refunding && !h.owed && (h.fulfilled || h.held_until_ms <= now_ms) {
        Some(Due::Release)
    } else {
        None
    }
}

/// Where a paid order's money is, as the order says it (`funds`): released to the merchant,
/// owed to the payer (held for them, never released), or held.
pub fn funds(released: bool, owed: bool) -> &'static str {
    match (released, owed) {
        (true, _) => "released",
        (false, true) => "owed",
        (false, false) => "held",
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

    fn held(release: i64, refund: Option<i64>) -> Held {
        Held {
            held_until_ms: release,
            auto_refund_at_ms: refund,
            fulfilled: false,
            auto_refunded: false,
            refunding: false,
            owed: false,
            released: false,
            in_review: false,
        }
    }

    #[test]
    fn money_is_refunded_or_released_once_in_order() {
        let (release, refund) = schedule(0, 7, Some(48));
        assert_eq!((release, refund), (7 * DAY, Some(2 * DAY)));
        let h = held(release, refund);
        assert_eq!(due(h, DAY), None);
        assert_eq!(due(h, 2 * DAY), Some(Due::AutoRefund));
        // Fulfilled: released at once and never refunded by itself.
        let fulfilled = Held {
            fulfilled: true,
            ..h
        };
        assert_eq!(due(fulfilled, DAY), Some(Due::Release));
        assert_eq!(due(fulfilled, 3 * DAY), Some(Due::Release));
        // Refunded already: only the release remains.
        let refunded = Held {
            auto_refunded: true,
            ..h
        };
        assert_eq!(due(refunded, 3 * DAY), None);
        assert_eq!(due(refunded, 7 * DAY), Some(Due::Release));
        assert_eq!(due(held(release, None), 7 * DAY), Some(Due::Release));
    }

    #[test]
    fn a_refund_in_progress_holds_the_release_not_the_automatic_refund() {
        let h = Held {
            refunding: true,
            ..held(7 * DAY, Some(2 * DAY))
        };
        assert_eq!(due(h, 2 * DAY), Some(Due::AutoRefund));
        let h = Held {
            auto_refunded: true,
            ..h
        };
        assert_eq!(due(h, 8 * DAY), None);
        assert_eq!(
            due(
                Held {
                    fulfilled: true,
                    ..h
                },
                3 * DAY
            ),
            None
        );
        assert_eq!(
            due(
                Held {
                    refunding: false,
                    ..h
                },
                8 * DAY
            ),
            Some(Due::Release)
        );
    }

    #[test]
    fn money_owed_to_the_payer_is_never_released_but_its_automatic_refund_is_tried() {
        let owed = Held {
            owed: true,
            ..held(7 * DAY, Some(2 * DAY))
        };
        // Rejected in review before its automatic refund: that refund is still tried, once.
        assert_eq!(due(owed, 2 * DAY), Some(Due::AutoRefund));
        let owed = Held {
            auto_refunded: true,
            ..owed
        };
        assert_eq!(due(owed, 8 * DAY), None);
        let fulfilled = Held {
            fulfilled: true,
            ..owed
        };
        assert_eq!(due(fulfilled, 8 * DAY), None);
        // Refunded in full, it is no longer owed: the (empty) release happens.
        let paid_back = Held {
            owed: false,
            ..owed
        };
        assert_eq!(due(paid_back, 8 * DAY), Some(Due::Release));
    }

    #[test]
    fn the_order_says_where_its_money_is() {
        assert_eq!(funds(false, false), "held");
        assert_eq!(funds(false, true), "owed");
        assert_eq!(funds(true, false), "released");
    }

    #[test]
    fn released_or_in_review_money_has_nothing_due() {
        let h = held(7 * DAY, Some(2 * DAY));
        assert_eq!(
            due(
                Held {
                    released: true,
                    ..h
                },
                8 * DAY
            ),
            None
        );
        assert_eq!(
            due(
                Held {
                    in_review: true,
                    ..h
                },
                8 * DAY
            ),
            None
        );
        assert_eq!(
            due(
                Held {
                    in_review: true,
                    ..h
                },
                3 * DAY
            ),
            None
        );
    }
}
