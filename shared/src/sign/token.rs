//! Checkout tokens: the `<token>` in `/pay/<token>`. A token names one order of
//! one merchant until an expiry, and is signed with the edge's checkout-token key, so it can be
//! handed to a payer's browser: it reveals no secret, and changing any part of it (another order,
//! another merchant, a later expiry) breaks the signature.
//!
//! Form: `base64url(payload) "." base64url(HMAC-SHA256(key, "paydesk-checkout-v1." payload_b64))`
//! with `payload = "<expires_at>.<merchant_id>.<out_trade_no>"`. Neither ids nor order numbers may
//! contain `.`, so the payload splits unambiguously.
//!
//! Contract tokens (`/contract/<token>`, the payer's signing and management page of one
//! contract) have the same form under the domain `paydesk-contract-v1.`.

use super::{b64url_decode_into, b64url_encode, MacKey};

const DOMAIN: &[u8] = b"paydesk-checkout-v1.";
/// Contract links are signed under another domain: a checkout token never opens a contract
/// page, nor the other way round.
const CONTRACT_DOMAIN: &[u8] = b"paydesk-contract-v1.";
/// Unsubscribe links (`/unsubscribe/<token>`, in every message to a payer) under their own.
const UNSUBSCRIBE_DOMAIN: &[u8] = b"paydesk-unsubscribe-v1.";
/// Console session cookies under theirs.
const CONSOLE_DOMAIN: &[u8] = b"paydesk-console-v1.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutToken {
    pub merchant_id: String,
    pub out_trade_no: String,
    /// Unix seconds after which the token no longer opens the page.
    pub expires_at: i64,
}

/// The `<token>` of `/contract/<token>`: one contract of one merchant until an expiry, in the
/// same form as a checkout token but signed under its own domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractToken {
    pub merchant_id: String,
    pub contract_code: String,
    pub expires_at: i64,
}

/// The `<token>` of `/unsubscribe/<token>`: one message of one merchant, whose recipient the
/// link unsubscribes, in the same form under its own domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeToken {
    pub merchant_id: String,
    pub message_id: String,
    pub expires_at: i64,
}

/// The console's session cookie: one session of one merchant's console user until it expires
/// (the session itself can end sooner: the merchant's object keeps it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleToken {
    pub merchant_id: String,
    pub session_id: String,
    pub expires_at: i64,
}

impl ConsoleToken {
    pub fn encode(&self, key: &MacKey) -> Option<String> {
        encode(
            CONSOLE_DOMAIN,
            self.expires_at,
            &self.merchant_id,
            &self.session_id,
            key,
        )
    }

