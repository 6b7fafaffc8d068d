//! Collection on a subscription's schedule with nobody watching: the trial's notice, each
//! period's reminder, its invoice (deducted from the contract, or paid through its link), the
//! dunning of a failed charge, the incomplete window, the end of a period. One step at a time,
//! the earliest due first, each at its own business time (`domain::subscription_rules`); what a
//! payment does to a subscription is recorded by the payment itself (`invoice_paid`,
//! `invoice_failed`), in the same transaction.

use super::contracts::ContractRow;
use super::orders::Scheduled;
use super::store::{Ledger, Merchant, OrderRow, Result};
use super::subscriptions::{SubscriptionRow, SUBSCRIPTION_COLUMNS};
use crate::domain::contract_rules;
use crate::domain::events::EventKind;
use crate::domain::schedule_rules::{self as schedule, SubscriptionEvent};
use crate::domain::subscription_rules::{self as rules, Step};
use crate::error::AppError;
use paydesk_shared::contract::UpcomingCharge;
use paydesk_shared::subscription::SubscriptionStatus;
use paydesk_shared::time::format_rfc3339;

/// More steps than this in one run means something does not move: stop and say so.
const MAX_STEPS: usize = 20_000;

/// When the next subscription has something due (business time). One of the subqueries the alarm's schedule reads together
/// (`merchant/deadlines.rs`, `dues`).
pub(super) const SUBSCRIPTION_DUE: &str =
    "SELECT MIN(next_due_ms) FROM subscriptions WHERE next_due_ms IS NOT NULL";

