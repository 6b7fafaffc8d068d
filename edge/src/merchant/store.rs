//! The merchant object's storage: the [`Ledger`] handle every capability works through, the row
//! types and their columns, typed finders, the one transaction helper, and the two records every
//! change leaves behind (an audit entry chained to the last, an event written as data). Nothing
//! here decides anything: capabilities ask `domain/` and write through this.

use super::kept::Kept;
use super::protocol::{Call, MerchantConfig};
use crate::config::Secret;
use crate::domain::alarm_rules::DueChange;
use crate::domain::audit;
use crate::domain::events::{DeliveryStatus, EventKind, Format};
use crate::domain::export_rules::AuditRef;
use crate::domain::keys;
use crate::domain::limits::{self, Tier};
use crate::domain::refusal::Refusal;
use crate::domain::state::{advance, Event};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::{ErrorCode, Order, PayMethod, Refund, TimeoutAction};
use paydesk_shared::sign::token::{CheckoutToken, ContractToken};
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::{Branding, Currency, Money, OrderStatus, RefundStatus};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::closure::ScopedClosure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::{Env, SqlStorage, SqlStorageValue, Storage};

pub type Result<T> = std::result::Result<T, AppError>;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(extends = js_sys::Object)]
    type TxStorage;

    /// `ctx.storage.transactionSync(fn)`: runs `fn` in a SQLite transaction, rolled back if it
    /// throws. (workers-rs 0.8 does not bind it.)
    #[wasm_bindgen(method, catch, js_name = transactionSync)]
    fn transaction_sync(
        this: &TxStorage,
        f: &ScopedClosure<dyn FnMut() -> std::result::Result<JsValue, JsValue>>,
    ) -> std::result::Result<JsValue, JsValue>;
}

/// The merchant this object holds.
#[derive(Debug, Clone, Deserialize)]
pub struct MerchantRow {
    pub merchant_id: String,
    pub name: String,
    pub tier: Tier,
    pub sandbox: i64,
    pub branding_json: String,
    pub config_json: String,
    pub api_key: Secret,
    pub prev_api_key: Option<Secret>,
    pub prev_api_key_until_ms: Option<i64>,
    pub dormant: i64,
    pub last_activity_ms: i64,
    pub clock_offset_ms: i64,
    /// The origin the merchant's requests last came to: notifications built by the alarm link
    /// to the pay page there.
    pub origin: String,
    pub webhook_secret: Secret,
    pub webhook_secret_prev: Option<Secret>,
    pub webhook_secret_prev_until_ms: Option<i64>,
    pub consecutive_failures: i64,
    /// A member of a fund pool: its group.
    pub group_id: Option<String>,
    /// When an operator last lifted a risk freeze (`merchant/risk.rs`): rates are judged
    /// from then on.
    #[serde(default)]
    pub unfrozen_at_ms: Option<i64>,
    /// When and why a risk rule or an operator froze it (`merchant/risk.rs`), while it is.
    #[serde(default)]
    pub frozen_at_ms: Option<i64>,
    #[serde(default)]
    pub frozen_reason: Option<String>,
    /// When the platform approved its application to collect live money
    /// (`merchant/onboarding.rs`).
    #[serde(default)]
    pub approved_at_ms: Option<i64>,
}

#[derive(Clone)]
pub struct Merchant {
    pub row: MerchantRow,
    pub config: MerchantConfig,
    pub branding: Branding,
}

impl Merchant {
    pub fn id(&self) -> &str {
        &self.row.merchant_id
    }

    pub fn tier(&self) -> Tier {
        self.row.tier
    }

    pub fn sandbox(&self) -> bool {
        self.row.sandbox != 0
    }

    /// Whether it may take orders and be paid: its tier allows it, and a live merchant's
    /// application was approved (a sandbox merchant collects test money from the start).
    pub fn may_collect(&self) -> std::result::Result<(), Refusal> {
        limits::may_collect(
            self.tier(),
            self.sandbox() || self.row.approved_at_ms.is_some(),
        )
    }

    pub fn daily_limit(&self) -> Option<u64> {
        self.config
            .daily_limit
            .or(self.row.tier.default_daily_limit())
    }

