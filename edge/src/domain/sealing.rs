//! Personal and business data sealed at rest with AES-256-GCM. The deployment's keys are the
//! secret `DATA_KEYS`: `key_id:64 hex digits` entries separated by commas, the same shape as
//! `RECEIPT_SIGNING_KEYS`. The first seals; every listed key opens, so a key is rotated by
//! putting a new one first and keeping the old one listed until what it sealed was sealed again.
//!
//! A sealed value is `v1.<key_id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The associated data
//! binds it to where it belongs (a merchant and a record): moved to another row it no longer
//! opens. The 96-bit nonce comes from the caller (the runtime's CSPRNG), so this stays pure.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

pub struct DataKey {
    pub key_id: String,
    key: [u8; 32],
}

/// What each kind of sealed value is bound to (its associated data): the merchant and the row.
/// The places that seal and open a value and the re-sealing of every column use these, so they
/// can never disagree.
pub mod aad {
    /// An onboarding application (`merchant/onboarding.rs`).
    pub fn application(merchant_id: &str, application_id: &str) -> Vec<u8> {
        format!("paydesk/application/{merchant_id}/{application_id}").into_bytes()
    }

    /// An upstream channel's key (`merchant/upstream.rs`).
    pub fn channel(merchant_id: &str, channel: &str) -> Vec<u8> {
        format!("paydesk/channel/{merchant_id}/{channel}").into_bytes()
    }

    /// A payer's contact, by what it is the contact of (`merchant/contacts.rs`).
    pub fn contact(merchant_id: &str, subject: &str) -> Vec<u8> {
        format!("paydesk/contact/{merchant_id}/{subject}").into_bytes()
    }

    /// A message's address (`merchant/messages.rs`).
    pub fn message(merchant_id: &str, message_id: &str) -> Vec<u8> {
        format!("paydesk/message/{merchant_id}/{message_id}").into_bytes()
    }

    /// The merchant's messaging settings (one per merchant).
    pub fn messaging(merchant_id: &str) -> Vec<u8> {
        format!("paydesk/messaging/{merchant_id}").into_bytes()
    }
}

/// Reads `DATA_KEYS` (`id:64 hex digits`, comma separated; the first seals).
pub fn parse_keys(s: &str) -> Result<Vec<DataKey>, String> {
    let keys: Vec<DataKey> = super::receipt_rules::parse_id_hex32("DATA_KEYS", s)?
        .into_iter()
        .map(|(key_id, key)| DataKey { key_id, key })
        .collect();
    Ok(keys)
}

/// Seals `plain` under the first key.
pub fn seal(keys: &[DataKey], nonce: [u8; 12], aad: &[u8], plain: &[u8]) -> Result<String, String> {
    let k = keys.first().ok_or("DATA_KEYS holds no key")?;
    let cipher = Aes256Gcm::new_from_slice(&k.key).map_err(|e| e.to_string())?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| "sealing failed")?;
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    let b64 = paydesk_shared::sign::b64url_encode(&bytes);
    Ok(format!("v1.{}.{b64}", k.key_id))
}

/// A value sealed under another listed key, sealed again under the first (key rotation).
pub fn reseal(
    keys: &[DataKey],
    nonce: [u8; 12],
    aad: &[u8],
    sealed: &str,
) -> Result<String, OpenError> {
    let plain = open(keys, aad, sealed)?;
    seal(keys, nonce, aad, &plain).map_err(|_| OpenError::UnknownKey)
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// Not a sealed value of this version.
    Malformed,
    /// Sealed under a key that is no longer listed.
    UnknownKey,
    /// Changed, or bound to other associated data, or the key's bytes changed.
    Forged,
}

