//! Installment plans: the merchant creates one (part 0 is an order at once), each later part
//! becomes an order before it is due (deducted on its due date with a contract, paid through
//! its link without), a part unpaid past its grace defaults the plan (what was paid refunded,
//! but a non-refundable deposit), and paying every part completes it. Every decision is
//! `domain::installment_rules`'.

use super::store::{Ledger, Merchant, NewEvent, OrderRow, Result, ORDER_COLUMNS};
use crate::domain::approval::{ApprovalKind, ApprovalStatus};
use crate::domain::contract_rules;
use crate::domain::events::{EventKind, Format};
use crate::domain::idempotency::{self, Repeat};
use crate::domain::installment_rules::{self as rules, Facts, Step};
use crate::domain::order_rules::CloseReason;
use crate::domain::refusal::Refusal;
use crate::error::AppError;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::contract::ContractStatus;
use paydesk_shared::installment::{
    CreateInstallmentPlan, InstallmentPlan, InstallmentStatus, Part, PartOfPlan,
};
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::{Money, OrderStatus};
use serde::Deserialize;

pub const PLAN_COLUMNS: &str = "plan_no, status, description, contract_code, grace_hours, \
    deposit_refundable, reminder_hours, notify_url, payer_ref, created_at_ms, next_part, \
    next_due_ms, completed_at_ms, defaulted_at_ms, refunded, kept, fingerprint";

#[derive(Debug, Clone, Deserialize)]
pub struct PlanRow {
    pub plan_no: String,
    pub status: InstallmentStatus,
    pub description: String,
    pub contract_code: Option<String>,
    pub grace_hours: i64,
    pub deposit_refundable: i64,
    pub reminder_hours: i64,
    pub notify_url: Option<String>,
    pub payer_ref: Option<String>,
    pub created_at_ms: i64,
    pub next_part: i64,
    pub next_due_ms: Option<i64>,
    pub completed_at_ms: Option<i64>,
    pub defaulted_at_ms: Option<i64>,
    pub refunded: Option<i64>,
    pub kept: Option<i64>,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PartRow {
    pub idx: i64,
    pub amount: i64,
    pub due_at_ms: i64,
    pub label: Option<String>,
    pub deposit: i64,
}

/// More steps than this in one run means something does not move.
const MAX_STEPS: usize = 10_000;

/// When the next instalment plan has something due (business time). One of the subqueries the alarm's schedule reads together
/// (`merchant/deadlines.rs`, `dues`).
pub(super) const INSTALLMENT_DUE: &str =
    "SELECT MIN(next_due_ms) FROM installment_plans WHERE next_due_ms IS NOT NULL";

impl Ledger<'_> {
    /// `POST /v1/installment_plans`: the plan, and whether it was created now.
    pub fn create_installment_plan(
        &self,
        m: &Merchant,
        req: &CreateInstallmentPlan,
    ) -> Result<(InstallmentPlan, bool)> {
        let plain = CreateInstallmentPlan {
            contact: None,
            ..req.clone()
        };
        let fingerprint = self
            .fingerprint_with_contact(contract_rules::fingerprint(&plain), req.contact.as_ref())?;
        let stored = self.installment_plan(&req.plan_no)?;
        match idempotency::repeat(stored, |p| &p.fingerprint, &fingerprint) {
            Repeat::Same(existing) => return Ok((self.wire_installment_plan(&existing)?, false)),
            Repeat::Other => {
                return Err(Refusal::new(
                    ErrorCode::InstallmentPlanNoUsed,
                    "this plan_no was used for a different installment plan",
                )
                .at("plan_no")
                .into())
            }
            Repeat::New => {}
        }
        // The same request again is answered as it was (above), even once its first part's
        // time has passed or a check would refuse a new one.
        let now = self.now(m);
        let parts = rules::validate(req, now)?;
        if let Some(url) = &req.notify_url {
            crate::domain::order_rules::check_notify_url(url, self.call.dev)
                .map_err(|msg| Refusal::param("notify_url", msg))?;
        }
        m.may_collect()?;
        self.refuse_if_frozen()?;
        if m.is_dormant(now) {
            return Err(crate::domain::limits::dormant_refusal().into());
        }
        if let Some(code) = &req.contract_code {
            let c = self.current_contract(m, code)?;
            if c.status != ContractStatus::Active {
                return Err(Refusal::new(
                    ErrorCode::ContractNotActive,
                    "an installment plan is deducted from a signed (ACTIVE) contract",
                )
                .at("contract_code")
                .into());
            }
            let hours = req.reminder_hours.unwrap_or(rules::DEFAULT_REMINDER_HOURS);
            let dues: Vec<i64> = parts.iter().map(|p| p.due_at_ms).collect();
            self.keeps_notice(&c, hours, &dues, now, "parts")?;
        }
        self.insert_installment_plan(req, &parts, now, fingerprint)?;
        let no = req.plan_no.as_str();
        self.keep_contact(m, &format!("installment:{no}"), req.contact.as_ref())?;
        self.audit(
            now,
            "merchant_api",
            "installment_plan.create",
            no,
            "",
            "ACTIVE",
        )?;
        let p = self.installment_plan_known(no)?;
        self.open_part(m, &p, now)?;
        self.reschedule_plan(no)?;
        let p = self.installment_plan_known(no)?;
        Ok((self.wire_installment_plan(&p)?, true))
    }

