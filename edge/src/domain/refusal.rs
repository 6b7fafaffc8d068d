//! The one way a rule says no: a stable [`ErrorCode`], a message meant for the client, the
//! parameter at fault, how long to wait before retrying, and (where a dialect answers it
//! differently) the precise reason. Every rule in `domain/` refuses with this type; the edge
//! carries it unchanged to the one place that renders it (HTTP JSON in `error.rs`, v2 XML in
//! `domain/v2.rs`).

use paydesk_shared::api::ErrorCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

/// Finer reasons behind one code, for dialects that name them apart (the v2 protocol answers a
/// refund beyond the paid amount `NOTENOUGH` and one of an old order `TRADE_OVERDUE`, where the
/// JSON API says `REFUND_NOT_ALLOWED` to both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    RefundExceedsPaid,
    RefundOrderTooOld,
    /// Why an instrument was declined (`PAYMENT_FAILED`), for a page to say it in the payer's
    /// language: its decline code.
    CardDeclined,
    InsufficientFunds,
    ExpiredCard,
    ProcessingError,
}

impl Reason {
    /// The decline code a decline's reason names (`CARD_DECLINED`...), if it is one.
    pub fn decline_code(self) -> Option<&'static str> {
        Some(match self {
            Reason::CardDeclined => "CARD_DECLINED",
            Reason::InsufficientFunds => "INSUFFICIENT_FUNDS",
            Reason::ExpiredCard => "EXPIRED_CARD",
            Reason::ProcessingError => "PROCESSING_ERROR",
            Reason::RefundExceedsPaid | Reason::RefundOrderTooOld => return None,
        })
    }
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            param: None,
            retry_after: None,
            reason: None,
        }
    }

    /// `PARAM_ERROR` naming the parameter to fix.
    pub fn param(param: &str, message: impl Into<String>) -> Refusal {
        Refusal::new(ErrorCode::ParamError, message).at(param)
    }

    /// The same refusal, naming the parameter at fault.
    pub fn at(mut self, param: &str) -> Refusal {
        self.param = Some(param.to_owned());
        self
    }

    pub fn retry_after(mut self, seconds: u32) -> Refusal {
        self.retry_after = Some(seconds);
        self
    }

    pub fn because(mut self, reason: Reason) -> Refusal {
        self.reason = Some(reason);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_travels() {
        let r = Refusal::new(ErrorCode::FrequencyLimited, "slow down").retry_after(60);
        assert_eq!(
            (r.code, r.retry_after, r.param.as_deref()),
            (ErrorCode::FrequencyLimited, Some(60), None)
        );
        let p = Refusal::param("amount", "too large");
        assert_eq!(
            (p.code, p.param.as_deref()),
            (ErrorCode::ParamError, Some("amount"))
        );
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(crate::json_text::from_text::<Refusal>(&json).unwrap(), p);
        assert!(
            !json.contains("retry_after"),
            "absent fields stay absent: {json}"
        );
    }
}
