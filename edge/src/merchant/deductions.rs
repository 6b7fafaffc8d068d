//! Deductions: the merchant charges an active contract without the payer. A deduction is an
//! ordinary order in the same ledger (same rules, refunds, queries and notifications) that
//! names its contract and is paid from the contract's instrument, at once or, under a plan
//! with a pre-deduction notice, a day after the payer was told. The plan's limits (per
//! deduction, per period on the merchant's calendar) are checked in the transaction that
//! creates it, so concurrent deductions cannot overrun them.

use super::contracts::ContractRow;
use super::payments::Charge;
use super::store::{Ledger, Merchant, OrderRow, Result};
use crate::domain::contract_rules as rules;
use crate::domain::events::EventKind;
use crate::domain::idempotency::{self, Repeat};
use crate::domain::order_rules::{self, CloseReason};
use crate::domain::refusal::Refusal;
use crate::error::AppError;
use paydesk_shared::api::{CreateOrder, ErrorCode, Order, PayResult};
use paydesk_shared::contract::{ContractStatus, CreateDeduction};
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::{Money, OrderStatus};
use serde::Deserialize;

/// A deduction not charged by this long after its charge time closes.
const CHARGE_GRACE_MS: i64 = 24 * 3_600_000;

impl Ledger<'_> {
    /// `POST /v1/contracts/{contract_code}/deductions` (and v2 `pappayapply`, with its protocol
    /// details in `v2_json`): the order, and whether it was created now.
    pub fn deduct(
        &self,
        m: &Merchant,
        contract_code: &str,
        req: &CreateDeduction,
        v2_json: Option<String>,
    ) -> Result<(Order, bool)> {
        rules::validate_deduction(req)?;
        let fingerprint = rules::fingerprint(&(contract_code, req));
        match idempotency::repeat(
            self.order(&req.out_trade_no)?,
            |o| &o.fingerprint,
            &fingerprint,
        ) {
            Repeat::Same(_) => {
                let o = self.current_order(m, &req.out_trade_no)?;
                return Ok((self.wire_order(&o, m)?, false));
            }
            Repeat::Other => return Err(order_rules::reused_number().into()),
            Repeat::New => {}
        }
        self.refuse_if_frozen()?;
        let c = self.current_contract(m, contract_code)?;
        if c.status != ContractStatus::Active {
            return Err(Refusal::new(
                ErrorCode::ContractNotActive,
                format!(
                    "this contract is {} and cannot be charged",
                    c.status.as_str()
                ),
            )
            .into());
        }
        let plan = self.plan_or_fail(&c.plan_id)?;
        let now = self.now(m);
        let signed_at = c.signed_at_ms.unwrap_or(c.created_at_ms);
        let earlier = match plan.notice {
            0 => 0,
            _ => self.deductions_since(contract_code, i64::MIN)?,
        };
        let charge_at = rules::charge_at(plan.notice != 0, earlier, signed_at, now);
        if !rules::charges_at(c.status, c.expires_at_ms, charge_at) {
            return Err(Refusal::new(
                ErrorCode::ContractNotActive,
                "this contract's term ends before the deduction could be charged",
            )
            .into());
        }
        // Counted in the period it is charged in, as every deduction is.
        let since = rules::period_start(charge_at, plan.period, m.config.utc_offset_minutes);
        rules::check_limits(
            req.amount,
            plan.max_amount as u64,
            self.deductions_since(contract_code, since)?,
            plan.max_per_period as u32,
            plan.period,
        )?;
        let order = CreateOrder {
            out_trade_no: req.out_trade_no.clone(),
            amount: Some(Money::cny(req.amount)),
            item_id: None,
            description: req.description.clone(),
            time_expire: Some(format_rfc3339(charge_at + CHARGE_GRACE_MS)),
            timeout_action: None,
            // A deduction's events go where its contract's do, unless it names its own URL.
            notify_url: req.notify_url.clone().or_else(|| c.notify_url.clone()),
            attach: req.attach.clone(),
            tags: None,
            limit_pay: c.method.map(|method| vec![method]),
            payer_ref: None,
            splits: None,
            contact: None,
        };
        let o = self.insert_order(m, &order, fingerprint, v2_json)?;
        self.x(
            "UPDATE orders SET contract_code = ?, charge_at_ms = ? WHERE out_trade_no = ?",
            vec![
                contract_code.into(),
                charge_at.into(),
                o.out_trade_no.as_str().into(),
            ],
        )?;
        let o = self.order_or_fail(&o.out_trade_no)?;
        if charge_at > now {
            self.announce(m, &c, &o, charge_at, now)?;
        } else if o.status == OrderStatus::NotPay {
            self.charge_deduction(m, &o, &c)?;
        }
        let o = self.order_or_fail(&o.out_trade_no)?;
        Ok((self.wire_order(&o, m)?, true))
    }

    /// A schedule on contract `c` created at `now` keeps its plan's pre-deduction notice, if it
    /// has one (`contract_rules::check_schedule_notice`).
    pub fn keeps_notice(
        &self,
        c: &ContractRow,
        reminder_hours: u32,
        charges: &[i64],
        now: i64,
        first: &'static str,
    ) -> Result<()> {
        if self.plan_or_fail(&c.plan_id)?.notice == 0 {
            return Ok(());
        }
        let earlier = self.deductions_since(&c.contract_code, i64::MIN)?;
        let signed_at = c.signed_at_ms.unwrap_or(c.created_at_ms);
        rules::check_schedule_notice(reminder_hours, charges, earlier, signed_at, now, first)?;
        Ok(())
    }

    /// Deductions of a contract that count against its plan's period: charged since
    /// `since_ms` (paid then, or to be charged then, or asked for then and not charged yet), and
    /// not declined or closed. By when it is charged, so an instalment part opened in one period
    /// and deducted in the next, or an invoice retried into the next, counts in the period the
    /// payer pays it; none is charged later than `rules::CHARGED_WITHIN_MS` after it was made,
    /// which bounds the rows read.
    pub fn deductions_since(&self, contract_code: &str, since_ms: i64) -> Result<u32> {
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        let made_after = since_ms.saturating_sub(rules::CHARGED_WITHIN_MS);
        let n: Option<N> = self.first(
            "SELECT COUNT(*) AS n FROM orders WHERE contract_code = ? AND created_at_ms >= ?
             AND COALESCE(paid_at_ms, charge_at_ms, created_at_ms) >= ?
             AND status NOT IN ('PAYERROR', 'CLOSED')",
            vec![contract_code.into(), made_after.into(), since_ms.into()],
        )?;
        Ok(n.map_or(0, |n| n.n as u32))
    }

    /// The pre-deduction notice: the merchant is told what will be charged and when, with the
    /// payer's link to the contract's page (which lists it, and where the contract can be ended
    /// before it is charged).
    fn announce(
        &self,
        m: &Merchant,
        c: &ContractRow,
        o: &OrderRow,
        charge_at: i64,
        now: i64,
    ) -> Result<()> {
        let extra = serde_json::json!({
            "charge_at": format_rfc3339(charge_at),
            "manage_url": self.contract_url(c, m)?,
        });
        let kind = EventKind::ContractDeductionNotice;
        self.order_event(m, now, kind, &o.out_trade_no, extra)
    }

    /// Charges a deduction from its contract's instrument, if the contract is still active
    /// (else it closes, never charged). A decline leaves it `PAYERROR` with the channel's code.
    pub fn charge_deduction(
        &self,
        m: &Merchant,
        o: &OrderRow,
        c: &ContractRow,
    ) -> Result<PayResult> {
        let now = self.now(m);
        let in_force = rules::charges_at(c.status, c.expires_at_ms, now);
        let Some((method, instrument)) = c.instrument().filter(|_| in_force) else {
            self.close_order(m, o, CloseReason::ContractEnded, now, "system:contract")?;
            return Ok(PayResult {
                status: OrderStatus::Closed,
                code: Some(ErrorCode::ContractNotActive.as_str().into()),
                message: None,
                next_step: None,
            });
        };
        let how = Charge {
            method,
            instrument: &instrument,
            attempt: self.failed_in_a_row(&c.contract_code)?,
            actor: "contract",
        };
        self.charge(m, o, how)
    }

    /// A deduction that reached its charge time. A refusal of the collection rules (the daily
    /// limit, the account) is this deduction's failure, recorded as such; the rest of what
    /// fell due still happens.
    pub fn charge_due_deduction(&self, m: &Merchant, o: &OrderRow, now: i64) -> Result<()> {
        let c = o
            .contract_code
            .as_deref()
            .map(|code| self.contract(code))
            .transpose()?
            .flatten()
            .ok_or_else(|| AppError::internal("a deduction without its contract"))?;
        match self.charge_deduction(m, o, &c) {
            Ok(_) => Ok(()),
            Err(AppError::Refused(r)) => {
                self.apply(o, crate::domain::state::Event::StartPay, now, "contract")?;
                let o = self.order_or_fail(&o.out_trade_no)?;
                self.payment_failed(m, &o, r.code.as_str(), true, now)
            }
            Err(e) => Err(e),
        }
    }

    /// How many of a contract's deductions failed since its last successful one: the sandbox's
    /// "fails once, then succeeds" card succeeds on the next deduction.
    fn failed_in_a_row(&self, contract_code: &str) -> Result<u32> {
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        let n: Option<N> = self.first(
            "SELECT COUNT(*) AS n FROM orders WHERE contract_code = ? AND status = 'PAYERROR'
             AND created_at_ms >= COALESCE((SELECT MAX(created_at_ms) FROM orders
                 WHERE contract_code = ? AND status IN ('SUCCESS', 'REFUND')), 0)",
            vec![contract_code.into(), contract_code.into()],
        )?;
        Ok(n.map_or(0, |n| n.n as u32))
    }

    /// Deducts an order the ledger scheduled (an invoice, an installment part) from its
    /// contract within the contract plan's limits. A refusal (a limit, the daily limit, the
    /// account) fails this charge like a decline would.
    pub fn charge_scheduled(&self, m: &Merchant, o: &OrderRow, now: i64) -> Result<()> {
        if o.status != OrderStatus::NotPay && o.status != OrderStatus::PayError {
            return Ok(());
        }
        match self.within_contract_plan(m, o) {
            Ok(()) => self.charge_due_deduction(m, o, now),
            Err(AppError::Refused(r)) => {
                self.apply(o, crate::domain::state::Event::StartPay, now, "contract")?;
                let o = self.order_or_fail(&o.out_trade_no)?;
                self.payment_failed(m, &o, r.code.as_str(), true, now)
            }
            Err(e) => Err(e),
        }
    }

    fn within_contract_plan(&self, m: &Merchant, o: &OrderRow) -> Result<()> {
        let Some(code) = &o.contract_code else {
            return Ok(());
        };
        let Some(c) = self.contract(code)? else {
            return Ok(());
        };
        let plan = self.plan_or_fail(&c.plan_id)?;
        let offset = m.config.utc_offset_minutes;
        let since = rules::period_start(self.now(m), plan.period, offset);
        let others = rules::others_in_period(
            self.deductions_since(code, since)?,
            o.status == OrderStatus::NotPay,
            o.charge_at_ms.unwrap_or(o.created_at_ms),
            since,
        );
        rules::check_limits(
            o.amount_total as u64,
            plan.max_amount as u64,
            others,
            plan.max_per_period as u32,
            plan.period,
        )
        .map_err(AppError::from)
    }
}
