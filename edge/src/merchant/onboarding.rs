//! Trust in merchants: a merchant applies to collect live money (`POST /v1/application`), the
//! platform operator reviews the application (`/admin/merchants/{id}/application`), and the
//! tier follows the review. The licence number, the legal person and the account are sealed
//! with AES-GCM under the deployment's `DATA_KEYS` (`domain/sealing.rs`); only their masked form
//! is kept in clear, and only an audited `reveal` opens them. Every step is in the audit chain.

use super::protocol::{ApplicationView, DecideApplication, GetApplication};
use super::store::{Ledger, Merchant, Result};
use crate::domain::limits::Tier;
use crate::domain::onboarding_rules::{self as rules, Application, Masked};
use crate::domain::sealing;
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::format_rfc3339;
use serde::Deserialize;

#[derive(Deserialize)]
struct Row {
    application_id: i64,
    submitted_at_ms: i64,
    tier: Tier,
    supported_tier: Tier,
    sealed: String,
    masked_json: String,
    status: String,
    decided_at_ms: Option<i64>,
    decided_by: Option<String>,
    reason: Option<String>,
    approved_tier: Option<Tier>,
}

/// A decision naming the application the operator read lands only on that one: a newer
/// application in its place (`REVIEW_DECIDED`, it was superseded) or an id never issued
/// (`REVIEW_NOT_EXIST`) is refused, so nobody approves documents they have not seen.
fn check_read(latest: &Row, read: Option<i64>) -> Result<()> {
    match read {
        Some(id) if id > latest.application_id || id < 1 => Err(AppError::code(
            ErrorCode::ReviewNotExist,
            format!("no application {id}"),
        )),
        Some(id) if id < latest.application_id => Err(AppError::code(
            ErrorCode::ReviewDecided,
            format!(
                "application {id} was superseded by application {}; read it first",
                latest.application_id
            ),
        )),
        _ => Ok(()),
    }
}

/// What binds a sealed application to its merchant and row.
fn aad(merchant_id: &str, application_id: i64) -> Vec<u8> {
    sealing::aad::application(merchant_id, &application_id.to_string())
}

