//! Keys made ready for HMAC once per isolate ([`MacKey`]): every signed API request and every
//! pay page checks a MAC, and preparing the key (its two pad blocks) costs as much as hashing a
//! short message. A worker isolate is single-threaded, so the cache is a thread-local map from the
//! key to its prepared state; it holds the checkout-token key and the API keys of the merchants
//! this isolate serves, and starts over past [`CAPACITY`] keys (rotated keys fall out that way).

use crate::config::Secret;
use paydesk_shared::sign::MacKey;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// More keys than one isolate's merchants plausibly use; a bound on memory, not a working set.
const CAPACITY: usize = 256;

thread_local! {
    static PREPARED: RefCell<HashMap<String, Rc<MacKey>>> = RefCell::new(HashMap::new());
}

/// The prepared state of `key`, made on first use.
pub fn prepared(key: &Secret) -> Rc<MacKey> {
    PREPARED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(k) = cache.get(key.peek()) {
            return Rc::clone(k);
        }
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        let k = Rc::new(MacKey::new(key.peek().as_bytes()));
        cache.insert(key.peek().to_owned(), Rc::clone(&k));
        k
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_state_per_key_and_the_right_one() {
        let a = Secret::new("sk_test_a_0123456789abcdef0123456789".into());
        let b = Secret::new("sk_test_b_0123456789abcdef0123456789".into());
        assert!(Rc::ptr_eq(&prepared(&a), &prepared(&a)));
        assert_eq!(
            prepared(&a).mac(&[b"x"]),
            MacKey::new(a.peek().as_bytes()).mac(&[b"x"])
        );
        assert_ne!(prepared(&a).mac(&[b"x"]), prepared(&b).mac(&[b"x"]));
    }

    #[test]
    fn a_full_cache_starts_over_and_still_answers() {
        for i in 0..CAPACITY + 3 {
            let k = Secret::new(format!("sk_test_{i:04}_0123456789abcdef01234567"));
            assert_eq!(
                prepared(&k).mac(&[b"m"]),
                MacKey::new(k.peek().as_bytes()).mac(&[b"m"])
            );
        }
        PREPARED.with(|c| assert!(c.borrow().len() <= CAPACITY));
    }
}
