//! A subscription's rules: what a request may ask for, and what happens next and when. The
//! ledger (`edge/src/merchant/subscriptions.rs`) gathers a subscription's facts, asks
//! [`next_step`] for the earliest thing due, does it at that time, and asks again; so the
//! alarm, a read and a test clock that jumps a year all walk the same steps in the same order.
//!
//! The schedule (all on the merchant's calendar, `schedule_rules::boundary`):
//! - period `n` runs from boundary `n` to boundary `n + 1`, counted from the billing anchor (the
//!   start, or the trial's end);
//! - with a contract, period `n`'s invoice is created and deducted at boundary `n`, and it also
//!   bills the usage reported since the invoice before; the payer is reminded `reminder_hours`
//!   before;
//! - without one, period `n`'s invoice is created `reminder_hours` before boundary `n` and its
//!   `checkout_url` is in the reminder; unpaid at the boundary, it is a failed charge;
//! - a failed charge is retried (or, without a contract, the payer reminded again) by the
//!   merchant's dunning days, counted from the first failure; the subscription is `past_due`
//!   meanwhile; when a retry succeeds, the next period is collected next, so no period is
//!   skipped or charged twice, even when the retries ran past later boundaries.

use super::refusal::Refusal;
use super::schedule_rules::{self as schedule, Dunning, SubscriptionStatus};
use paydesk_shared::api::ErrorCode;
use paydesk_shared::contract::Period;
use paydesk_shared::subscription::CreateSubscription;
use paydesk_shared::OrderStatus;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
pub const MAX_REMINDER_HOURS: u32 = 720;
pub const MAX_TRIAL_DAYS: u32 = 730;

/// `subscription_id`: the merchant's id, `[0-9A-Za-z_\-|*]{1,32}`.
pub fn is_subscription_id(s: &str) -> bool {
    super::contract_rules::is_contract_code(s)
}

/// Every field of `POST /v1/subscriptions`, naming the first that is wrong.
pub fn validate(req: &CreateSubscription) -> Result<(), Refusal> {
    if !is_subscription_id(&req.subscription_id) {
        return Err(Refusal::param(
            "subscription_id",
            "subscription_id must be 1-32 characters of 0-9 A-Z a-z _ - | *",
        ));
    }
    let description = req.description.trim();
    let plain = super::order_rules::is_plain_text;
    if description.is_empty() || req.description.chars().count() > 127 || !plain(&req.description) {
        return Err(Refusal::param(
            "description",
            "description must be 1-127 characters",
        ));
    }
    let p = &req.price;
    if p.amount == 0 || p.amount > 100_000_000 {
        return Err(Refusal::param(
            "price.amount",
            "price.amount must be 1 to 100000000 minor units",
        ));
    }
    let most = match p.interval {
        Period::Day => 365,
        Period::Week => 52,
        Period::Month => 12,
        Period::Year => 3,
    };
    if !(1..=most).contains(&p.interval_count) {
        return Err(Refusal::param(
            "price.interval_count",
            format!(
                "price.interval_count must be 1 to {most} for a {} interval",
                p.interval.as_str()
            ),
        ));
    }
    if req.trial_days.is_some_and(|d| d == 0 || d > MAX_TRIAL_DAYS) {
        return Err(Refusal::param("trial_days", "trial_days must be 1 to 730"));
    }
    if req.reminder_hours.is_some_and(|h| h > MAX_REMINDER_HOURS) {
        return Err(Refusal::param(
            "reminder_hours",
            "reminder_hours must be 0 to 720",
        ));
    }
    if let Some(u) = &req.usage {
        if req.contract_code.is_none() {
            return Err(Refusal::param(
                "usage",
                "usage is billed by deduction when a period closes: it needs a contract_code",
            ));
        }
        let unit_ok = !u.unit.trim().is_empty()
            && u.unit.chars().count() <= 32
            && super::order_rules::is_plain_text(&u.unit);
        if !unit_ok {
            return Err(Refusal::param(
                "usage.unit",
                "usage.unit must be 1-32 characters, no control characters",
            ));
        }
        if u.unit_amount == 0 || u.unit_amount > 1_000_000 {
            return Err(Refusal::param(
                "usage.unit_amount",
                "usage.unit_amount must be 1 to 1000000 minor units",
            ));
        }
    }
    check_payer_ref(req.payer_ref.as_deref())?;
    if req.starts_at.is_some() {
        return Err(Refusal::param(
            "starts_at",
            "a subscription starts when it is created; use trial_days to start charging later",
        ));
    }
    Ok(())
}

