//! Identifiers minted by paydesk. Randomness comes from the caller (the runtime's CSPRNG), so
//! the formats are testable.

/// `pd` + 13 digits of unix ms + 12 hex digits of randomness: sortable by creation time, unique.
pub fn transaction_id(now_ms: i64, random: [u8; 6]) -> String {
    let mut s = format!("pd{:013}", now_ms.max(0));
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// `mch_` + 16 hex digits.
/// A signed contract's id: its signing date (UTC) and 10 random digits, 18 digits in all, as
/// the v2 protocol's contract ids are.
pub fn contract_id(now_ms: i64, random: [u8; 6]) -> String {
    let date: String = paydesk_shared::time::format_rfc3339(now_ms)[..10]
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let n = random
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    format!("{date}{:010}", n % 10_000_000_000)
}

pub fn merchant_id(random: [u8; 8]) -> String {
    let mut s = String::from("mch_");
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A merchant id as minted by [`merchant_id`]; anything else never reaches storage.
pub fn is_merchant_id(s: &str) -> bool {
    s.len() == 20
        && s.starts_with("mch_")
        && s[4..]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `apr_` + the merchant's 16 hex digits + `_` + 16 hex digits: an approval names its merchant,
/// so the admin API finds the merchant object that holds it.
pub fn approval_id(merchant_id: &str, random: [u8; 8]) -> String {
    let hex = merchant_id.strip_prefix("mch_").unwrap_or(merchant_id);
    let mut s = format!("apr_{hex}_");
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The merchant an approval id names, if it is one.
pub fn merchant_of_approval(approval_id: &str) -> Option<String> {
    let hex = approval_id.strip_prefix("apr_")?.split('_').next()?;
    Some(format!("mch_{hex}")).filter(|m| is_merchant_id(m))
}

/// An order number the demo shop uses: `DEMO` + unix ms + 4 hex digits (21 chars, within 6-32).
pub fn demo_out_trade_no(now_ms: i64, random: [u8; 2]) -> String {
    format!(
        "DEMO{:013}{:02x}{:02x}",
        now_ms.max(0),
        random[0],
        random[1]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            transaction_id(1_795_778_560_000, [0, 1, 2, 0xab, 0xcd, 0xef]),
            "pd1795778560000000102abcdef"
        );
        let m = merchant_id([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]);
        assert_eq!(m, "mch_deadbeef00010203");
        assert!(is_merchant_id(&m));
        assert!(!is_merchant_id("mch_DEADBEEF00010203"));
        assert!(!is_merchant_id("mch_deadbeef0001020"));
        assert!(!is_merchant_id("../../etc/passwd"));
        let otn = demo_out_trade_no(1_795_778_560_000, [0x0f, 0xa0]);
        assert_eq!(otn, "DEMO17957785600000fa0");
        assert!((6..=32).contains(&otn.len()));
    }

    #[test]
    fn approvals_name_their_merchant() {
        let m = merchant_id([1, 2, 3, 4, 5, 6, 7, 8]);
        let a = approval_id(&m, [0xab, 0xcd, 0xef, 0x01, 0, 0, 0, 9]);
        assert_eq!(a, "apr_0102030405060708_abcdef0100000009");
        assert_eq!(merchant_of_approval(&a), Some(m));
        assert_eq!(merchant_of_approval("apr_zz_1"), None);
        assert_eq!(merchant_of_approval("mch_0102030405060708"), None);
    }
}