/// Opens a sealed value with whichever listed key sealed it.
pub fn open(keys: &[DataKey], aad: &[u8], sealed: &str) -> Result<Vec<u8>, OpenError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some("v1"), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(OpenError::Malformed);
    };
    let bytes = paydesk_shared::sign::b64url_decode(b64).ok_or(OpenError::Malformed)?;
    if bytes.len() < 12 + 16 {
        return Err(OpenError::Malformed);
    }
    let k = keys
        .iter()
        .find(|k| k.key_id == id)
        .ok_or(OpenError::UnknownKey)?;
    let cipher = Aes256Gcm::new_from_slice(&k.key).map_err(|_| OpenError::Forged)?;
    let (nonce, body) = bytes.split_at(12);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| OpenError::Forged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_bound_to_its_merchant_and_row() {
        assert_eq!(
            aad::contact("mch_1", "order/A"),
            b"paydesk/contact/mch_1/order/A"
        );
        assert_eq!(
            aad::application("mch_1", "7"),
            b"paydesk/application/mch_1/7"
        );
        assert_eq!(aad::messaging("mch_1"), b"paydesk/messaging/mch_1");
        assert_ne!(aad::message("mch_1", "m"), aad::message("mch_2", "m"));
        assert_ne!(aad::channel("mch_1", "x"), aad::contact("mch_1", "x"));
    }

    const K1: &str = "k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const K2: &str = "k2:1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

    #[test]
    fn seals_and_opens_bound_to_its_place() {
        let keys = parse_keys(K1).unwrap();
        let s = seal(&keys, [7; 12], b"mch_1/app/1", "张三".as_bytes()).unwrap();
        assert!(s.starts_with("v1.k1."));
        assert!(!s.contains("张三"));
        assert_eq!(open(&keys, b"mch_1/app/1", &s).unwrap(), "张三".as_bytes());
        assert_eq!(open(&keys, b"mch_2/app/1", &s), Err(OpenError::Forged));
        let other_nonce = seal(&keys, [8; 12], b"mch_1/app/1", "张三".as_bytes()).unwrap();
        assert_ne!(s, other_nonce, "a fresh nonce, a different sealed value");
    }

    #[test]
    fn resealing_moves_a_value_to_the_first_key_so_the_old_one_can_go() {
        let old = parse_keys(K1).unwrap();
        let s = seal(&old, [3; 12], b"mch_1/contact/T1", b"13812345678").unwrap();
        let both = parse_keys(&format!("{},{K1}", K2)).unwrap();
        let fresh = reseal(&both, [4; 12], b"mch_1/contact/T1", &s).unwrap();
        assert!(fresh.starts_with("v1.k2."), "{fresh}");
        let new_only = parse_keys(K2).unwrap();
        assert_eq!(
            open(&new_only, b"mch_1/contact/T1", &fresh).unwrap(),
            b"13812345678"
        );
        assert_eq!(
            open(&new_only, b"mch_1/contact/T1", &s),
            Err(OpenError::UnknownKey)
        );
        assert_eq!(
            reseal(&both, [4; 12], b"mch_2/contact/T1", &s),
            Err(OpenError::Forged),
            "bound to its place still"
        );
    }

    #[test]
    fn a_changed_byte_does_not_open() {
        let keys = parse_keys(K1).unwrap();
        let s = seal(&keys, [1; 12], b"a", b"6225880000001234").unwrap();
        let mut bytes = s.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        assert_eq!(open(&keys, b"a", &changed), Err(OpenError::Forged));
        assert_eq!(open(&keys, b"a", "v1.k1.AAAA"), Err(OpenError::Malformed));
        assert_eq!(open(&keys, b"a", "v2.k1.AAAA"), Err(OpenError::Malformed));
        assert_eq!(open(&keys, b"a", "plain text"), Err(OpenError::Malformed));
    }

    #[test]
    fn rotation_seals_with_the_first_and_opens_with_any_listed() {
        let old = parse_keys(K1).unwrap();
        let sealed_before = seal(&old, [2; 12], b"x", b"licence").unwrap();
        let rotated = parse_keys(&format!("{K2},{K1}")).unwrap();
        assert_eq!(open(&rotated, b"x", &sealed_before).unwrap(), b"licence");
        let sealed_after = seal(&rotated, [3; 12], b"x", b"licence").unwrap();
        assert!(sealed_after.starts_with("v1.k2."));
        assert_eq!(open(&old, b"x", &sealed_after), Err(OpenError::UnknownKey));
        let retired = parse_keys(K2).unwrap();
        assert_eq!(
            open(&retired, b"x", &sealed_before),
            Err(OpenError::UnknownKey)
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(parse_keys("").is_err());
        assert!(parse_keys("k1:00").is_err());
        assert!(
            parse_keys("k 1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
                .is_err()
        );
    }
}
