//! Collection on a schedule: the calendar of a subscription's periods, its trial, reminders and
//! the dunning of a failed charge; the subscription state machine. Pure, tested natively; every
//! time is the merchant's business time and every calendar is the merchant's (its UTC offset).
//!
//! Month ends: periods are counted from the anchor (the subscription's start), not from the
//! previous boundary, and a day the month does not have becomes its last day. A subscription
//! started on 31 January renews on 28 (or 29) February, 31 March, 30 April, 31 May: it never
//! drifts to the 28th for good.

use super::refusal::Refusal;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::contract::Period;
pub use paydesk_shared::subscription::SubscriptionStatus;
use paydesk_shared::time::{civil_from_days, days_from_civil, days_in_month};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A first charge that failed leaves the subscription `incomplete` this long, then it expires.
pub const INCOMPLETE_WINDOW_MS: i64 = 23 * HOUR_MS;
/// `trial_will_end` is sent this long before a trial ends.
pub const TRIAL_NOTICE_MS: i64 = 3 * DAY_MS;
pub const DEFAULT_REMINDER_HOURS: u32 = 48;
/// Retries of a failed periodic charge, in days after the first failure.
pub const DEFAULT_RETRY_DAYS: [u32; 3] = [1, 3, 5];

/// The start of period `n` (0 is the anchor) of a schedule every `count` `interval`s from
/// `anchor_ms`, on the calendar at `utc_offset_minutes`. The time of day is kept.
pub fn boundary(
    anchor_ms: i64,
    interval: Period,
    count: u32,
    n: u32,
    utc_offset_minutes: i32,
) -> i64 {
    let steps = i64::from(count) * i64::from(n);
    match interval {
        Period::Day => anchor_ms + steps * DAY_MS,
        Period::Week => anchor_ms + steps * 7 * DAY_MS,
        Period::Month => add_months(anchor_ms, steps, utc_offset_minutes),
        Period::Year => add_months(anchor_ms, steps * 12, utc_offset_minutes),
    }
}

/// `at_ms` moved by `months` calendar months, the day clamped to the month's last.
fn add_months(at_ms: i64, months: i64, utc_offset_minutes: i32) -> i64 {
    let offset = i64::from(utc_offset_minutes) * 60_000;
    let local = at_ms + offset;
    let (day, time) = (local.div_euclid(DAY_MS), local.rem_euclid(DAY_MS));
    let (y, m, d) = civil_from_days(day);
    let index = y * 12 + i64::from(m) - 1 + months;
    let (y, m) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
    let d = d.min(days_in_month(y.clamp(0, i64::from(u32::MAX)) as u32, m));
    days_from_civil(y, m, d) * DAY_MS + time - offset
}

/// When a reminder of a charge at `charge_at_ms` goes out (never before `now_ms`).
pub fn reminder_at(charge_at_ms: i64, reminder_hours: u32, now_ms: i64) -> i64 {
    (charge_at_ms - i64::from(reminder_hours) * HOUR_MS).max(now_ms)
}

/// Dunning of a failed periodic charge: retries `retry_days` after the first failure, then the
/// subscription ends as `final_state`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dunning {
    #[serde(default = "default_retry_days")]
    pub retry_days: Vec<u32>,
    #[serde(default = "default_final_state")]
    pub final_state: SubscriptionStatus,
}

fn default_retry_days() -> Vec<u32> {
    DEFAULT_RETRY_DAYS.to_vec()
}

fn default_final_state() -> SubscriptionStatus {
    SubscriptionStatus::Canceled
}

impl Default for Dunning {
    fn default() -> Self {
        Dunning {
            retry_days: DEFAULT_RETRY_DAYS.to_vec(),
            final_state: SubscriptionStatus::Canceled,
        }
    }
}

impl Dunning {
    /// Retry days strictly increasing, 1-60 days, at most 8 retries; ends canceled or unpaid.
    pub fn validate(&self) -> Result<(), Refusal> {
        let increasing = self.retry_days.windows(2).all(|w| w[0] < w[1]);
        let in_range = self.retry_days.iter().all(|d| (1..=60).contains(d));
        if !increasing || !in_range || self.retry_days.len() > 8 {
            return Err(Refusal::param(
                "dunning.retry_days",
                "retry_days must be at most 8 strictly increasing days from 1 to 60",
            ));
        }
        if !matches!(
            self.final_state,
            SubscriptionStatus::Canceled | SubscriptionStatus::Unpaid
        ) {
            return Err(Refusal::param(
                "dunning.final_state",
                "final_state must be canceled or unpaid",
            ));
        }
        Ok(())
    }

