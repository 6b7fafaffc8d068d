//! The ledger of one merchant: storage access and the glue that applies the pure rules of
//! `domain/` to it. Every handler runs inside a storage transaction (see `atomically`): a
//! refused request changes nothing, an accepted one commits its state change, audit entry and
//! event together.

use super::protocol::{Command, Envelope, MerchantConfig, Reply};
use crate::domain::audit;
use crate::domain::limits::Tier;
use crate::domain::state::{transition, Event};
use crate::runtime;
use paydesk_shared::api::{ErrorCode, Order, PayMethod, TimeoutAction};
use paydesk_shared::sign::token::CheckoutToken;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::{Branding, Currency, Money, OrderStatus};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::ScopedClosure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::{Env, SqlStorage, SqlStorageValue, Storage};

/// Why a command did not succeed: a client error with a stable code, or an internal failure
/// (logged, answered as SYSTEM_ERROR).
#[derive(Debug)]
pub enum Fail {
    Api {
        code: ErrorCode,
        message: String,
        param: Option<String>,
        retry_after: Option<u32>,
    },
    Internal(String),
}

pub fn fail(code: ErrorCode, message: impl Into<String>) -> Fail {
    Fail::Api {
        code,
        message: message.into(),
        param: None,
        retry_after: None,
    }
}

pub fn param_fail(param: &str, message: impl Into<String>) -> Fail {
    Fail::Api {
        code: ErrorCode::ParamError,
        message: message.into(),
        param: Some(param.to_owned()),
        retry_after: None,
    }
}

impl From<worker::Error> for Fail {
    fn from(e: worker::Error) -> Self {
        Fail::Internal(format!("storage: {e}"))
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Self {
        Fail::Internal(format!("json: {e}"))
    }
}

impl Fail {
    pub fn into_reply(self, request_id: &str) -> Reply {
        match self {
            Fail::Api {
                code,
                message,
                param,
                retry_after,
            } => Reply {
                status: code.http_status(),
                body: serde_json::json!({
                    "code": code.as_str(),
                    "message": message,
                    "param": param,
                    "request_id": request_id,
                }),
                retry_after,
            },
            Fail::Internal(detail) => {
                worker::console_error!("request {request_id}: {detail}");
                let code = ErrorCode::SystemError;
                Reply {
                    status: 500,
                    body: serde_json::json!({
                        "code": code.as_str(),
                        "message": "something went wrong on our side; retry later with the same request",
                        "request_id": request_id,
                    }),
                    retry_after: None,
                }
            }
        }
    }
}

impl Reply {
    pub fn json(status: u16, body: &impl Serialize) -> Result<Reply, Fail> {
        Ok(Reply {
            status,
            body: serde_json::to_value(body)?,
            retry_after: None,
        })
    }

    pub fn empty() -> Reply {
        Reply {
            status: 204,
            body: serde_json::Value::Null,
            retry_after: None,
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(extends = js_sys::Object)]
    type TxStorage;

    /// `ctx.storage.transactionSync(fn)`: runs `fn` in a SQLite transaction, rolled back if it
    /// throws. (workers-rs 0.8 does not bind it.)
    #[wasm_bindgen(method, catch, js_name = transactionSync)]
    fn transaction_sync(
        this: &TxStorage,
        f: &ScopedClosure<dyn FnMut() -> Result<JsValue, JsValue>>,
    ) -> Result<JsValue, JsValue>;
}

/// The merchant this object holds.
#[derive(Debug, Clone, Deserialize)]
pub struct MerchantRow {
    pub merchant_id: String,
    pub name: String,
    pub tier: String,
    pub sandbox: i64,
    pub branding_json: String,
    pub config_json: String,
    pub api_key: String,
    pub prev_api_key: Option<String>,
    pub prev_api_key_until_ms: Option<i64>,
    pub dormant: i64,
    pub last_activity_ms: i64,
    pub clock_offset_ms: i64,
    pub origin: String,
    pub webhook_secret: String,
    pub webhook_secret_prev: Option<String>,
    pub webhook_secret_prev_until_ms: Option<i64>,
    pub consecutive_failures: i64,
}

pub struct Merchant {
    pub row: MerchantRow,
    pub tier: Tier,
    pub config: MerchantConfig,
    pub branding: Branding,
}

impl Merchant {
    pub fn sandbox(&self) -> bool {
        self.row.sandbox != 0
    }

