//! The WeChat Pay v2 dialect's rules: which operation a path names, how a
//! `unifiedorder` maps onto the ledger's order, and how ledger states and refusals read in the
//! protocol's words. Pure, so every mapping is tested natively.

use super::limits::RateKind;
use super::refusal::{Reason, Refusal};
use paydesk_shared::api::{CreateOrder, ErrorCode, PayMethod};
use paydesk_shared::money::MAX_MINOR;
use paydesk_shared::sign::params::SignType;
use paydesk_shared::{Currency, Money, OrderStatus, RefundStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    UnifiedOrder,
    OrderQuery,
    CloseOrder,
    Refund,
    RefundQuery,
    /// The papay (withhold contract) family: `domain::papay`.
    QueryContract,
    PapPayApply,
    PapOrderQuery,
    DeleteContract,
    /// The day's bill, streamed in WeChat's layout (`domain::bill_rules`).
    DownloadBill,
}

impl Op {
    pub fn from_path(path: &str) -> Option<Op> {
        Some(match path {
            "/pay/unifiedorder" => Op::UnifiedOrder,
            "/pay/orderquery" => Op::OrderQuery,
            "/pay/closeorder" => Op::CloseOrder,
            "/secapi/pay/refund" => Op::Refund,
            "/pay/refundquery" => Op::RefundQuery,
            "/papay/querycontract" => Op::QueryContract,
            "/pay/pappayapply" => Op::PapPayApply,
            "/pay/paporderquery" => Op::PapOrderQuery,
            "/papay/deletecontract" => Op::DeleteContract,
            "/pay/downloadbill" => Op::DownloadBill,
            _ => return None,
        })
    }

    pub fn rate_kind(self) -> RateKind {
        match self {
            Op::UnifiedOrder | Op::PapPayApply | Op::DeleteContract => RateKind::Create,
            Op::Refund => RateKind::Refund,
            _ => RateKind::Query,
        }
    }

    /// The papay family: its SDKs send no `nonce_str` on some calls (wechatpy's
    /// `query_signing` and `apply_cancel_signing`), so it is optional there.
    pub fn is_papay(self) -> bool {
        matches!(
            self,
            Op::QueryContract | Op::PapPayApply | Op::PapOrderQuery | Op::DeleteContract
        )
    }
}

/// A request's fields as received. Empty values count as absent, as in the signature.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn required(&self, name: &'static str) -> Result<&str, Refusal> {
        self.get(name)
            .ok_or_else(|| bad(format!("{name} is required")))
    }

    /// An optional field of at most `max` characters.
    pub fn short(&self, name: &'static str, max: usize) -> Result<Option<&str>, Refusal> {
        match self.get(name) {
            Some(v) if v.chars().count() > max => {
                Err(bad(format!("{name} must be at most {max} characters")))
            }
            v => Ok(v),
        }
    }
}

/// A parameter the protocol's request got wrong: `PARAM_ERROR`, described in `des`.
pub fn bad(des: impl Into<String>) -> Refusal {
    Refusal::param("body", des)
}

/// A `return_code` FAIL answer: the request could not be read or authenticated. Messages are
/// the protocol's own words.
pub mod fail_msg {
    pub const XML: &str = "XML格式错误";
    pub const MCH_ID: &str = "mch_id参数格式错误";
    pub const NO_SUCH_MERCHANT: &str = "商户号mch_id不存在";
    pub const SIGN_MISSING: &str = "缺少参数sign";
    pub const SIGN_TYPE: &str = "sign_type参数错误";
    pub const SIGN: &str = "签名错误";
    pub const NONCE: &str = "nonce_str参数长度有误";
    pub const APPID: &str = "appid参数长度有误";
    pub const POST: &str = "请使用post方法";
}

/// `downloadbill`'s failures, as the protocol words them: `return_code` FAIL, `return_msg`
/// and an `error_code` (unsigned, like every `return_code` FAIL).
pub mod bill_fail {
    pub const BAD_DATE: (&str, &str) = ("invalid bill_date", "20001");
    pub const BAD_TYPE: (&str, &str) = ("invalid bill_type", "20001");
    pub const TAR_TYPE: (&str, &str) = ("invalid tar_type, bills are sent uncompressed", "20001");
    pub const NO_BILL: (&str, &str) = ("No Bill Exist", "20002");
    pub const NOT_READY: (&str, &str) = ("Bill Creating", "20003");
    pub const SYSTEM: (&str, &str) = ("SYSTEMERROR", "20000");

    pub fn document((msg, code): (&str, &str)) -> String {
        paydesk_shared::v2xml::write(&[
            ("return_code", "FAIL"),
            ("return_msg", msg),
            ("error_code", code),
        ])
    }
}

