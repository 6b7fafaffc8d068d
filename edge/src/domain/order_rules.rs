//! Validation of `POST /v1/orders`. A request either becomes a [`ValidOrder`]
//! or is refused with the parameter it got wrong; nothing is stored for a refused request.

use super::refusal::Refusal;
use super::state::Event;
use paydesk_shared::api::{CreateOrder, ErrorCode, PayMethod, TimeoutAction};
use paydesk_shared::OrderStatus;
use paydesk_shared::{Currency, Money};
use std::collections::BTreeMap;

pub const DEFAULT_EXPIRE_MS: i64 = 24 * 3600 * 1000;
pub const MIN_EXPIRE_MS: i64 = 60 * 1000;
pub const MAX_EXPIRE_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOrder {
    pub out_trade_no: String,
    pub amount: Money,
    pub item_id: Option<String>,
    pub description: String,
    pub time_expire_ms: i64,
    pub timeout_action: TimeoutAction,
    pub notify_url: Option<String>,
    pub attach: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub limit_pay: Vec<PayMethod>,
    pub payer_ref: Option<String>,
}

/// `[0-9A-Za-z_\-|*]{6,32}`.
pub fn is_out_trade_no(s: &str) -> bool {
    (6..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'))
}

/// `[0-9A-Za-z_\-|*@]{6,64}`.
pub fn is_out_refund_no(s: &str) -> bool {
    (6..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*' | b'@'))
}

/// Text a payer or merchant sees: no control characters.
pub fn is_plain_text(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// A notification URL: https, or http to loopback when `dev` is set; no credentials; ≤ 256 chars.
pub fn check_notify_url(url: &str, dev: bool) -> Result<(), &'static str> {
    if url.len() > 256 {
        return Err("notify_url must be at most 256 characters");
    }
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !(dev && matches!(host, "127.0.0.1" | "localhost" | "[::1]")) {
            return Err("notify_url must be https (http only to loopback in dev)");
        }
        r
    } else {
        return Err("notify_url must be an https URL");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err("notify_url must have a host and no credentials");
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("notify_url must be plain ASCII without spaces");
    }
    let host = super::delivery::url_host(url).unwrap_or("");
    if !dev && !super::delivery::is_public_host(host) {
        return Err("notify_url must not point at a private, loopback or link-local address");
    }
    Ok(())
}

/// Validates a create request against the merchant's fixed-price items at `now_ms` (the
/// merchant's business time).
pub fn validate(
    req: &CreateOrder,
    items: &BTreeMap<String, Money>,
    now_ms: i64,
    dev: bool,
) -> Result<ValidOrder, Refusal> {
    let err = Refusal::param;
    if !is_out_trade_no(&req.out_trade_no) {
        return Err(err(
            "out_trade_no",
            "out_trade_no must be 6-32 characters of 0-9 A-Z a-z _ - | *",
        ));
    }
    let (amount, item_id) = amount_of(req, items)?;
    let dlen = req.description.chars().count();
    if dlen == 0 || dlen > 127 || !is_plain_text(&req.description) {
        return Err(err(
            "description",
            "description must be 1-127 characters of plain text",
        ));
    }
    let time_expire_ms = deadline_of(req.time_expire.as_deref(), now_ms)?;
    if let Some(url) = &req.notify_url {
        check_notify_url(url, dev).map_err(|m| err("notify_url", m))?;
    }
    if let Some(a) = &req.attach {
        if a.chars().count() > 127 || !is_plain_text(a) {
            return Err(err(
                "attach",
                "attach must be at most 127 characters of plain text",
            ));
        }
    }
    check_tags(req.tags.as_ref())?;
    if let Some(p) = &req.payer_ref {
        if p.is_empty() || p.chars().count() > 64 || !is_plain_text(p) {
            return Err(err(
                "payer_ref",
                "payer_ref must be 1-64 characters of plain text",
            ));
        }
    }
    let limit_pay = match &req.limit_pay {
        None => PayMethod::ALL.to_vec(),
        Some(v) if v.is_empty() => {
            return Err(err("limit_pay", "limit_pay must allow at least one method"))
        }
        Some(v) => {
            let mut v = v.clone();
            v.sort();
            v.dedup();
            v
        }
    };
    Ok(ValidOrder {
        out_trade_no: req.out_trade_no.clone(),
        amount,
        item_id,
        description: req.description.clone(),
        time_expire_ms,
        timeout_action: req.timeout_action.unwrap_or_default(),
        notify_url: req.notify_url.clone(),
        attach: req.attach.clone(),
        tags: req.tags.clone(),
        limit_pay,
        payer_ref: req.payer_ref.clone(),
    })
}

/// The amount to collect: given, or the price of a fixed-price item (never both).
fn amount_of(
    req: &CreateOrder,
    items: &BTreeMap<String, Money>,
) -> Result<(Money, Option<String>), Refusal> {
    let err = Refusal::param;
    match (&req.amount, &req.item_id) {
        (Some(_), Some(_)) => Err(err("item_id", "give either amount or item_id, not both")),
        (None, None) => Err(err("amount", "amount (or item_id) is required")),
        (Some(a), None) if a.currency != Currency::Cny => Err(err(
            "amount.currency",
            "amount.currency must be CNY: fees, limits, settlements and bills are kept in fen",
        )),
        (Some(a), None) if a.total == 0 => Err(err("amount", "amount.total must be at least 1")),
        (Some(a), None) if a.total > paydesk_shared::money::MAX_MINOR => {
            Err(err("amount", "amount.total is too large"))
        }
        (Some(a), None) => Ok((*a, None)),
        (None, Some(id)) => match items.get(id) {
            Some(price) => Ok((*price, Some(id.clone()))),
            None => Err(err("item_id", "no such item for this merchant")),
        },
    }
}

/// The order's deadline: 24 h by default, otherwise 1 minute to 30 days from now.
fn deadline_of(time_expire: Option<&str>, now_ms: i64) -> Result<i64, Refusal> {
    let err = |m: &str| Refusal::param("time_expire", m);
    let Some(t) = time_expire else {
        return Ok(now_ms + DEFAULT_EXPIRE_MS);
    };
    let at = paydesk_shared::time::parse_rfc3339(t)
        .ok_or_else(|| err("time_expire must be RFC 3339"))?;
    if at < now_ms + MIN_EXPIRE_MS {
        return Err(err("time_expire must be at least 1 minute from now"));
    }
    if at > now_ms + MAX_EXPIRE_MS {
        return Err(err("time_expire must be at most 30 days from now"));
    }
    Ok(at)
}

/// Whether `k` can be a tag key: 1-32 of `[A-Za-z0-9_-]` (what `group_by` of a bill names too).
pub fn is_tag_key(k: &str) -> bool {
    (1..=32).contains(&k.len())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// At most 12 tags; keys 1-32 of `[A-Za-z0-9_-]`, values at most 64 characters of plain text.
fn check_tags(tags: Option<&BTreeMap<String, String>>) -> Result<(), Refusal> {
    let Some(tags) = tags else {
        return Ok(());
    };
    if tags.len() > 12 {
        return Err(Refusal::param("tags", "at most 12 tags"));
    }
    for (k, v) in tags {
        if !is_tag_key(k) || v.chars().count() > 64 || !is_plain_text(v) {
            return Err(Refusal::param(
                "tags",
                "tag keys are 1-32 of [A-Za-z0-9_-], values at most 64 characters",
            ));
        }
    }
    Ok(())
}

/// As in the v2 protocol, an order a payer has opened cannot be closed in its first 5 minutes
/// (a payment may be in flight); one no payer ever opened can be closed at once.
pub const CLOSE_GRACE_MS: i64 = 5 * 60_000;

/// Why an order closes. Every close goes through [`close`], whoever asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The merchant asked (JSON API or v2 `closeorder`).
    Merchant,
    /// Its deadline passed.
    Expired,
    /// An approver rejected it.
    Rejected,
    /// A deduction not yet charged whose contract ended: it is never charged.
    ContractEnded,
    /// An unpaid invoice of a subscription that was canceled, paused or ended.
    SubscriptionEnded,
    /// An unpaid part of an installment plan that defaulted.
    PlanDefaulted,
}

impl CloseReason {
    /// What the `order.closed` event says about why; the merchant's own close says nothing.
    pub fn label(self) -> Option<&'static str> {
        match self {
            CloseReason::Merchant => None,
            CloseReason::Expired => Some("expired"),
            CloseReason::Rejected => Some("rejected"),
            CloseReason::ContractEnded => Some("contract_terminated"),
            CloseReason::SubscriptionEnded => Some("subscription_ended"),
            CloseReason::PlanDefaulted => Some("plan_defaulted"),
        }
    }
}

