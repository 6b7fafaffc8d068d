//! What a message says, in Simplified Chinese and English: payer reminders and confirmations,
//! drawn from the event that prompts them (so they say only what the ledger recorded: a link only
//! when there is one to pay through, "deducted automatically" only under a contract), and staff
//! alerts raised and resolved. Pure.

use super::message_rules::Locale;
use paydesk_shared::time::{format_rfc3339, parse_rfc3339};
use paydesk_shared::Money;
use serde_json::Value;

/// A message as sent: a title (the email's subject; not sent by SMS) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub title: String,
    pub text: String,
}

/// What the payer is told, by the event that prompts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayerTemplate {
    /// `order.reminder`: the order is still unpaid; its link.
    OrderUnpaid,
    /// `subscription.renewal_upcoming`: the next charge, and how it is collected.
    RenewalUpcoming,
    /// `subscription.payment_failed`: the second reminder, with what to do.
    RenewalFailed,
    /// `installment.due_upcoming`.
    InstalmentUpcoming,
    /// `installment.payment_failed`: the second reminder, with the part's link.
    InstalmentFailed,
    /// `contract.deduction_notice`: a one-off deduction, announced before it is charged (on a
    /// plan that announces each charge), with the contract's page.
    DeductionUpcoming,
    /// `contract.signed`: the confirmation, with the way to end it.
    ContractSigned,
    /// `contract.terminated`.
    ContractEnded,
}

impl PayerTemplate {
    /// The payer's message of an event, if it has one. An order still awaiting the merchant's
    /// approval has none when its deadline passes: its link cannot pay it yet.
    pub fn of_event(kind: &str, data: &Value) -> Option<PayerTemplate> {
        Some(match kind {
            "order.reminder"
                if data.get("status").and_then(Value::as_str) == Some("PENDING_APPROVAL") =>
            {
                return None
            }
            "order.reminder" => PayerTemplate::OrderUnpaid,
            "subscription.renewal_upcoming" => PayerTemplate::RenewalUpcoming,
            "subscription.payment_failed" => PayerTemplate::RenewalFailed,
            "installment.due_upcoming" => PayerTemplate::InstalmentUpcoming,
            "installment.payment_failed" => PayerTemplate::InstalmentFailed,
            "contract.deduction_notice" => PayerTemplate::DeductionUpcoming,
            "contract.signed" => PayerTemplate::ContractSigned,
            "contract.terminated" => PayerTemplate::ContractEnded,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PayerTemplate::OrderUnpaid => "order.unpaid",
            PayerTemplate::RenewalUpcoming => "renewal.upcoming",
            PayerTemplate::RenewalFailed => "renewal.failed",
            PayerTemplate::InstalmentUpcoming => "instalment.upcoming",
            PayerTemplate::InstalmentFailed => "instalment.failed",
            PayerTemplate::DeductionUpcoming => "deduction.upcoming",
            PayerTemplate::ContractSigned => "contract.signed",
            PayerTemplate::ContractEnded => "contract.ended",
        }
    }
}

/// What a payer message is made of, read from its event's data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Who the payer pays (the merchant's display name).
    pub merchant: String,
    pub description: String,
    pub amount: Option<String>,
    /// When it is charged, or until when it can be paid, in merchant time.
    pub when: Option<String>,
    /// The pay page (`checkout_url`), when the payer pays it themselves.
    pub pay_link: Option<String>,
    /// The contract's page (to see or end it), when it is collected under a contract.
    pub contract_link: Option<String>,
    /// Collected under a contract (deducted, not paid through a link).
    pub under_contract: bool,
    /// Which part of how many (instalments).
    pub part: Option<(u64, u64)>,
    /// A failed charge that will not be tried again.
    pub final_attempt: bool,
    /// A failed charge that will be tried again at `when` (`next_attempt_at`).
    pub retried: bool,
    /// Held for the merchant's approval: it cannot be paid yet, and its link comes once approved.
    pub awaiting_approval: bool,
    /// Billed by usage too: `amount` is what is known now, and usage reported until the charge
    /// is added to it then.
    pub metered: bool,
    pub unsubscribe_link: String,
}

