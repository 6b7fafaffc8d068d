//! Webhook signatures, in the manner of Stripe's:
//! `Paydesk-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, each `v1` the lowercase hex
//! HMAC-SHA256 of `<t>.<body>` under one valid webhook secret. During a key rotation there is one
//! `v1` per secret, so a receiver holding either the old or the new secret accepts the delivery.

use super::{hex_decode_mac, hex_lower, hmac_sha256, MacKey};
use core::fmt;

/// Deliveries whose `t` is further than this from the receiver's clock are refused (replays).
pub const TOLERANCE_SECS: i64 = 300;

/// What an SMS provider's request is signed with: the lowercase hex HMAC-SHA256 of
/// `paydesk-sms-key` under a webhook secret. The merchant derives it from the secret and gives
/// only it to the provider (`docs/messaging.md`): a provider holding it can check a message came
/// from paydesk, but cannot sign a notification the merchant's server would believe.
pub fn sms_key(webhook_secret: &[u8]) -> String {
    hex_lower(&hmac_sha256(webhook_secret, &[b"paydesk-sms-key"]))
}

/// The header value for `body` sent at `t`, signed with every secret in `secrets`.
pub fn signature_header(secrets: &[&[u8]], t: i64, body: &[u8]) -> String {
    let ts = t.to_string();
    let mut out = format!("t={ts}");
    for secret in secrets {
        let mac = hmac_sha256(secret, &[ts.as_bytes(), b".", body]);
        out.push_str(",v1=");
        out.push_str(&hex_lower(&mac));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookError {
    /// No `t=` in the header, or it is not a unix time.
    NoTimestamp,
    /// No `v1=` signature in the header.
    NoSignature,
    /// `t` is more than [`TOLERANCE_SECS`] away from now.
    TooOld,
    /// No `v1` matches any of the secrets: wrong secret, or the body was altered.
    NoMatch,
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WebhookError::NoTimestamp => {
                "no timestamp in the Paydesk-Signature header; is this a paydesk delivery?"
            }
            WebhookError::NoSignature => {
                "no v1 signature in the Paydesk-Signature header; is this a paydesk delivery?"
            }
            WebhookError::TooOld => {
                "timestamp outside the tolerance; check the receiver's clock, or this is a replay"
            }
            WebhookError::NoMatch => {
                "no signature matches; check the webhook secret and that the raw body is verified \
                 before any parsing or re-encoding"
            }
        })
    }
}

impl std::error::Error for WebhookError {}

