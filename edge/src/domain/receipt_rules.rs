//! Electronic receipts: what a receipt says, its canonical text, and its Ed25519 signature with
//! the deployment's key, so anyone holding the public key
//! (`/.well-known/paydesk-receipt-keys`) can check offline that no byte changed.
//!
//! The signed bytes are the `payload` string itself, carried in the document as it was
//! signed: a verifier checks the signature over that string's UTF-8 bytes, then reads it as
//! JSON. The payload is canonical (keys in alphabetical order, no whitespace, integers for
//! money), so the same payment always yields the same bytes and the same signature
//! (Ed25519 is deterministic). Keys: `RECEIPT_SIGNING_KEYS` is `key_id:seed_hex` entries
//! separated by commas; the first signs, all are published (rotation: put a new key first and
//! keep the old ones listed, so receipts already issued still verify).

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

/// What a receipt attests, in fen. Field order is alphabetical: serialising it is its
/// canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub amount: u64,
    /// When the money moved (RFC 3339, UTC).
    pub at: String,
    pub currency: String,
    pub description: String,
    /// `payment` or `refund`.
    pub kind: String,
    pub merchant_id: String,
    pub merchant_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_refund_no: Option<String>,
    pub out_trade_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    pub transaction_id: String,
    pub version: u32,
}

/// A signed receipt as issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReceipt {
    pub alg: String,
    pub key_id: String,
    /// The canonical JSON text of the [`Receipt`], exactly as signed.
    pub payload: String,
    /// Ed25519 over `payload`'s UTF-8 bytes, base64url without padding.
    pub signature: String,
}

/// One signing key: its id and its secret seed.
pub struct ReceiptKey {
    pub key_id: String,
    key: SigningKey,
}

impl ReceiptKey {
    /// The public key, base64url without padding (a JWK's `x`).
    pub fn public_x(&self) -> String {
        b64(self.key.verifying_key().as_bytes())
    }
}

fn b64(bytes: &[u8]) -> String {
    paydesk_shared::sign::b64url_encode(bytes)
}

/// Reads `RECEIPT_SIGNING_KEYS` (`id:64 hex digits`, comma separated; the first signs).
pub fn parse_keys(s: &str) -> Result<Vec<ReceiptKey>, String> {
    Ok(parse_id_hex32("RECEIPT_SIGNING_KEYS", s)?
        .into_iter()
        .map(|(key_id, seed)| ReceiptKey {
            key_id,
            key: SigningKey::from_bytes(&seed),
        })
        .collect())
}

/// Reads a key list secret: `key_id:64 hex digits` entries separated by commas, at least one.
pub fn parse_id_hex32(name: &str, s: &str) -> Result<Vec<(String, [u8; 32])>, String> {
    let mut keys = Vec::new();
    for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (id, hex) = entry
            .split_once(':')
            .ok_or(format!("each {name} entry is key_id:hex"))?;
        let id_ok = (1..=40).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let key = decode_hex32(hex).filter(|_| id_ok).ok_or(format!(
            "a {name} entry needs an id of letters, digits, - or _ and 64 hex digits"
        ))?;
        // Values are found by their key's id: a second key under one id would be tried for
        // none of them (a rotation must give the new key a new id).
        if keys.iter().any(|(k, _)| k == id) {
            return Err(format!(
                "{name} names the key id {id} twice: give each key its own id"
            ));
        }
        keys.push((id.to_owned(), key));
    }
    if keys.is_empty() {
        return Err(format!("{name} holds no key"));
    }
    Ok(keys)
}

fn decode_hex32(hex: &str) -> Option<[u8; 32]> {
    let b = hex.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// A settlement's signed daily statement: the day's batch and the head of the merchant's audit
/// chain when it closed, anchored outside the merchant's object in the hands of whoever holds
/// it. Fields in alphabetical order (its canonical form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The hash of the audit chain's last entry when the day closed.
    pub audit_hash: String,
    pub audit_seq: i64,
    pub date: String,
    pub fees: i64,
    pub gross: u64,
    /// `statement`.
    pub kind: String,
    pub merchant_id: String,
    pub net: i64,
    pub order_count: u64,
    pub refunds: u64,
    pub settlement_id: String,
    pub splits: i64,
    pub version: u32,
}

/// A receipt or a statement signed with `key`.
pub fn sign<T: Serialize>(r: &T, key: &ReceiptKey) -> SignedReceipt {
    let payload = serde_json::to_string(r).expect("a receipt serialises");
    let signature = key.key.sign(payload.as_bytes());
    SignedReceipt {
        alg: "Ed25519".into(),
        key_id: key.key_id.clone(),
        payload,
        signature: b64(&signature.to_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier};

    fn receipt() -> Receipt {
        Receipt {
            amount: 1_234,
            at: "2026-12-03T02:00:00.000Z".into(),
            currency: "CNY".into(),
            description: "Tea \"Longjing\" 龙井".into(),
            kind: "payment".into(),
            merchant_id: "mch_0000000000000001".into(),
            merchant_name: "Tea House".into(),
            method: Some("credit_card".into()),
            out_refund_no: None,
            out_trade_no: "T1".into(),
            refund_id: None,
            transaction_id: "4200000001".into(),
            version: 1,
        }
    }

    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

    #[test]
    fn field_order_is_alphabetical() {
        let v = serde_json::to_value(receipt()).unwrap();
        let text = serde_json::to_string(&receipt()).unwrap();
        let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        keys.sort();
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn the_payload_is_canonical_and_the_signature_deterministic() {
        let keys = parse_keys(&format!("k1:{SEED}, k0:{}", "11".repeat(32))).unwrap();
        assert_eq!(keys.len(), 2);
        // RFC 8032's first test vector: this seed's public key.
        assert_eq!(
            keys[0].public_x(),
            b64(&[
                0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64,
                0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68,
                0xf7, 0x07, 0x51, 0x1a
            ])
        );
        let a = sign(&receipt(), &keys[0]);
        assert_eq!(a, sign(&receipt(), &keys[0]), "deterministic");
        assert_eq!(
            a.payload,
            r#"{"amount":1234,"at":"2026-12-03T02:00:00.000Z","currency":"CNY","description":"Tea \"Longjing\" 龙井","kind":"payment","merchant_id":"mch_0000000000000001","merchant_name":"Tea House","method":"credit_card","out_trade_no":"T1","transaction_id":"4200000001","version":1}"#
        );
        let sig = paydesk_shared::sign::b64url_decode(&a.signature).unwrap();
        let sig = Signature::from_slice(&sig).unwrap();
        let vk = keys[0].key.verifying_key();
        assert!(vk.verify(a.payload.as_bytes(), &sig).is_ok());
        // Any changed byte fails.
        let changed = a.payload.replace("1234", "1235");
        assert!(vk.verify(changed.as_bytes(), &sig).is_err());
    }

    #[test]
    fn keys_are_checked() {
        for bad in [
            "",
            "k1",
            &format!("k1:{}", &SEED[..62]),
            &format!("k 1:{SEED}"),
            "k1:zz",
            &format!("k1:{SEED},k1:{}", "11".repeat(32)),
        ] {
            assert!(parse_keys(bad).is_err(), "{bad}");
        }
    }
}
