//! Withhold contracts (委托代扣): the merchant's plans; a payer's contract under one, requested
//! by the merchant, signed by the payer on the contract's page, ended by the payer, the merchant
//! or its term; and the contract's page. Every decision is `domain::contract_rules`'; every
//! change is audited and recorded as an event in the transaction that makes it. Deductions are
//! in `deductions.rs`.

use super::protocol::{ContractPageReply, SignContract};
use super::store::{Ledger, Merchant, NewEvent, OrderRow, Result, ORDER_COLUMNS};
use crate::channel::sandbox::Sandbox;
use crate::channel::{Channel, Instrument};
use crate::domain::contract_rules::{self as rules, ContractDue, ContractEvent};
use crate::domain::events::{EventKind, Format};
use crate::domain::idempotency::{self, Repeat};
use crate::domain::order_rules::CloseReason;
use crate::domain::refusal::Refusal;
use crate::domain::{ids, limits, payment};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::{ErrorCode, PayMethod};
use paydesk_shared::contract::{
    Contract, ContractInstrument, ContractStatus, ContractView, CreateContract, CreatePlan, Period,
    Plan, TerminationMode, UpcomingCharge,
};
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::Money;
use serde::Deserialize;

pub const PLAN_COLUMNS: &str = "plan_id, name, max_amount, period, max_per_period, \
    contract_days, notice, created_at_ms, fingerprint";

#[derive(Debug, Clone, Deserialize)]
pub struct PlanRow {
    pub plan_id: String,
    pub name: String,
    pub max_amount: i64,
    pub period: Period,
    pub max_per_period: i64,
    pub contract_days: Option<i64>,
    pub notice: i64,
    pub created_at_ms: i64,
    pub fingerprint: String,
}

impl PlanRow {
    pub fn wire(&self) -> Result<Plan> {
        Ok(Plan {
            plan_id: self.plan_id.clone(),
            name: self.name.clone(),
            max_amount_per_deduction: Money::cny(self.max_amount as u64),
            period: self.period,
            max_deductions_per_period: self.max_per_period as u32,
            contract_days: self.contract_days.map(|d| d as u32),
            pre_deduction_notice: self.notice != 0,
            created_at: format_rfc3339(self.created_at_ms),
        })
    }
}

pub const CONTRACT_COLUMNS: &str = "contract_code, contract_id, plan_id, status, display_account, \
    payer_ref, notify_url, created_at_ms, sign_deadline_ms, signed_at_ms, expires_at_ms, \
    terminated_at_ms, termination_mode, termination_remark, method, wallet, card_last4, \
    fingerprint, format, v2_json";

#[derive(Debug, Clone, Deserialize)]
pub struct ContractRow {
    pub contract_code: String,
    pub contract_id: Option<String>,
    pub plan_id: String,
    pub status: ContractStatus,
    pub display_account: String,
    pub payer_ref: Option<String>,
    pub notify_url: Option<String>,
    pub created_at_ms: i64,
    pub sign_deadline_ms: i64,
    pub signed_at_ms: Option<i64>,
    pub expires_at_ms: Option<i64>,
    pub terminated_at_ms: Option<i64>,
    pub termination_mode: Option<TerminationMode>,
    pub termination_remark: Option<String>,
    pub method: Option<PayMethod>,
    pub wallet: Option<String>,
    pub card_last4: Option<String>,
    pub fingerprint: String,
    /// The dialect it was requested in; its signing and ending are notified in it.
    pub format: Format,
    /// Set for contracts requested through the v2 dialect (`domain::papay::ContractMeta`).
    pub v2_json: Option<String>,
}

impl ContractRow {
    /// What a deduction charges: the instrument the payer signed with.
    pub fn instrument(&self) -> Option<(PayMethod, Instrument)> {
        let method = self.method?;
        let instrument = match (method, &self.wallet, &self.card_last4) {
            (PayMethod::Balance, Some(w), _) => Instrument::Wallet(w.clone()),
            (_, _, Some(last4)) => Instrument::CardOnFile {
                method,
                last4: last4.clone(),
            },
            _ => return None,
        };
        Some((method, instrument))
    }

    fn wire_instrument(&self) -> Option<ContractInstrument> {
        self.method.map(|method| ContractInstrument {
            method,
            wallet: self.wallet.clone(),
            card_last4: self.card_last4.clone(),
        })
    }
}