    pub fn daily_limit(&self) -> Option<u64> {
        self.config.daily_limit.or(self.tier.default_daily_limit())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OrderRow {
    pub out_trade_no: String,
    pub transaction_id: String,
    pub status: String,
    pub amount_total: i64,
    pub currency: String,
    pub description: String,
    pub item_id: Option<String>,
    pub attach: Option<String>,
    pub tags_json: Option<String>,
    pub limit_pay: String,
    pub notify_url: Option<String>,
    pub timeout_action: String,
    pub reminded: i64,
    pub created_at_ms: i64,
    pub time_expire_ms: i64,
    pub paid_at_ms: Option<i64>,
    pub method: Option<String>,
    pub card_last4: Option<String>,
    pub refunded_total: i64,
    pub opened: i64,
    pub fingerprint: String,
    pub pay_attempts: i64,
    pub pending_until_ms: Option<i64>,
    pub approval_id: Option<String>,
    /// Set for orders created through the v2 XML dialect (`domain::v2::OrderMeta`).
    pub v2_json: Option<String>,
}

pub const ORDER_COLUMNS: &str = "out_trade_no, transaction_id, status, amount_total, currency, \
    description, item_id, attach, tags_json, limit_pay, notify_url, timeout_action, reminded, \
    created_at_ms, time_expire_ms, paid_at_ms, method, card_last4, refunded_total, opened, \
    fingerprint, pay_attempts, pending_until_ms, approval_id, v2_json";

impl OrderRow {
    pub fn status(&self) -> Result<OrderStatus, Fail> {
        OrderStatus::parse(&self.status)
            .ok_or_else(|| Fail::Internal("corrupt order status".into()))
    }

    pub fn amount(&self) -> Result<Money, Fail> {
        let currency = Currency::parse(&self.currency)
            .ok_or_else(|| Fail::Internal("corrupt currency".into()))?;
        Money::new(self.amount_total as u64, currency)
            .map_err(|_| Fail::Internal("corrupt amount".into()))
    }

    pub fn methods(&self) -> Vec<PayMethod> {
        self.limit_pay
            .split(',')
            .filter_map(PayMethod::parse)
            .collect()
    }

    pub fn v2(&self) -> Result<Option<crate::domain::v2::OrderMeta>, Fail> {
        Ok(self
            .v2_json
            .as_deref()
            .map(serde_json::from_str)
            .transpose()?)
    }

    pub fn timeout_action(&self) -> TimeoutAction {
        if self.timeout_action == "remind" {
            TimeoutAction::Remind
        } else {
            TimeoutAction::Close
        }
    }
}

pub struct Ledger<'a> {
    pub sql: &'a SqlStorage,
    pub env: &'a Env,
    pub storage: Storage,
    /// Orders whose status changed in committed transactions: their open pay pages are told.
    pub changed: std::cell::RefCell<Vec<String>>,
}

impl<'a> Ledger<'a> {
    pub fn new(sql: &'a SqlStorage, env: &'a Env, storage: Storage) -> Self {
        Ledger {
            sql,
            env,
            storage,
            changed: Default::default(),
        }
    }

    /// Runs `f` inside one storage transaction; an `Err` rolls every write back. Never nested.
    pub fn atomically<T>(&self, f: impl FnOnce(&Ledger<'a>) -> Result<T, Fail>) -> Result<T, Fail> {
        let mut f = Some(f);
        let mut out: Option<Result<T, Fail>> = None;
        let changes_before = self.changed.borrow().len();
        let mut body = || -> Result<JsValue, JsValue> {
            let r = (f.take().expect("transaction body runs once"))(self);
            let failed = r.is_err();
            out = Some(r);
            if failed {
                Err(JsValue::from_str("paydesk: roll back"))
            } else {
                Ok(JsValue::UNDEFINED)
            }
        };
        let closure = ScopedClosure::borrow_mut(&mut body);
        let tx: &TxStorage = self.storage.as_raw().unchecked_ref();
        let res = tx.transaction_sync(&closure);
        drop(closure);
        let out = match out {
            Some(r) => r,
            None => Err(Fail::Internal(format!("transaction did not run: {res:?}"))),
        };
        if out.is_err() {
            // Rolled back: those changes never happened.
            self.changed.borrow_mut().truncate(changes_before);
        }
        out
    }

    pub fn handle(&self, env: Envelope) -> Result<Reply, Fail> {
        let Envelope {
            request_id: _,
            origin,
            dev,
            command,
        } = env;
        // Notifications built later (by the alarm) link to the pay page on this origin.
        let remember_origin = || {
            self.x(
                "UPDATE merchant SET origin = ? WHERE origin != ?",
                vec![origin.as_str().into(), origin.as_str().into()],
            )
        };
        remember_origin()?;
        let reply = match command {
            Command::CreateMerchant { setup, ensure } => {
                self.atomically(|l| l.create_merchant(*setup, ensure))
            }
            Command::Api(req) => self.api(req, &origin, dev),
            Command::V2(req) => self.v2(req, &origin, dev),
            Command::Admin(action) => self.admin(action, &origin),
            Command::Checkout { out_trade_no } => self.atomically(|l| l.checkout(&out_trade_no)),
            Command::Pay { out_trade_no, pay } => self.pay(&out_trade_no, pay),
        };
        remember_origin()?;
        reply
    }

    // ---- storage helpers ----

    pub fn q<T: DeserializeOwned>(
        &self,
        sql: &str,
        binds: Vec<SqlStorageValue>,
    ) -> Result<Vec<T>, Fail> {
        let binds = if binds.is_empty() { None } else { Some(binds) };
        Ok(self.sql.exec(sql, binds)?.to_array()?)
    }

    pub fn x(&self, sql: &str, binds: Vec<SqlStorageValue>) -> Result<(), Fail> {
        let binds = if binds.is_empty() { None } else { Some(binds) };
        self.sql.exec(sql, binds)?;
        Ok(())
    }

    pub fn merchant(&self) -> Result<Option<Merchant>, Fail> {
        let rows: Vec<MerchantRow> = self.q("SELECT * FROM merchant LIMIT 1", vec![])?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(Merchant {
            tier: Tier::parse(&row.tier).ok_or_else(|| Fail::Internal("corrupt tier".into()))?,
            config: serde_json::from_str(&row.config_json)?,
            branding: serde_json::from_str(&row.branding_json)?,
            row,
        }))
    }

