//! Subscriptions: the merchant creates one (with a contract, its invoices are deducted; without,
//! the payer pays each through its link), reads it with its invoices, cancels it (now or at the
//! period's end), pauses and resumes it. What happens on the schedule is `renewals.rs`; usage
//! reports are `usage.rs`; every decision is `domain::subscription_rules` /
//! `domain::schedule_rules`.

use super::store::{Ledger, Merchant, NewEvent, OrderRow, Result, ORDER_COLUMNS};
use crate::domain::contract_rules;
use crate::domain::events::{EventKind, Format};
use crate::domain::idempotency::{self, Repeat};
use crate::domain::order_rules::CloseReason;
use crate::domain::refusal::Refusal;
use crate::domain::schedule_rules::{self as schedule, SubscriptionEvent};
use crate::domain::subscription_rules::{self as rules, Facts};
use crate::error::AppError;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::contract::{ContractStatus, Period};
use paydesk_shared::subscription::{
    CreateSubscription, Invoice, Price, Subscription, SubscriptionStatus, UsagePrice,
};
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::{Money, OrderStatus};
use serde::Deserialize;

pub const SUBSCRIPTION_COLUMNS: &str = "subscription_id, status, description, amount, interval, \
    interval_count, contract_code, usage_unit, usage_unit_amount, reminder_hours, notify_url, \
    payer_ref, created_at_ms, anchor_ms, trial_end_ms, trial_notice_sent, next_period, \
    reminded_period, cancel_at_period_end, canceled_at_ms, cancel_reason, paused_at_ms, \
    incomplete_until_ms, first_failed_ms, failures, next_due_ms, fingerprint, charge_not_before_ms, \
    resumed_at_ms";

#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionRow {
    pub subscription_id: String,
    pub status: SubscriptionStatus,
    pub description: String,
    pub amount: i64,
    pub interval: Period,
    pub interval_count: i64,
    pub contract_code: Option<String>,
    pub usage_unit: Option<String>,
    pub usage_unit_amount: Option<i64>,
    pub reminder_hours: i64,
    pub notify_url: Option<String>,
    pub payer_ref: Option<String>,
    pub created_at_ms: i64,
    pub anchor_ms: i64,
    pub trial_end_ms: Option<i64>,
    pub trial_notice_sent: i64,
    pub next_period: i64,
    pub reminded_period: i64,
    pub cancel_at_period_end: i64,
    pub canceled_at_ms: Option<i64>,
    pub cancel_reason: Option<String>,
    pub paused_at_ms: Option<i64>,
    pub incomplete_until_ms: Option<i64>,
    pub first_failed_ms: Option<i64>,
    pub failures: i64,
    pub next_due_ms: Option<i64>,
    pub fingerprint: String,
    /// The reminded period's charge, held a day after a late reminder (migration 38).
    #[serde(default)]
    pub charge_not_before_ms: Option<i64>,
    /// When it last resumed from a pause (migration 38).
    #[serde(default)]
    pub resumed_at_ms: Option<i64>,
}

impl SubscriptionRow {
    pub fn facts(&self, m: &Merchant, invoice: Option<OrderStatus>) -> Facts {
        Facts {
            status: self.status,
            created_at_ms: self.created_at_ms,
            anchor_ms: self.anchor_ms,
            interval: self.interval,
            interval_count: self.interval_count as u32,
            utc_offset_minutes: m.config.utc_offset_minutes,
            reminder_hours: self.reminder_hours as u32,
            trial_end_ms: self.trial_end_ms,
            trial_notice_sent: self.trial_notice_sent != 0,
            has_contract: self.contract_code.is_some(),
            cancel_at_period_end: self.cancel_at_period_end != 0,
            next_period: self.next_period as u32,
            reminded: self.reminded_period >= self.next_period,
            charge_not_before_ms: self.charge_not_before_ms,
            invoice,
            incomplete_until_ms: self.incomplete_until_ms,
            first_failed_ms: self.first_failed_ms,
            failures: self.failures as u32,
        }
    }

