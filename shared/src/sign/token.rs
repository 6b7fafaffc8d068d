//! Checkout tokens: the `<token>` in `/pay/<token>`. A token names one order of
//! one merchant until an expiry, and is signed with the edge's checkout-token key, so it can be
//! handed to a payer's browser: it reveals no secret, and changing any part of it (another order,
//! another merchant, a later expiry) breaks the signature.
//!
//! Form: `base64url(payload) "." base64url(HMAC-SHA256(key, tag payload))` with
//! `payload = "<expires_at>.<merchant_id>.<out_trade_no>"` and `tag` one byte naming the kind of
//! token. Neither ids nor order numbers may contain `.`, so the payload splits unambiguously.
//!
//! Contract tokens (`/contract/<token>`, the payer's signing and management page of one
//! contract), unsubscribe links and console sessions have the same form under their own tags.
//!
//! The MAC covers the payload's bytes, not its base64, behind a one-byte tag: a typical checkout
//! token's MAC is then one SHA-256 block and the outer block, where the first form (below) took
//! three compressions. Tokens of the first form, `HMAC-SHA256(key, "paydesk-checkout-v1."
//! base64url(payload))` and likewise per kind, still open until they expire: links already sent
//! keep working.

use super::{b64url_decode_into, b64url_encode, MacKey};

/// What a kind of token is signed under: the tag its MAC starts with, and the domain of the
/// first form.
///
/// The tags are control bytes. Everything else the edge MACs under the same key starts with a
/// printable label (`order-contact`, `risk-fingerprint`, `console-salt`, `paydesk-address`, and
/// the first form's domains), so no token's MAC can stand for anything else, nor one kind's for
/// another's.
struct Domain {
    tag: u8,
    first_form: &'static [u8],
}

impl Domain {
    const fn new(tag: u8, first_form: &'static [u8]) -> Domain {
        Domain { tag, first_form }
    }
}

const CHECKOUT: Domain = Domain::new(0x01, b"paydesk-checkout-v1.");
/// Contract links: a checkout token never opens a contract page, nor the other way round.
const CONTRACT: Domain = Domain::new(0x02, b"paydesk-contract-v1.");
/// Unsubscribe links (`/unsubscribe/<token>`, in every message to a payer).
const UNSUBSCRIBE: Domain = Domain::new(0x03, b"paydesk-unsubscribe-v1.");
/// Console session cookies.
const CONSOLE: Domain = Domain::new(0x04, b"paydesk-console-v1.");

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
            &CONSOLE,
            self.expires_at,
            &self.merchant_id,
            &self.session_id,
            key,
        )
    }

    pub fn verify(token: &str, key: &MacKey, now: i64) -> Result<ConsoleToken, TokenError> {
        let (expires_at, merchant_id, session_id) = verify(&CONSOLE, token, key, now)?;
        Ok(ConsoleToken {
            merchant_id,
            session_id,
            expires_at,
        })
    }
}

/// What a genuine, unexpired token says, borrowed from the [`TokenBuf`] its payload was decoded
/// into: reading a token allocates nothing, and a caller copies out only what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims<'b> {
    pub expires_at: i64,
    pub merchant_id: &'b str,
    /// The token's own id: a checkout token's `out_trade_no`.
    pub id: &'b str,
}

/// Room for a token's decoded payload (and the tag its MAC starts with), on the caller's stack:
/// sized for the longest token that is read ([`MAX_TOKEN`]).
pub struct TokenBuf([u8; 1 + MAX_PAYLOAD]);

impl TokenBuf {
    pub fn new() -> TokenBuf {
        TokenBuf([0; 1 + MAX_PAYLOAD])
    }
}

impl Default for TokenBuf {
    fn default() -> TokenBuf {
        TokenBuf::new()
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
            &CHECKOUT,
            self.expires_at,
            &self.merchant_id,
            &self.out_trade_no,
            key,
        )
    }

    /// Verifies the signature first, then the expiry against `now` (unix seconds).
    pub fn verify(token: &str, key: &MacKey, now: i64) -> Result<CheckoutToken, TokenError> {
        let (expires_at, merchant_id, out_trade_no) = verify(&CHECKOUT, token, key, now)?;
        Ok(CheckoutToken {
            merchant_id,
            out_trade_no,
            expires_at,
        })
    }

    /// [`CheckoutToken::verify`] without allocating: the merchant id and the order number
    /// ([`Claims::id`]) are read in place from `buf`. Every payer request reads its token this
    /// way (the pay page, the checkout API, the status socket, receipts).
    pub fn read<'b>(
        token: &str,
        key: &MacKey,
        now: i64,
        buf: &'b mut TokenBuf,
    ) -> Result<Claims<'b>, TokenError> {
        read(&CHECKOUT, token, key, now, buf)
    }
}