    pub fn verify(token: &str, key: &MacKey, now: i64) -> Result<ConsoleToken, TokenError> {
        let (expires_at, merchant_id, session_id) = verify(CONSOLE_DOMAIN, token, key, now)?;
        Ok(ConsoleToken {
            merchant_id,
            session_id,
            expires_at,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not shaped like a token, or the signature does not match.
    Invalid,
    /// Genuine but past its expiry.
    Expired,
}

impl CheckoutToken {
    /// `None` if a part contains `.` or is empty: such a token could be read two ways.
    pub fn encode(&self, key: &MacKey) -> Option<String> {
        encode(
            DOMAIN,
            self.expires_at,
            &self.merchant_id,
            &self.out_trade_no,
            key,
        )
    }

    /// Verifies the signature first, then the expiry against `now` (unix seconds).
    pub fn verify(token: &str, key: &MacKey, now: i64) -> Result<CheckoutToken, TokenError> {
        let (expires_at, merchant_id, out_trade_no) = verify(DOMAIN, token, key, now)?;
        Ok(CheckoutToken {
            merchant_id,
            out_trade_no,
            expires_at,
        })
    }
}

impl ContractToken {
    pub fn encode(&self, key: &MacKey) -> Option<String> {
        encode(
            CONTRACT_DOMAIN,
            self.expires_at,
            &self.merchant_id,
            &self.contract_code,
            key,
        )
    }

    pub fn verify(token: &str, key: &MacKey, now: i64) -> Result<ContractToken, TokenError> {
        let (expires_at, merchant_id, contract_code) = verify(CONTRACT_DOMAIN, token, key, now)?;
        Ok(ContractToken {
            merchant_id,
            contract_code,
            expires_at,
        })
    }
}

impl UnsubscribeToken {
    pub fn encode(&self, key: &MacKey) -> Option<String> {
        encode(
            UNSUBSCRIBE_DOMAIN,
            self.expires_at,
            &self.merchant_id,
            &self.message_id,
            key,
        )
    }

    pub fn verify(token: &str, key: &MacKey, now: i64) -> Result<UnsubscribeToken, TokenError> {
        let (expires_at, merchant_id, message_id) = verify(UNSUBSCRIBE_DOMAIN, token, key, now)?;
        Ok(UnsubscribeToken {
            merchant_id,
            message_id,
            expires_at,
        })
    }
}

fn encode(
    domain: &[u8],
    expires_at: i64,
    merchant_id: &str,
    id: &str,
    key: &MacKey,
) -> Option<String> {
    let ok = |s: &str| !s.is_empty() && !s.contains('.');
    if !ok(merchant_id) || !ok(id) {
        return None;
    }
    let payload = format!("{expires_at}.{merchant_id}.{id}");
    let p64 = b64url_encode(payload.as_bytes());
    let mac = key.mac(&[domain, p64.as_bytes()]);
    Some(format!("{p64}.{}", b64url_encode(&mac)))
}

/// Checks the signature, then reads the payload and the expiry. Decodes onto the stack: the only
/// allocations are the two ids it returns.
fn verify(
    domain: &[u8],
    token: &str,
    key: &MacKey,
    now: i64,
) -> Result<(i64, String, String), TokenError> {
    // The signature is the last 43 characters (32 bytes, unpadded), after the token's one dot:
    // found by its place, not searched for.
    let len = token.len();
    if len > MAX_TOKEN || len <= MAC_B64 + 1 || token.as_bytes()[len - MAC_B64 - 1] != b'.' {
        return Err(TokenError::Invalid);
    }
    let (p64, m64) = (&token[..len - MAC_B64 - 1], &token[len - MAC_B64..]);
    let mut mac = [0u8; 32];
    if b64url_decode_into(m64, &mut mac) != Some(32) {
        return Err(TokenError::Invalid);
    }
    if !key.verify(&[domain, p64.as_bytes()], &mac) {
        return Err(TokenError::Invalid);
    }
    let mut buf = [0u8; MAX_TOKEN * 3 / 4];
    let n = b64url_decode_into(p64, &mut buf).ok_or(TokenError::Invalid)?;
    // One UTF-8 check of the whole payload: it splits at ASCII dots, so both ids are text too.
    let payload = core::str::from_utf8(&buf[..n]).map_err(|_| TokenError::Invalid)?;
    let (exp, mch, id) = split_payload(payload).ok_or(TokenError::Invalid)?;
    if now > exp {
        return Err(TokenError::Expired);
    }
    Ok((exp, mch.to_owned(), id.to_owned()))
}

/// `<expires_at>.<merchant_id>.<id>`: the expiry as a number, and the two ids. The id is the
/// rest, dots and all, as `splitn(3, '.')` reads it.
fn split_payload(p: &str) -> Option<(i64, &str, &str)> {
    let (digits, rest) = split_at_dot(p)?;
    let (mch, id) = split_at_dot(rest)?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let exp = digits
        .bytes()
        .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    Some((exp, mch, id))
}

/// `s.split_once('.')` by byte: the char search compares the char's encoding at each hit.
fn split_at_dot(s: &str) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == b'.')?;
    Some((&s[..i], &s[i + 1..]))
}

/// A signature's length in unpadded base64url.
const MAC_B64: usize = 43;

/// Longer tokens are refused unread.
const MAX_TOKEN: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"dev-only-checkout-token-key";

    fn key() -> MacKey {
        MacKey::new(KEY)
    }

    fn token() -> CheckoutToken {
        CheckoutToken {
            merchant_id: "mch_demo".into(),
            out_trade_no: "DEMO-0001|a*b".into(),
            expires_at: 1_795_778_560,
        }
    }

    #[test]
    fn round_trips_until_expiry() {
        let t = token().encode(&key()).unwrap();
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert_eq!(
            CheckoutToken::verify(&t, &key(), 1_795_778_560),
            Ok(token())
        );
        assert_eq!(
            CheckoutToken::verify(&t, &key(), 1_795_778_561),
            Err(TokenError::Expired)
        );
        assert_eq!(
            CheckoutToken::verify(&t, &MacKey::new(b"another key"), 0),
            Err(TokenError::Invalid)
        );
    }