    fn insert_installment_plan(
        &self,
        req: &CreateInstallmentPlan,
        parts: &[rules::Part],
        now: i64,
        fingerprint: String,
    ) -> Result<()> {
        self.x(
            &format!(
                "INSERT INTO installment_plans ({PLAN_COLUMNS})
                 VALUES (?, 'ACTIVE', ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, NULL, NULL, NULL, ?)"
            ),
            vec![
                req.plan_no.as_str().into(),
                req.description.as_str().into(),
                req.contract_code.clone().into(),
                i64::from(req.grace_hours.unwrap_or(rules::DEFAULT_GRACE_HOURS)).into(),
                i64::from(req.deposit_refundable).into(),
                i64::from(req.reminder_hours.unwrap_or(rules::DEFAULT_REMINDER_HOURS)).into(),
                req.notify_url.clone().into(),
                req.payer_ref.clone().into(),
                now.into(),
                fingerprint.into(),
            ],
        )?;
        for (i, (p, asked)) in parts.iter().zip(&req.parts).enumerate() {
            self.x(
                "INSERT INTO installment_parts (plan_no, idx, amount, due_at_ms, label, deposit)
                 VALUES (?, ?, ?, ?, ?, ?)",
                vec![
                    req.plan_no.as_str().into(),
                    (i as i64).into(),
                    (p.amount as i64).into(),
                    p.due_at_ms.into(),
                    asked.label.clone().into(),
                    i64::from(p.deposit).into(),
                ],
            )?;
        }
        Ok(())
    }

    pub fn installment_plan(&self, no: &str) -> Result<Option<PlanRow>> {
        self.first(
            &format!("SELECT {PLAN_COLUMNS} FROM installment_plans WHERE plan_no = ?"),
            vec![no.into()],
        )
    }

    fn installment_plan_known(&self, no: &str) -> Result<PlanRow> {
        self.installment_plan(no)?.ok_or_else(|| {
            AppError::from(
                Refusal::new(
                    ErrorCode::InstallmentPlanNotExist,
                    format!("no installment plan {no}"),
                )
                .at("plan_no"),
            )
        })
    }

    /// `GET /v1/installment_plans/{plan_no}`: whatever fell due done first.
    pub fn current_installment_plan(&self, m: &Merchant, no: &str) -> Result<PlanRow> {
        self.installment_plan_known(no)?;
        self.reschedule_plan(no)?;
        self.run_due_installments(m, self.now(m))?;
        self.installment_plan_known(no)
    }

    fn parts_of(&self, no: &str) -> Result<Vec<PartRow>> {
        self.q(
            "SELECT idx, amount, due_at_ms, label, deposit FROM installment_parts
             WHERE plan_no = ? ORDER BY idx",
            vec![no.into()],
        )
    }

    /// Whether the contract has tried to charge this order (its audit trail says who started
    /// each payment: `contract`, or the payer on the page).
    fn contract_tried(&self, out_trade_no: &str) -> Result<bool> {
        let tried = self.number(
            "SELECT 1 AS v FROM audit WHERE target = ? AND action = 'order.startpay'
             AND actor = 'contract' LIMIT 1",
            vec![out_trade_no.into()],
        )?;
        Ok(tried.is_some())
    }

    /// When part `idx` of plan `no` is due.
    pub fn part_due(&self, no: &str, idx: i64) -> Result<i64> {
        self.number(
            "SELECT due_at_ms AS v FROM installment_parts WHERE plan_no = ? AND idx = ?",
            vec![no.into(), idx.into()],
        )?
        .ok_or_else(|| crate::error::AppError::internal("a part order without its part"))
    }

