//! Pure business rules: no `worker` types, tested natively with plain `cargo test`. Every
//! decision the merchant object makes is asked of a function here; a rule that says no answers
//! with a [`refusal::Refusal`].

pub mod admin_rules;
pub mod alarm_rules;
pub mod approval;
pub mod audit;
pub mod bill_rules;
pub mod card;
pub mod circuit;
pub mod console_rules;
pub mod contact_rules;
pub mod contract_rules;
pub mod cursor;
pub mod delivery;
pub mod escrow_rules;
pub mod events;
pub mod export_rules;
pub mod idempotency;
pub mod ids;
pub mod installment_rules;
pub mod ip;
pub mod keys;
pub mod limits;
pub mod merchant_rules;
pub mod message_rules;
pub mod message_templates;
pub mod money_rules;
pub mod onboarding_rules;
pub mod order_rules;
pub mod papay;
pub mod payment;
pub mod receipt_rules;
pub mod refund_rules;
pub mod refusal;
pub mod replay_window;
pub mod report_rules;
pub mod risk_rules;
pub mod schedule_rules;
pub mod sealing;
pub mod settings_rules;
pub mod settlement_rules;
pub mod state;
pub mod subscription_rules;
pub mod upstream_rules;
pub mod v2;
pub mod validity_rules;