/// `2026-12-06 10:00 (UTC+8)`: an RFC 3339 time as the merchant's clock shows it.
pub fn local_time(rfc3339: &str, offset_minutes: i32) -> Option<String> {
    let ms = parse_rfc3339(rfc3339)? + i64::from(offset_minutes) * 60_000;
    let t = format_rfc3339(ms);
    let (h, m) = (offset_minutes / 60, (offset_minutes % 60).abs());
    let zone = if m == 0 {
        format!("UTC{h:+}")
    } else {
        format!("UTC{h:+}:{m:02}")
    };
    Some(format!("{} {} ({zone})", &t[..10], &t[11..16]))
}

/// The facts of an event's data (`contract_link` is the contract's page, when the subject has
/// one; the event's own data names it only while the contract is unsigned).
pub fn facts_of(data: &Value, merchant: &str, offset_minutes: i32) -> Facts {
    let text = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_owned);
    let amount = data
        .get("amount")
        .or_else(|| data.get("price").and_then(|p| p.get("amount")))
        .and_then(|a| serde_json::from_value::<Money>(a.clone()).ok())
        .map(|m| m.to_string());
    let under_contract = data.get("contract_code").is_some_and(Value::is_string);
    // Deducted under a contract, a part's date is its due date: its pay-by (the grace) is no
    // date of the payer's, and it is the one left when a part awaits approval (no `charge_at`
    // yet). A part the payer is sent a link for is paid by its pay-by.
    let keys: &[&str] = if under_contract && text("checkout_url").is_none() {
        &[
            "charge_at",
            "due_at",
            "pay_by",
            "time_expire",
            "next_attempt_at",
        ]
    } else {
        &["charge_at", "pay_by", "time_expire", "next_attempt_at"]
    };
    let when = keys
        .iter()
        .find_map(|k| text(k))
        .and_then(|t| local_time(&t, offset_minutes));
    let part = data.get("part_index").and_then(Value::as_u64).map(|i| {
        let n = data
            .get("parts")
            .and_then(Value::as_array)
            .map_or(0, |p| p.len() as u64);
        (i + 1, n)
    });
    Facts {
        merchant: merchant.to_owned(),
        description: text("description").unwrap_or_default(),
        amount,
        when,
        pay_link: text("checkout_url"),
        contract_link: text("manage_url"),
        under_contract,
        part,
        final_attempt: data.get("attempt").is_some()
            && data.get("next_attempt_at").is_some_and(Value::is_null)
            && data.get("pay_by").is_none(),
        retried: data.get("next_attempt_at").is_some_and(Value::is_string),
        awaiting_approval: data.get("awaiting_approval") == Some(&Value::Bool(true)),
        metered: data.get("metered") == Some(&Value::Bool(true)),
        unsubscribe_link: String::new(),
    }
}

fn zh(locale: Locale) -> bool {
    locale == Locale::ZhCn
}

/// A payer message in the payer's language.
pub fn render_payer(t: PayerTemplate, locale: Locale, f: &Facts) -> Rendered {
    // A deduction is charged from the contract: its order's pay link is no way to pay it.
    let deduction = Facts {
        pay_link: None,
        under_contract: true,
        ..f.clone()
    };
    let f = if t == PayerTemplate::DeductionUpcoming {
        &deduction
    } else {
        f
    };
    let zh = zh(locale);
    let amount = f.amount.clone().unwrap_or_default();
    let when = f.when.clone().unwrap_or_default();
    let what = if f.description.is_empty() {
        f.merchant.clone()
    } else {
        f.description.clone()
    };
    let part = match f.part {
        Some((i, n)) if zh => format!("第 {i}/{n} 期 "),
        Some((i, n)) => format!("part {i} of {n} of "),
        None => String::new(),
    };
    let (title, body) = match t {
        PayerTemplate::OrderUnpaid => title_body(
            zh,
            ("待支付提醒", "Your payment is still open"),
            (
                format!("您在 {} 的订单「{what}」{amount} 尚未支付，请在 {when} 前完成。", f.merchant),
                format!("Your order \"{what}\" ({amount}) with {} is not paid yet. Please pay by {when}.", f.merchant),
            ),
        ),
        PayerTemplate::RenewalUpcoming
        | PayerTemplate::InstalmentUpcoming
        | PayerTemplate::DeductionUpcoming => {
            upcoming(zh, f, &part, &what, &amount, &when)
        }
        PayerTemplate::RenewalFailed | PayerTemplate::InstalmentFailed => {
            failed(zh, f, &part, &what, &amount, &when)
        }
        PayerTemplate::ContractSigned => title_body(
            zh,
            ("免密支付已开通", "Automatic payment set up"),
            (
                format!("您已与 {} 签约「{what}」，之后的费用将按约定自动扣款。您可随时解约。", f.merchant),
                format!("You set up automatic payment of \"{what}\" with {}. Later charges are deducted as agreed. You can end it at any time.", f.merchant),
            ),
        ),
        PayerTemplate::ContractEnded => title_body(
            zh,
            ("免密支付已解约", "Automatic payment ended"),
            (
                format!("您与 {} 的「{what}」免密支付已解约，此后不会再自动扣款。", f.merchant),
                format!("Automatic payment of \"{what}\" with {} has ended. Nothing more will be deducted.", f.merchant),
            ),
        ),
    };
    Rendered {
        title: format!("{} · {title}", f.merchant),
        text: with_links(zh, t, f, body),
    }
}