impl Ledger<'_> {
    /// Every subscription step due by `now`, the earliest first, each at its own time.
    pub fn run_due_subscriptions(&self, m: &Merchant, now: i64) -> Result<()> {
        for _ in 0..MAX_STEPS {
            let due: Option<SubscriptionRow> = self.first(
                &format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions
                     WHERE next_due_ms IS NOT NULL AND next_due_ms <= ?
                     ORDER BY next_due_ms, subscription_id LIMIT 1"
                ),
                vec![now.into()],
            )?;
            let Some(s) = due else {
                return Ok(());
            };
            let at = s.next_due_ms.unwrap_or(now);
            let step = self.step_of(m, &s)?;
            if let Some((_, step)) = step {
                match self.take_step(m, &s, step, at) {
                    Ok(()) => {}
                    // Refused by a ledger rule: this subscription waits (audited) and the rest
                    // of what fell due still happens.
                    Err(AppError::Refused(r)) => {
                        self.park(
                            &s.subscription_id,
                            &format!("{step:?}"),
                            r.code.as_str(),
                            at,
                        )?;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            self.reschedule(m, &s.subscription_id)?;
            // A step that changed nothing would come round again: it waits instead for what
            // moves it (a payment, an approval, a read of the subscription).
            let after = self.subscription_known(&s.subscription_id)?;
            if after.next_due_ms.is_some_and(|t| t <= at) && self.step_of(m, &after)? == step {
                self.x(
                    "UPDATE subscriptions SET next_due_ms = NULL WHERE subscription_id = ?",
                    vec![s.subscription_id.as_str().into()],
                )?;
            }
        }
        Err(AppError::internal("subscription steps did not settle"))
    }

    /// A step the ledger refused: the subscription stops moving by itself until it is read or
    /// paid again, and the audit chain says why.
    fn park(&self, id: &str, step: &str, code: &str, at: i64) -> Result<()> {
        self.x(
            "UPDATE subscriptions SET next_due_ms = NULL WHERE subscription_id = ?",
            vec![id.into()],
        )?;
        self.audit(
            at,
            "system:subscription",
            "subscription.step_refused",
            id,
            step,
            code,
        )
    }

    fn step_of(&self, m: &Merchant, s: &SubscriptionRow) -> Result<Option<(i64, Step)>> {
        let invoice = self.invoice(&s.subscription_id, s.next_period)?;
        let f = s.facts(m, invoice.map(|o| o.status));
        Ok(rules::next_step(&f, &m.config.dunning))
    }

    /// Records when the subscription next has something due (or that it has nothing).
    pub fn reschedule(&self, m: &Merchant, id: &str) -> Result<()> {
        let s = self.subscription_known(id)?;
        let next = self.step_of(m, &s)?.map(|(at, _)| at);
        self.x(
            "UPDATE subscriptions SET next_due_ms = ? WHERE subscription_id = ?",
            vec![next.into(), id.into()],
        )
    }

    fn take_step(&self, m: &Merchant, s: &SubscriptionRow, step: Step, at: i64) -> Result<()> {
        let id = s.subscription_id.as_str();
        match step {
            Step::TrialNotice => {
                self.x(
                    "UPDATE subscriptions SET trial_notice_sent = 1 WHERE subscription_id = ?",
                    vec![id.into()],
                )?;
                let end = s.trial_end_ms.map(format_rfc3339);
                let extra = serde_json::json!({"trial_end": end});
                self.subscription_event(m, at, EventKind::SubscriptionTrialWillEnd, s, extra)
            }
            Step::Remind => self.remind_renewal(m, s, at),
            Step::Charge => self.collect(m, s, at),
            Step::Unpaid => self.invoice_unpaid(m, s, at),
            Step::Retry => self.retry(m, s, at),
            Step::Skip => self.skip_period(m, s, at),
            Step::ContractEnded => {
                let active = match &s.contract_code {
                    Some(code) => self.contract(code)?.is_some_and(|c| c.status.is_active()),
                    None => false,
                };
                if active {
                    return self.skip_period(m, s, at);
                }
                let e = SubscriptionEvent::Cancel;
                self.end_subscription(m, s, e, "contract_ended", at, "system:subscription")
            }
            Step::ExpireIncomplete => {
                let e = SubscriptionEvent::IncompleteTimedOut;
                self.end_subscription(m, s, e, "incomplete_expired", at, "system:subscription")
            }
            Step::EndAtPeriodEnd => {
                let e = SubscriptionEvent::Cancel;
                self.end_subscription(m, s, e, "period_end", at, "system:subscription")?;
                self.bill_final_usage(m, s, at)
            }
        }
    }

    /// The reminder of the next period's charge; without a contract, its invoice is created
    /// now and its link is in the reminder. With a contract that has ended, no charge is coming
    /// (the subscription is canceled at the period's start): nothing is announced.
    fn remind_renewal(&self, m: &Merchant, s: &SubscriptionRow, at: i64) -> Result<()> {
        let n = s.next_period;
        let f = s.facts(m, None);
        // Under a plan that announces each charge a day ahead, a reminder that could not go out
        // at its time (the subscription was paused then: it goes out as it resumes) holds the
        // charge a day after it, and says so.
        let notice = self.announces_charges(s)?;
        let sent_at = at.max(s.resumed_at_ms.unwrap_or(at));
        let held = rules::charge_not_before(&f, n as u32, notice, sent_at);
        let charge_at = held.unwrap_or(f.boundary(n as u32));
        self.x(
            "UPDATE subscriptions SET reminded_period = ?, charge_not_before_ms = ?
              WHERE subscription_id = ?",
            vec![n.into(), held.into(), s.subscription_id.as_str().into()],
        )?;
        if let Some(code) = &s.contract_code {
            let c = self.contract(code)?;
            // Ended, or its term ends before the charge: no charge is coming to announce.
            if !c.is_some_and(|c| contract_rules::charges_at(c.status, c.expires_at_ms, charge_at))
            {
                return Ok(());
            }
        }
        let mut extra = serde_json::json!({
            "period_index": n,
            "charge_at": format_rfc3339(charge_at),
        });
        if s.contract_code.is_none() {
            let expires = rules::invoice_expires_at(charge_at, &m.config.dunning);
            let o = self.create_invoice(m, s, n, expires)?;
            let wire = self.wire_order(&o, m)?;
            extra["amount"] = serde_json::to_value(wire.amount)?;
            extra["out_trade_no"] = wire.out_trade_no.into();
            extra["pay_by"] = format_rfc3339(charge_at).into();
            // Held for the merchant's approval, it cannot be paid yet: no link until then.
            if o.status == paydesk_shared::OrderStatus::PendingApproval {
                extra["awaiting_approval"] = true.into();
            } else {
                extra["checkout_url"] = wire.checkout_url.into();
            }
        } else {
            // Usage reported until the charge is added then: this is what is known now.
            let units = self.usage_pending(&s.subscription_id)?;
            let (amount, usage) = self.invoice_amount(s, units, true)?;
            extra["amount"] = serde_json::to_value(amount)?;
            extra["usage_amount_so_far"] = usage.into();
            if s.usage_unit_amount.is_some() {
                extra["metered"] = true.into();
            }
            extra["manage_url"] = self.subscription_contract_url(m, s)?.into();
        }
        self.subscription_event(m, at, EventKind::SubscriptionRenewalUpcoming, s, extra)
    }

    /// An invoice held for the merchant's approval was approved before its period starts: the
    /// payer, told it could be paid once the merchant confirmed it, is sent the reminder
    /// again, now with its link (an invoice deducted under a contract is announced by the
    /// deduction; one approved later is the dunning's, whose message carries the link).
    pub fn invoice_approved(&self, m: &Merchant, o: &OrderRow, at: i64) -> Result<()> {
        let (Some(id), Some(n)) = (&o.subscription_id, o.period_index) else {
            return Ok(());
        };
        let s = self.subscription_known(id)?;
        let o = self.order_or_fail(&o.out_trade_no)?;
        let f = s.facts(m, None);
        let due = s.charge_not_before_ms.unwrap_or(f.boundary(n as u32));
        if s.contract_code.is_some() || o.status != paydesk_shared::OrderStatus::NotPay || at >= due
        {
            return Ok(());
        }
        let wire = self.wire_order(&o, m)?;
        let extra = serde_json::json!({
            "period_index": n,
            "charge_at": format_rfc3339(due),
            "amount": wire.amount,
            "out_trade_no": wire.out_trade_no,
            "pay_by": format_rfc3339(due),
            "checkout_url": wire.checkout_url,
        });
        self.subscription_event(m, at, EventKind::SubscriptionRenewalUpcoming, &s, extra)
    }

    /// The next renewal of each subscription charged from the contract `c` that is still
    /// collecting (its charge time, as the reminder names it), for the contract's page. A
    /// metered one shows what is known now, plus the usage until then.
    pub fn upcoming_renewals(&self, c: &ContractRow) -> Result<Vec<(i64, UpcomingCharge)>> {
        let m = self.merchant_or_fail()?;
        let subs: Vec<SubscriptionRow> = self.q(
            &format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE contract_code = ?
                 AND status IN ('trialing', 'active') AND cancel_at_period_end = 0"
            ),
            vec![c.contract_code.as_str().into()],
        )?;
        let mut out = Vec::with_capacity(subs.len());
        for s in subs {
            let n = s.next_period;
            let at = s.charge_not_before_ms.filter(|_| s.reminded_period == n);
            let at = at.unwrap_or(s.facts(&m, None).boundary(n as u32));
            let units = self.usage_pending(&s.subscription_id)?;
            let (amount, _) = self.invoice_amount(&s, units, true)?;
            let charge = UpcomingCharge {
                amount,
                description: s.description.clone(),
                charge_at: format_rfc3339(at),
                plus_usage: s.usage_unit_amount.is_some(),
            };
            out.push((at, charge));
        }
        Ok(out)
    }

    /// Whether the subscription's contract is under a plan that announces each charge a day
    /// ahead (the contract page promises it).
    fn announces_charges(&self, s: &SubscriptionRow) -> Result<bool> {
        let Some(code) = &s.contract_code else {
            return Ok(false);
        };
        let Some(c) = self.contract(code)? else {
            return Ok(false);
        };
        Ok(self.plan_or_fail(&c.plan_id)?.notice != 0)
    }

    /// With a contract: the next period's invoice (created now if it was not, billing the usage
    /// until now), deducted. If the ledger refuses to create it (the account dormant, say),
    /// that is this charge's failure.
    fn collect(&self, m: &Merchant, s: &SubscriptionRow, at: i64) -> Result<()> {
        let n = s.next_period;
        let o = match self.invoice(&s.subscription_id, n)? {
            Some(o) => o,
            None => {
                let f = s.facts(m, None);
                let expires = rules::invoice_expires_at(f.boundary(n as u32), &m.config.dunning);
                match self.create_invoice(m, s, n, expires) {
                    Ok(o) => o,
                    Err(AppError::Refused(r)) => {
                        return self.charge_failed(m, s, None, r.code.as_str(), at)
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        self.charge_scheduled(m, &o, at)
    }

    /// Period `n`'s invoice: an order naming the subscription and period (unique: a period is
    /// never invoiced twice), billing the usage not yet billed.
    pub fn create_invoice(
        &self,
        m: &Merchant,
        s: &SubscriptionRow,
        n: i64,
        expires_at: i64,
    ) -> Result<OrderRow> {
        self.invoice_with(m, s, n, expires_at, true)
    }

    /// An invoice of period `n`: the price (`with_price`) and the usage not billed yet.
    fn invoice_with(
        &self,
        m: &Merchant,
        s: &SubscriptionRow,
        n: i64,
        expires_at: i64,
        with_price: bool,
    ) -> Result<OrderRow> {
        let units = self.usage_pending(&s.subscription_id)?;
        let (amount, usage) = self.invoice_amount(s, units, with_price)?;
        let o = self.store_scheduled_order(
            m,
            Scheduled {
                prefix: "SI",
                description: &s.description,
                amount,
                contract_code: s.contract_code.as_deref(),
                notify_url: s.notify_url.clone(),
                expires_at,
                fingerprint: format!("subscription:{}:{n}", s.subscription_id),
                payer_ref: s.payer_ref.clone(),
            },
        )?;
        self.x(
            "UPDATE orders SET subscription_id = ?, period_index = ?, usage_amount = ?
             WHERE out_trade_no = ?",
            vec![
                s.subscription_id.as_str().into(),
                n.into(),
                (usage as i64).into(),
                o.out_trade_no.as_str().into(),
            ],
        )?;
        self.bill_usage(&s.subscription_id, n)?;
        self.order_or_fail(&o.out_trade_no)
    }

    /// A subscription canceled by the merchant (now or at its period's end) with usage not
    /// billed yet: one last invoice of that usage only, deducted from the contract.
    pub fn bill_final_usage(&self, m: &Merchant, s: &SubscriptionRow, at: i64) -> Result<()> {
        if s.contract_code.is_none() || self.usage_pending(&s.subscription_id)? == 0 {
            return Ok(());
        }
        let last = self.number(
            "SELECT MAX(period_index) AS v FROM orders WHERE subscription_id = ?",
            vec![s.subscription_id.as_str().into()],
        )?;
        let slot = last.map_or(0, |n| n + 1).max(s.next_period);
        // Under a plan that announces each charge a day ahead, this one is too: charged then
        // (ending the contract meanwhile closes it), not now.
        let notice = self.announces_charges(s)?;
        let charge_at = if notice {
            at + contract_rules::NOTICE_LEAD_MS
        } else {
            at
        };
        let expires = rules::invoice_expires_at(charge_at, &m.config.dunning);
        let o = self.invoice_with(m, s, slot, expires, false)?;
        if !notice {
            return self.charge_scheduled(m, &o, at);
        }
        self.x(
            "UPDATE orders SET charge_at_ms = ? WHERE out_trade_no = ?",
            vec![charge_at.into(), o.out_trade_no.as_str().into()],
        )?;
        let wire = self.wire_order(&o, m)?;
        let extra = serde_json::json!({
            "period_index": slot,
            "charge_at": format_rfc3339(charge_at),
            "amount": wire.amount,
            "out_trade_no": wire.out_trade_no,
            "usage_only": true,
            "manage_url": self.subscription_contract_url(m, s)?,
        });
        self.subscription_event(m, at, EventKind::SubscriptionRenewalUpcoming, s, extra)
    }

    /// Without a contract, the invoice was not paid by its boundary: a failed charge.
    fn invoice_unpaid(&self, m: &Merchant, s: &SubscriptionRow, at: i64) -> Result<()> {
        let o = self.invoice(&s.subscription_id, s.next_period)?;
        self.charge_failed(m, s, o.as_ref(), "NOT_PAID", at)
    }

    /// A retry: deduct the invoice again, or (without a contract) count one more missed
    /// reminder and remind again.
    fn retry(&self, m: &Merchant, s: &SubscriptionRow, at: i64) -> Result<()> {
        let o = self.invoice(&s.subscription_id, s.next_period)?;
        match (&s.contract_code, o) {
            (Some(_), _) => self.collect(m, s, at),
            (None, o) => self.charge_failed(m, s, o.as_ref(), "NOT_PAID", at),
        }
    }

    /// The merchant closed the period's invoice: that period is not collected, the next is
    /// (with the usage the closed invoice had billed).
    fn skip_period(&self, m: &Merchant, s: &SubscriptionRow, at: i64) -> Result<()> {
        self.unbill_usage(&s.subscription_id, s.next_period)?;
        self.x(
            "UPDATE subscriptions SET next_period = next_period + 1, failures = 0,
             first_failed_ms = NULL WHERE subscription_id = ?",
            vec![s.subscription_id.as_str().into()],
        )?;
        let to = match s.status {
            SubscriptionStatus::PastDue => SubscriptionStatus::Active,
            other => other,
        };
        self.x(
            "UPDATE subscriptions SET status = ? WHERE subscription_id = ?",
            vec![to.as_str().into(), s.subscription_id.as_str().into()],
        )?;
        self.status_changed(m, s, to, at, "system:subscription")
    }

    /// A charge of the subscription's invoice failed (declined, or unpaid by its time): past
    /// due with the next retry, the second reminder; or, the retries used up, the dunning's end.
    fn charge_failed(
        &self,
        m: &Merchant,
        s: &SubscriptionRow,
        o: Option<&OrderRow>,
        code: &str,
        at: i64,
    ) -> Result<()> {
        if s.status == SubscriptionStatus::Incomplete {
            return self.first_charge_failed(m, s, o, code, at);
        }
        // Paused or ended while the charge was in flight: nothing more to collect.
        let Ok(to) = schedule::advance(s.status, SubscriptionEvent::RenewalFailed) else {
            return Ok(());
        };
        let first = s.first_failed_ms.unwrap_or(at);
        let failures = s.failures + 1;
        self.x(
            "UPDATE subscriptions SET status = ?, first_failed_ms = ?, failures = ?
             WHERE subscription_id = ?",
            vec![
                to.as_str().into(),
                first.into(),
                failures.into(),
                s.subscription_id.as_str().into(),
            ],
        )?;
        let dunning = &m.config.dunning;
        let next = dunning.next_retry(first, failures as usize);
        self.payment_failed_event(m, s, o, code, failures as u32, next, at)?;
        self.status_changed(m, s, to, at, "system:subscription")?;
        if next.is_none() {
            let s = self.subscription_known(&s.subscription_id)?;
            let end = SubscriptionEvent::RetriesExhausted(dunning.final_state);
            self.end_subscription(m, &s, end, "payment_failed", at, "system:dunning")?;
            let id = &s.subscription_id;
            let detail = format!("subscription {id}: {failures} charges failed (last: {code})");
            self.raise_alert("dunning.exhausted", &format!("dunning:{id}"), &detail, at)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn payment_failed_event(
        &self,
        m: &Merchant,
        s: &SubscriptionRow,
        o: Option<&OrderRow>,
        code: &str,
        attempt: u32,
        next_at: Option<i64>,
        at: i64,
    ) -> Result<()> {
        let mut extra = serde_json::json!({
            "attempt": attempt,
            "code": code,
            "next_attempt_at": next_at.map(format_rfc3339),
        });
        if let Some(o) = o {
            let wire = self.wire_order(o, m)?;
            extra["out_trade_no"] = wire.out_trade_no.into();
            extra["amount"] = serde_json::to_value(wire.amount)?;
            if next_at.is_some() {
                extra["checkout_url"] = wire.checkout_url.into();
            }
        }
        extra["next_step"] = match (&s.contract_code, next_at) {
            (_, None) => "no more attempts: the subscription ends",
            (Some(_), _) => "the payer can pay the invoice through checkout_url or fund the contract's account before the next attempt",
            (None, _) => "the payer pays the invoice through checkout_url before the next attempt",
        }
        .into();
        let s = self.subscription_known(&s.subscription_id)?;
        self.subscription_event(m, at, EventKind::SubscriptionPaymentFailed, &s, extra)
    }

    /// The first invoice's deduction failed: it is not retried; the payer may pay it through
    /// its link until the 23 hours run out.
    fn first_charge_failed(
        &self,
        m: &Merchant,
        s: &SubscriptionRow,
        o: Option<&OrderRow>,
        code: &str,
        at: i64,
    ) -> Result<()> {
        let mut extra = serde_json::json!({
            "attempt": 1,
            "code": code,
            "pay_by": s.incomplete_until_ms.map(format_rfc3339),
            "next_step": "the payer pays the first invoice through checkout_url before pay_by, or the subscription expires",
        });
        if let Some(o) = o {
            let wire = self.wire_order(o, m)?;
            extra["out_trade_no"] = wire.out_trade_no.into();
            extra["amount"] = serde_json::to_value(wire.amount)?;
            extra["checkout_url"] = wire.checkout_url.into();
        }
        self.subscription_event(m, at, EventKind::SubscriptionPaymentFailed, s, extra)
    }

    /// An order the ledger scheduled changed outside a payment (approved, rejected): its
    /// subscription or plan looks again at what is next.
    pub fn schedule_of_order_moved(&self, m: &Merchant, o: &OrderRow) -> Result<()> {
        if let Some(id) = &o.subscription_id {
            self.reschedule(m, id)?;
        }
        if let Some(no) = &o.plan_no {
            self.reschedule_plan(no)?;
        }
        Ok(())
    }

    /// Called by the payment as an invoice is paid: the period is collected, the subscription
    /// active, the next period next.
    pub fn invoice_paid(&self, m: &Merchant, o: &OrderRow, now: i64) -> Result<()> {
        let (Some(id), Some(n)) = (&o.subscription_id, o.period_index) else {
            return Ok(());
        };
        let s = self.subscription_known(id)?;
        let Ok(to) = schedule::advance(s.status, SubscriptionEvent::Paid) else {
            // The last usage of a canceled subscription is owed: it stays paid.
            if o.usage_amount == Some(o.amount_total) && o.amount_total > 0 {
                return Ok(());
            }
            // Paused or ended while the payment was in flight: nothing more is charged, so the
            // money goes back. The usage it billed is still owed: unbilled again, it is charged
            // on its own once the subscription has ended (or billed after a resume).
            let refunded = self.refund_rest(m, o, "the subscription was paused or ended")?;
            if refunded > 0 && o.usage_amount.is_some_and(|u| u > 0) {
                self.unbill_usage(id, n)?;
                if s.status != SubscriptionStatus::Paused {
                    self.bill_final_usage(m, &s, now)?;
                }
            }
            return Ok(());
        };
        self.x(
            "UPDATE subscriptions SET status = ?, next_period = MAX(next_period, ?), failures = 0,
             first_failed_ms = NULL, incomplete_until_ms = NULL WHERE subscription_id = ?",
            vec![to.as_str().into(), (n + 1).into(), id.as_str().into()],
        )?;
        self.status_changed(m, &s, to, now, "system:subscription")?;
        self.reschedule(m, id)
    }

    /// Called by the payment as a payment of an invoice fails: a deduction's failure is a
    /// failed charge (dunning); a payer's failed attempt on the pay page only lets the schedule
    /// look again (the invoice is still payable).
    pub fn invoice_failed(
        &self,
        m: &Merchant,
        o: &OrderRow,
        code: &str,
        by_contract: bool,
        now: i64,
    ) -> Result<()> {
        let Some(id) = &o.subscription_id else {
            return Ok(());
        };
        if by_contract {
            let s = self.subscription_known(id)?;
            let o = self.order_or_fail(&o.out_trade_no)?;
            self.charge_failed(m, &s, Some(&o), code, now)?;
        }
        self.reschedule(m, id)
    }

    fn subscription_contract_url(
        &self,
        m: &Merchant,
        s: &SubscriptionRow,
    ) -> Result<Option<String>> {
        let Some(code) = &s.contract_code else {
            return Ok(None);
        };
        match self.contract(code)? {
            Some(c) => Ok(Some(self.contract_url(&c, m)?)),
            None => Ok(None),
        }
    }
}