    /// Cross-checked with Python: p64 = urlsafe_b64encode(payload) unpadded, then
    /// hmac.new(KEY, b"paydesk-checkout-v1." + p64, sha256), unpadded base64url.
    #[test]
    fn known_token() {
        let want = "MTc5NTc3ODU2MC5tY2hfZGVtby5ERU1PLTAwMDF8YSpi.ux6pB_5IxPobF6KIQ8pzxcyzxIGiM685GqH_8dxMTOM";
        assert_eq!(token().encode(&key()).unwrap(), want);
        assert_eq!(CheckoutToken::verify(want, &key(), 0), Ok(token()));
    }

    #[test]
    fn forged_or_widened_tokens_are_invalid() {
        let t = token().encode(&key()).unwrap();
        let (_, mac) = t.split_once('.').unwrap();
        // Same signature over a later expiry or another order.
        for payload in [
            "9999999999.mch_demo.DEMO-0001|a*b",
            "1795778560.mch_demo.DEMO-0002",
            "1795778560.mch_other.DEMO-0001|a*b",
        ] {
            let forged = format!("{}.{mac}", b64url_encode(payload.as_bytes()));
            assert_eq!(
                CheckoutToken::verify(&forged, &key(), 0),
                Err(TokenError::Invalid)
            );
        }
        for junk in ["", ".", "abc", "abc.def", "a.b.c", &"A".repeat(600)] {
            assert_eq!(
                CheckoutToken::verify(junk, &key(), 0),
                Err(TokenError::Invalid),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn contract_and_checkout_tokens_do_not_open_each_other() {
        let c = ContractToken {
            merchant_id: "mch_demo".into(),
            contract_code: "DEMO-0001|a*b".into(),
            expires_at: 1_795_778_560,
        };
        let ct = c.encode(&key()).unwrap();
        assert_eq!(ContractToken::verify(&ct, &key(), 0), Ok(c));
        assert_eq!(
            CheckoutToken::verify(&ct, &key(), 0),
            Err(TokenError::Invalid)
        );
        let pt = token().encode(&key()).unwrap();
        assert_eq!(
            ContractToken::verify(&pt, &key(), 0),
            Err(TokenError::Invalid)
        );
        // Another merchant's code under the same signature.
        let (_, mac) = ct.split_once('.').unwrap();
        let forged = format!(
            "{}.{mac}",
            b64url_encode(b"1795778560.mch_other.DEMO-0001|a*b")
        );
        assert_eq!(
            ContractToken::verify(&forged, &key(), 0),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn unsubscribe_tokens_open_only_as_themselves() {
        let u = UnsubscribeToken {
            merchant_id: "mch_demo".into(),
            message_id: "msg_0123".into(),
            expires_at: 1_795_778_560,
        };
        let ut = u.encode(&key()).unwrap();
        assert_eq!(UnsubscribeToken::verify(&ut, &key(), 0), Ok(u));
        assert_eq!(
            ContractToken::verify(&ut, &key(), 0),
            Err(TokenError::Invalid)
        );
        let pt = token().encode(&key()).unwrap();
        assert_eq!(
            UnsubscribeToken::verify(&pt, &key(), 0),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn payload_splits_at_the_first_two_dots_and_the_expiry_is_digits_only() {
        assert_eq!(split_payload("17.mch.a.b"), Some((17, "mch", "a.b")));
        for bad in [
            "+17.m.i",
            "-17.m.i",
            ".m.i",
            "1x.m.i",
            "17.m",
            "9999999999999999999.m.i",
        ] {
            assert_eq!(split_payload(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ambiguous_parts_cannot_be_encoded() {
        let mut t = token();
        t.out_trade_no = "a.b".into();
        assert_eq!(t.encode(&key()), None);
        t.out_trade_no = String::new();
        assert_eq!(t.encode(&key()), None);
    }

    proptest! {
        #[test]
        fn any_character_change_is_refused(
            otn in "[0-9A-Za-z_|*-]{6,32}",
            pos in any::<proptest::sample::Index>(),
            c in "[0-9A-Za-z_-]",
        ) {
            let t = CheckoutToken { merchant_id: "mch_x".into(), out_trade_no: otn, expires_at: 2_000_000_000 }
                .encode(&key()).unwrap();
            let i = pos.index(t.len());
            let mut bytes = t.clone().into_bytes();
            if bytes[i] != b'.' && bytes[i] != c.as_bytes()[0] {
                bytes[i] = c.as_bytes()[0];
                let changed = String::from_utf8(bytes).unwrap();
                prop_assert!(CheckoutToken::verify(&changed, &key(), 0).is_err());
            }
        }
    }
}
