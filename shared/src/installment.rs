//! Installment plans on the wire (定金 + 尾款, and longer schedules): what the merchant asks for,
//! what it is told, and what the pay page of a part shows. The rules are the edge's
//! (`edge/src/domain/schedule_rules.rs`, `edge/src/domain/installment_rules.rs`).

use crate::money::Money;
use serde::{Deserialize, Serialize};

/// One part as the merchant asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartRequest {
    /// Minor units.
    pub amount: u64,
    /// RFC 3339. The first part is due at once and may omit it; every later part is due
    /// after the one before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// Shown to the payer (`定金`, `尾款`, `第 2 期`); at most 32 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The deposit (定金): only the first part, at most 20 % of the total; the only part a
    /// default may keep.
    #[serde(default)]
    pub deposit: bool,
}

/// `POST /v1/installment_plans`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInstallmentPlan {
    /// The merchant's number, `[0-9A-Za-z_\-|*]{1,32}`, unique per merchant.
    pub plan_no: String,
    pub description: String,
    pub parts: Vec<PartRequest>,
    /// An ACTIVE contract: each later part is deducted on its due date. Without one the payer
    /// pays each part through its link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_code: Option<String>,
    /// How long after its due time a part may still be paid before the plan defaults
    /// (default 72, 1-720).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_hours: Option<u32>,
    /// Whether a default refunds the deposit too (default false: it is kept).
    #[serde(default)]
    pub deposit_refundable: bool,
    /// Hours before a part is due that it becomes an order and the payer is reminded
    /// (default 48, at most 720).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_ref: Option<String>,
    /// The payer's phone and/or email for reminders and confirmations; sealed, shown masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::api::Contact>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstallmentStatus {
    /// Parts are being collected.
    Active,
    /// Every part paid.
    Completed,
    /// A part went unpaid past its grace: what was paid is refunded, but a non-refundable
    /// deposit.
    Defaulted,
}

impl InstallmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallmentStatus::Active => "ACTIVE",
            InstallmentStatus::Completed => "COMPLETED",
            InstallmentStatus::Defaulted => "DEFAULTED",
        }
    }
}

/// One part on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub index: u32,
    pub amount: Money,
    pub due_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub deposit: bool,
    /// Once it is an order: its number and status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
}

/// An installment plan on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallmentPlan {
    pub plan_no: String,
    pub status: InstallmentStatus,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_code: Option<String>,
    pub grace_hours: u32,
    pub deposit_refundable: bool,
    pub reminder_hours: u32,
    pub total: Money,
    pub paid: Money,
    pub remaining: Money,
    pub parts: Vec<Part>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaulted_at: Option<String>,
    /// After a default: what was refunded and what was kept (the deposit, when it is not
    /// refundable), in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_ref: Option<String>,
    /// The payer's contact, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::api::Contact>,
    pub created_at: String,
}

/// What the pay page of a part says: which part of how many, and what is left after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartOfPlan {
    /// 1-based.
    pub part: u32,
    pub parts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Still to pay after this part.
    pub remaining_after: Money,
}
