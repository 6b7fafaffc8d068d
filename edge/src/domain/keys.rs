//! Which of a merchant's secrets are valid now. After a rotation the previous API key (or
//! webhook secret) stays valid until its grace period ends, so a merchant can roll its servers
//! over without a failed request. The JSON API, the v2 dialect and the outbox all ask this.

/// The current secret, then the previous one while its grace period lasts (real time).
pub fn valid_now<'a, T>(
    current: &'a T,
    previous: Option<&'a T>,
    previous_until_ms: Option<i64>,
    real_now_ms: i64,
) -> Vec<&'a T> {
    let mut keys = vec![current];
    if let (Some(p), Some(until)) = (previous, previous_until_ms) {
        if real_now_ms <= until {
            keys.push(p);
        }
    }
    keys
}

/// A key's public id for the audit log (`key_` and 8 hex digits of its SHA-256): names which key
/// acted without revealing anything usable about it.
pub fn key_id(key: &str) -> String {
    let h = paydesk_shared::sign::hex_lower(&paydesk_shared::sign::sha256(key.as_bytes()));
    format!("key_{}", &h[..8])
}

/// Whether a secret may be rotated again now: not while the previous one is still in its grace
/// period, since that would drop the secret the merchant's servers may still be using. The
/// refusal says when to try again.
pub fn may_rotate(
    previous_until_ms: Option<i64>,
    real_now_ms: i64,
) -> Result<(), super::refusal::Refusal> {
    let left_ms = previous_until_ms.unwrap_or(0) - real_now_ms;
    if left_ms <= 0 {
        return Ok(());
    }
    let why =
        "the previous webhook secret is still in its grace period: rotate again after it ends";
    Err(
        super::refusal::Refusal::new(paydesk_shared::api::ErrorCode::FrequencyLimited, why)
            .retry_after(((left_ms + 999) / 1000) as u32),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_second_rotation_within_the_grace() {
        assert!(may_rotate(None, 1_000).is_ok());
        assert!(may_rotate(Some(1_000), 1_000).is_ok());
        let r = may_rotate(Some(61_500), 1_000).unwrap_err();
        assert_eq!(r.code, paydesk_shared::api::ErrorCode::FrequencyLimited);
        assert_eq!(r.retry_after, Some(61));
    }

    #[test]
    fn the_previous_key_lasts_its_grace_period() {
        assert_eq!(
            valid_now(&"new", Some(&"old"), Some(1000), 1000),
            vec![&"new", &"old"]
        );
        assert_eq!(
            valid_now(&"new", Some(&"old"), Some(1000), 1001),
            vec![&"new"]
        );
        assert_eq!(valid_now(&"new", None, Some(1000), 0), vec![&"new"]);
        assert_eq!(valid_now(&"new", Some(&"old"), None, 0), vec![&"new"]);
    }
}
