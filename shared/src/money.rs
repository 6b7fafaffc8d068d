//! Money as integer minor units (fen for CNY, cents for USD). No floats anywhere.

use core::fmt;
use serde::{Deserialize, Serialize};

/// The largest amount we accept, in minor units: the largest integer a JavaScript client can hold
/// exactly (2^53 - 1), so an amount survives every JSON parser on the way.
pub const MAX_MINOR: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "CNY")]
    Cny,
    #[serde(rename = "USD")]
    Usd,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
            Currency::Usd => "USD",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Cny => "¥",
            Currency::Usd => "$",
        }
    }

    /// Digits after the decimal point of one major unit.
    pub fn minor_digits(self) -> u32 {
        2
    }

    pub fn parse(code: &str) -> Option<Currency> {
        match code {
            "CNY" => Some(Currency::Cny),
            "USD" => Some(Currency::Usd),
            _ => None,
        }
    }
}

/// An amount of money: integer minor units and a currency. On the wire: `{"total": 1234,
/// "currency": "CNY"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (fen, cents).
    pub total: u64,
    pub currency: Currency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyError {
    Empty,
    Negative,
    /// More digits after the point than the currency has minor units (e.g. `1.234` CNY).
    TooPrecise,
    Overflow,
    /// Not a plain decimal number.
    Invalid,
    CurrencyMismatch,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoneyError::Empty => "amount is empty",
            MoneyError::Negative => "amount must not be negative",
            MoneyError::TooPrecise => "amount has more decimals than the currency allows",
            MoneyError::Overflow => "amount is too large",
            MoneyError::Invalid => "amount is not a decimal number",
            MoneyError::CurrencyMismatch => "amounts are in different currencies",
        })
    }
}

impl std::error::Error for MoneyError {}

impl Money {
    /// `total` minor units; refused above [`MAX_MINOR`].
    pub fn new(total: u64, currency: Currency) -> Result<Money, MoneyError> {
        if total > MAX_MINOR {
            return Err(MoneyError::Overflow);
        }
        Ok(Money { total, currency })
    }

    pub fn cny(total: u64) -> Money {
        Money {
            total,
            currency: Currency::Cny,
        }
    }

    /// Parses a major-unit decimal string such as `"12.34"`, `"12"` or `"0.5"`.
    pub fn parse(s: &str, currency: Currency) -> Result<Money, MoneyError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        if s.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Invalid);
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
            return Err(MoneyError::Invalid);
        }
        let digits = currency.minor_digits();
        if frac.len() > digits as usize {
            return Err(MoneyError::TooPrecise);
        }
        let scale = 10u64.pow(digits);
        let mut major: u64 = 0;
        for b in whole.bytes() {
            major = major
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(b - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        let mut minor: u64 = 0;
        for i in 0..digits as usize {
            let d = frac.as_bytes().get(i).map_or(0, |b| u64::from(b - b'0'));
            minor = minor * 10 + d;
        }
        let total = major
            .checked_mul(scale)
            .and_then(|m| m.checked_add(minor))
            .ok_or(MoneyError::Overflow)?;
        Money::new(total, currency)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let total = self
            .total
            .checked_add(other.total)
            .ok_or(MoneyError::Overflow)?;
        Money::new(total, self.currency)
    }

    /// Fails with `Negative` when `other` is larger: money never goes below zero.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let total = self
            .total
            .checked_sub(other.total)
            .ok_or(MoneyError::Negative)?;
        Ok(Money {
            total,
            currency: self.currency,
        })
    }

    /// The amount without symbol, e.g. `12.34`.
    pub fn decimal(&self) -> String {
        let scale = 10u64.pow(self.currency.minor_digits());
        format!(
            "{}.{:0width$}",
            self.total / scale,
            self.total % scale,
            width = self.currency.minor_digits() as usize
        )
    }
}

