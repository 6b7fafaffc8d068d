//! The fund pool (集团资金池): a group merchant whose members' settlements sweep into it.
//!
//! Each merchant is its own object, so the pool lives in the group's object and is fed by its
//! members: a member's day close records its settlement with the group's id in the same
//! transaction (so the member's own books reconcile on their own, sweep or not), and the
//! member's alarm then sends it to the group, retrying with backoff until the group has it.
//! The group keeps each (member, settlement) once, however often it is sent, so the pool
//! takes every settlement exactly once. `GET /v1/pool` is the group's view: each member's
//! settlements and total, and the pool's.

use super::protocol::{JoinPool, PoolJoined, PoolMember, PoolView, Sweep, Swept};
use super::store::{Ledger, Merchant, Result};
use crate::domain::events::EventKind;
use crate::error::AppError;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::format_rfc3339;
use serde::Deserialize;

#[derive(Deserialize)]
struct Due {
    settlement_id: String,
    date: String,
    net: i64,
    group_id: String,
    sweep_attempts: i64,
}

/// When the next settlement is to be swept into its group's pool. One of the subqueries the alarm's schedule reads together
/// (`merchant/deadlines.rs`, `dues`).
pub(super) const SWEEP_DUE: &str = "SELECT MIN(sweep_next_ms) FROM settlements
    WHERE group_id IS NOT NULL AND swept_at_ms IS NULL";

