//! The pay page without JavaScript: its HTML form posts to the worker, which validates the entry
//! with the same reducer the widget uses, pays, and renders the page again from a [`RenderSeed`]
//! that carries the answer. Pure, so it is tested natively; the worker's route is the glue.

use crate::i18n::Lang;
use crate::state::{Action, State};
use paydesk_shared::api::{NextStep, PayMethod, PayRequest, PayResult};
use paydesk_shared::{CheckoutView, OrderStatus, PayOutcome, RenderSeed};
use std::rc::Rc;

/// Reads the checkout API's answer to `POST /api/checkout/{token}/pay`, as the page does
/// ([`crate::page::json`]): 200/402 carry a [`PayResult`], other 4xx an error body
/// ([`crate::page::json::Refusal`]); anything else is as good as no answer
/// ([`PayOutcome::Unavailable`]: the page keeps what was typed and offers to retry).
pub fn pay_outcome(status: u16, body: &str) -> PayOutcome {
    use crate::page::json::from_str;
    if status == 200 || status == 402 {
        return match from_str::<PayResult>(body) {
            Some(r) if r.status == OrderStatus::Success && r.code.is_some() => PayOutcome::InReview,
            Some(r) if r.status == OrderStatus::Success => PayOutcome::Paid,
            Some(r) if r.status == OrderStatus::UserPaying => PayOutcome::Pending,
            Some(r) => PayOutcome::Declined {
                code: r.code.unwrap_or_default(),
                message: r.message.unwrap_or_default(),
                next_step: r.next_step.unwrap_or(NextStep::None),
            },
            None => PayOutcome::Unavailable,
        };
    }
    match from_str::<crate::page::json::Refusal>(body) {
        Some(e) if status < 500 => PayOutcome::Refused {
            code: e.code,
            message: e.message,
        },
        _ => PayOutcome::Unavailable,
    }
}

/// The pay form as posted (`application/x-www-form-urlencoded`), field names as the page's
/// inputs have them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormPost {
    pub method: Option<PayMethod>,
    pub wallet: Option<String>,
    pub card_number: String,
    pub card_exp: String,
    pub card_cvc: String,
    pub submission_key: String,
}

/// The longest submission key accepted: the worker's are 32 hex digits.
const MAX_KEY: usize = 64;

impl FormPost {
    /// Parses a posted form. Unknown fields are ignored; a repeated field keeps its first value.
    pub fn parse(body: &str) -> FormPost {
        let mut f = FormPost::default();
        let mut seen = std::collections::HashSet::new();
        for (k, v) in paydesk_shared::urlenc::query_pairs(body) {
            if !seen.insert(k.clone()) {
                continue;
            }
            match k.as_str() {
                "method" => f.method = PayMethod::parse(&v),
                "wallet" => f.wallet = Some(v),
                "card_number" => f.card_number = v,
                "card_exp" => f.card_exp = v,
                "card_cvc" => f.card_cvc = v,
                "submission_key" => f.submission_key = v,
                _ => {}
            }
        }
        f
    }

