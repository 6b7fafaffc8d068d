//! The papay (withhold contract) family of the v2 XML dialect, as WeChat Pay's 委托代扣 and the
//! SDKs that speak it (wechatpy's `WeChatWithhold`): how its requests map onto the ledger's
//! contracts and deductions, and how contracts read in the protocol's words. Pure, tested
//! natively; `merchant/papay.rs` is the glue.
//!
//! Lenient where the real clients are: wechatpy sends a 13-digit `request_serial` (the protocol
//! says at most 12), no `nonce_str` on `querycontract` / `deletecontract`, and may omit
//! `contract_termination_remark`.

use super::refusal::Refusal;
use super::v2::{bad, fen, Params};
use paydesk_shared::contract::{ContractStatus, CreateContract, CreateDeduction, TerminationMode};
use serde::{Deserialize, Serialize};

/// How far a signing link's `timestamp` may lie from now: a day back (the contract could not be
/// signed later anyway), five minutes ahead (clock skew).
pub const ENTRUST_MAX_AGE_S: i64 = 24 * 3600;
pub const ENTRUST_MAX_AHEAD_S: i64 = 300;

/// What a contract requested through the dialect remembers for its answers and notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractMeta {
    pub appid: String,
    pub request_serial: String,
    pub sign_type: String,
}

/// `GET /papay/entrustweb`: the signed link a merchant sends the payer to, as a contract
/// request. `now_s` is real time (the link's `timestamp` is the merchant's clock).
pub fn entrust(
    p: &Params,
    sign_type: &str,
    now_s: i64,
) -> Result<(CreateContract, ContractMeta), Refusal> {
    let version = p.required("version")?;
    if version != "1.0" {
        return Err(bad("version must be 1.0"));
    }
    let ts: i64 = p
        .required("timestamp")?
        .parse()
        .map_err(|_| bad("timestamp must be unix seconds"))?;
    if ts < now_s - ENTRUST_MAX_AGE_S || ts > now_s + ENTRUST_MAX_AHEAD_S {
        return Err(bad(
            "timestamp is too old or in the future; ask the merchant for a new link",
        ));
    }
    let serial = p.required("request_serial")?;
    if serial.len() > 19 || !serial.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("request_serial must be at most 19 digits"));
    }
    let create = CreateContract {
        plan_id: p.required("plan_id")?.to_owned(),
        contract_code: p.required("contract_code")?.to_owned(),
        display_account: p.required("contract_display_account")?.to_owned(),
        notify_url: Some(p.required("notify_url")?.to_owned()),
        payer_ref: p.short("outerid", 64)?.map(str::to_owned),
        contact: None,
    };
    let meta = ContractMeta {
        appid: p.get("appid").unwrap_or_default().to_owned(),
        request_serial: serial.to_owned(),
        sign_type: sign_type.to_owned(),
    };
    Ok((create, meta))
}

/// Which contract a request names: `contract_id`, or `plan_id` with `contract_code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractKey<'a> {
    Id(&'a str),
    Code {
        plan_id: &'a str,
        contract_code: &'a str,
    },
}

pub fn contract_key(p: &Params) -> Result<ContractKey<'_>, Refusal> {
    if let Some(id) = p.get("contract_id") {
        return Ok(ContractKey::Id(id));
    }
    match (p.get("plan_id"), p.get("contract_code")) {
        (Some(plan_id), Some(contract_code)) => Ok(ContractKey::Code {
            plan_id,
            contract_code,
        }),
        _ => Err(bad(
            "contract_id, or plan_id with contract_code, is required",
        )),
    }
}

/// `POST /pay/pappayapply`: the contract it charges (by id) and the deduction.
pub fn pap_apply(p: &Params) -> Result<(&str, CreateDeduction), Refusal> {
    if p.required("trade_type")? != "PAP" {
        return Err(bad("trade_type must be PAP"));
    }
    if p.get("fee_type").is_some_and(|f| f != "CNY") {
        return Err(bad("fee_type must be CNY"));
    }
    let contract_id = p.required("contract_id")?;
    let deduction = CreateDeduction {
        out_trade_no: p.required("out_trade_no")?.to_owned(),
        amount: fen(p.required("total_fee")?, "total_fee")?,
        description: p.required("body")?.to_owned(),
        attach: p.short("attach", 127)?.map(str::to_owned),
        notify_url: Some(p.required("notify_url")?.to_owned()),
    };
    Ok((contract_id, deduction))
}

