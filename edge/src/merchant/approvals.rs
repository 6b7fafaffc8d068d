//! Approvals: an order above the merchant's approval levels, a refund above its refund
//! threshold, or a settings change that loosens a control waits for distinct approvers.
//! Approving enough releases it (the order becomes payable, the refund completes, the settings
//! apply); one rejection closes it. Who proposed a settings change may not approve it.

use super::alerts::WaitingQueue;
use super::protocol::{Decide, Decision};
use super::store::{Ledger, Merchant, Result};
use crate::domain::admin_rules;
use crate::domain::approval::{tally, ApprovalKind, ApprovalStatus, Tally};
use crate::domain::events::EventKind;
use crate::domain::ids;
use crate::domain::order_rules::CloseReason;
use crate::domain::state::Event;
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::RefundStatus;
use serde::Deserialize;

#[derive(Deserialize)]
struct ApprovalRow {
    kind: ApprovalKind,
    target: String,
    need: i64,
    status: ApprovalStatus,
}

impl Ledger<'_> {
    /// Opens an approval of `kind` for `target` that needs `need` approvers; its id.
    pub fn open_approval(
        &self,
        m: &Merchant,
        kind: ApprovalKind,
        target: &str,
        need: u32,
        now: i64,
    ) -> Result<String> {
        let id = ids::approval_id(m.id(), runtime::random_bytes());
        self.open_approval_as(&id, kind, target, need, now)?;
        Ok(id)
    }

    /// Opens the approval `id` (chosen by the caller, who may store it before the approval).
    pub fn open_approval_as(
        &self,
        id: &str,
        kind: ApprovalKind,
        target: &str,
        need: u32,
        now: i64,
    ) -> Result<()> {
        self.x(
            "INSERT INTO approvals (approval_id, kind, target, need, status, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                id.into(),
                kind.as_str().into(),
                target.into(),
                i64::from(need).into(),
                ApprovalStatus::Pending.as_str().into(),
                now.into(),
            ],
        )?;
        self.queue_changed(WaitingQueue::Approvals, true, now)?;
        Ok(())
    }

    /// The console user who asked for what waits, if one did: a settings change's proposer,
    /// or whoever asked for a refund from the console (its `refund.create` in the audit chain).
    /// They may not approve it themselves, so a threshold is never one person's decision.
    fn asked_by(&self, a: &ApprovalRow) -> Result<Option<String>> {
        #[derive(Deserialize)]
        struct Actor {
            actor: String,
        }
        Ok(match a.kind {
            ApprovalKind::Settings => self.settings_proposer(&a.target)?,
            ApprovalKind::Refund => self
                .first::<Actor>(
                    "SELECT actor FROM audit WHERE target = ? AND action = 'refund.create'
                     ORDER BY seq LIMIT 1",
                    vec![a.target.as_str().into()],
                )?
                .and_then(|r| r.actor.strip_prefix("console:").map(str::to_owned)),
            ApprovalKind::Order => None,
        })
    }

    pub fn decide(&self, m: &Merchant, d: &Decide) -> Result<Decision> {
        let now = self.now(m);
        let approver = admin_rules::approver(&d.approver)?;
        let a: ApprovalRow = self
            .first(
                "SELECT kind, target, need, status FROM approvals WHERE approval_id = ?",
                vec![d.approval_id.as_str().into()],
            )?
            .ok_or_else(|| AppError::code(ErrorCode::ApprovalNotExist, "no such approval"))?;
        if a.status != ApprovalStatus::Pending {
            return Err(AppError::code(
                ErrorCode::AlreadyApproved,
                "this approval is already decided",
            ));
        }
        let actor = format!("approver:{approver}");
        if !d.approve {
            self.reject(m, &d.approval_id, &a, now, &actor)?;
            return Ok(decision(&d.approval_id, ApprovalStatus::Rejected, None));
        }
        if self.asked_by(&a)?.as_deref() == Some(approver) {
            return Err(AppError::code(
                ErrorCode::Forbidden,
                "who asked for this may not approve it: another person must",
            ));
        }
        #[derive(Deserialize)]
        struct V {
            approver: String,
        }
        let votes: Vec<V> = self.q(
            "SELECT approver FROM approval_votes WHERE approval_id = ?",
            vec![d.approval_id.as_str().into()],
        )?;
        let votes: Vec<String> = votes.into_iter().map(|v| v.approver).collect();
        let id = d.approval_id.as_str();
        match tally(&votes, approver, a.need as u32) {
            Tally::Duplicate => Err(AppError::code(
                ErrorCode::AlreadyApproved,
                "this approver already approved; another approver is needed",
            )),
            Tally::Pending { have, need } => {
                self.vote(id, approver, now)?;
                self.audit(
                    now,
                    &actor,
                    "approval.approve",
                    id,
                    "pending",
                    &format!("{have}/{need}"),
                )?;
                Ok(decision(id, ApprovalStatus::Pending, Some((have, need))))
            }
            Tally::Approved => {
                self.vote(id, approver, now)?;
                self.set_approval(id, ApprovalStatus::Approved, now)?;
                self.audit(now, &actor, "approval.approve", id, "pending", "approved")?;
                match a.kind {
                    ApprovalKind::Order => {
                        let o = self.order_or_fail(&a.target)?;
                        self.apply(&o, Event::Approve, now, &actor)?;
                        self.schedule_of_order_moved(m, &o)?;
                        self.part_approved(m, &o, now)?;
                        self.invoice_approved(m, &o, now)?;
                    }
                    ApprovalKind::Refund => self.complete_refund(m, &a.target, now, &actor)?,
                    ApprovalKind::Settings => {
                        if !self.settings_decided(m, &a.target, true, now, &actor)? {
                            // Not applied (the rules moved since): closed, not approved.
                            self.set_approval(id, ApprovalStatus::Closed, now)?;
                            let have = votes.len() as u32 + 1;
                            let status = ApprovalStatus::Closed;
                            return Ok(decision(id, status, Some((have, a.need as u32))));
                        }
                    }
                }
                let have = votes.len() as u32 + 1;
                Ok(decision(
                    id,
                    ApprovalStatus::Approved,
                    Some((have, a.need as u32)),
                ))
            }
        }
    }

    /// A rejection: the order closes, or the refund is given up (the money stays paid).
    fn reject(&self, m: &Merchant, id: &str, a: &ApprovalRow, now: i64, actor: &str) -> Result<()> {
        self.set_approval(id, ApprovalStatus::Rejected, now)?;
        self.audit(now, actor, "approval.reject", id, "pending", "rejected")?;
        match a.kind {
            ApprovalKind::Order => {
                let o = self.order_or_fail(&a.target)?;
                self.close_order(m, &o, CloseReason::Rejected, now, actor)?;
                self.schedule_of_order_moved(m, &o)
            }
            ApprovalKind::Refund => {
                self.x(
                    "UPDATE refunds SET status = ? WHERE out_refund_no = ?",
                    vec![
                        RefundStatus::Closed.as_str().into(),
                        a.target.as_str().into(),
                    ],
                )?;
                self.audit(
                    now,
                    actor,
                    "refund.close",
                    &a.target,
                    "PROCESSING",
                    "CLOSED",
                )?;
                self.refund_event(m, now, EventKind::RefundFailed, &a.target)?;
                self.refund_owed_again(m, &a.target)?;
                let r = self.refund_known(&a.target)?;
                self.refund_ended(m, &r.out_trade_no, now)
            }
            ApprovalKind::Settings => self
                .settings_decided(m, &a.target, false, now, actor)
                .map(|_| ()),
        }
    }

    /// A refund given up while a rule of the ledger's (an automatic refund, a rejected risk
    /// review, a payment it could not use) had left its money to it: the payer is owed the rest
    /// (`orders.refund_owed`), so it is refunded now.
    fn refund_owed_again(&self, m: &Merchant, out_refund_no: &str) -> Result<()> {
        let r = self.refund_known(out_refund_no)?;
        let o = self.order_or_fail(&r.out_trade_no)?;
        if o.refund_owed == 0 {
            return Ok(());
        }
        let why = if o.auto_refunded != 0 {
            "not fulfilled in time: refunded automatically"
        } else if self
            .review_of(&o.out_trade_no)?
            .is_some_and(|r| r.status == "rejected")
        {
            "rejected in risk review"
        } else {
            "owed to the payer"
        };
        self.refund_rest(m, &o, why).map(|_| ())
    }

    fn vote(&self, approval_id: &str, approver: &str, now: i64) -> Result<()> {
        self.x(
            "INSERT INTO approval_votes (approval_id, approver, at_ms) VALUES (?, ?, ?)",
            vec![approval_id.into(), approver.into(), now.into()],
        )
    }

    fn set_approval(&self, approval_id: &str, status: ApprovalStatus, now: i64) -> Result<()> {
        self.x(
            "UPDATE approvals SET status = ? WHERE approval_id = ?",
            vec![status.as_str().into(), approval_id.into()],
        )?;
        self.queue_changed(WaitingQueue::Approvals, false, now)
    }
}

