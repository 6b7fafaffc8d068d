//! What a payer's pay request must be before any money moves: the one-time submission key, an
//! order in a payable state, a method the order offers, and a usable instrument.

use super::card::{self, CardProblem};
use super::refusal::Refusal;
use super::state::{transition, Event};
use crate::channel::Instrument;
use paydesk_shared::api::{ErrorCode, PayMethod, PayRequest};
use paydesk_shared::OrderStatus;

/// A submission key is 16-64 characters of `A-Z a-z 0-9 _ -`.
pub fn check_submission_key(key: &str) -> Result<(), Refusal> {
    let ok = (16..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Refusal::param(
            "submission_key",
            "submission_key must be 16-64 characters of A-Z a-z 0-9 _ -",
        ))
    }
}

/// A key already used for another order.
pub fn key_of_another_order() -> Refusal {
    Refusal::param(
        "submission_key",
        "this submission key belongs to another order",
    )
}

/// Whether an order in `status` can be paid now, in words for the payer.
pub fn check_payable(status: OrderStatus) -> Result<(), Refusal> {
    transition(status, Event::StartPay)
        .map(|_| ())
        .map_err(|code| {
            let msg = match code {
                ErrorCode::OrderPaid => "this order is already paid",
                ErrorCode::OrderClosed => "this order is closed and can no longer be paid",
                ErrorCode::PendingApproval => "this order awaits the merchant's confirmation",
                ErrorCode::OrderPaying => "a payment of this order is in progress",
                _ => "this order cannot be paid now",
            };
            Refusal::new(code, msg)
        })
}

/// The instrument a pay request names, checked at the payer's `year`/`month` (UTC), for an
/// order that offers `offered`.
pub fn instrument(
    pay: &PayRequest,
    offered: &[PayMethod],
    year: u16,
    month: u8,
) -> Result<Instrument, Refusal> {
    if !offered.contains(&pay.method) {
        return Err(Refusal::param(
            "method",
            "this payment method is not offered for this order",
        ));
    }
    match pay.method {
        PayMethod::Balance => match pay.wallet.as_deref() {
            Some(w @ ("wallet_ok" | "wallet_low")) => Ok(Instrument::Wallet(w.to_owned())),
            _ => Err(Refusal::param(
                "wallet",
                "choose a wallet: wallet_ok or wallet_low (sandbox)",
            )),
        },
        method @ (PayMethod::BankCard | PayMethod::CreditCard) => {
            let c = pay
                .card
                .as_ref()
                .ok_or_else(|| Refusal::param("card", "card details are required"))?;
            let digits = card::check(c, year, month).map_err(|p| match p {
                CardProblem::Number => {
                    Refusal::param("card.number", "the card number is not valid")
                }
                CardProblem::Expiry => Refusal::param("card.exp", "the expiry date is not valid"),
                CardProblem::Cvc => {
                    Refusal::param("card.cvc", "the security code must be 3 or 4 digits")
                }
            })?;
            Ok(Instrument::Card { method, digits })
        }
    }
}

/// The last four digits of a card instrument (all the ledger keeps of it).
pub fn last4(instrument: &Instrument) -> Option<String> {
    match instrument {
        Instrument::Card { digits, .. } => Some(card::last4(digits).to_owned()),
        Instrument::CardOnFile { last4, .. } => Some(last4.clone()),
        Instrument::Wallet(_) => None,
    }
}

/// A retry with the same card counts as the same attempt series (the sandbox's "fails once,
/// then succeeds" card relies on it); another instrument starts over.
pub fn attempt_number(previous_last4: Option<&str>, last4: Option<&str>, attempts: u32) -> u32 {
    if previous_last4 == last4 {
        attempts
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_shared::api::CardInput;

    fn pay(method: PayMethod) -> PayRequest {
        PayRequest {
            method,
            wallet: Some("wallet_ok".into()),
            card: Some(CardInput {
                number: "4242 4242 4242 4242".into(),
                exp_month: 12,
                exp_year: 2030,
                cvc: "123".into(),
            }),
            submission_key: None,
        }
    }

    #[test]
    fn submission_keys() {
        assert!(check_submission_key("0123456789abcdef").is_ok());
        assert!(check_submission_key(&"a".repeat(64)).is_ok());
        for bad in ["short", &"a".repeat(65), "0123456789abcde!"] {
            assert_eq!(
                check_submission_key(bad).unwrap_err().param.as_deref(),
                Some("submission_key")
            );
        }
    }

    #[test]
    fn payable_states_in_the_payers_words() {
        assert!(check_payable(OrderStatus::NotPay).is_ok());
        assert!(check_payable(OrderStatus::PayError).is_ok());
        let r = check_payable(OrderStatus::Closed).unwrap_err();
        assert_eq!(r.code, ErrorCode::OrderClosed);
        assert!(r.message.contains("can no longer be paid"));
        assert_eq!(
            check_payable(OrderStatus::PendingApproval)
                .unwrap_err()
                .code,
            ErrorCode::PendingApproval
        );
    }

    #[test]
    fn instruments_by_method() {
        let all = PayMethod::ALL;
        assert_eq!(
            instrument(&pay(PayMethod::Balance), &all, 2026, 11),
            Ok(Instrument::Wallet("wallet_ok".into()))
        );
        let card = instrument(&pay(PayMethod::CreditCard), &all, 2026, 11).unwrap();
        assert_eq!(last4(&card).as_deref(), Some("4242"));
        let refused = |p: PayRequest, offered: &[PayMethod]| {
            instrument(&p, offered, 2026, 11).unwrap_err().param
        };
        assert_eq!(
            refused(pay(PayMethod::BankCard), &[PayMethod::Balance]).as_deref(),
            Some("method")
        );
        let mut low = pay(PayMethod::Balance);
        low.wallet = Some("wallet_rich".into());
        assert_eq!(refused(low, &all).as_deref(), Some("wallet"));
        let mut none = pay(PayMethod::CreditCard);
        none.card = None;
        assert_eq!(refused(none, &all).as_deref(), Some("card"));
        let mut cvc = pay(PayMethod::CreditCard);
        cvc.card.as_mut().unwrap().cvc = "1".into();
        assert_eq!(refused(cvc, &all).as_deref(), Some("card.cvc"));
    }

    #[test]
    fn retries_count_per_card() {
        assert_eq!(attempt_number(Some("0119"), Some("0119"), 1), 1);
        assert_eq!(attempt_number(Some("0119"), Some("4242"), 1), 0);
        assert_eq!(attempt_number(None, None, 2), 2);
    }
}
