//! Risk on the merchant's clock: every payer's payment attempt is recorded (the order's
//! `payer_ref`, a keyed fingerprint of the card or wallet, the client IP; declined or not) and
//! judged by the merchant's rules before the channel sees it (`domain::risk_rules`); a rate of
//! refunds or declines over the merchant's limit freezes it (no new orders or payments; refunds
//! and queries go on) until an operator unfreezes it with a reason. Every decision is an audit
//! entry naming the rule and its figures. The review queue is `merchant/reviews.rs`.

use super::protocol::{FreezeState, SetRisk, Unfreeze};
use super::store::{Ledger, Merchant, OrderRow, Result};
use crate::channel::Instrument;
use crate::domain::risk_rules::{self as rules, Decision, Record, RiskConfig, Signals};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::sign::{hex_lower, hmac_sha256};
use paydesk_shared::time::format_rfc3339;

/// Attempts are kept this long: the longest freeze window.
const KEEP_MS: i64 = 30 * 86_400_000;

/// Who is paying: the identities an attempt is counted under.
pub struct Payer<'a> {
    pub payer_ref: Option<&'a str>,
    pub instrument: &'a Instrument,
    pub ip: Option<&'a str>,
}

/// An order whose payment was not rejected in risk review (a condition on `orders`).
const NOT_REJECTED: &str = "NOT EXISTS (SELECT 1 FROM reviews r
    WHERE r.out_trade_no = orders.out_trade_no AND r.status = 'rejected')";