/// `payer_ref`: 1-64 characters of plain text, as on an order.
pub fn check_payer_ref(payer_ref: Option<&str>) -> Result<(), Refusal> {
    match payer_ref {
        Some(p)
            if p.is_empty() || p.chars().count() > 64 || !super::order_rules::is_plain_text(p) =>
        {
            Err(Refusal::param(
                "payer_ref",
                "payer_ref must be 1-64 characters of plain text",
            ))
        }
        _ => Ok(()),
    }
}

/// Usage of one report: at most a million units, its key 1-64 characters.
pub fn validate_usage(quantity: u64, key: &str) -> Result<(), Refusal> {
    if quantity == 0 || quantity > 1_000_000 {
        return Err(Refusal::param("quantity", "quantity must be 1 to 1000000"));
    }
    if key.is_empty() || key.len() > 64 || key.chars().any(|c| c.is_control()) {
        return Err(Refusal::param(
            "idempotency_key",
            "idempotency_key must be 1-64 printable characters",
        ));
    }
    Ok(())
}

/// What the ledger knows of a subscription when it asks what is next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub status: SubscriptionStatus,
    pub created_at_ms: i64,
    pub anchor_ms: i64,
    pub interval: Period,
    pub interval_count: u32,
    pub utc_offset_minutes: i32,
    pub reminder_hours: u32,
    pub trial_end_ms: Option<i64>,
    pub trial_notice_sent: bool,
    pub has_contract: bool,
    pub cancel_at_period_end: bool,
    /// The period being collected next.
    pub next_period: u32,
    /// Whether that period's reminder went out.
    pub reminded: bool,
    /// Under a contract whose plan announces each charge a day ahead, the earliest that
    /// period's charge may be made: a day after its reminder actually went out, when that was
    /// late (a resume close to the period's start, an alarm that ran behind).
    pub charge_not_before_ms: Option<i64>,
    /// The status of that period's invoice, once it exists.
    pub invoice: Option<OrderStatus>,
    pub incomplete_until_ms: Option<i64>,
    pub first_failed_ms: Option<i64>,
    pub failures: u32,
}

impl Facts {
    pub fn boundary(&self, n: u32) -> i64 {
        schedule::boundary(
            self.anchor_ms,
            self.interval,
            self.interval_count,
            n,
            self.utc_offset_minutes,
        )
    }

    /// When period `n`'s reminder goes out: `reminder_hours` before it is charged, but not
    /// before the period before it started (nor before the subscription was created).
    pub fn reminder_at(&self, n: u32) -> i64 {
        let floor = match n {
            0 => self.created_at_ms,
            _ => self.boundary(n - 1),
        };
        (self.boundary(n) - i64::from(self.reminder_hours) * HOUR_MS).max(floor)
    }
}

/// What is due next for a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `trial_will_end`, three days before the trial ends.
    TrialNotice,
    /// The renewal reminder of the next period (without a contract, its invoice is created
    /// now, so the reminder can carry its link).
    Remind,
    /// With a contract: create the next period's invoice and deduct it.
    Charge,
    /// Without a contract: the next period's invoice is still unpaid at its boundary.
    Unpaid,
    /// A retry of a past-due invoice (without a contract: the next reminder).
    Retry,
    /// The next period's invoice was closed by the merchant: that period is not collected.
    Skip,
    /// With a contract that ended: nothing can be deducted any more.
    ContractEnded,
    /// The 23 hours to pay the first invoice ran out.
    ExpireIncomplete,
    /// Canceled at the end of the period.
    EndAtPeriodEnd,
}

