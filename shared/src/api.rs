//! Wire types of the merchant JSON API and the checkout API (the contract is
//! `docs/openapi.json`), and the stable error codes every surface answers with.

use crate::money::Money;
use crate::status::{OrderStatus, RefundStatus};
use serde::{Deserialize, Serialize};

/// Stable error codes. The HTTP status belongs to the code, so every surface maps them alike.
/// A reader meeting a code it does not know yet (a newer edge) gets [`ErrorCode::Unknown`]
/// instead of failing to read the whole error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    ParamError,
    SignError,
    NonceReused,
    TimestampExpired,
    MerchantNotExist,
    IpNotAllowed,
    FrequencyLimited,
    OutTradeNoUsed,
    OutRefundNoUsed,
    OrderPaid,
    OrderClosed,
    OrderNotExist,
    OrderTooNew,
    OrderNotPaid,
    OrderPaying,
    RefundNotExist,
    RefundNotAllowed,
    DailyLimitExceeded,
    AccountNotAllowed,
    AccountDormant,
    PendingApproval,
    ApprovalNotExist,
    AlreadyApproved,
    SandboxOnly,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    BodyTooLarge,
    UnsupportedMediaType,
    PaymentFailed,
    PlanIdUsed,
    PlanNotExist,
    ContractCodeUsed,
    ContractNotExist,
    ContractNotActive,
    ContractAmountExceeded,
    ContractPeriodLimitExceeded,
    SubscriptionIdUsed,
    SubscriptionNotExist,
    SubscriptionNotAllowed,
    UsageKeyUsed,
    InstallmentPlanNoUsed,
    InstallmentPlanNotExist,
    /// No bill for that day: it closed with no money moving.
    BillNotExist,
    /// That day has not closed yet: its bill is made at its 24:00.
    BillNotReady,
    /// An export asked for records older than the retention period keeps.
    RecordsExpired,
    /// A risk rule froze the merchant: no new orders or payments until an operator unfreezes it.
    MerchantFrozen,
    /// The order's payment is in the risk review queue: decide the review first.
    OrderInReview,
    ReviewNotExist,
    /// The review was already decided the other way.
    ReviewDecided,
    /// A live merchant without a real payment channel cannot take payments.
    ChannelNotConfigured,
    SystemError,
    /// Any code this build does not know. Only read, never answered by the edge. Stays last.
    Unknown,
}

/// By name through [`ErrorCode::from_wire`], not derived: an unknown name reads as
/// [`ErrorCode::Unknown`] (as `#[serde(other)]` would do), and the pay page's wasm carries one
/// lookup loop instead of a derived visitor for each deserializer that reads a code, which
/// measured 9 KB (3 KB gzip) more after wasm-opt.
impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|name| ErrorCode::from_wire(&name))
    }
}

impl ErrorCode {
    /// Every code but [`ErrorCode::Unknown`], in declaration order (a test keeps it complete).
    pub const KNOWN: [ErrorCode; 53] = {
        use ErrorCode::*;
        [
            ParamError,
            SignError,
            NonceReused,
            TimestampExpired,
            MerchantNotExist,
            IpNotAllowed,
            FrequencyLimited,
            OutTradeNoUsed,
            OutRefundNoUsed,
            OrderPaid,
            OrderClosed,
            OrderNotExist,
            OrderTooNew,
            OrderNotPaid,
            OrderPaying,
            RefundNotExist,
            RefundNotAllowed,
            DailyLimitExceeded,
            AccountNotAllowed,
            AccountDormant,
            PendingApproval,
            ApprovalNotExist,
            AlreadyApproved,
            SandboxOnly,
            Unauthorized,
            Forbidden,
            NotFound,
            MethodNotAllowed,
            BodyTooLarge,
            UnsupportedMediaType,
            PaymentFailed,
            PlanIdUsed,
            PlanNotExist,
            ContractCodeUsed,
            ContractNotExist,
            ContractNotActive,
            ContractAmountExceeded,
            ContractPeriodLimitExceeded,
            SubscriptionIdUsed,
            SubscriptionNotExist,
            SubscriptionNotAllowed,
            UsageKeyUsed,
            InstallmentPlanNoUsed,
            InstallmentPlanNotExist,
            BillNotExist,
            BillNotReady,
            RecordsExpired,
            MerchantFrozen,
            OrderInReview,
            ReviewNotExist,
            ReviewDecided,
            ChannelNotConfigured,
            SystemError,
        ]
    };