    pub fn is_dormant(&self, now: i64) -> bool {
        self.row.dormant != 0 || limits::is_dormant(self.row.last_activity_ms, now)
    }

    /// The API keys a request may be signed with now: the JSON API, the v2 dialect.
    pub fn api_keys(&self, real_now: i64) -> Vec<&Secret> {
        let r = &self.row;
        keys::valid_now(
            &r.api_key,
            r.prev_api_key.as_ref(),
            r.prev_api_key_until_ms,
            real_now,
        )
    }

    /// The webhook secrets a notification is signed with now: one `v1` each.
    pub fn webhook_secrets(&self, real_now: i64) -> Vec<&Secret> {
        let r = &self.row;
        keys::valid_now(
            &r.webhook_secret,
            r.webhook_secret_prev.as_ref(),
            r.webhook_secret_prev_until_ms,
            real_now,
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderRow {
    pub out_trade_no: String,
    pub transaction_id: String,
    pub status: OrderStatus,
    pub amount_total: i64,
    pub currency: String,
    pub description: String,
    pub item_id: Option<String>,
    pub attach: Option<String>,
    pub tags_json: Option<String>,
    pub limit_pay: String,
    pub notify_url: Option<String>,
    pub timeout_action: TimeoutAction,
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
    /// Set for a contract's deductions.
    pub contract_code: Option<String>,
    /// A deduction's charge time (business time), until it is charged.
    pub charge_at_ms: Option<i64>,
    /// A subscription's invoice: which subscription, which period, and how much of it is usage.
    pub subscription_id: Option<String>,
    pub period_index: Option<i64>,
    pub usage_amount: Option<i64>,
    /// A part of an installment plan: which plan, which part.
    pub plan_no: Option<String>,
    pub part_index: Option<i64>,
    pub payer_ref: Option<String>,
    /// Escrow of a paid order (`merchant/escrow.rs`).
    pub held_until_ms: Option<i64>,
    pub released_at_ms: Option<i64>,
    pub fulfilled_at_ms: Option<i64>,
    pub auto_refund_at_ms: Option<i64>,
    pub auto_refunded: i64,
    /// Its payment is in the risk review queue (`merchant/reviews.rs`).
    #[serde(default)]
    pub in_review: i64,
    /// How many of its refunds are in progress (kept by triggers, migration 37).
    #[serde(default)]
    pub refunding: i64,
    /// The ledger owes the payer the rest of the payment: nothing of it is released (migration
    /// 38, `merchant/refunds.rs`).
    #[serde(default)]
    pub refund_owed: i64,
    /// The fee of a paid order, what refunds gave back of it, its rate (basis points).
    pub fee: Option<i64>,
    pub fee_refunded: i64,
    pub fee_rate_bp: Option<i64>,
    /// Profit-sharing splits (`[{receiver_id, amount}]`), booked on release.
    pub splits_json: Option<String>,
    /// The channel of its last payment attempt (`merchant/channels.rs`).
    #[serde(default)]
    pub channel: Option<String>,
    /// The payer's contact, masked (the sealed one is read only to reach them).
    #[serde(default)]
    pub contact_masked: Option<String>,
    /// The merchant's display name when it was paid (migration 37).
    #[serde(default)]
    pub paid_to: Option<String>,
}

/// The answer about an order number this merchant never used.
pub fn no_such_order() -> AppError {
    AppError::code(ErrorCode::OrderNotExist, "no order with this out_trade_no")
}

pub const ORDER_COLUMNS: &str = "out_trade_no, transaction_id, status, amount_total, currency, \
    description, item_id, attach, tags_json, limit_pay, notify_url, timeout_action, reminded, \
    created_at_ms, time_expire_ms, paid_at_ms, method, card_last4, refunded_total, opened, \
    fingerprint, pay_attempts, pending_until_ms, approval_id, v2_json, contract_code, charge_at_ms, \
    subscription_id, period_index, usage_amount, plan_no, part_index, \
    payer_ref, held_until_ms, released_at_ms, fulfilled_at_ms, auto_refund_at_ms, auto_refunded, \
    fee, fee_refunded, fee_rate_bp, splits_json, in_review, refunding, refund_owed, channel, contact_masked, paid_to";

impl OrderRow {
    pub fn amount(&self) -> Result<Money> {
        let currency = Currency::parse(&self.currency)
            .ok_or_else(|| AppError::internal("corrupt currency"))?;
        Money::new(self.amount_total as u64, currency)
            .map_err(|_| AppError::internal("corrupt amount"))
    }

    pub fn methods(&self) -> Vec<PayMethod> {
        self.limit_pay
            .split(',')
            .filter_map(PayMethod::parse)
            .collect()
    }

    pub fn v2(&self) -> Result<Option<crate::domain::v2::OrderMeta>> {
        Ok(self
            .v2_json
            .as_deref()
            .map(crate::json_text::from_text)
            .transpose()?)
    }

    /// What decides whether anything falls due for it.
    pub fn deadlines(&self) -> crate::domain::order_rules::Deadlines {
        crate::domain::order_rules::Deadlines {
            status: self.status,
            time_expire_ms: self.time_expire_ms,
            timeout_action: self.timeout_action,
            reminded: self.reminded != 0,
            pending_until_ms: self.pending_until_ms,
            charge_at_ms: self.charge_at_ms,
        }
    }

    /// The dialect its events are delivered in.
    pub fn format(&self) -> Format {
        if self.v2_json.is_some() {
            Format::V2
        } else {
            Format::Json
        }
    }
}

pub const REFUND_COLUMNS: &str = "out_refund_no, out_trade_no, amount, reason, status, \
    created_at_ms, fingerprint, approval_id, refund_id, settled_at_ms";

#[derive(Debug, Clone, Deserialize)]
pub struct RefundRow {
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub amount: i64,
    pub reason: Option<String>,
    pub status: RefundStatus,
    pub created_at_ms: i64,
    pub fingerprint: String,
    pub approval_id: Option<String>,
    pub refund_id: Option<String>,
    pub settled_at_ms: Option<i64>,
}

impl RefundRow {
    pub fn wire(&self) -> Refund {
        Refund {
            out_refund_no: self.out_refund_no.clone(),
            out_trade_no: self.out_trade_no.clone(),
            amount: self.amount as u64,
            status: self.status,
            created_at: format_rfc3339(self.created_at_ms),
            reason: self.reason.clone(),
            approval_id: if self.status == RefundStatus::Processing {
                self.approval_id.clone()
            } else {
                None
            },
        }
    }
}

pub const EVENT_COLUMNS: &str =
    "seq, event_id, type, target, order_key, created_at_ms, data_json, notify_url, status, \
    attempts, next_attempt_at_ms, delivered_at_ms, body, format";

/// An event and where its delivery stands (the outbox row).
#[derive(Debug, Clone, Deserialize)]
pub struct EventRow {
    pub seq: i64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub target: String,
    pub order_key: String,
    pub created_at_ms: i64,
    /// The event's data (the order or refund as it was), JSON.
    pub data_json: String,
    pub notify_url: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at_ms: Option<i64>,
    pub delivered_at_ms: Option<i64>,
    /// The rendered body of events recorded before events were kept as data; empty since.
    pub body: String,
    pub format: Format,
}

/// An event about to be recorded.
pub struct NewEvent<'a> {
    pub kind: EventKind,
    /// The order, refund or contract it is about.
    pub target: &'a str,
    /// What it belongs to (an order, a contract): their events are delivered in order.
    pub order_key: &'a str,
    pub data: serde_json::Value,
    pub url: Option<String>,
    pub format: Format,
}

pub struct Ledger<'a> {
    pub sql: &'a SqlStorage,
    pub env: &'a Env,
    pub storage: Storage,
    /// Who asked (the alarm asks as the merchant's last origin).
    pub call: Call,
    /// Orders whose status changed in committed transactions: their open pay pages are told.
    pub changed: std::cell::RefCell<Vec<String>>,
    /// Who is acting for the merchant in this call: `api_key:<id>` (the API key that
    /// authenticated it, `domain::keys::key_id`) or `console:<email>` (a signed-in console
    /// user). The audit log names them as the actor of what the merchant did.
    pub acting_key: std::cell::RefCell<Option<String>>,
    /// Real time held still while the test clock walks (`admin::advance_clock`), so what falls
    /// due runs at exactly its own business time however long the walk takes.
    pub pinned_now: std::cell::Cell<Option<i64>>,
    /// A committed change left work for the upstream channel (a refund to push).
    pub upstream_due: std::cell::Cell<bool>,
    /// What the command did to the times things fall due, when it knows exactly: the object
    /// then reschedules its alarm without reading every due time (`MerchantDO::schedule_alarm`).
    pub due_change: std::cell::Cell<DueChange>,
    /// Where its statements are counted (`merchant/sql_meter.rs`).
    pub meter: &'a super::sql_meter::Tally,
    /// The merchant row and the audit chain's head as last read or written, kept by the object
    /// across requests (`merchant/kept.rs`): read once, not on every request nor by every
    /// capability that needs them. Only this object writes its row, every such statement goes
    /// through [`Ledger::q`] or [`Ledger::x`], which forget it; [`Ledger::audit`] keeps the
    /// head it appends; a rolled-back transaction forgets both, so what is kept is what SQLite
    /// holds.
    kept: &'a Kept<Merchant>,
}

impl<'a> Ledger<'a> {
    pub fn new(
        sql: &'a SqlStorage,
        env: &'a Env,
        storage: Storage,
        call: Call,
        meter: &'a super::sql_meter::Tally,
        kept: &'a Kept<Merchant>,
    ) -> Self {
        Ledger {
            meter,
            kept,
            sql,
            env,
            storage,
            call,
            changed: Default::default(),
            acting_key: Default::default(),
            pinned_now: Default::default(),
            upstream_due: Default::default(),
            due_change: Default::default(),
        }
    }