/// `contract_state`: 0 signed and in force; 1 not signed, or ended.
pub fn contract_state(s: ContractStatus) -> &'static str {
    if s == ContractStatus::Active {
        "0"
    } else {
        "1"
    }
}

/// `contract_termination_mode`: 1 the term ran out, 2 the payer ended it, 3 the merchant did
/// through the API.
pub fn termination_mode(m: TerminationMode) -> &'static str {
    match m {
        TerminationMode::Expiry => "1",
        TerminationMode::Payer => "2",
        TerminationMode::Merchant => "3",
    }
}

/// A deduction's `trade_state`: `ACCEPT` while announced and not charged, `PAY_FAIL` when the
/// charge failed; otherwise as any order's.
pub fn pap_trade_state(
    status: paydesk_shared::OrderStatus,
    awaiting_charge: bool,
) -> (&'static str, &'static str) {
    use paydesk_shared::OrderStatus::*;
    match status {
        NotPay | PendingApproval if awaiting_charge => ("ACCEPT", "已受理，等待扣款"),
        PayError => ("PAY_FAIL", "扣款失败"),
        s => super::v2::trade_state(s),
    }
}

/// A `pappayapply` repeated for an `out_trade_no` that already holds the same deduction: accepted
/// again only while it is still to be charged; one paid, closed or declined is the protocol's
/// refusal, as `unifiedorder`'s repeat is (`v2::repeat_unified_order`), never a new SUCCESS the
/// merchant would wait on in vain.
pub fn repeat_apply(status: paydesk_shared::OrderStatus) -> Result<(), Refusal> {
    use paydesk_shared::api::ErrorCode;
    use paydesk_shared::OrderStatus::*;
    match status {
        PayError => Err(Refusal::new(
            ErrorCode::OutTradeNoUsed,
            "this deduction was declined: ask again under a new out_trade_no",
        )),
        s => super::v2::repeat_unified_order(s, true),
    }
}

/// What the protocol says about a contract: `querycontract`'s fields, and the body of its
/// signing and ending notifications.
pub struct ContractFacts<'a> {
    pub meta: Option<&'a ContractMeta>,
    pub contract_code: &'a str,
    pub plan_id: &'a str,
    pub contract_id: Option<&'a str>,
    pub display_account: &'a str,
    pub status: ContractStatus,
    pub signed_at_ms: Option<i64>,
    pub expires_at_ms: Option<i64>,
    pub terminated_at_ms: Option<i64>,
    pub termination_mode: Option<TerminationMode>,
    pub termination_remark: Option<&'a str>,
}

type Fields = Vec<(String, String)>;

fn time(ms: Option<i64>) -> String {
    ms.map(paydesk_shared::time::format_v2_dashed)
        .unwrap_or_default()
}

