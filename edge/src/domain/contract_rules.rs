//! Withhold contracts (委托代扣): validating plans, contract requests and deductions; the
//! contract state machine; counting deductions per period on the merchant's calendar; the
//! per-deduction and per-period limits; and when a deduction under a plan with a pre-deduction
//! notice may be charged. Pure, tested natively.
//!
//! ```text
//! PENDING --sign--> ACTIVE --terminate (payer | merchant | expiry)--> TERMINATED
//!    | not signed within 24 h
//!    v
//! EXPIRED
//! ```

use super::order_rules::{check_notify_url, is_out_trade_no};
use super::refusal::Refusal;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::contract::{
    ContractStatus, CreateContract, CreateDeduction, CreatePlan, Period, TerminationMode,
};
use paydesk_shared::time::{civil_from_days, days_from_civil};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A contract not signed within this long after it was requested expires.
pub const SIGN_WINDOW_MS: i64 = DAY_MS;
/// Under a plan with a pre-deduction notice, a deduction is charged this long after the payer
/// was notified of it...
pub const NOTICE_LEAD_MS: i64 = DAY_MS;
/// ...unless it is requested within this long after the contract was signed (the first charge
/// of a new contract needs no notice).
pub const NOTICE_EXEMPT_AFTER_SIGNING_MS: i64 = 12 * HOUR_MS;
/// The most a plan may allow per deduction: ¥50,000.00.
pub const MAX_AMOUNT_PER_DEDUCTION: u64 = 5_000_000;
pub const MAX_DEDUCTIONS_PER_PERIOD: u32 = 100;
/// The longest a contract may last: ten years.
pub const MAX_CONTRACT_DAYS: u32 = 3_650;

/// `plan_id`: 1-28 digits (the v2 protocol's template id).
pub fn is_plan_id(s: &str) -> bool {
    (1..=28).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// `contract_code`: the merchant's number, `[0-9A-Za-z_\-|*]{1,32}`.
pub fn is_contract_code(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'))
}

fn text(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    n > 0 && n <= max && !s.chars().any(char::is_control)
}

pub fn validate_plan(p: &CreatePlan) -> Result<(), Refusal> {
    let err = Refusal::param;
    if !is_plan_id(&p.plan_id) {
        return Err(err("plan_id", "plan_id must be 1-28 digits"));
    }
    if !text(&p.name, 64) {
        return Err(err("name", "name must be 1-64 characters of plain text"));
    }
    if !(1..=MAX_AMOUNT_PER_DEDUCTION).contains(&p.max_amount_per_deduction) {
        return Err(err(
            "max_amount_per_deduction",
            "max_amount_per_deduction must be 1-5000000 minor units (¥0.01-¥50,000.00)",
        ));
    }
    if !(1..=MAX_DEDUCTIONS_PER_PERIOD).contains(&p.max_deductions_per_period) {
        return Err(err(
            "max_deductions_per_period",
            "max_deductions_per_period must be 1-100",
        ));
    }
    if p.contract_days
        .is_some_and(|d| !(1..=MAX_CONTRACT_DAYS).contains(&d))
    {
        return Err(err("contract_days", "contract_days must be 1-3650"));
    }
    Ok(())
}

pub fn validate_contract(c: &CreateContract, dev: bool) -> Result<(), Refusal> {
    let err = Refusal::param;
    if !is_plan_id(&c.plan_id) {
        return Err(err("plan_id", "plan_id must be 1-28 digits"));
    }
    if !is_contract_code(&c.contract_code) {
        return Err(err(
            "contract_code",
            "contract_code must be 1-32 characters of 0-9 A-Z a-z _ - | *",
        ));
    }
    if !text(&c.display_account, 32) {
        return Err(err(
            "display_account",
            "display_account must be 1-32 characters of plain text",
        ));
    }
    if let Some(url) = &c.notify_url {
        check_notify_url(url, dev).map_err(|m| err("notify_url", m))?;
    }
    if c.payer_ref.as_deref().is_some_and(|r| !text(r, 64)) {
        return Err(err(
            "payer_ref",
            "payer_ref must be 1-64 characters of plain text",
        ));
    }
    Ok(())
}

/// A deduction's own fields (the order rules and the plan's limits are checked after).
pub fn validate_deduction(d: &CreateDeduction) -> Result<(), Refusal> {
    if !is_out_trade_no(&d.out_trade_no) {
        return Err(Refusal::param(
            "out_trade_no",
            "out_trade_no must be 6-32 characters of 0-9 A-Z a-z _ - | *",
        ));
    }
    if d.amount == 0 {
        return Err(Refusal::param(
            "amount",
            "amount must be at least 1 minor unit",
        ));
    }
    Ok(())
}

/// What happens to a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractEvent {
    Sign,
    Terminate(TerminationMode),
    /// Not signed in time.
    Lapse,
}