/// A `return_code` FAIL document (unsigned: the request could not be read or authenticated).
pub fn return_fail(msg: &str) -> String {
    paydesk_shared::v2xml::write(&[("return_code", "FAIL"), ("return_msg", msg)])
}

/// Checks the fields every request carries before its signature is checked; the sign type.
/// `nonce_optional` for the papay family (`Op::is_papay`).
pub fn envelope(p: &Params, nonce_optional: bool) -> Result<SignType, &'static str> {
    if p.get("sign").is_none() {
        return Err(fail_msg::SIGN_MISSING);
    }
    let st = match p.get("sign_type") {
        None => SignType::Md5,
        Some(s) => SignType::parse(s).ok_or(fail_msg::SIGN_TYPE)?,
    };
    match p.get("nonce_str") {
        None if nonce_optional => {}
        Some(n) if n.len() <= 32 => {}
        _ => return Err(fail_msg::NONCE),
    }
    if p.get("appid").is_none_or(|a| a.len() > 32) {
        return Err(fail_msg::APPID);
    }
    Ok(st)
}

/// What an order created through the dialect remembers for its answers and notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderMeta {
    pub appid: String,
    pub trade_type: String,
    pub sign_type: String,
    pub prepay_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_info: Option<String>,
    pub fee_type: String,
    /// What makes a repeated `unifiedorder` "the same order" (see [`UnifiedOrder::fingerprint`]).
    pub fingerprint: String,
}

pub struct UnifiedOrder {
    pub create: CreateOrder,
    pub meta: OrderMeta,
}

pub const TRADE_TYPES: [&str; 3] = ["NATIVE", "JSAPI", "MWEB"];

/// `limit_pay`: the protocol's one value, `no_credit`, keeps credit cards out (the pay page then
/// offers balance and debit cards only, as the JSON API's `limit_pay` does).
fn limit_pay(p: &Params) -> Result<Option<Vec<PayMethod>>, Refusal> {
    match p.get("limit_pay") {
        None => Ok(None),
        Some("no_credit") => Ok(Some(vec![PayMethod::Balance, PayMethod::BankCard])),
        Some(_) => Err(bad("limit_pay must be no_credit")),
    }
}

/// Maps a `unifiedorder` onto the ledger's order. `prepay_id` is minted by the caller (and kept
/// only if the order is new). The ledger's own validation (description, notify URL, deadline
/// bounds) runs afterwards on `create`.
pub fn unified_order(
    p: &Params,
    sign_type: SignType,
    prepay_id: String,
) -> Result<UnifiedOrder, Refusal> {
    let out_trade_no = p.required("out_trade_no")?;
    let body = p.required("body")?;
    let notify_url = p.required("notify_url")?;
    p.required("spbill_create_ip")?;
    let trade_type = p.required("trade_type")?;
    if !TRADE_TYPES.contains(&trade_type) {
        return Err(bad(format!(
            "trade_type must be one of {}",
            TRADE_TYPES.join(", ")
        )));
    }
    let openid = p.short("openid", 128)?;
    if trade_type == "JSAPI" && openid.is_none() {
        return Err(bad("openid is required for trade_type JSAPI"));
    }
    if trade_type == "NATIVE" && p.get("product_id").is_none() {
        return Err(bad("product_id is required for trade_type NATIVE"));
    }
    p.short("product_id", 32)?;
    let device_info = p.short("device_info", 32)?;
    let total = fen(p.required("total_fee")?, "total_fee")?;
    let fee_type = p.get("fee_type").unwrap_or("CNY");
    let currency = Currency::parse(fee_type)
        .filter(|c| *c == Currency::Cny)
        .ok_or_else(|| bad("fee_type must be CNY"))?;
    let amount = Money::new(total, currency).map_err(|_| bad("total_fee is too large"))?;
    if let Some(t) = p.get("time_start") {
        paydesk_shared::time::parse_v2(t)
            .ok_or_else(|| bad("time_start must be yyyyMMddHHmmss"))?;
    }
    let time_expire = match p.get("time_expire") {
        None => None,
        Some(t) => Some(paydesk_shared::time::format_rfc3339(
            paydesk_shared::time::parse_v2(t)
                .ok_or_else(|| bad("time_expire must be yyyyMMddHHmmss"))?,
        )),
    };
    let create = CreateOrder {
        out_trade_no: out_trade_no.to_owned(),
        amount: Some(amount),
        item_id: None,
        description: body.to_owned(),
        time_expire,
        timeout_action: None,
        notify_url: Some(notify_url.to_owned()),
        attach: p.get("attach").map(str::to_owned),
        tags: None,
        limit_pay: limit_pay(p)?,
        payer_ref: None,
        splits: None,
        contact: None,
    };
    // A retry of the same order carries a new nonce, and SDKs fill time_start/time_expire from
    // the clock: only what defines the order decides whether it is the same.
    let same: Vec<&str> = [
        "out_trade_no",
        "total_fee",
        "body",
        "attach",
        "notify_url",
        "trade_type",
        "openid",
        "product_id",
        "device_info",
    ]
    .iter()
    .map(|k| p.get(k).unwrap_or(""))
    .collect();
    // `limit_pay` joins only when given, so an order made before it was read keeps its
    // fingerprint (a retry of it is still the same order).
    let limited = p
        .get("limit_pay")
        .map_or(String::new(), |v| format!("\u{0}limit_pay={v}"));
    let fingerprint = paydesk_shared::sign::hex_lower(&paydesk_shared::sign::sha256(
        format!("{fee_type}\u{0}{}{limited}", same.join("\u{0}")).as_bytes(),
    ));
    Ok(UnifiedOrder {
        create,
        meta: OrderMeta {
            appid: p.get("appid").unwrap_or_default().to_owned(),
            trade_type: trade_type.to_owned(),
            sign_type: sign_type.as_str().to_owned(),
            prepay_id,
            openid: openid.map(str::to_owned),
            device_info: device_info.map(str::to_owned),
            fee_type: currency.code().to_owned(),
            fingerprint,
        },
    })
}

