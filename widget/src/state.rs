//! The pay page's behaviour as a pure reducer: `State`, `Action`, `reduce`. No web APIs here, so
//! every transition is tested natively (`cargo test -p paydesk-widget`).

use crate::i18n::Lang;
use paydesk_shared::api::{CardInput, ErrorCode, NextStep, PayMethod, PayRequest};
use paydesk_shared::{card, CheckoutView, OrderStatus, PayOutcome, PayPageData};
use std::rc::Rc;

/// Where the payer is in paying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Choosing and entering; the pay button is live.
    Ready,
    /// A pay request is in flight; the button is disabled.
    Submitting,
    /// The channel accepted the payment and will confirm it (USERPAYING).
    Confirming,
    /// The last attempt failed; the prompt explains and offers the next step.
    Failed {
        code: String,
        message: String,
        next_step: NextStep,
    },
    /// The request did not reach us or the answer was lost; nothing typed is lost.
    NetworkLost,
    /// Paid.
    Paid,
    /// No payment is possible (closed, expired, paid elsewhere, pending approval...).
    Blocked,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFields {
    /// As displayed: digits grouped in fours.
    pub number: String,
    /// As displayed: `MM/YY`.
    pub expiry: String,
    pub cvc: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub view: CheckoutView,
    pub lang: Lang,
    pub method: PayMethod,
    /// Sandbox wallet for `balance`.
    pub wallet: String,
    pub card: CardFields,
    pub phase: Phase,
    /// Current time (unix ms) as last ticked; drives the countdown.
    pub now_ms: i64,
    /// The deadline (unix ms) parsed from the view.
    pub deadline_ms: i64,
    /// One-time key of the current submission: a resent request never pays twice.
    pub submission_key: String,
    /// Bumped by each submission so the page knows to send one.
    pub submissions: u32,
    /// A card field the payer must fix, with the reason.
    pub field_error: Option<(&'static str, &'static str)>,
    /// The one-time key the HTML form carries for a post without JavaScript (the worker's).
    pub form_key: String,
}

/// The card-field errors the page knows how to explain: `(field, reason key)`.
pub const FIELD_ERRORS: [(&str, &str); 3] = [
    ("number", "card_number_invalid"),
    ("expiry", "card_expiry_invalid"),
    ("cvc", "card_cvc_invalid"),
];

/// `(field, reason)` as a post's answer carries it, if the page knows how to explain it.
pub fn known_field_error(field: &str, reason: &str) -> Option<(&'static str, &'static str)> {
    FIELD_ERRORS
        .into_iter()
        .find(|(f, r)| *f == field && *r == reason)
}

/// The sandbox wallet a form starts on for `balance`.
pub const DEFAULT_WALLET: &str = "wallet_ok";

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SelectMethod(PayMethod),
    SelectWallet(String),
    EditCardNumber(String),
    EditExpiry(String),
    EditCvc(String),
    /// The pay button; carries a fresh submission key from the page.
    Submit {
        key: String,
    },
    /// The answer of a pay request.
    Paid,
    /// Paid, and held in the merchant's risk review.
    InReview,
    Pending,
    Declined {
        code: String,
        message: String,
        next_step: NextStep,
    },
    /// Refused for the order's state (closed, paid, awaiting approval...) or the request.
    /// `code` is the wire name: the reducer acts on four (paid, closed, awaiting approval,
    /// another payment being confirmed), and any other is a failure.
    Refused {
        code: String,
        message: String,
    },
    NetworkFailed,
    /// The order's status as the edge reports it (live socket or poll).
    Status(OrderStatus),
    Tick(i64),
    SetLang(Lang),
    /// The payer dismissed a failure to try again (same or other method).
    Dismiss,
}

/// The one mapping of a pay attempt's answer to the reducer's action, for the wasm page's pay
/// call and for the page the worker renders after a form post.
impl From<PayOutcome> for Action {
    fn from(o: PayOutcome) -> Action {
        match o {
            PayOutcome::Paid => Action::Paid,
            PayOutcome::InReview => Action::InReview,
            PayOutcome::Pending => Action::Pending,
            PayOutcome::Declined {
                code,
                message,
                next_step,
            } => Action::Declined {
                code,
                message,
                next_step,
            },
            PayOutcome::Refused { code, message } => Action::Refused { code, message },
            PayOutcome::Unavailable => Action::NetworkFailed,
        }
    }
}