    /// After `failures` failed attempts of one charge (the first at `first_failed_ms`): when to
    /// try again, or `None` when the retries are used up.
    pub fn next_retry(&self, first_failed_ms: i64, failures: usize) -> Option<i64> {
        let day = *self.retry_days.get(failures.checked_sub(1)?)?;
        Some(first_failed_ms + i64::from(day) * DAY_MS)
    }
}

/// What happens to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionEvent {
    /// A charge (first, renewal after a trial or a period, or a retry) succeeded.
    Paid,
    /// A periodic charge (including the first after a trial) failed; retries follow.
    RenewalFailed,
    /// The incomplete window ran out.
    IncompleteTimedOut,
    /// The last retry failed: the dunning's final state.
    RetriesExhausted(SubscriptionStatus),
    Cancel,
    Pause,
    Resume,
}

/// A new subscription's status: trialing, or by its first charge (a failed or not yet paid
/// first charge leaves it incomplete for [`INCOMPLETE_WINDOW_MS`]).
pub fn started(trial: bool, first_charge_paid: bool) -> SubscriptionStatus {
    match (trial, first_charge_paid) {
        (true, _) => SubscriptionStatus::Trialing,
        (false, true) => SubscriptionStatus::Active,
        (false, false) => SubscriptionStatus::Incomplete,
    }
}

/// The subscription state machine: where `event` leads from `from`, or why it cannot happen.
pub fn advance(
    from: SubscriptionStatus,
    event: SubscriptionEvent,
) -> Result<SubscriptionStatus, Refusal> {
    use SubscriptionEvent as E;
    use SubscriptionStatus::*;
    let to = match (from, event) {
        (Incomplete | Trialing | Active | PastDue, E::Paid) => Active,
        (Incomplete, E::IncompleteTimedOut) => IncompleteExpired,
        (Active | Trialing | PastDue, E::RenewalFailed) => PastDue,
        (PastDue, E::RetriesExhausted(end @ (Canceled | Unpaid))) => end,
        (Incomplete | Trialing | Active | PastDue | Paused | Unpaid, E::Cancel) => Canceled,
        (Active | Trialing, E::Pause) => Paused,
        (Paused, E::Resume) => Active,
        _ => return Err(not_allowed(from, event)),
    };
    Ok(to)
}

