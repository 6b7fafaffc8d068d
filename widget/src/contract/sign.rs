//! The signing form's state and its rules, pure: what the payer chose and typed, and whether a
//! submit may go to the worker or must first point out what to fix. The browser
//! (`contract/client.rs`) feeds it events; the renderer (`contract/page.rs`) shows it.

use crate::i18n::Lang;
use crate::state::{
    format_card_number, instrument_request, known_field_error, CardFields, DEFAULT_WALLET,
};
use paydesk_shared::api::{PayMethod, PayRequest};
use paydesk_shared::contract::{ContractProblem, ContractSeed};

/// What signing with this entry at `now_ms` would use, or what must change first: the card,
/// then the consent. The browser checks a submit with it and the worker a post (`SignPost`).
pub fn check(
    method: PayMethod,
    wallet: &str,
    card: &CardFields,
    consent: bool,
    now_ms: i64,
) -> Result<PayRequest, ContractProblem> {
    let req = instrument_request(method, wallet, card, now_ms).map_err(|(field, reason)| {
        ContractProblem::Field {
            field: field.into(),
            reason: reason.into(),
        }
    })?;
    if !consent {
        return Err(ContractProblem::Consent);
    }
    Ok(req)
}

/// The signing form as the payer has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Signing {
    pub lang: Lang,
    pub method: PayMethod,
    /// Sandbox wallet for `balance`.
    pub wallet: String,
    pub card: CardFields,
    pub consent: bool,
    /// What the page says must change: from the worker's answer to a post, or from the last
    /// submit in the browser.
    pub problem: Option<ContractProblem>,
}

/// One change the payer made.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Method(PayMethod),
    Wallet(String),
    /// As typed: grouped in fours on the way in.
    Number(String),
    Expiry(String),
    Cvc(String),
    Consent(bool),
    Lang(Lang),
}

impl Signing {
    /// The form as the worker rendered it: the posted choice kept, card data never echoed.
    pub fn seeded(seed: &ContractSeed) -> Signing {
        Signing {
            lang: Lang::from_tag(&seed.lang),
            method: seed.method.unwrap_or(PayMethod::Balance),
            wallet: seed.wallet.clone().unwrap_or_else(|| DEFAULT_WALLET.into()),
            card: CardFields::default(),
            consent: false,
            problem: seed.problem.clone(),
        }
    }

    pub fn edit(&mut self, e: Edit) {
        match e {
            Edit::Method(m) => self.method = m,
            Edit::Wallet(w) => self.wallet = w,
            Edit::Number(n) => self.card.number = format_card_number(&n),
            Edit::Expiry(x) => self.card.expiry = x,
            Edit::Cvc(c) => self.card.cvc = c,
            Edit::Consent(on) => self.consent = on,
            Edit::Lang(l) => self.lang = l,
        }
    }

    /// A submit at `now_ms`: `true` when the form may post (the worker checks it again);
    /// otherwise the problem to show, and nothing is sent.
    pub fn submit(&mut self, now_ms: i64) -> bool {
        self.problem = check(self.method, &self.wallet, &self.card, self.consent, now_ms).err();
        self.problem.is_none()
    }

    /// The card field to fix and its reason key, when the problem is one the page explains.
    pub fn field_error(&self) -> Option<(&'static str, &'static str)> {
        match &self.problem {
            Some(ContractProblem::Field { field, reason }) => known_field_error(field, reason),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::NOW;

    fn seed() -> ContractSeed {
        ContractSeed {
            lang: "en".into(),
            now_ms: NOW,
            ..ContractSeed::default()
        }
    }

    #[test]
    fn a_fresh_form_starts_on_the_wallet_without_consent() {
        let s = Signing::seeded(&seed());
        assert_eq!(
            (s.method, s.wallet.as_str()),
            (PayMethod::Balance, "wallet_ok")
        );
        assert!(!s.consent && s.problem.is_none() && s.card == CardFields::default());
    }

    #[test]
    fn the_answer_to_a_post_keeps_its_choice_and_problem() {
        let mut sd = seed();
        sd.method = Some(PayMethod::BankCard);
        sd.problem = Some(ContractProblem::Field {
            field: "number".into(),
            reason: "card_number_invalid".into(),
        });
        let s = Signing::seeded(&sd);
        assert_eq!(s.method, PayMethod::BankCard);
        assert_eq!(s.field_error(), Some(("number", "card_number_invalid")));
        sd.problem = Some(ContractProblem::Field {
            field: "number".into(),
            reason: "something_else".into(),
        });
        assert_eq!(Signing::seeded(&sd).field_error(), None);
    }

    #[test]
    fn a_submit_points_out_the_card_then_the_consent_then_lets_it_post() {
        let mut s = Signing::seeded(&seed());
        s.edit(Edit::Method(PayMethod::BankCard));
        s.edit(Edit::Number("4242424242424241".into()));
        assert_eq!(s.card.number, "4242 4242 4242 4241");
        assert!(!s.submit(NOW));
        assert_eq!(s.field_error(), Some(("number", "card_number_invalid")));
        s.edit(Edit::Number("4242 4242 4242 4242".into()));
        s.edit(Edit::Expiry("12/40".into()));
        s.edit(Edit::Cvc("123".into()));
        assert!(!s.submit(NOW));
        assert_eq!(s.problem, Some(ContractProblem::Consent));
        s.edit(Edit::Consent(true));
        assert!(s.submit(NOW));
        assert_eq!(s.problem, None);
        // An expiry in the past at the page's clock is caught too.
        s.edit(Edit::Expiry("01/20".into()));
        assert!(!s.submit(NOW));
        assert_eq!(s.field_error(), Some(("expiry", "card_expiry_invalid")));
    }

    #[test]
    fn the_wallet_needs_only_the_consent() {
        let mut s = Signing::seeded(&seed());
        s.edit(Edit::Wallet("wallet_low".into()));
        assert!(!s.submit(NOW));
        s.edit(Edit::Consent(true));
        assert!(s.submit(NOW));
        s.edit(Edit::Consent(false));
        assert!(!s.submit(NOW));
    }
}