/// Verifies a delivery: the raw `body` exactly as received, the `Paydesk-Signature` header, the
/// receiver's current unix time and every secret it currently accepts. Returns the signed `t`.
pub fn verify(secrets: &[&[u8]], header: &str, body: &[u8], now: i64) -> Result<i64, WebhookError> {
    let mut t: Option<(&str, i64)> = None;
    let mut sigs: Vec<[u8; 32]> = Vec::new();
    for item in header.split(',') {
        let Some((k, v)) = item.trim().split_once('=') else {
            continue;
        };
        match k {
            "t" if t.is_none() => {
                let valid = !v.is_empty() && v.len() <= 12 && v.bytes().all(|b| b.is_ascii_digit());
                let parsed = if valid { v.parse().ok() } else { None };
                t = Some((v, parsed.ok_or(WebhookError::NoTimestamp)?));
            }
            "v1" => {
                if let Some(mac) = hex_decode_mac(v) {
                    sigs.push(mac);
                }
            }
            _ => {} // other schemes (v0, future versions) are ignored, as Stripe does
        }
    }
    let (t_str, t) = t.ok_or(WebhookError::NoTimestamp)?;
    if sigs.is_empty() {
        return Err(WebhookError::NoSignature);
    }
    let mut matched = false;
    for secret in secrets {
        let key = MacKey::new(secret);
        for sig in &sigs {
            // Evaluate every pair so timing does not reveal which one matched.
            matched |= key.verify(&[t_str.as_bytes(), b".", body], sig);
        }
    }
    if !matched {
        return Err(WebhookError::NoMatch);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(WebhookError::TooOld);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"whsec_dev_only_demo_secret";
    const OLD: &[u8] = b"whsec_old_rotating_out";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"order.paid"}"#;
    const T: i64 = 1_795_778_560;

    /// Computed independently with Python's hmac module:
    /// hmac.new(secret, b"1795778560." + body, hashlib.sha256).hexdigest()
    const SIG_NEW: &str = "e675e12ed6c5a68b67445f7d93d99472b1fcfb5dfd2824e40741e34817ca165e";
    const SIG_OLD: &str = "7c258977de8d96b55f5fe6142608cb6340fc9017c83d33608236328afafce7e3";

    #[test]
    fn header_matches_an_independent_implementation() {
        assert_eq!(
            signature_header(&[SECRET], T, BODY),
            format!("t={T},v1={SIG_NEW}")
        );
        assert_eq!(
            signature_header(&[SECRET, OLD], T, BODY),
            format!("t={T},v1={SIG_NEW},v1={SIG_OLD}")
        );
    }

    #[test]
    fn an_sms_signature_is_no_notification_signature() {
        // hmac.new(secret, b"paydesk-sms-key", hashlib.sha256).hexdigest()
        let key = sms_key(SECRET);
        assert_eq!(
            key,
            "c56197ea13a56d2a2b0ec6e10824634860e5cae5452a703351a10458f9cf96bb"
        );
        let header = signature_header(&[key.as_bytes()], T, BODY);
        assert_eq!(verify(&[key.as_bytes()], &header, BODY, T), Ok(T));
        assert_eq!(
            verify(&[SECRET], &header, BODY, T),
            Err(WebhookError::NoMatch)
        );
    }

    #[test]
    fn verifies_within_tolerance_with_any_current_secret() {
        let header = signature_header(&[SECRET, OLD], T, BODY);
        assert_eq!(verify(&[SECRET], &header, BODY, T), Ok(T));
        assert_eq!(verify(&[OLD], &header, BODY, T + 300), Ok(T));
        assert_eq!(verify(&[b"other", SECRET], &header, BODY, T - 300), Ok(T));
        // A receiver that already rotated but gets a delivery signed only with the new key.
        let only_new = signature_header(&[SECRET], T, BODY);
        assert_eq!(verify(&[OLD, SECRET], &only_new, BODY, T), Ok(T));
    }

    #[test]
    fn refuses_with_a_reason() {
        let header = signature_header(&[SECRET], T, BODY);
        assert_eq!(
            verify(&[SECRET], &header, BODY, T + 301),
            Err(WebhookError::TooOld)
        );
        assert_eq!(
            verify(&[SECRET], &header, BODY, T - 301),
            Err(WebhookError::TooOld)
        );
        assert_eq!(verify(&[OLD], &header, BODY, T), Err(WebhookError::NoMatch));
        assert_eq!(
            verify(
                &[SECRET],
                &header,
                br#"{"id":"evt_1","type":"order.paid "}"#,
                T
            ),
            Err(WebhookError::NoMatch)
        );
        let altered_t = header.replace("t=1795778560", "t=1795778561");
        assert_eq!(
            verify(&[SECRET], &altered_t, BODY, T),
            Err(WebhookError::NoMatch)
        );
        assert_eq!(
            verify(&[SECRET], &format!("v1={SIG_NEW}"), BODY, T),
            Err(WebhookError::NoTimestamp)
        );
        assert_eq!(
            verify(&[SECRET], "t=abc,v1=00", BODY, T),
            Err(WebhookError::NoTimestamp)
        );
        assert_eq!(
            verify(&[SECRET], &format!("t={T}"), BODY, T),
            Err(WebhookError::NoSignature)
        );
        assert_eq!(
            verify(&[SECRET], &format!("t={T},v0={SIG_NEW}"), BODY, T),
            Err(WebhookError::NoSignature)
        );
        assert_eq!(verify(&[], &header, BODY, T), Err(WebhookError::NoMatch));
        assert_eq!(
            verify(&[SECRET], "", BODY, T),
            Err(WebhookError::NoTimestamp)
        );
    }

    proptest! {
        #[test]
        fn any_body_change_is_detected(
            body in proptest::collection::vec(any::<u8>(), 0..128),
            flip in any::<proptest::sample::Index>(),
            bit in 0u8..8,
        ) {
            let header = signature_header(&[SECRET], T, &body);
            prop_assert_eq!(verify(&[SECRET], &header, &body, T), Ok(T));
            if !body.is_empty() {
                let mut changed = body.clone();
                changed[flip.index(body.len())] ^= 1 << bit;
                prop_assert_eq!(verify(&[SECRET], &header, &changed, T), Err(WebhookError::NoMatch));
            }
        }
    }
}
