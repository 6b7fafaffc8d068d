//! The v2 XML dialect inside the merchant object (DESIGN.md §3.2): the same ledger, rules and
//! transactions as the JSON API, in the words of the WeChat Pay v2 protocol.
//!
//! Every answer is HTTP 200 with an XML document, as the protocol does it: `return_code` FAIL
//! (unsigned) when the request cannot be read or authenticated, otherwise a signed document
//! whose `result_code` says whether the operation succeeded and, if not, `err_code` says why.

use super::api::{check_ip, RefundRow, REFUND_COLUMNS};
use super::ledger::{fail, param_fail, Fail, Ledger, Merchant, OrderRow, ORDER_COLUMNS};
use super::protocol::{Reply, V2Request};
use crate::domain::order_rules;
use crate::domain::v2::{self, fail_msg, Op, OrderFacts, Params};
use crate::runtime;
use paydesk_shared::api::{CreateRefund, ErrorCode};
use paydesk_shared::sign::params::{self as v2sign, SignType};

type Fields = Vec<(String, String)>;

fn field(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

/// A `return_code` FAIL answer.
pub fn return_fail(msg: &str) -> Reply {
    xml_reply(v2::return_fail(msg))
}

fn xml_reply(xml: String) -> Reply {
    Reply {
        status: 200,
        body: serde_json::json!({ "xml": xml }),
        retry_after: None,
    }
}

impl Ledger<'_> {
    pub fn v2(&self, req: V2Request, origin: &str, dev: bool) -> Result<Reply, Fail> {
        let p = req.params;
        let Some(m) = self.merchant()? else {
            return Ok(return_fail(fail_msg::NO_SUCH_MERCHANT));
        };
        let sign_type = match v2::envelope(&p) {
            Ok(st) => st,
            Err(msg) => return Ok(return_fail(msg)),
        };
        // The answer is signed with the key the request was signed with.
        let Some(key) = self.v2_signing_key(&m, &p, sign_type) else {
            return Ok(return_fail(fail_msg::SIGN));
        };
        let key = key.to_owned();
        // The allowlist and the rate window commit on their own, as for the JSON API.
        let gate = self.atomically(|l| {
            check_ip(&m, req.client_ip.as_deref())?;
            l.rate(&m, req.op.rate_kind())
        });
        let result = gate.and_then(|()| {
            self.atomically(|l| {
                let m = l.merchant_or_fail()?;
                match req.op {
                    Op::UnifiedOrder => l.v2_unified_order(&m, &p, sign_type, origin, dev),
                    Op::OrderQuery => l.v2_order_query(&m, &p),
                    Op::CloseOrder => {
                        let otn = p.get("out_trade_no").ok_or_else(|| {
                            param_fail("out_trade_no", "out_trade_no is required")
                        })?;
                        l.close_order(&m, otn)?;
                        Ok(vec![])
                    }
                    Op::Refund => l.v2_refund(&m, &p, dev),
                    Op::RefundQuery => l.v2_refund_query(&m, &p),
                }
            })
        });
        let mut fields: Fields = vec![
            field("return_code", "SUCCESS"),
            field("return_msg", "OK"),
            field("appid", p.get("appid").unwrap_or_default()),
            field("mch_id", m.row.merchant_id.as_str()),
            field("nonce_str", runtime::random_hex(16)),
        ];
        match result {
            Ok(f) => {
                fields.push(field("result_code", "SUCCESS"));
                fields.extend(f);
            }
            Err(Fail::Api { code, message, .. }) => {
                fields.push(field("result_code", "FAIL"));
                fields.push(field("err_code", v2::err_code(code, &message)));
                fields.push(field("err_code_des", message));
            }
            Err(Fail::Internal(detail)) => {
                worker::console_error!("v2 {:?}: {detail}", req.op);
                fields.push(field("result_code", "FAIL"));
                fields.push(field("err_code", "SYSTEMERROR"));
                fields.push(field(
                    "err_code_des",
                    "something went wrong on our side; retry with the same parameters",
                ));
            }
        }
        Ok(xml_reply(v2::signed_document(fields, &key, sign_type)))
    }

    /// The key the request is signed with: the current API key, or the previous one during
    /// its grace period; `None` if neither verifies.
    fn v2_signing_key<'m>(&self, m: &'m Merchant, p: &Params, st: SignType) -> Option<&'m str> {
        let received = p.get("sign").unwrap_or_default();
        if v2sign::verify(p.pairs(), &m.row.api_key, st, received) {
            return Some(&m.row.api_key);
        }
        match (&m.row.prev_api_key, m.row.prev_api_key_until_ms) {
            (Some(k), Some(until))
                if self.real_now() <= until && v2sign::verify(p.pairs(), k, st, received) =>
            {
                Some(k)
            }
            _ => None,
        }
    }

    fn v2_unified_order(
        &self,
        m: &Merchant,
        p: &Params,
        st: SignType,
        origin: &str,
        dev: bool,
    ) -> Result<Fields, Fail> {
        m.tier
            .check_allowed()
            .map_err(|c| fail(c, "personal accounts cannot use automatic collection"))?;
        let now = self.now(m);
        let u = v2::unified_order(p, st, v2::prepay_id(now, runtime::random_bytes()))
            .map_err(|r| param_fail("body", r.des))?;
        let o = match self.order(&u.create.out_trade_no)? {
            Some(existing) => {
                self.run_due_for(m, &existing.out_trade_no)?;
                let existing = self.order_or_fail(&existing.out_trade_no)?;
                let same = existing
                    .v2()?
                    .is_some_and(|meta| meta.fingerprint == u.meta.fingerprint);
                v2::repeat_unified_order(existing.status()?, same)
                    .map_err(|(code, msg)| fail(code, msg))?;
                existing
            }
            None => self.insert_order(
                m,
                &u.create,
                order_rules::fingerprint(&u.create),
                Some(serde_json::to_string(&u.meta)?),
                origin,
                dev,
            )?,
        };
        let meta = o
            .v2()?
            .ok_or_else(|| Fail::Internal("v2 order without its details".into()))?;
        let url = self.wire_order(&o, origin, m)?.checkout_url;
        let mut out = vec![
            field("trade_type", meta.trade_type.as_str()),
            field("prepay_id", meta.prepay_id.as_str()),
            field("device_info", meta.device_info.clone().unwrap_or_default()),
        ];
        // NATIVE: a QR code of our pay page. MWEB and JSAPI: the page to send the payer to (there
        // is no WeChat JS bridge here; the pay page is the cashier).
        if meta.trade_type == "NATIVE" {
            out.push(field("code_url", url));
        } else {
            out.push(field("mweb_url", url));
        }
        Ok(out)
    }

    fn order_by_v2_keys(&self, m: &Merchant, p: &Params) -> Result<OrderRow, Fail> {
        let o = if let Some(tid) = p.get("transaction_id") {
            let rows: Vec<OrderRow> = self.q(
                &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE transaction_id = ?"),
                vec![tid.into()],
            )?;
            rows.into_iter().next().ok_or_else(|| {
                fail(
                    ErrorCode::OrderNotExist,
                    "no order with this transaction_id",
                )
            })?
        } else if let Some(otn) = p.get("out_trade_no") {
            self.order_or_fail(otn)?
        } else {
            return Err(param_fail(
                "out_trade_no",
                "out_trade_no or transaction_id is required",
            ));
        };
        // Deadlines that fell due are applied before anyone is told the state.
        self.run_due_for(m, &o.out_trade_no)?;
        self.order_or_fail(&o.out_trade_no)
    }

    fn v2_order_query(&self, m: &Merchant, p: &Params) -> Result<Fields, Fail> {
        let o = self.order_by_v2_keys(m, p)?;
        let meta = o.v2()?;
        Ok(v2::order_fields(&facts(&o, meta.as_ref())?))
    }

    fn v2_refund(&self, m: &Merchant, p: &Params, dev: bool) -> Result<Fields, Fail> {
        let ask = v2::refund_ask(p).map_err(|r| param_fail("body", r.des))?;
        let o = self.order_by_v2_keys(m, p)?;
        ask.check_order(o.amount_total as u64, &o.currency)
            .map_err(|r| param_fail("total_fee", r.des))?;
        if let Some(url) = ask.notify_url {
            order_rules::check_notify_url(url, dev).map_err(|msg| param_fail("notify_url", msg))?;
        }
        let req = CreateRefund {
            out_trade_no: o.out_trade_no.clone(),
            out_refund_no: ask.out_refund_no.to_owned(),
            amount: ask.refund_fee,
            reason: ask.reason.map(str::to_owned),
        };
        let (r, _) = self.refund_create(m, &req, ask.notify_url)?;
        Ok(vec![
            field("transaction_id", o.transaction_id.as_str()),
            field("out_trade_no", o.out_trade_no.as_str()),
            field("out_refund_no", r.out_refund_no.as_str()),
            field("refund_id", r.refund_id.clone().unwrap_or_default()),
            field("refund_fee", r.amount.to_string()),
            field("total_fee", o.amount_total.to_string()),
            field("fee_type", o.currency.as_str()),
            field("cash_fee", o.amount_total.to_string()),
            field("cash_refund_fee", r.amount.to_string()),
        ])
    }

    fn v2_refund_query(&self, m: &Merchant, p: &Params) -> Result<Fields, Fail> {
        let not_found = || fail(ErrorCode::RefundNotExist, "no refund matches this query");
        let (o, refunds) = if let Some(id) = p.get("refund_id") {
            let rows: Vec<RefundRow> = self.q(
                &format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE refund_id = ?"),
                vec![id.into()],
            )?;
            let r = rows.into_iter().next().ok_or_else(not_found)?;
            (self.order_or_fail(&r.out_trade_no)?, vec![r])
        } else if let Some(no) = p.get("out_refund_no") {
            let r = self.refund(no)?.ok_or_else(not_found)?;
            (self.order_or_fail(&r.out_trade_no)?, vec![r])
        } else {
            let o = self.order_by_v2_keys(m, p).map_err(|e| match e {
                Fail::Api {
                    code: ErrorCode::ParamError,
                    ..
                } => param_fail(
                    "out_trade_no",
                    "one of refund_id, out_refund_no, transaction_id, out_trade_no is required",
                ),
                other => other,
            })?;
            let rows: Vec<RefundRow> = self.q(
                &format!(
                    "SELECT {REFUND_COLUMNS} FROM refunds WHERE out_trade_no = ? ORDER BY created_at_ms, out_refund_no"
                ),
                vec![o.out_trade_no.as_str().into()],
            )?;
            (o, rows)
        };
        if refunds.is_empty() {
            return Err(not_found());
        }
        let total = v2::refunded_total(refunds.iter().map(|r| (r.wire().status, r.amount)));
        let mut out = vec![
            field("transaction_id", o.transaction_id.as_str()),
            field("out_trade_no", o.out_trade_no.as_str()),
            field("total_fee", o.amount_total.to_string()),
            field("cash_fee", o.amount_total.to_string()),
            field("fee_type", o.currency.as_str()),
            field("refund_fee", total.to_string()),
            field("refund_count", refunds.len().to_string()),
        ];
        for (i, r) in refunds.iter().enumerate() {
            let w = r.wire();
            out.push(field(
                &format!("out_refund_no_{i}"),
                r.out_refund_no.as_str(),
            ));
            out.push(field(
                &format!("refund_id_{i}"),
                r.refund_id.clone().unwrap_or_default(),
            ));
            out.push(field(&format!("refund_channel_{i}"), "ORIGINAL"));
            out.push(field(&format!("refund_fee_{i}"), r.amount.to_string()));
            out.push(field(
                &format!("refund_status_{i}"),
                v2::refund_status(w.status),
            ));
            out.push(field(&format!("refund_recv_accout_{i}"), "原路退回"));
            if let Some(at) = r.settled_at_ms {
                out.push(field(
                    &format!("refund_success_time_{i}"),
                    paydesk_shared::time::format_v2_dashed(at),
                ));
            }
        }
        Ok(out)
    }
}

/// What the protocol says about an order, from its row.
pub fn facts<'a>(o: &'a OrderRow, meta: Option<&'a v2::OrderMeta>) -> Result<OrderFacts<'a>, Fail> {
    Ok(OrderFacts {
        meta,
        out_trade_no: &o.out_trade_no,
        transaction_id: &o.transaction_id,
        status: o.status()?,
        total_fee: o.amount_total as u64,
        fee_type: &o.currency,
        attach: o.attach.as_deref(),
        paid_at_ms: o.paid_at_ms,
        method: o.method.as_deref(),
    })
}
