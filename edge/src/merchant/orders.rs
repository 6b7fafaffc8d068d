//! Orders: creating one (the JSON API and the v2 dialect share every rule), reading one with
//! whatever fell due applied first, closing one (one function, whoever closes: the merchant, the
//! deadline, a rejected approval), and the operator's listing.

use super::protocol::{ListOrders, OrderPage};
use super::store::{no_such_order, Ledger, Merchant, OrderRow, Result, ORDER_COLUMNS};
use crate::domain::alarm_rules::{self, DueChange};
use crate::domain::approval::{self, ApprovalKind, ApprovalStatus};
use crate::domain::events::EventKind;
use crate::domain::idempotency::{self, Repeat};
use crate::domain::order_rules::{self, CloseReason};
use crate::domain::{admin_rules, cursor, ids, limits};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::{CreateOrder, Order, TimeoutAction};
use paydesk_shared::OrderStatus;

impl Ledger<'_> {
    /// `POST /v1/orders`: the order, and whether it was created now (`false`: the same request
    /// again, answered with the same order).
    pub fn create_order(&self, m: &Merchant, req: &CreateOrder) -> Result<(Order, bool)> {
        m.may_collect()?;
        let fingerprint = self.order_fingerprint(req)?;
        // A new number is the usual case, so the insert finds out whether it is taken: nothing
        // is written before it, and a taken number inserts nothing. Whatever refused the order
        // (its rules, a dormant or frozen account, the number), a number used before answers
        // as it always has: the same request gets its order back, another one OUT_TRADE_NO_USED.
        let checked = self.refuse_new_orders(m);
        let new = match checked.and_then(|()| self.new_order(m, req, fingerprint.clone(), None)) {
            Ok(new) => new,
            Err(refused) => return self.earlier_order(m, req, &fingerprint, refused),
        };
        let Some(o) = self.write_order(m, new)? else {
            return self.earlier_order(m, req, &fingerprint, order_rules::reused_number().into());
        };
        self.due_change.set(alarm_rules::order_created(
            o.status,
            o.time_expire_ms,
            m.row.clock_offset_ms,
        ));
        Ok((self.wire_new_order(&o, m)?, true))
    }

    /// The order already stored under the request's number, when the request is the same one
    /// again; `refused` when the number is new; OUT_TRADE_NO_USED when it names another order.
    fn earlier_order(
        &self,
        m: &Merchant,
        req: &CreateOrder,
        fingerprint: &str,
        refused: AppError,
    ) -> Result<(Order, bool)> {
        match idempotency::repeat(
            self.order(&req.out_trade_no)?,
            |o| &o.fingerprint,
            fingerprint,
        ) {
            Repeat::New => Err(refused),
            Repeat::Same(o) => Ok((self.wire_order(&o, m)?, false)),
            Repeat::Other => Err(order_rules::reused_number().into()),
        }
    }

    /// What tells a repeated request from another one with the same number (the contact
    /// counts only through a keyed digest).
    fn order_fingerprint(&self, req: &CreateOrder) -> Result<String> {
        let without = CreateOrder {
            contact: None,
            ..req.clone()
        };
        self.fingerprint_with_contact(order_rules::fingerprint(&without), req.contact.as_ref())
    }

    /// Validates and stores a new order the merchant asks for (its number is known to be
    /// unused): a dormant account starts nothing new.
    pub fn insert_order(
        &self,
        m: &Merchant,
        req: &CreateOrder,
        fingerprint: String,
        v2_json: Option<String>,
    ) -> Result<OrderRow> {
        self.refuse_new_orders(m)?;
        self.store_order(m, req, fingerprint, v2_json)
    }

    /// A dormant or frozen account starts nothing new.
    fn refuse_new_orders(&self, m: &Merchant) -> Result<()> {
        if m.is_dormant(self.now(m)) {
            return Err(limits::dormant_refusal().into());
        }
        self.refuse_if_frozen()
    }

    /// Validates and stores a new order: the ledger's rules, approval levels, the audit entry
    /// and the approval event. A subscription's invoice comes here directly: it collects what
    /// was agreed before, which dormancy does not stop.
    pub fn store_order(
        &self,
        m: &Merchant,
        req: &CreateOrder,
        fingerprint: String,
        v2_json: Option<String>,
    ) -> Result<OrderRow> {
        let new = self.new_order(m, req, fingerprint, v2_json)?;
        self.write_order(m, new)?
            .ok_or_else(|| order_rules::reused_number().into())
    }

    /// The order `req` asks for under the ledger's rules and approval levels, with everything
    /// its row needs; nothing is written yet.
    fn new_order(
        &self,
        m: &Merchant,
        req: &CreateOrder,
        fingerprint: String,
        v2_json: Option<String>,
    ) -> Result<NewOrder> {
        let now = self.now(m);
        let v = order_rules::validate(req, &m.config.items, now, self.call.dev)?;
        let splits = self.order_splits(m, req.splits.as_deref(), v.amount.total)?;
        let contact = req
            .contact
            .as_ref()
            .map(|c| self.seal_contact(m, &v.out_trade_no, c));
        let (contact_sealed, contact_masked) = contact.transpose()?.unzip();
        let need = approval::required_approvers(&m.config.approval_levels, v.amount.total);
        let approval =
            (need > 0).then(|| (ids::approval_id(m.id(), runtime::random_bytes()), need));
        Ok(NewOrder {
            v,
            now,
            approval,
            splits,
            contact_sealed,
            contact_masked,
            fingerprint,
            v2_json,
        })
    }

    /// Stores `new` unless its number is taken (`None`: nothing written), with its audit
    /// entry, and its approval and the approval event when it awaits one.
    fn write_order(&self, m: &Merchant, new: NewOrder) -> Result<Option<OrderRow>> {
        let (v, now) = (&new.v, new.now);
        let status = if new.approval.is_some() {
            OrderStatus::PendingApproval
        } else {
            OrderStatus::NotPay
        };
        let limit_pay: Vec<&str> = v.limit_pay.iter().map(|p| p.as_str()).collect();
        // The stored row comes back with the insert: no second statement to read it.
        let inserted: Option<OrderRow> = self.first(
            &format!(
                "INSERT INTO orders (out_trade_no, transaction_id, status, amount_total, currency,
                    description, item_id, attach, tags_json, limit_pay, notify_url, timeout_action,
                    created_at_ms, time_expire_ms, fingerprint, approval_id, v2_json, payer_ref,
                    splits_json, contact_sealed, contact_masked)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (out_trade_no) DO NOTHING
                 RETURNING {ORDER_COLUMNS}"
            ),
            vec![
                v.out_trade_no.as_str().into(),
                ids::transaction_id(now, runtime::random_bytes()).into(),
                status.as_str().into(),
                (v.amount.total as i64).into(),
                v.amount.currency.code().into(),
                v.description.as_str().into(),
                v.item_id.clone().into(),
                v.attach.clone().into(),
                v.tags
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()?
                    .into(),
                limit_pay.join(",").into(),
                v.notify_url.clone().into(),
                match v.timeout_action {
                    TimeoutAction::Close => "close",
                    TimeoutAction::Remind => "remind",
                }
                .into(),
                now.into(),
                v.time_expire_ms.into(),
                new.fingerprint.into(),
                new.approval.as_ref().map(|(id, _)| id.clone()).into(),
                new.v2_json.into(),
                v.payer_ref.clone().into(),
                new.splits.into(),
                new.contact_sealed.into(),
                new.contact_masked.into(),
            ],
        )?;
        let Some(o) = inserted else {
            return Ok(None);
        };
        if limits::activity_needs_recording(m.row.last_activity_ms, now) {
            self.x(
                "UPDATE merchant SET last_activity_ms = ? WHERE merchant_id = ?",
                vec![now.into(), m.id().into()],
            )?;
        }
        let otn = v.out_trade_no.as_str();
        self.audit(
            now,
            "merchant_api",
            "order.create",
            otn,
            "",
            status.as_str(),
        )?;
        if let Some((id, need)) = &new.approval {
            self.open_approval_as(id, ApprovalKind::Order, otn, *need, now)?;
            let wire = self.wire_order(&o, m)?;
            let extra = serde_json::json!({"order": &wire, "approval_id": id});
            self.order_event(m, now, EventKind::OrderApprovalRequired, otn, extra)?;
        }
        Ok(Some(o))
    }

    /// An order the ledger schedules itself (a subscription's invoice, an installment part):
    /// numbered `<prefix><random>`, paid with the contract's method when it has one (and
    /// naming the contract, so it can be deducted), payable until `expires_at`.
    pub fn store_scheduled_order(&self, m: &Merchant, s: Scheduled<'_>) -> Result<OrderRow> {
        let contract = match s.contract_code {
            Some(code) => self.contract(code)?,
            None => None,
        };
        let out_trade_no = format!("{}{}", s.prefix, runtime::random_hex(10));
        let order = CreateOrder {
            out_trade_no: out_trade_no.clone(),
            amount: Some(s.amount),
            item_id: None,
            description: s.description.to_owned(),
            time_expire: None,
            timeout_action: None,
            // Checked when the subscription or plan was created (the alarm is not `dev`).
            notify_url: None,
            attach: None,
            tags: None,
            limit_pay: contract.as_ref().and_then(|c| c.method).map(|m| vec![m]),
            payer_ref: s.payer_ref,
            splits: None,
            contact: None,
        };
        self.store_order(m, &order, s.fingerprint, None)?;
        self.x(
            "UPDATE orders SET contract_code = ?, time_expire_ms = ?, notify_url = ?
             WHERE out_trade_no = ?",
            vec![
                s.contract_code.into(),
                s.expires_at.into(),
                s.notify_url.into(),
                out_trade_no.as_str().into(),
            ],
        )?;
        self.order_or_fail(&out_trade_no)
    }

    /// An order as a read answers it (a merchant's query, the payer's pay page), brought up to
    /// date. When nothing on it has fallen due, the read changes no due time, and the object
    /// leaves its alarm as it was instead of reading every due time again: a caller may only
    /// go on to write what no due time depends on.
    pub fn queried_order(&self, m: &Merchant, out_trade_no: &str) -> Result<OrderRow> {
        self.read_as_it_stands(m, self.order_or_fail(out_trade_no)?)
    }

    /// [`Self::queried_order`] for an order already read.
    pub fn read_as_it_stands(&self, m: &Merchant, o: OrderRow) -> Result<OrderRow> {
        if order_rules::due(&o.deadlines(), self.now(m)).is_some() {
            return self.up_to_date(m, o);
        }
        self.due_change.set(DueChange::Untouched);
        Ok(o)
    }

    /// An order as it stands now: deadlines that fell due are applied before anyone is told.
    pub fn current_order(&self, m: &Merchant, out_trade_no: &str) -> Result<OrderRow> {
        self.up_to_date(m, self.order_or_fail(out_trade_no)?)
    }

    /// [`Self::current_order`] for an order already read: read again only if something fell due.
    pub fn up_to_date(&self, m: &Merchant, o: OrderRow) -> Result<OrderRow> {
        self.process_due(m, o, self.now(m))?
            .ok_or_else(no_such_order)
    }

    /// Closes an order for `why`: the one rule (`order_rules::close`), the state machine, its
    /// pending approval closed, the `order.closed` event, and the schedule it belongs to moved on
    /// (an invoice or instalment part held for approval until it expired must not stop the
    /// schedule: nothing else would look at it again).
    pub fn close_order(
        &self,
        m: &Merchant,
        o: &OrderRow,
        why: CloseReason,
        now: i64,
        actor: &str,
    ) -> Result<()> {
        let event = order_rules::close(why, o.status, o.opened != 0, o.created_at_ms, now)?;
        let to = self.apply(o, event, now, actor)?;
        if why != CloseReason::Rejected {
            self.x(
                "UPDATE approvals SET status = ? WHERE target = ? AND kind = ? AND status = ?",
                vec![
                    ApprovalStatus::Closed.as_str().into(),
                    o.out_trade_no.as_str().into(),
                    ApprovalKind::Order.as_str().into(),
                    ApprovalStatus::Pending.as_str().into(),
                ],
            )?;
            self.queue_changed(super::alerts::WaitingQueue::Approvals, false, now)?;
        }
        let mut extra = serde_json::json!({"out_trade_no": o.out_trade_no, "status": to});
        if let Some(reason) = why.label() {
            extra["reason"] = reason.into();
        }
        self.order_event(m, now, EventKind::OrderClosed, &o.out_trade_no, extra)?;
        self.close_handoff_later(&o.out_trade_no)?;
        self.schedule_of_order_moved(m, o)
    }

    /// The merchant closes an order (JSON API, v2 `closeorder`).
    pub fn close_by_merchant(&self, m: &Merchant, out_trade_no: &str) -> Result<()> {
        let o = self.current_order(m, out_trade_no)?;
        self.close_order(m, &o, CloseReason::Merchant, self.now(m), "merchant_api")
    }

    /// Orders newest first, a page at a time, optionally of one status.
    pub fn list_orders(&self, m: &Merchant, req: &ListOrders) -> Result<OrderPage> {
        let limit = admin_rules::page_limit(req.limit)?;
        let mut sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE 1 = 1");
        let mut binds = Vec::new();
        if let Some(s) = &req.status {
            let st =
                OrderStatus::parse(s).ok_or_else(|| AppError::param("status", "unknown status"))?;
            sql.push_str(" AND status = ?");
            binds.push(st.as_str().into());
        }
        self.order_filters(req, &mut sql, &mut binds)?;
        if let Some(c) = &req.cursor {
            let (at, otn) = cursor::decode_time_key(c)?;
            sql.push_str(" AND (created_at_ms < ? OR (created_at_ms = ? AND out_trade_no < ?))");
            binds.extend([at.into(), at.into(), otn.into()]);
        }
        sql.push_str(" ORDER BY created_at_ms DESC, out_trade_no DESC LIMIT ?");
        binds.push(i64::from(limit + 1).into());
        let mut rows: Vec<OrderRow> = self.q(&sql, binds)?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = rows
            .last()
            .filter(|_| more)
            .map(|o| cursor::encode(&format!("{}:{}", o.created_at_ms, o.out_trade_no)));
        let orders = rows
            .iter()
            .map(|o| self.wire_order(o, m))
            .collect::<Result<Vec<_>>>()?;
        Ok(OrderPage {
            orders,
            next_cursor,
        })
    }
}