impl Ledger<'_> {
    /// `GET /console/api/approvals`: what waits, oldest first, with who approved so far.
    pub fn pending_approvals(&self) -> Result<super::protocol::ApprovalList> {
        #[derive(Deserialize)]
        struct A {
            approval_id: String,
            kind: String,
            target: String,
            need: i64,
            created_at_ms: i64,
            approvers: Option<String>,
            amount: Option<i64>,
            out_trade_no: Option<String>,
        }
        let rows: Vec<A> = self.q(
            "SELECT a.approval_id, a.kind, a.target, a.need, a.created_at_ms,
                    (SELECT group_concat(approver, char(10)) FROM (SELECT v.approver
                      FROM approval_votes v WHERE v.approval_id = a.approval_id
                      ORDER BY v.at_ms, v.rowid)) AS approvers,
                    COALESCE(o.amount_total, r.amount) AS amount,
                    COALESCE(o.out_trade_no, r.out_trade_no) AS out_trade_no
             FROM approvals a
             LEFT JOIN orders o ON a.kind = 'order' AND o.out_trade_no = a.target
             LEFT JOIN refunds r ON a.kind = 'refund' AND r.out_refund_no = a.target
             WHERE a.status = 'pending' ORDER BY a.created_at_ms LIMIT 200",
            vec![],
        )?;
        let approvals = rows
            .into_iter()
            .map(|a| super::protocol::PendingApproval {
                approval_id: a.approval_id,
                kind: a.kind,
                target: a.target,
                need: a.need as u32,
                approvers: a
                    .approvers
                    .map(|s| s.split('\n').map(str::to_owned).collect())
                    .unwrap_or_default(),
                created_at: paydesk_shared::time::format_rfc3339(a.created_at_ms),
                amount: a
                    .amount
                    .map(|f| paydesk_shared::Money::cny(f.max(0) as u64)),
                out_trade_no: a.out_trade_no,
            })
            .collect();
        Ok(super::protocol::ApprovalList { approvals })
    }
}

fn decision(id: &str, status: ApprovalStatus, count: Option<(u32, u32)>) -> Decision {
    Decision {
        approval_id: id.to_owned(),
        status,
        approvals: count.map(|c| c.0),
        needed: count.map(|c| c.1),
    }
}
