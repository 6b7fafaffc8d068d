//! paydesk-shared: the contract between the edge and the widget (`docs/architecture.md`, "Two
//! halves and a contract"). No I/O, no platform types. Signing is behind the `crypto` feature so
//! the widget does not carry it.

pub mod api;
pub mod card;
pub mod checkout;
pub mod contract;
pub mod entitlement;
pub mod installment;
pub mod money;
#[cfg(feature = "crypto")]
pub mod sign;
pub mod status;
pub mod subscription;
pub mod time;
pub mod urlenc;
pub mod v2xml;

pub use checkout::{Branding, CheckoutView, PayOutcome, PayPageData, RenderSeed};
pub use money::{Currency, Money, MoneyError};
#[cfg(feature = "crypto")]
pub use sign::webhook;
pub use status::{OrderStatus, RefundStatus};