/// The earliest contract deadline (business time): a signing window or a term. One of the
/// subqueries the alarm's schedule reads together (`merchant/deadlines.rs`, `dues`).
pub(super) const CONTRACT_DUE: &str = "SELECT MIN(t) FROM (
    SELECT MIN(sign_deadline_ms) AS t FROM contracts WHERE status = 'PENDING'
    UNION ALL
    SELECT MIN(expires_at_ms) AS t FROM contracts WHERE status = 'ACTIVE'
)";

impl Ledger<'_> {
    /// `POST /v1/contract_plans`: the plan, and whether it was created now.
    pub fn create_plan(&self, req: &CreatePlan) -> Result<(Plan, bool)> {
        rules::validate_plan(req)?;
        let fingerprint = rules::fingerprint(req);
        match idempotency::repeat(self.plan(&req.plan_id)?, |p| &p.fingerprint, &fingerprint) {
            Repeat::Same(existing) => return Ok((existing.wire()?, false)),
            Repeat::Other => return Err(rules::plan_id_used().into()),
            Repeat::New => {}
        }
        let m = self.merchant_or_fail()?;
        let now = self.now(&m);
        self.x(
            &format!(
                "INSERT INTO contract_plans ({PLAN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            vec![
                req.plan_id.as_str().into(),
                req.name.as_str().into(),
                (req.max_amount_per_deduction as i64).into(),
                req.period.as_str().into(),
                i64::from(req.max_deductions_per_period).into(),
                req.contract_days.map(i64::from).into(),
                i64::from(req.pre_deduction_notice).into(),
                now.into(),
                fingerprint.into(),
            ],
        )?;
        self.audit(
            now,
            "merchant_api",
            "plan.create",
            &req.plan_id,
            "",
            "ACTIVE",
        )?;
        Ok((self.plan_or_fail(&req.plan_id)?.wire()?, true))
    }

    pub fn plan(&self, plan_id: &str) -> Result<Option<PlanRow>> {
        self.first(
            &format!("SELECT {PLAN_COLUMNS} FROM contract_plans WHERE plan_id = ?"),
            vec![plan_id.into()],
        )
    }

    pub fn plan_or_fail(&self, plan_id: &str) -> Result<PlanRow> {
        self.plan(plan_id)?.ok_or_else(|| {
            AppError::from(
                Refusal::new(
                    ErrorCode::PlanNotExist,
                    "no contract plan with this plan_id",
                )
                .at("plan_id"),
            )
        })
    }

    /// `POST /v1/contracts` (and the v2 signing page's request, with its protocol details in
    /// `v2_json`): the contract, and whether it was requested now.
    pub fn request_contract(
        &self,
        m: &Merchant,
        req: &CreateContract,
        v2_json: Option<String>,
    ) -> Result<(ContractRow, bool)> {
        rules::validate_contract(req, self.call.dev)?;
        let plain = CreateContract {
            contact: None,
            ..req.clone()
        };
        let fingerprint =
            self.fingerprint_with_contact(rules::fingerprint(&plain), req.contact.as_ref())?;
        let stored = self.contract(&req.contract_code)?;
        match idempotency::repeat(stored, |c| &c.fingerprint, &fingerprint) {
            Repeat::Same(_) => return Ok((self.current_contract(m, &req.contract_code)?, false)),
            Repeat::Other => return Err(rules::code_used().into()),
            Repeat::New => {}
        }
        // The same request again is answered as it was (above), whatever refuses a new one.
        m.may_collect()?;
        // Nothing could ever be deducted: refused before the payer is asked to sign.
        self.may_charge_instruments(m)?;
        let now = self.now(m);
        self.refuse_if_frozen()?;
        if m.is_dormant(now) {
            return Err(limits::dormant_refusal().into());
        }
        self.plan_or_fail(&req.plan_id)?;
        let format = if v2_json.is_some() {
            Format::V2
        } else {
            Format::Json
        };
        self.x(
            "INSERT INTO contracts (contract_code, plan_id, status, display_account, payer_ref,
                notify_url, created_at_ms, sign_deadline_ms, fingerprint, format, v2_json)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                req.contract_code.as_str().into(),
                req.plan_id.as_str().into(),
                ContractStatus::Pending.as_str().into(),
                req.display_account.as_str().into(),
                req.payer_ref.clone().into(),
                req.notify_url.clone().into(),
                now.into(),
                (now + rules::SIGN_WINDOW_MS).into(),
                fingerprint.into(),
                format.as_str().into(),
                v2_json.into(),
            ],
        )?;
        let code = req.contract_code.as_str();
        self.keep_contact(m, &contract_key(code), req.contact.as_ref())?;
        self.audit(now, "merchant_api", "contract.request", code, "", "PENDING")?;
        Ok((self.contract_known(code)?, true))
    }

    pub fn contract(&self, contract_code: &str) -> Result<Option<ContractRow>> {
        self.first(
            &format!("SELECT {CONTRACT_COLUMNS} FROM contracts WHERE contract_code = ?"),
            vec![contract_code.into()],
        )
    }

    pub fn contract_by_id(&self, contract_id: &str) -> Result<Option<ContractRow>> {
        self.first(
            &format!("SELECT {CONTRACT_COLUMNS} FROM contracts WHERE contract_id = ?"),
            vec![contract_id.into()],
        )
    }

    fn contract_known(&self, contract_code: &str) -> Result<ContractRow> {
        self.contract(contract_code)?
            .ok_or_else(|| AppError::internal(format!("contract {contract_code} vanished")))
    }

    /// A contract as it stands now: a lapse or the end of its term that fell due is applied
    /// before anyone is told.
    pub fn current_contract(&self, m: &Merchant, contract_code: &str) -> Result<ContractRow> {
        let c = self.contract(contract_code)?.ok_or_else(|| {
            AppError::code(
                ErrorCode::ContractNotExist,
                "no contract with this contract_code",
            )
        })?;
        self.contract_due(m, c, self.now(m))?;
        self.contract_known(contract_code)
    }

    /// The payer signs: consent given, the contract still pending, the instrument valid and
    /// known to the channel. Only a card's last four digits are kept.
    pub fn sign_contract(&self, s: &SignContract) -> Result<ContractPageReply> {
        let m = self.merchant_or_fail()?;
        let c = self.current_contract(&m, &s.contract_code)?;
        let now = self.now(&m);
        let to = rules::advance(c.status, ContractEvent::Sign)?;
        self.may_charge_instruments(&m)?;
        if !s.consent {
            return Err(Refusal::param(
                "consent",
                "the payer must agree to the authorisation to sign",
            )
            .into());
        }
        let (year, month) = paydesk_shared::time::year_month(now);
        let instrument = payment::instrument(&s.pay, &PayMethod::ALL, year, month)?;
        Sandbox::A.verify(&instrument).map_err(|d| {
            let r = Refusal::new(ErrorCode::PaymentFailed, d.message()).because(d.reason());
            AppError::from(r.at("card.number"))
        })?;
        let plan = self.plan_or_fail(&c.plan_id)?;
        let wallet = match &instrument {
            Instrument::Wallet(w) => Some(w.clone()),
            _ => None,
        };
        self.x(
            "UPDATE contracts SET status = ?, contract_id = ?, signed_at_ms = ?, expires_at_ms = ?,
                method = ?, wallet = ?, card_last4 = ? WHERE contract_code = ?",
            vec![
                to.as_str().into(),
                ids::contract_id(now, runtime::random_bytes()).into(),
                now.into(),
                rules::term_end(now, plan.contract_days.map(|d| d as u32)).into(),
                s.pay.method.as_str().into(),
                wallet.into(),
                payment::last4(&instrument).into(),
                c.contract_code.as_str().into(),
            ],
        )?;
        self.audit(
            now,
            "payer",
            "contract.sign",
            &c.contract_code,
            c.status.as_str(),
            to.as_str(),
        )?;
        let c = self.contract_known(&c.contract_code)?;
        self.contract_event(
            &m,
            now,
            EventKind::ContractSigned,
            &c,
            serde_json::json!({}),
        )?;
        self.contract_page_reply(&m, &c)
    }

    /// The merchant ends a contract (JSON API, v2 `deletecontract`).
    pub fn terminate_by_merchant(
        &self,
        m: &Merchant,
        contract_code: &str,
        remark: Option<&str>,
    ) -> Result<ContractRow> {
        if remark.is_some_and(|r| r.chars().count() > 64 || r.chars().any(char::is_control)) {
            return Err(Refusal::param("remark", "remark must be at most 64 characters").into());
        }
        let c = self.current_contract(m, contract_code)?;
        self.terminate(m, &c, TerminationMode::Merchant, remark, "merchant_api")
    }

    /// The payer ends a contract from its page.
    pub fn end_by_payer(&self, contract_code: &str) -> Result<ContractPageReply> {
        let m = self.merchant_or_fail()?;
        let c = self.current_contract(&m, contract_code)?;
        let c = self.terminate(&m, &c, TerminationMode::Payer, None, "payer")?;
        self.contract_page_reply(&m, &c)
    }

    /// Ends a contract: nothing can charge it afterwards, and every deduction not yet charged
    /// is closed in the same transaction, so none is charged later.
    fn terminate(
        &self,
        m: &Merchant,
        c: &ContractRow,
        mode: TerminationMode,
        remark: Option<&str>,
        actor: &str,
    ) -> Result<ContractRow> {
        let now = self.now(m);
        let to = rules::advance(c.status, ContractEvent::Terminate(mode))?;
        self.x(
            "UPDATE contracts SET status = ?, terminated_at_ms = ?, termination_mode = ?,
                termination_remark = ? WHERE contract_code = ?",
            vec![
                to.as_str().into(),
                now.into(),
                mode.as_str().into(),
                remark.into(),
                c.contract_code.as_str().into(),
            ],
        )?;
        let action = format!("contract.terminate.{}", mode.as_str());
        self.audit(
            now,
            actor,
            &action,
            &c.contract_code,
            c.status.as_str(),
            to.as_str(),
        )?;
        // An instalment part stays open: the payer still owes it, and pays it through its link
        // (`merchant/installments.rs`).
        let open: Vec<OrderRow> = self.q(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE contract_code = ?
                 AND status IN ('NOTPAY', 'PENDING_APPROVAL', 'PAYERROR') AND plan_no IS NULL"
            ),
            vec![c.contract_code.as_str().into()],
        )?;
        for o in open {
            self.close_order(m, &o, CloseReason::ContractEnded, now, actor)?;
        }
        let c = self.contract_known(&c.contract_code)?;
        let extra = serde_json::json!({"termination_mode": mode});
        self.contract_event(m, now, EventKind::ContractTerminated, &c, extra)?;
        Ok(c)
    }

    /// Contracts whose signing window or term ran out.
    pub fn run_due_contracts(&self, m: &Merchant, now: i64) -> Result<()> {
        let due: Vec<ContractRow> = self.q(
            &format!(
                "SELECT {CONTRACT_COLUMNS} FROM contracts
                 WHERE (status = 'PENDING' AND sign_deadline_ms <= ?)
                    OR (status = 'ACTIVE' AND expires_at_ms <= ?)"
            ),
            vec![now.into(), now.into()],
        )?;
        for c in due {
            self.contract_due(m, c, now)?;
        }
        Ok(())
    }

    fn contract_due(&self, m: &Merchant, c: ContractRow, now: i64) -> Result<()> {
        match rules::due(c.status, c.sign_deadline_ms, c.expires_at_ms, now) {
            Some(ContractDue::Lapse) => {
                let to = rules::advance(c.status, ContractEvent::Lapse)?;
                self.x(
                    "UPDATE contracts SET status = ? WHERE contract_code = ?",
                    vec![to.as_str().into(), c.contract_code.as_str().into()],
                )?;
                let code = c.contract_code.as_str();
                self.audit(
                    now,
                    "system:deadline",
                    "contract.lapse",
                    code,
                    "PENDING",
                    to.as_str(),
                )?;
                let c = self.contract_known(code)?;
                self.contract_event(
                    m,
                    now,
                    EventKind::ContractExpired,
                    &c,
                    serde_json::json!({}),
                )
            }
            Some(ContractDue::End) => {
                self.terminate(m, &c, TerminationMode::Expiry, None, "system:deadline")?;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records a contract event: its data is the contract on the wire plus `extra`, delivered
    /// to the contract's notify URL (or the merchant's) in the dialect it was requested in.
    pub fn contract_event(
        &self,
        m: &Merchant,
        at_ms: i64,
        kind: EventKind,
        c: &ContractRow,
        extra: serde_json::Value,
    ) -> Result<()> {
        let mut data = serde_json::to_value(self.wire_contract(c, m)?)?;
        if let (Some(d), serde_json::Value::Object(x)) = (data.as_object_mut(), extra) {
            for (k, v) in x {
                d.entry(k).or_insert(v);
            }
        }
        let key = contract_key(&c.contract_code);
        self.record_event(
            at_ms,
            NewEvent {
                kind,
                target: &c.contract_code,
                order_key: &key,
                data,
                url: c.notify_url.clone().or_else(|| m.config.notify_url.clone()),
                format: c.format,
            },
        )
    }

    /// The contract's page link: `/contract/<token>`.
    pub fn contract_url(&self, c: &ContractRow, m: &Merchant) -> Result<String> {
        self.contract_link(m, &c.contract_code, c.created_at_ms)
    }

    pub fn wire_contract(&self, c: &ContractRow, m: &Merchant) -> Result<Contract> {
        let url = self.contract_url(c, m)?;
        Ok(Contract {
            contract_code: c.contract_code.clone(),
            contract_id: c.contract_id.clone(),
            plan_id: c.plan_id.clone(),
            status: c.status,
            display_account: c.display_account.clone(),
            payer_ref: c.payer_ref.clone(),
            contact: self.masked_contact(&contract_key(&c.contract_code))?,
            notify_url: c.notify_url.clone(),
            created_at: format_rfc3339(c.created_at_ms),
            sign_url: (c.status == ContractStatus::Pending).then(|| url.clone()),
            sign_deadline: format_rfc3339(c.sign_deadline_ms),
            signed_at: c.signed_at_ms.map(format_rfc3339),
            expires_at: c.expires_at_ms.map(format_rfc3339),
            terminated_at: c.terminated_at_ms.map(format_rfc3339),
            termination_mode: c.termination_mode,
            termination_remark: c.termination_remark.clone(),
            instrument: c.wire_instrument(),
            manage_url: (c.status == ContractStatus::Active).then_some(url),
        })
    }

    /// The charges announced on a contract and not made yet, soonest first: deductions (at their
    /// `charge_at`, held for approval too), instalment parts (on their due dates) and the next
    /// renewal of each subscription charged from it.
    fn upcoming_charges(&self, c: &ContractRow) -> Result<Vec<UpcomingCharge>> {
        let orders: Vec<OrderRow> = self.q(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE contract_code = ?
                 AND status IN ('NOTPAY', 'PENDING_APPROVAL')
                 AND (charge_at_ms IS NOT NULL OR plan_no IS NOT NULL)"
            ),
            vec![c.contract_code.as_str().into()],
        )?;
        let mut upcoming = Vec::with_capacity(orders.len());
        for o in &orders {
            let at = match (o.charge_at_ms, &o.plan_no, o.part_index) {
                (Some(at), _, _) => at,
                (None, Some(no), Some(idx)) => self.part_due(no, idx)?,
                _ => o.created_at_ms,
            };
            if !rules::charges_at(c.status, c.expires_at_ms, at) {
                continue;
            }
            upcoming.push((
                at,
                UpcomingCharge {
                    amount: o.amount()?,
                    description: o.description.clone(),
                    charge_at: format_rfc3339(at),
                    plus_usage: false,
                },
            ));
        }
        // And the next renewal of each subscription charged from it.
        for (at, renewal) in self.upcoming_renewals(c)? {
            if rules::charges_at(c.status, c.expires_at_ms, at) {
                upcoming.push((at, renewal));
            }
        }
        upcoming.sort_by_key(|(at, _)| *at);
        Ok(upcoming.into_iter().map(|(_, u)| u).collect())
    }

    /// What the contract's page shows.
    pub fn contract_page(&self, contract_code: &str) -> Result<ContractPageReply> {
        let m = self.merchant_or_fail()?;
        let c = self.current_contract(&m, contract_code)?;
        self.contract_page_reply(&m, &c)
    }

    fn contract_page_reply(&self, m: &Merchant, c: &ContractRow) -> Result<ContractPageReply> {
        let plan = self.plan_or_fail(&c.plan_id)?;
        let upcoming = self.upcoming_charges(c)?;
        Ok(ContractPageReply {
            view: ContractView {
                merchant: m.branding.clone(),
                plan_name: plan.name.clone(),
                max_amount_per_deduction: Money::cny(plan.max_amount as u64),
                period: plan.period,
                max_deductions_per_period: plan.max_per_period as u32,
                pre_deduction_notice: plan.notice != 0,
                display_account: c.display_account.clone(),
                status: c.status,
                sign_deadline: format_rfc3339(c.sign_deadline_ms),
                expires_at: c.expires_at_ms.map(format_rfc3339),
                contract_days: plan.contract_days.map(|d| d as u32),
                signed_at: c.signed_at_ms.map(format_rfc3339),
                terminated_at: c.terminated_at_ms.map(format_rfc3339),
                termination_mode: c.termination_mode,
                instrument: c.wire_instrument(),
                upcoming,
            },
            sandbox: m.sandbox(),
        })
    }
}

/// A contract's events are delivered in order among themselves, apart from any order's.
pub fn contract_key(contract_code: &str) -> String {
    format!("contract/{contract_code}")
}