/// The contract state machine: the status `event` leads to, or why it cannot happen.
pub fn advance(from: ContractStatus, event: ContractEvent) -> Result<ContractStatus, Refusal> {
    use ContractEvent as E;
    use ContractStatus::*;
    match (from, event) {
        (Pending, E::Sign) => Ok(Active),
        (Pending, E::Lapse) => Ok(Expired),
        (Active, E::Terminate(_)) => Ok(Terminated),
        (Active, E::Sign) => Err(not_active("this contract is already signed")),
        (Pending, E::Terminate(_)) => Err(not_active("this contract has not been signed")),
        (Terminated, _) => Err(not_active("this contract has been terminated")),
        (Expired, _) => Err(not_active("this contract was not signed in time")),
        (Active, E::Lapse) => Err(not_active("a signed contract does not lapse")),
    }
}

fn not_active(message: &str) -> Refusal {
    Refusal::new(ErrorCode::ContractNotActive, message)
}

/// What falls due for a contract at `now_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractDue {
    /// Still `PENDING` past its signing deadline.
    Lapse,
    /// `ACTIVE` past the end of its term.
    End,
}

pub fn due(
    status: ContractStatus,
    sign_deadline_ms: i64,
    expires_at_ms: Option<i64>,
    now_ms: i64,
) -> Option<ContractDue> {
    match status {
        ContractStatus::Pending if sign_deadline_ms <= now_ms => Some(ContractDue::Lapse),
        ContractStatus::Active if expires_at_ms.is_some_and(|e| e <= now_ms) => {
            Some(ContractDue::End)
        }
        _ => None,
    }
}

/// When a contract signed at `signed_at_ms` ends by itself under a plan of `contract_days`.
pub fn term_end(signed_at_ms: i64, contract_days: Option<u32>) -> Option<i64> {
    contract_days.map(|d| signed_at_ms + i64::from(d) * DAY_MS)
}

/// Whether a contract can still be charged at `at_ms`: active, and its term (if it has one)
/// not over by then. A charge its term ends before is neither announced nor made, even while
/// the alarm has not yet applied the end.
pub fn charges_at(status: ContractStatus, expires_at_ms: Option<i64>, at_ms: i64) -> bool {
    status.is_active() && expires_at_ms.is_none_or(|end| at_ms < end)
}

/// The start (UTC ms) of the period containing `at_ms`, on the merchant's calendar at
/// `utc_offset_minutes`: midnight of the day, of the Monday of the week, of the first of the
/// month, of the first of January.
pub fn period_start(at_ms: i64, period: Period, utc_offset_minutes: i32) -> i64 {
    let offset_ms = i64::from(utc_offset_minutes) * 60_000;
    let local_day = (at_ms + offset_ms).div_euclid(DAY_MS);
    let start_day = match period {
        Period::Day => local_day,
        // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday.
        Period::Week => local_day - (local_day + 3).rem_euclid(7),
        Period::Month => {
            let (y, m, _) = civil_from_days(local_day);
            days_from_civil(y, m, 1)
        }
        Period::Year => {
            let (y, _, _) = civil_from_days(local_day);
            days_from_civil(y, 1, 1)
        }
    };
    start_day * DAY_MS - offset_ms
}

/// The longest a deduction waits between being made and being charged: an instalment part
/// opened 30 days ahead with 30 days' grace, an invoice retried for 60 days, a notice's day.
pub const CHARGED_WITHIN_MS: i64 = 90 * DAY_MS;