/// The event that closes an order in `status`, or why it may not close yet. The state machine
/// still has the last word on whether the status allows it.
pub fn close(
    why: CloseReason,
    status: OrderStatus,
    opened: bool,
    created_at_ms: i64,
    now_ms: i64,
) -> Result<Event, Refusal> {
    match why {
        CloseReason::Rejected => Ok(Event::Reject),
        CloseReason::Expired
        | CloseReason::ContractEnded
        | CloseReason::SubscriptionEnded
        | CloseReason::PlanDefaulted => Ok(Event::Close),
        CloseReason::Merchant => {
            let unpaid = matches!(status, OrderStatus::NotPay | OrderStatus::PayError);
            if unpaid && opened && now_ms - created_at_ms < CLOSE_GRACE_MS {
                return Err(Refusal::new(
                    ErrorCode::OrderTooNew,
                    "an order a payer has opened can be closed 5 minutes after creation",
                ));
            }
            Ok(Event::Close)
        }
    }
}

/// What falls due for an order at `now_ms`, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// A `remind` order's deadline passed for the first time: tell the merchant, extend once.
    Remind,
    /// The deadline passed: close it.
    Expire,
    /// A payment the channel left pending is due to be asked about again.
    QueryPending,
    /// A contract's deduction reached its charge time.
    Charge,
}

