//! Pure business rules: no `worker` types, tested natively with plain `cargo test`.

pub mod approval;
pub mod audit;
pub mod card;
pub mod delivery;
pub mod ids;
pub mod ip;
pub mod limits;
pub mod merchant_rules;
pub mod order_rules;
pub mod refund_rules;
pub mod state;
pub mod v2;

/// A refused parameter: which one, and what the client should send instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: &'static str,
    pub message: String,
}

impl ParamError {
    pub fn new(param: &'static str, message: &str) -> Self {
        ParamError {
            param,
            message: message.to_owned(),
        }
    }
}
