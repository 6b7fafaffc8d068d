//! The per-merchant Durable Object: one strongly consistent SQLite database per merchant
//! holding its configuration, order ledger, refunds, approvals, rate windows, daily totals,
//! events and audit chain. All writes for a merchant are serialised here, which is what makes
//! idempotency, limits and exactly-once transitions correct without locks.
//!
//! One file per capability; `docs/architecture.md` shows how a command flows through them:
//! - `protocol` (the typed commands and replies) and `client` (the worker's one call);
//! - `object` (the Durable Object: dispatch, alarm, live sockets) and `store` (rows, finders,
//!   the transaction helper, audit entries, events as data), `kept` (the merchant row and the
//!   audit chain's head, kept between requests), `schema` (migrations);
//! - `auth`, `api` (+ `api_route`), `v2_dialect`, `orders`, `payments`, `refunds`,
//!   `approvals`, `deadlines`, `outbox` (delivery), `notifications` (the merchant's view),
//!   `admin`, `contracts` (plans, contracts, their page), `deductions` (charging them),
//!   `papay` (the contract family of the v2 dialect), `subscriptions` (create, read, cancel,
//!   pause), `renewals` (collection on their schedule, dunning), `usage` (metered reports)
//!   `installments` (plans of parts, their schedule, default and completion), `entitlements`
//!   (validity periods bought with items), `escrow` (held money, fulfilment, release,
//!   automatic refunds), `fees` (booked on payment, given back on refunds, the report),
//!   `settlements` (money movements, day closes, T+1 batches, the balance), `receivers`
//!   (profit sharing), `pool` (a group's fund pool, fed by its members' settlements) and
//!   `bills` (a closed day's reconciliation bill, a page at a time), `receipts` (signed
//!   electronic receipts) and `audit_log` (the chain, readable, and signed daily statements),
//!   `onboarding` (a merchant's application to collect live money, sealed, and its review),
//!   `alerts` (staff alerts, one open per cause), `channels` (which channel a payment goes
//!   through; circuits and failover), `upstream` (the WeChat Pay v2 upstream channel: cashier
//!   hand-off, notification, refunds), `contacts` (payers' contacts, sealed), `messages`
//!   (staff alerts and payer reminders by email, SMS and the inbox: the outbox, settings,
//!   unsubscribes) and `message_delivery` (sending them), `resealing` (moving sealed data to
//!   the current data key), `console_users` (console users, sign-in, sessions, and each
//!   console request checked against its role; `console_route` names them), `console_staff`
//!   (the operator's list of them: a role changed, a password reset, a user removed), `collections`
//!   (listing contracts, subscriptions and installment plans), `reports` (the daily report) and
//!   `settings` (the merchant's rules and branding from the console, through approval when a
//!   change loosens a control).

pub mod api_route;
pub mod console_route;
pub mod protocol;
pub mod schema;

#[cfg(target_arch = "wasm32")]
mod admin;
#[cfg(target_arch = "wasm32")]
mod alerts;
#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod approvals;
#[cfg(target_arch = "wasm32")]
mod audit_log;
#[cfg(target_arch = "wasm32")]
mod auth;
#[cfg(target_arch = "wasm32")]
mod bills;
#[cfg(target_arch = "wasm32")]
mod channels;
#[cfg(target_arch = "wasm32")]
pub mod client;
#[cfg(target_arch = "wasm32")]
mod collections;
#[cfg(target_arch = "wasm32")]
mod console_staff;
#[cfg(target_arch = "wasm32")]
mod console_users;
#[cfg(target_arch = "wasm32")]
mod contacts;
#[cfg(target_arch = "wasm32")]
mod contracts;
#[cfg(target_arch = "wasm32")]
mod deadlines;
#[cfg(target_arch = "wasm32")]
mod deductions;
#[cfg(target_arch = "wasm32")]
mod entitlements;
#[cfg(target_arch = "wasm32")]
mod escrow;
#[cfg(target_arch = "wasm32")]
mod exports;
#[cfg(target_arch = "wasm32")]
mod fees;
#[cfg(target_arch = "wasm32")]
mod installments;
#[cfg(target_arch = "wasm32")]
mod kept;
#[cfg(target_arch = "wasm32")]
mod message_delivery;
#[cfg(target_arch = "wasm32")]
mod messages;
#[cfg(target_arch = "wasm32")]
mod notifications;
#[cfg(target_arch = "wasm32")]
mod object;
#[cfg(target_arch = "wasm32")]
mod onboarding;
#[cfg(target_arch = "wasm32")]
mod orders;
#[cfg(target_arch = "wasm32")]
mod outbox;
#[cfg(target_arch = "wasm32")]
mod papay;
#[cfg(target_arch = "wasm32")]
mod payments;
#[cfg(target_arch = "wasm32")]
mod pool;
#[cfg(target_arch = "wasm32")]
mod receipts;
#[cfg(target_arch = "wasm32")]
mod receivers;
#[cfg(target_arch = "wasm32")]
mod refunds;
#[cfg(target_arch = "wasm32")]
mod renewals;
#[cfg(target_arch = "wasm32")]
mod reports;
#[cfg(target_arch = "wasm32")]
mod resealing;
#[cfg(target_arch = "wasm32")]
mod retention;
#[cfg(target_arch = "wasm32")]
mod reviews;
#[cfg(target_arch = "wasm32")]
mod risk;
#[cfg(target_arch = "wasm32")]
mod settings;
#[cfg(target_arch = "wasm32")]
mod settlements;
pub mod sql_meter;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(target_arch = "wasm32")]
mod subscriptions;
#[cfg(target_arch = "wasm32")]
mod upstream;
#[cfg(target_arch = "wasm32")]
mod upstream_close;
#[cfg(target_arch = "wasm32")]
mod upstream_refunds;
#[cfg(target_arch = "wasm32")]
mod usage;
#[cfg(target_arch = "wasm32")]
pub mod v2_dialect;
#[cfg(target_arch = "wasm32")]
pub use object::MerchantDO;
