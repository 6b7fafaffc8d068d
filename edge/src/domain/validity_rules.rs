//! Validity (courses, memberships) as arithmetic: what a purchase adds to a payer's
//! entitlement, and what a refund of it takes back. A purchase while the entitlement still runs
//! adds its days after the current end; after it lapsed, it starts again at the payment. A
//! refund takes back what is left of that purchase's stretch, never what was already used.

const DAY_MS: i64 = 86_400_000;

/// What a purchase of `days` paid at `now_ms` makes of an entitlement currently running
/// `current` (`valid_from`, `valid_until`), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
    /// The stretch this purchase added: `[stretch_from_ms, valid_until_ms)`.
    pub stretch_from_ms: i64,
}

pub fn grant(current: Option<(i64, i64)>, days: u32, now_ms: i64) -> Grant {
    let (from, stretch_from) = match current {
        Some((from, until)) if until > now_ms => (from, until),
        _ => (now_ms, now_ms),
    };
    Grant {
        valid_from_ms: from,
        valid_until_ms: stretch_from + i64::from(days) * DAY_MS,
        stretch_from_ms: stretch_from,
    }
}

/// What a refund at `now_ms` takes back of a purchase's stretch `[from_ms, to_ms)` of `days`:
/// the part not yet used (0 once it is over).
pub fn unused(from_ms: i64, to_ms: i64, days: i64, now_ms: i64) -> i64 {
    (to_ms - from_ms.max(now_ms)).clamp(0, days * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purchase_extends_a_running_entitlement_and_restarts_a_lapsed_one() {
        let g = grant(None, 30, 100);
        assert_eq!(
            g,
            Grant {
                valid_from_ms: 100,
                valid_until_ms: 100 + 30 * DAY_MS,
                stretch_from_ms: 100
            }
        );
        let running = grant(Some((100, 100 + 30 * DAY_MS)), 30, 10 * DAY_MS);
        assert_eq!(running.valid_from_ms, 100);
        assert_eq!(running.stretch_from_ms, 100 + 30 * DAY_MS);
        assert_eq!(running.valid_until_ms, 100 + 60 * DAY_MS);
        let lapsed = grant(Some((100, 100 + 30 * DAY_MS)), 30, 40 * DAY_MS);
        assert_eq!(
            (lapsed.valid_from_ms, lapsed.stretch_from_ms),
            (40 * DAY_MS, 40 * DAY_MS)
        );
    }

    #[test]
    fn a_refund_takes_back_only_what_is_unused() {
        // A 30-day stretch from day 0: refunded on day 10, 20 days come back.
        assert_eq!(unused(0, 30 * DAY_MS, 30, 10 * DAY_MS), 20 * DAY_MS);
        // A stretch that starts later (bought while another ran) comes back whole.
        assert_eq!(
            unused(30 * DAY_MS, 60 * DAY_MS, 30, 10 * DAY_MS),
            30 * DAY_MS
        );
        // Over: nothing.
        assert_eq!(unused(0, 30 * DAY_MS, 30, 40 * DAY_MS), 0);
    }
}
