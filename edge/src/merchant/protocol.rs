//! The commands the worker sends to a merchant's Durable Object and their answers. Plain serde
//! types, shared by both sides of the stub call and tested natively.

use paydesk_shared::{Branding, CheckoutView, Money, OrderStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// Dev only: make sure the demo merchant from local dev config exists.
    SeedDemoMerchant {
        merchant_id: String,
        branding: Branding,
    },
    /// Dev only: a demo order for the demo shop and the local smoke test.
    CreateDemoOrder {
        out_trade_no: String,
        transaction_id: String,
        amount: Money,
        description: String,
        now_ms: i64,
        time_expire_ms: i64,
    },
    /// What the pay page shows for one order.
    CheckoutView { out_trade_no: String },
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub out_trade_no: String,
    pub transaction_id: String,
    pub status: OrderStatus,
    pub amount: Money,
    pub description: String,
    pub created_at_ms: i64,
    pub time_expire_ms: i64,
}

/// Why a command failed, in terms the worker maps to HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StoreError {
    MerchantNotExist,
    OrderNotExist,
    OutTradeNoUsed,
    SystemError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Ok,
    Order(OrderRecord),
    Checkout(CheckoutView),
    Error(StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        let c = Command::CheckoutView {
            out_trade_no: "DEMO-1".into(),
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"op":"checkout_view","out_trade_no":"DEMO-1"}"#);
        assert_eq!(serde_json::from_str::<Command>(&json).unwrap(), c);
        let r = Reply::Error(StoreError::OrderNotExist);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"error":"ORDER_NOT_EXIST"}"#);
    }
}
