//! The per-merchant Durable Object (DESIGN.md §2): one strongly consistent SQLite database per
//! merchant holding its configuration and order ledger. All writes for a merchant are serialised
//! here, which is what later makes idempotency and limits correct without locks.

pub mod protocol;
pub mod schema;

#[cfg(target_arch = "wasm32")]
mod object;
#[cfg(target_arch = "wasm32")]
pub use object::MerchantDO;
#[cfg(target_arch = "wasm32")]
pub mod client;
