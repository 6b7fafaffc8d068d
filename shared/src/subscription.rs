//! Subscriptions on the wire: what the merchant asks for, what it is told, usage reports. The
//! rules (calendar, dunning, the state machine) are the edge's
//! (`edge/src/domain/schedule_rules.rs`); these are only the shapes both sides agree on.

use crate::contract::Period;
use crate::money::Money;
use serde::{Deserialize, Serialize};

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// The first charge failed or is not paid yet; the payer has 23 hours to pay it.
    Incomplete,
    /// The first charge was never paid.
    IncompleteExpired,
    Trialing,
    Active,
    /// A periodic charge failed and is being retried.
    PastDue,
    Canceled,
    /// Retries used up and kept (by the merchant's dunning setting): nothing more is charged.
    Unpaid,
    Paused,
}

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 8] = [
        SubscriptionStatus::Incomplete,
        SubscriptionStatus::IncompleteExpired,
        SubscriptionStatus::Trialing,
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Canceled,
        SubscriptionStatus::Unpaid,
        SubscriptionStatus::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Incomplete => "incomplete",
            SubscriptionStatus::IncompleteExpired => "incomplete_expired",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Unpaid => "unpaid",
            SubscriptionStatus::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<SubscriptionStatus> {
        SubscriptionStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// Whether nothing more will ever happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired
        )
    }
}

/// What each period costs and how long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Minor units per period (CNY fen).
    pub amount: u64,
    pub interval: Period,
    /// Periods are this many intervals long (1-12 months, 1-52 weeks, 1-365 days, 1-3 years).
    #[serde(default = "one")]
    pub interval_count: u32,
}

fn one() -> u32 {
    1
}

/// Metered usage billed in arrears: each unit reported in a period adds `unit_amount` to the
/// next period's invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsagePrice {
    /// What is counted (`api_call`, `GB`), shown on invoices.
    pub unit: String,
    /// Minor units per unit.
    pub unit_amount: u64,
}

/// `POST /v1/subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    /// The merchant's own id, `[0-9A-Za-z_-|*]{1,32}`, unique per merchant.
    pub subscription_id: String,
    /// What the payer subscribes to; each invoice's description.
    pub description: String,
    pub price: Price,
    /// An active contract charged at each period's start; without one the payer pays each
    /// invoice through its `checkout_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsagePrice>,
    /// Hours before each charge the payer is reminded (default 48, at most 720).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_hours: Option<u32>,
    /// RFC 3339, not in the past: when the first period (or the trial) starts; default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// The merchant's reference for the payer; shown to nobody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_ref: Option<String>,
    /// The payer's phone and/or email for reminders and confirmations; sealed, shown masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::api::Contact>,
}

/// `POST /v1/subscriptions/{id}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelSubscription {
    /// Keep it until the current period ends (nothing more is charged), instead of now.
    #[serde(default)]
    pub at_period_end: bool,
}

/// `POST /v1/subscriptions/{id}/usage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportUsage {
    pub quantity: u64,
    /// The merchant's key for this report: the same key counts once.
    pub idempotency_key: String,
    /// RFC 3339: when it happened (default now); it counts in the period it falls in, or in
    /// the open period if that one is already invoiced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<String>,
}

/// A usage report as recorded: which invoice bills it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    pub subscription_id: String,
    pub idempotency_key: String,
    pub quantity: u64,
    pub occurred_at: String,
    /// The period whose invoice bills it: the next invoice created after it was reported
    /// (an invoice is created, and its usage closed, at its period's start).
    pub invoice_period: u32,
    /// Whether that invoice exists yet.
    pub billed: bool,
}

/// One period's invoice: an ordinary order of the merchant's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub period_index: u32,
    pub out_trade_no: String,
    /// The order's status (`NOTPAY`, `SUCCESS`, `PAYERROR`, `CLOSED`, ...).
    pub status: String,
    pub amount: Money,
    /// Of which usage of the period before.
    pub usage_amount: u64,
    pub period_start: String,
    pub period_end: String,
    /// Charge attempts of this invoice so far (by the contract or the payer).
    pub attempts: u32,
}

/// A subscription on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub subscription_id: String,
    pub status: SubscriptionStatus,
    pub description: String,
    pub price: Price,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsagePrice>,
    pub reminder_hours: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_end: Option<String>,
    /// Periods are counted from here (the first charge; after a trial, its end).
    pub billing_anchor: String,
    /// The period that is paid for or being collected (0 is the first).
    pub current_period: u32,
    pub current_period_start: String,
    pub current_period_end: String,
    pub cancel_at_period_end: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canceled_at: Option<String>,
    /// Why it ended: `requested`, `period_end`, `payment_failed` (the dunning's end, also for
    /// `unpaid`), `contract_ended`, `incomplete_expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<String>,
    /// Units reported in the current period, not yet invoiced.
    pub usage_pending: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_ref: Option<String>,
    /// The payer's contact, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::api::Contact>,
    pub created_at: String,
    /// Newest first (at most the last 24).
    pub invoices: Vec<Invoice>,
}
