//! The merchant's rules and branding as the console edits them: one object, replaced whole
//! (`merchant/settings.rs` checks it with every rule a new merchant is checked with, keeps and
//! applies it), and which changes loosen a control the merchant set: those wait for its
//! approvers, when it has approval levels.

use super::approval::ApprovalLevel;
use super::refusal::Refusal;
use super::risk_rules::RiskConfig;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::Branding;
use serde::{Deserialize, Serialize};

/// What the console changes: everything else of the merchant (its items, rate limits, calendar,
/// fees) stays as the operator set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub branding: Branding,
    #[serde(default)]
    pub notify_url: Option<String>,
    #[serde(default)]
    pub backup_notify_url: Option<String>,
    #[serde(default)]
    pub ip_allowlist: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub approval_levels: Vec<ApprovalLevel>,
    /// Minor units per merchant day; `null` for the tier's.
    #[serde(default)]
    pub daily_limit: Option<u64>,
    #[serde(default)]
    pub refund_approval_above: Option<u64>,
    /// How long a `remind` order stays open after its reminder.
    pub remind_grace_seconds: u32,
    /// Days a paid order's money is held unless fulfilled first.
    pub release_days: u32,
    #[serde(default)]
    pub auto_refund_hours: Option<u32>,
    pub risk: RiskConfig,
}

impl Rules {
    /// As the audit log keeps it: a flat object (`branding.display_name`, ...), so an entry's
    /// changes are listed field by field.
    pub fn audit_text(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let Some(obj) = v.as_object_mut() else {
            return String::new();
        };
        if let Some(serde_json::Value::Object(b)) = obj.remove("branding") {
            for (k, x) in b {
                obj.insert(format!("branding.{k}"), x);
            }
        }
        v.to_string()
    }
}

/// How many approvers a change from `before` to `after` needs: none for a change that loosens
/// nothing; else as many as the merchant's highest approval level, and at least one when its
/// refunds need approval (so lifting that threshold is never one person's decision). A merchant
/// with neither needs none: only an admin may loosen its controls (`merchant/settings.rs`).
pub fn approvers_needed(before: &Rules, after: &Rules) -> u32 {
    let levels = before.approval_levels.iter().map(|l| l.approvers).max();
    let refunds = before.refund_approval_above.map(|_| 1);
    let top = levels.max(refunds).unwrap_or(0);
    if loosens(before, after) {
        top
    } else {
        0
    }
}

/// How many approvers a change made by a console user needs (`approvers_needed`), or a refusal
/// when it loosens a control of a merchant that has no approvers and its author is not an admin.
pub fn approvers_for(before: &Rules, after: &Rules, by_admin: bool) -> Result<u32, Refusal> {
    let need = approvers_needed(before, after);
    if need == 0 && !by_admin && loosens(before, after) {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            "this change loosens a control and the merchant has no approvers: an admin must make it",
        ));
    }
    Ok(need)
}

/// Whether a change weakens a control: where money goes or who may call, the approval levels,
/// the risk rules, or a limit raised or lifted, money held for less time.
pub fn loosens(b: &Rules, a: &Rules) -> bool {
    // A lower limit tightens; a higher one, or none (the tier's), loosens.
    let raised = |b: Option<u64>, a: Option<u64>| match (b, a) {
        (Some(x), Some(y)) => y > x,
        (None, None) => false,
        _ => true,
    };
    a.notify_url != b.notify_url
        || a.backup_notify_url != b.backup_notify_url
        || a.ip_allowlist != b.ip_allowlist
        || a.allowed_origins != b.allowed_origins
        || a.approval_levels != b.approval_levels
        || a.risk != b.risk
        || raised(b.daily_limit, a.daily_limit)
        || raised(b.refund_approval_above, a.refund_approval_above)
        || a.release_days < b.release_days
        || a.auto_refund_hours != b.auto_refund_hours
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            branding: Branding {
                display_name: "Tea House".into(),
                logo_url: None,
                filing_text: None,
                theme_color: Some("#336699".into()),
                guarantee_text: None,
            },
            notify_url: None,
            backup_notify_url: None,
            ip_allowlist: vec![],
            allowed_origins: vec![],
            approval_levels: vec![
                ApprovalLevel {
                    above: 1000,
                    approvers: 1,
                },
                ApprovalLevel {
                    above: 100_000,
                    approvers: 2,
                },
            ],
            daily_limit: Some(1_000_000),
            refund_approval_above: Some(5000),
            remind_grace_seconds: 86_400,
            release_days: 7,
            auto_refund_hours: None,
            risk: RiskConfig::default(),
        }
    }

    #[test]
    fn tightening_and_branding_apply_at_once_loosening_waits_for_the_top_level() {
        let before = rules();
        let mut after = before.clone();
        after.branding.display_name = "Tea House 茶馆".into();
        after.daily_limit = Some(500_000);
        after.refund_approval_above = Some(1000);
        after.release_days += 1;
        assert_eq!(approvers_needed(&before, &after), 0);
        for change in [
            |r: &mut Rules| r.daily_limit = Some(2_000_000),
            |r: &mut Rules| r.daily_limit = None,
            |r: &mut Rules| r.refund_approval_above = None,
            |r: &mut Rules| r.notify_url = Some("https://evil.example/n".into()),
            |r: &mut Rules| r.approval_levels.pop().map(drop).unwrap_or(()),
            |r: &mut Rules| r.allowed_origins.push("https://shop.example".into()),
            |r: &mut Rules| r.release_days = 0,
        ] {
            let mut after = before.clone();
            change(&mut after);
            assert_eq!(approvers_needed(&before, &after), 2, "{after:?}");
        }
        // Without approval levels nothing waits.
        let mut open = before.clone();
        open.approval_levels.clear();
        let mut after = open.clone();
        after.daily_limit = None;
        assert_eq!(
            approvers_needed(&open, &after),
            1,
            "refunds still need approval"
        );
        open.refund_approval_above = None;
        let mut after = open.clone();
        after.daily_limit = None;
        assert_eq!(approvers_needed(&open, &after), 0);
        assert!(loosens(&open, &after));
        // ...so only an admin may make it; anyone may tighten.
        assert_eq!(
            approvers_for(&open, &after, false).unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(approvers_for(&open, &after, true), Ok(0));
        let mut held_longer = open.clone();
        held_longer.release_days += 1;
        assert_eq!(approvers_for(&open, &held_longer, false), Ok(0));
    }

    #[test]
    fn audited_flat() {
        let flat: serde_json::Value = crate::json_text::from_text(&rules().audit_text()).unwrap();
        assert_eq!(flat["branding.display_name"], "Tea House");
        assert!(flat.get("branding").is_none());
        assert_eq!(flat["daily_limit"], 1_000_000);
    }
}