    fn part_order(&self, no: &str, idx: i64) -> Result<Option<OrderRow>> {
        self.first(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE plan_no = ? AND part_index = ?"),
            vec![no.into(), idx.into()],
        )
    }

    fn plan_facts(&self, p: &PlanRow) -> Result<Facts> {
        let parts = self.parts_of(&p.plan_no)?;
        let order = self.part_order(&p.plan_no, p.next_part)?;
        let contract_tried = match &order {
            Some(o) if o.status == OrderStatus::PayError && p.contract_code.is_some() => {
                self.contract_tried(&o.out_trade_no)?
            }
            _ => false,
        };
        Ok(Facts {
            active: p.status == InstallmentStatus::Active,
            created_at_ms: p.created_at_ms,
            reminder_hours: p.reminder_hours as u32,
            grace_hours: p.grace_hours as u32,
            has_contract: p.contract_code.is_some(),
            due: parts.iter().map(|x| x.due_at_ms).collect(),
            next_part: p.next_part as usize,
            order: order.map(|o| o.status),
            contract_tried,
        })
    }

    pub fn reschedule_plan(&self, no: &str) -> Result<()> {
        let p = self.installment_plan_known(no)?;
        let next = rules::next_step(&self.plan_facts(&p)?).map(|(at, _)| at);
        self.x(
            "UPDATE installment_plans SET next_due_ms = ? WHERE plan_no = ?",
            vec![next.into(), no.into()],
        )
    }

    /// Every plan step due by `now`, the earliest first, each at its own time.
    pub fn run_due_installments(&self, m: &Merchant, now: i64) -> Result<()> {
        for _ in 0..MAX_STEPS {
            let due: Option<PlanRow> = self.first(
                &format!(
                    "SELECT {PLAN_COLUMNS} FROM installment_plans
                     WHERE next_due_ms IS NOT NULL AND next_due_ms <= ?
                     ORDER BY next_due_ms, plan_no LIMIT 1"
                ),
                vec![now.into()],
            )?;
            let Some(p) = due else {
                return Ok(());
            };
            let at = p.next_due_ms.unwrap_or(now);
            let step = rules::next_step(&self.plan_facts(&p)?);
            let done = match step.map(|(_, s)| s) {
                Some(Step::Open) => self.open_part(m, &p, at),
                Some(Step::Charge) => self.charge_part(m, &p, at),
                Some(Step::Default) => self.default_plan(m, &p, at),
                None => Ok(()),
            };
            if let Err(e) = done {
                let AppError::Refused(r) = e else {
                    return Err(e);
                };
                // Refused by a ledger rule: this plan waits (audited); the rest still happens.
                self.x(
                    "UPDATE installment_plans SET next_due_ms = NULL WHERE plan_no = ?",
                    vec![p.plan_no.as_str().into()],
                )?;
                let what = format!("{:?}", step.map(|(_, s)| s));
                self.audit(
                    at,
                    "system:installment",
                    "installment_plan.step_refused",
                    &p.plan_no,
                    &what,
                    r.code.as_str(),
                )?;
                continue;
            }
            self.reschedule_plan(&p.plan_no)?;
            let after = self.installment_plan_known(&p.plan_no)?;
            let again = rules::next_step(&self.plan_facts(&after)?);
            if after.next_due_ms.is_some_and(|t| t <= at) && again == step {
                self.x(
                    "UPDATE installment_plans SET next_due_ms = NULL WHERE plan_no = ?",
                    vec![p.plan_no.as_str().into()],
                )?;
            }
        }
        Err(AppError::internal("installment steps did not settle"))
    }

    /// The next part becomes an order, payable until its grace ends; the payer is reminded
    /// (part 0: it is the plan's first order, deducted at once with a contract).
    fn open_part(&self, m: &Merchant, p: &PlanRow, at: i64) -> Result<()> {
        let parts = self.parts_of(&p.plan_no)?;
        let Some(part) = parts.get(p.next_part as usize) else {
            return Ok(());
        };
        let lapse = part.due_at_ms + p.grace_hours * 3_600_000;
        let o = self.store_scheduled_order(
            m,
            super::orders::Scheduled {
                prefix: "IP",
                description: &p.description,
                amount: Money::cny(part.amount as u64),
                contract_code: p.contract_code.as_deref(),
                notify_url: p.notify_url.clone(),
                expires_at: lapse,
                fingerprint: format!("installment:{}:{}", p.plan_no, part.idx),
                payer_ref: p.payer_ref.clone(),
            },
        )?;
        self.x(
            "UPDATE orders SET plan_no = ?, part_index = ? WHERE out_trade_no = ?",
            vec![
                p.plan_no.as_str().into(),
                part.idx.into(),
                o.out_trade_no.as_str().into(),
            ],
        )?;
        let o = self.order_or_fail(&o.out_trade_no)?;
        if part.idx == 0 {
            if p.contract_code.is_some() {
                self.charge_scheduled(m, &o, at)?;
            }
            return Ok(());
        }
        self.announce_part(m, p, part, &o, at)
    }

