//! The WeChat Pay v2 XML dialect inside the object: the same ledger, rules and transactions as
//! the JSON API, in the words of the protocol.
//!
//! Every answer is HTTP 200 with an XML document, as the protocol does it: `return_code` FAIL
//! (unsigned) when the request cannot be read or authenticated, otherwise a document signed with
//! the key the request used, whose `result_code` says whether the operation succeeded and, if
//! not, `err_code` says why (`domain::v2::result_fail`, the one place a refusal becomes XML).

use super::protocol::{V2Reply, V2Request};
use super::store::{Ledger, Merchant, OrderRow, RefundRow, Result};
use crate::domain::order_rules;
use crate::domain::v2::{self, fail_msg, Op, OrderFacts, Params};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::{CreateRefund, ErrorCode};
use paydesk_shared::sign::params::SignType;

type Fields = Vec<(String, String)>;

fn field(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

/// A `return_code` FAIL answer.
pub fn return_fail(msg: &str) -> V2Reply {
    V2Reply {
        xml: v2::return_fail(msg),
        bill: None,
    }
}

impl Ledger<'_> {
    pub async fn v2(&self, req: &V2Request) -> Result<V2Reply> {
        let p = &req.params;
        let Some(m) = self.merchant()? else {
            return Ok(return_fail(fail_msg::NO_SUCH_MERCHANT));
        };
        let sign_type = match v2::envelope(p, req.op.is_papay()) {
            Ok(st) => st,
            Err(msg) => return Ok(return_fail(msg)),
        };
        let Some(key) = self.v2_signing_key(&m, p, sign_type) else {
            return Ok(return_fail(fail_msg::SIGN));
        };
        // The allowlist and the rate window commit on their own, as for the JSON API; a request
        // they let through names the merchant's origin.
        let gate = self.atomically(|l| {
            l.check_ip(&m, req.client_ip.as_deref())?;
            l.rate(&m, req.op.rate_kind())
        });
        if gate.is_ok() {
            self.remember_origin()?;
        }
        if req.op == Op::DownloadBill && gate.is_ok() {
            return Ok(self.v2_bill(&m, p));
        }
        // An order handed to the upstream channel is closed there first.
        let gate = match gate {
            Ok(()) if req.op == Op::CloseOrder => {
                let otn = p.get("out_trade_no").unwrap_or_default();
                super::upstream_close::close_there_first(self, otn).await
            }
            gate => gate,
        };
        let result = gate.and_then(|()| {
            self.atomically(|l| {
                let m = l.merchant_or_fail()?;
                l.v2_operation(&m, req.op, p, sign_type)
            })
        });
        let mut fields: Fields = vec![
            field("return_code", "SUCCESS"),
            field("return_msg", "OK"),
            field("appid", p.get("appid").unwrap_or_default()),
            field("mch_id", m.id()),
            field("nonce_str", runtime::random_hex(16)),
        ];
        match result {
            Ok(f) => {
                fields.push(field("result_code", "SUCCESS"));
                fields.extend(f);
            }
            Err(e) => {
                if let AppError::Internal { detail } = &e {
                    worker::console_error!("v2 {:?}: {detail}", req.op);
                }
                fields.extend(v2::result_fail(e.refusal()));
            }
        }
        Ok(V2Reply {
            xml: v2::signed_document(fields, key.peek(), sign_type),
            bill: None,
        })
    }

    fn v2_operation(&self, m: &Merchant, op: Op, p: &Params, st: SignType) -> Result<Fields> {
        match op {
            Op::UnifiedOrder => self.v2_unified_order(m, p, st),
            Op::OrderQuery => {
                let o = self.order_queried_by_v2_keys(m, p)?;
                let meta = o.v2()?;
                Ok(v2::order_fields(&facts(&o, meta.as_ref())))
            }
            Op::CloseOrder => {
                let otn = p
                    .get("out_trade_no")
                    .ok_or_else(|| AppError::param("out_trade_no", "out_trade_no is required"))?;
                self.close_by_merchant(m, otn)?;
                Ok(vec![])
            }
            Op::Refund => self.v2_refund(m, p),
            Op::RefundQuery => self.v2_refund_query(m, p),
            Op::QueryContract => self.papay_query_contract(m, p),
            Op::PapPayApply => self.papay_apply(m, p, st),
            Op::PapOrderQuery => self.papay_order_query(m, p),
            Op::DeleteContract => self.papay_delete_contract(m, p),
            Op::DownloadBill => Err(AppError::internal("downloadbill is answered by v2_bill")),
        }
    }

    /// `downloadbill`: the head of the day's bill for the worker to stream, or the protocol's
    /// failure document.
    fn v2_bill(&self, m: &Merchant, p: &Params) -> V2Reply {
        use crate::domain::bill_rules::{parse_day, BillType};
        use crate::domain::v2::bill_fail as fail;
        let answer = |f| V2Reply {
            xml: fail::document(f),
            bill: None,
        };
        let Some(day) = p
            .get("bill_date")
            .filter(|d| d.len() == 8)
            .and_then(parse_day)
        else {
            return answer(fail::BAD_DATE);
        };
        let bill_type = match p.get("bill_type").unwrap_or("ALL") {
            "REVOKED" => return answer(fail::NO_BILL),
            t => match BillType::parse(t) {
                Some(t) => t,
                None => return answer(fail::BAD_TYPE),
            },
        };
        if p.get("tar_type").is_some() {
            return answer(fail::TAR_TYPE);
        }
        let appid = p.get("appid").unwrap_or_default();
        match self.atomically(|l| l.bill_of(m, day, bill_type, None, appid)) {
            Ok(head) => V2Reply {
                xml: String::new(),
                bill: Some(Box::new(head)),
            },
            Err(e) => answer(match e.refusal().map(|r| r.code) {
                Some(ErrorCode::BillNotExist) => fail::NO_BILL,
                Some(ErrorCode::BillNotReady) => fail::NOT_READY,
                _ => fail::SYSTEM,
            }),
        }
    }

    fn v2_unified_order(&self, m: &Merchant, p: &Params, st: SignType) -> Result<Fields> {
        m.may_collect()?;
        let now = self.now(m);
        let u = v2::unified_order(p, st, v2::prepay_id(now, runtime::random_bytes()))?;
        let o = match self.order(&u.create.out_trade_no)? {
            Some(existing) => {
                let existing = self.current_order(m, &existing.out_trade_no)?;
                let same = existing
                    .v2()?
                    .is_some_and(|meta| meta.fingerprint == u.meta.fingerprint);
                v2::repeat_unified_order(existing.status, same)?;
                existing
            }
            None => {
                let fingerprint = order_rules::fingerprint(&u.create);
                let meta = Some(serde_json::to_string(&u.meta)?);
                self.insert_order(m, &u.create, fingerprint, meta)?
            }
        };
        let meta = o
            .v2()?
            .ok_or_else(|| AppError::internal("v2 order without its details"))?;
        let url = self.wire_order(&o, m)?.checkout_url;
        // NATIVE: a QR code of our pay page. MWEB and JSAPI: the page to send the payer to (there
        // is no WeChat JS bridge here; the pay page is the cashier).
        let url_field = if meta.trade_type == "NATIVE" {
            "code_url"
        } else {
            "mweb_url"
        };
        Ok(vec![
            field("trade_type", meta.trade_type.as_str()),
            field("prepay_id", meta.prepay_id.as_str()),
            field("device_info", meta.device_info.clone().unwrap_or_default()),
            field(url_field, url),
        ])
    }

    /// The order a request names by `transaction_id` or `out_trade_no`, as it stands now.
    pub fn order_by_v2_keys(&self, m: &Merchant, p: &Params) -> Result<OrderRow> {
        self.up_to_date(m, self.order_named_by_v2_keys(p)?)
    }

    /// The same for a query, which writes nothing: read once, and the alarm left as it was when
    /// nothing on the order fell due (`orders.rs`, `queried_order`).
    pub fn order_queried_by_v2_keys(&self, m: &Merchant, p: &Params) -> Result<OrderRow> {
        self.read_as_it_stands(m, self.order_named_by_v2_keys(p)?)
    }

    fn order_named_by_v2_keys(&self, p: &Params) -> Result<OrderRow> {
        if let Some(tid) = p.get("transaction_id") {
            self.order_by_transaction_id(tid)
        } else if let Some(otn) = p.get("out_trade_no") {
            self.order_or_fail(otn)
        } else {
            Err(AppError::param(
                "out_trade_no",
                "out_trade_no or transaction_id is required",
            ))
        }
    }

    fn v2_refund(&self, m: &Merchant, p: &Params) -> Result<Fields> {
        let ask = v2::refund_ask(p)?;
        let o = self.order_by_v2_keys(m, p)?;
        ask.check_order(o.amount_total as u64, &o.currency)?;
        if let Some(url) = ask.notify_url {
            order_rules::check_notify_url(url, self.call.dev)
                .map_err(|msg| AppError::param("notify_url", msg))?;
        }
        let req = CreateRefund {
            out_trade_no: o.out_trade_no.clone(),
            out_refund_no: ask.out_refund_no.to_owned(),
            amount: ask.refund_fee,
            reason: ask.reason.map(str::to_owned),
        };
        let (r, _) = self.create_refund(m, &req, ask.notify_url)?;
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

    /// The refunds a `refundquery` names: by `refund_id`, `out_refund_no`, or all of an order.
    fn refunds_asked(&self, m: &Merchant, p: &Params) -> Result<(OrderRow, Vec<RefundRow>)> {
        let not_found =
            || AppError::code(ErrorCode::RefundNotExist, "no refund matches this query");
        let one = if let Some(id) = p.get("refund_id") {
            Some(self.refund_by_refund_id(id)?.ok_or_else(not_found)?)
        } else if let Some(no) = p.get("out_refund_no") {
            Some(self.refund(no)?.ok_or_else(not_found)?)
        } else {
            None
        };
        let (o, refunds) = match one {
            Some(r) => (self.order_or_fail(&r.out_trade_no)?, vec![r]),
            None => {
                let o = self.order_by_v2_keys(m, p).map_err(|e| match e.refusal() {
                    Some(r) if r.code == ErrorCode::ParamError => AppError::param(
                        "out_trade_no",
                        "one of refund_id, out_refund_no, transaction_id, out_trade_no is required",
                    ),
                    _ => e,
                })?;
                let refunds = self.refunds_of(&o.out_trade_no)?;
                (o, refunds)
            }
        };
        if refunds.is_empty() {
            return Err(not_found());
        }
        Ok((o, refunds))
    }

    fn v2_refund_query(&self, m: &Merchant, p: &Params) -> Result<Fields> {
        let (o, refunds) = self.refunds_asked(m, p)?;
        let total = v2::refunded_total(refunds.iter().map(|r| (r.status, r.amount)));
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
            out.extend([
                field(&format!("out_refund_no_{i}"), r.out_refund_no.as_str()),
                field(
                    &format!("refund_id_{i}"),
                    r.refund_id.clone().unwrap_or_default(),
                ),
                field(&format!("refund_channel_{i}"), "ORIGINAL"),
                field(&format!("refund_fee_{i}"), r.amount.to_string()),
                field(&format!("refund_status_{i}"), v2::refund_status(r.status)),
                field(&format!("refund_recv_accout_{i}"), "原路退回"),
            ]);
            if let Some(at) = r.settled_at_ms {
                let when = paydesk_shared::time::format_v2_dashed(at);
                out.push(field(&format!("refund_success_time_{i}"), when));
            }
        }
        Ok(out)
    }
}

/// What the protocol says about an order, from its row.
pub fn facts<'a>(o: &'a OrderRow, meta: Option<&'a v2::OrderMeta>) -> OrderFacts<'a> {
    OrderFacts {
        meta,
        out_trade_no: &o.out_trade_no,
        transaction_id: &o.transaction_id,
        status: o.status,
        total_fee: o.amount_total as u64,
        fee_type: &o.currency,
        attach: o.attach.as_deref(),
        paid_at_ms: o.paid_at_ms,
        method: o.method.as_deref(),
    }
}
