//! Order and refund statuses as they appear on the wire (`docs/openapi.json`).

use core::fmt;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Created, waiting for the payer.
    #[serde(rename = "NOTPAY")]
    NotPay,
    /// The payer started paying; the channel has not answered yet.
    #[serde(rename = "USERPAYING")]
    UserPaying,
    Success,
    /// The last payment attempt failed; the payer may try again.
    #[serde(rename = "PAYERROR")]
    PayError,
    /// Paid, then (partly or wholly) refunded.
    Refund,
    Closed,
    /// Above the merchant's approval threshold: not payable until approved.
    PendingApproval,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::NotPay,
        OrderStatus::UserPaying,
        OrderStatus::Success,
        OrderStatus::PayError,
        OrderStatus::Refund,
        OrderStatus::Closed,
        OrderStatus::PendingApproval,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::NotPay => "NOTPAY",
            OrderStatus::UserPaying => "USERPAYING",
            OrderStatus::Success => "SUCCESS",
            OrderStatus::PayError => "PAYERROR",
            OrderStatus::Refund => "REFUND",
            OrderStatus::Closed => "CLOSED",
            OrderStatus::PendingApproval => "PENDING_APPROVAL",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// No further payment can happen in this state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Success | OrderStatus::Refund | OrderStatus::Closed
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    Processing,
    Success,
    Closed,
    Abnormal,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Processing => "PROCESSING",
            RefundStatus::Success => "SUCCESS",
            RefundStatus::Closed => "CLOSED",
            RefundStatus::Abnormal => "ABNORMAL",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_the_contract() {
        for st in OrderStatus::ALL {
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{}\"", st.as_str()));
            assert_eq!(serde_json::from_str::<OrderStatus>(&json).unwrap(), st);
            assert_eq!(OrderStatus::parse(st.as_str()), Some(st));
        }
        assert_eq!(OrderStatus::parse("PAID"), None);
        assert_eq!(
            serde_json::to_string(&RefundStatus::Processing).unwrap(),
            "\"PROCESSING\""
        );
        for st in [
            RefundStatus::Processing,
            RefundStatus::Success,
            RefundStatus::Closed,
            RefundStatus::Abnormal,
        ] {
            assert_eq!(
                serde_json::to_string(&st).unwrap(),
                format!("\"{}\"", st.as_str())
            );
        }
    }
}
