//! What operators do to a merchant: create it, see it, rotate its keys, re-activate it after
//! dormancy, move its test clock, and check its audit chain. Every change is audited.

use super::protocol::{
    AdvanceClock, AuditReport, ClockMoved, CreateMerchant, Created, MerchantSummary, Reactivate,
    Reactivated, RotateSecret, SecretKind, SecretRotated,
};
use super::store::{Ledger, Merchant, Result};
use crate::domain::{admin_rules, audit};
use crate::error::AppError;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::format_rfc3339;

impl Ledger<'_> {
    pub fn create_merchant(&self, c: &CreateMerchant) -> Result<Created> {
        let s = &c.setup;
        if let Some(m) = self.merchant()? {
            if c.ensure {
                return Ok(Created {
                    merchant_id: m.id().to_owned(),
                    created: false,
                });
            }
            return Err(AppError::param(
                "merchant_id",
                "a merchant with this id exists",
            ));
        }
        let now = self.real_now();
        self.x(
            "INSERT INTO merchant (merchant_id, name, tier, sandbox, branding_json, config_json, api_key,
                webhook_secret, last_activity_ms, created_at_ms, group_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                s.merchant_id.as_str().into(),
                s.name.as_str().into(),
                s.tier.as_str().into(),
                i64::from(s.sandbox).into(),
                serde_json::to_string(&s.branding)?.into(),
                serde_json::to_string(&s.config)?.into(),
                s.api_key.peek().into(),
                s.webhook_secret.peek().into(),
                now.into(),
                now.into(),
                s.group_id.clone().into(),
            ],
        )?;
        let summary = serde_json::json!({"name": s.name, "tier": s.tier, "sandbox": s.sandbox,
            "group_id": s.group_id});
        self.audit(
            now,
            "admin",
            "merchant.create",
            &s.merchant_id,
            "",
            &summary.to_string(),
        )?;
        Ok(Created {
            merchant_id: s.merchant_id.clone(),
            created: true,
        })
    }

    pub fn summary(&self, m: &Merchant) -> Result<MerchantSummary> {
        let now = self.now(m);
        Ok(MerchantSummary {
            merchant_id: m.id().to_owned(),
            name: m.row.name.clone(),
            tier: m.tier(),
            sandbox: m.sandbox(),
            branding: m.branding.clone(),
            config: m.config.clone(),
            dormant: m.is_dormant(now),
            business_time: format_rfc3339(now),
            daily_limit: m.daily_limit(),
            open_alert: self.open_alert()?.is_some(),
            consecutive_failed_deliveries: m.row.consecutive_failures,
            freeze: self.freeze_state()?,
            group_id: m.row.group_id.clone(),
            channel: self.channel_summary()?,
        })
    }

    /// Replaces a secret, keeping the old one valid for the grace period (real time, as
    /// authentication and signatures use).
    pub fn rotate_secret(&self, m: &Merchant, r: &RotateSecret) -> Result<SecretRotated> {
        let (column, prev) = match r.kind {
            SecretKind::ApiKey => ("api_key", "prev_api_key"),
            SecretKind::WebhookSecret => ("webhook_secret", "webhook_secret_prev"),
        };
        let until = self.real_now() + i64::from(r.grace_seconds) * 1000;
        self.x(
            &format!("UPDATE merchant SET {prev} = {column}, {prev}_until_ms = ?, {column} = ?"),
            vec![until.into(), r.new_secret.peek().into()],
        )?;
        let valid_until = format_rfc3339(until);
        let note = format!("previous valid until {valid_until}");
        // An operator's rotation, or a console admin's.
        let actor = self.acting_key.borrow().clone();
        self.audit(
            self.now(m),
            actor.as_deref().unwrap_or("admin"),
            &format!("merchant.rotate_{column}"),
            m.id(),
            "",
            &note,
        )?;
        Ok(SecretRotated {
            merchant_id: m.id().to_owned(),
            previous_key_valid_until: valid_until,
        })
    }

    pub fn reactivate(&self, m: &Merchant, r: &Reactivate) -> Result<Reactivated> {
        let doc = admin_rules::document_ref(&r.document_ref)?;
        let now = self.now(m);
        self.x(
            "UPDATE merchant SET dormant = 0, last_activity_ms = ?",
            vec![now.into()],
        )?;
        let after = format!("active; documents {doc}");
        self.audit(
            now,
            "admin",
            "merchant.reactivate",
            m.id(),
            "dormant",
            &after,
        )?;
        Ok(Reactivated {
            merchant_id: m.id().to_owned(),
            dormant: false,
        })
    }

    /// How far a walk of the test clock goes, in milliseconds, if this merchant may walk it:
    /// asked before anything is asked of the upstream channel for it (`merchant/object.rs`).
    pub fn clock_walk(&self, a: &AdvanceClock) -> Result<i64> {
        if !self.merchant_or_fail()?.sandbox() {
            return Err(AppError::code(
                ErrorCode::SandboxOnly,
                "the test clock exists only for sandbox merchants",
            ));
        }
        Ok(admin_rules::clock_advance(a.seconds)?)
    }

    /// Moves a sandbox merchant's business time forward and runs everything that falls due.
    pub fn advance_clock(&self, m: &Merchant, a: &AdvanceClock) -> Result<ClockMoved> {
        let by_ms = self.clock_walk(a)?;
        self.pinned_now.set(Some(self.real_now()));
        let walked = self.walk_clock(m, by_ms);
        self.pinned_now.set(None);
        walked
    }

    /// The walk of `advance_clock`, with real time pinned.
    fn walk_clock(&self, m: &Merchant, by_ms: i64) -> Result<ClockMoved> {
        let before = self.now(m);
        let after = before + by_ms;
        let (from, to) = (format_rfc3339(before), format_rfc3339(after));
        self.audit(after, "admin", "clock.advance", m.id(), &from, &to)?;
        // Walk to each due time in turn, so what falls due happens at its own time and in
        // order: one call of a year is the same as many small ones.
        let mut at = before;
        let mut steps = 0;
        while let Some(next) = self.next_ledger_due()?.filter(|n| *n > at && *n < after) {
            steps += 1;
            if steps > admin_rules::MAX_CLOCK_STEPS {
                // Refused as a whole (the transaction rolls back): nothing is run late.
                return Err(admin_rules::too_much_due().into());
            }
            self.set_clock_from(m, next - before)?;
            self.run_due()?;
            at = next;
        }
        self.set_clock_from(m, by_ms)?;
        self.run_due()?;
        Ok(ClockMoved { business_time: to })
    }

    /// Moves the test clock by `by_ms` from where it stood when the advance began (so the
    /// offset is exact, whatever real time the walk took).
    fn set_clock_from(&self, m: &Merchant, by_ms: i64) -> Result<()> {
        self.x(
            "UPDATE merchant SET clock_offset_ms = ?",
            vec![(m.row.clock_offset_ms + by_ms).into()],
        )
    }

    /// Whether the audit chain is intact, entry by entry.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        let entries: Vec<audit::Entry> = self.q(
            "SELECT seq, at_ms, actor, action, target, before, after, prev_hash, hash FROM audit ORDER BY seq",
            vec![],
        )?;
        let anchor = self.retention()?;
        let (seq, hash) = anchor.map_or((0, audit::GENESIS.to_owned()), |r| {
            (r.audit_seq, r.audit_hash)
        });
        Ok(match audit::verify_from(seq, &hash, &entries) {
            Ok(n) => AuditReport {
                intact: true,
                entries: n,
                first_broken_seq: None,
                reason: None,
            },
            Err(b) => AuditReport {
                intact: false,
                entries: entries.len(),
                first_broken_seq: Some(b.seq),
                reason: Some(b.reason.to_string()),
            },
        })
    }
}
