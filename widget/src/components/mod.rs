//! One component per file, each with its `XxxProps`.

mod amount;
mod header;

pub use amount::{Amount, AmountProps};
pub use header::{Header, HeaderProps};