impl Ledger<'_> {
    /// Records a payer's attempt at `now` and judges it: the seq of its record and the
    /// verdict of the rule that fired, if one did.
    pub fn judge(
        &self,
        m: &Merchant,
        o: &OrderRow,
        who: &Payer<'_>,
        now: i64,
    ) -> Result<(i64, Option<Decision>)> {
        let fp = self.fingerprint(who.instrument)?;
        let ip = who.ip.map(crate::domain::ip::client_network);
        let ip = ip.as_deref();
        let seq = self
            .number(
                "INSERT INTO risk_signals (at_ms, payer_ref, card_fp, ip) VALUES (?, ?, ?, ?)
                 RETURNING seq AS v",
                vec![
                    now.into(),
                    who.payer_ref.map(str::to_owned).into(),
                    fp.as_str().into(),
                    ip.map(str::to_owned).into(),
                ],
            )?
            .ok_or_else(|| AppError::internal("an inserted attempt has a seq"))?;
        let cfg = &m.config.risk;
        let count = |column: &str, value: Option<&str>, window: i64, declined: bool| {
            let Some(v) = value else {
                return Ok(None);
            };
            let n = self.number(
                &format!(
                    "SELECT COUNT(*) AS v FROM risk_signals
                     WHERE {column} = ? AND at_ms > ? AND (? = 0 OR declined = 1)"
                ),
                vec![v.into(), (now - window).into(), i64::from(declined).into()],
            )?;
            Ok::<_, AppError>(Some(n.unwrap_or(0) as u32))
        };
        let minute = rules::MINUTE_MS;
        let ids = [
            ("payer_ref", who.payer_ref),
            ("card_fp", Some(fp.as_str())),
            ("ip", ip),
        ];
        let mut recent_declines = 0;
        if cfg.declines.is_some() {
            for (column, value) in ids {
                let n = count(column, value, rules::DECLINE_WINDOW_MS, true)?.unwrap_or(0);
                recent_declines = recent_declines.max(n);
            }
        }
        let signals = Signals {
            payer_per_minute: count("payer_ref", who.payer_ref, minute, false)?,
            card_per_minute: count("card_fp", Some(&fp), minute, false)?.unwrap_or(0),
            ip_per_minute: count("ip", ip, minute, false)?,
            recent_declines,
            amount: o.amount_total,
            median: self.recent_median(cfg.amount.map_or(0, |a| a.history))?,
        };
        Ok((seq, rules::evaluate(cfg, &signals)))
    }

    /// The median of the last `n` paid orders' amounts: payments the merchant kept. One still in
    /// review, rejected in it, or refunded in full is left out, so large payments sent to review
    /// (refunded in full when rejected or left undecided) cannot raise the baseline and let
    /// the next one through.
    fn recent_median(&self, n: u32) -> Result<Option<(i64, u32)>> {
        if n == 0 {
            return Ok(None);
        }
        #[derive(serde::Deserialize)]
        struct A {
            amount_total: i64,
        }
        let rows: Vec<A> = self.q(
            &format!(
                "SELECT amount_total FROM orders
                 WHERE paid_at_ms IS NOT NULL AND in_review = 0 AND refunded_total < amount_total
                   AND {NOT_REJECTED} ORDER BY paid_at_ms DESC LIMIT ?"
            ),
            vec![i64::from(n).into()],
        )?;
        Ok(rules::median(rows.iter().map(|a| a.amount_total).collect()))
    }

    /// A card's (or wallet's) fingerprint: keyed, so the stored value says nothing of the
    /// number to whoever reads the database.
    fn fingerprint(&self, i: &Instrument) -> Result<String> {
        let key = runtime::checkout_token_key(self.env)?;
        let what = match i {
            Instrument::Wallet(w) => format!("wallet:{w}"),
            Instrument::Card { digits, .. } => format!("card:{digits}"),
            Instrument::CardOnFile { last4, .. } => format!("on-file:{last4}"),
        };
        let mac = hmac_sha256(
            key.peek().as_bytes(),
            &[b"risk-fingerprint\n", what.as_bytes()],
        );
        Ok(hex_lower(&mac[..12]))
    }

    /// The channel declined the attempt recorded as `seq`.
    pub fn attempt_declined(&self, m: &Merchant, seq: i64, now: i64) -> Result<()> {
        self.x(
            "UPDATE risk_signals SET declined = 1 WHERE seq = ?",
            vec![seq.into()],
        )?;
        self.check_freeze(m, now)
    }

    /// A decision recorded in the audit chain: the rule and its figures.
    pub fn audit_decision(&self, now: i64, action: &str, target: &str, d: &Decision) -> Result<()> {
        let after = serde_json::json!({"rule": d.rule, "figures": d.figures}).to_string();
        self.audit(
            now,
            &format!("system:risk.{}", d.rule),
            action,
            target,
            "",
            &after,
        )
    }

    /// Freezes the merchant if its record since the window began (or it was last unfrozen)
    /// crosses its limits. Run after every decline and every refund.
    pub fn check_freeze(&self, m: &Merchant, now: i64) -> Result<()> {
        let Some(f) = m.config.risk.freeze else {
            return Ok(());
        };
        if self.frozen()?.is_some() {
            return Ok(());
        }
        let since = rules::freeze_window_start(&f, now, m.row.unfrozen_at_ms);
        let n = |sql: &str| -> Result<u64> {
            Ok(self.number(sql, vec![since.into()])?.unwrap_or(0).max(0) as u64)
        };
        let record = Record {
            attempts: n("SELECT COUNT(*) AS v FROM risk_signals WHERE at_ms >= ?")?,
            declines: n(
                "SELECT COUNT(*) AS v FROM risk_signals WHERE at_ms >= ? AND declined = 1",
            )?,
            // A payment rejected in risk review, and the refund it owed, are the rules' doing,
            // not the merchant's: counted, they would let fraud freeze the merchant that caught it.
            paid: n(&format!(
                "SELECT SUM(amount_total) AS v FROM orders WHERE paid_at_ms >= ? AND {NOT_REJECTED}"
            ))?,
            refunded: n(&format!(
                "SELECT SUM(refunded_total) AS v FROM orders WHERE paid_at_ms >= ? AND {NOT_REJECTED}"
            ))?,
        };
        let Some(d) = rules::freeze(&m.config.risk, &record) else {
            return Ok(());
        };
        let reason = format!("{}: {}", d.rule, d.figures);
        self.x(
            "UPDATE merchant SET frozen_at_ms = ?, frozen_reason = ?",
            vec![now.into(), reason.as_str().into()],
        )?;
        self.raise_alert(
            "merchant.frozen",
            "frozen",
            &format!("frozen by {reason}"),
            now,
        )?;
        self.audit_decision(now, "merchant.freeze", m.id(), &d)
    }

    /// When and why the merchant is frozen, if it is (a freeze earlier in this transaction
    /// counts: writing the row makes `merchant` read it afresh).
    pub fn frozen(&self) -> Result<Option<(i64, String)>> {
        let Some(m) = self.merchant()? else {
            return Ok(None);
        };
        Ok(m.row
            .frozen_at_ms
            .map(|at| (at, m.row.frozen_reason.unwrap_or_default())))
    }

    /// Refuses what a frozen merchant may not do: take new orders or payments.
    pub fn refuse_if_frozen(&self) -> Result<()> {
        match self.frozen()? {
            Some((_, reason)) => Err(AppError::code(
                ErrorCode::MerchantFrozen,
                format!("this merchant is frozen ({reason}); refunds and queries still work"),
            )),
            None => Ok(()),
        }
    }

    /// `POST /admin/merchants/{id}/unfreeze {reason}`: the operator lifts a freeze; rates are
    /// judged afresh from now on.
    pub fn unfreeze(&self, m: &Merchant, u: &Unfreeze) -> Result<FreezeState> {
        let reason = u.reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(AppError::param("reason", "reason is 1-200 characters"));
        }
        let now = self.now(m);
        if let Some((_, why)) = self.frozen()? {
            self.x(
                "UPDATE merchant SET frozen_at_ms = NULL, frozen_reason = NULL, unfrozen_at_ms = ?",
                vec![now.into()],
            )?;
            self.resolve_alert(
                "frozen",
                &format!("unfrozen by the operator: {reason}"),
                now,
            )?;
            self.audit(now, "admin", "merchant.unfreeze", m.id(), &why, reason)?;
        }
        self.freeze_state()
    }

    pub fn freeze_state(&self) -> Result<FreezeState> {
        let f = self.frozen()?;
        Ok(FreezeState {
            frozen: f.is_some(),
            frozen_at: f.as_ref().map(|(at, _)| format_rfc3339(*at)),
            reason: f.map(|(_, r)| r),
        })
    }

    /// `PUT /admin/merchants/{id}/risk`: the whole rule set, checked before anything changes.
    pub fn set_risk(&self, m: &Merchant, s: &SetRisk) -> Result<RiskConfig> {
        rules::check(&s.risk)?;
        let mut config = m.config.clone();
        let before = serde_json::to_string(&config.risk)?;
        config.risk = s.risk.clone();
        let after = serde_json::to_string(&config.risk)?;
        self.x(
            "UPDATE merchant SET config_json = ?",
            vec![serde_json::to_string(&config)?.into()],
        )?;
        self.audit(
            self.now(m),
            "admin",
            "merchant.risk",
            m.id(),
            &before,
            &after,
        )?;
        Ok(config.risk)
    }

    /// Forgets attempts older than the longest window.
    pub fn forget_old_attempts(&self, now: i64) -> Result<()> {
        self.x(
            "DELETE FROM risk_signals WHERE at_ms < ?",
            vec![(now - KEEP_MS).into()],
        )
    }
}