    pub fn merchant_or_fail(&self) -> Result<Merchant, Fail> {
        self.merchant()?
            .ok_or_else(|| fail(ErrorCode::MerchantNotExist, "no such merchant"))
    }

    /// Real wall-clock time (authentication, token expiry).
    pub fn real_now(&self) -> i64 {
        runtime::now_ms()
    }

    /// The merchant's business time: real time moved by its test clock.
    pub fn now(&self, m: &Merchant) -> i64 {
        self.real_now() + m.row.clock_offset_ms
    }

    pub fn order(&self, out_trade_no: &str) -> Result<Option<OrderRow>, Fail> {
        let rows: Vec<OrderRow> = self.q(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE out_trade_no = ?"),
            vec![out_trade_no.into()],
        )?;
        Ok(rows.into_iter().next())
    }

    pub fn order_or_fail(&self, out_trade_no: &str) -> Result<OrderRow, Fail> {
        self.order(out_trade_no)?
            .ok_or_else(|| fail(ErrorCode::OrderNotExist, "no order with this out_trade_no"))
    }

    /// Appends an audit entry chained to the last one.
    pub fn audit(
        &self,
        at_ms: i64,
        actor: &str,
        action: &str,
        target: &str,
        before: &str,
        after: &str,
    ) -> Result<(), Fail> {
        #[derive(Deserialize)]
        struct Last {
            seq: i64,
            hash: String,
        }
        let last: Vec<Last> = self.q(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            vec![],
        )?;
        let (seq, prev) = match last.into_iter().next() {
            Some(l) => (l.seq + 1, l.hash),
            None => (1, audit::GENESIS.to_owned()),
        };
        let record = audit::Record {
            seq,
            at_ms,
            actor,
            action,
            target,
            before,
            after,
        };
        let hash = audit::entry_hash(&prev, &record);
        self.x(
            "INSERT INTO audit (seq, at_ms, actor, action, target, before, after, prev_hash, hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                seq.into(),
                at_ms.into(),
                actor.into(),
                action.into(),
                target.into(),
                before.into(),
                after.into(),
                prev.into(),
                hash.into(),
            ],
        )
    }

