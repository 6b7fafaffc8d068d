//! Rate windows, account tiers, daily collection limits and dormancy.

use super::refusal::Refusal;
use paydesk_shared::api::ErrorCode;
use serde::{Deserialize, Serialize};

pub const MINUTE_MS: i64 = 60_000;
pub const DAY_MS: i64 = 86_400_000;
pub const DORMANT_AFTER_MS: i64 = 30 * DAY_MS;
/// The merchant's calendar day defaults to UTC+8.
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 8 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKind {
    Create,
    Query,
    Refund,
}

impl RateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RateKind::Create => "create",
            RateKind::Query => "query",
            RateKind::Refund => "refund",
        }
    }
}

/// Requests per rolling minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    pub create: u32,
    pub query: u32,
    pub refund: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            create: 100,
            query: 300,
            refund: 50,
        }
    }
}

impl RateLimits {
    pub fn of(&self, kind: RateKind) -> u32 {
        match kind {
            RateKind::Create => self.create,
            RateKind::Query => self.query,
            RateKind::Refund => self.refund,
        }
    }
}

/// Given the times (ms) of the requests of one kind in the last minute, oldest first, may one
/// more happen at `now`? If not, how many whole seconds until it may (`Retry-After`).
pub fn rate_check(recent: &[i64], limit: u32, now: i64) -> Result<(), u32> {
    let in_window: Vec<i64> = recent
        .iter()
        .copied()
        .filter(|t| *t > now - MINUTE_MS)
        .collect();
    match rate_slot(in_window.len() as u64, limit) {
        None => Ok(()),
        Some(idx) => Err(retry_after(in_window[idx], now)),
    }
}

/// With `count` requests of a kind in the window: `None` if one more fits under `limit`, else
/// the place (from the oldest, 0-based) of the request whose expiry frees the next slot.
pub fn rate_slot(count: u64, limit: u32) -> Option<usize> {
    (count >= u64::from(limit)).then(|| (count - u64::from(limit)) as usize)
}

/// Whole seconds (at least 1) until a request made at `at_ms` leaves the window.
pub fn retry_after(at_ms: i64, now: i64) -> u32 {
    let wait_ms = (at_ms + MINUTE_MS - now).max(1);
    ((wait_ms + 999) / 1000) as u32
}

/// A full rate window: `FREQUENCY_LIMITED`, with the wait before a slot frees.
pub fn rate_refusal(kind: RateKind, retry_after_secs: u32) -> Refusal {
    Refusal::new(
        ErrorCode::FrequencyLimited,
        format!("too many {} requests in the last minute", kind.as_str()),
    )
    .retry_after(retry_after_secs)
}