impl State {
    /// The page's state for an order at `now_ms`. `remembered` is the method this browser last
    /// paid with successfully, used when the order allows it.
    pub fn new(
        view: CheckoutView,
        lang: Lang,
        now_ms: i64,
        remembered: Option<PayMethod>,
    ) -> State {
        let methods = if view.methods.is_empty() {
            PayMethod::ALL.to_vec()
        } else {
            view.methods.clone()
        };
        let method = remembered
            .filter(|m| methods.contains(m))
            .unwrap_or(methods[0]);
        let deadline_ms =
            paydesk_shared::time::parse_rfc3339(&view.time_expire).unwrap_or(i64::MAX);
        let phase = phase_for_status(view.status, deadline_ms, now_ms).unwrap_or(Phase::Ready);
        State {
            view,
            lang,
            method,
            wallet: DEFAULT_WALLET.into(),
            card: CardFields {
                number: String::new(),
                expiry: String::new(),
                cvc: String::new(),
            },
            phase,
            now_ms,
            deadline_ms,
            submission_key: String::new(),
            submissions: 0,
            field_error: None,
            form_key: String::new(),
        }
    }

    /// The state the worker rendered the page in (its [`RenderSeed`]): the page's first render,
    /// on the server and when the browser hydrates it, starts from this.
    pub fn seeded(data: &PayPageData, lang: Lang, now_ms: i64) -> State {
        let seed = &data.seed;
        let mut s = State::new(data.view.clone(), lang, now_ms, seed.method);
        if let Some(w) = &seed.wallet {
            s.wallet = w.clone();
        }
        s.form_key = seed.submission_key.clone();
        s.field_error = seed
            .field_error
            .as_ref()
            .and_then(|(f, r)| known_field_error(f, r));
        match seed.outcome.clone() {
            None => s,
            // No request is in flight for the answer to fail: the page offers the retry at once.
            Some(PayOutcome::Unavailable) => {
                if s.can_pay() {
                    s.phase = Phase::NetworkLost;
                }
                s
            }
            Some(o) => Rc::unwrap_or_clone(Rc::new(s).reduce(o.into())),
        }
    }

    pub fn methods(&self) -> Vec<PayMethod> {
        if self.view.methods.is_empty() {
            PayMethod::ALL.to_vec()
        } else {
            self.view.methods.clone()
        }
    }

    /// Seconds left to pay; 0 once the deadline has passed.
    pub fn seconds_left(&self) -> i64 {
        ((self.deadline_ms - self.now_ms) / 1000).max(0)
    }

    pub fn expired(&self) -> bool {
        self.now_ms >= self.deadline_ms
    }

    /// Whether the pay button works now.
    pub fn can_pay(&self) -> bool {
        matches!(
            self.phase,
            Phase::Ready | Phase::Failed { .. } | Phase::NetworkLost
        ) && !self.expired()
            && matches!(
                self.view.status,
                OrderStatus::NotPay | OrderStatus::PayError
            )
    }

    /// Whether "try again" sends the same choice again (a decline worth retrying, or a lost
    /// answer) rather than going back to the form.
    pub fn retry_resends(&self) -> bool {
        matches!(
            self.phase,
            Phase::Failed {
                next_step: NextStep::Retry,
                ..
            } | Phase::NetworkLost
        )
    }

    /// The pay request for the current choice, or the field the payer must fix.
    pub fn pay_request(&self) -> Result<PayRequest, (&'static str, &'static str)> {
        let mut req = instrument_request(self.method, &self.wallet, &self.card, self.now_ms)?;
        req.submission_key = Some(self.submission_key.clone()).filter(|k| !k.is_empty());
        Ok(req)
    }
}