impl Ledger<'_> {
    /// `POST /v1/application`: checked whole, sealed, and waiting for the operator. A new
    /// application replaces one still waiting; an approved merchant keeps collecting at its
    /// tier while a new one waits.
    pub fn apply_to_collect(&self, m: &Merchant, a: &Application) -> Result<ApplicationView> {
        rules::check(a)?;
        let now = self.now(m);
        let supported = rules::licence_tier(&a.licence_number).unwrap_or(Tier::Personal);
        self.x(
            "UPDATE applications SET status = 'superseded' WHERE status = 'submitted'",
            vec![],
        )?;
        let id = self.number(
            "INSERT INTO applications (submitted_at_ms, tier, supported_tier, sealed, masked_json, status)
             VALUES (?, ?, ?, '', ?, 'submitted') RETURNING application_id AS v",
            vec![
                now.into(),
                a.tier.as_str().into(),
                supported.as_str().into(),
                serde_json::to_string(&rules::mask(a))?.into(),
            ],
        )?
        .ok_or_else(|| AppError::internal("an inserted application has an id"))?;
        let keys = runtime::data_keys(self.env)?;
        let plain = serde_json::to_vec(a)?;
        let sealed = sealing::seal(&keys, runtime::random_bytes(), &aad(m.id(), id), &plain)
            .map_err(AppError::internal)?;
        self.x(
            "UPDATE applications SET sealed = ? WHERE application_id = ?",
            vec![sealed.into(), id.into()],
        )?;
        let note = format!("application {id}, tier {}", a.tier.as_str());
        self.audit(now, "merchant_api", "application.submit", m.id(), "", &note)?;
        self.application_view(m, false)
    }

    fn latest_application(&self) -> Result<Row> {
        self.first(
            "SELECT * FROM applications ORDER BY application_id DESC LIMIT 1",
            vec![],
        )?
        .ok_or_else(|| AppError::code(ErrorCode::NotFound, "this merchant has not applied"))
    }

    /// The latest application, masked; `reveal` (an operator's, audited) opens the sealed
    /// documents.
    pub fn application_view(&self, m: &Merchant, reveal: bool) -> Result<ApplicationView> {
        let r = self.latest_application()?;
        let documents: Masked = if reveal {
            let keys = runtime::data_keys(self.env)?;
            let plain = sealing::open(&keys, &aad(m.id(), r.application_id), &r.sealed)
                .map_err(|e| AppError::internal(format!("application does not open: {e:?}")))?;
            let a: Application = serde_json::from_slice(&plain)?;
            let note = format!("application {}", r.application_id);
            self.audit(
                self.now(m),
                "admin",
                "application.reveal",
                m.id(),
                "",
                &note,
            )?;
            Masked {
                business_name: a.business_name,
                licence_number: a.licence_number,
                legal_person: a.legal_person,
                corporate_account: a.corporate_account,
            }
        } else {
            crate::json_text::from_text(&r.masked_json)?
        };
        Ok(ApplicationView {
            application_id: r.application_id,
            status: r.status,
            tier: r.tier,
            supported_tier: r.supported_tier,
            submitted_at: format_rfc3339(r.submitted_at_ms),
            decided_at: r.decided_at_ms.map(format_rfc3339),
            decided_by: r.decided_by,
            reason: r.reason,
            approved_tier: r.approved_tier,
            merchant_tier: m.tier(),
            may_collect: m.may_collect().is_ok(),
            documents,
        })
    }

    pub fn get_application(&self, m: &Merchant, g: &GetApplication) -> Result<ApplicationView> {
        self.application_view(m, g.reveal)
    }

    /// The operator approves (the merchant may collect, at the tier decided) or rejects (with a
    /// reason). The same decision again answers as before; the other one is `REVIEW_DECIDED`.
    pub fn decide_application(
        &self,
        m: &Merchant,
        d: &DecideApplication,
    ) -> Result<ApplicationView> {
        let r = self.latest_application()?;
        check_read(&r, d.application_id)?;
        let wanted = if d.approve { "approved" } else { "rejected" };
        if r.status == wanted {
            return self.application_view(m, false);
        }
        if r.status != "submitted" {
            return Err(AppError::code(
                ErrorCode::ReviewDecided,
                format!("this application was already {}", r.status),
            ));
        }
        let reason = d.reason.trim();
        let plain = crate::domain::order_rules::is_plain_text(reason);
        if reason.chars().count() > 200 || !plain || (!d.approve && reason.is_empty()) {
            return Err(AppError::param(
                "reason",
                "reason is at most 200 characters (no control characters), and a rejection needs one",
            ));
        }
        let now = self.now(m);
        let tier = match d.approve {
            true => Some(rules::approved_tier(r.tier, r.supported_tier, d.tier)?),
            false => None,
        };
        self.x(
            "UPDATE applications SET status = ?, decided_at_ms = ?, decided_by = 'admin', reason = ?,
             approved_tier = ? WHERE application_id = ?",
            vec![
                wanted.into(),
                now.into(),
                reason.into(),
                tier.map(Tier::as_str).into(),
                r.application_id.into(),
            ],
        )?;
        if let Some(t) = tier {
            self.grant_tier(m, t, now)?;
        }
        let note = format!("application {}: {wanted} {reason}", r.application_id);
        self.audit(
            now,
            "admin",
            "application.decide",
            m.id(),
            "submitted",
            &note,
        )?;
        let m = self.merchant_or_fail()?;
        self.application_view(&m, false)
    }

    /// The tier follows the review: set, and a daily limit above the tier's cap brought down to it.
    fn grant_tier(&self, m: &Merchant, tier: Tier, now: i64) -> Result<()> {
        let mut config = m.config.clone();
        if let (Some(limit), Some(cap)) = (config.daily_limit, tier.max_daily_limit()) {
            config.daily_limit = Some(limit.min(cap));
        }
        self.x(
            "UPDATE merchant SET tier = ?, config_json = ?, approved_at_ms = COALESCE(approved_at_ms, ?)",
            vec![
                tier.as_str().into(),
                serde_json::to_string(&config)?.into(),
                now.into(),
            ],
        )?;
        let before = format!("{} {:?}", m.tier().as_str(), m.config.daily_limit);
        let after = format!("{} {:?}", tier.as_str(), config.daily_limit);
        self.audit(now, "admin", "merchant.tier", m.id(), &before, &after)
    }
}
