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
}
