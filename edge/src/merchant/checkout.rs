//! The payer's side inside the merchant object: what the pay page shows, and paying through the
//! channel. A payment's state change, its daily-limit accounting and its event commit together,
//! so paying twice never charges twice and the daily limit cannot be overrun by a race.

use super::ledger::{fail, param_fail, Fail, Ledger, Merchant, OrderRow};
use super::protocol::Reply;
use crate::channel::{sandbox::Sandbox, Channel, Instrument, Outcome};
use crate::domain::card::{self, CardProblem};
use crate::domain::limits;
use crate::domain::state::{transition, Event};
use paydesk_shared::api::{ErrorCode, PayMethod, PayRequest, PayResult};
use paydesk_shared::{CheckoutView, OrderStatus};
use serde::Deserialize;

impl Ledger<'_> {
    pub fn checkout(&self, out_trade_no: &str) -> Result<Reply, Fail> {
        let m = self.merchant_or_fail()?;
        self.run_due_for(&m, out_trade_no)?;
        let o = self.order_or_fail(out_trade_no)?;
        if o.opened == 0 {
            self.x(
                "UPDATE orders SET opened = 1 WHERE out_trade_no = ?",
                vec![out_trade_no.into()],
            )?;
        }
        Reply::json(
            200,
            &serde_json::json!({
                "view": self.checkout_view(&m, &o)?,
                "sandbox": m.sandbox(),
                "allowed_origins": m.config.allowed_origins,
            }),
        )
    }

    pub fn checkout_view(&self, m: &Merchant, o: &OrderRow) -> Result<CheckoutView, Fail> {
        Ok(CheckoutView {
            merchant: m.branding.clone(),
            out_trade_no: o.out_trade_no.clone(),
            description: o.description.clone(),
            amount: o.amount()?,
            status: o.status()?,
            time_expire: paydesk_shared::time::format_rfc3339(o.time_expire_ms),
            methods: o.methods(),
        })
    }

    pub fn pay(&self, out_trade_no: &str, pay: PayRequest) -> Result<Reply, Fail> {
        self.atomically(|l| l.pay_inner(out_trade_no, &pay))
    }

    fn pay_inner(&self, out_trade_no: &str, pay: &PayRequest) -> Result<Reply, Fail> {
        let m = self.merchant_or_fail()?;
        if let Some(key) = &pay.submission_key {
            let ok = (16..=64).contains(&key.len())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok {
                return Err(param_fail(
                    "submission_key",
                    "submission_key must be 16-64 characters of A-Z a-z 0-9 _ -",
                ));
            }
            #[derive(Deserialize)]
            struct Seen {
                out_trade_no: String,
                reply_json: String,
            }
            let seen: Vec<Seen> = self.q(
                "SELECT out_trade_no, reply_json FROM pay_submissions WHERE submission_key = ?",
                vec![key.as_str().into()],
            )?;
            if let Some(s) = seen.into_iter().next() {
                if s.out_trade_no != out_trade_no {
                    return Err(param_fail(
                        "submission_key",
                        "this submission key belongs to another order",
                    ));
                }
                // The same submission again (a double click, a resent form): the first answer.
                return Ok(serde_json::from_str(&s.reply_json)?);
            }
        }
        let reply = self.attempt(&m, out_trade_no, pay);
        // Remember the answer for this submission key, whatever it was.
        if let Some(key) = &pay.submission_key {
            let stored = match &reply {
                Ok(r) => r.clone(),
                Err(Fail::Api { .. }) => return reply,
                Err(Fail::Internal(_)) => return reply,
            };
            self.x(
                "INSERT INTO pay_submissions (submission_key, out_trade_no, reply_json) VALUES (?, ?, ?)",
                vec![key.as_str().into(), out_trade_no.into(), serde_json::to_string(&stored)?.into()],
            )?;
        }
        reply
    }

    fn attempt(&self, m: &Merchant, out_trade_no: &str, pay: &PayRequest) -> Result<Reply, Fail> {
        self.run_due_for(m, out_trade_no)?;
        let o = self.order_or_fail(out_trade_no)?;
        let now = self.now(m);
        m.tier
            .check_allowed()
            .map_err(|c| fail(c, "this merchant cannot collect payments automatically"))?;
        // Refuse what the order's state refuses before looking at the instrument.
        if let Err(code) = transition(o.status()?, Event::StartPay) {
            let msg = match code {
                ErrorCode::OrderPaid => "this order is already paid",
                ErrorCode::OrderClosed => "this order is closed and can no longer be paid",
                ErrorCode::PendingApproval => "this order awaits the merchant's confirmation",
                ErrorCode::OrderPaying => "a payment of this order is in progress",
                _ => "this order cannot be paid now",
            };
            return Err(fail(code, msg));
        }
        if !o.methods().contains(&pay.method) {
            return Err(param_fail(
                "method",
                "this payment method is not offered for this order",
            ));
        }
        let instrument = match pay.method {
            PayMethod::Balance => match pay.wallet.as_deref() {
                Some(w @ ("wallet_ok" | "wallet_low")) => Instrument::Wallet(w.to_owned()),
                _ => {
                    return Err(param_fail(
                        "wallet",
                        "choose a wallet: wallet_ok or wallet_low (sandbox)",
                    ))
                }
            },
            method @ (PayMethod::BankCard | PayMethod::CreditCard) => {
                let c = pay
                    .card
                    .as_ref()
                    .ok_or_else(|| param_fail("card", "card details are required"))?;
                let ymd = paydesk_shared::time::format_rfc3339(now);
                let (year, month) = (
                    ymd[0..4].parse().unwrap_or(0),
                    ymd[5..7].parse().unwrap_or(0),
                );
                let digits = card::check(c, year, month).map_err(|p| match p {
                    CardProblem::Number => {
                        param_fail("card.number", "the card number is not valid")
                    }
                    CardProblem::Expiry => param_fail("card.exp", "the expiry date is not valid"),
                    CardProblem::Cvc => {
                        param_fail("card.cvc", "the security code must be 3 or 4 digits")
                    }
                })?;
                Instrument::Card { method, digits }
            }
        };
        let last4 = match &instrument {
            Instrument::Card { digits, .. } => Some(card::last4(digits).to_owned()),
            Instrument::Wallet(_) => None,
        };
        // The daily limit is checked and reserved in the same transaction as the payment.
        let limit = m.daily_limit().ok_or_else(|| {
            fail(
                ErrorCode::AccountNotAllowed,
                "this merchant cannot collect payments",
            )
        })?;
        let day = limits::merchant_day(now, m.config.utc_offset_minutes);
        let paid_today = self.paid_on(&day)?;
        let amount = o.amount_total as u64;
        limits::daily_check(paid_today, amount, limit).map_err(|c| {
            fail(
                c,
                "the merchant's daily collection limit is reached; try again tomorrow",
            )
        })?;

        let attempt = if o.card_last4 == last4 {
            o.pay_attempts as u32
        } else {
            0
        };
        self.apply(&o, Event::StartPay, now, "payer")?;
        self.x(
            "UPDATE orders SET method = ?, card_last4 = ?, pay_attempts = ? WHERE out_trade_no = ?",
            vec![
                pay.method.as_str().into(),
                last4.clone().into(),
                i64::from(attempt + 1).into(),
                out_trade_no.into(),
            ],
        )?;
        let o = self.order_or_fail(out_trade_no)?;
        match Sandbox.authorize(&instrument, amount, attempt) {
            Outcome::Succeeded => {
                self.reserve_daily(&day, amount)?;
                self.settle_paid(m, &o, now, "payer")?;
                Reply::json(
                    200,
                    &PayResult {
                        status: OrderStatus::Success,
                        code: None,
                        message: None,
                        next_step: None,
                    },
                )
            }
            Outcome::Pending { after_ms } => {
                self.reserve_daily(&day, amount)?;
                self.x(
                    "UPDATE orders SET pending_until_ms = ? WHERE out_trade_no = ?",
                    vec![(now + after_ms).into(), out_trade_no.into()],
                )?;
                Reply::json(
                    200,
                    &PayResult {
                        status: OrderStatus::UserPaying,
                        code: None,
                        message: None,
                        next_step: None,
                    },
                )
            }
            Outcome::Failed(d) => {
                self.apply(&o, Event::PayFailed, now, "channel")?;
                self.event(
                    now,
                    "order.failed",
                    out_trade_no,
                    &serde_json::json!({"out_trade_no": out_trade_no, "code": d.code()}),
                )?;
                Reply::json(
                    402,
                    &PayResult {
                        status: OrderStatus::PayError,
                        code: Some(d.code().to_owned()),
                        message: Some(d.message().to_owned()),
                        next_step: Some(d.next_step()),
                    },
                )
            }
        }
    }

    fn paid_on(&self, day: &str) -> Result<u64, Fail> {
        #[derive(Deserialize)]
        struct T {
            paid_total: i64,
        }
        let rows: Vec<T> = self.q(
            "SELECT paid_total FROM daily_totals WHERE day = ?",
            vec![day.into()],
        )?;
        Ok(rows.first().map_or(0, |t| t.paid_total as u64))
    }

    fn reserve_daily(&self, day: &str, amount: u64) -> Result<(), Fail> {
        self.x(
            "INSERT INTO daily_totals (day, paid_total) VALUES (?, ?)
             ON CONFLICT (day) DO UPDATE SET paid_total = paid_total + excluded.paid_total",
            vec![day.into(), (amount as i64).into()],
        )
    }

    /// Gives back the reservation of a pending payment that failed (on the day it was made).
    pub fn release_daily(&self, m: &Merchant, o: &OrderRow) -> Result<(), Fail> {
        let started =
            o.pending_until_ms.unwrap_or(self.now(m)) - crate::channel::sandbox::SLOW_PENDING_MS;
        let day = limits::merchant_day(started, m.config.utc_offset_minutes);
        self.x(
            "UPDATE daily_totals SET paid_total = MAX(0, paid_total - ?) WHERE day = ?",
            vec![o.amount_total.into(), day.into()],
        )
    }

    /// USERPAYING → SUCCESS: the money moved.
    pub fn settle_paid(
        &self,
        m: &Merchant,
        o: &OrderRow,
        now: i64,
        actor: &str,
    ) -> Result<(), Fail> {
        self.apply(o, Event::PaySucceeded, now, actor)?;
        self.x(
            "UPDATE orders SET paid_at_ms = ?, pending_until_ms = NULL WHERE out_trade_no = ?",
            vec![now.into(), o.out_trade_no.as_str().into()],
        )?;
        let _ = m;
        self.event(now, "order.paid", &o.out_trade_no, &serde_json::json!({"out_trade_no": o.out_trade_no, "status": "SUCCESS", "amount": o.amount()?}))
    }
}
