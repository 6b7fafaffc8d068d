//! The replay window's nonces, as the merchant's object holds them in memory: which nonces were
//! used in the last [`NONCE_WINDOW_SECS`] seconds, looked up by a digest of the nonce.
//!
//! SQLite keeps the same nonces as a log in the order they came (`nonce_log`, migration 33 in
//! `merchant/schema.rs`), with no index on the nonce: a new nonce is appended at the end of one
//! B-tree. An index on the nonce itself would put each new one on a random page of a tree as large
//! as the window's traffic, and a busy merchant's commits would write that many more pages.
//! The object reads the log once when it starts (`merchant/auth.rs`) and keeps this window up
//! to date with every nonce its transactions commit.
//!
//! [`NONCE_WINDOW_SECS`]: paydesk_shared::sign::request::NONCE_WINDOW_SECS

use paydesk_shared::sign::request::NONCE_WINDOW_SECS;
use std::collections::{HashMap, VecDeque};

/// What identifies a nonce in memory: the first 16 bytes of its SHA-256 (a collision between two
/// nonces is a 2^-128 chance), so a window of any nonces' lengths costs the same per entry.
pub type NonceKey = [u8; 16];

pub fn key_of(nonce: &str) -> NonceKey {
    let d = paydesk_shared::sign::sha256(nonce.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

/// The first instant still inside the window at `real_now_ms`: a nonce last used at or after it
/// is refused.
pub fn window_start(real_now_ms: i64) -> i64 {
    real_now_ms - NONCE_WINDOW_SECS * 1000
}

/// The nonces used in the window, each with its last use, and the uses in the order they came,
/// so that the ones leaving the window are let go of from the front.
#[derive(Default)]
pub struct ReplayWindow {
    last_use: HashMap<NonceKey, i64>,
    uses: VecDeque<(i64, NonceKey)>,
}

impl ReplayWindow {
    /// A window from the log's rows (`(nonce, seen_at_ms)`, in the order they were stored).
    fn from_log<'a>(rows: impl IntoIterator<Item = (&'a str, i64)>) -> Self {
        let mut w = ReplayWindow::default();
        for (nonce, at) in rows {
            w.record(key_of(nonce), at);
        }
        w
    }

    /// A window from the log read as one text: `nonce seen_at_ms` pairs separated by spaces,
    /// in the order they were stored (a nonce is letters, digits, `_` and `-`). A pair that
    /// does not parse is skipped.
    pub fn from_log_text(text: &str) -> Self {
        let mut words = text.split_ascii_whitespace();
        let pairs = std::iter::from_fn(|| Some((words.next()?, words.next()?)));
        Self::from_log(pairs.filter_map(|(n, at)| Some((n, at.parse().ok()?))))
    }

    /// Whether `key` may be used at `real_now_ms`: not used inside the window before.
    pub fn is_fresh(&self, key: &NonceKey, real_now_ms: i64) -> bool {
        self.last_use
            .get(key)
            .is_none_or(|&at| at < window_start(real_now_ms))
    }

    /// A use of `key` at `at_ms` that its transaction committed.
    pub fn record(&mut self, key: NonceKey, at_ms: i64) {
        self.let_go(window_start(at_ms));
        self.last_use.insert(key, at_ms);
        self.uses.push_back((at_ms, key));
    }

    /// Lets go of the uses before `start`, from the front, while they are older: a use stored
    /// after a younger one (the clock stepped back) waits for it in memory, but is judged by its
    /// own time.
    fn let_go(&mut self, start: i64) {
        while let Some(&(at, key)) = self.uses.front() {
            if at >= start {
                break;
            }
            self.uses.pop_front();
            if self.last_use.get(&key) == Some(&at) {
                self.last_use.remove(&key);
            }
        }
    }

    /// How many uses the window holds (those let go of excepted).
    pub fn len(&self) -> usize {
        self.uses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.uses.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = NONCE_WINDOW_SECS * 1000;

    /// A request is accepted while the server's second is within `MAX_SKEW_SECS` of its
    /// timestamp: from `(ts - skew) * 1000` to just before `(ts + skew + 1) * 1000`. A nonce
    /// first used at the start of that span is still remembered at its end.
    #[test]
    fn a_nonce_outlives_every_instant_its_timestamp_is_accepted_at() {
        use paydesk_shared::sign::request::MAX_SKEW_SECS;
        let ts = 1_800_000_000;
        let first = (ts - MAX_SKEW_SECS) * 1000;
        let last = (ts + MAX_SKEW_SECS + 1) * 1000 - 1;
        let mut w = ReplayWindow::default();
        let k = key_of("nonce-at-the-edge-0001");
        w.record(k, first);
        assert!(!w.is_fresh(&k, last), "replayed {} ms later", last - first);
    }

    #[test]
    fn a_nonce_is_refused_inside_the_window_and_fresh_after_it() {
        let mut w = ReplayWindow::default();
        let k = key_of("nonce-aaaaaaaaaaaaaaaa");
        assert!(w.is_fresh(&k, 1_000));
        w.record(k, 1_000);
        assert!(!w.is_fresh(&k, 1_000));
        assert!(!w.is_fresh(&k, 1_000 + W));
        assert!(w.is_fresh(&k, 1_001 + W));
        assert!(w.is_fresh(&key_of("nonce-bbbbbbbbbbbbbbbb"), 1_000));
    }

    #[test]
    fn a_nonce_used_again_after_the_window_counts_from_its_last_use() {
        let mut w = ReplayWindow::default();
        let k = key_of("nonce-aaaaaaaaaaaaaaaa");
        w.record(k, 0);
        w.record(k, W + 5);
        // The first use leaves the window; the second still holds the nonce.
        w.record(key_of("nonce-cccccccccccccccc"), W + 10);
        assert!(!w.is_fresh(&k, 2 * W));
        assert!(w.is_fresh(&k, 2 * W + 6));
    }

    #[test]
    fn uses_that_left_the_window_are_let_go_of() {
        let mut w = ReplayWindow::default();
        for i in 0..100 {
            w.record(key_of(&format!("nonce-{i:016}")), i);
        }
        assert_eq!(w.len(), 100);
        w.record(key_of("nonce-later-0000000000"), 50 + W);
        // Those before 50 left; 50..100 and the new one stay.
        assert_eq!(w.len(), 51);
        assert_eq!(w.last_use.len(), 51);
        assert!(!w.is_fresh(&key_of(&format!("nonce-{:016}", 50)), 50 + W));
    }

    #[test]
    fn a_use_stored_after_a_younger_one_is_judged_by_its_own_time() {
        let mut w = ReplayWindow::default();
        let older = key_of("nonce-older-0000000000");
        w.record(key_of("nonce-first-0000000000"), 1_000);
        w.record(older, 900);
        // Held in memory behind the younger front, but fresh again as its own window ends.
        w.record(key_of("nonce-third-0000000000"), 950 + W);
        assert_eq!(w.len(), 3);
        assert!(!w.is_fresh(&older, 900 + W));
        assert!(w.is_fresh(&older, 901 + W));
        w.record(key_of("nonce-fourt-0000000000"), 1_001 + W);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn the_log_read_as_one_text_rebuilds_the_window() {
        let w = ReplayWindow::from_log_text("nonce-aaaaaaaaaaaaaaaa 10 nonce-bbbbbbbbbbbbbbbb 20");
        assert_eq!(w.len(), 2);
        assert!(!w.is_fresh(&key_of("nonce-aaaaaaaaaaaaaaaa"), 20));
        assert!(!w.is_fresh(&key_of("nonce-bbbbbbbbbbbbbbbb"), 20));
        assert!(w.is_fresh(&key_of("nonce-cccccccccccccccc"), 20));
        assert!(ReplayWindow::from_log_text("").is_empty());
    }

    #[test]
    fn the_log_rebuilds_the_same_window() {
        let rows = [
            ("nonce-aaaaaaaaaaaaaaaa", 10),
            ("nonce-bbbbbbbbbbbbbbbb", 20),
        ];
        let w = ReplayWindow::from_log(rows);
        assert_eq!(w.len(), 2);
        assert!(!w.is_fresh(&key_of("nonce-aaaaaaaaaaaaaaaa"), 20));
        assert!(w.is_fresh(&key_of("nonce-cccccccccccccccc"), 20));
    }
}