/// What the payer chose to pay with, as a request without a submission key, or the field to
/// fix: the edge's card rules (number, expiry and CVC at the page's clock, UTC like the edge's).
/// The pay page and the contract page check entries alike.
pub fn instrument_request(
    method: PayMethod,
    wallet: &str,
    card: &CardFields,
    now_ms: i64,
) -> Result<PayRequest, (&'static str, &'static str)> {
    if method == PayMethod::Balance {
        return Ok(PayRequest {
            method,
            wallet: Some(wallet.to_owned()),
            card: None,
            submission_key: None,
        });
    }
    let digits: String = card.number.chars().filter(char::is_ascii_digit).collect();
    if !card::number_ok(&digits) {
        return Err(("number", "card_number_invalid"));
    }
    let (now_year, now_month) = paydesk_shared::time::year_month(now_ms);
    let (mm, yyyy) = parse_expiry(&card.expiry)
        .map(|(mm, yy)| (mm, 2000 + u16::from(yy)))
        .filter(|&(mm, yyyy)| card::expiry_ok(mm, yyyy, now_year, now_month))
        .ok_or(("expiry", "card_expiry_invalid"))?;
    if !card::cvc_ok(&card.cvc) {
        return Err(("cvc", "card_cvc_invalid"));
    }
    Ok(PayRequest {
        method,
        wallet: None,
        card: Some(CardInput {
            number: digits,
            exp_month: mm,
            exp_year: yyyy,
            cvc: card.cvc.clone(),
        }),
        submission_key: None,
    })
}

/// The phase an order's status forces, if any.
fn phase_for_status(status: OrderStatus, deadline_ms: i64, now_ms: i64) -> Option<Phase> {
    match status {
        OrderStatus::Success | OrderStatus::Refund => Some(Phase::Paid),
        OrderStatus::Closed | OrderStatus::PendingApproval => Some(Phase::Blocked),
        OrderStatus::UserPaying => Some(Phase::Confirming),
        OrderStatus::NotPay | OrderStatus::PayError if now_ms >= deadline_ms => {
            Some(Phase::Blocked)
        }
        _ => None,
    }
}