    /// The code with this wire name, or [`ErrorCode::Unknown`].
    pub fn from_wire(name: &str) -> ErrorCode {
        Self::KNOWN
            .into_iter()
            .find(|c| c.as_str() == name)
            .unwrap_or(ErrorCode::Unknown)
    }

    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            ParamError => 400,
            SignError | NonceReused | TimestampExpired | MerchantNotExist | Unauthorized => 401,
            PaymentFailed => 402,
            IpNotAllowed
            | Forbidden
            | AccountNotAllowed
            | AccountDormant
            | PendingApproval
            | RefundNotAllowed
            | DailyLimitExceeded
            | SandboxOnly
            | ContractAmountExceeded
            | ContractPeriodLimitExceeded => 403,
            OrderNotExist
            | RefundNotExist
            | ApprovalNotExist
            | NotFound
            | PlanNotExist
            | ContractNotExist
            | SubscriptionNotExist
            | InstallmentPlanNotExist
            | BillNotExist => 404,
            MethodNotAllowed => 405,
            OutTradeNoUsed
            | OutRefundNoUsed
            | OrderPaid
            | OrderClosed
            | OrderTooNew
            | OrderNotPaid
            | OrderPaying
            | AlreadyApproved
            | PlanIdUsed
            | ContractCodeUsed
            | ContractNotActive
            | SubscriptionIdUsed
            | SubscriptionNotAllowed
            | UsageKeyUsed
            | InstallmentPlanNoUsed
            | BillNotReady => 409,
            RecordsExpired => 410,
            MerchantFrozen | ChannelNotConfigured => 403,
            ReviewNotExist => 404,
            OrderInReview | ReviewDecided => 409,
            BodyTooLarge => 413,
            UnsupportedMediaType => 415,
            FrequencyLimited => 429,
            SystemError | Unknown => 500,
        }
    }

    pub const fn as_str(self) -> &'static str {
        // The serde name is the wire name; this avoids a JSON round trip at run time. `const`,
        // so the pay page names the few codes it acts on without carrying every name.
        use ErrorCode::*;
        match self {
            ParamError => "PARAM_ERROR",
            SignError => "SIGN_ERROR",
            NonceReused => "NONCE_REUSED",
            TimestampExpired => "TIMESTAMP_EXPIRED",
            MerchantNotExist => "MERCHANT_NOT_EXIST",
            IpNotAllowed => "IP_NOT_ALLOWED",
            FrequencyLimited => "FREQUENCY_LIMITED",
            OutTradeNoUsed => "OUT_TRADE_NO_USED",
            OutRefundNoUsed => "OUT_REFUND_NO_USED",
            OrderPaid => "ORDER_PAID",
            OrderClosed => "ORDER_CLOSED",
            OrderNotExist => "ORDER_NOT_EXIST",
            OrderTooNew => "ORDER_TOO_NEW",
            OrderNotPaid => "ORDER_NOT_PAID",
            OrderPaying => "ORDER_PAYING",
            RefundNotExist => "REFUND_NOT_EXIST",
            RefundNotAllowed => "REFUND_NOT_ALLOWED",
            DailyLimitExceeded => "DAILY_LIMIT_EXCEEDED",
            AccountNotAllowed => "ACCOUNT_NOT_ALLOWED",
            AccountDormant => "ACCOUNT_DORMANT",
            PendingApproval => "PENDING_APPROVAL",
            ApprovalNotExist => "APPROVAL_NOT_EXIST",
            AlreadyApproved => "ALREADY_APPROVED",
            SandboxOnly => "SANDBOX_ONLY",
            Unauthorized => "UNAUTHORIZED",
            Forbidden => "FORBIDDEN",
            NotFound => "NOT_FOUND",
            MethodNotAllowed => "METHOD_NOT_ALLOWED",
            BodyTooLarge => "BODY_TOO_LARGE",
            UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            PaymentFailed => "PAYMENT_FAILED",
            PlanIdUsed => "PLAN_ID_USED",
            PlanNotExist => "PLAN_NOT_EXIST",
            ContractCodeUsed => "CONTRACT_CODE_USED",
            ContractNotExist => "CONTRACT_NOT_EXIST",
            ContractNotActive => "CONTRACT_NOT_ACTIVE",
            ContractAmountExceeded => "CONTRACT_AMOUNT_EXCEEDED",
            ContractPeriodLimitExceeded => "CONTRACT_PERIOD_LIMIT_EXCEEDED",
            SubscriptionIdUsed => "SUBSCRIPTION_ID_USED",
            SubscriptionNotExist => "SUBSCRIPTION_NOT_EXIST",
            SubscriptionNotAllowed => "SUBSCRIPTION_NOT_ALLOWED",
            UsageKeyUsed => "USAGE_KEY_USED",
            InstallmentPlanNoUsed => "INSTALLMENT_PLAN_NO_USED",
            InstallmentPlanNotExist => "INSTALLMENT_PLAN_NOT_EXIST",
            BillNotExist => "BILL_NOT_EXIST",
            BillNotReady => "BILL_NOT_READY",
            RecordsExpired => "RECORDS_EXPIRED",
            MerchantFrozen => "MERCHANT_FROZEN",
            OrderInReview => "ORDER_IN_REVIEW",
            ReviewNotExist => "REVIEW_NOT_EXIST",
            ReviewDecided => "REVIEW_DECIDED",
            ChannelNotConfigured => "CHANNEL_NOT_CONFIGURED",
            SystemError => "SYSTEM_ERROR",
            Unknown => "UNKNOWN",
        }
    }
}

