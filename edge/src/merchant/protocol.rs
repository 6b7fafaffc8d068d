//! The commands the worker sends to a merchant's Durable Object and its answer. Plain serde
//! types, shared by both sides of the stub call and tested natively.
//!
//! The object answers every command HTTP-shaped ([`Reply`]): the worker relays status and body,
//! so each rule lives in one place (the object) and the worker stays thin.

use crate::domain::approval::ApprovalLevel;
use crate::domain::limits::{RateLimits, Tier};
use paydesk_shared::api::PayRequest;
use paydesk_shared::{Branding, Money};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Per-merchant settings (everything but identity, keys and branding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MerchantConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// Used instead of the usual URL while a delivery alert is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_notify_url: Option<String>,
    #[serde(default)]
    pub ip_allowlist: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub approval_levels: Vec<ApprovalLevel>,
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// Minor units per merchant calendar day; defaults from the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_limit: Option<u64>,
    /// Fixed-price items: `item_id` → amount.
    #[serde(default)]
    pub items: BTreeMap<String, Money>,
    /// The merchant's calendar day is in this UTC offset (default UTC+8).
    #[serde(default = "default_offset")]
    pub utc_offset_minutes: i32,
    /// How long a `remind` order stays open after its reminder (default 24 h).
    #[serde(default = "default_grace")]
    pub remind_grace_seconds: u32,
    /// Refunds above this many minor units need one approver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_approval_above: Option<u64>,
}

fn default_offset() -> i32 {
    crate::domain::limits::DEFAULT_UTC_OFFSET_MINUTES
}

fn default_grace() -> u32 {
    24 * 3600
}

/// A merchant as the admin API creates it; keys are minted by the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantSetup {
    pub merchant_id: String,
    pub name: String,
    pub tier: Tier,
    pub sandbox: bool,
    pub branding: Branding,
    pub config: MerchantConfig,
    pub api_key: String,
    pub webhook_secret: String,
}

/// A signed merchant API request, exactly as received, for the object to authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// Without the leading `?`; empty if none.
    pub query: String,
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub body: String,
    pub client_ip: Option<String>,
}

/// A v2 XML dialect request, parsed by the worker (which refused anything malformed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V2Request {
    /// Not `op`: that is the tag of [`Command`], which carries this struct's fields inline.
    #[serde(rename = "v2_op")]
    pub op: crate::domain::v2::Op,
    pub params: crate::domain::v2::Params,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AdminAction {
    RotateKey {
        new_key: String,
        grace_seconds: u32,
    },
    RotateWebhookSecret {
        new_secret: String,
        grace_seconds: u32,
    },
    Reactivate {
        document_ref: String,
    },
    AdvanceClock {
        seconds: u64,
    },
    ListOrders {
        status: Option<String>,
        cursor: Option<String>,
        limit: Option<u32>,
    },
    Decide {
        approval_id: String,
        approver: String,
        approve: bool,
    },
    VerifyAudit,
    Get,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// Admin: create the merchant this object holds. `ensure` (dev demo merchant): succeed
    /// without change if it already exists.
    CreateMerchant {
        setup: Box<MerchantSetup>,
        ensure: bool,
    },
    Api(ApiRequest),
    /// The v2 XML dialect; answered as `{"xml": "<xml>...</xml>"}`, signed by the object.
    V2(V2Request),
    Admin(AdminAction),
    /// What the pay page shows; marks the order as opened by a payer.
    Checkout {
        out_trade_no: String,
    },
    Pay {
        out_trade_no: String,
        pay: PayRequest,
    },
}

/// Every command travels with the context the object needs to answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub request_id: String,
    /// `scheme://host` for building `checkout_url`s.
    pub origin: String,
    /// Whether dev-only relaxations apply (http notify URLs to loopback).
    pub dev: bool,
    pub command: Command,
}

/// An HTTP-shaped answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        let c = Envelope {
            request_id: "r".into(),
            origin: "http://127.0.0.1:8787".into(),
            dev: true,
            command: Command::Checkout {
                out_trade_no: "DEMO-1".into(),
            },
        };
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""op":"checkout""#));
        assert_eq!(serde_json::from_str::<Envelope>(&json).unwrap(), c);
    }

    #[test]
    fn inline_commands_round_trip() {
        // Newtype variants carry their struct's fields beside the `op` tag: a field of the same
        // name would make the envelope unreadable.
        let v2 = Command::V2(V2Request {
            op: crate::domain::v2::Op::OrderQuery,
            params: crate::domain::v2::Params(vec![("out_trade_no".into(), "A1".into())]),
            client_ip: Some("203.0.113.7".into()),
        });
        let json = serde_json::to_string(&v2).unwrap();
        assert!(json.contains(r#""op":"v2""#), "{json}");
        assert_eq!(serde_json::from_str::<Command>(&json).unwrap(), v2);
    }

    #[test]
    fn config_defaults() {
        let c: MerchantConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c.utc_offset_minutes, 480);
        assert_eq!(c.remind_grace_seconds, 86_400);
        assert_eq!(c.rate_limits, RateLimits::default());
        assert!(serde_json::from_str::<MerchantConfig>(r#"{"nope":1}"#).is_err());
    }
}