    /// Whether the post carries a key the worker could have issued: hex, of sane length.
    pub fn key_ok(&self) -> bool {
        (16..=MAX_KEY).contains(&self.submission_key.len())
            && self.submission_key.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// Runs the entry through the page's reducer: the pay request to send, or the page to
    /// render again (the method kept, the field to fix marked, nothing typed echoed back).
    pub fn submit(
        &self,
        view: &CheckoutView,
        lang: Lang,
        now_ms: i64,
    ) -> Result<PayRequest, Box<State>> {
        let mut s = Rc::new(State::new(view.clone(), lang, now_ms, None));
        let actions = [
            self.method.map(Action::SelectMethod),
            self.wallet.clone().map(Action::SelectWallet),
            Some(Action::EditCardNumber(self.card_number.clone())),
            Some(Action::EditExpiry(self.card_exp.clone())),
            Some(Action::EditCvc(self.card_cvc.clone())),
            Some(Action::Submit {
                key: self.submission_key.clone(),
            }),
        ];
        for a in actions.into_iter().flatten() {
            s = s.reduce(a);
        }
        match s.pay_request() {
            Ok(req) if s.field_error.is_none() && s.submissions == 1 => Ok(req),
            _ => Err(Box::new(Rc::unwrap_or_clone(s))),
        }
    }

    /// The seed of the page that answers this post: the method and wallet kept, card data
    /// never echoed, and the key the next post must carry (`next_key`).
    pub fn seed(
        &self,
        lang: Lang,
        now_ms: i64,
        outcome: Option<PayOutcome>,
        field_error: Option<(&str, &str)>,
        next_key: String,
    ) -> RenderSeed {
        RenderSeed {
            lang: lang.code().into(),
            now_ms,
            submission_key: next_key,
            method: self.method,
            wallet: self.wallet.clone(),
            outcome,
            field_error: field_error.map(|(f, r)| (f.into(), r.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The form is read with the shared decoder; its behaviour is pinned here too.
    use crate::state::tests::NOW;
    use paydesk_shared::urlenc::form_component as percent_decode;

    /// The state tests' order, with credit card offered first.
    fn view() -> CheckoutView {
        let mut v = crate::state::tests::view(OrderStatus::NotPay);
        v.methods = vec![PayMethod::CreditCard, PayMethod::Balance];
        v
    }

    const KEY: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn decodes_forms() {
        assert_eq!(percent_decode("a+b%20c%2Bd"), "a b c+d");
        assert_eq!(percent_decode("%E6%94%AF"), "支");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%+1"), "% 1");
        let f = FormPost::parse(&format!(
            "method=credit_card&card_number=4242+4242+4242+4242&card_exp=12%2F30&card_cvc=123&submission_key={KEY}&method=balance&x=1"
        ));
        assert_eq!(f.method, Some(PayMethod::CreditCard), "first value wins");
        assert_eq!(f.card_number, "4242 4242 4242 4242");
        assert_eq!(f.card_exp, "12/30");
        assert!(f.key_ok());
        assert!(!FormPost::parse("submission_key=abc").key_ok());
        assert!(!FormPost::parse(&format!("submission_key={}", "g".repeat(32))).key_ok());
        assert_eq!(FormPost::parse("method=cash").method, None);
    }

    #[test]
    fn a_valid_card_entry_becomes_the_pay_request_with_the_forms_key() {
        let f = FormPost::parse(&format!(
            "method=credit_card&card_number=4242424242424242&card_exp=1230&card_cvc=123&submission_key={KEY}"
        ));
        let req = f.submit(&view(), Lang::En, NOW).unwrap();
        assert_eq!(req.method, PayMethod::CreditCard);
        assert_eq!(req.card.as_ref().unwrap().number, "4242424242424242");
        assert_eq!(req.card.as_ref().unwrap().exp_year, 2030);
        assert_eq!(req.submission_key.as_deref(), Some(KEY));
        let wallet = FormPost::parse(&format!(
            "method=balance&wallet=wallet_low&submission_key={KEY}"
        ));
        let req = wallet.submit(&view(), Lang::En, NOW).unwrap();
        assert_eq!(req.wallet.as_deref(), Some("wallet_low"));
        assert!(req.card.is_none());
    }

    #[test]
    fn a_bad_entry_names_the_field_and_keeps_the_method() {
        let f = FormPost::parse(&format!(
            "method=credit_card&card_number=4242424242424241&card_exp=1230&card_cvc=123&submission_key={KEY}"
        ));
        let s = f.submit(&view(), Lang::En, NOW).unwrap_err();
        assert_eq!(s.field_error, Some(("number", "card_number_invalid")));
        assert_eq!(s.method, PayMethod::CreditCard);
        let seed = f.seed(Lang::En, NOW, None, s.field_error, "k2".into());
        assert_eq!(
            seed.field_error,
            Some(("number".into(), "card_number_invalid".into()))
        );
        assert_eq!(seed.method, Some(PayMethod::CreditCard));
        assert_eq!(seed.submission_key, "k2");
        // A method the order does not allow, or an order that cannot be paid, sends nothing.
        let bank = FormPost::parse(&format!("method=bank_card&card_number=4242424242424242&card_exp=1230&card_cvc=123&submission_key={KEY}"));
        assert_eq!(
            bank.submit(&view(), Lang::En, NOW).unwrap().method,
            PayMethod::CreditCard
        );
        let mut closed = view();
        closed.status = OrderStatus::Closed;
        assert!(f.submit(&closed, Lang::En, NOW).is_err());
        let mut late = view();
        late.time_expire = "2026-11-27T11:00:00Z".into();
        assert!(
            FormPost::parse(&format!("method=balance&submission_key={KEY}"))
                .submit(&late, Lang::En, NOW)
                .is_err()
        );
    }

    fn page(seed: RenderSeed) -> paydesk_shared::PayPageData {
        paydesk_shared::PayPageData {
            view: view(),
            token: "t".into(),
            embed_origin: None,
            sandbox: true,
            seed,
        }
    }

    #[test]
    fn the_answer_page_starts_where_the_post_left_off() {
        use crate::state::Phase;
        let f = FormPost::parse(&format!(
            "method=balance&wallet=wallet_low&submission_key={KEY}"
        ));
        let declined = PayOutcome::Declined {
            code: "INSUFFICIENT_FUNDS".into(),
            message: "m".into(),
            next_step: NextStep::SwitchMethod,
        };
        let seed = f.seed(Lang::En, NOW, Some(declined), None, "next".into());
        let s = State::seeded(&page(seed), Lang::En, NOW);
        assert!(matches!(&s.phase, Phase::Failed { code, .. } if code == "INSUFFICIENT_FUNDS"));
        assert_eq!(
            (s.method, s.wallet.as_str()),
            (PayMethod::Balance, "wallet_low")
        );
        assert_eq!(s.form_key, "next");
        assert!(s.can_pay(), "the payer can try again at once");
        let paid = State::seeded(
            &page(f.seed(Lang::En, NOW, Some(PayOutcome::Paid), None, "k".into())),
            Lang::En,
            NOW,
        );
        assert_eq!(
            (paid.phase, paid.view.status),
            (Phase::Paid, OrderStatus::Success)
        );
        let lost = State::seeded(
            &page(f.seed(
                Lang::En,
                NOW,
                Some(PayOutcome::Unavailable),
                None,
                KEY.into(),
            )),
            Lang::En,
            NOW,
        );
        assert_eq!(lost.phase, Phase::NetworkLost);
        assert_eq!(
            lost.form_key, KEY,
            "a lost answer is retried with the same key"
        );
        let bad = RenderSeed {
            field_error: Some(("cvc".into(), "card_cvc_invalid".into())),
            ..RenderSeed::default()
        };
        assert_eq!(
            State::seeded(&page(bad), Lang::En, NOW).field_error,
            Some(("cvc", "card_cvc_invalid"))
        );
        let unknown = RenderSeed {
            field_error: Some(("<b>".into(), "x".into())),
            ..RenderSeed::default()
        };
        assert_eq!(
            State::seeded(&page(unknown), Lang::En, NOW).field_error,
            None
        );
    }

    #[test]
    fn what_was_typed_before_hydration_is_put_back() {
        use crate::page::Restore;
        let s = State::seeded(&page(RenderSeed::default()), Lang::En, NOW);
        assert_eq!(s.method, PayMethod::CreditCard);
        let typed = Restore {
            method: Some(PayMethod::Balance),
            wallet: Some("wallet_low".into()),
            number: "4242".into(),
            remembered: Some(PayMethod::CreditCard),
            ..Restore::default()
        };
        assert_eq!(
            typed.actions(&s, true),
            vec![
                Action::SelectMethod(PayMethod::Balance),
                Action::SelectWallet("wallet_low".into()),
                Action::EditCardNumber("4242".into()),
            ]
        );
        // Untouched form: the remembered method wins on a fresh page, not on an answer page.
        let untouched = Restore {
            method: Some(PayMethod::CreditCard),
            wallet: Some("wallet_ok".into()),
            remembered: Some(PayMethod::Balance),
            ..Restore::default()
        };
        assert_eq!(
            untouched.actions(&s, true),
            vec![Action::SelectMethod(PayMethod::Balance)]
        );
        assert_eq!(untouched.actions(&s, false), vec![]);
        // A page answering a post, with an outcome or a field to fix, is not fresh.
        use crate::page::is_fresh;
        assert!(is_fresh(&RenderSeed::default()));
        let to_fix = RenderSeed {
            field_error: Some(("number".into(), "card_number_invalid".into())),
            ..RenderSeed::default()
        };
        assert!(!is_fresh(&to_fix));
        let answered = RenderSeed {
            outcome: Some(PayOutcome::Paid),
            ..RenderSeed::default()
        };
        assert!(!is_fresh(&answered));
    }

    #[test]
    fn answers_read_like_the_widget_reads_them() {
        assert_eq!(
            pay_outcome(200, r#"{"status":"SUCCESS"}"#),
            PayOutcome::Paid
        );
        assert_eq!(
            pay_outcome(
                200,
                r#"{"status":"SUCCESS","code":"IN_REVIEW","message":"m"}"#
            ),
            PayOutcome::InReview
        );
        assert_eq!(
            pay_outcome(200, r#"{"status":"USERPAYING"}"#),
            PayOutcome::Pending
        );
        assert_eq!(
            pay_outcome(
                402,
                r#"{"status":"PAYERROR","code":"CARD_DECLINED","message":"m","next_step":"switch_method"}"#
            ),
            PayOutcome::Declined {
                code: "CARD_DECLINED".into(),
                message: "m".into(),
                next_step: NextStep::SwitchMethod
            }
        );
        assert_eq!(
            pay_outcome(409, r#"{"code":"ORDER_PAID","message":"m"}"#),
            PayOutcome::Refused {
                code: "ORDER_PAID".into(),
                message: "m".into()
            }
        );
        assert_eq!(
            pay_outcome(503, r#"{"code":"X","message":"m"}"#),
            PayOutcome::Unavailable
        );
        assert_eq!(pay_outcome(200, "not json"), PayOutcome::Unavailable);
        assert_eq!(Action::from(PayOutcome::Unavailable), Action::NetworkFailed);
    }
}
