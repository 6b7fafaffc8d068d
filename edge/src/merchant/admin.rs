//! Admin operations inside the merchant object: creating it, key rotation, re-activation,
//! approvals, the test clock, order listing, audit verification. Every change is audited.

use super::ledger::{fail, param_fail, Fail, Ledger, OrderRow, ORDER_COLUMNS};
use super::protocol::{AdminAction, MerchantSetup, Reply};
use crate::domain::approval::{tally, Tally};
use crate::domain::state::Event;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::sign::{b64url_decode, b64url_encode};
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::OrderStatus;
use serde::Deserialize;

impl Ledger<'_> {
    pub fn create_merchant(&self, s: MerchantSetup, ensure: bool) -> Result<Reply, Fail> {
        if let Some(m) = self.merchant()? {
            if ensure {
                return Reply::json(200, &serde_json::json!({"merchant_id": m.row.merchant_id}));
            }
            return Err(param_fail("merchant_id", "a merchant with this id exists"));
        }
        let now = self.real_now();
        self.x(
            "INSERT INTO merchant (merchant_id, name, tier, sandbox, branding_json, config_json, api_key,
                webhook_secret, last_activity_ms, created_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                s.merchant_id.as_str().into(),
                s.name.as_str().into(),
                s.tier.as_str().into(),
                i64::from(s.sandbox).into(),
                serde_json::to_string(&s.branding)?.into(),
                serde_json::to_string(&s.config)?.into(),
                s.api_key.as_str().into(),
                s.webhook_secret.as_str().into(),
                now.into(),
                now.into(),
            ],
        )?;
        let summary = serde_json::json!({"name": s.name, "tier": s.tier, "sandbox": s.sandbox});
        self.audit(
            now,
            "admin",
            "merchant.create",
            &s.merchant_id,
            "",
            &summary.to_string(),
        )?;
        Reply::json(201, &serde_json::json!({"merchant_id": s.merchant_id}))
    }

    pub fn admin(&self, action: AdminAction, origin: &str) -> Result<Reply, Fail> {
        match action {
            AdminAction::AdvanceClock { seconds } => self.atomically(|l| l.advance_clock(seconds)),
            AdminAction::VerifyAudit => self.atomically(|l| {
                l.merchant_or_fail()?;
                l.verify_audit()
            }),
            AdminAction::ListOrders {
                status,
                cursor,
                limit,
            } => self
                .atomically(|l| l.list_orders(status.as_deref(), cursor.as_deref(), limit, origin)),
            other => self.atomically(|l| l.admin_change(other)),
        }
    }

    fn admin_change(&self, action: AdminAction) -> Result<Reply, Fail> {
        let m = self.merchant_or_fail()?;
        let now = self.now(&m);
        let id = m.row.merchant_id.clone();
        match action {
            AdminAction::Get => Reply::json(
                200,
                &serde_json::json!({
                    "merchant_id": id,
                    "name": m.row.name,
                    "tier": m.tier,
                    "sandbox": m.sandbox(),
                    "branding": m.branding,
                    "config": m.config,
                    "dormant": m.row.dormant != 0 || crate::domain::limits::is_dormant(m.row.last_activity_ms, now),
                    "business_time": format_rfc3339(now),
                    "daily_limit": m.daily_limit(),
                    "open_alert": self.open_alert()?.is_some(),
                    "consecutive_failed_deliveries": m.row.consecutive_failures,
                }),
            ),
            AdminAction::RotateKey {
                new_key,
                grace_seconds,
            } => self.rotate_secret(&id, now, "api_key", "prev_api_key", &new_key, grace_seconds),
            AdminAction::RotateWebhookSecret {
                new_secret,
                grace_seconds,
            } => self.rotate_secret(
                &id,
                now,
                "webhook_secret",
                "webhook_secret_prev",
                &new_secret,
                grace_seconds,
            ),
            AdminAction::Reactivate { document_ref } => {
                let doc = document_ref.trim();
                if doc.is_empty() || doc.chars().count() > 128 || doc.chars().any(char::is_control)
                {
                    return Err(param_fail(
                        "document_ref",
                        "a reference (1-128 characters) to the re-submitted documents is required",
                    ));
                }
                self.x(
                    "UPDATE merchant SET dormant = 0, last_activity_ms = ?",
                    vec![now.into()],
                )?;
                self.audit(
                    now,
                    "admin",
                    "merchant.reactivate",
                    &id,
                    "dormant",
                    &format!("active; documents {doc}"),
                )?;
                Reply::json(
                    200,
                    &serde_json::json!({"merchant_id": id, "dormant": false}),
                )
            }
            AdminAction::Decide {
                approval_id,
                approver,
                approve,
            } => self.decide(&approval_id, &approver, approve, now),
            AdminAction::AdvanceClock { .. }
            | AdminAction::VerifyAudit
            | AdminAction::ListOrders { .. } => Err(Fail::Internal("routed elsewhere".into())),
        }
    }

    /// Replaces a secret (`column`), keeping the old one in `prev_column` valid for the grace
    /// period (real time, as authentication and signatures use).
    fn rotate_secret(
        &self,
        id: &str,
        now: i64,
        column: &str,
        prev_column: &str,
        new_secret: &str,
        grace_seconds: u32,
    ) -> Result<Reply, Fail> {
        let until = self.real_now() + i64::from(grace_seconds) * 1000;
        self.x(
            &format!("UPDATE merchant SET {prev_column} = {column}, {prev_column}_until_ms = ?, {column} = ?"),
            vec![until.into(), new_secret.into()],
        )?;
        let valid_until = format_rfc3339(until);
        self.audit(
            now,
            "admin",
            &format!("merchant.rotate_{column}"),
            id,
            "",
            &format!("previous valid until {valid_until}"),
        )?;
        Reply::json(
            200,
            &serde_json::json!({"merchant_id": id, "previous_key_valid_until": valid_until}),
        )
    }

    fn advance_clock(&self, seconds: u64) -> Result<Reply, Fail> {
        let m = self.merchant_or_fail()?;
        if !m.sandbox() {
            return Err(fail(
                ErrorCode::SandboxOnly,
                "the test clock exists only for sandbox merchants",
            ));
        }
        if seconds == 0 || seconds > 400 * 86_400 {
            return Err(param_fail(
                "seconds",
                "seconds must be 1 to 34560000 (400 days)",
            ));
        }
        let before = self.now(&m);
        self.x(
            "UPDATE merchant SET clock_offset_ms = clock_offset_ms + ?",
            vec![(seconds as i64 * 1000).into()],
        )?;
        let after = before + seconds as i64 * 1000;
        self.audit(
            after,
            "admin",
            "clock.advance",
            &m.row.merchant_id,
            &format_rfc3339(before),
            &format_rfc3339(after),
        )?;
        self.run_due()?;
        Reply::json(
            200,
            &serde_json::json!({"business_time": format_rfc3339(after)}),
        )
    }

    fn decide(
        &self,
        approval_id: &str,
        approver: &str,
        approve: bool,
        now: i64,
    ) -> Result<Reply, Fail> {
        let approver = approver.trim();
        if approver.is_empty()
            || approver.chars().count() > 64
            || approver.chars().any(char::is_control)
        {
            return Err(param_fail("approver", "approver must be 1-64 characters"));
        }
        #[derive(Deserialize)]
        struct A {
            kind: String,
            target: String,
            need: i64,
            status: String,
        }
        let rows: Vec<A> = self.q(
            "SELECT kind, target, need, status FROM approvals WHERE approval_id = ?",
            vec![approval_id.into()],
        )?;
        let a = rows
            .into_iter()
            .next()
            .ok_or_else(|| fail(ErrorCode::ApprovalNotExist, "no such approval"))?;
        if a.status != "pending" {
            return Err(fail(
                ErrorCode::AlreadyApproved,
                "this approval is already decided",
            ));
        }
        let actor = format!("approver:{approver}");
        if !approve {
            self.x(
                "UPDATE approvals SET status = 'rejected' WHERE approval_id = ?",
                vec![approval_id.into()],
            )?;
            self.audit(
                now,
                &actor,
                "approval.reject",
                approval_id,
                "pending",
                "rejected",
            )?;
            if a.kind == "order" {
                let o = self.order_or_fail(&a.target)?;
                self.apply(&o, Event::Reject, now, &actor)?;
                self.event(now, "order.closed", &a.target, &serde_json::json!({"out_trade_no": a.target, "status": "CLOSED", "reason": "rejected"}))?;
            } else {
                self.x(
                    "UPDATE refunds SET status = 'CLOSED' WHERE out_refund_no = ?",
                    vec![a.target.as_str().into()],
                )?;
                self.audit(
                    now,
                    &actor,
                    "refund.close",
                    &a.target,
                    "PROCESSING",
                    "CLOSED",
                )?;
                let r = self
                    .refund(&a.target)?
                    .ok_or_else(|| Fail::Internal("refund vanished".into()))?;
                self.event(now, "refund.failed", &a.target, &r.wire())?;
            }
            return Reply::json(
                200,
                &serde_json::json!({"approval_id": approval_id, "status": "rejected"}),
            );
        }
        #[derive(Deserialize)]
        struct V {
            approver: String,
        }
        let votes: Vec<V> = self.q(
            "SELECT approver FROM approval_votes WHERE approval_id = ?",
            vec![approval_id.into()],
        )?;
        let votes: Vec<String> = votes.into_iter().map(|v| v.approver).collect();
        match tally(&votes, approver, a.need as u32) {
            Tally::Duplicate => Err(fail(
                ErrorCode::AlreadyApproved,
                "this approver already approved; another approver is needed",
            )),
            Tally::Pending { have, need } => {
                self.x(
                    "INSERT INTO approval_votes (approval_id, approver, at_ms) VALUES (?, ?, ?)",
                    vec![approval_id.into(), approver.into(), now.into()],
                )?;
                self.audit(
                    now,
                    &actor,
                    "approval.approve",
                    approval_id,
                    "pending",
                    &format!("{have}/{need}"),
                )?;
                Reply::json(
                    200,
                    &serde_json::json!({"approval_id": approval_id, "status": "pending", "approvals": have, "needed": need}),
                )
            }
            Tally::Approved => {
                self.x(
                    "INSERT INTO approval_votes (approval_id, approver, at_ms) VALUES (?, ?, ?)",
                    vec![approval_id.into(), approver.into(), now.into()],
                )?;
                self.x(
                    "UPDATE approvals SET status = 'approved' WHERE approval_id = ?",
                    vec![approval_id.into()],
                )?;
                self.audit(
                    now,
                    &actor,
                    "approval.approve",
                    approval_id,
                    "pending",
                    "approved",
                )?;
                if a.kind == "order" {
                    let o = self.order_or_fail(&a.target)?;
                    self.apply(&o, Event::Approve, now, &actor)?;
                } else {
                    self.complete_refund(&a.target, now, &actor)?;
                }
                Reply::json(
                    200,
                    &serde_json::json!({"approval_id": approval_id, "status": "approved", "approvals": votes.len() + 1, "needed": a.need}),
                )
            }
        }
    }

    fn list_orders(
        &self,
        status: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
        origin: &str,
    ) -> Result<Reply, Fail> {
        let m = self.merchant_or_fail()?;
        let limit = limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(param_fail("limit", "limit must be 1-100"));
        }
        let mut sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE 1 = 1");
        let mut binds = Vec::new();
        if let Some(s) = status {
            let st = OrderStatus::parse(s).ok_or_else(|| param_fail("status", "unknown status"))?;
            sql.push_str(" AND status = ?");
            binds.push(st.as_str().into());
        }
        if let Some(c) = cursor {
            let decoded = b64url_decode(c)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| param_fail("cursor", "cursor is not valid"))?;
            let (at, otn) = decoded
                .split_once(':')
                .ok_or_else(|| param_fail("cursor", "cursor is not valid"))?;
            let at: i64 = at
                .parse()
                .map_err(|_| param_fail("cursor", "cursor is not valid"))?;
            sql.push_str(" AND (created_at_ms < ? OR (created_at_ms = ? AND out_trade_no < ?))");
            binds.push(at.into());
            binds.push(at.into());
            binds.push(otn.to_owned().into());
        }
        sql.push_str(" ORDER BY created_at_ms DESC, out_trade_no DESC LIMIT ?");
        binds.push(i64::from(limit + 1).into());
        let mut rows: Vec<OrderRow> = self.q(&sql, binds)?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|o| {
                b64url_encode(format!("{}:{}", o.created_at_ms, o.out_trade_no).as_bytes())
            })
        } else {
            None
        };
        let orders = rows
            .iter()
            .map(|o| self.wire_order(o, origin, &m))
            .collect::<Result<Vec<_>, _>>()?;
        Reply::json(
            200,
            &serde_json::json!({"orders": orders, "next_cursor": next_cursor}),
        )
    }
}