    /// `installment.due_upcoming`: when the part is deducted, or its link to pay it by the end
    /// of its grace; a part held for the merchant's approval cannot be paid yet, so it has no
    /// link until approved (`part_approved` announces it again, with it).
    fn announce_part(
        &self,
        m: &Merchant,
        p: &PlanRow,
        part: &PartRow,
        o: &OrderRow,
        at: i64,
    ) -> Result<()> {
        let lapse = part.due_at_ms + p.grace_hours * 3_600_000;
        let wire = self.wire_order(o, m)?;
        let mut extra = serde_json::json!({
            "part_index": part.idx,
            "amount": wire.amount,
            "due_at": format_rfc3339(part.due_at_ms),
            "pay_by": format_rfc3339(lapse),
            "out_trade_no": wire.out_trade_no,
        });
        if o.status == OrderStatus::PendingApproval {
            extra["awaiting_approval"] = true.into();
        } else if self.deducts(p, part.due_at_ms.max(at))? {
            // Approved after its due date, it is charged at once.
            extra["charge_at"] = format_rfc3339(part.due_at_ms.max(at)).into();
        } else {
            extra["checkout_url"] = wire.checkout_url.into();
        }
        self.plan_event(m, at, EventKind::InstallmentDueUpcoming, p, extra)
    }

    /// A later part held for the merchant's approval was approved: the payer, told it awaited
    /// the merchant, is sent its announcement again, now with the link to pay it (or, on a
    /// contract, when it is charged).
    pub fn part_approved(&self, m: &Merchant, o: &OrderRow, at: i64) -> Result<()> {
        let (Some(no), Some(idx)) = (&o.plan_no, o.part_index) else {
            return Ok(());
        };
        let p = self.installment_plan_known(no)?;
        let parts = self.parts_of(no)?;
        let (Some(part), true) = (parts.get(idx as usize), idx > 0) else {
            return Ok(());
        };
        let o = self.order_or_fail(&o.out_trade_no)?;
        if o.status != OrderStatus::NotPay {
            return Ok(());
        }
        self.announce_part(m, &p, part, &o, at)
    }

    /// A part due: deducted from the plan's contract; if the payer ended the contract, nothing
    /// can be, and the part is theirs to pay through its link within the grace, as a failed
    /// deduction's is (`installment.payment_failed` says so).
    fn charge_part(&self, m: &Merchant, p: &PlanRow, at: i64) -> Result<()> {
        let Some(o) = self.part_order(&p.plan_no, p.next_part)? else {
            return Ok(());
        };
        if self.deducts(p, at)? {
            return self.charge_scheduled(m, &o, at);
        }
        if o.status != OrderStatus::NotPay {
            return Ok(());
        }
        self.apply(&o, crate::domain::state::Event::StartPay, at, "contract")?;
        let o = self.order_or_fail(&o.out_trade_no)?;
        self.payment_failed(m, &o, ErrorCode::ContractNotActive.as_str(), true, at)
    }

    /// Whether the plan's part charged at `at` is deducted: the plan has a contract that can
    /// still be charged then (active, its term not over).
    fn deducts(&self, p: &PlanRow, at: i64) -> Result<bool> {
        let Some(code) = &p.contract_code else {
            return Ok(false);
        };
        let c = self.contract(code)?;
        Ok(c.is_some_and(|c| contract_rules::charges_at(c.status, c.expires_at_ms, at)))
    }

    /// Whether `o` waits for the merchant's approval, or never got it (refused, or closed
    /// before anyone decided): the payer could not pay it.
    fn never_approved(&self, o: &OrderRow) -> Result<bool> {
        if o.status == OrderStatus::PendingApproval {
            return Ok(true);
        }
        let refused = self.number(
            "SELECT 1 AS v FROM approvals WHERE target = ? AND kind = ? AND status != ?",
            vec![
                o.out_trade_no.as_str().into(),
                ApprovalKind::Order.as_str().into(),
                ApprovalStatus::Approved.as_str().into(),
            ],
        )?;
        Ok(refused.is_some())
    }

