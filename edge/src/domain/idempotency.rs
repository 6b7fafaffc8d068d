//! Creates are idempotent by the number the client chose (`out_trade_no`, `out_refund_no`, a
//! plan id, a contract code, a subscription id, a plan number, a usage key): the same request
//! sent again answers with what the first one stored, and another request under a number
//! already used is refused, never stored over it. Requests are told apart by a fingerprint of
//! what they ask for (each kind's own, in its rules).

/// What a create finds under its number.
#[derive(Debug, PartialEq, Eq)]
pub enum Repeat<T> {
    /// Nothing yet: the create goes ahead.
    New,
    /// The same request again: answer with what it stored.
    Same(T),
    /// Another request under this number: refuse it.
    Other,
}

/// `stored` is what the number already holds, if anything; `fingerprint_of` reads a stored
/// one's fingerprint; `fingerprint` is the request's.
pub fn repeat<T>(
    stored: Option<T>,
    fingerprint_of: impl Fn(&T) -> &str,
    fingerprint: &str,
) -> Repeat<T> {
    match stored {
        None => Repeat::New,
        Some(s) if fingerprint_of(&s) == fingerprint => Repeat::Same(s),
        Some(_) => Repeat::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(s: &(u32, String)) -> &str {
        &s.1
    }

    #[test]
    fn a_number_is_new_the_same_request_or_another() {
        assert_eq!(repeat(None, fp, "a"), Repeat::New);
        assert_eq!(
            repeat(Some((7, "a".into())), fp, "a"),
            Repeat::Same((7, "a".into()))
        );
        assert_eq!(repeat(Some((7, "a".into())), fp, "b"), Repeat::Other);
        // Fingerprints are compared whole: a prefix is another request.
        assert_eq!(repeat(Some((7, "ab".into())), fp, "a"), Repeat::Other);
    }
}
