//! Merchant request signatures: how a merchant proves a `/v1` API request is its own.
//!
//! `Paydesk-Signature` is the lowercase hex HMAC-SHA256, keyed with the merchant's API key, of
//! `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`.

use super::{hex_decode_mac, hex_lower, hmac_sha256, MacKey};

/// Requests whose timestamp is further than this from the server's clock are refused.
pub const MAX_SKEW_SECS: i64 = 300;
/// A nonce may not be seen twice within this window: longer than the span a timestamp is
/// accepted over. That span is nearly 601 s (the server's whole second may be anywhere from
/// 300 s before the timestamp to 300 s after it), so a 600 s window let a request first used
/// early in the span be replayed late in its last second.
pub const NONCE_WINDOW_SECS: i64 = 2 * MAX_SKEW_SECS + 2;

/// What is signed. `body` is the raw request body (empty for GET).
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub timestamp: &'a str,
    pub nonce: &'a str,
    pub body: &'a [u8],
}

impl SignedRequest<'_> {
    fn head(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.method, self.path_and_query, self.timestamp, self.nonce
        )
    }

    /// The signature a merchant sends.
    pub fn sign(&self, api_key: &[u8]) -> String {
        hex_lower(&hmac_sha256(
            api_key,
            &[self.head().as_bytes(), self.body, b"\n"],
        ))
    }

    /// Constant-time check of a received signature. Anything that is not 64 lowercase hex digits
    /// is simply wrong.
    pub fn verify(&self, api_key: &[u8], signature: &str) -> bool {
        self.verify_with(&MacKey::new(api_key), signature)
    }

    /// [`Self::verify`] under a key prepared once ([`MacKey`]): the server's hot path, which
    /// allocates nothing and hashes only the signed bytes.
    pub fn verify_with(&self, api_key: &MacKey, signature: &str) -> bool {
        let Some(mac) = hex_decode_mac(signature) else {
            return false;
        };
        let nl: &[u8] = b"\n";
        let parts = [
            self.method.as_bytes(),
            nl,
            self.path_and_query.as_bytes(),
            nl,
            self.timestamp.as_bytes(),
            nl,
            self.nonce.as_bytes(),
            nl,
            self.body,
            nl,
        ];
        api_key.verify(&parts, &mac)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshnessError {
    /// Not a decimal unix time in seconds.
    Malformed,
    /// Outside ±[`MAX_SKEW_SECS`] of now.
    Expired,
}

/// Checks the `Paydesk-Timestamp` header against the server clock (real time, never a test clock).
pub fn check_timestamp(timestamp: &str, now_secs: i64) -> Result<i64, FreshnessError> {
    if timestamp.is_empty()
        || timestamp.len() > 12
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(FreshnessError::Malformed);
    }
    let ts: i64 = timestamp.parse().map_err(|_| FreshnessError::Malformed)?;
    if (ts - now_secs).abs() > MAX_SKEW_SECS {
        return Err(FreshnessError::Expired);
    }
    Ok(ts)
}

/// A nonce is 16-64 characters of `[0-9A-Za-z_-]`.
pub fn nonce_is_well_formed(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"dev-only-demo-api-key";

    fn req<'a>(body: &'a [u8]) -> SignedRequest<'a> {
        SignedRequest {
            method: "POST",
            path_and_query: "/v1/orders",
            timestamp: "1795778560",
            nonce: "n0nce-0000000001",
            body,
        }
    }

    /// Cross-checked with Python: hmac.new(b"dev-only-demo-api-key",
    /// b'POST\n/v1/orders\n1795778560\nn0nce-0000000001\n{"a":1}\n', hashlib.sha256).hexdigest()
    #[test]
    fn known_vector() {
        let sig = req(br#"{"a":1}"#).sign(KEY);
        assert_eq!(
            sig,
            "65d4855f315066f077a8f4d14923ab9f24f9c353e7385164b305a4dacf034497"
        );
        assert!(req(br#"{"a":1}"#).verify(KEY, &sig));
        assert!(!req(br#"{"a":1}"#).verify(KEY, &sig.to_uppercase()));
        assert!(!req(br#"{"a":1}"#).verify(KEY, &sig[..62]));
        assert!(!req(br#"{"a":1}"#).verify(KEY, ""));
    }

    #[test]
    fn timestamps_outside_the_window_are_refused() {
        let now = 1_795_778_560;
        assert_eq!(check_timestamp("1795778560", now), Ok(now));
        assert_eq!(check_timestamp("1795778860", now), Ok(now + 300));
        assert_eq!(
            check_timestamp("1795778861", now),
            Err(FreshnessError::Expired)
        );
        assert_eq!(
            check_timestamp("1795778259", now),
            Err(FreshnessError::Expired)
        );
        for bad in ["", "-1", "17957785600000000", "1.5", " 1795778560", "0x10"] {
            assert_eq!(
                check_timestamp(bad, now),
                Err(FreshnessError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn nonce_shape() {
        assert!(nonce_is_well_formed("abcdefghijklmnop"));
        assert!(nonce_is_well_formed(&"a".repeat(64)));
        assert!(!nonce_is_well_formed("short"));
        assert!(!nonce_is_well_formed(&"a".repeat(65)));
        assert!(!nonce_is_well_formed("abcdefghijklmnop\n"));
        assert!(!nonce_is_well_formed("abcdéfghijklmnopq"));
    }

    proptest! {
        /// Changing any signed field breaks the signature.
        #[test]
        fn any_change_breaks_the_signature(
            field in 0usize..5,
            body in proptest::collection::vec(any::<u8>(), 0..64),
            extra in "[a-z0-9]{1,8}",
        ) {
            let base = SignedRequest {
                method: "POST",
                path_and_query: "/v1/orders?x=1",
                timestamp: "1795778560",
                nonce: "abcdefghijklmnop",
                body: &body,
            };
            let sig = base.sign(KEY);
            let changed_path = format!("{}{extra}", base.path_and_query);
            let changed_ts = format!("{}{extra}", base.timestamp);
            let changed_nonce = format!("{}{extra}", base.nonce);
            let mut changed_body = body.clone();
            changed_body.extend_from_slice(extra.as_bytes());
            let mut other = base;
            match field {
                0 => other.method = "GET",
                1 => other.path_and_query = &changed_path,
                2 => other.timestamp = &changed_ts,
                3 => other.nonce = &changed_nonce,
                _ => other.body = &changed_body,
            }
            prop_assert!(base.verify(KEY, &sig));
            prop_assert!(!other.verify(KEY, &sig));
            prop_assert!(!base.verify(b"another key", &sig));
        }
    }
}