impl State {
    /// The state after `action`; the same `Rc` when the action changes nothing.
    pub fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        let busy = matches!(
            s.phase,
            Phase::Submitting | Phase::Confirming | Phase::Paid | Phase::Blocked
        );
        match action {
            Action::SelectMethod(m) if !busy && s.methods().contains(&m) => {
                s.method = m;
                s.field_error = None;
                if matches!(s.phase, Phase::Failed { .. }) {
                    s.phase = Phase::Ready;
                }
            }
            Action::SelectWallet(w) if !busy => s.wallet = w,
            Action::EditCardNumber(v) if !busy => {
                s.card.number = format_card_number(&v);
                s.field_error = None;
            }
            Action::EditExpiry(v) if !busy => {
                s.card.expiry = format_expiry(&v, &s.card.expiry);
                s.field_error = None;
            }
            Action::EditCvc(v) if !busy => {
                s.card.cvc = v.chars().filter(char::is_ascii_digit).take(4).collect();
                s.field_error = None;
            }
            Action::Submit { key } if s.can_pay() => {
                // A retry after a lost answer reuses its key: if the first request did arrive,
                // the edge answers its result instead of paying again.
                if !matches!(s.phase, Phase::NetworkLost) || s.submission_key.is_empty() {
                    s.submission_key = key;
                }
                match s.pay_request() {
                    Ok(_) => {
                        s.phase = Phase::Submitting;
                        s.field_error = None;
                        s.submissions += 1;
                    }
                    Err(e) => s.field_error = Some(e),
                }
            }
            Action::Paid | Action::InReview => {
                s.phase = Phase::Paid;
                s.view.status = OrderStatus::Success;
                s.view.in_review |= action == Action::InReview;
            }
            Action::Pending => {
                s.phase = Phase::Confirming;
                s.view.status = OrderStatus::UserPaying;
            }
            Action::Declined {
                code,
                message,
                next_step,
            } => {
                s.phase = Phase::Failed {
                    code,
                    message,
                    next_step,
                };
                s.view.status = OrderStatus::PayError;
                s.submission_key.clear();
            }
            Action::Refused { code, message } => {
                const PAID: &str = ErrorCode::OrderPaid.as_str();
                const CLOSED: &str = ErrorCode::OrderClosed.as_str();
                const AWAITING: &str = ErrorCode::PendingApproval.as_str();
                // Another tab's payment is being confirmed: this page waits for it too.
                const PAYING: &str = ErrorCode::OrderPaying.as_str();
                s.view.status = match code.as_str() {
                    PAID => OrderStatus::Success,
                    PAYING => OrderStatus::UserPaying,
                    CLOSED => OrderStatus::Closed,
                    AWAITING => OrderStatus::PendingApproval,
                    _ => s.view.status,
                };
                s.phase = phase_for_status(s.view.status, s.deadline_ms, s.now_ms).unwrap_or(
                    Phase::Failed {
                        code,
                        message,
                        next_step: NextStep::None,
                    },
                );
                s.submission_key.clear();
            }
            Action::NetworkFailed if s.phase == Phase::Submitting => {
                // The answer was lost, but the status said paid meanwhile.
                s.phase = if s.view.status == OrderStatus::Success {
                    Phase::Paid
                } else {
                    Phase::NetworkLost
                };
            }
            // This page's payment is on its way: its own answer says more than the status
            // (whether it went into risk review), so the phase waits for it.
            Action::Status(st) if s.phase == Phase::Submitting => s.view.status = st,
            Action::Status(st) => {
                s.view.status = st;
                if let Some(p) = phase_for_status(st, s.deadline_ms, s.now_ms) {
                    s.phase = p;
                } else if s.phase == Phase::Confirming && st == OrderStatus::PayError {
                    // The pending payment failed: said as a failure, with what to do next (the
                    // embedding page hears `failed`), not a silent return to the form.
                    const FAILED: &str = ErrorCode::PaymentFailed.as_str();
                    s.phase = Phase::Failed {
                        code: FAILED.to_owned(),
                        message: String::new(),
                        next_step: NextStep::SwitchMethod,
                    };
                    s.submission_key.clear();
                } else if matches!(s.phase, Phase::Confirming | Phase::Blocked) {
                    // Another page's payment failed, or an approval made the order payable.
                    s.phase = Phase::Ready;
                }
            }
            Action::Tick(now) => {
                s.now_ms = now;
                if s.expired()
                    && matches!(
                        s.phase,
                        Phase::Ready | Phase::Failed { .. } | Phase::NetworkLost
                    )
                {
                    s.phase = Phase::Blocked;
                }
            }
            Action::SetLang(l) => s.lang = l,
            Action::Dismiss if matches!(s.phase, Phase::Failed { .. } | Phase::NetworkLost) => {
                s.phase = Phase::Ready;
            }
            _ => return self,
        }
        Rc::new(s)
    }
}

/// Digits grouped in fours as the payer types (`4242424242` → `4242 4242 42`), at most 19 digits.
pub fn format_card_number(input: &str) -> String {
    let digits: Vec<char> = input
        .chars()
        .filter(char::is_ascii_digit)
        .take(19)
        .collect();
    let mut out = String::with_capacity(digits.len() + 4);
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(*d);
    }
    out
}

/// `MM/YY` as the payer types: the slash appears after the month; deleting it deletes it.
pub fn format_expiry(input: &str, previous: &str) -> String {
    let digits: String = input.chars().filter(char::is_ascii_digit).take(4).collect();
    let deleting = input.len() < previous.len();
    match digits.len() {
        0 => String::new(),
        1 if digits.as_bytes()[0] > b'1' => format!("0{digits}/"),
        1 => digits,
        2 if deleting => digits,
        2 => format!("{digits}/"),
        _ => {
            // The slash goes in by position rather than by slicing the string, whose
            // out-of-bounds panic would bring core's string formatting into the page.
            let mut out = String::with_capacity(5);
            for (i, d) in digits.chars().enumerate() {
                if i == 2 {
                    out.push('/');
                }
                out.push(d);
            }
            out
        }
    }
}

/// `MM/YY` → (month, two-digit year).
pub fn parse_expiry(s: &str) -> Option<(u8, u8)> {
    let (m, y) = s.split_once('/')?;
    let m: u8 = m.trim().parse().ok()?;
    let y: u8 = y.trim().parse().ok()?;
    ((1..=12).contains(&m) && y < 100 && s.trim().len() == 5).then_some((m, y))
}

