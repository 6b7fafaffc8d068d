//! The merchant's rules and branding from the console: `GET /console/api/settings` shows them
//! (and a change waiting for approval, field by field), `PUT` replaces them whole. A change is
//! checked as a new merchant's settings are (`domain/merchant_rules.rs`), applied at once when
//! it loosens nothing (`domain/settings_rules.rs`), else kept until the merchant's approvers
//! approve it: each a different person, never the one who proposed it, and only if the rules
//! are still those it was proposed against. Every change is an audit entry, field by field.

use super::protocol::{MerchantConfig, PendingSettings, SettingsOutcome, SettingsView};
use super::store::{Ledger, Merchant, Result};
use crate::domain::approval::ApprovalKind;
use crate::domain::audit::changes;
use crate::domain::merchant_rules::{validate, NewMerchant};
use crate::domain::settings_rules::{approvers_for, Rules};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::format_rfc3339;
use serde::Deserialize;

/// The merchant's rules as the console edits them.
pub fn rules_of(m: &Merchant) -> Rules {
    let c = &m.config;
    Rules {
        branding: m.branding.clone(),
        notify_url: c.notify_url.clone(),
        backup_notify_url: c.backup_notify_url.clone(),
        ip_allowlist: c.ip_allowlist.clone(),
        allowed_origins: c.allowed_origins.clone(),
        approval_levels: c.approval_levels.clone(),
        daily_limit: c.daily_limit,
        refund_approval_above: c.refund_approval_above,
        remind_grace_seconds: c.remind_grace_seconds,
        release_days: c.release_days,
        auto_refund_hours: c.auto_refund_hours,
        risk: c.risk.clone(),
    }
}

/// `config` with `r` in it.
fn applied_to(r: &Rules, config: &MerchantConfig) -> MerchantConfig {
    MerchantConfig {
        notify_url: r.notify_url.clone(),
        backup_notify_url: r.backup_notify_url.clone(),
        ip_allowlist: r.ip_allowlist.clone(),
        allowed_origins: r.allowed_origins.clone(),
        approval_levels: r.approval_levels.clone(),
        daily_limit: r.daily_limit,
        refund_approval_above: r.refund_approval_above,
        remind_grace_seconds: r.remind_grace_seconds,
        release_days: r.release_days,
        auto_refund_hours: r.auto_refund_hours,
        risk: r.risk.clone(),
        ..config.clone()
    }
}

/// `r` checked as a new merchant with it and the rest of `m`'s settings would be.
fn check(r: &Rules, m: &Merchant, dev: bool) -> Result<()> {
    let c = applied_to(r, &m.config);
    let new = NewMerchant {
        name: m.row.name.clone(),
        tier: m.tier(),
        sandbox: m.sandbox(),
        branding: r.branding.clone(),
        notify_url: c.notify_url,
        backup_notify_url: c.backup_notify_url,
        ip_allowlist: c.ip_allowlist,
        allowed_origins: c.allowed_origins,
        approval_levels: c.approval_levels,
        rate_limits: Some(c.rate_limits),
        daily_limit: c.daily_limit,
        items: c.items,
        utc_offset_minutes: Some(c.utc_offset_minutes),
        remind_grace_seconds: Some(c.remind_grace_seconds),
        refund_approval_above: c.refund_approval_above,
        dunning: Some(c.dunning),
        validity_days: c.validity_days,
        release_days: Some(c.release_days),
        auto_refund_hours: c.auto_refund_hours,
        industry: c.industry,
        group_id: None,
        risk: Some(c.risk),
    };
    Ok(validate(&new, dev)?)
}

#[derive(Deserialize)]
struct ChangeRow {
    change_id: String,
    approval_id: String,
    base_json: String,
    rules_json: String,
    proposed_by: String,
    created_at_ms: i64,
}

const CHANGE_COLUMNS: &str =
    "change_id, approval_id, base_json, rules_json, proposed_by, created_at_ms";

fn parse_rules(json: &str) -> Result<Rules> {
    crate::json_text::from_text(json).map_err(|e| AppError::internal(format!("stored rules: {e}")))
}