    /// What the object keeps between requests (`merchant/kept.rs`).
    pub fn kept(&self) -> &'a Kept<Merchant> {
        self.kept
    }

    /// Runs `f` inside one storage transaction; an `Err` rolls every write back. Never nested.
    pub fn atomically<T>(&self, f: impl FnOnce(&Ledger<'a>) -> Result<T>) -> Result<T> {
        let mut f = Some(f);
        let mut out: Option<Result<T>> = None;
        let changes_before = self.changed.borrow().len();
        let mut body = || -> std::result::Result<JsValue, JsValue> {
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
        if res.is_err() {
            // Rolled back (or not committed): a row read or written inside may never have been
            // stored.
            self.kept.forget();
        }
        let out = out.unwrap_or_else(|| {
            Err(AppError::internal(format!(
                "transaction did not run: {res:?}"
            )))
        });
        if out.is_err() {
            // Rolled back: those changes never happened.
            self.changed.borrow_mut().truncate(changes_before);
        }
        out
    }

    pub fn q<T: DeserializeOwned>(&self, sql: &str, binds: Vec<SqlStorageValue>) -> Result<Vec<T>> {
        let binds = if binds.is_empty() { None } else { Some(binds) };
        self.forget_merchant_if_written(sql);
        let cursor = self.sql.exec(sql, binds)?;
        let rows = cursor.to_array()?;
        self.meter.count(cursor.rows_read(), cursor.rows_written());
        Ok(rows)
    }

    pub fn x(&self, sql: &str, binds: Vec<SqlStorageValue>) -> Result<()> {
        let binds = if binds.is_empty() { None } else { Some(binds) };
        self.forget_merchant_if_written(sql);
        let cursor = self.sql.exec(sql, binds)?;
        self.meter.count(cursor.rows_read(), cursor.rows_written());
        Ok(())
    }

    /// Every statement that changes the merchant row begins like this (`UPDATE merchant SET`,
    /// `INSERT INTO merchant`); after one, the row is read afresh.
    fn forget_merchant_if_written(&self, sql: &str) {
        let s = sql.trim_start();
        if s.starts_with("UPDATE merchant") || s.starts_with("INSERT INTO merchant") {
            self.kept.forget_merchant();
        }
    }

    /// A query answering one number in a column named `v` (a `MIN`, `SUM` or `MAX`): `None`
    /// when it is NULL or there is no row.
    pub fn number(&self, sql: &str, binds: Vec<SqlStorageValue>) -> Result<Option<i64>> {
        #[derive(serde::Deserialize)]
        struct V {
            v: Option<i64>,
        }
        Ok(self.first::<V>(sql, binds)?.and_then(|r| r.v))
    }

    /// The first row of a query, if any.
    pub fn first<T: DeserializeOwned>(
        &self,
        sql: &str,
        binds: Vec<SqlStorageValue>,
    ) -> Result<Option<T>> {
        Ok(self.q(sql, binds)?.into_iter().next())
    }

    pub fn merchant(&self) -> Result<Option<Merchant>> {
        if let Some(m) = self.kept.merchant() {
            return Ok(Some(m));
        }
        let Some(row) = self.first::<MerchantRow>("SELECT * FROM merchant LIMIT 1", vec![])? else {
            return Ok(None);
        };
        let m = Merchant {
            config: crate::json_text::from_text(&row.config_json)?,
            branding: crate::json_text::from_text(&row.branding_json)?,
            row,
        };
        self.kept.keep_merchant(&m);
        Ok(Some(m))
    }

    pub fn merchant_or_fail(&self) -> Result<Merchant> {
        self.merchant()?
            .ok_or_else(|| AppError::code(ErrorCode::MerchantNotExist, "no such merchant"))
    }

    /// Real wall-clock time (authentication, token expiry).
    pub fn real_now(&self) -> i64 {
        self.pinned_now.get().unwrap_or_else(runtime::now_ms)
    }

    /// The merchant's business time: real time moved by its test clock.
    pub fn now(&self, m: &Merchant) -> i64 {
        self.real_now() + m.row.clock_offset_ms
    }

    pub fn order(&self, out_trade_no: &str) -> Result<Option<OrderRow>> {
        self.first(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE out_trade_no = ?"),
            vec![out_trade_no.into()],
        )
    }

    pub fn order_or_fail(&self, out_trade_no: &str) -> Result<OrderRow> {
        self.order(out_trade_no)?.ok_or_else(no_such_order)
    }

    pub fn order_by_transaction_id(&self, transaction_id: &str) -> Result<OrderRow> {
        self.first(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE transaction_id = ?"),
            vec![transaction_id.into()],
        )?
        .ok_or_else(|| {
            AppError::code(
                ErrorCode::OrderNotExist,
                "no order with this transaction_id",
            )
        })
    }

    pub fn refund(&self, out_refund_no: &str) -> Result<Option<RefundRow>> {
        self.first(
            &format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE out_refund_no = ?"),
            vec![out_refund_no.into()],
        )
    }

    /// A refund known to exist (its id came from storage in this transaction).
    pub fn refund_known(&self, out_refund_no: &str) -> Result<RefundRow> {
        self.refund(out_refund_no)?
            .ok_or_else(|| AppError::internal(format!("refund {out_refund_no} vanished")))
    }

    pub fn refund_by_refund_id(&self, refund_id: &str) -> Result<Option<RefundRow>> {
        self.first(
            &format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE refund_id = ?"),
            vec![refund_id.into()],
        )
    }

    pub fn refunds_of(&self, out_trade_no: &str) -> Result<Vec<RefundRow>> {
        self.q(
            &format!(
                "SELECT {REFUND_COLUMNS} FROM refunds WHERE out_trade_no = ? ORDER BY created_at_ms, out_refund_no"
            ),
            vec![out_trade_no.into()],
        )
    }

    pub fn event_row(&self, event_id: &str) -> Result<Option<EventRow>> {
        self.first(
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?"),
            vec![event_id.into()],
        )
    }

    /// The open delivery alert, if any.
    pub fn open_alert(&self) -> Result<Option<i64>> {
        #[derive(Deserialize)]
        struct A {
            seq: i64,
        }
        Ok(self
            .first::<A>(
                "SELECT seq FROM alerts WHERE cleared_at_ms IS NULL AND kind = 'notifications.failing'
                 ORDER BY seq DESC LIMIT 1",
                vec![],
            )?
            .map(|a| a.seq))
    }

    /// Who acted, as the audit chain names them: the merchant API is the key that
    /// authenticated (`api_key:<id>`).
    pub fn actor_name(&self, actor: &str) -> String {
        match (actor, self.acting_key.borrow().as_deref()) {
            ("merchant_api", Some(who)) => who.to_owned(),
            _ => actor.to_owned(),
        }
    }

    /// The audit chain's last entry (`None` while the chain is empty), read once and then kept
    /// by the object (`merchant/kept.rs`).
    pub fn audit_head(&self) -> Result<Option<AuditRef>> {
        if let Some(head) = self.kept.audit_head() {
            return Ok(head);
        }
        let head: Option<AuditRef> = self.first(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            vec![],
        )?;
        self.kept.keep_audit_head(head.clone());
        Ok(head)
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
    ) -> Result<()> {
        let named = self.actor_name(actor);
        let record = audit::Record {
            seq: 0,
            at_ms,
            actor: named.as_str(),
            action,
            target,
            before,
            after,
        };
        if self.chain(record)? {
            return Ok(());
        }
        // The kept head was not the chain's (only a rollback the object did not see could do
        // that): read it from SQLite and chain again.
        self.kept.forget_audit_head();
        if self.chain(record)? {
            return Ok(());
        }
        Err(AppError::internal(
            "the audit chain's head moved while appending",
        ))
    }

    /// Appends `r` after the head as the object knows it (`Ledger::audit_head`), only if that
    /// is still the chain's last entry: `false`, and nothing written, when it is not. The guard
    /// reads one entry of the primary key, so a stale head can never fork the chain.
    fn chain(&self, r: audit::Record<'_>) -> Result<bool> {
        let (seq, prev) = match self.audit_head()? {
            Some(l) => (l.seq + 1, l.hash),
            None => (1, audit::GENESIS.to_owned()),
        };
        let hash = audit::entry_hash(&prev, &audit::Record { seq, ..r });
        let appended = self.number(
            "INSERT INTO audit (seq, at_ms, actor, action, target, before, after, prev_hash, hash)
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
              WHERE COALESCE((SELECT MAX(seq) FROM audit), 0) = ?
             RETURNING seq AS v",
            vec![
                seq.into(),
                r.at_ms.into(),
                r.actor.into(),
                r.action.into(),
                r.target.into(),
                r.before.into(),
                r.after.into(),
                prev.into(),
                hash.as_str().into(),
                (seq - 1).into(),
            ],
        )?;
        if appended.is_none() {
            return Ok(false);
        }
        self.kept.keep_audit_head(Some(AuditRef { seq, hash }));
        Ok(true)
    }

    /// Moves an order to the status `event` leads to (audited), or refuses with the reason it
    /// cannot.
    pub fn apply(
        &self,
        o: &OrderRow,
        event: Event,
        at_ms: i64,
        actor: &str,
    ) -> Result<OrderStatus> {
        let to = advance(o.status, event)?;
        self.x(
            "UPDATE orders SET status = ? WHERE out_trade_no = ?",
            vec![to.as_str().into(), o.out_trade_no.as_str().into()],
        )?;
        self.audit(
            at_ms,
            actor,
            &format!("order.{event:?}").to_lowercase(),
            &o.out_trade_no,
            o.status.as_str(),
            to.as_str(),
        )?;
        self.changed.borrow_mut().push(o.out_trade_no.clone());
        Ok(to)
    }

    /// Records an order event: its data is the order as it is now, plus `extra`'s other fields
    /// (a decline code, an approval id). Written in the transaction of the change it reports.
    pub fn order_event(
        &self,
        m: &Merchant,
        at_ms: i64,
        kind: EventKind,
        out_trade_no: &str,
        extra: serde_json::Value,
    ) -> Result<()> {
        let o = self.order_or_fail(out_trade_no)?;
        let mut data = serde_json::to_value(self.wire_order(&o, m)?)?;
        if let (Some(d), serde_json::Value::Object(x)) = (data.as_object_mut(), extra) {
            for (k, v) in x {
                d.entry(k).or_insert(v);
            }
        }
        let event = NewEvent {
            kind,
            target: out_trade_no,
            order_key: out_trade_no,
            data,
            url: o.notify_url.clone().or_else(|| m.config.notify_url.clone()),
            format: o.format(),
        };
        self.record_event(at_ms, event)
    }

    /// Records a refund event: its data is the refund as it is now; delivered like its order's.
    pub fn refund_event(
        &self,
        m: &Merchant,
        at_ms: i64,
        kind: EventKind,
        out_refund_no: &str,
    ) -> Result<()> {
        let r = self.refund_known(out_refund_no)?;
        let o = self.order(&r.out_trade_no)?;
        let format = o.as_ref().map_or(Format::Json, OrderRow::format);
        let url = o
            .and_then(|o| o.notify_url)
            .or_else(|| m.config.notify_url.clone());
        let event = NewEvent {
            kind,
            target: out_refund_no,
            order_key: &r.out_trade_no,
            data: serde_json::to_value(r.wire())?,
            url,
            format,
        };
        self.record_event(at_ms, event)
    }

    /// The outbox row: the event as data, pending delivery if it has somewhere to go.
    /// The payer hears of it too when it is news to them and they left a contact
    /// (`merchant/messages.rs`).
    pub fn record_event(&self, at_ms: i64, e: NewEvent<'_>) -> Result<()> {
        let status = DeliveryStatus::of_new_event(e.format, e.kind, e.url.is_some());
        let event_id = format!("evt_{}", runtime::random_hex(12));
        // A message that cannot be written (a contact that no longer opens) never holds up the
        // change it reports: it is logged, and the change goes on.
        if let Err(err) = self.tell_payer(&event_id, e.kind.as_str(), e.order_key, &e.data, at_ms) {
            worker::console_error!("payer message for {event_id}: {err:?}");
        }
        self.x(
            "INSERT INTO events (event_id, type, target, created_at_ms, data_json, order_key, body,
                                 notify_url, status, next_attempt_at_ms, format)
             VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?)",
            vec![
                event_id.into(),
                e.kind.as_str().into(),
                e.target.into(),
                at_ms.into(),
                e.data.to_string().into(),
                e.order_key.into(),
                e.url.into(),
                status.as_str().into(),
                at_ms.into(),
                e.format.as_str().into(),
            ],
        )
    }