impl Ledger<'_> {
    /// On the group's object: `member_id` joins the pool (again: nothing changes).
    pub fn join_pool(&self, m: &Merchant, j: &JoinPool) -> Result<PoolJoined> {
        if m.row.group_id.is_some() {
            return Err(AppError::param(
                "group_id",
                "that merchant is itself a member of a group",
            ));
        }
        if m.sandbox() != j.sandbox {
            return Err(AppError::param(
                "group_id",
                "a sandbox merchant and a live one cannot share a pool",
            ));
        }
        let now = self.now(m);
        let known = self.number(
            "SELECT COUNT(*) AS v FROM pool_members WHERE merchant_id = ?",
            vec![j.member_id.as_str().into()],
        )?;
        if known.unwrap_or(0) == 0 {
            self.x(
                "INSERT INTO pool_members (merchant_id, joined_at_ms) VALUES (?, ?)",
                vec![j.member_id.as_str().into(), now.into()],
            )?;
            self.audit(now, "admin", "pool.join", &j.member_id, "", m.id())?;
        }
        Ok(PoolJoined {
            group_id: m.id().to_owned(),
        })
    }

    /// On the group's object: a member's settlement arrives; kept the first time only.
    pub fn receive_sweep(&self, m: &Merchant, s: &Sweep) -> Result<Swept> {
        let member = self.number(
            "SELECT COUNT(*) AS v FROM pool_members WHERE merchant_id = ?",
            vec![s.member_id.as_str().into()],
        )?;
        if member.unwrap_or(0) == 0 {
            return Err(AppError::code(
                ErrorCode::MerchantNotExist,
                "not a member of this pool",
            ));
        }
        let now = self.now(m);
        let before = self.received_at(s)?;
        if before.is_none() {
            self.x(
                "INSERT INTO pool_sweeps (merchant_id, settlement_id, date, net, received_at_ms)
                 VALUES (?, ?, ?, ?, ?)",
                vec![
                    s.member_id.as_str().into(),
                    s.settlement_id.as_str().into(),
                    s.date.as_str().into(),
                    s.net.into(),
                    now.into(),
                ],
            )?;
            let what = format!("{} {}", s.member_id, s.net);
            self.audit(
                now,
                "system:pool",
                "pool.sweep",
                &s.settlement_id,
                "",
                &what,
            )?;
        }
        Ok(Swept {
            received_at: format_rfc3339(before.unwrap_or(now)),
        })
    }

    fn received_at(&self, s: &Sweep) -> Result<Option<i64>> {
        self.number(
            "SELECT received_at_ms AS v FROM pool_sweeps WHERE merchant_id = ? AND settlement_id = ?",
            vec![s.member_id.as_str().into(), s.settlement_id.as_str().into()],
        )
    }

    /// `GET /v1/pool`: the group's members, what each swept in, and the pool's total.
    pub fn pool_view(&self, m: &Merchant) -> Result<PoolView> {
        #[derive(Deserialize)]
        struct MemberRow {
            merchant_id: String,
            joined_at_ms: i64,
            settlements: i64,
            swept: Option<i64>,
        }
        let members: Vec<MemberRow> = self.q(
            "SELECT p.merchant_id, p.joined_at_ms,
                    (SELECT COUNT(*) FROM pool_sweeps s WHERE s.merchant_id = p.merchant_id) AS settlements,
                    (SELECT SUM(net) FROM pool_sweeps s WHERE s.merchant_id = p.merchant_id) AS swept
             FROM pool_members p ORDER BY p.joined_at_ms, p.merchant_id",
            vec![],
        )?;
        let sweeps: Vec<Sweep> = self.q(
            "SELECT merchant_id AS member_id, settlement_id, date, net FROM pool_sweeps
             ORDER BY received_at_ms DESC, settlement_id DESC LIMIT 100",
            vec![],
        )?;
        let total = self.number("SELECT SUM(net) AS v FROM pool_sweeps", vec![])?;
        Ok(PoolView {
            group_id: m.id().to_owned(),
            total: total.unwrap_or(0),
            members: members
                .into_iter()
                .map(|r| PoolMember {
                    merchant_id: r.merchant_id,
                    joined_at: format_rfc3339(r.joined_at_ms),
                    settlements: r.settlements as u64,
                    swept: r.swept.unwrap_or(0),
                })
                .collect(),
            sweeps,
        })
    }

    fn due_sweeps(&self, now: i64) -> Result<Vec<Due>> {
        self.q(
            "SELECT settlement_id, date, net, group_id, sweep_attempts FROM settlements
             WHERE group_id IS NOT NULL AND swept_at_ms IS NULL AND sweep_next_ms <= ?
             ORDER BY day LIMIT 50",
            vec![now.into()],
        )
    }

    fn record_sweep(&self, m: &Merchant, d: &Due, now: i64, ok: bool) -> Result<()> {
        if ok {
            self.x(
                "UPDATE settlements SET swept_at_ms = ?, sweep_attempts = sweep_attempts + 1
                 WHERE settlement_id = ? AND swept_at_ms IS NULL",
                vec![now.into(), d.settlement_id.as_str().into()],
            )?;
            self.audit(
                now,
                "system:pool",
                "settlement.sweep",
                &d.settlement_id,
                "",
                &d.group_id,
            )?;
            let cause = format!("sweep:{}", d.settlement_id);
            self.resolve_alert(&cause, "the sweep got through", now)?;
            return self.settlement_event(m, EventKind::SettlementSwept, &d.settlement_id, now);
        }
        let (wait, alert) = crate::domain::settlement_rules::sweep_retry(d.sweep_attempts + 1);
        if alert {
            let detail = format!(
                "settlement {} has failed {} times to sweep into the fund pool of {}",
                d.settlement_id,
                d.sweep_attempts + 1,
                d.group_id
            );
            let cause = format!("sweep:{}", d.settlement_id);
            self.raise_alert("settlement.anomaly", &cause, &detail, now)?;
        }
        self.x(
            "UPDATE settlements SET sweep_attempts = sweep_attempts + 1, sweep_next_ms = ?
             WHERE settlement_id = ?",
            vec![(now + wait).into(), d.settlement_id.as_str().into()],
        )
    }
}

/// Sends a member's due settlements to its group, and records each answer.
pub async fn sweep_due(ledger: &Ledger<'_>) -> Result<usize> {
    let Some(m) = ledger.merchant()? else {
        return Ok(0);
    };
    let now = ledger.now(&m);
    let due = ledger.due_sweeps(now)?;
    for d in &due {
        let sweep = Sweep {
            member_id: m.id().to_owned(),
            settlement_id: d.settlement_id.clone(),
            date: d.date.clone(),
            net: d.net,
        };
        let sent = ledger.call.ask(ledger.env, &d.group_id, sweep).await;
        if let Err(e) = &sent {
            worker::console_error!("sweep {} to {}: {e:?}", d.settlement_id, d.group_id);
        }
        ledger.atomically(|l| l.record_sweep(&m, d, now, sent.is_ok()))?;
    }
    Ok(due.len())
}