/// The order's facts that decide what falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub status: OrderStatus,
    pub time_expire_ms: i64,
    pub timeout_action: TimeoutAction,
    pub reminded: bool,
    pub pending_until_ms: Option<i64>,
    /// A deduction's charge time (set for orders a contract pays).
    pub charge_at_ms: Option<i64>,
}

/// Until when the payer can pay an open order, which is what the pay page counts down to: the
/// deadline, or for a `remind` order not yet reminded, the deadline plus the merchant's grace
/// (at the deadline the merchant is reminded and the order stays open that long).
pub fn payable_until(d: &Deadlines, remind_grace_seconds: u32) -> i64 {
    if d.timeout_action == TimeoutAction::Remind && !d.reminded {
        return d.time_expire_ms + i64::from(remind_grace_seconds) * 1000;
    }
    d.time_expire_ms
}

/// When the order's pay link stops opening, in real unix seconds: a day after the payer can no
/// longer pay (`payable_until`, the same before and after the reminder, so the link does not
/// change with it and the first one sent lasts through a grace of any length). The deadline is
/// business time; the token is checked against real time, hence the clock's offset.
pub fn link_expires_at(d: &Deadlines, remind_grace_seconds: u32, clock_offset_ms: i64) -> i64 {
    (payable_until(d, remind_grace_seconds) - clock_offset_ms) / 1000 + 86_400
}

pub fn due(d: &Deadlines, now_ms: i64) -> Option<Due> {
    // A deduction is charged before its deadline, which always lies after its charge time.
    if d.status == OrderStatus::NotPay && d.charge_at_ms.is_some_and(|t| t <= now_ms) {
        return Some(Due::Charge);
    }
    let open = matches!(
        d.status,
        OrderStatus::NotPay | OrderStatus::PayError | OrderStatus::PendingApproval
    );
    if open && d.time_expire_ms <= now_ms {
        if d.timeout_action == TimeoutAction::Remind && !d.reminded {
            return Some(Due::Remind);
        }
        return Some(Due::Expire);
    }
    let pending_due = d.pending_until_ms.is_some_and(|t| t <= now_ms);
    (d.status == OrderStatus::UserPaying && pending_due).then_some(Due::QueryPending)
}