/// A dormant account cannot take orders until an operator re-activates it.
pub fn dormant_refusal() -> Refusal {
    Refusal::new(
        ErrorCode::AccountDormant,
        "the account is dormant after 30 days without orders; ask paydesk to re-activate it",
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Enterprise,
    IndividualBusiness,
    Personal,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Enterprise => "enterprise",
            Tier::IndividualBusiness => "individual_business",
            Tier::Personal => "personal",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        [Tier::Enterprise, Tier::IndividualBusiness, Tier::Personal]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// Default daily collection limit in fen; `None`: may not collect automatically at all.
    pub fn default_daily_limit(self) -> Option<u64> {
        match self {
            Tier::Enterprise => Some(50_000_000),         // 500,000.00
            Tier::IndividualBusiness => Some(10_000_000), // 100,000.00
            Tier::Personal => None,
        }
    }

    /// The most a merchant of this tier may be allowed to collect a day, in fen: an individual
    /// business at most its ¥100,000; `None`: no cap beyond the amount limit.
    pub fn max_daily_limit(self) -> Option<u64> {
        match self {
            Tier::IndividualBusiness | Tier::Personal => self.default_daily_limit().or(Some(0)),
            Tier::Enterprise => None,
        }
    }

    /// Whether this tier may use automatic collection (create orders, be paid).
    pub fn check_allowed(self) -> Result<(), ErrorCode> {
        match self {
            Tier::Personal => Err(ErrorCode::AccountNotAllowed),
            _ => Ok(()),
        }
    }
}

/// The merchant's calendar day of `at_ms`, as `YYYY-MM-DD`, at a UTC offset in minutes.
pub fn merchant_day(at_ms: i64, utc_offset_minutes: i32) -> String {
    let local = at_ms + i64::from(utc_offset_minutes) * MINUTE_MS;
    paydesk_shared::time::format_rfc3339(local)[..10].to_owned()
}

/// Whether paying `amount` keeps the day's collected total within `limit` (checked arithmetic).
pub fn daily_check(paid_today: u64, amount: u64, limit: u64) -> Result<u64, ErrorCode> {
    let after = paid_today
        .checked_add(amount)
        .ok_or(ErrorCode::DailyLimitExceeded)?;
    if after > limit {
        Err(ErrorCode::DailyLimitExceeded)
    } else {
        Ok(after)
    }
}

/// Whether a merchant of `tier` may collect automatically (take orders, be paid);
/// `approved`: a sandbox merchant, or a live one whose application the platform approved.
pub fn may_collect(tier: Tier, approved: bool) -> Result<(), Refusal> {
    tier.check_allowed()
        .map_err(|c| Refusal::new(c, "personal accounts cannot use automatic collection"))?;
    if !approved {
        return Err(Refusal::new(
            ErrorCode::AccountNotAllowed,
            "the platform has not approved this merchant's application to collect live money \
             yet (POST /v1/application)",
        ));
    }
    Ok(())
}

/// A live merchant collects only through a real channel, never through the sandbox's test
/// instruments; `live_channel`: whether one is configured for it.
pub fn may_pay_through(sandbox: bool, live_channel: bool) -> Result<(), Refusal> {
    if sandbox || live_channel {
        return Ok(());
    }
    Err(Refusal::new(
        ErrorCode::ChannelNotConfigured,
        "this merchant has no payment channel for this payment (a live merchant is paid only \
         through a real channel, never the sandbox's test instruments)",
    ))
}

/// Whether a payment of `amount` fits the merchant's daily `limit` after `paid_today`.
pub fn check_daily(limit: Option<u64>, paid_today: u64, amount: u64) -> Result<(), Refusal> {
    let limit = limit.ok_or_else(|| {
        Refusal::new(
            ErrorCode::AccountNotAllowed,
            "this merchant cannot collect payments",
        )
    })?;
    daily_check(paid_today, amount, limit)
        .map(|_| ())
        .map_err(|c| {
            Refusal::new(
                c,
                "the merchant's daily collection limit is reached; try again tomorrow",
            )
        })
}

/// An account with no order for 30 days sleeps until an admin re-activates it.
pub fn is_dormant(last_activity_ms: i64, now_ms: i64) -> bool {
    now_ms - last_activity_ms >= DORMANT_AFTER_MS
}

/// Expired nonces are forgotten on the request path by one new nonce in this many (and by the
/// alarm): the nonce log's ids count new nonces, so the pruning is even and needs no state.
pub const NONCE_PRUNE_EVERY: i64 = 16;

/// Whether the new nonce logged under `rowid` forgets the expired ones.
pub fn prunes_nonces(rowid: i64) -> bool {
    rowid % NONCE_PRUNE_EVERY == 0
}

/// A request's entry in the rate window forgets the window's expired entries of its kind in one
/// entry in this many (and the alarm forgets them all): until then the kept count may include a
/// few that left the minute, which only ever sends a request the longer way round
/// (`merchant/auth.rs`, `rate`), never refuses it.
pub const RATE_PRUNE_EVERY: i64 = 16;

/// Whether the rate window entry numbered `id` among its kind's forgets the expired ones.
pub fn prunes_rate_window(id: i64) -> bool {
    id % RATE_PRUNE_EVERY == 0
}

/// How finely a merchant's last activity is kept: dormancy is counted in days, so an order
/// within a minute of the recorded activity does not write it again (a busy merchant's orders
/// skip that statement).
pub const ACTIVITY_RESOLUTION_MS: i64 = 60_000;

/// Whether an order at `now_ms` moves the recorded last activity.
pub fn activity_needs_recording(last_activity_ms: i64, now_ms: i64) -> bool {
    now_ms - last_activity_ms >= ACTIVITY_RESOLUTION_MS || now_ms < last_activity_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_new_nonce_in_sixteen_prunes() {
        let pruning = (1..=64).filter(|&r| prunes_nonces(r)).count();
        assert_eq!(pruning, 4);
        assert!(prunes_nonces(16) && !prunes_nonces(17));
    }

    #[test]
    fn one_rate_entry_in_sixteen_prunes() {
        let pruning = (1..=64).filter(|&r| prunes_rate_window(r)).count();
        assert_eq!(pruning, 4);
        assert!(prunes_rate_window(32) && !prunes_rate_window(33));
    }

    #[test]
    fn activity_is_recorded_at_most_once_a_minute() {
        let t = 1_000_000_000;
        assert!(!activity_needs_recording(t, t));
        assert!(!activity_needs_recording(t, t + ACTIVITY_RESOLUTION_MS - 1));
        assert!(activity_needs_recording(t, t + ACTIVITY_RESOLUTION_MS));
        // A clock that went back (a test clock rewound by a fresh merchant) records again.
        assert!(activity_needs_recording(t, t - 1));
        // Never stale enough to make an active merchant look dormant.
        const { assert!(ACTIVITY_RESOLUTION_MS < DORMANT_AFTER_MS) };
        assert!(!is_dormant(t, t + ACTIVITY_RESOLUTION_MS - 1));
    }

    #[test]
    fn rolling_minute() {
        let now = 1_000_000;
        assert_eq!(rate_check(&[], 2, now), Ok(()));
        assert_eq!(rate_check(&[now - 10], 2, now), Ok(()));
        // Two in the window, limit 2: wait until the older leaves (it was 10 s ago → 50 s).
        assert_eq!(rate_check(&[now - 10_000, now - 5_000], 2, now), Err(50));
        // Entries older than a minute do not count.
        assert_eq!(rate_check(&[now - 60_000, now - 5_000], 2, now), Ok(()));
        // Sub-second remainders round up, never to zero.
        assert_eq!(rate_check(&[now - 59_999], 1, now), Err(1));
        // The ledger's path: a count, then only the deciding entry (the slot's place, oldest first).
        let window = [now - 50_000, now - 40_000, now - 30_000, now - 1_000];
        assert_eq!(rate_slot(4, 5), None);
        assert_eq!(rate_slot(4, 4), Some(0));
        assert_eq!(rate_slot(4, 2), Some(2));
        assert_eq!(rate_slot(0, 0), Some(0));
        for limit in 1..=4 {
            let idx = rate_slot(4, limit).unwrap();
            assert_eq!(
                Err(retry_after(window[idx], now)),
                rate_check(&window, limit, now)
            );
        }
    }

    #[test]
    fn tiers() {
        assert_eq!(Tier::Enterprise.default_daily_limit(), Some(50_000_000));
        assert_eq!(
            Tier::IndividualBusiness.default_daily_limit(),
            Some(10_000_000)
        );
        assert_eq!(
            Tier::Personal.check_allowed(),
            Err(ErrorCode::AccountNotAllowed)
        );
        assert_eq!(
            Tier::parse("individual_business"),
            Some(Tier::IndividualBusiness)
        );
        assert_eq!(Tier::parse("Personal"), None);
    }

    #[test]
    fn calendar_day_is_the_merchants() {
        // 2026-11-27T16:30:00Z is already the 28th in UTC+8.
        let t = paydesk_shared::time::parse_rfc3339("2026-11-27T16:30:00Z").unwrap();
        assert_eq!(merchant_day(t, 480), "2026-11-28");
        assert_eq!(merchant_day(t, 0), "2026-11-27");
        assert_eq!(merchant_day(t, -600), "2026-11-27");
    }

    #[test]
    fn a_tier_caps_the_daily_limit_and_a_live_merchant_needs_a_channel() {
        assert_eq!(Tier::IndividualBusiness.max_daily_limit(), Some(10_000_000));
        assert_eq!(Tier::Personal.max_daily_limit(), Some(0));
        assert_eq!(Tier::Enterprise.max_daily_limit(), None);
        assert!(may_pay_through(true, false).is_ok());
        assert!(may_pay_through(false, true).is_ok());
        assert_eq!(
            may_pay_through(false, false).unwrap_err().code,
            ErrorCode::ChannelNotConfigured
        );
    }

    #[test]
    fn daily_limit_is_inclusive_and_checked() {
        assert_eq!(daily_check(90, 10, 100), Ok(100));
        assert_eq!(daily_check(90, 11, 100), Err(ErrorCode::DailyLimitExceeded));
        assert_eq!(
            daily_check(u64::MAX, 1, u64::MAX),
            Err(ErrorCode::DailyLimitExceeded)
        );
    }

    #[test]
    fn dormancy() {
        assert!(!is_dormant(0, DORMANT_AFTER_MS - 1));
        assert!(is_dormant(0, DORMANT_AFTER_MS));
    }

    #[test]
    fn refusals_in_words() {
        assert!(may_collect(Tier::Enterprise, true).is_ok());
        assert_eq!(
            may_collect(Tier::Enterprise, false).unwrap_err().code,
            ErrorCode::AccountNotAllowed,
            "a live merchant not yet approved"
        );
        assert_eq!(
            may_collect(Tier::Personal, true).unwrap_err().code,
            ErrorCode::AccountNotAllowed
        );
        assert!(check_daily(Some(100), 90, 10).is_ok());
        assert_eq!(
            check_daily(Some(100), 90, 11).unwrap_err().code,
            ErrorCode::DailyLimitExceeded
        );
        assert_eq!(
            check_daily(None, 0, 1).unwrap_err().code,
            ErrorCode::AccountNotAllowed
        );
        let r = rate_refusal(RateKind::Create, 7);
        assert_eq!(
            (r.code, r.retry_after),
            (ErrorCode::FrequencyLimited, Some(7))
        );
        assert_eq!(dormant_refusal().code, ErrorCode::AccountDormant);
    }
}