    /// A part unpaid past its grace: the plan defaults; its open orders close; what was paid
    /// is refunded, but a deposit the plan keeps.
    fn default_plan(&self, m: &Merchant, p: &PlanRow, at: i64) -> Result<()> {
        let no = p.plan_no.as_str();
        let orders: Vec<OrderRow> = self.q(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE plan_no = ? ORDER BY part_index"),
            vec![no.into()],
        )?;
        let parts = self.parts_of(no)?;
        let lapsed = orders.iter().find(|o| o.part_index == Some(p.next_part));
        let held = match lapsed {
            Some(o) => self.never_approved(o)?,
            None => false,
        };
        let refundable = rules::deposit_returned(p.deposit_refundable != 0, held);
        let deposit_of = |o: &OrderRow| {
            let idx = o.part_index.unwrap_or(0) as usize;
            parts.get(idx).is_some_and(|x| x.deposit != 0)
        };
        let (mut refund, mut keep) = (0u64, 0u64);
        for o in &orders {
            match o.status {
                OrderStatus::NotPay | OrderStatus::PayError | OrderStatus::PendingApproval => {
                    self.close_order(m, o, CloseReason::PlanDefaulted, at, "system:installment")?
                }
                OrderStatus::Success | OrderStatus::Refund => {
                    let rest = (o.amount_total - o.refunded_total).max(0) as u64;
                    let (give, kept) = rules::on_default(&[(rest, deposit_of(o))], refundable);
                    keep += kept;
                    if give > 0 {
                        refund += self.refund_rest(m, o, "installment plan defaulted")?;
                    }
                }
                _ => {}
            }
        }
        self.x(
            "UPDATE installment_plans SET status = 'DEFAULTED', defaulted_at_ms = ?, refunded = ?,
             kept = ?, next_due_ms = NULL WHERE plan_no = ?",
            vec![
                at.into(),
                (refund as i64).into(),
                (keep as i64).into(),
                no.into(),
            ],
        )?;
        self.audit(
            at,
            "system:installment",
            "installment_plan.default",
            no,
            "ACTIVE",
            "DEFAULTED",
        )?;
        let p = self.installment_plan_known(no)?;
        let why = if held {
            "was never approved (everything paid, the deposit too, is refunded)"
        } else {
            "unpaid past its grace"
        };
        let detail = format!(
            "installment plan {no} defaulted: part {} {why}",
            p.next_part + 1
        );
        self.raise_alert(
            "dunning.exhausted",
            &format!("dunning:installment:{no}"),
            &detail,
            at,
        )?;
        let extra =
            serde_json::json!({"part_index": p.next_part, "refunded": refund, "kept": keep});
        self.plan_event(m, at, EventKind::InstallmentPlanDefaulted, &p, extra)
    }

    /// Called by the payment as a part is paid: the next part next, or the plan completed.
    pub fn part_paid(&self, m: &Merchant, o: &OrderRow, now: i64) -> Result<()> {
        let (Some(no), Some(idx)) = (&o.plan_no, o.part_index) else {
            return Ok(());
        };
        let p = self.installment_plan_known(no)?;
        if p.status != InstallmentStatus::Active {
            // The plan defaulted while the payment was in flight: its money goes back too.
            return self.refund_unwanted(m, o, "the installment plan defaulted");
        }
        let count = self.parts_of(no)?.len() as i64;
        let next = p.next_part.max(idx + 1);
        if next >= count {
            self.x(
                "UPDATE installment_plans SET next_part = ?, status = 'COMPLETED',
                 completed_at_ms = ?, next_due_ms = NULL WHERE plan_no = ?",
                vec![next.into(), now.into(), no.as_str().into()],
            )?;
            self.audit(
                now,
                "system:installment",
                "installment_plan.complete",
                no,
                "ACTIVE",
                "COMPLETED",
            )?;
            let p = self.installment_plan_known(no)?;
            return self.plan_event(
                m,
                now,
                EventKind::InstallmentPlanCompleted,
                &p,
                serde_json::json!({}),
            );
        }
        self.x(
            "UPDATE installment_plans SET next_part = ? WHERE plan_no = ?",
            vec![next.into(), no.as_str().into()],
        )?;
        self.reschedule_plan(no)
    }