    fn price(&self) -> Price {
        Price {
            amount: self.amount as u64,
            interval: self.interval,
            interval_count: self.interval_count as u32,
        }
    }

    fn usage(&self) -> Option<UsagePrice> {
        Some(UsagePrice {
            unit: self.usage_unit.clone()?,
            unit_amount: self.usage_unit_amount? as u64,
        })
    }
}

impl Ledger<'_> {
    /// `POST /v1/subscriptions`: the subscription, and whether it was created now.
    pub fn create_subscription(
        &self,
        m: &Merchant,
        req: &CreateSubscription,
    ) -> Result<(Subscription, bool)> {
        rules::validate(req)?;
        if let Some(url) = &req.notify_url {
            crate::domain::order_rules::check_notify_url(url, self.call.dev)
                .map_err(|msg| Refusal::param("notify_url", msg))?;
        }
        let plain = CreateSubscription {
            contact: None,
            ..req.clone()
        };
        let fingerprint = self
            .fingerprint_with_contact(contract_rules::fingerprint(&plain), req.contact.as_ref())?;
        let stored = self.subscription(&req.subscription_id)?;
        match idempotency::repeat(stored, |s| &s.fingerprint, &fingerprint) {
            Repeat::Same(existing) => return Ok((self.wire_subscription(m, &existing)?, false)),
            Repeat::Other => {
                return Err(Refusal::new(
                    ErrorCode::SubscriptionIdUsed,
                    "this subscription_id was used for a different subscription",
                )
                .at("subscription_id")
                .into())
            }
            Repeat::New => {}
        }
        // The same request again is answered as it was (above), whatever refuses a new one.
        m.may_collect()?;
        self.refuse_if_frozen()?;
        let now = self.now(m);
        if m.is_dormant(now) {
            return Err(crate::domain::limits::dormant_refusal().into());
        }
        if let Some(code) = &req.contract_code {
            let c = self.current_contract(m, code)?;
            if c.status != ContractStatus::Active {
                return Err(Refusal::new(
                    ErrorCode::ContractNotActive,
                    "a subscription is charged from a signed (ACTIVE) contract",
                )
                .at("contract_code")
                .into());
            }
            let first = rules::trial_end(req, now).unwrap_or(now);
            let hours = req
                .reminder_hours
                .unwrap_or(schedule::DEFAULT_REMINDER_HOURS);
            self.keeps_notice(&c, hours, &[first], now, "trial_days")?;
        }
        self.insert_subscription(req, now, fingerprint)?;
        let id = req.subscription_id.as_str();
        self.keep_contact(m, &format!("subscription:{id}"), req.contact.as_ref())?;
        self.audit(now, "merchant_api", "subscription.create", id, "", "")?;
        let s = self.subscription_known(id)?;
        self.subscription_event(
            m,
            now,
            EventKind::SubscriptionCreated,
            &s,
            serde_json::json!({}),
        )?;
        if req.trial_days.is_none() {
            self.open_first_invoice(m, &s, now)?;
        }
        self.reschedule(m, id)?;
        let s = self.subscription_known(id)?;
        Ok((self.wire_subscription(m, &s)?, true))
    }

    fn insert_subscription(&self, req: &CreateSubscription, now: i64, fp: String) -> Result<()> {
        let trial_end = rules::trial_end(req, now);
        let status = schedule::started(trial_end.is_some(), false);
        let reminder = req
            .reminder_hours
            .unwrap_or(schedule::DEFAULT_REMINDER_HOURS);
        self.x(
            &format!(
                "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?,
                 ?, ?, ?, ?, ?, ?, ?, 0, 0, -1, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, ?,
                 NULL, NULL)"
            ),
            vec![
                req.subscription_id.as_str().into(),
                status.as_str().into(),
                req.description.as_str().into(),
                (req.price.amount as i64).into(),
                req.price.interval.as_str().into(),
                i64::from(req.price.interval_count).into(),
                req.contract_code.clone().into(),
                req.usage.as_ref().map(|u| u.unit.clone()).into(),
                req.usage.as_ref().map(|u| u.unit_amount as i64).into(),
                i64::from(reminder).into(),
                req.notify_url.clone().into(),
                req.payer_ref.clone().into(),
                now.into(),
                trial_end.unwrap_or(now).into(),
                trial_end.into(),
                fp.into(),
            ],
        )
    }

    /// The first period of a subscription without a trial is collected at once: deducted from
    /// its contract, or payable through its link for 23 hours. Until it is paid the
    /// subscription is `incomplete`.
    fn open_first_invoice(&self, m: &Merchant, s: &SubscriptionRow, now: i64) -> Result<()> {
        let until = rules::first_invoice_window(now);
        self.x(
            "UPDATE subscriptions SET incomplete_until_ms = ?, reminded_period = 0
             WHERE subscription_id = ?",
            vec![until.into(), s.subscription_id.as_str().into()],
        )?;
        let o = self.create_invoice(m, s, 0, until)?;
        if s.contract_code.is_some() {
            self.charge_scheduled(m, &o, now)?;
        }
        Ok(())
    }

    pub fn subscription(&self, id: &str) -> Result<Option<SubscriptionRow>> {
        self.first(
            &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE subscription_id = ?"),
            vec![id.into()],
        )
    }

    pub fn subscription_known(&self, id: &str) -> Result<SubscriptionRow> {
        self.subscription(id)?
            .ok_or_else(|| AppError::from(rules::refusal_not_found(id)))
    }

    /// A subscription as it stands now: whatever fell due is done first.
    pub fn current_subscription(&self, m: &Merchant, id: &str) -> Result<SubscriptionRow> {
        self.reschedule(m, id)?;
        self.run_due_subscriptions(m, self.now(m))?;
        self.subscription_known(id)
    }

    /// `POST /v1/subscriptions/{id}/cancel`: now (open invoices closed, nothing more charged),
    /// or at the end of the period (nothing more charged; it ends at the next boundary).
    pub fn cancel_subscription(
        &self,
        m: &Merchant,
        id: &str,
        at_period_end: bool,
    ) -> Result<SubscriptionRow> {
        let s = self.current_subscription(m, id)?;
        let now = self.now(m);
        if !at_period_end {
            self.end_subscription(
                m,
                &s,
                SubscriptionEvent::Cancel,
                "requested",
                now,
                "merchant_api",
            )?;
            self.bill_final_usage(m, &s, now)?;
            return self.subscription_known(id);
        }
        if !matches!(
            s.status,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing
        ) {
            return Err(Refusal::new(
                ErrorCode::SubscriptionNotAllowed,
                format!(
                    "a subscription that is {} cannot be canceled at the period's end; cancel it now",
                    s.status.as_str()
                ),
            )
            .into());
        }
        self.x(
            "UPDATE subscriptions SET cancel_at_period_end = 1 WHERE subscription_id = ?",
            vec![id.into()],
        )?;
        self.close_open_invoices(m, &s, s.next_period, now, "merchant_api")?;
        self.audit(
            now,
            "merchant_api",
            "subscription.cancel_at_period_end",
            id,
            "0",
            "1",
        )?;
        self.reschedule(m, id)?;
        self.subscription_known(id)
    }

    /// `.../pause`: nothing is charged while paused; periods that start meanwhile are not
    /// collected. `.../resume`: collection goes on from the next period to start.
    pub fn pause_or_resume(&self, m: &Merchant, id: &str, pause: bool) -> Result<SubscriptionRow> {
        let s = self.current_subscription(m, id)?;
        let now = self.now(m);
        let event = if pause {
            SubscriptionEvent::Pause
        } else {
            SubscriptionEvent::Resume
        };
        let to = schedule::advance(s.status, event)?;
        if pause {
            self.close_open_invoices(m, &s, s.next_period, now, "merchant_api")?;
            self.x(
                "UPDATE subscriptions SET status = ?, paused_at_ms = ? WHERE subscription_id = ?",
                vec![to.as_str().into(), now.into(), id.into()],
            )?;
        } else {
            // The next period to start that has no invoice yet (one issued before the pause was
            // closed by it: that period is not collected).
            let f = s.facts(m, None);
            let mut next = s.next_period as u32;
            while f.boundary(next) < now || self.invoice(id, i64::from(next))?.is_some() {
                next += 1;
            }
            self.x(
                "UPDATE subscriptions SET status = ?, paused_at_ms = NULL, next_period = ?,
                 reminded_period = -1, resumed_at_ms = ? WHERE subscription_id = ?",
                vec![
                    to.as_str().into(),
                    i64::from(next).into(),
                    now.into(),
                    id.into(),
                ],
            )?;
        }
        self.status_changed(m, &s, to, now, "merchant_api")?;
        self.reschedule(m, id)?;
        self.subscription_known(id)
    }

    /// Ends a subscription (`Cancel`, or the dunning's final state): open invoices closed.
    pub fn end_subscription(
        &self,
        m: &Merchant,
        s: &SubscriptionRow,
        event: SubscriptionEvent,
        reason: &str,
        now: i64,
        actor: &str,
    ) -> Result<()> {
        let to = schedule::advance(s.status, event)?;
        self.close_open_invoices(m, s, 0, now, actor)?;
        self.x(
            "UPDATE subscriptions SET status = ?, canceled_at_ms = CASE WHEN ? = 'canceled'
             THEN ? ELSE canceled_at_ms END, cancel_reason = ?, next_due_ms = NULL
             WHERE subscription_id = ?",
            vec![
                to.as_str().into(),
                to.as_str().into(),
                now.into(),
                reason.into(),
                s.subscription_id.as_str().into(),
            ],
        )?;
        self.status_changed(m, s, to, now, actor)
    }

    /// Audits a status change and tells the merchant (`subscription.canceled` or `.updated`).
    pub fn status_changed(
        &self,
        m: &Merchant,
        before: &SubscriptionRow,
        to: SubscriptionStatus,
        now: i64,
        actor: &str,
    ) -> Result<()> {
        if to == before.status {
            return Ok(());
        }
        let id = before.subscription_id.as_str();
        let action = format!("subscription.{}", to.as_str());
        self.audit(now, actor, &action, id, before.status.as_str(), to.as_str())?;
        let s = self.subscription_known(id)?;
        let extra = serde_json::json!({"previous_status": before.status});
        let kind = match to {
            SubscriptionStatus::Canceled => EventKind::SubscriptionCanceled,
            _ => EventKind::SubscriptionUpdated,
        };
        self.subscription_event(m, now, kind, &s, extra)
    }

    /// Closes a subscription's unpaid invoices of periods from `from_period` on.
    fn close_open_invoices(
        &self,
        m: &Merchant,
        s: &SubscriptionRow,
        from_period: i64,
        now: i64,
        actor: &str,
    ) -> Result<()> {
        let open: Vec<OrderRow> = self.q(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE subscription_id = ? AND period_index >= ?
                 AND status IN ('NOTPAY', 'PAYERROR', 'PENDING_APPROVAL')"
            ),
            vec![s.subscription_id.as_str().into(), from_period.into()],
        )?;
        for o in open {
            self.close_order(m, &o, CloseReason::SubscriptionEnded, now, actor)?;
            self.unbill_usage(&s.subscription_id, o.period_index.unwrap_or(-1))?;
        }
        Ok(())
    }

    /// The invoice of period `n`, if it was created.
    pub fn invoice(&self, id: &str, n: i64) -> Result<Option<OrderRow>> {
        self.first(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE subscription_id = ? AND period_index = ?"
            ),
            vec![id.into(), n.into()],
        )
    }

    /// Records a subscription event: its data is the subscription plus `extra`, delivered to
    /// its notify URL (or the merchant's), in order with its other events.
    pub fn subscription_event(
        &self,
        m: &Merchant,
        at_ms: i64,
        kind: EventKind,
        s: &SubscriptionRow,
        extra: serde_json::Value,
    ) -> Result<()> {
        let mut data = serde_json::to_value(self.wire_subscription(m, s)?)?;
        if let (Some(d), serde_json::Value::Object(x)) = (data.as_object_mut(), extra) {
            for (k, v) in x {
                d.insert(k, v);
            }
        }
        let key = format!("subscription:{}", s.subscription_id);
        self.record_event(
            at_ms,
            NewEvent {
                kind,
                target: &s.subscription_id,
                order_key: &key,
                data,
                url: s.notify_url.clone().or_else(|| m.config.notify_url.clone()),
                format: Format::Json,
            },
        )
    }

    pub fn wire_subscription(&self, m: &Merchant, s: &SubscriptionRow) -> Result<Subscription> {
        let f = s.facts(m, None);
        let now = self.now(m);
        let mut current = 0u32;
        while current < f.next_period && f.boundary(current + 1) <= now {
            current += 1;
        }
        let invoices: Vec<OrderRow> = self.q(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE subscription_id = ?
                 ORDER BY period_index DESC LIMIT 24"
            ),
            vec![s.subscription_id.as_str().into()],
        )?;
        let invoices = invoices
            .iter()
            .map(|o| self.wire_invoice(&f, o))
            .collect::<Result<Vec<_>>>()?;
        Ok(Subscription {
            subscription_id: s.subscription_id.clone(),
            status: s.status,
            description: s.description.clone(),
            price: s.price(),
            contract_code: s.contract_code.clone(),
            usage: s.usage(),
            reminder_hours: s.reminder_hours as u32,
            trial_end: s.trial_end_ms.map(format_rfc3339),
            billing_anchor: format_rfc3339(s.anchor_ms),
            current_period: current,
            current_period_start: format_rfc3339(f.boundary(current)),
            current_period_end: format_rfc3339(f.boundary(current + 1)),
            cancel_at_period_end: s.cancel_at_period_end != 0,
            canceled_at: s.canceled_at_ms.map(format_rfc3339),
            cancel_reason: s.cancel_reason.clone(),
            paused_at: s.paused_at_ms.map(format_rfc3339),
            usage_pending: self.usage_pending(&s.subscription_id)?,
            notify_url: s.notify_url.clone(),
            payer_ref: s.payer_ref.clone(),
            contact: self.masked_contact(&format!("subscription:{}", s.subscription_id))?,
            created_at: format_rfc3339(s.created_at_ms),
            invoices,
        })
    }

    fn wire_invoice(&self, f: &Facts, o: &OrderRow) -> Result<Invoice> {
        let n = o.period_index.unwrap_or(0) as u32;
        Ok(Invoice {
            period_index: n,
            out_trade_no: o.out_trade_no.clone(),
            status: o.status.as_str().to_owned(),
            amount: o.amount()?,
            usage_amount: o.usage_amount.unwrap_or(0) as u64,
            period_start: format_rfc3339(f.boundary(n)),
            period_end: format_rfc3339(f.boundary(n + 1)),
            attempts: o.pay_attempts as u32,
        })
    }

    /// Money for an invoice: the price (unless it only bills the last usage) plus the usage.
    pub fn invoice_amount(
        &self,
        s: &SubscriptionRow,
        usage_units: u64,
        with_price: bool,
    ) -> Result<(Money, u64)> {
        let usage = usage_units.saturating_mul(s.usage_unit_amount.unwrap_or(0) as u64);
        let price = if with_price { s.amount as u64 } else { 0 };
        let total = price.saturating_add(usage);
        let money = Money::cny(total.min(paydesk_shared::money::MAX_MINOR));
        Ok((money, usage))
    }
}