impl ContractToken {
    pub fn encode(&self, key: &MacKey) -> Option<String> {
        encode(
            &CONTRACT,
            self.expires_at,
            &self.merchant_id,
            &self.contract_code,
            key,
        )
    }

    pub fn verify(token: &str, key: &MacKey, now: i64) -> Result<ContractToken, TokenError> {
        let (expires_at, merchant_id, contract_code) = verify(&CONTRACT, token, key, now)?;
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
            &UNSUBSCRIBE,
            self.expires_at,
            &self.merchant_id,
            &self.message_id,
            key,
        )
    }

    pub fn verify(token: &str, key: &MacKey, now: i64) -> Result<UnsubscribeToken, TokenError> {
        let (expires_at, merchant_id, message_id) = verify(&UNSUBSCRIBE, token, key, now)?;
        Ok(UnsubscribeToken {
            merchant_id,
            message_id,
            expires_at,
        })
    }
}

/// `None` if a part contains `.` or is empty (such a token could be read two ways), or if the
/// token would be longer than [`MAX_TOKEN`] (it could not be read back).
fn encode(
    domain: &Domain,
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
    let mac = key.mac(&[&[domain.tag], payload.as_bytes()]);
    let token = format!(
        "{}.{}",
        b64url_encode(payload.as_bytes()),
        b64url_encode(&mac)
    );
    (token.len() <= MAX_TOKEN).then_some(token)
}

/// [`read`], with the ids copied out for callers that keep them.
fn verify(
    domain: &Domain,
    token: &str,
    key: &MacKey,
    now: i64,
) -> Result<(i64, String, String), TokenError> {
    let mut buf = TokenBuf::new();
    let c = read(domain, token, key, now, &mut buf)?;
    Ok((c.expires_at, c.merchant_id.to_owned(), c.id.to_owned()))
}

/// Checks the signature, then reads the payload and the expiry, decoding into `buf`.
fn read<'b>(
    domain: &Domain,
    token: &str,
    key: &MacKey,
    now: i64,
    buf: &'b mut TokenBuf,
) -> Result<Claims<'b>, TokenError> {
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
    // The tag, then the payload decoded right behind it: what the MAC covers, in one piece.
    let signed = &mut buf.0;
    signed[0] = domain.tag;
    let n = b64url_decode_into(p64, &mut signed[1..]).ok_or(TokenError::Invalid)?;
    if !key.verify(&[&signed[..=n]], &mac)
        && !key.verify(&[domain.first_form, p64.as_bytes()], &mac)
    {
        return Err(TokenError::Invalid);
    }
    let (exp, ids) = split_expiry(&buf.0[1..=n]).ok_or(TokenError::Invalid)?;
    // One UTF-8 check of both ids: they split at an ASCII dot, so each is text too.
    let ids = core::str::from_utf8(ids).map_err(|_| TokenError::Invalid)?;
    let dot = ids
        .bytes()
        .position(|b| b == b'.')
        .ok_or(TokenError::Invalid)?;
    if now > exp {
        return Err(TokenError::Expired);
    }
    Ok(Claims {
        expires_at: exp,
        merchant_id: &ids[..dot],
        id: &ids[dot + 1..],
    })
}

/// `<expires_at>.<rest>`: the expiry, 1 to 18 digits read in the pass that finds its dot, and
/// the rest. The rest is `<merchant_id>.<id>`, the id being everything after the first dot, as
/// `splitn(3, '.')` reads it.
fn split_expiry(p: &[u8]) -> Option<(i64, &[u8])> {
    let mut exp = 0i64;
    for (i, &b) in p.iter().enumerate() {
        match b {
            b'0'..=b'9' if i < 18 => exp = exp * 10 + i64::from(b - b'0'),
            b'.' if i > 0 => return Some((exp, &p[i + 1..])),
            _ => return None,
        }
    }
    None
}

/// A signature's length in unpadded base64url.
const MAC_B64: usize = 43;

/// The longest token: longer ones are refused unread, and none longer is issued. A checkout
/// token with the longest `out_trade_no` (32 characters) is 130; this leaves room for ids twice
/// that long while keeping [`TokenBuf`] small enough to zero on every request.
pub const MAX_TOKEN: usize = 256;

