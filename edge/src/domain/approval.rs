//! Approval levels: orders (and refunds) above a threshold need distinct approvers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalLevel {
    /// Amounts strictly above this many minor units need `approvers` approvals.
    pub above: u64,
    pub approvers: u32,
}

/// How many distinct approvers an amount needs (0: none).
pub fn required_approvers(levels: &[ApprovalLevel], amount: u64) -> u32 {
    levels
        .iter()
        .filter(|l| amount > l.above)
        .map(|l| l.approvers)
        .max()
        .unwrap_or(0)
}

/// Refunds above the merchant's refund threshold (if it has one) need one approver.
pub fn refund_needs_approval(threshold: Option<u64>, amount: u64) -> bool {
    threshold.is_some_and(|t| amount > t)
}

/// Levels must have 1-5 approvers each, at most 5 levels.
pub fn check_levels(levels: &[ApprovalLevel]) -> Result<(), &'static str> {
    if levels.len() > 5 {
        return Err("at most 5 approval levels");
    }
    if levels.iter().any(|l| l.approvers == 0 || l.approvers > 5) {
        return Err("each approval level needs 1-5 approvers");
    }
    Ok(())
}

/// The outcome of one more approval given the distinct approvers so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// Counted; more approvals needed.
    Pending { have: u32, need: u32 },
    /// Enough distinct approvers.
    Approved,
    /// This approver already approved; nothing changes.
    Duplicate,
}

pub fn tally(existing: &[String], approver: &str, need: u32) -> Tally {
    if existing.iter().any(|a| a == approver) {
        return Tally::Duplicate;
    }
    let have = existing.len() as u32 + 1;
    if have >= need {
        Tally::Approved
    } else {
        Tally::Pending { have, need }
    }
}

/// What an approval holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalKind {
    Order,
    Refund,
    /// A change of the merchant's rules (`merchant/settings.rs`).
    Settings,
}

impl ApprovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::Order => "order",
            ApprovalKind::Refund => "refund",
            ApprovalKind::Settings => "settings",
        }
    }
}

/// Where an approval stands. Only a pending one takes votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    /// Its order closed (by the merchant or its deadline) before anyone decided.
    Closed,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Closed => "closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [ApprovalLevel; 2] = [
        ApprovalLevel {
            above: 1_000_000,
            approvers: 1,
        },
        ApprovalLevel {
            above: 10_000_000,
            approvers: 2,
        },
    ];

    #[test]
    fn thresholds() {
        assert_eq!(required_approvers(&LEVELS, 1_000_000), 0);
        assert_eq!(required_approvers(&LEVELS, 1_000_001), 1);
        assert_eq!(required_approvers(&LEVELS, 10_000_001), 2);
        assert_eq!(required_approvers(&[], u64::MAX), 0);
    }

    #[test]
    fn the_same_approver_never_counts_twice() {
        assert_eq!(tally(&[], "alice", 2), Tally::Pending { have: 1, need: 2 });
        assert_eq!(tally(&["alice".into()], "alice", 2), Tally::Duplicate);
        assert_eq!(tally(&["alice".into()], "bob", 2), Tally::Approved);
        assert_eq!(tally(&[], "alice", 1), Tally::Approved);
    }

    #[test]
    fn refund_threshold() {
        assert!(!refund_needs_approval(None, u64::MAX));
        assert!(!refund_needs_approval(Some(500), 500));
        assert!(refund_needs_approval(Some(500), 501));
    }

    #[test]
    fn kinds_and_statuses_are_stored_by_name() {
        for s in [
            ApprovalStatus::Pending,
            ApprovalStatus::Approved,
            ApprovalStatus::Rejected,
            ApprovalStatus::Closed,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(
            serde_json::to_value(ApprovalKind::Refund).unwrap(),
            "refund"
        );
    }

    #[test]
    fn level_shapes() {
        assert!(check_levels(&LEVELS).is_ok());
        assert!(check_levels(&[ApprovalLevel {
            above: 1,
            approvers: 0
        }])
        .is_err());
    }
}