/// The earliest step due and when, or `None` when nothing will happen by itself (the
/// subscription ended, is paused, or waits for a payment in flight).
pub fn next_step(f: &Facts, dunning: &Dunning) -> Option<(i64, Step)> {
    use SubscriptionStatus as S;
    match f.status {
        // A first invoice held for approval is deducted once it is approved.
        S::Incomplete if f.has_contract && f.invoice == Some(OrderStatus::NotPay) => {
            Some((f.created_at_ms, Step::Charge))
        }
        S::Incomplete => f.incomplete_until_ms.map(|t| (t, Step::ExpireIncomplete)),
        S::PastDue => match f.invoice {
            Some(OrderStatus::Closed) if f.has_contract => {
                Some((f.created_at_ms, Step::ContractEnded))
            }
            Some(OrderStatus::Closed) => Some((f.created_at_ms, Step::Skip)),
            _ => f
                .first_failed_ms
                .and_then(|first| dunning.next_retry(first, f.failures as usize))
                .map(|t| (t, Step::Retry)),
        },
        S::Active | S::Trialing => {
            let notice = (f.status == S::Trialing && !f.trial_notice_sent)
                .then_some(f.trial_end_ms)
                .flatten()
                .map(|end| {
                    (
                        (end - schedule::TRIAL_NOTICE_MS).max(f.created_at_ms),
                        Step::TrialNotice,
                    )
                });
            let period = period_step(f);
            match (notice, period) {
                (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
                (a, b) => a.or(b),
            }
        }
        S::IncompleteExpired | S::Canceled | S::Unpaid | S::Paused => None,
    }
}

fn period_step(f: &Facts) -> Option<(i64, Step)> {
    let n = f.next_period;
    let at = f.boundary(n);
    if f.cancel_at_period_end {
        return Some((at, Step::EndAtPeriodEnd));
    }
    match (f.has_contract, f.invoice) {
        (_, Some(OrderStatus::Closed)) if f.has_contract => Some((at, Step::ContractEnded)),
        (_, Some(OrderStatus::Closed)) => Some((at, Step::Skip)),
        (true, None) if !f.reminded => Some((f.reminder_at(n), Step::Remind)),
        (true, None | Some(OrderStatus::NotPay)) => {
            Some((at.max(f.charge_not_before_ms.unwrap_or(at)), Step::Charge))
        }
        (false, None) => Some((f.reminder_at(n), Step::Remind)),
        (false, Some(OrderStatus::NotPay | OrderStatus::PayError)) => Some((at, Step::Unpaid)),
        // Paid (the ledger moves on as it records the payment), or a payment in flight.
        _ => None,
    }
}

/// When period `n`'s charge may be made if its reminder goes out at `now_ms` under a plan that
/// announces each charge a day ahead (`notice`): not before the period starts, nor sooner than a
/// day after the reminder. `None` when nothing holds it past the period's start.
pub fn charge_not_before(f: &Facts, n: u32, notice: bool, now_ms: i64) -> Option<i64> {
    let earliest = now_ms + super::contract_rules::NOTICE_LEAD_MS;
    (notice && earliest > f.boundary(n)).then_some(earliest)
}

/// When a subscription created at `now_ms` ends its trial, if it has one: its first charge.
pub fn trial_end(req: &CreateSubscription, now_ms: i64) -> Option<i64> {
    req.trial_days.map(|d| now_ms + i64::from(d) * DAY_MS)
}

/// When the first invoice's 23 hours to be paid run out.
pub fn first_invoice_window(created_at_ms: i64) -> i64 {
    created_at_ms + schedule::INCOMPLETE_WINDOW_MS
}

/// How long an invoice order stays payable: past the last retry of the dunning, so the
/// ledger (not the order's deadline) decides when it stops.
pub fn invoice_expires_at(boundary_ms: i64, dunning: &Dunning) -> i64 {
    let last = dunning.retry_days.last().copied().unwrap_or(0);
    boundary_ms + (i64::from(last) + 2) * DAY_MS
}

/// No subscription by that id.
pub fn refusal_not_found(id: &str) -> Refusal {
    Refusal::new(
        ErrorCode::SubscriptionNotExist,
        format!("no subscription {id}"),
    )
    .at("subscription_id")
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_shared::subscription::Price;
    use paydesk_shared::time::parse_rfc3339;
    use SubscriptionStatus as S;

    fn at(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }

    fn facts() -> Facts {
        let t = at("2027-01-31T02:00:00Z");
        Facts {
            status: S::Active,
            created_at_ms: t,
            anchor_ms: t,
            interval: Period::Month,
            interval_count: 1,
            utc_offset_minutes: 480,
            reminder_hours: 48,
            trial_end_ms: None,
            trial_notice_sent: false,
            has_contract: true,
            cancel_at_period_end: false,
            next_period: 1,
            reminded: false,
            charge_not_before_ms: None,
            invoice: None,
            incomplete_until_ms: None,
            first_failed_ms: None,
            failures: 0,
        }
    }

    fn request() -> CreateSubscription {
        CreateSubscription {
            subscription_id: "sub-1".into(),
            description: "Pro plan".into(),
            price: Price {
                amount: 9900,
                interval: Period::Month,
                interval_count: 1,
            },
            contract_code: Some("C1".into()),
            trial_days: None,
            usage: None,
            reminder_hours: None,
            starts_at: None,
            notify_url: None,
            payer_ref: None,
            contact: None,
        }
    }

    #[test]
    fn a_contract_period_is_reminded_then_charged_at_its_boundary() {
        let d = Dunning::default();
        let mut f = facts();
        // 48 hours before the end of February.
        assert_eq!(
            next_step(&f, &d),
            Some((at("2027-02-26T02:00:00Z"), Step::Remind))
        );
        f.reminded = true;
        assert_eq!(
            next_step(&f, &d),
            Some((at("2027-02-28T02:00:00Z"), Step::Charge))
        );
        f.invoice = Some(OrderStatus::UserPaying);
        assert_eq!(next_step(&f, &d), None, "waits for the payment in flight");
        f.invoice = Some(OrderStatus::Closed);
        assert_eq!(next_step(&f, &d).map(|s| s.1), Some(Step::ContractEnded));
    }

    #[test]
    fn a_charge_announced_late_under_a_notice_waits_a_day_after_its_reminder() {
        let d = Dunning::default();
        let f = facts();
        let start = at("2027-02-28T02:00:00Z");
        // Announced on time (48 hours ahead), or without a notice plan: at the period's start.
        assert_eq!(charge_not_before(&f, 1, true, start - 48 * HOUR_MS), None);
        assert_eq!(charge_not_before(&f, 1, false, start - HOUR_MS), None);
        // Announced two hours before (resumed then): a day after the reminder.
        let late = charge_not_before(&f, 1, true, start - 2 * HOUR_MS);
        assert_eq!(late, Some(start + 22 * HOUR_MS));
        let f = Facts {
            reminded: true,
            charge_not_before_ms: late,
            ..f
        };
        assert_eq!(
            next_step(&f, &d),
            Some((start + 22 * HOUR_MS, Step::Charge))
        );
    }

    #[test]
    fn without_a_contract_the_invoice_comes_with_the_reminder() {
        let d = Dunning::default();
        let mut f = Facts {
            has_contract: false,
            ..facts()
        };
        assert_eq!(
            next_step(&f, &d),
            Some((at("2027-02-26T02:00:00Z"), Step::Remind))
        );
        f.invoice = Some(OrderStatus::NotPay);
        assert_eq!(
            next_step(&f, &d),
            Some((at("2027-02-28T02:00:00Z"), Step::Unpaid))
        );
        f.invoice = Some(OrderStatus::Success);
        assert_eq!(next_step(&f, &d), None);
        f.invoice = Some(OrderStatus::Closed);
        assert_eq!(next_step(&f, &d).map(|s| s.1), Some(Step::Skip));
    }

    #[test]
    fn reminders_never_come_before_the_period_before_started() {
        let f = Facts {
            interval: Period::Day,
            ..facts()
        };
        // Daily with 48 hours' notice: reminded when the period before starts.
        assert_eq!(f.reminder_at(1), f.boundary(0));
        assert_eq!(f.reminder_at(2), f.boundary(1));
        let f = Facts {
            reminder_hours: 0,
            ..f
        };
        assert_eq!(f.reminder_at(2), f.boundary(2));
    }

    #[test]
    fn a_trial_notice_comes_three_days_before_its_end() {
        let d = Dunning::default();
        let created = at("2027-03-01T00:00:00Z");
        let end = created + 14 * DAY_MS;
        let f = Facts {
            status: S::Trialing,
            created_at_ms: created,
            anchor_ms: end,
            trial_end_ms: Some(end),
            next_period: 0,
            ..facts()
        };
        assert_eq!(
            next_step(&f, &d),
            Some((end - 3 * DAY_MS, Step::TrialNotice))
        );
        let f = Facts {
            trial_notice_sent: true,
            ..f
        };
        assert_eq!(next_step(&f, &d), Some((end - 2 * DAY_MS, Step::Remind)));
        // A two-day trial is announced at once.
        let short = Facts {
            trial_end_ms: Some(created + 2 * DAY_MS),
            anchor_ms: created + 2 * DAY_MS,
            trial_notice_sent: false,
            ..f
        };
        assert_eq!(next_step(&short, &d), Some((created, Step::TrialNotice)));
    }

    #[test]
    fn past_due_retries_on_the_dunning_days() {
        let d = Dunning::default();
        let failed = at("2027-02-28T02:00:00Z");
        let mut f = Facts {
            status: S::PastDue,
            invoice: Some(OrderStatus::PayError),
            first_failed_ms: Some(failed),
            failures: 1,
            ..facts()
        };
        assert_eq!(next_step(&f, &d), Some((failed + DAY_MS, Step::Retry)));
        f.failures = 3;
        assert_eq!(next_step(&f, &d), Some((failed + 5 * DAY_MS, Step::Retry)));
        f.failures = 4;
        assert_eq!(
            next_step(&f, &d),
            None,
            "the ledger ends it as the last retry fails"
        );
    }

    #[test]
    fn the_end_of_the_period_and_the_incomplete_window() {
        let d = Dunning::default();
        let f = Facts {
            cancel_at_period_end: true,
            ..facts()
        };
        assert_eq!(
            next_step(&f, &d),
            Some((f.boundary(1), Step::EndAtPeriodEnd))
        );
        let f = Facts {
            status: S::Incomplete,
            incomplete_until_ms: Some(42),
            next_period: 0,
            ..facts()
        };
        assert_eq!(next_step(&f, &d), Some((42, Step::ExpireIncomplete)));
        let approved = Facts {
            invoice: Some(OrderStatus::NotPay),
            ..f.clone()
        };
        assert_eq!(
            next_step(&approved, &d),
            Some((f.created_at_ms, Step::Charge))
        );
        let held = Facts {
            invoice: Some(OrderStatus::PendingApproval),
            ..f
        };
        assert_eq!(next_step(&held, &d), Some((42, Step::ExpireIncomplete)));
        for s in [S::Paused, S::Canceled, S::Unpaid, S::IncompleteExpired] {
            assert_eq!(
                next_step(
                    &Facts {
                        status: s,
                        ..facts()
                    },
                    &d
                ),
                None
            );
        }
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        assert_eq!(validate(&request()), Ok(()));
        type Mutation = Box<dyn Fn(&mut CreateSubscription)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|r| r.subscription_id = "has space".into()),
                "subscription_id",
            ),
            (Box::new(|r| r.description = " ".into()), "description"),
            (Box::new(|r| r.price.amount = 0), "price.amount"),
            (
                Box::new(|r| r.price.interval_count = 13),
                "price.interval_count",
            ),
            (
                Box::new(|r| r.price.interval_count = 0),
                "price.interval_count",
            ),
            (Box::new(|r| r.trial_days = Some(0)), "trial_days"),
            (Box::new(|r| r.reminder_hours = Some(721)), "reminder_hours"),
            (
                Box::new(|r| r.starts_at = Some("2030-01-01T00:00:00Z".into())),
                "starts_at",
            ),
            (
                Box::new(|r| {
                    r.contract_code = None;
                    r.usage = Some(paydesk_shared::subscription::UsagePrice {
                        unit: "call".into(),
                        unit_amount: 1,
                    });
                }),
                "usage",
            ),
            (
                Box::new(|r| {
                    r.usage = Some(paydesk_shared::subscription::UsagePrice {
                        unit: "call".into(),
                        unit_amount: 0,
                    })
                }),
                "usage.unit_amount",
            ),
        ];
        for (edit, param) in cases {
            let mut r = request();
            edit(&mut r);
            let refusal = validate(&r).unwrap_err();
            assert_eq!(refusal.param.as_deref(), Some(param));
            assert_eq!(refusal.code, ErrorCode::ParamError);
        }
        assert!(validate_usage(0, "k").is_err());
        assert!(validate_usage(1, "").is_err());
        assert_eq!(validate_usage(5, "evt-1"), Ok(()));
    }
}