fn title_body(zh: bool, title: (&str, &str), body: (String, String)) -> (String, String) {
    if zh {
        (title.0.to_owned(), body.0)
    } else {
        (title.1.to_owned(), body.1)
    }
}

fn upcoming(
    zh: bool,
    f: &Facts,
    part: &str,
    what: &str,
    amount: &str,
    when: &str,
) -> (String, String) {
    let by_contract = f.under_contract && f.pay_link.is_none();
    if f.awaiting_approval && by_contract {
        // Held for the merchant's approval: nothing is deducted until it is given, so no
        // deduction is promised (`merchant/installments.rs`, `announce_part`).
        return if zh {
            (
                "扣款提醒".into(),
                format!(
                    "{part}「{what}」{amount} 于 {when} 到期；商家确认后才会从您的签约账户扣款。"
                ),
            )
        } else {
            (
                "Upcoming charge".into(),
                format!("{part}\"{what}\" ({amount}) falls due on {when}; the merchant is confirming it, and it is deducted from your signed account only once confirmed."),
            )
        };
    }
    if f.awaiting_approval && f.pay_link.is_none() {
        // An instalment part is announced again with its link once approved
        // (`merchant/installments.rs`, `part_approved`); an invoice only becomes payable.
        let (zh_then, en_then) = if f.part.is_some() {
            (
                "商家确认后，您会收到支付链接",
                "the merchant is confirming it, and you will be sent its pay link",
            )
        } else {
            (
                "商家确认后即可支付",
                "it can be paid once the merchant confirms it",
            )
        };
        return if zh {
            (
                "付款提醒".into(),
                format!("{part}「{what}」{amount} 请于 {when} 前支付；{zh_then}。"),
            )
        } else {
            (
                "Payment due".into(),
                format!("{part}\"{what}\" ({amount}) is due by {when}; {en_then}."),
            )
        };
    }
    if by_contract && f.metered {
        // What the usage until the charge adds is not known yet: no total is promised.
        return if zh {
            (
                "扣款提醒".into(),
                format!("{part}「{what}」将于 {when} 从您的签约账户自动扣款：目前为 {amount}，另加此前新增的用量费用。"),
            )
        } else {
            (
                "Upcoming charge".into(),
                format!("{part}\"{what}\" will be deducted automatically on {when}: {amount} so far, plus the usage added until then."),
            )
        };
    }
    match (zh, by_contract) {
        (true, true) => (
            "扣款提醒".into(),
            format!("{part}「{what}」{amount} 将于 {when} 从您的签约账户自动扣款。"),
        ),
        (true, false) => (
            "付款提醒".into(),
            format!("{part}「{what}」{amount} 请于 {when} 前支付。"),
        ),
        (false, true) => (
            "Upcoming charge".into(),
            format!("{part}\"{what}\" ({amount}) will be deducted automatically on {when}."),
        ),
        (false, false) => (
            "Payment due".into(),
            format!("{part}\"{what}\" ({amount}) is due: please pay by {when}."),
        ),
    }
}