    /// A contract's page (`/contract/<token>`), valid for the longest a contract can last (the
    /// link on every receipt and reminder must keep working).
    pub fn contract_link(&self, m: &Merchant, code: &str, created_at_ms: i64) -> Result<String> {
        let key = runtime::checkout_token_key(self.env)?;
        let lifetime_days = i64::from(crate::domain::contract_rules::MAX_CONTRACT_DAYS) + 31;
        let token = ContractToken {
            merchant_id: m.id().to_owned(),
            contract_code: code.to_owned(),
            expires_at: created_at_ms / 1000 + lifetime_days * 86_400,
        }
        .encode(&crate::mac_keys::prepared(&key))
        .ok_or_else(|| AppError::internal("contract code cannot be tokenised"))?;
        Ok(format!("{}/contract/{token}", m.row.origin))
    }

    /// A deduction's contract page, for its receipts.
    fn deduction_contract_url(&self, m: &Merchant, o: &OrderRow) -> Result<Option<String>> {
        #[derive(Deserialize)]
        struct C {
            created_at_ms: i64,
        }
        let Some(code) = &o.contract_code else {
            return Ok(None);
        };
        let c: Option<C> = self.first(
            "SELECT created_at_ms FROM contracts WHERE contract_code = ?",
            vec![code.as_str().into()],
        )?;
        c.map(|c| self.contract_link(m, code, c.created_at_ms))
            .transpose()
    }