/// The error body of every JSON surface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The edge always sends one; a reader that finds none still gets the code and message.
    #[serde(default)]
    pub request_id: String,
}

/// What the deadline does to an unpaid order: close it, or only remind the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutAction {
    #[default]
    Close,
    Remind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    Balance,
    BankCard,
    CreditCard,
}

impl PayMethod {
    pub const ALL: [PayMethod; 3] = [
        PayMethod::Balance,
        PayMethod::BankCard,
        PayMethod::CreditCard,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PayMethod::Balance => "balance",
            PayMethod::BankCard => "bank_card",
            PayMethod::CreditCard => "credit_card",
        }
    }

    pub fn parse(s: &str) -> Option<PayMethod> {
        PayMethod::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// `POST /v1/orders`. Either `amount` or `item_id` (a merchant's fixed-price item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    pub out_trade_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_action: Option<TimeoutAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_pay: Option<Vec<PayMethod>>,
    /// The merchant's reference for the payer (at most 64 characters, shown to nobody): paying
    /// for an item with a validity period grants this payer an entitlement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_ref: Option<String>,
    /// Profit sharing (分账): receivers the merchant registered (`POST /v1/receivers`) and
    /// each one's share, booked to it when the order's money is released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splits: Option<Vec<Split>>,
    /// How to reach the payer: kept sealed, only ever shown masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// A payer's phone and email. On an order the API shows, both are masked
/// (`138****5678`, `a***@example.com`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The language messages to the payer are written in: `zh-CN` (default) or `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// One receiver's share of an order, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    pub receiver_id: String,
    pub amount: u64,
}

/// An order on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub out_trade_no: String,
    pub transaction_id: String,
    pub status: OrderStatus,
    pub amount: Money,
    pub description: String,
    pub created_at: String,
    pub time_expire: String,
    pub checkout_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<PayMethod>,
    pub refunded_total: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    pub timeout_action: TimeoutAction,
    pub limit_pay: Vec<PayMethod>,
    /// Present while the order awaits approval (`PENDING_APPROVAL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// `PAP` for a deduction from a withhold contract; absent for an order a payer pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<String>,
    /// The contract a deduction charges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_code: Option<String>,
    /// A deduction accepted under a pre-deduction notice and not charged yet: when it will be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_at: Option<String>,
    /// For a deduction: the payer's page of its contract, where they can end it. Put it on the
    /// receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_url: Option<String>,
    /// For a subscription's invoice: the subscription, and which of its periods it collects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_ref: Option<String>,
    /// For a paid order: `held` (until it is fulfilled or `held_until`), `owed` (held for the
    /// payer, who is owed the rest: an automatic refund, a rejected review, a payment the ledger
    /// could not use; never released) or `released`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funds: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilled_at: Option<String>,
    /// For a paid order: the platform's fee (fen), and what refunds gave back of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_refunded: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splits: Option<Vec<Split>>,
    /// For a part of an installment plan: the plan, and which part (0 is the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_index: Option<u32>,
    /// The risk review its payment went to (`GET /v1/reviews`), if a rule sent it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_id: Option<String>,
    /// That review's state: `pending` (the money is held), `approved` or `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// The payer's contact, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// The channel its last payment attempt went through (`sandbox_a`, `sandbox_b`): after a
    /// failover, the one that charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// `POST /v1/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    pub out_trade_no: String,
    pub out_refund_no: String,
    /// Minor units.
    pub amount: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A refund on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub amount: u64,
    pub status: RefundStatus,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Present while the refund waits for approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

