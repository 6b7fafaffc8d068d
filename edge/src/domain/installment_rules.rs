//! An installment plan's rules (定金 + 尾款, and longer schedules): what a request may ask
//! for, what happens next and when, and what a default does with what was paid. The ledger
//! (`edge/src/merchant/installments.rs`) gathers a plan's facts, asks [`next_step`], does it at
//! that time, and asks again, as subscriptions do.
//!
//! The schedule: part 0 is an order at once; each later part becomes an order
//! `reminder_hours` before it is due (the payer reminded with its link), and with a contract is
//! deducted on its due date; a part unpaid `grace_hours` after its due time defaults the plan.

use super::refusal::Refusal;
use paydesk_shared::installment::CreateInstallmentPlan;
use paydesk_shared::time::parse_rfc3339;
use paydesk_shared::OrderStatus;

const HOUR_MS: i64 = 3_600_000;
pub const DEFAULT_GRACE_HOURS: u32 = 72;
pub const DEFAULT_REMINDER_HOURS: u32 = 48;

/// One part of an installment plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub amount: u64,
    pub due_at_ms: i64,
    /// A deposit (定金) may be forfeited on default; at most 20 % of the total.
    pub deposit: bool,
}

pub const MAX_PARTS: usize = 24;

/// An installment plan's parts: 2-24, positive amounts, due times strictly increasing, at most
/// one deposit and only as the first part, a deposit at most 20 % of the total (PRC Civil Code
/// art. 586); the first part is due at once (`now_ms`).
pub fn validate_parts(parts: &[Part]) -> Result<u64, Refusal> {
    let err = |m: &str| Refusal::param("parts", m);
    if !(2..=MAX_PARTS).contains(&parts.len()) {
        return Err(err("an installment plan has 2 to 24 parts"));
    }
    if parts
        .iter()
        .any(|p| p.amount == 0 || p.amount > paydesk_shared::money::MAX_MINOR)
    {
        return Err(err("every part must be a positive amount in minor units"));
    }
    if !parts.windows(2).all(|w| w[0].due_at_ms < w[1].due_at_ms) {
        return Err(err("parts must be due in order, each after the one before"));
    }
    if parts.iter().skip(1).any(|p| p.deposit) {
        return Err(err("only the first part may be the deposit"));
    }
    let total = parts
        .iter()
        .try_fold(0u64, |t, p| t.checked_add(p.amount))
        .ok_or_else(|| err("the total is too large"))?;
    if parts[0].deposit && parts[0].amount.saturating_mul(5) > total {
        return Err(err("a deposit (定金) may not exceed 20% of the total"));
    }
    Ok(total)
}

/// On default, of `paid` (amount, is deposit) parts: what is refunded, and what is kept (only a
/// deposit, and only when the plan says it is not refundable).
pub fn on_default(paid: &[(u64, bool)], deposit_refundable: bool) -> (u64, u64) {
    paid.iter()
        .fold((0, 0), |(refund, keep), &(amount, deposit)| {
            if deposit && !deposit_refundable {
                (refund, keep + amount)
            } else {
                (refund + amount, keep)
            }
        })
}

/// Whether a default gives the deposit back: when the plan says so, or when the part that
/// lapsed was never the payer's to pay (it waited for the merchant's approval, or the merchant
/// refused it): the payer was told to wait for its link, and no link came.
pub fn deposit_returned(plan_refundable: bool, part_held: bool) -> bool {
    plan_refundable || part_held
}

/// The request checked field by field, and its parts with due times (the first due `now_ms`
/// when it omits one).
pub fn validate(req: &CreateInstallmentPlan, now_ms: i64) -> Result<Vec<Part>, Refusal> {
    if !super::contract_rules::is_contract_code(&req.plan_no) {
        return Err(Refusal::param(
            "plan_no",
            "plan_no must be 1-32 characters of 0-9 A-Z a-z _ - | *",
        ));
    }
    let d = req.description.trim();
    let plain = super::order_rules::is_plain_text(&req.description);
    if d.is_empty() || req.description.chars().count() > 127 || !plain {
        return Err(Refusal::param(
            "description",
            "description must be 1-127 characters",
        ));
    }
    if req.grace_hours.is_some_and(|g| g == 0 || g > 720) {
        return Err(Refusal::param(
            "grace_hours",
            "grace_hours must be 1 to 720",
        ));
    }
    if req.reminder_hours.is_some_and(|h| h > 720) {
        return Err(Refusal::param(
            "reminder_hours",
            "reminder_hours must be 0 to 720",
        ));
    }
    super::subscription_rules::check_payer_ref(req.payer_ref.as_deref())?;
    let mut parts = Vec::with_capacity(req.parts.len());
    for (i, p) in req.parts.iter().enumerate() {
        if p.label.as_ref().is_some_and(|l| {
            l.trim().is_empty() || l.chars().count() > 32 || !super::order_rules::is_plain_text(l)
        }) {
            return Err(Refusal::param(
                "parts",
                "a part's label is 1-32 characters, no control characters",
            ));
        }
        let due = match (&p.due_at, i) {
            (None, 0) => now_ms,
            (None, _) => {
                return Err(Refusal::param(
                    "parts",
                    "every part after the first needs due_at",
                ))
            }
            (Some(t), _) => parse_rfc3339(t)
                .ok_or_else(|| Refusal::param("parts", "due_at must be RFC 3339"))?,
        };
        if i == 0 && due > now_ms + 60_000 {
            return Err(Refusal::param("parts", "the first part is due at once"));
        }
        parts.push(Part {
            amount: p.amount,
            due_at_ms: if i == 0 { now_ms } else { due },
            deposit: p.deposit,
        });
    }
    validate_parts(&parts)?;
    if parts.len() > 1 && parts[1].due_at_ms <= now_ms {
        return Err(Refusal::param(
            "parts",
            "later parts must be due in the future",
        ));
    }
    Ok(parts)
}

