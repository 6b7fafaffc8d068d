//! The contract page (`/contract/{token}`): where a payer reads the terms of a withhold
//! contract and authorises it, sees it once signed, and ends it. Built like the pay page,
//! without a framework: the worker renders it ([`render_contract_page`], `page.rs`) and inlines
//! the [`ContractPageData`]; in the browser (`client.rs`, feature `contract-page`) the same
//! renderer runs again on every change of the pure signing form ([`sign::Signing`]) and the
//! document is morphed into it. [`SignPost`] is what the worker does with the form when there
//! is no JavaScript.

#[cfg(feature = "contract-page")]
pub mod client;
mod data;
mod page;
pub mod sign;
pub mod text;

pub use page::render;

use crate::i18n::Lang;
use crate::state::{CardFields, DEFAULT_WALLET};
use paydesk_shared::api::{PayMethod, PayRequest};
use paydesk_shared::contract::{ContractPageData, ContractProblem, ContractSeed};

/// The contract page's markup for `data`, as the worker sends it.
pub fn render_contract_page(data: &ContractPageData) -> String {
    page::render(data, &sign::Signing::seeded(&data.seed), None)
}

/// The signing form as posted (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignPost {
    pub method: Option<PayMethod>,
    pub wallet: Option<String>,
    pub card: CardFields,
    pub consent: bool,
}

impl SignPost {
    /// Unknown fields are ignored; a repeated field keeps its first value.
    pub fn parse(body: &str) -> SignPost {
        let mut f = SignPost::default();
        let mut seen = std::collections::HashSet::new();
        for (k, v) in paydesk_shared::urlenc::query_pairs(body) {
            if !seen.insert(k.clone()) {
                continue;
            }
            match k.as_str() {
                "method" => f.method = PayMethod::parse(&v),
                "wallet" => f.wallet = Some(v),
                "card_number" => f.card.number = v,
                "card_exp" => f.card.expiry = v,
                "card_cvc" => f.card.cvc = v,
                "consent" => f.consent = v == "yes",
                _ => {}
            }
        }
        f
    }

    /// The instrument to sign with, or what the page must say (the same checks as in the
    /// browser, at the worker's clock).
    pub fn instrument(&self, now_ms: i64) -> Result<PayRequest, ContractProblem> {
        sign::check(
            self.method.unwrap_or(PayMethod::Balance),
            self.wallet.as_deref().unwrap_or(DEFAULT_WALLET),
            &self.card,
            self.consent,
            now_ms,
        )
    }

    /// The seed of the page that answers this post: the choice kept, card data never echoed.
    pub fn seed(&self, lang: Lang, now_ms: i64, problem: Option<ContractProblem>) -> ContractSeed {
        ContractSeed {
            lang: lang.code().into(),
            now_ms,
            method: self.method,
            wallet: self.wallet.clone(),
            problem,
            confirm_end: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::NOW;

    #[test]
    fn a_posted_form_is_read_and_checked() {
        let wallet = SignPost::parse("method=balance&wallet=wallet_low&consent=yes&x=1");
        let req = wallet.instrument(NOW).unwrap();
        assert_eq!(
            (req.method, req.wallet.as_deref()),
            (PayMethod::Balance, Some("wallet_low"))
        );
        let no_consent = SignPost::parse("method=balance&wallet=wallet_ok");
        assert_eq!(no_consent.instrument(NOW), Err(ContractProblem::Consent));
        let bad_card =
            SignPost::parse("method=bank_card&card_number=4242+4242+4242+4241&consent=yes");
        assert_eq!(
            bad_card.instrument(NOW),
            Err(ContractProblem::Field {
                field: "number".into(),
                reason: "card_number_invalid".into()
            })
        );
        let card = SignPost::parse(
            "method=credit_card&card_number=4242424242424242&card_exp=12%2F40&card_cvc=123&consent=yes",
        );
        let req = card.instrument(NOW).unwrap();
        assert_eq!(req.card.unwrap().exp_year, 2040);
        // The first of a repeated field counts; card data is never put back in the seed.
        let twice = SignPost::parse("consent=no&consent=yes");
        assert!(!twice.consent);
        let seed = card.seed(Lang::En, NOW, None);
        assert_eq!(seed.method, Some(PayMethod::CreditCard));
        assert!(!serde_json::to_string(&seed).unwrap().contains("4242"));
    }
}
