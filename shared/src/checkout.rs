//! What the pay page shows (`docs/architecture.md`, "The pay page"): the edge builds a
//! [`CheckoutView`] for a checkout token and inlines it into the page; the widget renders it.

use crate::api::PayMethod;
use crate::money::Money;
use crate::status::OrderStatus;
use serde::{Deserialize, Serialize};

/// The merchant as the payer sees it. Every field is shown as text, never as HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Registration / ICP filing text shown under the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_text: Option<String>,
    /// `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme_color: Option<String>,
    /// The merchant's own wording of the buyer guarantee, replacing the default text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guarantee_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutView {
    pub merchant: Branding,
    pub out_trade_no: String,
    pub description: String,
    pub amount: Money,
    pub status: OrderStatus,
    /// RFC 3339, UTC.
    pub time_expire: String,
    /// The methods this order may be paid with, in the merchant's order of preference.
    #[serde(default)]
    pub methods: Vec<PayMethod>,
    /// For a part of an installment plan: which part of how many, and what is left after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installment: Option<crate::installment::PartOfPlan>,
    /// What the merchant's settings do with the money (the pay page's promise is made from
    /// these and nothing else): held until delivery or this many days...
    #[serde(default = "default_release_days")]
    pub release_days: u32,
    /// ...and refunded in full by itself when not delivered within this many hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_refund_hours: Option<u32>,
    /// The payment is in the merchant's risk review...
    #[serde(default, skip_serializing_if = "is_false")]
    pub in_review: bool,
    /// ...refunded in full by itself unless approved within this many hours.
    #[serde(default)]
    pub review_hours: u32,
}

fn is_false(b: &bool) -> bool {
    !b
}

fn default_release_days() -> u32 {
    7
}

impl CheckoutView {
    pub fn escrow(&self) -> EscrowTerms {
        EscrowTerms {
            release_days: self.release_days,
            auto_refund_hours: self.auto_refund_hours,
        }
    }
}

/// How long a paid order's money is held, and whether it is refunded by itself when the
/// order is not fulfilled in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscrowTerms {
    pub release_days: u32,
    pub auto_refund_hours: Option<u32>,
}

/// What the pay page inlines for the widget: the view, the token it was opened with, and, when
/// the page is embedded by an allowed origin, that origin (the only one it will post messages to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayPageData {
    pub view: CheckoutView,
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed_origin: Option<String>,
    /// Whether this is a sandbox merchant (the page says no real money moves).
    #[serde(default)]
    pub sandbox: bool,
    /// How the worker rendered the page, so the widget hydrates from exactly the same state.
    #[serde(default)]
    pub seed: RenderSeed,
}

/// What the worker's server-side render of the pay page started from, inlined beside the view:
/// the widget's first render must equal the server's markup, so it starts from the same language,
/// clock and form state, or hydration would meet markup it did not render.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RenderSeed {
    /// `zh` or `en`: from `?lang=`, else the request's `Accept-Language`.
    #[serde(default)]
    pub lang: String,
    /// The worker's clock when it rendered (unix ms); the countdown starts there.
    #[serde(default)]
    pub now_ms: i64,
    /// The one-time key the page's HTML form carries: posting the form twice pays once.
    #[serde(default)]
    pub submission_key: String,
    /// The method chosen in the form post this page answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<PayMethod>,
    /// The sandbox wallet chosen in that post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    /// What that post came back with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<PayOutcome>,
    /// The card field the payer must fix (`number`, `expiry`, `cvc`) and the reason key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_error: Option<(String, String)>,
}

/// The answer to a pay attempt, as the pay page shows it: read by the widget from the checkout
/// API, and carried by the page the worker renders for a form post (no JavaScript).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PayOutcome {
    Paid,
    /// Paid, and held in the merchant's risk review (`IN_REVIEW`).
    InReview,
    Pending,
    Declined {
        code: String,
        message: String,
        next_step: crate::api::NextStep,
    },
    /// Refused for the order's state or the request (the edge's error body). `code` is the
    /// wire name ([`crate::api::ErrorCode::as_str`]), kept as it came, a newer code too: the
    /// page acts on three codes and shows every other as a failure, so its wasm need not hold
    /// the name of each.
    Refused {
        code: String,
        message: String,
    },
    /// The ledger could not be reached: nothing was charged, try again.
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape() {
        let v = CheckoutView {
            merchant: Branding {
                display_name: "Demo Tea House".into(),
                logo_url: None,
                filing_text: None,
                theme_color: Some("#0a7d5a".into()),
                guarantee_text: None,
            },
            out_trade_no: "DEMO-1".into(),
            description: "Oolong".into(),
            amount: Money::cny(1234),
            status: OrderStatus::NotPay,
            time_expire: "2026-11-28T11:22:40Z".into(),
            methods: vec![PayMethod::Balance, PayMethod::CreditCard],
            installment: None,
            release_days: 7,
            auto_refund_hours: None,
            in_review: false,
            review_hours: 24,
        };
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["amount"]["total"], 1234);
        assert_eq!(json["status"], "NOTPAY");
        assert!(json["merchant"].get("logo_url").is_none());
        let back: CheckoutView = serde_json::from_value(json).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn a_refusal_carries_its_code_as_the_wire_string() {
        let o = PayOutcome::Refused {
            code: crate::api::ErrorCode::OrderPaid.as_str().into(),
            message: "m".into(),
        };
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"refused","code":"ORDER_PAID","message":"m"}"#
        );
        assert_eq!(serde_json::from_str::<PayOutcome>(&json).unwrap(), o);
        let newer = r#"{"kind":"refused","code":"SOMETHING_NEW","message":"m"}"#;
        assert!(matches!(
            serde_json::from_str::<PayOutcome>(newer).unwrap(),
            PayOutcome::Refused { code, .. } if code == "SOMETHING_NEW"
        ));
    }
}
