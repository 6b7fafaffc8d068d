//! Who may ask, and how often: the JSON API's request signature and nonce, the v2 dialect's
//! parameter signature, the merchant's IP allowlist, and the rolling per-minute rate windows.
//! Keys come from one place (`Merchant::api_keys`: the current key, and the previous one during
//! its rotation grace), so every surface accepts the same keys at the same moment.

use super::protocol::ApiRequest;
use super::store::{Ledger, Merchant, Result};
use crate::config::Secret;
use crate::domain::ip::cidr_contains;
use crate::domain::limits::{self, RateKind};
use crate::domain::replay_window::{self, NonceKey, ReplayWindow};
use crate::domain::v2::Params;
use crate::error::AppError;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::sign::params::{self as v2sign, SignType};
use paydesk_shared::sign::request::{check_timestamp, nonce_is_well_formed, SignedRequest};
use serde::Deserialize;

/// A nonce an authenticated request used: recorded in the object's window
/// (`Kept::record_nonce`) once the transaction that logged it has committed.
pub struct NonceUse {
    pub key: NonceKey,
    pub at_ms: i64,
}

impl Ledger<'_> {
    /// A JSON API request: timestamp, nonce shape, signature, replay, allowlist, rate window.
    /// Answers the nonce's use, for the caller to record once the transaction commits.
    pub fn authenticate(&self, req: &ApiRequest, kind: RateKind) -> Result<NonceUse> {
        let m = self.merchant_or_fail()?;
        let real_now = self.real_now();
        check_timestamp(&req.timestamp, real_now / 1000).map_err(|_| {
            AppError::code(
                ErrorCode::TimestampExpired,
                "Paydesk-Timestamp must be unix seconds within 300 s of the server's clock",
            )
        })?;
        if !nonce_is_well_formed(&req.nonce) {
            return Err(AppError::code(
                ErrorCode::SignError,
                "Paydesk-Nonce must be 16-64 characters of A-Z a-z 0-9 _ -",
            ));
        }
        let path_and_query = if req.query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let signed = SignedRequest {
            method: &req.method,
            path_and_query: &path_and_query,
            timestamp: &req.timestamp,
            nonce: &req.nonce,
            body: req.body.as_bytes(),
        };
        let verifies =
            |k: &&Secret| signed.verify_with(&crate::mac_keys::prepared(k), &req.signature);
        let Some(key) = m.api_keys(real_now).into_iter().find(verifies) else {
            return Err(AppError::code(
                ErrorCode::SignError,
                "the request signature does not verify",
            ));
        };
        *self.acting_key.borrow_mut() = Some(format!(
            "api_key:{}",
            crate::domain::keys::key_id(key.peek())
        ));
        let used = self.log_nonce(&req.nonce, real_now)?;
        self.check_ip(&m, req.client_ip.as_deref())?;
        self.rate(&m, kind)?;
        Ok(used)
    }

    /// Nonces are remembered for the replay window (real time, as authentication is). The
    /// object looks a nonce up in the window it keeps in memory (`domain/replay_window.rs`,
    /// read from the log when the object starts), and a fresh one is appended to the log: one
    /// statement, at the end of one B-tree, however many nonces the window holds. The caller
    /// records the use in the window once the transaction has committed. Expired ones are
    /// forgotten by every [`limits::NONCE_PRUNE_EVERY`]th new nonce and by the alarm.
    fn log_nonce(&self, nonce: &str, real_now: i64) -> Result<NonceUse> {
        let key = replay_window::key_of(nonce);
        if !self.nonce_is_fresh(&key, real_now)? {
            return Err(AppError::code(
                ErrorCode::NonceReused,
                "this Paydesk-Nonce was already used; send a fresh one",
            ));
        }
        #[derive(Deserialize)]
        struct Logged {
            id: i64,
        }
        let logged: Option<Logged> = self.first(
            "INSERT INTO nonce_log (nonce, seen_at_ms) VALUES (?, ?) RETURNING id",
            vec![nonce.into(), real_now.into()],
        )?;
        if logged.is_some_and(|l| limits::prunes_nonces(l.id)) {
            self.forget_expired_nonces(real_now)?;
        }
        Ok(NonceUse {
            key,
            at_ms: real_now,
        })
    }

    /// Whether a nonce may be used now, from the window the object keeps; the first request
    /// after the object starts reads it from the log (the window's rows and the few expired
    /// ones not yet forgotten) as one string of `nonce seen_at_ms` pairs in the order they came:
    /// one crossing from the runtime however many the window holds.
    fn nonce_is_fresh(&self, key: &NonceKey, real_now: i64) -> Result<bool> {
        if let Some(fresh) = self.kept().nonce_is_fresh(key, real_now) {
            return Ok(fresh);
        }
        #[derive(Deserialize)]
        struct Logged {
            window: Option<String>,
        }
        let logged: Option<Logged> = self.first(
            "SELECT group_concat(nonce || ' ' || seen_at_ms, ' ' ORDER BY id) AS window
             FROM nonce_log WHERE seen_at_ms >= ?",
            vec![replay_window::window_start(real_now).into()],
        )?;
        let text = logged.and_then(|l| l.window).unwrap_or_default();
        let window = ReplayWindow::from_log_text(&text);
        let fresh = window.is_fresh(key, real_now);
        self.kept().keep_replay_window(window);
        Ok(fresh)
    }

    /// Forgets the logged nonces before the first one still inside the window: the log is in
    /// the order nonces came, so this reads only the rows it deletes and one more.
    pub fn forget_expired_nonces(&self, real_now: i64) -> Result<()> {
        self.x(
            "DELETE FROM nonce_log WHERE id < COALESCE(
                (SELECT id FROM nonce_log WHERE seen_at_ms >= ? ORDER BY id LIMIT 1),
                (SELECT MAX(id) FROM nonce_log) + 1)",
            vec![replay_window::window_start(real_now).into()],
        )
    }

    /// The API key a v2 request is signed with (its answer is signed with the same one), or
    /// `None` if no key valid now verifies it.
    pub fn v2_signing_key(&self, m: &Merchant, p: &Params, st: SignType) -> Option<Secret> {
        let received = p.get("sign").unwrap_or_default();
        let key = m
            .api_keys(self.real_now())
            .into_iter()
            .find(|k| v2sign::verify(p.pairs(), k.peek(), st, received))
            .cloned();
        if let Some(k) = &key {
            *self.acting_key.borrow_mut() =
                Some(format!("api_key:{}", crate::domain::keys::key_id(k.peek())));
        }
        key
    }

    /// The merchant's IP allowlist, if it has one.
    pub fn check_ip(&self, m: &Merchant, client_ip: Option<&str>) -> Result<()> {
        let list = &m.config.ip_allowlist;
        if list.is_empty() {
            return Ok(());
        }
        if client_ip.is_some_and(|ip| list.iter().any(|cidr| cidr_contains(cidr, ip))) {
            return Ok(());
        }
        Err(AppError::code(
            ErrorCode::IpNotAllowed,
            "the request comes from an address outside the merchant's allowlist",
        ))
    }

    /// Counts one request of `kind` in the merchant's rolling minute (business time), or
    /// refuses it when the minute is full. Most requests run one statement: the entry goes in
    /// only while the kept count (`rate_counts`, migration 30) is under the limit. That count
    /// may still hold entries that have left the minute: the expired ones are forgotten by one
    /// new entry in [`limits::RATE_PRUNE_EVERY`], by the alarm, and before any refusal, so a
    /// request is refused only when the minute itself is full.
    pub fn rate(&self, m: &Merchant, kind: RateKind) -> Result<()> {
        let now = self.now(m);
        let since = now - limits::MINUTE_MS;
        let limit = m.config.rate_limits.of(kind);
        if let Some(id) = self.count_request(kind, now, limit)? {
            if limits::prunes_rate_window(id) {
                self.prune_rate_window(kind, since)?;
            }
            return Ok(());
        }
        self.prune_rate_window(kind, since)?;
        if self.count_request(kind, now, limit)?.is_some() {
            return Ok(());
        }
        self.refuse_rate(kind, now, since, limit)
    }

    /// Records a request of `kind` at `now` if fewer than `limit` are counted: its entry's
    /// number among its kind's (migration 35), or `None` when the count is at the limit. The
    /// count and the last number are one row of `rate_counts`, read once.
    fn count_request(&self, kind: RateKind, now: i64, limit: u32) -> Result<Option<i64>> {
        #[derive(Deserialize)]
        struct Counted {
            id: i64,
        }
        let counted: Option<Counted> = self.first(
            "INSERT INTO rate_events (kind, at_ms, id)
             SELECT ?, ?, c.seq + 1
             FROM (SELECT COALESCE(MAX(n), 0) AS n, COALESCE(MAX(seq), 0) AS seq
                   FROM rate_counts WHERE kind = ?) AS c
             WHERE c.n < ?
             RETURNING id",
            vec![
                kind.as_str().into(),
                now.into(),
                kind.as_str().into(),
                i64::from(limit).into(),
            ],
        )?;
        Ok(counted.map(|c| c.id))
    }

    /// Forgets the entries of `kind` that left the minute (the table is keyed by `(kind, at_ms)`
    /// first).
    fn prune_rate_window(&self, kind: RateKind, since: i64) -> Result<()> {
        self.x(
            "DELETE FROM rate_events WHERE kind = ? AND at_ms <= ?",
            vec![kind.as_str().into(), since.into()],
        )
    }

    /// The minute is full: the one entry whose expiry frees a slot decides the wait.
    fn refuse_rate(&self, kind: RateKind, now: i64, since: i64, limit: u32) -> Result<()> {
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        #[derive(Deserialize)]
        struct T {
            at_ms: i64,
        }
        let count: Option<N> = self.first(
            "SELECT n FROM rate_counts WHERE kind = ?",
            vec![kind.as_str().into()],
        )?;
        let count = count.map_or(0, |c| c.n.max(0) as u64);
        let offset = limits::rate_slot(count, limit).unwrap_or(0);
        let t: Option<T> = self.first(
            "SELECT at_ms FROM rate_events WHERE kind = ? AND at_ms > ?
             ORDER BY at_ms LIMIT 1 OFFSET ?",
            vec![kind.as_str().into(), since.into(), (offset as i64).into()],
        )?;
        let retry = limits::retry_after(t.map_or(now, |t| t.at_ms), now);
        Err(limits::rate_refusal(kind, retry).into())
    }
}
