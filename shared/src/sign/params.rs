//! The WeChat Pay v2 parameter signature: every non-empty parameter except
//! `sign`, sorted by name, joined as `k=v&k=v`, then `&key=API_KEY`; MD5 or HMAC-SHA256 (keyed with
//! the API key) of that string, as uppercase hex.

use super::{ct_eq, hex_upper, hmac_sha256};
use md5::{Digest, Md5};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignType {
    /// The protocol's default when `sign_type` is absent.
    #[default]
    Md5,
    HmacSha256,
}

impl SignType {
    /// The protocol's `sign_type` values; `None` for anything else.
    pub fn parse(s: &str) -> Option<SignType> {
        match s {
            "MD5" => Some(SignType::Md5),
            "HMAC-SHA256" => Some(SignType::HmacSha256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }
}

/// The string that is hashed: `a=1&b=2&key=API_KEY`.
pub fn string_to_sign<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &str,
) -> String {
    let mut kept: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, v)| *k != "sign" && !v.is_empty())
        .collect();
    kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut s = String::new();
    for (k, v) in kept {
        s.push_str(k);
        s.push('=');
        s.push_str(v);
        s.push('&');
    }
    s.push_str("key=");
    s.push_str(key);
    s
}

/// The `sign` value for `params` (uppercase hex).
pub fn sign<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &str,
    sign_type: SignType,
) -> String {
    let s = string_to_sign(params, key);
    match sign_type {
        SignType::Md5 => hex_upper(&Md5::digest(s.as_bytes())),
        SignType::HmacSha256 => hex_upper(&hmac_sha256(key.as_bytes(), &[s.as_bytes()])),
    }
}

/// Constant-time check of a received `sign` value.
pub fn verify<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &str,
    sign_type: SignType,
    received: &str,
) -> bool {
    let want = sign(params, key, sign_type);
    ct_eq(want.as_bytes(), received.as_bytes())
}

/// The property the `v2_sign` fuzz target checks: for any document the parser accepts, signing
/// never panics, the signature verifies under its own key and type, and under neither another
/// key nor the other type; a `sign` field in the input is never signed over.
#[doc(hidden)]
pub fn check_sign_verify(data: &[u8]) {
    let Some((key, doc)) = std::str::from_utf8(data)
        .ok()
        .and_then(|s| s.split_once('\n'))
    else {
        return;
    };
    let Ok(fields) = crate::v2xml::parse(doc) else {
        return;
    };
    let pairs = || fields.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    for (st, other) in [
        (SignType::Md5, SignType::HmacSha256),
        (SignType::HmacSha256, SignType::Md5),
    ] {
        let s = sign(pairs(), key, st);
        assert!(verify(pairs(), key, st, &s));
        assert!(!verify(pairs(), key, other, &s));
        let other_key = format!("{key}x");
        assert!(!verify(pairs(), &other_key, st, &s));
        let without_sign = pairs().filter(|(k, _)| *k != "sign");
        assert_eq!(sign(without_sign, key, st), s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The example from WeChat Pay's published v2 signing algorithm document.
    const EXAMPLE: [(&str, &str); 5] = [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ];
    const EXAMPLE_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

    #[test]
    fn published_example() {
        assert_eq!(
            string_to_sign(EXAMPLE, EXAMPLE_KEY),
            "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&\
             nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d"
        );
        assert_eq!(
            sign(EXAMPLE, EXAMPLE_KEY, SignType::Md5),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
        assert_eq!(
            sign(EXAMPLE, EXAMPLE_KEY, SignType::HmacSha256),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
        assert!(verify(
            EXAMPLE,
            EXAMPLE_KEY,
            SignType::Md5,
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        ));
        assert!(!verify(
            EXAMPLE,
            EXAMPLE_KEY,
            SignType::Md5,
            "9a0a8659f005d6984697e2ca0a9cf3b7"
        ));
        assert!(!verify(
            EXAMPLE,
            "wrong",
            SignType::Md5,
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        ));
    }

    #[test]
    fn sign_and_empty_values_are_not_signed() {
        let mut with_extra: Vec<(&str, &str)> = EXAMPLE.to_vec();
        with_extra.push(("sign", "ANYTHING"));
        with_extra.push(("attach", ""));
        assert_eq!(
            sign(with_extra, EXAMPLE_KEY, SignType::Md5),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
    }

    #[test]
    fn sign_type_names() {
        assert_eq!(SignType::parse("MD5"), Some(SignType::Md5));
        assert_eq!(SignType::parse("HMAC-SHA256"), Some(SignType::HmacSha256));
        assert_eq!(SignType::parse("md5"), None);
        assert_eq!(SignType::default().as_str(), "MD5");
    }

    fn params_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::btree_map("[a-z_]{1,12}", "[ -~]{0,16}", 1..10).prop_map(|m| {
            m.into_iter()
                .filter(|(k, _)| k != "sign" && k != "key")
                .collect()
        })
    }

    proptest! {
        #[test]
        fn signing_parsed_documents(key in "[ -~]{0,32}", fields in proptest::collection::btree_map("[a-z_]{1,8}", "\\PC{0,12}", 0..8)) {
            let fields: Vec<(String, String)> = fields.into_iter().collect();
            let doc = crate::v2xml::write(&fields);
            check_sign_verify(format!("{key}\n{doc}").as_bytes());
        }

        #[test]
        fn parameter_order_never_changes_the_signature(
            params in params_strategy(),
            seed in any::<u64>(),
        ) {
            let mut shuffled = params.clone();
            // A deterministic shuffle from the seed.
            let mut s = seed | 1;
            for i in (1..shuffled.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            }
            for st in [SignType::Md5, SignType::HmacSha256] {
                prop_assert_eq!(
                    sign(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), "k", st),
                    sign(shuffled.iter().map(|(k, v)| (k.as_str(), v.as_str())), "k", st)
                );
            }
        }

        #[test]
        fn empty_values_are_skipped(params in params_strategy(), name in "[a-z]{13,16}") {
            let base = sign(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), "k", SignType::HmacSha256);
            let mut more = params.clone();
            more.push((name, String::new()));
            prop_assert_eq!(
                base,
                sign(more.iter().map(|(k, v)| (k.as_str(), v.as_str())), "k", SignType::HmacSha256)
            );
        }

        #[test]
        fn any_value_change_breaks_the_signature(
            params in params_strategy(),
            which in any::<proptest::sample::Index>(),
            extra in "[a-z0-9]{1,4}",
        ) {
            let base = sign(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), "k", SignType::Md5);
            let mut changed = params.clone();
            let i = which.index(changed.len());
            changed[i].1.push_str(&extra);
            prop_assert!(!verify(changed.iter().map(|(k, v)| (k.as_str(), v.as_str())), "k", SignType::Md5, &base));
        }
    }
}
