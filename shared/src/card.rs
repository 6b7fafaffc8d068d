//! Card rules both halves apply: the widget before sending, the edge before charging. One copy,
//! so the page never sends what the edge refuses, nor refuses what the edge would take.

/// UnionPay (BIN 62) numbers do not all carry a Luhn check digit (card-validator's
/// `luhnValidateUnionPay` exists for this reason), so they are exempt; every other card is checked.
pub fn is_unionpay(digits: &str) -> bool {
    digits.starts_with("62")
}

/// The Luhn check digit test over ASCII digits.
pub fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b.wrapping_sub(b'0'));
        if d > 9 {
            return false;
        }
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// A plausible card number: 12-19 digits that pass Luhn (or are UnionPay).
pub fn number_ok(digits: &str) -> bool {
    (12..=19).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (is_unionpay(digits) || luhn_ok(digits))
}

/// A security code: 3 or 4 ASCII digits (4 on American Express, 3 elsewhere).
pub fn cvc_ok(cvc: &str) -> bool {
    (3..=4).contains(&cvc.len()) && cvc.bytes().all(|b| b.is_ascii_digit())
}

/// How far ahead an expiry may be: issuers print at most a few years ahead, so a date further
/// out is a typo.
pub const MAX_YEARS_AHEAD: u16 = 20;

/// An expiry date (`month` 1-12, four-digit `year`) that is neither past nor too far ahead at
/// `now_year`/`now_month` (UTC). A card is valid through its expiry month, so this month passes.
/// A past date is something the payer can fix in the form; a card that expired since it was
/// issued is still the channel's to decline.
pub fn expiry_ok(month: u8, year: u16, now_year: u16, now_month: u8) -> bool {
    (1..=12).contains(&month)
        && year <= now_year.saturating_add(MAX_YEARS_AHEAD)
        && (year, month) >= (now_year, now_month)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_unionpay() {
        for good in [
            "4242424242424242",
            "4000000000000002",
            "4000000000009995",
            "4000000000000069",
            "4000000000000119",
            "4000000000003220",
        ] {
            assert!(luhn_ok(good) && number_ok(good), "{good}");
        }
        assert!(!luhn_ok("4242424242424241"));
        assert!(
            !luhn_ok("6222000000000000"),
            "the documented UnionPay test card has no check digit"
        );
        assert!(number_ok("6222000000000000"));
        assert!(!number_ok("4242 4242 4242 4242"), "digits only");
        assert!(!number_ok("42424242"));
    }

    #[test]
    fn security_codes() {
        for good in ["123", "0000", "9999"] {
            assert!(cvc_ok(good), "{good}");
        }
        for bad in ["", "12", "12345", "12a", " 123", "１２３"] {
            assert!(!cvc_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn expiry_dates() {
        // At November 2026.
        let ok = |m, y| expiry_ok(m, y, 2026, 11);
        assert!(ok(11, 2026), "valid through its month");
        assert!(ok(12, 2026) && ok(1, 2027) && ok(12, 2046));
        assert!(!ok(10, 2026) && !ok(12, 2025), "in the past");
        assert!(!ok(1, 2047), "more than 20 years ahead");
        assert!(!ok(0, 2030) && !ok(13, 2030), "no such month");
        assert!(expiry_ok(12, u16::MAX, u16::MAX - 1, 1), "no overflow");
    }
}
