//! Card input rules: digits only (spaces and dashes allowed while typing), Luhn, expiry, CVC.
//! Full numbers never leave this module except to the channel call: callers keep the last four.

use paydesk_shared::api::CardInput;
use paydesk_shared::card as shared_card;

/// The digits of a card number, or None if anything but digits, spaces or dashes is in it.
pub fn digits(number: &str) -> Option<String> {
    let mut out = String::with_capacity(19);
    for c in number.chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '-' => {}
            _ => return None,
        }
    }
    (12..=19).contains(&out.len()).then_some(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardProblem {
    Number,
    Expiry,
    Cvc,
}

/// Checks a card as typed against the current year/month; returns its digits.
pub fn check(card: &CardInput, now_year: u16, now_month: u8) -> Result<String, CardProblem> {
    let d = digits(&card.number)
        .filter(|d| shared_card::number_ok(d))
        .ok_or(CardProblem::Number)?;
    // The pay page checks expiry and CVC by these same shared rules before sending.
    if !shared_card::expiry_ok(card.exp_month, card.exp_year, now_year, now_month) {
        return Err(CardProblem::Expiry);
    }
    if !shared_card::cvc_ok(&card.cvc) {
        return Err(CardProblem::Cvc);
    }
    Ok(d)
}

pub fn last4(digits: &str) -> &str {
    &digits[digits.len().saturating_sub(4)..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(number: &str) -> CardInput {
        CardInput {
            number: number.into(),
            exp_month: 12,
            exp_year: 2030,
            cvc: "123".into(),
        }
    }

    #[test]
    fn typed_forms() {
        assert_eq!(
            check(&card("4242 4242 4242 4242"), 2026, 11).unwrap(),
            "4242424242424242"
        );
        assert_eq!(
            check(&card("4242-4242-4242-4242"), 2026, 11).unwrap().len(),
            16
        );
        assert_eq!(
            check(&card("4242 4242 4242 4241"), 2026, 11),
            Err(CardProblem::Number)
        );
        assert_eq!(
            check(&card("4242x4242"), 2026, 11),
            Err(CardProblem::Number)
        );
        assert_eq!(
            check(&card("４２４２4242424242"), 2026, 11),
            Err(CardProblem::Number)
        );
        let mut c = card("4242424242424242");
        c.exp_month = 13;
        assert_eq!(check(&c, 2026, 11), Err(CardProblem::Expiry));
        c.exp_month = 10;
        c.exp_year = 2026;
        assert_eq!(check(&c, 2026, 11), Err(CardProblem::Expiry));
        c.exp_month = 11;
        assert!(check(&c, 2026, 11).is_ok());
        c.cvc = "12a".into();
        assert_eq!(check(&c, 2026, 11), Err(CardProblem::Cvc));
        assert_eq!(last4("4242424242424242"), "4242");
    }
}