fn failed(
    zh: bool,
    f: &Facts,
    part: &str,
    what: &str,
    amount: &str,
    when: &str,
) -> (String, String) {
    if !f.under_contract {
        return unpaid(zh, f, part, what, amount, when);
    }
    let deducted_again = f.retried && !when.is_empty();
    let then = match (zh, f.final_attempt, f.pay_link.is_some()) {
        (true, true, _) => "不会再次扣款，相关服务将结束。".to_owned(),
        (true, false, true) if deducted_again => {
            format!("我们将于 {when} 再次扣款，您也可以在此之前通过下方链接支付。")
        }
        (false, false, true) if deducted_again => {
            format!(
                "We will try again on {when}; you can also pay through the link below before then."
            )
        }
        (true, false, true) if when.is_empty() => "请通过下方链接支付。".to_owned(),
        (true, false, true) => format!("请在 {when} 前通过下方链接支付。"),
        (true, false, false) => "我们会稍后再试，请确保账户余额充足。".to_owned(),
        (false, true, _) => "It will not be tried again, and the service ends.".to_owned(),
        (false, false, true) if when.is_empty() => "Please pay through the link below.".to_owned(),
        (false, false, true) => format!("Please pay through the link below by {when}."),
        (false, false, false) => {
            "We will try again later; please make sure the account can pay.".to_owned()
        }
    };
    let body = if zh {
        format!("{part}「{what}」{amount} 扣款未成功。{then}")
    } else {
        format!("The charge of {part}\"{what}\" ({amount}) did not go through. {then}")
    };
    let title = if zh { "扣款失败" } else { "Payment failed" };
    (title.to_owned(), body)
}

/// The same for what the payer pays through its link (no contract): nothing was charged, so
/// nothing "failed"; it is not paid yet.
fn unpaid(
    zh: bool,
    f: &Facts,
    part: &str,
    what: &str,
    amount: &str,
    when: &str,
) -> (String, String) {
    let then = match (zh, f.final_attempt, f.pay_link.is_some(), when.is_empty()) {
        (true, true, ..) => "未在期限内支付，相关服务将结束。".to_owned(),
        (false, true, ..) => "It was not paid in time, and the service ends.".to_owned(),
        (true, false, true, true) => "请通过下方链接支付。".to_owned(),
        (true, false, true, false) => format!("请在 {when} 前通过下方链接支付。"),
        (false, false, true, true) => "Please pay through the link below.".to_owned(),
        (false, false, true, false) => format!("Please pay through the link below by {when}."),
        (true, false, false, _) => "请联系商户。".to_owned(),
        (false, false, false, _) => "Please contact the merchant.".to_owned(),
    };
    let body = if zh {
        format!("{part}「{what}」{amount} 尚未支付。{then}")
    } else {
        format!("{part}\"{what}\" ({amount}) has not been paid. {then}")
    };
    let title = if zh {
        "逾期未付"
    } else {
        "Payment overdue"
    };
    (title.to_owned(), body)
}

fn with_links(zh: bool, t: PayerTemplate, f: &Facts, mut text: String) -> String {
    let line =
        |label: (&str, &str), url: &str| format!("\n{}: {url}", if zh { label.0 } else { label.1 });
    if let Some(url) = &f.pay_link {
        text += &line(("支付链接", "Pay"), url);
    }
    if let Some(url) = &f.contract_link {
        let ending = matches!(t, PayerTemplate::ContractSigned);
        let label = if ending {
            ("解约", "End it")
        } else {
            ("查看或解约", "See or end it")
        };
        let url = if ending {
            format!("{url}/terminate")
        } else {
            url.clone()
        };
        if t != PayerTemplate::ContractEnded {
            text += &line(label, &url);
        }
    }
    text + &line(("退订", "Unsubscribe"), &f.unsubscribe_link)
}

/// A staff alert's kind, as staff read it.
pub fn alert_label(kind: &str, locale: Locale) -> &'static str {
    let (zh, en) = match kind {
        "notifications.failing" => ("通知投递持续失败", "Notifications keep failing"),
        "channel.circuit_open" => ("支付通道已熔断", "A payment channel is down"),
        "merchant.frozen" => ("商户已被冻结", "The account is frozen"),
        "reviews.waiting" => ("有支付等待风控审核", "Payments wait for review"),
        "approvals.waiting" => ("有操作等待审批", "Requests wait for approval"),
        "settlement.anomaly" => ("结算异常", "Settlement anomaly"),
        "dunning.exhausted" => ("催缴已用尽", "Dunning exhausted"),
        "refund.owed" => ("应退款项未能退回", "A refund owed to a payer failed"),
        _ => ("告警", "Alert"),
    };
    if locale == Locale::ZhCn {
        zh
    } else {
        en
    }
}