    /// Records an event in the same transaction as the change that caused it: the outbox row
    /// a notification is delivered from. Order events carry the whole order (plus `extra`'s
    /// other fields, e.g. a decline code); refund events the refund.
    pub fn event(
        &self,
        at_ms: i64,
        kind: &str,
        target: &str,
        extra: &impl Serialize,
    ) -> Result<(), Fail> {
        let m = self.merchant_or_fail()?;
        let event_id = format!("evt_{}", runtime::random_hex(12));
        let extra = serde_json::to_value(extra)?;
        // Orders created through the v2 dialect are told in its XML, and only what it tells:
        // `Some(None)` records the event without delivering it.
        let mut v2_body: Option<Option<String>> = None;
        let (data, order_key, order_url) = if kind.starts_with("order.") {
            let o = self.order_or_fail(target)?;
            let mut data = serde_json::to_value(self.wire_order(&o, &m.row.origin, &m)?)?;
            if let (Some(d), serde_json::Value::Object(x)) = (data.as_object_mut(), extra) {
                for (k, v) in x {
                    d.entry(k).or_insert(v);
                }
            }
            if let Some(meta) = o.v2()? {
                v2_body = Some(if kind == "order.paid" {
                    let facts = super::v2api::facts(&o, Some(&meta))?;
                    crate::domain::v2::payment_notification(
                        &facts,
                        &m.row.merchant_id,
                        &runtime::random_hex(16),
                        &m.row.api_key,
                    )
                } else {
                    None
                });
            }
            (data, o.out_trade_no.clone(), o.notify_url.clone())
        } else {
            let otn = extra
                .get("out_trade_no")
                .and_then(|v| v.as_str())
                .unwrap_or(target)
                .to_owned();
            let o = self.order(&otn)?;
            if o.as_ref().is_some_and(|o| o.v2_json.is_some()) {
                v2_body = Some(None);
            }
            (extra, otn, o.and_then(|o| o.notify_url))
        };
        let (format, body) = match v2_body {
            Some(xml) => ("v2", xml),
            None => (
                "json",
                Some(
                    serde_json::json!({
                        "id": event_id,
                        "type": kind,
                        "created_at": format_rfc3339(at_ms),
                        "data": data,
                    })
                    .to_string(),
                ),
            ),
        };
        let notify_url = order_url.or_else(|| m.config.notify_url.clone());
        let status = if notify_url.is_some() && body.is_some() {
            "PENDING"
        } else {
            "NONE"
        };
        self.x(
            "INSERT INTO events (event_id, type, target, created_at_ms, data_json, order_key, body, notify_url,
                                 status, next_attempt_at_ms, format)
             VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)",
            vec![
                event_id.into(),
                kind.into(),
                target.into(),
                at_ms.into(),
                order_key.into(),
                body.unwrap_or_default().into(),
                notify_url.into(),
                status.into(),
                at_ms.into(),
                format.into(),
            ],
        )
    }

    /// Moves an order to the status `event` leads to, or fails with the reason it cannot.
    pub fn apply(
        &self,
        o: &OrderRow,
        event: Event,
        at_ms: i64,
        actor: &str,
    ) -> Result<OrderStatus, Fail> {
        let from = o.status()?;
        let to = transition(from, event).map_err(|code| {
            let msg = match code {
                ErrorCode::OrderPaid => "the order is already paid",
                ErrorCode::OrderClosed => "the order is closed",
                ErrorCode::OrderPaying => "a payment of this order is in progress",
                ErrorCode::PendingApproval => "the order awaits the merchant's approval",
                ErrorCode::OrderNotPaid => "the order is not paid",
                ErrorCode::AlreadyApproved => "the order is not awaiting approval",
                _ => "this change is not possible in the order's state",
            };
            fail(code, msg)
        })?;
        self.x(
            "UPDATE orders SET status = ? WHERE out_trade_no = ?",
            vec![to.as_str().into(), o.out_trade_no.as_str().into()],
        )?;
        self.audit(
            at_ms,
            actor,
            &format!("order.{event:?}").to_lowercase(),
            &o.out_trade_no,
            from.as_str(),
            to.as_str(),
        )?;
        self.changed.borrow_mut().push(o.out_trade_no.clone());
        Ok(to)
    }

    /// The order on the wire, with a checkout URL whose token expires a day after the deadline.
    pub fn wire_order(&self, o: &OrderRow, origin: &str, m: &Merchant) -> Result<Order, Fail> {
        let key =
            runtime::checkout_token_key(self.env).map_err(|e| Fail::Internal(format!("{e:?}")))?;
        // The token is checked against real time; the deadline is business time.
        let expires_at = (o.time_expire_ms - m.row.clock_offset_ms) / 1000 + 86_400;
        let token = CheckoutToken {
            merchant_id: m.row.merchant_id.clone(),
            out_trade_no: o.out_trade_no.clone(),
            expires_at,
        }
        .encode(key.peek().as_bytes())
        .ok_or_else(|| Fail::Internal("order number cannot be tokenised".into()))?;
        Ok(Order {
            out_trade_no: o.out_trade_no.clone(),
            transaction_id: o.transaction_id.clone(),
            status: o.status()?,
            amount: o.amount()?,
            description: o.description.clone(),
            created_at: format_rfc3339(o.created_at_ms),
            time_expire: format_rfc3339(o.time_expire_ms),
            checkout_url: format!("{origin}/pay/{token}"),
            paid_at: o.paid_at_ms.map(format_rfc3339),
            method: o.method.as_deref().and_then(PayMethod::parse),
            refunded_total: o.refunded_total as u64,
            attach: o.attach.clone(),
            tags: o
                .tags_json
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            item_id: o.item_id.clone(),
            timeout_action: o.timeout_action(),
            limit_pay: o.methods(),
            approval_id: if o.status()? == OrderStatus::PendingApproval {
                o.approval_id.clone()
            } else {
                None
            },
        })
    }
}