/// Integer fen: digits only, no sign, no leading zero, within the ledger's range.
pub fn fen(s: &str, name: &str) -> Result<u64, Refusal> {
    let ok = !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_digit());
    let v = if ok && !s.starts_with('0') {
        s.parse::<u64>().ok()
    } else {
        None
    };
    match v {
        Some(v) if v <= MAX_MINOR => Ok(v),
        _ => Err(bad(format!(
            "{name} must be a positive integer number of fen"
        ))),
    }
}

/// A `unifiedorder` for an `out_trade_no` that already has an order: answered with that order
/// (its `prepay_id`) while it is payable and was created with the same parameters (`same`:
/// the fingerprints match); otherwise the protocol's refusal.
pub fn repeat_unified_order(status: OrderStatus, same: bool) -> Result<(), Refusal> {
    match status {
        OrderStatus::Success | OrderStatus::Refund => Err(Refusal::new(
            ErrorCode::OrderPaid,
            "the order is already paid",
        )),
        OrderStatus::Closed => Err(Refusal::new(ErrorCode::OrderClosed, "the order is closed")),
        _ if !same => Err(Refusal::new(
            ErrorCode::OutTradeNoUsed,
            "this out_trade_no was used for a different order",
        )),
        _ => Ok(()),
    }
}

/// A `/secapi/pay/refund` request as read, before the order it names is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundAsk<'a> {
    pub out_refund_no: &'a str,
    pub refund_fee: u64,
    /// The order's total as the merchant restates it.
    pub total_fee: u64,
    pub refund_fee_type: Option<&'a str>,
    pub notify_url: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// Reads a refund request: `out_refund_no`, and `refund_fee` and `total_fee` in fen.
pub fn refund_ask(p: &Params) -> Result<RefundAsk<'_>, Refusal> {
    Ok(RefundAsk {
        out_refund_no: p.required("out_refund_no")?,
        total_fee: fen(p.required("total_fee")?, "total_fee")?,
        refund_fee: fen(p.required("refund_fee")?, "refund_fee")?,
        refund_fee_type: p.get("refund_fee_type"),
        notify_url: p.get("notify_url"),
        reason: p.get("refund_desc"),
    })
}

impl RefundAsk<'_> {
    /// The protocol has the merchant restate the order's `total_fee` (and, if given, its
    /// currency as `refund_fee_type`): both must be the order's. The refund's own limits are
    /// the ledger's.
    pub fn check_order(&self, order_total: u64, order_currency: &str) -> Result<(), Refusal> {
        if self.total_fee != order_total {
            return Err(bad("total_fee must equal the order's total_fee").at("total_fee"));
        }
        if self.refund_fee_type.is_some_and(|c| c != order_currency) {
            return Err(bad("refund_fee_type must be the order's fee_type"));
        }
        Ok(())
    }
}

/// What `refundquery` reports as refunded: the refunds that succeeded or are under way.
pub fn refunded_total(refunds: impl IntoIterator<Item = (RefundStatus, i64)>) -> i64 {
    refunds
        .into_iter()
        .filter(|(s, _)| matches!(s, RefundStatus::Success | RefundStatus::Processing))
        .map(|(_, amount)| amount)
        .sum()
}

