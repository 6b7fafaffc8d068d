//! What a merchant's object keeps between requests instead of reading it from SQLite each
//! time: its merchant row, read and parsed once, and the head of its audit chain, which every
//! audited change needs to chain the next entry to. Each is kept only while it is what SQLite
//! holds: the merchant row is forgotten by every statement that writes it
//! (`Ledger::q`, `Ledger::x` in `merchant/store.rs`), the head is replaced by every entry
//! appended (`Ledger::audit`, the only writer of a new head; retention lets go of old entries
//! but never the head), and a transaction that rolls back forgets both (`Ledger::atomically`).
//! An entry is appended only if the head it chains to is still the last one (`Ledger::chain`),
//! so a head kept wrongly costs a read, never a forked chain.
//!
//! It also keeps the replay window's nonces (`domain/replay_window.rs`), read from the nonce log
//! once and then told of each nonce whose transaction committed (`merchant/api.rs`), so a nonce is
//! looked up in memory; SQLite's log has no index on it. A rolled-back transaction leaves the
//! window as it is: a nonce is recorded only after its transaction commits.

use crate::domain::export_rules::AuditRef;
use crate::domain::replay_window::{NonceKey, ReplayWindow};
use std::cell::RefCell;

/// `M` is the merchant row as the ledger reads it (`merchant/store.rs`, `Merchant`).
pub struct Kept<M> {
    merchant: RefCell<Option<M>>,
    /// `Some(None)`: the chain is known to be empty.
    audit_head: RefCell<Option<Option<AuditRef>>>,
    /// `None` until the log is first read.
    replay: RefCell<Option<ReplayWindow>>,
    /// The origin last recorded as the merchant's (`Ledger::remember_origin`), so an unchanged
    /// one costs no statement.
    origin: RefCell<String>,
}

impl<M> Default for Kept<M> {
    fn default() -> Self {
        Kept {
            merchant: RefCell::new(None),
            audit_head: RefCell::new(None),
            replay: RefCell::new(None),
            origin: RefCell::new(String::new()),
        }
    }
}

impl<M: Clone> Kept<M> {
    pub fn merchant(&self) -> Option<M> {
        self.merchant.borrow().clone()
    }

    pub fn keep_merchant(&self, m: &M) {
        *self.merchant.borrow_mut() = Some(m.clone());
    }

    pub fn forget_merchant(&self) {
        self.merchant.take();
    }

    /// Whether `origin` is the one last recorded as the merchant's.
    pub fn origin_is(&self, origin: &str) -> bool {
        *self.origin.borrow() == origin
    }

    pub fn keep_origin(&self, origin: &str) {
        origin.clone_into(&mut self.origin.borrow_mut());
    }

    /// The chain's head as last read or written: `None` when it is not known.
    pub fn audit_head(&self) -> Option<Option<AuditRef>> {
        self.audit_head.borrow().clone()
    }

    pub fn forget_audit_head(&self) {
        self.audit_head.take();
    }

    pub fn keep_audit_head(&self, head: Option<AuditRef>) {
        *self.audit_head.borrow_mut() = Some(head);
    }

    /// Whether `key` may be used at `real_now_ms`; `None` while the log has not been read.
    pub fn nonce_is_fresh(&self, key: &NonceKey, real_now_ms: i64) -> Option<bool> {
        self.replay
            .borrow()
            .as_ref()
            .map(|w| w.is_fresh(key, real_now_ms))
    }

    /// The window as the log holds it, read once.
    pub fn keep_replay_window(&self, w: ReplayWindow) {
        *self.replay.borrow_mut() = Some(w);
    }

    /// A nonce whose transaction committed.
    pub fn record_nonce(&self, key: NonceKey, at_ms: i64) {
        if let Some(w) = self.replay.borrow_mut().as_mut() {
            w.record(key, at_ms);
        }
    }

    /// A transaction rolled back: what was read or written inside it may never have been
    /// stored.
    pub fn forget(&self) {
        self.forget_merchant();
        self.forget_audit_head();
    }
}