    /// The order on the wire, with a checkout URL (on the merchant's origin) whose token
    /// expires a day after the deadline.
    pub fn wire_order(&self, o: &OrderRow, m: &Merchant) -> Result<Order> {
        let review = self.review_of(&o.out_trade_no)?;
        self.wire_order_with(o, m, review)
    }

    /// An order inserted in this transaction: no risk review can name it yet (reviews open when
    /// a payment is tried), so none is looked up.
    pub fn wire_new_order(&self, o: &OrderRow, m: &Merchant) -> Result<Order> {
        self.wire_order_with(o, m, None)
    }

    fn wire_order_with(
        &self,
        o: &OrderRow,
        m: &Merchant,
        review: Option<super::protocol::Review>,
    ) -> Result<Order> {
        let key = runtime::checkout_token_key(self.env)?;
        let expires_at = crate::domain::order_rules::link_expires_at(
            &o.deadlines(),
            m.config.remind_grace_seconds,
            m.row.clock_offset_ms,
        );
        let token = CheckoutToken {
            merchant_id: m.id().to_owned(),
            out_trade_no: o.out_trade_no.clone(),
            expires_at,
        }
        .encode(&crate::mac_keys::prepared(&key))
        .ok_or_else(|| AppError::internal("order number cannot be tokenised"))?;
        Ok(Order {
            out_trade_no: o.out_trade_no.clone(),
            transaction_id: o.transaction_id.clone(),
            status: o.status,
            amount: o.amount()?,
            description: o.description.clone(),
            created_at: format_rfc3339(o.created_at_ms),
            time_expire: format_rfc3339(o.time_expire_ms),
            checkout_url: format!("{}/pay/{token}", m.row.origin),
            paid_at: o.paid_at_ms.map(format_rfc3339),
            method: o.method.as_deref().and_then(PayMethod::parse),
            refunded_total: o.refunded_total as u64,
            attach: o.attach.clone(),
            tags: o
                .tags_json
                .as_deref()
                .map(crate::json_text::from_text)
                .transpose()?,
            item_id: o.item_id.clone(),
            timeout_action: o.timeout_action,
            limit_pay: o.methods(),
            approval_id: if o.status == OrderStatus::PendingApproval {
                o.approval_id.clone()
            } else {
                None
            },
            trade_type: o.contract_code.as_ref().map(|_| "PAP".to_owned()),
            contract_code: o.contract_code.clone(),
            charge_at: o
                .charge_at_ms
                .filter(|_| o.status == OrderStatus::NotPay)
                .map(format_rfc3339),
            contract_url: self.deduction_contract_url(m, o)?,
            subscription_id: o.subscription_id.clone(),
            period_index: o.period_index.map(|n| n as u32),
            payer_ref: o.payer_ref.clone(),
            funds: o.held_until_ms.map(|_| {
                crate::domain::escrow_rules::funds(o.released_at_ms.is_some(), o.refund_owed != 0)
                    .to_owned()
            }),
            held_until: o
                .held_until_ms
                .filter(|_| o.released_at_ms.is_none() && o.refund_owed == 0)
                .map(format_rfc3339),
            released_at: o.released_at_ms.map(format_rfc3339),
            fulfilled_at: o.fulfilled_at_ms.map(format_rfc3339),
            fee: o.fee.map(|f| f as u64),
            fee_refunded: o.fee.map(|_| o.fee_refunded as u64),
            splits: o
                .splits_json
                .as_deref()
                .map(crate::json_text::from_text)
                .transpose()?,
            plan_no: o.plan_no.clone(),
            part_index: o.part_index.map(|n| n as u32),
            review_id: review.as_ref().map(|r| r.review_id.clone()),
            review: review.map(|r| r.status),
            channel: o.channel.clone(),
            contact: o
                .contact_masked
                .as_deref()
                .map(crate::json_text::from_text)
                .transpose()?,
        })
    }
}

/// Parses a JSON body into a request type; malformed JSON, wrong types and unknown fields are
/// `PARAM_ERROR` naming what serde found (never internal detail).
pub fn parse_body<T: DeserializeOwned>(body: &str) -> Result<T> {
    crate::json_text::from_text(body).map_err(|e| {
        let msg = e.to_string();
        let param = msg
            .split('`')
            .nth(1)
            .filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"))
            .unwrap_or("body");
        AppError::param(param, format!("invalid request body: {msg}"))
    })
}