/// A period's deductions other than `order` itself: the period's count (charged in it, or
/// unpaid and counted by when it is to be charged or was asked for; not declined or closed)
/// includes the order only while it is unpaid and counted in the period (an order opened
/// before the period began, such as an installment part, is not).
pub fn others_in_period(
    counted: u32,
    order_unpaid: bool,
    order_counted_at_ms: i64,
    period_start_ms: i64,
) -> u32 {
    let counts_itself = order_unpaid && order_counted_at_ms >= period_start_ms;
    counted.saturating_sub(u32::from(counts_itself))
}

/// The plan's limits for one more deduction of `amount`, with `counted` deductions already
/// in this period (those not declined or closed).
pub fn check_limits(
    amount: u64,
    max_amount: u64,
    counted: u32,
    max_per_period: u32,
    period: Period,
) -> Result<(), Refusal> {
    if amount > max_amount {
        return Err(Refusal::new(
            ErrorCode::ContractAmountExceeded,
            format!("the plan allows at most {max_amount} minor units per deduction"),
        )
        .at("amount"));
    }
    if counted >= max_per_period {
        return Err(Refusal::new(
            ErrorCode::ContractPeriodLimitExceeded,
            format!(
                "the plan allows at most {max_per_period} deductions per {}",
                period.as_str()
            ),
        ));
    }
    Ok(())
}

/// When a deduction requested at `now_ms` is charged: at once, or, under a plan with a
/// pre-deduction notice, a day after the payer is notified (now), unless it is the contract's
/// first charge (`earlier`: its deductions charged or waiting to be) and the contract was signed
/// within the last 12 hours, as the contract page tells the payer.
pub fn charge_at(notice_required: bool, earlier: u32, signed_at_ms: i64, now_ms: i64) -> i64 {
    let exempt = earlier == 0 && now_ms - signed_at_ms < NOTICE_EXEMPT_AFTER_SIGNING_MS;
    if notice_required && !exempt {
        now_ms + NOTICE_LEAD_MS
    } else {
        now_ms
    }
}

/// Whether a schedule charged from a contract (a subscription, an instalment plan) keeps its
/// plan's pre-deduction notice, which the contract page promises the payer: each charge
/// announced (`reminder_hours`) at least a day before it is made, except the contract's first
/// deduction within 12 hours of signing (`charge_at`). `charges`: the first charges' times, in
/// order (later ones are a period or a part further on, and announced `reminder_hours` ahead);
/// `first`: the request's field that sets the first.
pub fn check_schedule_notice(
    reminder_hours: u32,
    charges: &[i64],
    earlier: u32,
    signed_at_ms: i64,
    now_ms: i64,
    first: &'static str,
) -> Result<(), Refusal> {
    if i64::from(reminder_hours) * HOUR_MS < NOTICE_LEAD_MS {
        return Err(Refusal::param(
            "reminder_hours",
            "the contract's plan announces each charge a day ahead: reminder_hours must be at least 24",
        ));
    }
    let exempt = charge_at(true, earlier, signed_at_ms, now_ms) == now_ms;
    let unannounced = charges
        .iter()
        .enumerate()
        .any(|(i, at)| at - now_ms < NOTICE_LEAD_MS && !(i == 0 && exempt));
    if unannounced {
        return Err(Refusal::param(
            first,
            "the contract's plan announces each charge a day ahead: only its first deduction, \
             within 12 hours of signing, may be charged sooner than 24 hours from now",
        ));
    }
    Ok(())
}

/// The same `contract_code` (or `plan_id`) asked again: the same answer if the request is the
/// same, else this refusal.
pub fn code_used() -> Refusal {
    Refusal::new(
        ErrorCode::ContractCodeUsed,
        "this contract_code was used for a different contract",
    )
    .at("contract_code")
}

pub fn plan_id_used() -> Refusal {
    Refusal::new(
        ErrorCode::PlanIdUsed,
        "this plan_id was used for a different plan",
    )
    .at("plan_id")
}