fn not_allowed(from: SubscriptionStatus, event: SubscriptionEvent) -> Refusal {
    let what = match event {
        SubscriptionEvent::Cancel => "be canceled",
        SubscriptionEvent::Pause => "be paused",
        SubscriptionEvent::Resume => "be resumed",
        _ => "change that way",
    };
    Refusal::new(
        ErrorCode::SubscriptionNotAllowed,
        format!("a subscription that is {} cannot {what}", from.as_str()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_shared::time::parse_rfc3339;
    use SubscriptionEvent as E;
    use SubscriptionStatus::*;

    fn at(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }

    #[test]
    fn month_ends_keep_the_anchor_day() {
        // 31 January 10:00 in UTC+8.
        let jan31 = at("2027-01-31T02:00:00Z");
        let month = |n| boundary(jan31, Period::Month, 1, n, 480);
        assert_eq!(month(0), jan31);
        assert_eq!(month(1), at("2027-02-28T02:00:00Z"));
        assert_eq!(month(2), at("2027-03-31T02:00:00Z"));
        assert_eq!(month(3), at("2027-04-30T02:00:00Z"));
        // A leap year's February.
        assert_eq!(
            boundary(at("2028-01-31T02:00:00Z"), Period::Month, 1, 1, 480),
            at("2028-02-29T02:00:00Z")
        );
        // Every 3 months, and yearly from 29 February.
        assert_eq!(
            boundary(jan31, Period::Month, 3, 1, 480),
            at("2027-04-30T02:00:00Z")
        );
        let leap = at("2028-02-29T02:00:00Z");
        assert_eq!(
            boundary(leap, Period::Year, 1, 1, 480),
            at("2029-02-28T02:00:00Z")
        );
        assert_eq!(
            boundary(leap, Period::Year, 1, 4, 480),
            at("2032-02-29T02:00:00Z")
        );
    }

    #[test]
    fn month_ends_are_on_the_merchants_calendar() {
        // 2027-01-31T20:00Z is already 1 February 04:00 in UTC+8: its month is February.
        let t = at("2027-01-31T20:00:00Z");
        assert_eq!(
            boundary(t, Period::Month, 1, 1, 480),
            at("2027-02-28T20:00:00Z")
        );
        // In UTC it is 31 January: the next boundary is the last of February.
        assert_eq!(
            boundary(t, Period::Month, 1, 1, 0),
            at("2027-02-28T20:00:00Z")
        );
        // 2027-01-30T20:00Z is 31 January 04:00 in UTC+8: the last of February 04:00 there.
        let utc_jan30 = at("2027-01-30T20:00:00Z");
        assert_eq!(
            boundary(utc_jan30, Period::Month, 1, 1, 480),
            at("2027-02-27T20:00:00Z")
        );
        assert_eq!(
            boundary(utc_jan30, Period::Month, 1, 1, 0),
            at("2027-02-28T20:00:00Z")
        );
    }

    #[test]
    fn days_and_weeks() {
        let t = at("2027-03-01T00:00:00Z");
        assert_eq!(
            boundary(t, Period::Day, 1, 3, 480),
            at("2027-03-04T00:00:00Z")
        );
        assert_eq!(
            boundary(t, Period::Week, 2, 1, 480),
            at("2027-03-15T00:00:00Z")
        );
    }

    #[test]
    fn boundaries_increase() {
        for interval in Period::ALL {
            for offset in [-300, 0, 480] {
                let anchor = at("2027-01-31T23:30:00Z");
                let mut last = anchor;
                for n in 1..40 {
                    let b = boundary(anchor, interval, 1, n, offset);
                    assert!(b > last, "{interval:?} {offset} {n}");
                    last = b;
                }
            }
        }
    }

    #[test]
    fn reminders() {
        let charge = at("2027-03-10T00:00:00Z");
        assert_eq!(
            reminder_at(charge, 48, at("2027-03-01T00:00:00Z")),
            at("2027-03-08T00:00:00Z")
        );
        // Too late to remind 48 hours before: remind now.
        let now = at("2027-03-09T12:00:00Z");
        assert_eq!(reminder_at(charge, 48, now), now);
    }

    #[test]
    fn dunning_retries_then_ends() {
        let d = Dunning::default();
        let failed = at("2027-03-10T00:00:00Z");
        assert_eq!(d.next_retry(failed, 1), Some(failed + DAY_MS));
        assert_eq!(d.next_retry(failed, 2), Some(failed + 3 * DAY_MS));
        assert_eq!(d.next_retry(failed, 3), Some(failed + 5 * DAY_MS));
        assert_eq!(d.next_retry(failed, 4), None);
        assert_eq!(d.next_retry(failed, 0), None);
        assert_eq!(d.validate(), Ok(()));
        for bad in [vec![3, 1], vec![0], vec![61], vec![1; 9]] {
            assert!(Dunning {
                retry_days: bad,
                ..Dunning::default()
            }
            .validate()
            .is_err());
        }
        assert!(Dunning {
            final_state: Active,
            ..Dunning::default()
        }
        .validate()
        .is_err());
        assert_eq!(
            Dunning {
                final_state: Unpaid,
                retry_days: vec![]
            }
            .validate(),
            Ok(())
        );
    }

    #[test]
    fn the_state_machine() {
        assert_eq!(advance(Incomplete, E::Paid), Ok(Active));
        assert_eq!(
            advance(Incomplete, E::IncompleteTimedOut),
            Ok(IncompleteExpired)
        );
        assert_eq!(started(true, false), Trialing);
        assert_eq!(started(false, true), Active);
        assert_eq!(started(false, false), Incomplete);
        assert_eq!(advance(Trialing, E::Paid), Ok(Active));
        assert_eq!(advance(Trialing, E::RenewalFailed), Ok(PastDue));
        assert!(
            advance(Incomplete, E::RenewalFailed).is_err(),
            "incomplete waits, then expires"
        );
        assert_eq!(advance(Active, E::RenewalFailed), Ok(PastDue));
        assert_eq!(advance(PastDue, E::RenewalFailed), Ok(PastDue));
        assert_eq!(advance(PastDue, E::Paid), Ok(Active));
        assert_eq!(advance(PastDue, E::RetriesExhausted(Unpaid)), Ok(Unpaid));
        assert_eq!(
            advance(PastDue, E::RetriesExhausted(Canceled)),
            Ok(Canceled)
        );
        assert!(advance(PastDue, E::RetriesExhausted(Active)).is_err());
        assert_eq!(advance(Active, E::Pause), Ok(Paused));
        assert_eq!(advance(Paused, E::Resume), Ok(Active));
        assert!(
            advance(Paused, E::Paid).is_err(),
            "nothing is charged while paused"
        );
        for s in [Incomplete, Trialing, Active, PastDue, Paused, Unpaid] {
            assert_eq!(advance(s, E::Cancel), Ok(Canceled));
        }
        for e in [E::Paid, E::Cancel, E::Resume, E::Pause, E::RenewalFailed] {
            assert!(advance(Canceled, e).is_err(), "{e:?}");
            assert!(advance(IncompleteExpired, e).is_err(), "{e:?}");
        }
    }
}