/// What the ledger knows of a plan when it asks what is next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub active: bool,
    pub created_at_ms: i64,
    pub reminder_hours: u32,
    pub grace_hours: u32,
    pub has_contract: bool,
    /// Due times of every part.
    pub due: Vec<i64>,
    /// The part collected next, and its order's status once it is one.
    pub next_part: usize,
    pub order: Option<OrderStatus>,
    /// Whether the contract has tried to charge the part's order: until it has, a decline was
    /// the payer's own attempt on the part's page, and the contract still charges it when due.
    pub contract_tried: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The next part becomes an order; the payer is reminded.
    Open,
    /// With a contract: deduct the next part on its due date.
    Charge,
    /// The next part is unpaid past its grace.
    Default,
}

/// The earliest step due and when, or `None` (ended, or a payment in flight).
pub fn next_step(f: &Facts) -> Option<(i64, Step)> {
    if !f.active {
        return None;
    }
    let due = *f.due.get(f.next_part)?;
    let lapse = due + i64::from(f.grace_hours) * HOUR_MS;
    match f.order {
        None => {
            let open = (due - i64::from(f.reminder_hours) * HOUR_MS).max(f.created_at_ms);
            Some((open, Step::Open))
        }
        Some(OrderStatus::NotPay) if f.has_contract => Some((due, Step::Charge)),
        Some(OrderStatus::PayError) if f.has_contract && !f.contract_tried => {
            Some((due, Step::Charge))
        }
        Some(
            OrderStatus::NotPay
            | OrderStatus::PayError
            | OrderStatus::Closed
            | OrderStatus::PendingApproval,
        ) => Some((lapse, Step::Default)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_shared::installment::PartRequest;

    const DAY_MS: i64 = 24 * HOUR_MS;

    fn part(amount: u64, day: i64, deposit: bool) -> Part {
        Part {
            amount,
            due_at_ms: day * DAY_MS,
            deposit,
        }
    }

    #[test]
    fn a_part_the_merchant_never_approved_gives_the_deposit_back() {
        assert!(!deposit_returned(false, false));
        assert!(deposit_returned(false, true));
        assert!(deposit_returned(true, false));
        let paid = [(2000, true), (3000, false)];
        assert_eq!(on_default(&paid, deposit_returned(false, true)), (5000, 0));
        assert_eq!(
            on_default(&paid, deposit_returned(false, false)),
            (3000, 2000)
        );
    }

    #[test]
    fn installment_parts() {
        assert_eq!(
            validate_parts(&[part(2000, 0, true), part(8000, 30, false)]),
            Ok(10_000)
        );
        // A deposit above 20 % of the total.
        assert!(validate_parts(&[part(2001, 0, true), part(7999, 30, false)]).is_err());
        // Without a deposit any split is fine.
        assert_eq!(
            validate_parts(&[part(5000, 0, false), part(5000, 30, false)]),
            Ok(10_000)
        );
        assert!(validate_parts(&[part(5000, 0, false)]).is_err());
        assert!(validate_parts(&[part(5000, 30, false), part(5000, 30, false)]).is_err());
        assert!(validate_parts(&[part(1000, 0, false), part(0, 30, false)]).is_err());
        assert!(validate_parts(&[part(1000, 0, false), part(1000, 30, true)]).is_err());
        assert!(validate_parts(&[part(u64::MAX, 0, false), part(1, 30, false)]).is_err());
        let many: Vec<Part> = (0..25).map(|i| part(100, i, false)).collect();
        assert!(validate_parts(&many).is_err());
    }

    #[test]
    fn a_default_keeps_only_a_non_refundable_deposit() {
        let paid = [(2000, true), (3000, false)];
        assert_eq!(on_default(&paid, false), (3000, 2000));
        assert_eq!(on_default(&paid, true), (5000, 0));
        assert_eq!(on_default(&[], false), (0, 0));
    }

    fn request(parts: Vec<PartRequest>) -> CreateInstallmentPlan {
        CreateInstallmentPlan {
            plan_no: "IP-1".into(),
            description: "Piano, deposit and balance".into(),
            parts,
            contract_code: None,
            grace_hours: None,
            deposit_refundable: false,
            reminder_hours: None,
            notify_url: None,
            payer_ref: None,
            contact: None,
        }
    }

    fn req_part(amount: u64, due: Option<&str>, deposit: bool) -> PartRequest {
        PartRequest {
            amount,
            due_at: due.map(Into::into),
            label: None,
            deposit,
        }
    }

    #[test]
    fn requests_are_checked() {
        let now = parse_rfc3339("2027-03-01T00:00:00Z").unwrap();
        let ok = request(vec![
            req_part(2000, None, true),
            req_part(8000, Some("2027-04-01T00:00:00Z"), false),
        ]);
        let parts = validate(&ok, now).unwrap();
        assert_eq!(parts[0].due_at_ms, now);
        // A label the payer is shown: no control characters.
        let mut labelled = ok.clone();
        labelled.parts[1].label = Some("Balance\u{7}".into());
        let refused = validate(&labelled, now).unwrap_err();
        assert_eq!(refused.param.as_deref(), Some("parts"));
        let later_first = request(vec![
            req_part(2000, Some("2027-03-05T00:00:00Z"), false),
            req_part(8000, Some("2027-04-01T00:00:00Z"), false),
        ]);
        assert_eq!(
            validate(&later_first, now).unwrap_err().param.as_deref(),
            Some("parts")
        );
        let past = request(vec![
            req_part(2000, None, false),
            req_part(8000, Some("2027-02-01T00:00:00Z"), false),
        ]);
        assert!(validate(&past, now).is_err());
        let no_due = request(vec![
            req_part(2000, None, false),
            req_part(8000, None, false),
        ]);
        assert!(validate(&no_due, now).is_err());
        let big_deposit = request(vec![
            req_part(3000, None, true),
            req_part(7000, Some("2027-04-01T00:00:00Z"), false),
        ]);
        assert!(validate(&big_deposit, now)
            .unwrap_err()
            .message
            .contains("20%"));
        let mut bad_no = ok.clone();
        bad_no.plan_no = "no spaces".into();
        assert_eq!(
            validate(&bad_no, now).unwrap_err().param.as_deref(),
            Some("plan_no")
        );
        let mut grace = ok;
        grace.grace_hours = Some(0);
        assert_eq!(
            validate(&grace, now).unwrap_err().param.as_deref(),
            Some("grace_hours")
        );
    }

    fn facts() -> Facts {
        Facts {
            active: true,
            created_at_ms: 0,
            reminder_hours: 48,
            grace_hours: 72,
            has_contract: false,
            due: vec![0, 30 * DAY_MS, 60 * DAY_MS],
            next_part: 1,
            order: None,
            contract_tried: false,
        }
    }

    #[test]
    fn parts_open_before_they_are_due_and_default_after_the_grace() {
        let f = facts();
        assert_eq!(next_step(&f), Some((28 * DAY_MS, Step::Open)));
        let f = Facts {
            order: Some(OrderStatus::NotPay),
            ..f
        };
        assert_eq!(next_step(&f), Some((33 * DAY_MS, Step::Default)));
        let c = Facts {
            has_contract: true,
            ..f.clone()
        };
        assert_eq!(next_step(&c), Some((30 * DAY_MS, Step::Charge)));
        // Declined on the payer's own attempt on the part's page: the contract still charges
        // it on its due date. Declined by the contract: the payer has the grace to pay it.
        let declined_by_payer = Facts {
            order: Some(OrderStatus::PayError),
            ..c.clone()
        };
        assert_eq!(
            next_step(&declined_by_payer),
            Some((30 * DAY_MS, Step::Charge))
        );
        let declined = Facts {
            order: Some(OrderStatus::PayError),
            contract_tried: true,
            ..c
        };
        assert_eq!(next_step(&declined), Some((33 * DAY_MS, Step::Default)));
        assert_eq!(
            next_step(&Facts {
                order: Some(OrderStatus::UserPaying),
                ..f.clone()
            }),
            None
        );
        assert_eq!(
            next_step(&Facts {
                active: false,
                ..f.clone()
            }),
            None
        );
        assert_eq!(next_step(&Facts { next_part: 3, ..f }), None);
    }
}
