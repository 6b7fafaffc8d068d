//! The per-merchant Durable Object (DESIGN.md §2): one strongly consistent SQLite database per
//! merchant holding its configuration, order ledger, refunds, approvals, rate windows, daily
//! totals, events and audit chain. All writes for a merchant are serialised here, which is what
//! makes idempotency, limits and exactly-once transitions correct without locks.

pub mod api_route;
pub mod protocol;
pub mod schema;

#[cfg(target_arch = "wasm32")]
mod admin;
#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod checkout;
#[cfg(target_arch = "wasm32")]
pub mod client;
#[cfg(target_arch = "wasm32")]
mod deadlines;
#[cfg(target_arch = "wasm32")]
pub mod ledger;
#[cfg(target_arch = "wasm32")]
mod notifications;
#[cfg(target_arch = "wasm32")]
mod object;
#[cfg(target_arch = "wasm32")]
mod outbox;
#[cfg(target_arch = "wasm32")]
pub mod v2api;
#[cfg(target_arch = "wasm32")]
pub use object::MerchantDO;
