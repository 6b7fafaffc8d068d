//! Opaque page cursors of the listings: base64url of the position after which the next page
//! starts, so a client cannot mistake them for anything it should build itself.

use super::refusal::Refusal;
use paydesk_shared::sign::{b64url_decode, b64url_encode};

/// A position in a listing: a time and a tie-breaking key (`1732000000000:ORDER_1`), or a
/// sequence number alone.
pub fn encode(position: &str) -> String {
    b64url_encode(position.as_bytes())
}

fn decode(cursor: &str) -> Result<String, Refusal> {
    b64url_decode(cursor)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)
}

fn invalid() -> Refusal {
    Refusal::param("cursor", "cursor is not valid")
}

/// `(at_ms, key)` of a cursor made by `encode(&format!("{at_ms}:{key}"))`.
pub fn decode_time_key(cursor: &str) -> Result<(i64, String), Refusal> {
    let text = decode(cursor)?;
    let (at, key) = text.split_once(':').ok_or_else(invalid)?;
    Ok((at.parse().map_err(|_| invalid())?, key.to_owned()))
}

/// The sequence number of a cursor made by `encode(&seq.to_string())`.
pub fn decode_seq(cursor: &str) -> Result<i64, Refusal> {
    decode(cursor)?.parse().map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        assert_eq!(
            decode_time_key(&encode("1732000000000:A|B")),
            Ok((1_732_000_000_000, "A|B".into()))
        );
        assert_eq!(decode_seq(&encode("42")), Ok(42));
        assert!(decode_seq("!!!").is_err());
        assert!(decode_seq(&encode("x")).is_err());
        assert_eq!(
            decode_time_key(&encode("12")).unwrap_err().param.as_deref(),
            Some("cursor")
        );
    }
}