/// A request's canonical form, for telling "the same request again" from a different one.
pub fn fingerprint<T: serde::Serialize>(req: &T) -> String {
    serde_json::to_string(req).expect("request types serialise")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_contract_charges_only_while_active_and_within_its_term() {
        use super::charges_at;
        use paydesk_shared::contract::ContractStatus::{Active, Terminated};
        assert!(charges_at(Active, None, i64::MAX));
        assert!(charges_at(Active, Some(1_000), 999));
        assert!(
            !charges_at(Active, Some(1_000), 1_000),
            "its term is over at its end"
        );
        assert!(!charges_at(Terminated, None, 0));
    }

    use super::*;
    use paydesk_shared::time::parse_rfc3339;
    use ContractStatus::*;

    fn at(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }

    fn plan() -> CreatePlan {
        CreatePlan {
            plan_id: "12535".into(),
            name: "Monthly membership".into(),
            max_amount_per_deduction: 9_900,
            period: Period::Month,
            max_deductions_per_period: 1,
            contract_days: Some(365),
            pre_deduction_notice: false,
        }
    }

    #[test]
    fn plans_are_validated_field_by_field() {
        assert_eq!(validate_plan(&plan()), Ok(()));
        type Break = Box<dyn Fn(&mut CreatePlan)>;
        let cases: Vec<(&str, Break)> = vec![
            ("plan_id", Box::new(|p| p.plan_id = "".into())),
            ("plan_id", Box::new(|p| p.plan_id = "12a".into())),
            ("plan_id", Box::new(|p| p.plan_id = "1".repeat(29))),
            ("name", Box::new(|p| p.name = "".into())),
            ("name", Box::new(|p| p.name = "a\nb".into())),
            ("name", Box::new(|p| p.name = "x".repeat(65))),
            (
                "max_amount_per_deduction",
                Box::new(|p| p.max_amount_per_deduction = 0),
            ),
            (
                "max_amount_per_deduction",
                Box::new(|p| p.max_amount_per_deduction = MAX_AMOUNT_PER_DEDUCTION + 1),
            ),
            (
                "max_deductions_per_period",
                Box::new(|p| p.max_deductions_per_period = 0),
            ),
            (
                "max_deductions_per_period",
                Box::new(|p| p.max_deductions_per_period = 101),
            ),
            ("contract_days", Box::new(|p| p.contract_days = Some(0))),
            ("contract_days", Box::new(|p| p.contract_days = Some(3651))),
        ];
        for (param, break_it) in cases {
            let mut p = plan();
            break_it(&mut p);
            let r = validate_plan(&p).unwrap_err();
            assert_eq!(
                (r.code, r.param.as_deref()),
                (ErrorCode::ParamError, Some(param))
            );
        }
        let mut p = plan();
        p.plan_id = "1".repeat(28);
        p.contract_days = None;
        assert_eq!(validate_plan(&p), Ok(()));
    }

    #[test]
    fn contract_requests_are_validated() {
        let ok = CreateContract {
            plan_id: "12535".into(),
            contract_code: "C-2026|0001".into(),
            display_account: "张三 / alice@example.com".into(),
            notify_url: Some("https://shop.example.com/papay".into()),
            payer_ref: None,
            contact: None,
        };
        assert_eq!(validate_contract(&ok, false), Ok(()));
        let mut bad = ok.clone();
        bad.contract_code = "has space".into();
        assert_eq!(
            validate_contract(&bad, false).unwrap_err().param.as_deref(),
            Some("contract_code")
        );
        let mut bad = ok.clone();
        bad.display_account = "x".repeat(33);
        assert_eq!(
            validate_contract(&bad, false).unwrap_err().param.as_deref(),
            Some("display_account")
        );
        let mut bad = ok.clone();
        bad.notify_url = Some("http://shop.example.com/".into());
        assert_eq!(
            validate_contract(&bad, false).unwrap_err().param.as_deref(),
            Some("notify_url")
        );
        let mut bad = ok;
        bad.payer_ref = Some(String::new());
        assert_eq!(
            validate_contract(&bad, false).unwrap_err().param.as_deref(),
            Some("payer_ref")
        );
    }

    #[test]
    fn the_state_machine() {
        use ContractEvent as E;
        let end = |m| E::Terminate(m);
        assert_eq!(advance(Pending, E::Sign), Ok(Active));
        assert_eq!(advance(Pending, E::Lapse), Ok(Expired));
        for m in TerminationMode::ALL {
            assert_eq!(advance(Active, end(m)), Ok(Terminated));
            assert_eq!(
                advance(Terminated, end(m)).unwrap_err().code,
                ErrorCode::ContractNotActive
            );
            assert_eq!(
                advance(Pending, end(m)).unwrap_err().code,
                ErrorCode::ContractNotActive
            );
        }
        // Nothing leaves TERMINATED or EXPIRED, and nothing signs twice.
        for e in [E::Sign, E::Lapse] {
            assert!(advance(Terminated, e).is_err());
            assert!(advance(Expired, e).is_err());
        }
        assert!(advance(Active, E::Sign).is_err());
        assert!(advance(Active, E::Lapse).is_err());
    }

    #[test]
    fn what_falls_due() {
        let deadline = at("2026-12-04T00:00:00Z");
        assert_eq!(due(Pending, deadline, None, deadline - 1), None);
        assert_eq!(
            due(Pending, deadline, None, deadline),
            Some(ContractDue::Lapse)
        );
        assert_eq!(due(Active, deadline, None, deadline + DAY_MS * 9999), None);
        let end = term_end(deadline, Some(30)).unwrap();
        assert_eq!(end, at("2027-01-03T00:00:00Z"));
        assert_eq!(due(Active, deadline, Some(end), end - 1), None);
        assert_eq!(
            due(Active, deadline, Some(end), end),
            Some(ContractDue::End)
        );
        assert_eq!(due(Terminated, deadline, Some(end), end), None);
        assert_eq!(term_end(deadline, None), None);
    }

    #[test]
    fn periods_start_on_the_merchants_calendar() {
        // 2026-12-03 (a Thursday) 17:30 UTC is already Friday 01:30 in UTC+8.
        let t = at("2026-12-03T17:30:00Z");
        assert_eq!(
            period_start(t, Period::Day, 480),
            at("2026-12-03T16:00:00Z")
        );
        assert_eq!(period_start(t, Period::Day, 0), at("2026-12-03T00:00:00Z"));
        // The week starts on Monday 2026-11-30 local.
        assert_eq!(
            period_start(t, Period::Week, 480),
            at("2026-11-29T16:00:00Z")
        );
        assert_eq!(period_start(t, Period::Week, 0), at("2026-11-30T00:00:00Z"));
        // A Monday is its own week's start; the Sunday before belongs to the week before.
        assert_eq!(
            period_start(at("2026-11-30T00:00:00Z"), Period::Week, 0),
            at("2026-11-30T00:00:00Z")
        );
        assert_eq!(
            period_start(at("2026-11-29T23:59:59Z"), Period::Week, 0),
            at("2026-11-23T00:00:00Z")
        );
        assert_eq!(
            period_start(t, Period::Month, 480),
            at("2026-11-30T16:00:00Z")
        );
        assert_eq!(
            period_start(t, Period::Year, 480),
            at("2025-12-31T16:00:00Z")
        );
        // New Year's Eve 20:00 UTC is already next year in UTC+8.
        let nye = at("2026-12-31T20:00:00Z");
        assert_eq!(
            period_start(nye, Period::Year, 480),
            at("2026-12-31T16:00:00Z")
        );
        assert_eq!(
            period_start(nye, Period::Month, 480),
            at("2026-12-31T16:00:00Z")
        );
        assert_eq!(
            period_start(nye, Period::Year, 0),
            at("2026-01-01T00:00:00Z")
        );
        // A leap day, west of UTC.
        let leap = at("2028-02-29T03:00:00Z");
        assert_eq!(
            period_start(leap, Period::Month, -300),
            at("2028-02-01T05:00:00Z")
        );
        assert_eq!(
            period_start(leap, Period::Day, -300),
            at("2028-02-28T05:00:00Z")
        );
    }

    #[test]
    fn period_start_is_at_or_before_and_stable() {
        for p in Period::ALL {
            for offset in [-720, -300, 0, 480, 840] {
                let mut t = at("2026-01-01T00:00:00Z");
                while t < at("2027-03-01T00:00:00Z") {
                    let s = period_start(t, p, offset);
                    assert!(s <= t, "{p:?} {offset} {t}");
                    assert_eq!(
                        period_start(s, p, offset),
                        s,
                        "a start starts its own period"
                    );
                    assert!(t - s < 366 * DAY_MS);
                    t += 7 * HOUR_MS + 13 * 60_000;
                }
            }
        }
    }

    #[test]
    fn limits() {
        assert_eq!(check_limits(9_900, 9_900, 0, 1, Period::Month), Ok(()));
        let over = check_limits(9_901, 9_900, 0, 1, Period::Month).unwrap_err();
        assert_eq!(
            (over.code, over.param.as_deref()),
            (ErrorCode::ContractAmountExceeded, Some("amount"))
        );
        let full = check_limits(1, 9_900, 1, 1, Period::Month).unwrap_err();
        assert_eq!(full.code, ErrorCode::ContractPeriodLimitExceeded);
        assert!(full.message.contains("per month"));
        assert_eq!(check_limits(1, 9_900, 2, 3, Period::Week), Ok(()));
        assert!(check_limits(u64::MAX, u64::MAX - 1, 0, 1, Period::Day).is_err());
    }

    #[test]
    fn pre_deduction_notice() {
        let signed = at("2026-12-01T00:00:00Z");
        // No notice required: charged at once.
        assert_eq!(
            charge_at(false, 3, signed, signed + 30 * DAY_MS),
            signed + 30 * DAY_MS
        );
        // The first charge within 12 hours of signing: exempt; a second one is not.
        let soon = signed + 12 * HOUR_MS - 1;
        assert_eq!(charge_at(true, 0, signed, soon), soon);
        assert_eq!(charge_at(true, 1, signed, soon), soon + DAY_MS);
        // From then on: a day after the notice.
        let later = signed + 12 * HOUR_MS;
        assert_eq!(charge_at(true, 0, signed, later), later + DAY_MS);
    }

    #[test]
    fn schedules_keep_the_notice() {
        let signed = at("2026-12-01T00:00:00Z");
        let soon = signed + HOUR_MS;
        let check = |hours, charges: &[i64], earlier, now| {
            check_schedule_notice(hours, charges, earlier, signed, now, "starts_at")
                .map_err(|r| r.param)
        };
        // The contract's first charge, within 12 hours of signing: at once; the next a day on.
        assert_eq!(check(24, &[soon, soon + DAY_MS], 0, soon), Ok(()));
        assert_eq!(
            check(23, &[soon, soon + DAY_MS], 0, soon),
            Err(Some("reminder_hours".into()))
        );
        // A second charge as soon, or a first one later than 12 hours after signing: refused.
        assert_eq!(
            check(48, &[soon, soon + HOUR_MS], 0, soon),
            Err(Some("starts_at".into()))
        );
        assert_eq!(check(48, &[soon], 1, soon), Err(Some("starts_at".into())));
        let later = signed + 12 * HOUR_MS;
        assert_eq!(check(48, &[later], 0, later), Err(Some("starts_at".into())));
        assert_eq!(check(48, &[later + DAY_MS], 3, later), Ok(()));
    }

    #[test]
    fn deductions_are_validated() {
        let d = CreateDeduction {
            out_trade_no: "PAP-0001".into(),
            amount: 100,
            description: "December".into(),
            attach: None,
            notify_url: None,
        };
        assert_eq!(validate_deduction(&d), Ok(()));
        let mut bad = d.clone();
        bad.amount = 0;
        assert_eq!(
            validate_deduction(&bad).unwrap_err().param.as_deref(),
            Some("amount")
        );
        let mut bad = d;
        bad.out_trade_no = "x".into();
        assert_eq!(
            validate_deduction(&bad).unwrap_err().param.as_deref(),
            Some("out_trade_no")
        );
    }

    #[test]
    fn an_order_counts_against_its_own_period_only_while_unpaid_and_in_it() {
        assert_eq!(others_in_period(3, true, 100, 50), 2);
        assert_eq!(
            others_in_period(3, true, 40, 50),
            3,
            "opened before the period began"
        );
        assert_eq!(
            others_in_period(3, false, 100, 50),
            3,
            "declined: not counted"
        );
        assert_eq!(others_in_period(0, true, 100, 50), 0);
    }
}