/// A staff message: an alert raised (with its detail) or resolved (with what cleared it).
pub fn render_alert(
    kind: &str,
    raised: bool,
    note: &str,
    merchant: &str,
    locale: Locale,
) -> Rendered {
    let label = alert_label(kind, locale);
    let (state, more) = match (locale, raised) {
        (Locale::ZhCn, true) => ("告警", "详情见控制台或 GET /v1/alerts。"),
        (Locale::ZhCn, false) => ("已恢复", "该告警已关闭。"),
        (Locale::En, true) => ("Alert", "See the console or GET /v1/alerts."),
        (Locale::En, false) => ("Resolved", "The alert is closed."),
    };
    Rendered {
        title: format!("[{merchant}] {state}: {label}"),
        text: format!("{label}\n{note}\n{more}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(data: Value) -> Facts {
        let mut f = facts_of(&data, "Demo Shop", 480);
        f.unsubscribe_link = "https://pay.example/unsubscribe/T".into();
        f
    }

    #[test]
    fn times_are_shown_in_merchant_time() {
        assert_eq!(
            local_time("2026-12-06T02:00:00Z", 480).as_deref(),
            Some("2026-12-06 10:00 (UTC+8)")
        );
        assert_eq!(
            local_time("2026-12-06T02:00:00Z", -330).as_deref(),
            Some("2026-12-05 20:30 (UTC-5:30)")
        );
        assert_eq!(local_time("not a time", 0), None);
    }

    #[test]
    fn a_renewal_paid_by_link_says_pay_by_and_carries_the_link() {
        let f = facts(json!({
            "description": "Pro plan", "amount": {"total": 9900, "currency": "CNY"},
            "pay_by": "2026-12-06T02:00:00Z", "checkout_url": "https://pay.example/pay/abc",
        }));
        let zh = render_payer(PayerTemplate::RenewalUpcoming, Locale::ZhCn, &f);
        assert_eq!(zh.title, "Demo Shop · 付款提醒");
        assert!(
            zh.text
                .starts_with("「Pro plan」¥99.00 请于 2026-12-06 10:00 (UTC+8) 前支付。"),
            "{}",
            zh.text
        );
        assert!(zh.text.contains("支付链接: https://pay.example/pay/abc"));
        assert!(zh.text.ends_with("退订: https://pay.example/unsubscribe/T"));
        let en = render_payer(PayerTemplate::RenewalUpcoming, Locale::En, &f);
        assert!(
            en.text
                .contains("is due: please pay by 2026-12-06 10:00 (UTC+8)"),
            "{}",
            en.text
        );
        assert!(
            !en.text.contains("deducted"),
            "no link is no promise of a deduction"
        );
    }

    #[test]
    fn a_renewal_under_a_contract_says_deducted_and_links_the_contract() {
        let f = facts(json!({
            "description": "Pro plan", "amount": {"total": 9900, "currency": "CNY"},
            "charge_at": "2026-12-06T02:00:00Z", "manage_url": "https://pay.example/contract/C",
            "contract_code": "C1",
        }));
        let en = render_payer(PayerTemplate::RenewalUpcoming, Locale::En, &f);
        assert!(en
            .text
            .contains("will be deducted automatically on 2026-12-06 10:00 (UTC+8)"));
        assert!(en
            .text
            .contains("See or end it: https://pay.example/contract/C"));
        assert!(!en.text.contains("Pay:"));
    }

    #[test]
    fn a_part_awaiting_approval_says_its_link_comes_once_approved() {
        let held = facts(
            json!({"description": "Course", "part_index": 1, "parts": [{}, {}],
            "pay_by": "2026-12-06T02:00:00Z", "awaiting_approval": true,
            "amount": {"total": 800000, "currency": "CNY"}}),
        );
        let zh = render_payer(PayerTemplate::InstalmentUpcoming, Locale::ZhCn, &held);
        assert!(
            zh.text
                .contains("请于 2026-12-06 10:00 (UTC+8) 前支付；商家确认后，您会收到支付链接。"),
            "{}",
            zh.text
        );
        let en = render_payer(PayerTemplate::InstalmentUpcoming, Locale::En, &held);
        assert!(
            en.text.contains("you will be sent its pay link"),
            "{}",
            en.text
        );
        // An invoice is not announced again: it only says it becomes payable.
        let invoice = facts(
            json!({"description": "Pro", "pay_by": "2026-12-06T02:00:00Z",
            "awaiting_approval": true, "amount": {"total": 9900, "currency": "CNY"}}),
        );
        let en = render_payer(PayerTemplate::RenewalUpcoming, Locale::En, &invoice);
        assert!(
            en.text
                .contains("it can be paid once the merchant confirms it."),
            "{}",
            en.text
        );
    }

    #[test]
    fn a_contract_part_awaiting_approval_promises_no_deduction_and_names_its_due_date() {
        let held = facts(
            json!({"description": "Course", "part_index": 1, "parts": [{}, {}],
            "contract_code": "C-1", "due_at": "2026-12-05T02:00:00Z",
            "pay_by": "2026-12-08T02:00:00Z", "awaiting_approval": true,
            "amount": {"total": 800000, "currency": "CNY"}}),
        );
        let en = render_payer(PayerTemplate::InstalmentUpcoming, Locale::En, &held);
        assert!(
            en.text.contains("falls due on 2026-12-05 10:00 (UTC+8); the merchant is confirming it, and it is deducted from your signed account only once confirmed."),
            "{}",
            en.text
        );
        assert!(!en.text.contains("will be deducted automatically"));
        let zh = render_payer(PayerTemplate::InstalmentUpcoming, Locale::ZhCn, &held);
        assert!(
            zh.text
                .contains("于 2026-12-05 10:00 (UTC+8) 到期；商家确认后才会从您的签约账户扣款。"),
            "{}",
            zh.text
        );
        // Once approved it is announced with its charge time, and that is the promise.
        let approved = facts(
            json!({"description": "Course", "part_index": 1, "parts": [{}, {}],
            "contract_code": "C-1", "due_at": "2026-12-05T02:00:00Z",
            "charge_at": "2026-12-05T02:00:00Z", "pay_by": "2026-12-08T02:00:00Z",
            "amount": {"total": 800000, "currency": "CNY"}}),
        );
        let en = render_payer(PayerTemplate::InstalmentUpcoming, Locale::En, &approved);
        assert!(
            en.text
                .contains("will be deducted automatically on 2026-12-05 10:00 (UTC+8)."),
            "{}",
            en.text
        );
    }

    #[test]
    fn a_metered_renewal_promises_no_total_it_cannot_know() {
        let f = facts(json!({"description": "Storage", "contract_code": "C-1",
            "charge_at": "2026-12-05T02:00:00Z", "metered": true, "usage_amount_so_far": 300,
            "amount": {"total": 1300, "currency": "CNY"}}));
        let en = render_payer(PayerTemplate::RenewalUpcoming, Locale::En, &f);
        assert!(
            en.text.contains("will be deducted automatically on 2026-12-05 10:00 (UTC+8): ¥13.00 so far, plus the usage added until then."),
            "{}",
            en.text
        );
        let zh = render_payer(PayerTemplate::RenewalUpcoming, Locale::ZhCn, &f);
        assert!(
            zh.text.contains("目前为 ¥13.00，另加此前新增的用量费用。"),
            "{}",
            zh.text
        );
    }

    #[test]
    fn a_deduction_is_announced_from_the_contract_without_a_pay_link() {
        let f = facts(json!({"description": "December box", "contract_code": "C1",
            "charge_at": "2026-12-05T02:00:00Z", "amount": {"total": 200, "currency": "CNY"},
            "checkout_url": "https://p/pay/x", "manage_url": "https://p/contract/t"}));
        let t = PayerTemplate::of_event("contract.deduction_notice", &json!({})).unwrap();
        let zh = render_payer(t, Locale::ZhCn, &f);
        assert!(
            zh.text.starts_with(
                "「December box」¥2.00 将于 2026-12-05 10:00 (UTC+8) 从您的签约账户自动扣款。"
            ),
            "{}",
            zh.text
        );
        assert!(zh.text.contains("https://p/contract/t"), "{}", zh.text);
        assert!(!zh.text.contains("/pay/"), "{}", zh.text);
    }

    #[test]
    fn a_failed_charge_says_what_to_do_next() {
        let retry = facts(
            json!({"description": "Pro", "attempt": 1, "next_attempt_at": "2026-12-07T02:00:00Z",
            "amount": {"total": 100, "currency": "CNY"}, "checkout_url": "https://p/x"}),
        );
        // Paid through its link (no contract): nothing was charged, so nothing failed.
        let zh = render_payer(PayerTemplate::RenewalFailed, Locale::ZhCn, &retry);
        assert!(zh.title.ends_with(" · 逾期未付"), "{}", zh.title);
        assert!(
            zh.text
                .contains("尚未支付。请在 2026-12-07 10:00 (UTC+8) 前通过下方链接支付。"),
            "{}",
            zh.text
        );
        assert!(!zh.text.contains("扣款"), "{}", zh.text);
        let en = render_payer(PayerTemplate::RenewalFailed, Locale::En, &retry);
        assert!(
            en.text.contains("(¥1.00) has not been paid. Please pay through the link below by 2026-12-07 10:00 (UTC+8)."),
            "{}",
            en.text
        );
        // Under a contract, the payer is told it is deducted again then, and may pay before.
        let mut contract = retry.clone();
        contract.under_contract = true;
        let en = render_payer(PayerTemplate::RenewalFailed, Locale::En, &contract);
        assert!(
            en.text.contains("We will try again on 2026-12-07 10:00 (UTC+8); you can also pay through the link below before then."),
            "{}",
            en.text
        );
        let mut last = facts(json!({"description": "Pro", "attempt": 4, "next_attempt_at": null}));
        let en = render_payer(PayerTemplate::RenewalFailed, Locale::En, &last);
        assert!(
            en.text
                .contains("was not paid in time, and the service ends"),
            "{}",
            en.text
        );
        last.under_contract = true;
        let en = render_payer(PayerTemplate::RenewalFailed, Locale::En, &last);
        assert!(en.text.contains("will not be tried again"), "{}", en.text);
        let part = facts(
            json!({"description": "Course", "part_index": 1, "parts": [{}, {}, {}],
            "pay_by": "2026-12-06T02:00:00Z", "checkout_url": "https://p/y"}),
        );
        let zh = render_payer(PayerTemplate::InstalmentFailed, Locale::ZhCn, &part);
        assert!(zh.text.starts_with("第 2/3 期 「Course」"), "{}", zh.text);
        assert!(zh
            .text
            .contains("请在 2026-12-06 10:00 (UTC+8) 前通过下方链接支付。"));
    }

    #[test]
    fn contract_confirmations_carry_the_termination_link() {
        let f = facts(json!({"description": "Gym", "manage_url": "https://p/contract/C"}));
        let signed = render_payer(PayerTemplate::ContractSigned, Locale::En, &f);
        assert!(signed
            .text
            .contains("End it: https://p/contract/C/terminate"));
        let ended = render_payer(PayerTemplate::ContractEnded, Locale::ZhCn, &f);
        assert!(ended.text.contains("已解约"));
        assert!(!ended.text.contains("/terminate"));
    }

    #[test]
    fn alerts_read_in_the_staff_language() {
        let r = render_alert(
            "merchant.frozen",
            true,
            "refund rate 40%",
            "Shop",
            Locale::ZhCn,
        );
        assert_eq!(r.title, "[Shop] 告警: 商户已被冻结");
        assert!(r.text.contains("refund rate 40%"));
        let r = render_alert("merchant.frozen", false, "unfrozen", "Shop", Locale::En);
        assert_eq!(r.title, "[Shop] Resolved: The account is frozen");
    }

    #[test]
    fn events_that_prompt_payer_messages() {
        assert_eq!(PayerTemplate::of_event("order.paid", &json!({})), None);
        let waiting = json!({"status": "PENDING_APPROVAL"});
        assert_eq!(PayerTemplate::of_event("order.reminder", &waiting), None);
        assert_eq!(
            PayerTemplate::of_event("order.reminder", &json!({"status": "NOTPAY"})),
            Some(PayerTemplate::OrderUnpaid)
        );
        assert_eq!(
            PayerTemplate::of_event("installment.payment_failed", &json!({})),
            Some(PayerTemplate::InstalmentFailed)
        );
    }
}