/// `prepay_id`: `wx` + 14 digits of UTC+8 time + 20 hex digits (36 characters, as WeChat's).
pub fn prepay_id(now_ms: i64, random: [u8; 10]) -> String {
    format!(
        "wx{}{}",
        paydesk_shared::time::format_v2(now_ms),
        paydesk_shared::sign::hex_lower(&random)
    )
}

/// `refund_id`: `50` + 13 digits of unix ms + 12 hex digits.
pub fn refund_id(now_ms: i64, random: [u8; 6]) -> String {
    format!(
        "50{:013}{}",
        now_ms.max(0),
        paydesk_shared::sign::hex_lower(&random)
    )
}

/// An order's state as `trade_state` and its description.
pub fn trade_state(s: OrderStatus) -> (&'static str, &'static str) {
    match s {
        OrderStatus::NotPay => ("NOTPAY", "订单未支付"),
        // Not payable until the merchant approves: to the protocol, simply not paid yet.
        OrderStatus::PendingApproval => ("NOTPAY", "订单待商户审批"),
        OrderStatus::UserPaying => ("USERPAYING", "用户支付中"),
        OrderStatus::Success => ("SUCCESS", "支付成功"),
        OrderStatus::PayError => ("PAYERROR", "支付失败，请重新支付"),
        OrderStatus::Refund => ("REFUND", "转入退款"),
        OrderStatus::Closed => ("CLOSED", "订单已关闭"),
    }
}

pub fn refund_status(s: RefundStatus) -> &'static str {
    match s {
        RefundStatus::Success => "SUCCESS",
        RefundStatus::Processing => "PROCESSING",
        RefundStatus::Closed => "REFUNDCLOSE",
        RefundStatus::Abnormal => "CHANGE",
    }
}

/// The ledger's refusal in the protocol's words: by its code, and for refunds by its reason
/// (the protocol has three answers where the JSON API has one).
pub fn err_code(r: &Refusal) -> &'static str {
    use ErrorCode::*;
    match (r.code, r.reason) {
        (RefundNotAllowed, Some(Reason::RefundExceedsPaid)) => "NOTENOUGH",
        (RefundNotAllowed, Some(Reason::RefundOrderTooOld)) => "TRADE_OVERDUE",
        (RefundNotAllowed, _) => "ERROR",
        (ParamError, _) => "PARAM_ERROR",
        (FrequencyLimited, _) => "FREQUENCY_LIMITED",
        (OutTradeNoUsed, _) => "OUT_TRADE_NO_USED",
        (OrderPaid, _) => "ORDERPAID",
        (OrderClosed, _) => "ORDERCLOSED",
        (OrderNotExist, _) => "ORDERNOTEXIST",
        (RefundNotExist, _) => "REFUNDNOTEXIST",
        // A payer has the order open: closing must wait, as for a payment in flight.
        (OrderPaying | OrderTooNew, _) => "USERPAYING",
        (OrderNotPaid, _) => "TRADE_STATE_ERROR",
        (OutRefundNoUsed, _) => "INVALID_REQUEST",
        (
            IpNotAllowed | AccountNotAllowed | AccountDormant | SandboxOnly | MerchantFrozen
            | ChannelNotConfigured,
            _,
        ) => "NOAUTH",
        // The papay family: no signed contract by that id, or beyond the plan's limits.
        (ContractNotExist | ContractNotActive, _) => "CONTRACT_NOT_EXIST",
        (ContractAmountExceeded | ContractPeriodLimitExceeded, _) => "RULELIMIT",
        (DailyLimitExceeded, _) => "RULELIMIT",
        (PlanNotExist | PlanIdUsed | ContractCodeUsed, _) => "INVALID_REQUEST",
        _ => "SYSTEMERROR",
    }
}

/// A refused operation as the protocol answers it: `result_code` FAIL with `err_code` and its
/// description. `None` is a failure on our side, which the protocol says to retry.
pub fn result_fail(refusal: Option<&Refusal>) -> Vec<(String, String)> {
    let (code, des) = match refusal {
        Some(r) => (err_code(r), r.message.as_str()),
        None => (
            "SYSTEMERROR",
            "something went wrong on our side; retry with the same parameters",
        ),
    };
    vec![
        ("result_code".into(), "FAIL".into()),
        ("err_code".into(), code.into()),
        ("err_code_des".into(), des.into()),
    ]
}

/// What the protocol's answers and notifications say about an order.
pub struct OrderFacts<'a> {
    pub meta: Option<&'a OrderMeta>,
    pub out_trade_no: &'a str,
    pub transaction_id: &'a str,
    pub status: OrderStatus,
    pub total_fee: u64,
    pub fee_type: &'a str,
    pub attach: Option<&'a str>,
    pub paid_at_ms: Option<i64>,
    /// `card` or `wallet` once paid.
    pub method: Option<&'a str>,
}

