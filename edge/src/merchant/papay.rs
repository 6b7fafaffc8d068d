//! The papay (withhold contract) family of the v2 XML dialect over the same contracts and
//! deductions as the JSON API: the signing link (`/papay/entrustweb`), `querycontract`,
//! `pappayapply`, `paporderquery`, `deletecontract`, and the signed contract notifications
//! (`change_type` ADD / DELETE). The mapping is `domain::papay`'s.

use super::contracts::ContractRow;
use super::protocol::Entrusted;
use super::store::{EventRow, Ledger, Merchant, Result};
use crate::domain::events::EventKind;
use crate::domain::papay::{self, ContractFacts, ContractKey, ContractMeta};
use crate::domain::v2::{self, fail_msg, OrderMeta, Params};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::sign::params::SignType;

type Fields = Vec<(String, String)>;

fn field(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

impl Ledger<'_> {
    /// `GET /papay/entrustweb`: a link signed with the merchant's key becomes a contract
    /// request (the same link again: the same contract), answered with the contract's page.
    pub fn entrust_web(&self, p: &Params) -> Result<Entrusted> {
        let m = self.merchant_or_fail()?;
        let st = match p.get("sign_type") {
            None => SignType::Md5,
            Some(s) => SignType::parse(s)
                .ok_or_else(|| AppError::param("sign_type", fail_msg::SIGN_TYPE))?,
        };
        if p.get("sign").is_none() || self.v2_signing_key(&m, p, st).is_none() {
            return Err(AppError::code(ErrorCode::SignError, fail_msg::SIGN));
        }
        let (create, meta) = papay::entrust(p, st.as_str(), self.real_now() / 1000)?;
        let meta = serde_json::to_string(&meta)?;
        let c = self.atomically(|l| {
            let m = l.merchant_or_fail()?;
            Ok(l.request_contract(&m, &create, Some(meta))?.0)
        })?;
        Ok(Entrusted {
            contract_url: self.contract_url(&c, &m)?,
        })
    }

    fn contract_by_key(&self, m: &Merchant, p: &Params) -> Result<ContractRow> {
        let missing = || AppError::code(ErrorCode::ContractNotExist, "no such contract");
        let c = match papay::contract_key(p)? {
            ContractKey::Id(id) => self.contract_by_id(id)?.ok_or_else(missing)?,
            ContractKey::Code {
                plan_id,
                contract_code,
            } => self
                .contract(contract_code)?
                .filter(|c| c.plan_id == plan_id)
                .ok_or_else(missing)?,
        };
        self.current_contract(m, &c.contract_code)
    }

    pub fn papay_query_contract(&self, m: &Merchant, p: &Params) -> Result<Fields> {
        let c = self.contract_by_key(m, p)?;
        let meta = contract_meta(&c)?;
        Ok(papay::contract_fields(&facts(&c, meta.as_ref())))
    }

    /// `pappayapply`: a deduction, accepted; its result arrives as the usual payment
    /// notification (and `paporderquery`). The same request again is accepted again only while
    /// the deduction is still to be charged (`papay::repeat_apply`).
    pub fn papay_apply(&self, m: &Merchant, p: &Params, st: SignType) -> Result<Fields> {
        let (contract_id, deduction) = papay::pap_apply(p)?;
        let c = self.contract_by_id(contract_id)?.ok_or_else(|| {
            AppError::code(
                ErrorCode::ContractNotExist,
                "no contract with this contract_id",
            )
        })?;
        let meta = OrderMeta {
            appid: p.get("appid").unwrap_or_default().to_owned(),
            trade_type: "PAP".into(),
            sign_type: st.as_str().into(),
            prepay_id: v2::prepay_id(self.now(m), runtime::random_bytes()),
            openid: None,
            device_info: None,
            fee_type: "CNY".into(),
            fingerprint: String::new(),
        };
        let meta = Some(serde_json::to_string(&meta)?);
        let (order, created) = self.deduct(m, &c.contract_code, &deduction, meta)?;
        if !created {
            papay::repeat_apply(order.status)?;
        }
        Ok(vec![])
    }

    /// `paporderquery`: any order, a deduction's state in the family's words.
    pub fn papay_order_query(&self, m: &Merchant, p: &Params) -> Result<Fields> {
        let o = self.order_queried_by_v2_keys(m, p)?;
        let meta = o.v2()?;
        let mut out = v2::order_fields(&super::v2_dialect::facts(&o, meta.as_ref()));
        let awaiting = o.charge_at_ms.is_some();
        let (state, desc) = papay::pap_trade_state(o.status, awaiting);
        for (k, v) in out.iter_mut() {
            match k.as_str() {
                "trade_state" => *v = state.into(),
                "trade_state_desc" => *v = desc.into(),
                _ => {}
            }
        }
        if let Some(code) = &o.contract_code {
            let id = self.contract(code)?.and_then(|c| c.contract_id);
            out.push(field("contract_id", id.unwrap_or_default()));
        }
        Ok(out)
    }

    /// `deletecontract`: the merchant ends a contract. The remark is required, as WeChat
    /// requires it: without it (and with no `nonce_str`, which the papay calls may leave out)
    /// the signed body is that of a `querycontract`, which could then be replayed to end it.
    pub fn papay_delete_contract(&self, m: &Merchant, p: &Params) -> Result<Fields> {
        p.required("contract_termination_remark")?;
        let remark = p.short("contract_termination_remark", 64)?;
        let c = self.contract_by_key(m, p)?;
        let c = self.terminate_by_merchant(m, &c.contract_code, remark)?;
        Ok(vec![
            field("contract_id", c.contract_id.unwrap_or_default()),
            field("plan_id", c.plan_id),
            field("contract_code", c.contract_code),
        ])
    }

    /// A contract's signing or ending, notified in the dialect it was requested in.
    pub fn render_v2_contract(&self, m: &Merchant, e: &EventRow) -> Result<Option<String>> {
        let signed = match e.kind {
            EventKind::ContractSigned => true,
            EventKind::ContractTerminated => false,
            _ => return Ok(None),
        };
        let Some(c) = self.contract(&e.target)? else {
            return Ok(None);
        };
        let meta = contract_meta(&c)?;
        Ok(papay::contract_notification(
            &facts(&c, meta.as_ref()),
            signed,
            e.created_at_ms,
            m.id(),
            m.row.api_key.peek(),
        ))
    }
}

fn contract_meta(c: &ContractRow) -> Result<Option<ContractMeta>> {
    Ok(c.v2_json
        .as_deref()
        .map(crate::json_text::from_text)
        .transpose()?)
}

fn facts<'a>(c: &'a ContractRow, meta: Option<&'a ContractMeta>) -> ContractFacts<'a> {
    ContractFacts {
        meta,
        contract_code: &c.contract_code,
        plan_id: &c.plan_id,
        contract_id: c.contract_id.as_deref(),
        display_account: &c.display_account,
        status: c.status,
        signed_at_ms: c.signed_at_ms,
        expires_at_ms: c.expires_at_ms,
        terminated_at_ms: c.terminated_at_ms,
        termination_mode: c.termination_mode,
        termination_remark: c.termination_remark.as_deref(),
    }
}
