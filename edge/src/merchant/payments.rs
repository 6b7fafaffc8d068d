//! The payer's side: what the pay page shows, and paying through the channel. A payment's state
//! change, its daily-limit accounting and its event commit together, so paying twice never
//! charges twice and the daily limit cannot be overrun by a race. A one-time submission key
//! makes a resent pay request (a double tap, a reloaded form) answer the first one's result.

use super::protocol::{CheckoutReply, Pay};
use super::risk::Payer;
use super::store::{Ledger, Merchant, OrderRow, Result};
use crate::channel::sandbox::SLOW_PENDING_MS;
use crate::channel::{Instrument, Outcome};
use crate::domain::events::EventKind;
use crate::domain::limits;
use crate::domain::order_rules;
use crate::domain::payment;
use crate::domain::risk_rules::{Action, Decision};
use crate::domain::state::Event;
use paydesk_shared::api::{NextStep, PayMethod, PayResult};
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::{CheckoutView, OrderStatus};
use serde::Deserialize;

/// The decline code of an attempt a risk rule blocked.
pub const RISK_BLOCKED: &str = "RISK_BLOCKED";
/// The code of a payment that went through into the review queue.
pub const IN_REVIEW: &str = "IN_REVIEW";

impl Ledger<'_> {
    /// What the pay page shows; the order is marked as opened by a payer (which delays how
    /// soon the merchant may close it, and moves no due time).
    pub fn checkout(&self, out_trade_no: &str) -> Result<CheckoutReply> {
        let m = self.merchant_or_fail()?;
        let o = self.queried_order(&m, out_trade_no)?;
        if o.opened == 0 {
            self.x(
                "UPDATE orders SET opened = 1 WHERE out_trade_no = ?",
                vec![out_trade_no.into()],
            )?;
        }
        Ok(CheckoutReply {
            view: CheckoutView {
                merchant: m.branding.clone(),
                out_trade_no: o.out_trade_no.clone(),
                description: o.description.clone(),
                amount: o.amount()?,
                status: o.status,
                time_expire: format_rfc3339(order_rules::payable_until(
                    &o.deadlines(),
                    m.config.remind_grace_seconds,
                )),
                methods: o.methods(),
                installment: self.part_of_plan(&o)?,
                release_days: m.config.release_days,
                auto_refund_hours: m.config.auto_refund_hours,
                in_review: o.in_review != 0,
                review_hours: self.review_hours(&m, &o)?,
            },
            sandbox: m.sandbox(),
            allowed_origins: m.config.allowed_origins.clone(),
            cashier: self.channel_summary()?.is_some(),
            now_ms: self.now(&m),
        })
    }

    /// Cards, wallets and a contract's deductions go through the sandbox's channels only: never
    /// for a live merchant, nor for one paid through an upstream channel's cashier (a sandbox
    /// one rehearsing it).
    pub fn may_charge_instruments(&self, m: &Merchant) -> Result<()> {
        let upstream = self.channel_summary()?.is_some();
        limits::may_pay_through(m.sandbox() && !upstream, false)?;
        Ok(())
    }

    pub fn pay(&self, p: &Pay) -> Result<PayResult> {
        let m = self.merchant_or_fail()?;
        let Some(key) = &p.pay.submission_key else {
            return self.attempt(&m, p);
        };
        payment::check_submission_key(key)?;
        if let Some(seen) = self.submission(key)? {
            if seen.out_trade_no != p.out_trade_no {
                return Err(payment::key_of_another_order().into());
            }
            // The same submission again: the first answer.
            return seen.result();
        }
        let result = self.attempt(&m, p)?;
        // Remember the answer for this submission key (a refusal is not remembered: the payer
        // may fix and resend with the same key).
        self.x(
            "INSERT INTO pay_submissions (submission_key, out_trade_no, reply_json) VALUES (?, ?, ?)",
            vec![key.as_str().into(), p.out_trade_no.as_str().into(), serde_json::to_string(&result)?.into()],
        )?;
        Ok(result)
    }

    fn submission(&self, key: &str) -> Result<Option<Submission>> {
        self.first(
            "SELECT out_trade_no, reply_json FROM pay_submissions WHERE submission_key = ?",
            vec![key.into()],
        )
    }

    fn attempt(&self, m: &Merchant, p: &Pay) -> Result<PayResult> {
        let o = self.current_order(m, &p.out_trade_no)?;
        // Refuse what the order's state refuses before looking at the instrument.
        payment::check_payable(o.status)?;
        self.refuse_if_frozen()?;
        let now = self.now(m);
        let (year, month) = paydesk_shared::time::year_month(now);
        let instrument = payment::instrument(&p.pay, &o.methods(), year, month)?;
        let who = Payer {
            payer_ref: o.payer_ref.as_deref(),
            instrument: &instrument,
            ip: p.client_ip.as_deref(),
        };
        let (seq, decision) = self.judge(m, &o, &who, now)?;
        let review = match decision {
            Some(d) if d.action == Action::Block => return self.blocked(m, &o, &d, now),
            Some(d) if d.action == Action::Review => {
                self.open_review(m, &o, &d, now)?;
                true
            }
            _ => false,
        };
        let attempt = payment::attempt_number(
            o.card_last4.as_deref(),
            payment::last4(&instrument).as_deref(),
            o.pay_attempts as u32,
        );
        let how = Charge {
            method: p.pay.method,
            instrument: &instrument,
            attempt,
            actor: "payer",
        };
        let result = self.charge(m, &o, how)?;
        // Only a failed charge drops its review: one the channel left pending may still be
        // paid (`deadlines.rs` settles it, and drops the review if it fails).
        if result.status == OrderStatus::PayError {
            if review {
                self.drop_review(&o, now)?;
            }
            self.attempt_declined(m, seq, now)?;
        }
        Ok(match result.status {
            OrderStatus::Success if review => PayResult {
                code: Some(IN_REVIEW.into()),
                message: Some(format!(
                    "paid; the merchant is checking this payment: not approved within {} hours, \
                     it is refunded in full",
                    m.config.risk.review_hours
                )),
                ..result
            },
            _ => result,
        })
    }

    /// A risk rule blocked the attempt before the channel saw it: the attempt fails (nothing
    /// charged), with the rule in the audit chain and `RISK_BLOCKED` in `order.failed`.
    pub fn blocked(&self, m: &Merchant, o: &OrderRow, d: &Decision, now: i64) -> Result<PayResult> {
        self.audit_decision(now, "order.block", &o.out_trade_no, d)?;
        self.apply(o, Event::StartPay, now, "payer")?;
        let o = self.order_or_fail(&o.out_trade_no)?;
        self.payment_failed(m, &o, RISK_BLOCKED, false, now)?;
        Ok(PayResult {
            status: OrderStatus::PayError,
            code: Some(RISK_BLOCKED.into()),
            message: Some(
                "the merchant's risk checks stopped this payment; nothing was charged".into(),
            ),
            next_step: Some(NextStep::None),
        })
    }

    /// Moves an order's money through the channel: the collection rules, the daily limit
    /// checked and reserved in the same transaction, the state machine, and the channel's
    /// answer applied. The payer's payment and a contract's deduction both come here.
    pub fn charge(&self, m: &Merchant, o: &OrderRow, how: Charge<'_>) -> Result<PayResult> {
        let now = self.now(m);
        m.may_collect()?;
        self.may_charge_instruments(m)?;
        self.refuse_if_frozen()?;
        let last4 = payment::last4(how.instrument);
        let day = limits::merchant_day(now, m.config.utc_offset_minutes);
        let amount = o.amount_total as u64;
        limits::check_daily(m.daily_limit(), self.paid_on(&day)?, amount)?;
        self.apply(o, Event::StartPay, now, how.actor)?;
        self.x(
            "UPDATE orders SET method = ?, card_last4 = ?, pay_attempts = ? WHERE out_trade_no = ?",
            vec![
                how.method.as_str().into(),
                last4.into(),
                i64::from(how.attempt + 1).into(),
                o.out_trade_no.as_str().into(),
            ],
        )?;
        let o = self.order_or_fail(&o.out_trade_no)?;
        let routed = self.route_charge(m, &o, how.instrument, how.attempt, now)?;
        self.x(
            "UPDATE orders SET channel = ? WHERE out_trade_no = ?",
            vec![
                routed.channel.as_str().into(),
                o.out_trade_no.as_str().into(),
            ],
        )?;
        match routed.outcome {
            Outcome::Succeeded => {
                self.reserve_daily(&day, amount)?;
                self.settle_paid(m, &o, now, how.actor)?;
                Ok(answer(OrderStatus::Success))
            }
            Outcome::Pending { after_ms } => {
                self.reserve_daily(&day, amount)?;
                self.x(
                    "UPDATE orders SET pending_until_ms = ? WHERE out_trade_no = ?",
                    vec![(now + after_ms).into(), o.out_trade_no.as_str().into()],
                )?;
                Ok(answer(OrderStatus::UserPaying))
            }
            failed => {
                let d = failed.decline();
                self.payment_failed(m, &o, d.code(), how.actor == "contract", now)?;
                Ok(PayResult {
                    status: OrderStatus::PayError,
                    code: Some(d.code().to_owned()),
                    message: Some(d.message().to_owned()),
                    next_step: Some(d.next_step()),
                })
            }
        }
    }

    /// USERPAYING → PAYERROR with the channel's code, and its event. `by_contract`: the charge
    /// was a contract's deduction (a payer's failed attempt on a pay page is not a failed
    /// collection of a subscription or plan).
    pub fn payment_failed(
        &self,
        m: &Merchant,
        o: &OrderRow,
        code: &str,
        by_contract: bool,
        now: i64,
    ) -> Result<()> {
        self.apply(o, Event::PayFailed, now, "channel")?;
        let extra = serde_json::json!({"out_trade_no": o.out_trade_no, "code": code});
        self.order_event(m, now, EventKind::OrderFailed, &o.out_trade_no, extra)?;
        self.invoice_failed(m, o, code, by_contract, now)?;
        self.part_failed(m, o, code, by_contract, now)
    }

    pub fn paid_on(&self, day: &str) -> Result<u64> {
        #[derive(Deserialize)]
        struct T {
            paid_total: i64,
        }
        let t: Option<T> = self.first(
            "SELECT paid_total FROM daily_totals WHERE day = ?",
            vec![day.into()],
        )?;
        Ok(t.map_or(0, |t| t.paid_total as u64))
    }

    pub fn reserve_daily(&self, day: &str, amount: u64) -> Result<()> {
        self.x(
            "INSERT INTO daily_totals (day, paid_total) VALUES (?, ?)
             ON CONFLICT (day) DO UPDATE SET paid_total = paid_total + excluded.paid_total",
            vec![day.into(), (amount as i64).into()],
        )
    }

    /// Gives back the reservation of a pending payment that failed (on the day it was made).
    pub fn release_daily(&self, m: &Merchant, o: &OrderRow) -> Result<()> {
        let started = o.pending_until_ms.unwrap_or(self.now(m)) - SLOW_PENDING_MS;
        let day = limits::merchant_day(started, m.config.utc_offset_minutes);
        self.x(
            "UPDATE daily_totals SET paid_total = MAX(0, paid_total - ?) WHERE day = ?",
            vec![o.amount_total.into(), day.into()],
        )
    }

    /// USERPAYING → SUCCESS: the money moved.
    pub fn settle_paid(&self, m: &Merchant, o: &OrderRow, now: i64, actor: &str) -> Result<()> {
        self.apply(o, Event::PaySucceeded, now, actor)?;
        self.book_fee(m, o, now)?;
        let (held_until, auto_refund_at) = crate::domain::escrow_rules::schedule(
            now,
            m.config.release_days,
            m.config.auto_refund_hours,
        );
        self.x(
            "UPDATE orders SET paid_at_ms = ?, pending_until_ms = NULL, held_until_ms = ?,
             auto_refund_at_ms = ?, paid_to = ? WHERE out_trade_no = ?",
            vec![
                now.into(),
                held_until.into(),
                auto_refund_at.into(),
                m.branding.display_name.as_str().into(),
                o.out_trade_no.as_str().into(),
            ],
        )?;
        let extra = serde_json::json!({"out_trade_no": o.out_trade_no, "status": "SUCCESS", "amount": o.amount()?});
        self.order_event(m, now, EventKind::OrderPaid, &o.out_trade_no, extra)?;
        self.grant_entitlement(m, o, now)?;
        self.invoice_paid(m, o, now)?;
        self.part_paid(m, o, now)?;
        self.refund_if_rejected_in_review(m, o)
    }
}

/// How an order is charged: with what, which attempt of the series, and on whose behalf.
pub struct Charge<'a> {
    pub method: PayMethod,
    pub instrument: &'a Instrument,
    pub attempt: u32,
    /// Who the audit chain names: the payer, or the contract charging without them.
    pub actor: &'a str,
}

fn answer(status: OrderStatus) -> PayResult {
    PayResult {
        status,
        code: None,
        message: None,
        next_step: None,
    }
}

/// A remembered submission and its answer.
#[derive(Deserialize)]
struct Submission {
    out_trade_no: String,
    reply_json: String,
}

impl Submission {
    fn result(&self) -> Result<PayResult> {
        /// Answers were once stored HTTP-shaped (`{status, body}`); read both.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Result(PayResult),
            Http { body: PayResult },
        }
        Ok(match crate::json_text::from_text(&self.reply_json)? {
            Stored::Result(r) | Stored::Http { body: r } => r,
        })
    }
}