/// A card as the payer enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardInput {
    pub number: String,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: String,
}

/// `POST /api/checkout/{token}/pay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    pub method: PayMethod,
    /// Sandbox wallets for `balance`: `wallet_ok` or `wallet_low`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardInput>,
    /// One-time submission key: the same key never pays twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_key: Option<String>,
}

/// What a retry prompt offers after a failed payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    Retry,
    SwitchMethod,
    None,
}

/// Answer of a pay call: 200 with `SUCCESS`/`USERPAYING`, 402 with `PAYERROR` and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayResult {
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<NextStep>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialise_as_their_wire_names() {
        use ErrorCode::*;
        for c in [
            ParamError,
            SignError,
            NonceReused,
            TimestampExpired,
            MerchantNotExist,
            IpNotAllowed,
            FrequencyLimited,
            OutTradeNoUsed,
            OutRefundNoUsed,
            OrderPaid,
            OrderClosed,
            OrderNotExist,
            OrderTooNew,
            OrderNotPaid,
            OrderPaying,
            RefundNotExist,
            RefundNotAllowed,
            DailyLimitExceeded,
            AccountNotAllowed,
            AccountDormant,
            PendingApproval,
            ApprovalNotExist,
            AlreadyApproved,
            SandboxOnly,
            Unauthorized,
            Forbidden,
            NotFound,
            MethodNotAllowed,
            BodyTooLarge,
            UnsupportedMediaType,
            PaymentFailed,
            PlanIdUsed,
            PlanNotExist,
            ContractCodeUsed,
            ContractNotExist,
            ContractNotActive,
            ContractAmountExceeded,
            ContractPeriodLimitExceeded,
            SubscriptionIdUsed,
            SubscriptionNotExist,
            SubscriptionNotAllowed,
            UsageKeyUsed,
            InstallmentPlanNoUsed,
            InstallmentPlanNotExist,
            BillNotExist,
            BillNotReady,
            RecordsExpired,
            MerchantFrozen,
            OrderInReview,
            ReviewNotExist,
            ReviewDecided,
            ChannelNotConfigured,
            SystemError,
            Unknown,
        ] {
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
            assert_eq!(ErrorCode::from_wire(c.as_str()), c, "reads back");
            assert!((400..=500).contains(&c.http_status()));
        }
    }

    #[test]
    fn the_known_codes_are_every_code_but_unknown() {
        for (i, c) in ErrorCode::KNOWN.into_iter().enumerate() {
            assert_eq!(c as usize, i, "{c:?}");
        }
        assert_eq!(ErrorCode::KNOWN.len(), ErrorCode::Unknown as usize);
    }

    #[test]
    fn a_code_this_build_does_not_know_reads_as_unknown() {
        let e: ApiError =
            serde_json::from_str(r#"{"code":"SOMETHING_NEW","message":"m","request_id":"r"}"#)
                .unwrap();
        assert_eq!(e.code, ErrorCode::Unknown);
        let e: ApiError = serde_json::from_str(r#"{"code":"ORDER_PAID","message":"m"}"#).unwrap();
        assert_eq!((e.code, e.request_id.as_str()), (ErrorCode::OrderPaid, ""));
    }

    #[test]
    fn create_order_refuses_unknown_fields() {
        let ok = r#"{"out_trade_no":"A123456","amount":{"total":100,"currency":"CNY"},"description":"x"}"#;
        assert!(serde_json::from_str::<CreateOrder>(ok).is_ok());
        let extra = r#"{"out_trade_no":"A123456","description":"x","surprise":1}"#;
        assert!(serde_json::from_str::<CreateOrder>(extra).is_err());
    }
}
