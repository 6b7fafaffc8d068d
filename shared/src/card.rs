//! Card number rules both halves apply: the widget before sending, the edge before charging.

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
}