impl Ledger<'_> {
    /// The search of a listing: a number's beginning, a creation time range, a tag.
    fn order_filters(
        &self,
        req: &ListOrders,
        sql: &mut String,
        binds: &mut Vec<worker::SqlStorageValue>,
    ) -> Result<()> {
        if let Some(n) = req.number.as_deref().filter(|n| !n.is_empty()) {
            let escaped = n
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            sql.push_str(" AND out_trade_no LIKE ? ESCAPE '\\'");
            binds.push(format!("{escaped}%").into());
        }
        let instant = |k: &str, v: &Option<String>| {
            v.as_deref()
                .map(|t| {
                    paydesk_shared::time::parse_rfc3339(t)
                        .ok_or_else(|| AppError::param(k, format!("{k} is an RFC 3339 time")))
                })
                .transpose()
        };
        if let Some(from) = instant("from", &req.from)? {
            sql.push_str(" AND created_at_ms >= ?");
            binds.push(from.into());
        }
        if let Some(to) = instant("to", &req.to)? {
            sql.push_str(" AND created_at_ms < ?");
            binds.push(to.into());
        }
        // `tag=key` finds orders tagged with the key; `tag=key:value`, with that value.
        if let Some(tag) = &req.tag {
            let (k, v) = tag.split_once(':').unwrap_or((tag, ""));
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM json_each(COALESCE(orders.tags_json, '{}'))
                   WHERE key = ? AND (? = '' OR value = ?))",
            );
            binds.extend([k.into(), v.into(), v.into()]);
        }
        Ok(())
    }
}

/// What [`Ledger::store_scheduled_order`] creates.
pub struct Scheduled<'a> {
    pub prefix: &'a str,
    pub description: &'a str,
    pub amount: paydesk_shared::Money,
    pub contract_code: Option<&'a str>,
    pub notify_url: Option<String>,
    /// Business time; may be further out than a merchant's own order may be.
    pub expires_at: i64,
    pub fingerprint: String,
    pub payer_ref: Option<String>,
}

/// A new order checked against the ledger's rules, with what its row needs, before anything
/// is written: its approval's id is chosen here and the approval opened once the order is in.
struct NewOrder {
    v: order_rules::ValidOrder,
    now: i64,
    /// The approval the order awaits (its id and how many approvers it needs), if any.
    approval: Option<(String, u32)>,
    splits: Option<String>,
    contact_sealed: Option<String>,
    contact_masked: Option<String>,
    fingerprint: String,
    v2_json: Option<String>,
}