/// The longest payload a token of [`MAX_TOKEN`] characters carries.
const MAX_PAYLOAD: usize = (MAX_TOKEN - MAC_B64 - 1) * 3 / 4;

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
    /// hmac.new(KEY, b"\x01" + payload, sha256), unpadded base64url.
    #[test]
    fn known_token() {
        let want = "MTc5NTc3ODU2MC5tY2hfZGVtby5ERU1PLTAwMDF8YSpi.9jTty32qdHUdqUjNWgvmchBcEANTEQXzTczIfdsgfFk";
        assert_eq!(token().encode(&key()).unwrap(), want);
        assert_eq!(CheckoutToken::verify(want, &key(), 0), Ok(token()));
    }

    /// A link sent before the tagged form: hmac.new(KEY, b"paydesk-checkout-v1." + p64, sha256).
    /// It still opens its page, and only its page.
    #[test]
    fn first_form_tokens_still_open_until_they_expire() {
        let sent = "MTc5NTc3ODU2MC5tY2hfZGVtby5ERU1PLTAwMDF8YSpi.ux6pB_5IxPobF6KIQ8pzxcyzxIGiM685GqH_8dxMTOM";
        assert_eq!(CheckoutToken::verify(sent, &key(), 0), Ok(token()));
        assert_eq!(
            CheckoutToken::verify(sent, &key(), 1_795_778_561),
            Err(TokenError::Expired)
        );
        assert_eq!(
            CheckoutToken::verify(sent, &MacKey::new(b"another key"), 0),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            ContractToken::verify(sent, &key(), 0),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            UnsubscribeToken::verify(sent, &key(), 0),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            ConsoleToken::verify(sent, &key(), 0),
            Err(TokenError::Invalid)
        );
    }

    /// Each kind's tag is its own, and below every printable label MACed under the same key.
    #[test]
    fn tags_are_distinct_control_bytes() {
        let tags = [CHECKOUT.tag, CONTRACT.tag, UNSUBSCRIBE.tag, CONSOLE.tag];
        for (i, t) in tags.iter().enumerate() {
            assert!(*t < 0x20);
            assert!(!tags[i + 1..].contains(t));
        }
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
        let key = key();
        let sign = |payload: &str| {
            let mac = key.mac(&[&[CHECKOUT.tag], payload.as_bytes()]);
            format!(
                "{}.{}",
                b64url_encode(payload.as_bytes()),
                b64url_encode(&mac)
            )
        };
        let t = CheckoutToken::verify(&sign("17.mch.a.b"), &key, 0).unwrap();
        assert_eq!(
            (t.expires_at, &*t.merchant_id, &*t.out_trade_no),
            (17, "mch", "a.b")
        );
        assert_eq!(split_expiry(b"017.x"), Some((17, &b"x"[..])));
        assert_eq!(
            split_expiry(b"999999999999999999.x").map(|e| e.0),
            Some(999_999_999_999_999_999)
        );
        for bad in [
            "+17.m.i",
            "-17.m.i",
            ".m.i",
            "1x.m.i",
            "17.m",
            "17",
            "9999999999999999999.m.i",
        ] {
            assert_eq!(
                CheckoutToken::verify(&sign(bad), &key, 0),
                Err(TokenError::Invalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn read_borrows_what_verify_copies() {
        let t = token().encode(&key()).unwrap();
        let mut buf = TokenBuf::new();
        let c = CheckoutToken::read(&t, &key(), 0, &mut buf).unwrap();
        assert_eq!(
            c,
            Claims {
                expires_at: 1_795_778_560,
                merchant_id: "mch_demo",
                id: "DEMO-0001|a*b",
            }
        );
        let mut buf = TokenBuf::new();
        assert_eq!(
            CheckoutToken::read(&t, &key(), 1_795_778_561, &mut buf),
            Err(TokenError::Expired)
        );
    }

    /// Every token issued can be read back: the longest fits [`TokenBuf`], and one longer is not
    /// issued at all.
    #[test]
    fn the_longest_token_round_trips_and_no_longer_one_is_issued() {
        let mut t = token();
        t.merchant_id = "m".repeat(100);
        // 10 digits, two dots and the ids in base64 (4 characters per 3 bytes), a dot and the MAC.
        let room = (MAX_TOKEN - MAC_B64 - 1) / 4 * 3 - 10 - 2 - 100;
        t.out_trade_no = "o".repeat(room);
        let longest = t.encode(&key()).unwrap();
        assert!(longest.len() <= MAX_TOKEN && longest.len() > MAX_TOKEN - 4);
        assert_eq!(CheckoutToken::verify(&longest, &key(), 0), Ok(t.clone()));
        t.out_trade_no.push('o');
        t.out_trade_no.push('o');
        assert_eq!(t.encode(&key()), None);
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