/// `querycontract`'s answer (empty values are left out of the document).
pub fn contract_fields(f: &ContractFacts) -> Fields {
    let mode = f.termination_mode.map(termination_mode).unwrap_or("0");
    [
        ("contract_id", f.contract_id.unwrap_or_default().to_owned()),
        ("plan_id", f.plan_id.to_owned()),
        (
            "request_serial",
            f.meta.map(|m| m.request_serial.clone()).unwrap_or_default(),
        ),
        ("contract_code", f.contract_code.to_owned()),
        ("contract_display_account", f.display_account.to_owned()),
        ("contract_state", contract_state(f.status).to_owned()),
        ("contract_signed_time", time(f.signed_at_ms)),
        ("contract_expired_time", time(f.expires_at_ms)),
        ("contract_terminated_time", time(f.terminated_at_ms)),
        ("contract_termination_mode", mode.to_owned()),
        (
            "contract_termination_remark",
            f.termination_remark.unwrap_or_default().to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The signing (`ADD`) or ending (`DELETE`) notification of a contract requested through the
/// dialect, signed as it was requested. It is rendered again for each attempt (and for
/// `GET /v1/notifications/{id}`), so `ADD` leaves out what only an ending sets (its time, mode
/// and remark, which WeChat sends with `DELETE` only): a contract ended while its signing was still
/// being retried must not change the signing notice's bytes.
pub fn contract_notification(
    f: &ContractFacts,
    signed: bool,
    operate_time_ms: i64,
    mch_id: &str,
    key: &str,
) -> Option<String> {
    let meta = f.meta?;
    let st = paydesk_shared::sign::params::SignType::parse(&meta.sign_type).unwrap_or_default();
    let mut fields: Fields = [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("result_code", "SUCCESS"),
        ("mch_id", mch_id),
        ("appid", meta.appid.as_str()),
        ("change_type", if signed { "ADD" } else { "DELETE" }),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    fields.push(("operate_time".into(), time(Some(operate_time_ms))));
    let ending = |k: &str| k.starts_with("contract_termin");
    fields.extend(contract_fields(f).into_iter().filter(|(k, _)| {
        !matches!(k.as_str(), "contract_state" | "contract_display_account")
            && if signed {
                !ending(k)
            } else {
                k != "contract_signed_time"
            }
    }));
    Some(super::v2::signed_document(fields, key, st))
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_shared::OrderStatus;

    const NOW: i64 = 1_795_778_560;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_repeated_deduction_is_accepted_only_while_still_to_be_charged() {
        use paydesk_shared::api::ErrorCode;
        assert_eq!(repeat_apply(OrderStatus::NotPay), Ok(()));
        assert_eq!(repeat_apply(OrderStatus::PendingApproval), Ok(()));
        for (st, code) in [
            (OrderStatus::Success, ErrorCode::OrderPaid),
            (OrderStatus::Refund, ErrorCode::OrderPaid),
            (OrderStatus::Closed, ErrorCode::OrderClosed),
            (OrderStatus::PayError, ErrorCode::OutTradeNoUsed),
        ] {
            assert_eq!(repeat_apply(st).unwrap_err().code, code);
        }
    }

    fn signing(serial: &str, ts: i64) -> Params {
        let ts = ts.to_string();
        params(&[
            ("appid", "wx1"),
            ("mch_id", "mch_1"),
            ("plan_id", "12535"),
            ("contract_code", "C-1"),
            ("request_serial", serial),
            ("contract_display_account", "alice"),
            ("notify_url", "https://shop.example.com/papay"),
            ("version", "1.0"),
            ("timestamp", ts.leak()),
            ("sign", "x"),
        ])
    }

    #[test]
    fn a_signing_link_is_a_contract_request() {
        // wechatpy's 13-digit serial (milliseconds) is accepted.
        let (c, meta) = entrust(&signing("1795778560123", NOW), "MD5", NOW).unwrap();
        assert_eq!(
            (
                c.plan_id.as_str(),
                c.contract_code.as_str(),
                c.display_account.as_str()
            ),
            ("12535", "C-1", "alice")
        );
        assert_eq!(
            c.notify_url.as_deref(),
            Some("https://shop.example.com/papay")
        );
        assert_eq!(meta.request_serial, "1795778560123");
        assert!(entrust(&signing("12a", NOW), "MD5", NOW).is_err());
        assert!(entrust(&signing(&"1".repeat(20), NOW), "MD5", NOW).is_err());
        assert!(entrust(&signing("1", NOW - ENTRUST_MAX_AGE_S - 1), "MD5", NOW).is_err());
        assert!(entrust(&signing("1", NOW + ENTRUST_MAX_AHEAD_S + 1), "MD5", NOW).is_err());
        assert!(entrust(&signing("1", NOW - ENTRUST_MAX_AGE_S), "MD5", NOW).is_ok());
        let mut v = signing("1", NOW);
        v.0.retain(|(k, _)| k != "notify_url");
        assert!(entrust(&v, "MD5", NOW).is_err());
    }

    #[test]
    fn contracts_are_named_by_id_or_plan_and_code() {
        assert_eq!(
            contract_key(&params(&[("contract_id", "1")])),
            Ok(ContractKey::Id("1"))
        );
        assert_eq!(
            contract_key(&params(&[("plan_id", "2"), ("contract_code", "C")])),
            Ok(ContractKey::Code {
                plan_id: "2",
                contract_code: "C"
            })
        );
        assert!(contract_key(&params(&[("contract_code", "C")])).is_err());
    }

    #[test]
    fn a_deduction_request() {
        let p = params(&[
            ("trade_type", "PAP"),
            ("contract_id", "201512040000000001"),
            ("out_trade_no", "PAP-0001"),
            ("total_fee", "990"),
            ("body", "December"),
            ("notify_url", "https://shop.example.com/paid"),
        ]);
        let (id, d) = pap_apply(&p).unwrap();
        assert_eq!(
            (id, d.amount, d.description.as_str()),
            ("201512040000000001", 990, "December")
        );
        let mut native = p.clone();
        native.0[0].1 = "NATIVE".into();
        assert!(pap_apply(&native).is_err());
        let mut zero = p;
        zero.0[3].1 = "0".into();
        assert!(pap_apply(&zero).is_err());
    }

    #[test]
    fn contract_notifications_are_signed_and_say_what_changed() {
        let meta = ContractMeta {
            appid: "wx1".into(),
            request_serial: "1795778560123".into(),
            sign_type: "MD5".into(),
        };
        let facts = ContractFacts {
            meta: Some(&meta),
            contract_code: "C-1",
            plan_id: "12535",
            contract_id: Some("202612040000000001"),
            display_account: "alice",
            status: ContractStatus::Terminated,
            signed_at_ms: Some(NOW * 1000),
            expires_at_ms: None,
            terminated_at_ms: Some(NOW * 1000 + 60_000),
            termination_mode: Some(TerminationMode::Payer),
            termination_remark: None,
        };
        let xml =
            contract_notification(&facts, false, NOW * 1000 + 60_000, "mch_1", "key").unwrap();
        let fields = paydesk_shared::v2xml::parse(&xml).unwrap();
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("change_type"), Some("DELETE"));
        assert_eq!(get("contract_termination_mode"), Some("2"));
        assert_eq!(get("request_serial"), Some("1795778560123"));
        assert_eq!(
            get("contract_expired_time"),
            None,
            "empty fields are left out"
        );
        let signed: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| k != "sign")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let sign = paydesk_shared::sign::params::sign(
            signed,
            "key",
            paydesk_shared::sign::params::SignType::Md5,
        );
        assert_eq!(get("sign"), Some(sign.as_str()));
        // The signing notice of the same contract, rendered after it ended (a retry): the same
        // bytes as while it was active.
        let active = ContractFacts {
            status: ContractStatus::Active,
            terminated_at_ms: None,
            termination_mode: None,
            ..facts
        };
        let add = |f: &ContractFacts| contract_notification(f, true, NOW * 1000, "mch_1", "key");
        assert_eq!(add(&facts), add(&active));
        assert!(!add(&facts).unwrap().contains("contract_termin"));
        let no_meta = ContractFacts {
            meta: None,
            ..facts
        };
        assert_eq!(
            contract_notification(&no_meta, true, 0, "mch_1", "key"),
            None
        );
    }

    #[test]
    fn states_in_the_protocols_words() {
        assert_eq!(contract_state(ContractStatus::Active), "0");
        for s in [
            ContractStatus::Pending,
            ContractStatus::Terminated,
            ContractStatus::Expired,
        ] {
            assert_eq!(contract_state(s), "1");
        }
        assert_eq!(termination_mode(TerminationMode::Expiry), "1");
        assert_eq!(termination_mode(TerminationMode::Payer), "2");
        assert_eq!(termination_mode(TerminationMode::Merchant), "3");
        assert_eq!(pap_trade_state(OrderStatus::NotPay, true).0, "ACCEPT");
        assert_eq!(pap_trade_state(OrderStatus::NotPay, false).0, "NOTPAY");
        assert_eq!(pap_trade_state(OrderStatus::PayError, false).0, "PAY_FAIL");
        assert_eq!(pap_trade_state(OrderStatus::Success, false).0, "SUCCESS");
    }
}