    /// Called by the payment as a deduction of a part fails: the second reminder, with the
    /// part's link and until when it can still be paid.
    pub fn part_failed(
        &self,
        m: &Merchant,
        o: &OrderRow,
        code: &str,
        by_contract: bool,
        now: i64,
    ) -> Result<()> {
        let (Some(no), Some(idx)) = (&o.plan_no, o.part_index) else {
            return Ok(());
        };
        if !by_contract {
            return self.reschedule_plan(no);
        }
        let p = self.installment_plan_known(no)?;
        let wire = self.wire_order(&self.order_or_fail(&o.out_trade_no)?, m)?;
        let extra = serde_json::json!({
            "part_index": idx,
            "code": code,
            "out_trade_no": wire.out_trade_no,
            "amount": wire.amount,
            "checkout_url": wire.checkout_url,
            "pay_by": wire.time_expire,
            "next_step": "the payer pays the part through checkout_url before pay_by, or the plan defaults",
        });
        self.plan_event(m, now, EventKind::InstallmentPaymentFailed, &p, extra)?;
        self.reschedule_plan(no)
    }

    /// What a part's pay page says: which part of how many, and what is left after it.
    pub fn part_of_plan(&self, o: &OrderRow) -> Result<Option<PartOfPlan>> {
        let (Some(no), Some(idx)) = (&o.plan_no, o.part_index) else {
            return Ok(None);
        };
        let parts = self.parts_of(no)?;
        let after: i64 = parts.iter().filter(|x| x.idx > idx).map(|x| x.amount).sum();
        Ok(Some(PartOfPlan {
            part: idx as u32 + 1,
            parts: parts.len() as u32,
            label: parts.get(idx as usize).and_then(|x| x.label.clone()),
            remaining_after: Money::cny(after as u64),
        }))
    }

    fn plan_event(
        &self,
        m: &Merchant,
        at_ms: i64,
        kind: EventKind,
        p: &PlanRow,
        extra: serde_json::Value,
    ) -> Result<()> {
        let mut data = serde_json::to_value(self.wire_installment_plan(p)?)?;
        if let (Some(d), serde_json::Value::Object(x)) = (data.as_object_mut(), extra) {
            for (k, v) in x {
                d.insert(k, v);
            }
        }
        let key = format!("installment:{}", p.plan_no);
        self.record_event(
            at_ms,
            NewEvent {
                kind,
                target: &p.plan_no,
                order_key: &key,
                data,
                url: p.notify_url.clone().or_else(|| m.config.notify_url.clone()),
                format: Format::Json,
            },
        )
    }

    pub fn wire_installment_plan(&self, p: &PlanRow) -> Result<InstallmentPlan> {
        let parts = self.parts_of(&p.plan_no)?;
        let mut wire = Vec::with_capacity(parts.len());
        let (mut total, mut paid) = (0u64, 0u64);
        for x in &parts {
            let o = self.part_order(&p.plan_no, x.idx)?;
            total += x.amount as u64;
            if o.as_ref().is_some_and(|o| o.paid_at_ms.is_some()) {
                paid += x.amount as u64;
            }
            wire.push(Part {
                index: x.idx as u32,
                amount: Money::cny(x.amount as u64),
                due_at: format_rfc3339(x.due_at_ms),
                label: x.label.clone(),
                deposit: x.deposit != 0,
                out_trade_no: o.as_ref().map(|o| o.out_trade_no.clone()),
                status: o.as_ref().map(|o| o.status.as_str().to_owned()),
                paid_at: o.as_ref().and_then(|o| o.paid_at_ms).map(format_rfc3339),
            });
        }
        Ok(InstallmentPlan {
            plan_no: p.plan_no.clone(),
            status: p.status,
            description: p.description.clone(),
            contract_code: p.contract_code.clone(),
            grace_hours: p.grace_hours as u32,
            deposit_refundable: p.deposit_refundable != 0,
            reminder_hours: p.reminder_hours as u32,
            total: Money::cny(total),
            paid: Money::cny(paid),
            remaining: Money::cny(total - paid.min(total)),
            parts: wire,
            completed_at: p.completed_at_ms.map(format_rfc3339),
            defaulted_at: p.defaulted_at_ms.map(format_rfc3339),
            refunded: p.refunded.map(|r| r as u64),
            kept: p.kept.map(|k| k as u64),
            notify_url: p.notify_url.clone(),
            payer_ref: p.payer_ref.clone(),
            contact: self.masked_contact(&format!("installment:{}", p.plan_no))?,
            created_at: format_rfc3339(p.created_at_ms),
        })
    }
}