/// The order's fields as `orderquery` and the payment notification carry them.
pub fn order_fields(f: &OrderFacts) -> Vec<(String, String)> {
    let (state, desc) = trade_state(f.status);
    let paid = matches!(f.status, OrderStatus::Success | OrderStatus::Refund);
    let mut out: Vec<(&str, String)> = vec![
        ("out_trade_no", f.out_trade_no.to_owned()),
        ("transaction_id", f.transaction_id.to_owned()),
        ("trade_state", state.to_owned()),
        ("trade_state_desc", desc.to_owned()),
        ("total_fee", f.total_fee.to_string()),
        ("fee_type", f.fee_type.to_owned()),
        ("attach", f.attach.unwrap_or_default().to_owned()),
    ];
    if let Some(m) = f.meta {
        out.push(("trade_type", m.trade_type.clone()));
        out.push(("device_info", m.device_info.clone().unwrap_or_default()));
        out.push(("openid", m.openid.clone().unwrap_or_default()));
    }
    if paid {
        out.push(("is_subscribe", "N".into()));
        out.push(("cash_fee", f.total_fee.to_string()));
        out.push(("cash_fee_type", f.fee_type.to_owned()));
        // The wallet pays from balance (WeChat Pay's CFT); cards are "another bank". `method`
        // is what the ledger stores: `PayMethod::as_str`.
        let bank = if f.method == Some(PayMethod::Balance.as_str()) {
            "CFT"
        } else {
            "OTHERS"
        };
        out.push(("bank_type", bank.into()));
        if let Some(at) = f.paid_at_ms {
            out.push(("time_end", paydesk_shared::time::format_v2(at)));
        }
    }
    out.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The payment result notification for a paid order (the protocol's 支付结果通知), signed as
/// the order was created (its `sign_type`), with `sign_type` among the signed fields. A
/// deduction from a contract (`trade_type` PAP) is the papay family's 扣款结果通知: it also
/// names its `contract_id` and its `trade_state`.
pub fn payment_notification(
    f: &OrderFacts,
    contract_id: Option<&str>,
    mch_id: &str,
    nonce_str: &str,
    key: &str,
) -> Option<String> {
    let meta = f.meta?;
    let st = SignType::parse(&meta.sign_type).unwrap_or_default();
    let mut fields: Vec<(String, String)> = vec![
        ("return_code".into(), "SUCCESS".into()),
        ("return_msg".into(), "OK".into()),
        ("appid".into(), meta.appid.clone()),
        ("mch_id".into(), mch_id.to_owned()),
        ("nonce_str".into(), nonce_str.to_owned()),
        ("sign_type".into(), st.as_str().into()),
        ("result_code".into(), "SUCCESS".into()),
    ];
    fields.extend(
        order_fields(f)
            .into_iter()
            // Not part of the notification: it is always a success.
            .filter(|(k, _)| k != "trade_state" && k != "trade_state_desc"),
    );
    if meta.trade_type == "PAP" {
        fields.push((
            "contract_id".into(),
            contract_id.unwrap_or_default().to_owned(),
        ));
        fields.push(("trade_state".into(), "SUCCESS".into()));
    }
    Some(signed_document(fields, key, st))
}

/// Adds `sign` over every non-empty field and writes the document.
pub fn signed_document(mut fields: Vec<(String, String)>, key: &str, st: SignType) -> String {
    fields.retain(|(_, v)| !v.is_empty());
    let sign = paydesk_shared::sign::params::sign(
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        key,
        st,
    );
    fields.push(("sign".into(), sign));
    paydesk_shared::v2xml::write(&fields)
}

/// Whether a merchant's answer to a notification acknowledges it: XML with `return_code`
/// SUCCESS. Anything else (FAIL, text, HTML) means "deliver again later".
pub fn is_ack(body: &str) -> bool {
    paydesk_shared::v2xml::parse(body.trim())
        .is_ok_and(|f| f.iter().any(|(k, v)| k == "return_code" && v == "SUCCESS"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn native() -> Vec<(&'static str, &'static str)> {
        vec![
            ("appid", "wx2421b1c4370ec43b"),
            ("mch_id", "mch_0123456789abcdef"),
            ("nonce_str", "1add1a30ac87aa2db72f57a2375d8fec"),
            ("sign", "X"),
            ("body", "Coffee"),
            ("out_trade_no", "1415659990"),
            ("total_fee", "100"),
            ("spbill_create_ip", "14.23.150.211"),
            ("notify_url", "https://shop.example/notify"),
            ("trade_type", "NATIVE"),
            ("product_id", "P1"),
            ("time_start", "20261127120000"),
            ("time_expire", "20261127140000"),
        ]
    }

    fn with(base: Vec<(&'static str, &'static str)>, k: &'static str, v: &'static str) -> Params {
        let mut b: Vec<_> = base.into_iter().filter(|(n, _)| *n != k).collect();
        b.push((k, v));
        params(&b)
    }

    #[test]
    fn a_repeated_unified_order() {
        assert_eq!(repeat_unified_order(OrderStatus::NotPay, true), Ok(()));
        assert_eq!(repeat_unified_order(OrderStatus::PayError, true), Ok(()));
        assert_eq!(
            repeat_unified_order(OrderStatus::NotPay, false)
                .unwrap_err()
                .code,
            ErrorCode::OutTradeNoUsed
        );
        // A paid or closed order says so, whatever the parameters.
        for (st, code) in [
            (OrderStatus::Success, ErrorCode::OrderPaid),
            (OrderStatus::Refund, ErrorCode::OrderPaid),
            (OrderStatus::Closed, ErrorCode::OrderClosed),
        ] {
            assert_eq!(repeat_unified_order(st, true).unwrap_err().code, code);
            assert_eq!(repeat_unified_order(st, false).unwrap_err().code, code);
        }
    }

    #[test]
    fn refund_requests() {
        let base = vec![
            ("out_trade_no", "1415659990"),
            ("out_refund_no", "R1"),
            ("total_fee", "1000"),
            ("refund_fee", "300"),
        ];
        let p = params(&base);
        let ask = refund_ask(&p).unwrap();
        assert_eq!(
            (ask.out_refund_no, ask.refund_fee, ask.total_fee),
            ("R1", 300, 1000)
        );
        assert_eq!(ask.check_order(1000, "CNY"), Ok(()));
        assert!(ask
            .check_order(999, "CNY")
            .unwrap_err()
            .message
            .contains("total_fee"));
        let usd = with(base.clone(), "refund_fee_type", "USD");
        assert!(refund_ask(&usd).unwrap().check_order(1000, "CNY").is_err());
        for (k, v) in [
            ("out_refund_no", ""),
            ("refund_fee", "3.00"),
            ("total_fee", "0"),
        ] {
            let r = refund_ask(&with(base.clone(), k, v)).unwrap_err();
            assert_eq!(r.code, ErrorCode::ParamError, "{k}={v}");
        }
        assert_eq!(
            refunded_total([
                (RefundStatus::Success, 100),
                (RefundStatus::Processing, 20),
                (RefundStatus::Closed, 5),
                (RefundStatus::Abnormal, 7),
            ]),
            120
        );
    }

    #[test]
    fn return_fail_is_an_unsigned_document() {
        let doc = return_fail(fail_msg::SIGN);
        let f = paydesk_shared::v2xml::parse(&doc).unwrap();
        assert_eq!(
            f,
            vec![
                ("return_code".to_owned(), "FAIL".to_owned()),
                ("return_msg".to_owned(), "签名错误".to_owned())
            ]
        );
    }

    #[test]
    fn paths() {
        assert_eq!(Op::from_path("/pay/unifiedorder"), Some(Op::UnifiedOrder));
        assert_eq!(Op::from_path("/secapi/pay/refund"), Some(Op::Refund));
        assert_eq!(Op::from_path("/pay/refundquery"), Some(Op::RefundQuery));
        assert_eq!(Op::from_path("/pay/micropay"), None);
        assert_eq!(Op::UnifiedOrder.rate_kind(), RateKind::Create);
        assert_eq!(Op::Refund.rate_kind(), RateKind::Refund);
        assert_eq!(Op::OrderQuery.rate_kind(), RateKind::Query);
    }

    #[test]
    fn envelope_fields() {
        let env = |p: &Params| envelope(p, false);
        assert_eq!(env(&params(&native())), Ok(SignType::Md5));
        assert_eq!(
            env(&with(native(), "sign_type", "HMAC-SHA256")),
            Ok(SignType::HmacSha256)
        );
        assert_eq!(
            env(&with(native(), "sign_type", "SHA1")),
            Err(fail_msg::SIGN_TYPE)
        );
        assert_eq!(
            env(&with(native(), "sign", "")),
            Err(fail_msg::SIGN_MISSING)
        );
        assert_eq!(
            env(&with(native(), "nonce_str", "x".repeat(33).leak())),
            Err(fail_msg::NONCE)
        );
        assert_eq!(env(&with(native(), "appid", "")), Err(fail_msg::APPID));
        // The papay family may omit the nonce (wechatpy does), never send a bad one.
        let no_nonce = with(native(), "nonce_str", "");
        assert_eq!(env(&no_nonce), Err(fail_msg::NONCE));
        assert_eq!(envelope(&no_nonce, true), Ok(SignType::Md5));
        assert_eq!(
            envelope(&with(native(), "nonce_str", "x".repeat(33).leak()), true),
            Err(fail_msg::NONCE)
        );
    }

    #[test]
    fn unified_order_maps_onto_the_ledger() {
        let u = unified_order(&params(&native()), SignType::Md5, "wx1".into()).unwrap();
        assert_eq!(u.create.out_trade_no, "1415659990");
        assert_eq!(u.create.amount.unwrap().total, 100);
        assert_eq!(u.create.amount.unwrap().currency, Currency::Cny);
        assert_eq!(u.create.description, "Coffee");
        // 14:00 in UTC+8 is 06:00 UTC.
        assert_eq!(
            u.create.time_expire.as_deref(),
            Some("2026-11-27T06:00:00Z")
        );
        assert_eq!(
            u.create.notify_url.as_deref(),
            Some("https://shop.example/notify")
        );
        assert_eq!(u.meta.trade_type, "NATIVE");
        assert_eq!(u.meta.sign_type, "MD5");
        assert_eq!(u.meta.prepay_id, "wx1");
        assert_eq!(u.create.limit_pay, None);
        let debit = unified_order(
            &with(native(), "limit_pay", "no_credit"),
            SignType::Md5,
            "wx2".into(),
        )
        .unwrap();
        assert_eq!(
            debit.create.limit_pay,
            Some(vec![PayMethod::Balance, PayMethod::BankCard])
        );
        assert_ne!(debit.meta.fingerprint, u.meta.fingerprint, "another order");
        let odd = with(native(), "limit_pay", "pcredit");
        assert!(unified_order(&odd, SignType::Md5, "wx3".into()).is_err());
    }

    #[test]
    fn the_same_order_again_despite_new_nonce_and_times() {
        let a = unified_order(&params(&native()), SignType::Md5, "wx1".into()).unwrap();
        let mut again = with(native(), "nonce_str", "other");
        again = with(
            again
                .0
                .iter()
                .map(|(k, v)| (&*k.clone().leak(), &*v.clone().leak()))
                .collect(),
            "time_expire",
            "20261127150000",
        );
        let b = unified_order(&again, SignType::HmacSha256, "wx2".into()).unwrap();
        assert_eq!(a.meta.fingerprint, b.meta.fingerprint);
        let c = unified_order(
            &with(native(), "total_fee", "101"),
            SignType::Md5,
            "wx3".into(),
        )
        .unwrap();
        assert_ne!(a.meta.fingerprint, c.meta.fingerprint);
    }

    #[test]
    fn unified_order_refusals() {
        let cases: Vec<(Params, &str)> = vec![
            (with(native(), "total_fee", "0"), "total_fee"),
            (with(native(), "total_fee", "01"), "total_fee"),
            (with(native(), "total_fee", "1.5"), "total_fee"),
            (with(native(), "total_fee", "-1"), "total_fee"),
            (
                with(native(), "total_fee", "99999999999999999"),
                "total_fee",
            ),
            (with(native(), "fee_type", "XXX"), "fee_type"),
            (with(native(), "fee_type", "USD"), "fee_type"),
            (with(native(), "trade_type", "APP"), "trade_type"),
            (with(native(), "product_id", ""), "product_id"),
            (with(native(), "trade_type", "JSAPI"), "openid"),
            (with(native(), "time_expire", "2026-11-27"), "time_expire"),
            (with(native(), "time_start", "20261327000000"), "time_start"),
            (with(native(), "body", ""), "body"),
            (with(native(), "notify_url", ""), "notify_url"),
            (with(native(), "spbill_create_ip", ""), "spbill_create_ip"),
            (with(native(), "out_trade_no", ""), "out_trade_no"),
        ];
        for (p, field) in cases {
            let r = unified_order(&p, SignType::Md5, "wx".into());
            let e = r.err().unwrap_or_else(|| panic!("{field} accepted"));
            assert_eq!(e.code, ErrorCode::ParamError);
            assert!(e.message.contains(field), "{field}: {}", e.message);
        }
        let jsapi = with(native(), "trade_type", "JSAPI");
        let jsapi = Params(
            jsapi
                .0
                .into_iter()
                .chain([(
                    "openid".to_string(),
                    "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_string(),
                )])
                .collect(),
        );
        assert!(unified_order(&jsapi, SignType::Md5, "wx".into()).is_ok());
    }

    #[test]
    fn ids_look_like_wechat_pay_ids() {
        let ms = paydesk_shared::time::parse_rfc3339("2026-11-27T12:00:00Z").unwrap();
        let p = prepay_id(ms, [0xab; 10]);
        assert_eq!(p.len(), 36);
        assert!(p.starts_with("wx20261127200000abab"));
        let r = refund_id(ms, [1; 6]);
        assert_eq!(r.len(), 27);
        assert!(r.starts_with("50"));
    }

    #[test]
    fn states_and_codes() {
        assert_eq!(trade_state(OrderStatus::Success).0, "SUCCESS");
        assert_eq!(trade_state(OrderStatus::Refund).0, "REFUND");
        assert_eq!(trade_state(OrderStatus::NotPay).0, "NOTPAY");
        assert_eq!(trade_state(OrderStatus::PendingApproval).0, "NOTPAY");
        assert_eq!(trade_state(OrderStatus::Closed).0, "CLOSED");
        assert_eq!(trade_state(OrderStatus::UserPaying).0, "USERPAYING");
        assert_eq!(trade_state(OrderStatus::PayError).0, "PAYERROR");
        assert_eq!(refund_status(RefundStatus::Closed), "REFUNDCLOSE");
        let code = |c: ErrorCode| err_code(&Refusal::new(c, "m"));
        assert_eq!(code(ErrorCode::OrderPaid), "ORDERPAID");
        assert_eq!(code(ErrorCode::OrderClosed), "ORDERCLOSED");
        assert_eq!(code(ErrorCode::OutTradeNoUsed), "OUT_TRADE_NO_USED");
        assert_eq!(code(ErrorCode::OrderNotExist), "ORDERNOTEXIST");
        assert_eq!(code(ErrorCode::FrequencyLimited), "FREQUENCY_LIMITED");
        // Not to be retried: a frozen merchant is not authorised to collect.
        assert_eq!(code(ErrorCode::MerchantFrozen), "NOAUTH");
        // Refund refusals by their reason, never by their words.
        let refund =
            |reason| Refusal::new(ErrorCode::RefundNotAllowed, "any words").because(reason);
        assert_eq!(err_code(&refund(Reason::RefundExceedsPaid)), "NOTENOUGH");
        assert_eq!(
            err_code(&refund(Reason::RefundOrderTooOld)),
            "TRADE_OVERDUE"
        );
        assert_eq!(code(ErrorCode::RefundNotAllowed), "ERROR");
        assert_eq!(code(ErrorCode::SystemError), "SYSTEMERROR");
        let fields = result_fail(Some(&Refusal::new(ErrorCode::OrderPaid, "paid")));
        assert_eq!(fields[1], ("err_code".to_string(), "ORDERPAID".to_string()));
        assert_eq!(result_fail(None)[1].1, "SYSTEMERROR");
    }

    #[test]
    fn the_payment_notification_verifies_with_the_order_sign_type() {
        let u = unified_order(&params(&native()), SignType::HmacSha256, "wx1".into()).unwrap();
        let facts = OrderFacts {
            meta: Some(&u.meta),
            out_trade_no: "1415659990",
            transaction_id: "pd1",
            status: OrderStatus::Success,
            total_fee: 100,
            fee_type: "CNY",
            attach: None,
            paid_at_ms: Some(0),
            method: Some(PayMethod::Balance.as_str()),
        };
        let xml = payment_notification(&facts, None, "mch_1", "n1", "KEY").unwrap();
        let fields = paydesk_shared::v2xml::parse(&xml).unwrap();
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("sign_type"), Some("HMAC-SHA256"));
        assert_eq!(get("result_code"), Some("SUCCESS"));
        assert_eq!(get("total_fee"), Some("100"));
        assert_eq!(get("bank_type"), Some("CFT"));
        assert_eq!(get("time_end"), Some("19700101080000"));
        assert_eq!(get("trade_state"), None);
        assert_eq!(get("attach"), None);
        let pairs = fields.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        assert!(paydesk_shared::sign::params::verify(
            pairs,
            "KEY",
            SignType::HmacSha256,
            get("sign").unwrap()
        ));
        // Orders created through the JSON API have no v2 notification.
        let json_order = OrderFacts {
            meta: None,
            ..facts
        };
        assert!(payment_notification(&json_order, None, "mch_1", "n1", "KEY").is_none());
    }

    #[test]
    fn acknowledgements() {
        assert!(is_ack(
            "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
        ));
        assert!(is_ack("\n<xml><return_code>SUCCESS</return_code></xml>\n"));
        assert!(!is_ack(
            "<xml><return_code><![CDATA[FAIL]]></return_code></xml>"
        ));
        assert!(!is_ack("SUCCESS"));
        assert!(!is_ack("<html>ok</html>"));
        assert!(!is_ack(""));
    }
}