/// The same `out_trade_no` with a different request.
pub fn reused_number() -> Refusal {
    Refusal::new(
        ErrorCode::OutTradeNoUsed,
        "this out_trade_no was used for a different order",
    )
    .at("out_trade_no")
}

/// What makes two creates "the same request": the parsed body in canonical form (field order
/// and whitespace do not matter; tags are sorted).
pub fn fingerprint(req: &CreateOrder) -> String {
    let canonical = serde_json::to_vec(req).expect("request types serialise");
    paydesk_shared::sign::hex_lower(&paydesk_shared::sign::sha256(&canonical))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Mutation = Box<dyn Fn(&mut CreateOrder)>;

    const NOW: i64 = 1_795_778_560_000;

    fn req() -> CreateOrder {
        crate::json_text::from_text(
            r#"{"out_trade_no":"ORDER_0001","amount":{"total":1234,"currency":"CNY"},"description":"Tea"}"#,
        )
        .unwrap()
    }

    fn items() -> BTreeMap<String, Money> {
        BTreeMap::from([("tea-250g".to_owned(), Money::cny(8800))])
    }

    #[test]
    fn defaults() {
        let v = validate(&req(), &items(), NOW, false).unwrap();
        assert_eq!(v.amount, Money::cny(1234));
        assert_eq!(v.time_expire_ms, NOW + DEFAULT_EXPIRE_MS);
        assert_eq!(v.timeout_action, TimeoutAction::Close);
        assert_eq!(v.limit_pay, PayMethod::ALL.to_vec());
    }

    #[test]
    fn fixed_price_items() {
        let mut r = req();
        r.amount = None;
        r.item_id = Some("tea-250g".into());
        let v = validate(&r, &items(), NOW, false).unwrap();
        assert_eq!(v.amount, Money::cny(8800));
        assert_eq!(v.item_id.as_deref(), Some("tea-250g"));
        r.item_id = Some("nope".into());
        assert_eq!(
            validate(&r, &items(), NOW, false)
                .unwrap_err()
                .param
                .as_deref(),
            Some("item_id")
        );
        r.amount = Some(Money::cny(1));
        r.item_id = Some("tea-250g".into());
        assert_eq!(
            validate(&r, &items(), NOW, false)
                .unwrap_err()
                .param
                .as_deref(),
            Some("item_id")
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|r| r.out_trade_no = "short".into()),
                "out_trade_no",
            ),
            (
                Box::new(|r| r.out_trade_no = "x".repeat(33)),
                "out_trade_no",
            ),
            (
                Box::new(|r| r.out_trade_no = "订单号订单号".into()),
                "out_trade_no",
            ),
            (
                Box::new(|r| r.out_trade_no = "ORDER 0001".into()),
                "out_trade_no",
            ),
            (Box::new(|r| r.amount = Some(Money::cny(0))), "amount"),
            (Box::new(|r| r.amount = None), "amount"),
            (
                Box::new(|r| {
                    r.amount = Some(Money {
                        total: u64::MAX,
                        currency: Currency::Cny,
                    })
                }),
                "amount",
            ),
            (
                Box::new(|r| {
                    r.amount = Some(Money {
                        total: 100,
                        currency: Currency::Usd,
                    })
                }),
                "amount.currency",
            ),
            (Box::new(|r| r.description = String::new()), "description"),
            (Box::new(|r| r.description = "x".repeat(128)), "description"),
            (
                Box::new(|r| r.description = "a\u{0}b".into()),
                "description",
            ),
            (
                Box::new(|r| r.time_expire = Some("tomorrow".into())),
                "time_expire",
            ),
            (
                Box::new(|r| r.time_expire = Some("2026-11-27T11:23:00Z".into())),
                "time_expire",
            ),
            (
                Box::new(|r| r.time_expire = Some("2027-01-01T00:00:00Z".into())),
                "time_expire",
            ),
            (
                Box::new(|r| r.notify_url = Some("http://example.com/n".into())),
                "notify_url",
            ),
            (
                Box::new(|r| r.notify_url = Some("https://u:p@example.com/n".into())),
                "notify_url",
            ),
            (Box::new(|r| r.attach = Some("x".repeat(128))), "attach"),
            (
                Box::new(|r| {
                    r.tags = Some((0..13).map(|i| (format!("k{i}"), "v".into())).collect())
                }),
                "tags",
            ),
            (
                Box::new(|r| r.tags = Some(BTreeMap::from([("bad key".into(), "v".into())]))),
                "tags",
            ),
            (Box::new(|r| r.limit_pay = Some(vec![])), "limit_pay"),
            (Box::new(|r| r.payer_ref = Some("a\nb".into())), "payer_ref"),
            (
                Box::new(|r| r.payer_ref = Some("x".repeat(65))),
                "payer_ref",
            ),
        ];
        for (i, (mutate, param)) in cases.into_iter().enumerate() {
            let mut r = req();
            mutate(&mut r);
            let e = validate(&r, &items(), NOW, false).unwrap_err();
            assert_eq!(e.param.as_deref(), Some(param), "case {i}");
        }
    }

    #[test]
    fn deadlines_within_bounds_are_taken() {
        let mut r = req();
        r.time_expire = Some("2026-11-27T11:23:40Z".into()); // exactly one minute
        assert_eq!(
            validate(&r, &items(), NOW, false).unwrap().time_expire_ms,
            NOW + 60_000
        );
        r.time_expire = Some("2026-12-27T19:22:40+08:00".into()); // exactly 30 days
        assert_eq!(
            validate(&r, &items(), NOW, false).unwrap().time_expire_ms,
            NOW + MAX_EXPIRE_MS
        );
    }

    #[test]
    fn notify_urls() {
        assert!(check_notify_url("https://shop.example.com/paydesk/notify", false).is_ok());
        assert!(check_notify_url("http://127.0.0.1:9000/n", true).is_ok());
        assert!(check_notify_url("http://127.0.0.1:9000/n", false).is_err());
        assert!(check_notify_url("http://localhost.evil.com/n", true).is_err());
        assert!(check_notify_url("ftp://x/n", true).is_err());
        assert!(check_notify_url("https:///n", false).is_err());
        assert!(check_notify_url(&format!("https://x.com/{}", "a".repeat(250)), false).is_err());
        assert!(check_notify_url("https://169.254.169.254/latest", false).is_err());
        assert!(check_notify_url("https://10.0.0.5/n", false).is_err());
        assert!(check_notify_url("https://[::1]/n", false).is_err());
    }

    #[test]
    fn fingerprint_ignores_layout_but_not_content() {
        let a: CreateOrder = crate::json_text::from_text(
            r#"{"description":"Tea","amount":{"currency":"CNY","total":1234},"out_trade_no":"ORDER_0001"}"#,
        )
        .unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&req()));
        let mut b = req();
        b.description = "Coffee".into();
        assert_ne!(fingerprint(&b), fingerprint(&req()));
    }

    #[test]
    fn closing_too_soon_only_matters_once_a_payer_opened_the_order() {
        let by_merchant =
            |opened, at| close(CloseReason::Merchant, OrderStatus::NotPay, opened, NOW, at);
        assert_eq!(by_merchant(false, NOW), Ok(Event::Close));
        assert_eq!(
            by_merchant(true, NOW + CLOSE_GRACE_MS - 1)
                .unwrap_err()
                .code,
            ErrorCode::OrderTooNew
        );
        assert_eq!(by_merchant(true, NOW + CLOSE_GRACE_MS), Ok(Event::Close));
    }

    /// An open order whose deadline is `NOW`, closed at it.
    fn open_until_now() -> Deadlines {
        Deadlines {
            status: OrderStatus::NotPay,
            time_expire_ms: NOW,
            timeout_action: TimeoutAction::Close,
            reminded: false,
            pending_until_ms: None,
            charge_at_ms: None,
        }
    }

    #[test]
    fn a_remind_order_is_payable_through_its_grace_until_reminded() {
        let d = open_until_now();
        assert_eq!(payable_until(&d, 600), NOW);
        let remind = Deadlines {
            timeout_action: TimeoutAction::Remind,
            ..d
        };
        assert_eq!(payable_until(&remind, 600), NOW + 600_000);
        // Reminded: the deadline itself was moved by the grace.
        let reminded = Deadlines {
            reminded: true,
            ..remind
        };
        assert_eq!(payable_until(&reminded, 600), NOW);
    }

    #[test]
    fn the_pay_link_outlives_the_grace_and_stays_the_same_through_the_reminder() {
        const DAYS_3: u32 = 3 * 86_400;
        let remind = Deadlines {
            timeout_action: TimeoutAction::Remind,
            ..open_until_now()
        };
        let before = link_expires_at(&remind, DAYS_3, 0);
        assert_eq!(before, NOW / 1000 + i64::from(DAYS_3) + 86_400);
        // At the deadline the merchant is reminded and the deadline moves by the grace.
        let reminded = Deadlines {
            reminded: true,
            time_expire_ms: NOW + i64::from(DAYS_3) * 1000,
            ..remind
        };
        assert_eq!(link_expires_at(&reminded, DAYS_3, 0), before);
        // A closing order's link lasts a day past its deadline, in real time.
        let close = open_until_now();
        assert_eq!(
            link_expires_at(&close, DAYS_3, 5_000),
            (NOW - 5_000) / 1000 + 86_400
        );
    }

    #[test]
    fn what_falls_due() {
        let d = open_until_now();
        assert_eq!(due(&d, NOW - 1), None);
        assert_eq!(due(&d, NOW), Some(Due::Expire));
        let remind = Deadlines {
            timeout_action: TimeoutAction::Remind,
            ..d
        };
        assert_eq!(due(&remind, NOW), Some(Due::Remind));
        assert_eq!(
            due(
                &Deadlines {
                    reminded: true,
                    ..remind
                },
                NOW
            ),
            Some(Due::Expire)
        );
        assert_eq!(
            due(
                &Deadlines {
                    status: OrderStatus::PendingApproval,
                    ..d
                },
                NOW
            ),
            Some(Due::Expire)
        );
        assert_eq!(
            due(
                &Deadlines {
                    status: OrderStatus::Success,
                    ..d
                },
                NOW
            ),
            None
        );
        let paying = Deadlines {
            status: OrderStatus::UserPaying,
            pending_until_ms: Some(NOW),
            ..d
        };
        assert_eq!(due(&paying, NOW - 1), None);
        assert_eq!(due(&paying, NOW), Some(Due::QueryPending));
        // A deduction is charged at its time, and before its deadline if both have passed;
        // once charged (or awaiting approval) its charge time says nothing.
        let deduction = Deadlines {
            time_expire_ms: NOW + 10,
            charge_at_ms: Some(NOW),
            ..d
        };
        assert_eq!(due(&deduction, NOW - 1), None);
        assert_eq!(due(&deduction, NOW), Some(Due::Charge));
        assert_eq!(due(&deduction, NOW + 10), Some(Due::Charge));
        for status in [
            OrderStatus::PendingApproval,
            OrderStatus::Success,
            OrderStatus::Closed,
        ] {
            assert_ne!(
                due(
                    &Deadlines {
                        status,
                        ..deduction
                    },
                    NOW
                ),
                Some(Due::Charge)
            );
        }
    }

    #[test]
    fn every_close_has_one_rule() {
        // The deadline and a rejection do not wait for the grace period.
        assert_eq!(
            close(CloseReason::Expired, OrderStatus::NotPay, true, NOW, NOW),
            Ok(Event::Close)
        );
        assert_eq!(
            close(
                CloseReason::Rejected,
                OrderStatus::PendingApproval,
                false,
                NOW,
                NOW
            ),
            Ok(Event::Reject)
        );
        // A paid order is the state machine's to refuse, with its own code.
        assert_eq!(
            close(CloseReason::Merchant, OrderStatus::Success, true, NOW, NOW),
            Ok(Event::Close)
        );
        assert_eq!(CloseReason::Merchant.label(), None);
        assert_eq!(CloseReason::Expired.label(), Some("expired"));
        assert_eq!(reused_number().param.as_deref(), Some("out_trade_no"));
    }

    #[test]
    fn refund_numbers() {
        assert!(is_out_refund_no("R-0001@shop"));
        assert!(!is_out_refund_no("R1"));
        assert!(!is_out_refund_no("退款-000001"));
    }
}