impl fmt::Display for Money {
    /// `¥12.34`, `$0.05`, `¥9,900.00`: as a payer reads it, thousands grouped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10u64.pow(self.currency.minor_digits());
        let whole = (self.total / scale).to_string();
        f.write_str(self.currency.symbol())?;
        for (i, digit) in whole.char_indices() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                f.write_str(",")?;
            }
            write!(f, "{digit}")?;
        }
        write!(
            f,
            ".{:0width$}",
            self.total % scale,
            width = self.currency.minor_digits() as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_with_symbol_and_two_decimals() {
        assert_eq!(Money::cny(1234).to_string(), "¥12.34");
        assert_eq!(Money::cny(5).to_string(), "¥0.05");
        assert_eq!(Money::cny(0).to_string(), "¥0.00");
        assert_eq!(Money::cny(99_900).to_string(), "¥999.00");
        assert_eq!(Money::cny(990_000).to_string(), "¥9,900.00");
        assert_eq!(Money::cny(12_345_678_901).to_string(), "¥123,456,789.01");
        assert_eq!(Money::cny(100_000).to_string(), "¥1,000.00");
        assert_eq!(
            Money::new(10_000_000, Currency::Usd).unwrap().to_string(),
            "$100,000.00"
        );
    }

    #[test]
    fn parses_decimal_strings() {
        assert_eq!(Money::parse("12.34", Currency::Cny), Ok(Money::cny(1234)));
        assert_eq!(Money::parse("12", Currency::Cny), Ok(Money::cny(1200)));
        assert_eq!(Money::parse("0.5", Currency::Cny), Ok(Money::cny(50)));
        assert_eq!(Money::parse(" 7.01 ", Currency::Cny), Ok(Money::cny(701)));
    }

    #[test]
    fn refuses_bad_input_with_the_reason() {
        use MoneyError::*;
        for (input, err) in [
            ("", Empty),
            ("-1", Negative),
            ("-0.01", Negative),
            ("1.234", TooPrecise),
            ("0.001", TooPrecise),
            ("1e5", Invalid),
            ("1,00", Invalid),
            ("12.", Invalid),
            (".5", Invalid),
            ("+1", Invalid),
            ("¥1", Invalid),
            ("NaN", Invalid),
            ("184467440737095516.16", Overflow),
            ("99999999999999999999999", Overflow),
            ("90071992547409.92", Overflow), // MAX_MINOR + 1
        ] {
            assert_eq!(Money::parse(input, Currency::Cny), Err(err), "{input:?}");
        }
        assert_eq!(
            Money::parse("90071992547409.91", Currency::Cny).map(|m| m.total),
            Ok(MAX_MINOR)
        );
    }

    #[test]
    fn arithmetic_is_checked() {
        let a = Money::cny(MAX_MINOR);
        assert_eq!(a.checked_add(Money::cny(1)), Err(MoneyError::Overflow));
        assert_eq!(
            Money::cny(1).checked_sub(Money::cny(2)),
            Err(MoneyError::Negative)
        );
        let usd = Money::new(1, Currency::Usd).unwrap();
        assert_eq!(
            Money::cny(1).checked_add(usd),
            Err(MoneyError::CurrencyMismatch)
        );
        assert_eq!(
            Money::cny(150).checked_sub(Money::cny(50)),
            Ok(Money::cny(100))
        );
    }

    #[test]
    fn wire_form_is_total_and_currency() {
        let json = serde_json::to_string(&Money::cny(1234)).unwrap();
        assert_eq!(json, r#"{"total":1234,"currency":"CNY"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Money::cny(1234));
        assert!(serde_json::from_str::<Money>(r#"{"total":-1,"currency":"CNY"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"total":1.5,"currency":"CNY"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"total":1,"currency":"EUR"}"#).is_err());
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(total in 0..=MAX_MINOR) {
            let m = Money::cny(total);
            prop_assert_eq!(Money::parse(&m.decimal(), Currency::Cny), Ok(m));
        }

        #[test]
        fn add_then_sub_is_identity(a in 0..=MAX_MINOR / 2, b in 0..=MAX_MINOR / 2) {
            let sum = Money::cny(a).checked_add(Money::cny(b)).unwrap();
            prop_assert_eq!(sum.checked_sub(Money::cny(b)), Ok(Money::cny(a)));
        }
    }
}
