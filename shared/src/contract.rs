//! Withhold contracts (委托代扣) on the wire: a merchant's contract plan, one payer's contract
//! under it, a deduction request, and what the signing page shows. The rules are the edge's
//! (`edge/src/domain/contract_rules.rs`); these are only the shapes both sides agree on.

use crate::api::{ErrorCode, PayMethod};
use crate::checkout::Branding;
use crate::money::Money;
use serde::{Deserialize, Serialize};

/// How often a plan's deduction count starts over, on the merchant's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
    Year,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Month, Period::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// `POST /v1/contract_plans`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePlan {
    /// 1-28 digits, unique per merchant.
    pub plan_id: String,
    pub name: String,
    /// Minor units.
    pub max_amount_per_deduction: u64,
    pub period: Period,
    pub max_deductions_per_period: u32,
    /// How long a signed contract lasts; absent: until it is ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_days: Option<u32>,
    /// Whether each deduction is announced to the payer 24 hours before it is charged.
    #[serde(default)]
    pub pre_deduction_notice: bool,
}

/// A plan on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub plan_id: String,
    pub name: String,
    pub max_amount_per_deduction: Money,
    pub period: Period,
    pub max_deductions_per_period: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_days: Option<u32>,
    pub pre_deduction_notice: bool,
    pub created_at: String,
}

/// `POST /v1/contracts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateContract {
    pub plan_id: String,
    /// The merchant's own number for this contract, unique per merchant.
    pub contract_code: String,
    /// What the payer recognises the contract by (their account name at the merchant).
    pub display_account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// The merchant's reference for the payer; shown to nobody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_ref: Option<String>,
    /// The payer's phone and/or email for reminders and confirmations; sealed, shown masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::api::Contact>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContractStatus {
    /// Waiting for the payer to sign (24 hours).
    Pending,
    Active,
    Terminated,
    /// Never signed.
    Expired,
}

impl ContractStatus {
    pub const ALL: [ContractStatus; 4] = [
        ContractStatus::Pending,
        ContractStatus::Active,
        ContractStatus::Terminated,
        ContractStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::Pending => "PENDING",
            ContractStatus::Active => "ACTIVE",
            ContractStatus::Terminated => "TERMINATED",
            ContractStatus::Expired => "EXPIRED",
        }
    }

    pub fn parse(s: &str) -> Option<ContractStatus> {
        ContractStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the contract may be charged.
    pub fn is_active(self) -> bool {
        self == ContractStatus::Active
    }
}

/// Who or what ended a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminationMode {
    Payer,
    Merchant,
    Expiry,
}

impl TerminationMode {
    pub const ALL: [TerminationMode; 3] = [
        TerminationMode::Payer,
        TerminationMode::Merchant,
        TerminationMode::Expiry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TerminationMode::Payer => "payer",
            TerminationMode::Merchant => "merchant",
            TerminationMode::Expiry => "expiry",
        }
    }

    pub fn parse(s: &str) -> Option<TerminationMode> {
        TerminationMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// What a contract charges: the method, and for cards only the last four digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractInstrument {
    pub method: PayMethod,
    /// Sandbox wallets (`wallet_ok`, `wallet_low`) for `balance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_last4: Option<String>,
}

/// A contract on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub contract_code: String,
    /// Given when the payer signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<String>,
    pub plan_id: String,
    pub status: ContractStatus,
    pub display_account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_ref: Option<String>,
    /// The payer's contact, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::api::Contact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    pub created_at: String,
    /// While `PENDING`: where the payer signs, and until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_url: Option<String>,
    pub sign_deadline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// When an active contract ends by itself (the plan's `contract_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_mode: Option<TerminationMode>,
    /// The merchant's reason, when it ended the contract with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_remark: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<ContractInstrument>,
    /// While `ACTIVE`: the payer's own page of the contract, where they can end it (no login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_url: Option<String>,
}

/// `POST /v1/contracts/{contract_code}/terminate` (the body may be empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminateContract {
    /// Why, in the merchant's words (at most 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
}

/// `POST /v1/contracts/{contract_code}/deductions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDeduction {
    pub out_trade_no: String,
    /// Minor units.
    pub amount: u64,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
}

/// What the signing page shows, and the token it was opened with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractView {
    pub merchant: Branding,
    pub plan_name: String,
    pub max_amount_per_deduction: Money,
    pub period: Period,
    pub max_deductions_per_period: u32,
    pub pre_deduction_notice: bool,
    pub display_account: String,
    pub status: ContractStatus,
    /// RFC 3339: the last moment the payer may sign (while `PENDING`).
    pub sign_deadline: String,
    /// RFC 3339: when a signed contract ends by itself; absent: until it is ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// For a contract not yet signed: how long it would last, in days (absent: until ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_mode: Option<TerminationMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<ContractInstrument>,
    /// Deductions announced and not yet charged: (amount, RFC 3339 charge time).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upcoming: Vec<UpcomingCharge>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpcomingCharge {
    pub amount: Money,
    pub description: String,
    pub charge_at: String,
    /// A metered renewal: `amount` is what is known now, and the usage reported until the
    /// charge is added to it then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plus_usage: bool,
}

/// What the contract page inlines for the widget to hydrate: the view, the token it was opened
/// with, and how the worker rendered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractPageData {
    pub view: ContractView,
    pub token: String,
    #[serde(default)]
    pub sandbox: bool,
    #[serde(default)]
    pub seed: ContractSeed,
}

/// The state the worker rendered the contract page in, so hydration starts from the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractSeed {
    /// `zh` or `en`.
    pub lang: String,
    pub now_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<PayMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    /// Why the last post did not sign or end the contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<ContractProblem>,
    /// The payer opened the link to end the contract: ask them to confirm.
    #[serde(default)]
    pub confirm_end: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContractProblem {
    /// The authorisation box was not ticked.
    Consent,
    /// A card field to fix: `(field, reason key)` as the pay page names them.
    Field { field: String, reason: String },
    /// The channel would not keep this instrument.
    /// Its decline code (`CARD_DECLINED`...), which the page says in the payer's language.
    Declined { code: String },
    /// Refused for the contract's state or the request.
    Refused { code: ErrorCode, message: String },
    /// No answer: nothing may have happened; try again.
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Period::ALL {
            assert_eq!(Period::parse(p.as_str()), Some(p));
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.as_str())
            );
        }
        for s in ContractStatus::ALL {
            assert_eq!(ContractStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for m in TerminationMode::ALL {
            assert_eq!(TerminationMode::parse(m.as_str()), Some(m));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.as_str())
            );
        }
    }

    #[test]
    fn plans_refuse_unknown_fields_and_default_the_notice() {
        let p: CreatePlan = serde_json::from_str(
            r#"{"plan_id":"1","name":"n","max_amount_per_deduction":1,"period":"month","max_deductions_per_period":1}"#,
        )
        .unwrap();
        assert!(!p.pre_deduction_notice);
        assert!(serde_json::from_str::<CreatePlan>(r#"{"plan_id":"1","x":1}"#).is_err());
    }
}