/// `mm:ss` (or `h:mm:ss` when an hour or more is left).
pub fn format_countdown(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use paydesk_shared::{Branding, Money};

    pub(crate) const NOW: i64 = 1_795_778_560_000; // 2026-11-27T11:22:40Z

    /// An order of ¥12.34 due 10 minutes after [`NOW`], payable by balance or credit card.
    pub(crate) fn view(status: OrderStatus) -> CheckoutView {
        CheckoutView {
            merchant: Branding {
                display_name: "Shop".into(),
                logo_url: None,
                filing_text: None,
                theme_color: None,
                guarantee_text: None,
            },
            out_trade_no: "T1".into(),
            description: "Tea".into(),
            amount: Money::cny(1234),
            status,
            time_expire: "2026-11-27T11:32:40Z".into(), // NOW + 10 min
            methods: vec![PayMethod::Balance, PayMethod::CreditCard],
            installment: None,
            release_days: 7,
            auto_refund_hours: None,
            in_review: false,
            review_hours: 24,
        }
    }

    fn state() -> Rc<State> {
        Rc::new(State::new(view(OrderStatus::NotPay), Lang::En, NOW, None))
    }

    fn card(s: Rc<State>, number: &str) -> Rc<State> {
        s.reduce(Action::SelectMethod(PayMethod::CreditCard))
            .reduce(Action::EditCardNumber(number.into()))
            .reduce(Action::EditExpiry("1235".into()))
            .reduce(Action::EditCvc("123".into()))
    }

    #[test]
    fn default_method_is_the_remembered_one_if_allowed() {
        assert_eq!(state().method, PayMethod::Balance);
        let s = State::new(
            view(OrderStatus::NotPay),
            Lang::En,
            NOW,
            Some(PayMethod::CreditCard),
        );
        assert_eq!(s.method, PayMethod::CreditCard);
        let s = State::new(
            view(OrderStatus::NotPay),
            Lang::En,
            NOW,
            Some(PayMethod::BankCard),
        );
        assert_eq!(s.method, PayMethod::Balance, "not allowed for this order");
    }

    #[test]
    fn submit_then_success() {
        let s = card(state(), "4242 4242 4242 4242");
        assert_eq!(s.card.expiry, "12/35");
        let s = s.reduce(Action::Submit { key: "k1".into() });
        assert_eq!(s.phase, Phase::Submitting);
        assert_eq!(s.submissions, 1);
        assert!(!s.can_pay(), "no double submit while in flight");
        let again = s.clone().reduce(Action::Submit { key: "k2".into() });
        assert_eq!(again.submissions, 1);
        let req = s.pay_request().unwrap();
        assert_eq!(req.card.unwrap().number, "4242424242424242");
        assert_eq!(req.submission_key.as_deref(), Some("k1"));
        let in_review = s.clone().reduce(Action::InReview);
        assert_eq!(in_review.phase, Phase::Paid);
        assert!(
            in_review.view.in_review,
            "paid into the merchant's risk review"
        );
        let s = s.reduce(Action::Paid);
        assert_eq!(s.phase, Phase::Paid);
        assert_eq!(s.view.status, OrderStatus::Success);
        assert!(!s.view.in_review);
    }

    #[test]
    fn bad_card_input_names_the_field_and_sends_nothing() {
        let s = card(state(), "4242 4242 4242 4241").reduce(Action::Submit { key: "k".into() });
        assert_eq!(s.field_error, Some(("number", "card_number_invalid")));
        assert_eq!(s.phase, Phase::Ready);
        assert_eq!(s.submissions, 0);
        let s = card(state(), "4242424242424242")
            .reduce(Action::EditExpiry("13".into()))
            .reduce(Action::Submit { key: "k".into() });
        assert_eq!(s.field_error.unwrap().0, "expiry");
    }

    #[test]
    fn an_expiry_the_edge_would_refuse_is_pointed_out_before_sending() {
        // NOW is November 2026: this month passes, last month and 2047 do not.
        for (typed, ok) in [
            ("1126", true),
            ("1026", false),
            ("1246", true),
            ("0147", false),
        ] {
            let s = card(state(), "4242424242424242")
                .reduce(Action::EditExpiry(typed.into()))
                .reduce(Action::Submit { key: "k".into() });
            let expected = (!ok).then_some(("expiry", "card_expiry_invalid"));
            assert_eq!(s.field_error, expected, "{typed}");
            assert_eq!(s.submissions, u32::from(ok), "{typed}");
        }
    }

    #[test]
    fn a_refusal_with_a_code_this_page_does_not_know_is_a_plain_failure() {
        let s = card(state(), "4242424242424242")
            .reduce(Action::Submit { key: "k".into() })
            .reduce(
                PayOutcome::Refused {
                    code: "SOMETHING_NEWER".into(),
                    message: "m".into(),
                }
                .into(),
            );
        assert!(matches!(&s.phase, Phase::Failed { code, .. } if code == "SOMETHING_NEWER"));
        assert_eq!(s.view.status, OrderStatus::NotPay);
        assert!(s.can_pay());
    }

    #[test]
    fn decline_then_switch_method_then_success() {
        let s = card(state(), "4000000000000002").reduce(Action::Submit { key: "k".into() });
        let s = s.reduce(Action::Declined {
            code: "CARD_DECLINED".into(),
            message: "declined".into(),
            next_step: NextStep::SwitchMethod,
        });
        assert!(matches!(
            s.phase,
            Phase::Failed {
                next_step: NextStep::SwitchMethod,
                ..
            }
        ));
        assert!(s.can_pay());
        assert_eq!(
            s.card.number, "4000 0000 0000 0002",
            "what was typed is kept"
        );
        let s = s.reduce(Action::SelectMethod(PayMethod::Balance));
        assert_eq!(s.phase, Phase::Ready);
        let s = s
            .reduce(Action::Submit { key: "k2".into() })
            .reduce(Action::Paid);
        assert_eq!(s.phase, Phase::Paid);
    }

    #[test]
    fn lost_answer_keeps_the_data_and_reuses_the_key() {
        let s = card(state(), "4242424242424242").reduce(Action::Submit {
            key: "first".into(),
        });
        let s = s.reduce(Action::NetworkFailed);
        assert_eq!(s.phase, Phase::NetworkLost);
        assert_eq!(s.card.number, "4242 4242 4242 4242");
        let s = s.reduce(Action::Submit {
            key: "second".into(),
        });
        assert_eq!(
            s.submission_key, "first",
            "a retry must not pay twice if the first arrived"
        );
    }

    #[test]
    fn try_again_resends_only_a_retryable_decline_or_a_lost_answer() {
        let sent = card(state(), "4242424242424242").reduce(Action::Submit { key: "k".into() });
        let declined = |next_step| Action::Declined {
            code: "PROCESSING_ERROR".into(),
            message: "m".into(),
            next_step,
        };
        assert!(sent
            .clone()
            .reduce(declined(NextStep::Retry))
            .retry_resends());
        assert!(!sent
            .clone()
            .reduce(declined(NextStep::SwitchMethod))
            .retry_resends());
        assert!(sent.clone().reduce(Action::NetworkFailed).retry_resends());
        assert!(!sent.retry_resends());
    }

    #[test]
    fn slow_payment_confirms_through_status() {
        let s = card(state(), "4000000000003220")
            .reduce(Action::Submit { key: "k".into() })
            .reduce(Action::Pending);
        assert_eq!(s.phase, Phase::Confirming);
        let s = s.reduce(Action::Status(OrderStatus::Success));
        assert_eq!(s.phase, Phase::Paid);
    }

    #[test]
    fn a_status_heard_while_paying_waits_for_the_payments_own_answer() {
        let sent = card(state(), "4242424242424242").reduce(Action::Submit { key: "k".into() });
        let heard = sent.reduce(Action::Status(OrderStatus::Success));
        assert_eq!(
            heard.phase,
            Phase::Submitting,
            "not paid yet as far as the page says"
        );
        let s = heard.clone().reduce(Action::InReview);
        assert_eq!((s.phase.clone(), s.view.in_review), (Phase::Paid, true));
        // Its answer lost: the status already said paid.
        assert_eq!(heard.reduce(Action::NetworkFailed).phase, Phase::Paid);
    }

    #[test]
    fn a_slow_payment_that_fails_says_so_and_offers_another_method() {
        let confirming = card(state(), "4000000000003220")
            .reduce(Action::Submit { key: "k".into() })
            .reduce(Action::Pending);
        let s = confirming
            .clone()
            .reduce(Action::Status(OrderStatus::PayError));
        assert_eq!(
            s.phase,
            Phase::Failed {
                code: "PAYMENT_FAILED".into(),
                message: String::new(),
                next_step: NextStep::SwitchMethod,
            }
        );
        assert!(s.can_pay(), "another method, or the same, can be tried");
        // Back to unpaid (another tab's attempt ended): nothing failed on this page.
        let s = confirming.reduce(Action::Status(OrderStatus::NotPay));
        assert_eq!(s.phase, Phase::Ready);
    }

    #[test]
    fn live_status_changes() {
        let s = state().reduce(Action::Status(OrderStatus::Closed));
        assert_eq!(s.phase, Phase::Blocked);
        assert!(!s.can_pay());
        let s = Rc::new(State::new(
            view(OrderStatus::PendingApproval),
            Lang::En,
            NOW,
            None,
        ));
        assert_eq!(s.phase, Phase::Blocked);
        let s = s.reduce(Action::Status(OrderStatus::NotPay));
        assert_eq!(s.phase, Phase::Ready, "approved: payable now");
        let s = state().reduce(Action::Status(OrderStatus::Success));
        assert_eq!(s.phase, Phase::Paid, "paid on another device");
    }

    #[test]
    fn countdown_expires_without_reload() {
        let s = state();
        assert_eq!(s.seconds_left(), 600);
        let s = s.reduce(Action::Tick(NOW + 599_000));
        assert_eq!(s.seconds_left(), 1);
        assert!(s.can_pay());
        let s = s.reduce(Action::Tick(NOW + 600_000));
        assert_eq!(s.phase, Phase::Blocked);
        assert!(!s.can_pay());
        let s = s.reduce(Action::Submit { key: "k".into() });
        assert_eq!(s.submissions, 0, "refuses to pay after the deadline");
    }

    #[test]
    fn refusals_move_to_the_orders_state() {
        let s = card(state(), "4242424242424242").reduce(Action::Submit { key: "k".into() });
        let s = s.reduce(Action::Refused {
            code: "ORDER_CLOSED".into(),
            message: "closed".into(),
        });
        assert_eq!(s.phase, Phase::Blocked);
        assert_eq!(s.view.status, OrderStatus::Closed);
        // Another tab's payment is being confirmed: not "nothing was charged", but waiting.
        let s = card(state(), "4242424242424242").reduce(Action::Submit { key: "k".into() });
        let s = s.reduce(Action::Refused {
            code: "ORDER_PAYING".into(),
            message: "paying".into(),
        });
        assert_eq!(s.phase, Phase::Confirming);
        assert_eq!(s.view.status, OrderStatus::UserPaying);
    }

    #[test]
    fn typing_formats() {
        assert_eq!(
            format_card_number("4242424242424242"),
            "4242 4242 4242 4242"
        );
        assert_eq!(format_card_number("4242-42a42"), "4242 4242");
        assert_eq!(
            format_card_number(&"1".repeat(25)).replace(' ', "").len(),
            19
        );
        assert_eq!(format_expiry("1", ""), "1");
        assert_eq!(format_expiry("12", "1"), "12/");
        assert_eq!(format_expiry("12", "12/"), "12", "backspace over the slash");
        assert_eq!(format_expiry("4", ""), "04/");
        assert_eq!(format_expiry("12/3", "12/"), "12/3");
        assert_eq!(format_expiry("1235", ""), "12/35");
        assert_eq!(parse_expiry("12/35"), Some((12, 35)));
        assert_eq!(parse_expiry("13/35"), None);
        assert_eq!(parse_expiry("1/35"), None);
        assert_eq!(format_countdown(600), "10:00");
        assert_eq!(format_countdown(3725), "1:02:05");
    }
}
