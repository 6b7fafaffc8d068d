//! Entitlements on the wire (validity of courses and memberships): what
//! `GET /v1/entitlements?payer_ref=` answers. The rules are the edge's
//! (`edge/src/merchant/entitlements.rs`).

use serde::{Deserialize, Serialize};

/// One purchase behind an entitlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub out_trade_no: String,
    pub days: u32,
    pub granted_at: String,
    /// When a refund took it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
}

/// A payer's entitlement to an item, as it stands at the merchant's business time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlement {
    pub payer_ref: String,
    pub item_id: String,
    pub valid_from: String,
    pub valid_until: String,
    pub active: bool,
    pub purchases: Vec<Purchase>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementList {
    pub payer_ref: String,
    pub entitlements: Vec<Entitlement>,
}