impl Ledger<'_> {
    pub fn settings_view(&self, m: &Merchant) -> Result<SettingsView> {
        let pending = match self.pending_change()? {
            None => None,
            Some(c) => {
                let (base, rules) = (parse_rules(&c.base_json)?, parse_rules(&c.rules_json)?);
                Some(PendingSettings {
                    change_id: c.change_id,
                    approval_id: c.approval_id,
                    proposed_by: c.proposed_by,
                    proposed_at: format_rfc3339(c.created_at_ms),
                    changes: changes("settings", &base.audit_text(), &rules.audit_text()),
                    rules,
                })
            }
        };
        Ok(SettingsView {
            rules: rules_of(m),
            pending,
        })
    }

    fn pending_change(&self) -> Result<Option<ChangeRow>> {
        self.first(
            &format!("SELECT {CHANGE_COLUMNS} FROM settings_changes WHERE status = 'pending'"),
            vec![],
        )
    }

    /// `PUT /console/api/settings` by `email`: applied, waiting for approval, or unchanged. A
    /// change that loosens a control of a merchant without approvers is an admin's alone.
    pub fn change_settings(
        &self,
        m: &Merchant,
        body: &str,
        email: &str,
        admin: bool,
    ) -> Result<SettingsOutcome> {
        // PARAM_ERROR names an unknown or missing field, as the API's does.
        let after: Rules = super::store::parse_body(body)?;
        check(&after, m, self.call.dev)?;
        if self.pending_change()?.is_some() {
            return Err(AppError::code(
                ErrorCode::PendingApproval,
                "a settings change already waits for approval: decide it first",
            ));
        }
        let before = rules_of(m);
        let diff = changes("settings", &before.audit_text(), &after.audit_text());
        let outcome = |status: &str, approval_id: Option<String>| SettingsOutcome {
            status: status.to_owned(),
            approval_id,
            changes: diff.clone(),
        };
        if diff.is_empty() {
            return Ok(outcome("unchanged", None));
        }
        let (now, actor) = (self.now(m), format!("console:{email}"));
        let need = approvers_for(&before, &after, admin)?;
        if need == 0 {
            self.apply_rules(m, &after, &actor, now)?;
            return Ok(outcome("applied", None));
        }
        let change_id = format!("sc_{}", runtime::random_hex(12));
        let approval_id = self.open_approval(m, ApprovalKind::Settings, &change_id, need, now)?;
        self.x(
            "INSERT INTO settings_changes (change_id, approval_id, base_json, rules_json,
             proposed_by, created_at_ms, status) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
            vec![
                change_id.as_str().into(),
                approval_id.as_str().into(),
                serde_json::to_string(&before)?.into(),
                serde_json::to_string(&after)?.into(),
                email.into(),
                now.into(),
            ],
        )?;
        self.audit(
            now,
            &actor,
            "settings.propose",
            &change_id,
            &before.audit_text(),
            &after.audit_text(),
        )?;
        Ok(outcome("pending_approval", Some(approval_id)))
    }

    fn apply_rules(&self, m: &Merchant, r: &Rules, actor: &str, now: i64) -> Result<()> {
        self.x(
            "UPDATE merchant SET config_json = ?, branding_json = ?",
            vec![
                serde_json::to_string(&applied_to(r, &m.config))?.into(),
                serde_json::to_string(&r.branding)?.into(),
            ],
        )?;
        let before = rules_of(m).audit_text();
        self.audit(
            now,
            actor,
            "merchant.settings",
            m.id(),
            &before,
            &r.audit_text(),
        )
    }

    /// Who proposed a settings change (they may not approve it).
    pub fn settings_proposer(&self, change_id: &str) -> Result<Option<String>> {
        let c: Option<ChangeRow> = self.first(
            &format!("SELECT {CHANGE_COLUMNS} FROM settings_changes WHERE change_id = ?"),
            vec![change_id.into()],
        )?;
        Ok(c.map(|c| c.proposed_by))
    }

    /// A settings change approved (applied, unless the rules moved since it was proposed or no
    /// longer pass the checks: then `stale`) or rejected. Whether it was applied.
    pub fn settings_decided(
        &self,
        m: &Merchant,
        change_id: &str,
        approved: bool,
        now: i64,
        actor: &str,
    ) -> Result<bool> {
        let c: ChangeRow = self
            .first(
                &format!("SELECT {CHANGE_COLUMNS} FROM settings_changes WHERE change_id = ?"),
                vec![change_id.into()],
            )?
            .ok_or_else(|| AppError::internal("an approval of no settings change"))?;
        let current = serde_json::to_string(&rules_of(m))?;
        let rules = parse_rules(&c.rules_json)?;
        let status = if !approved {
            "rejected"
        } else if current != c.base_json || check(&rules, m, self.call.dev).is_err() {
            self.audit(now, actor, "settings.stale", change_id, "pending", "stale")?;
            "stale"
        } else {
            self.apply_rules(m, &rules, actor, now)?;
            "applied"
        };
        self.x(
            "UPDATE settings_changes SET status = ? WHERE change_id = ?",
            vec![status.into(), change_id.into()],
        )?;
        Ok(status == "applied")
    }
}
