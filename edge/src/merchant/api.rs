//! The signed merchant JSON API inside the merchant object: authentication (DESIGN.md §3.1),
//! then one handler per operation.

use super::api_route::{route, ApiRoute};
use super::ledger::{fail, param_fail, Fail, Ledger, Merchant, OrderRow};
use super::protocol::{ApiRequest, Reply};
use crate::domain::limits::{self, RateKind};
use crate::domain::state::Event;
use crate::domain::{approval, audit, ids, order_rules, refund_rules};
use crate::runtime;
use paydesk_shared::api::{CreateOrder, CreateRefund, ErrorCode, Refund};
use paydesk_shared::sign::request::{
    check_timestamp, nonce_is_well_formed, SignedRequest, NONCE_WINDOW_SECS,
};
use paydesk_shared::sign::{hex_lower, sha256};
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::{OrderStatus, RefundStatus};
use serde::Deserialize;

impl Ledger<'_> {
    pub fn api(&self, req: ApiRequest, origin: &str, dev: bool) -> Result<Reply, Fail> {
        let route = route(&req.method, &req.path).map_err(|code| match code {
            ErrorCode::MethodNotAllowed => fail(code, "this method is not allowed on this path"),
            ErrorCode::ParamError => {
                param_fail("path", "the path is not valid UTF-8 after decoding")
            }
            _ => fail(ErrorCode::NotFound, "no such API operation"),
        })?;
        // Authentication, the nonce and the rate window commit on their own: a request that
        // then fails on its merits has still used its nonce and its place in the window.
        self.atomically(|l| l.authenticate(&req, route.rate_kind()))?;
        self.atomically(|l| {
            let m = l.merchant_or_fail()?;
            match &route {
                ApiRoute::CreateOrder => l.create_order(&m, &req.body, origin, dev),
                ApiRoute::QueryOrder(id) => {
                    l.run_due_for(&m, id)?;
                    let o = l.order_or_fail(id)?;
                    Reply::json(200, &l.wire_order(&o, origin, &m)?)
                }
                ApiRoute::CloseOrder(id) => l.close_order(&m, id),
                ApiRoute::CreateRefund => l.create_refund(&m, &req.body),
                ApiRoute::QueryRefund(id) => {
                    let r = l.refund(id)?.ok_or_else(|| {
                        fail(
                            ErrorCode::RefundNotExist,
                            "no refund with this out_refund_no",
                        )
                    })?;
                    Reply::json(200, &r.wire())
                }
                ApiRoute::VerifyAudit => l.verify_audit(),
                ApiRoute::ListNotifications => l.list_notifications(&req.query),
                ApiRoute::GetNotification(id) => l.get_notification(id),
                ApiRoute::ResendNotification(id) => l.resend_notification(&m, id),
                ApiRoute::ListAlerts => l.list_alerts(),
            }
        })
    }

    fn authenticate(&self, req: &ApiRequest, kind: RateKind) -> Result<(), Fail> {
        let m = self.merchant_or_fail()?;
        let real_now = self.real_now();
        check_timestamp(&req.timestamp, real_now / 1000).map_err(|_| {
            fail(
                ErrorCode::TimestampExpired,
                "Paydesk-Timestamp must be unix seconds within 300 s of the server's clock",
            )
        })?;
        if !nonce_is_well_formed(&req.nonce) {
            return Err(fail(
                ErrorCode::SignError,
                "Paydesk-Nonce must be 16-64 characters of A-Z a-z 0-9 _ -",
            ));
        }
        let path_and_query = if req.query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let signed = SignedRequest {
            method: &req.method,
            path_and_query: &path_and_query,
            timestamp: &req.timestamp,
            nonce: &req.nonce,
            body: req.body.as_bytes(),
        };
        let current = signed.verify(m.row.api_key.as_bytes(), &req.signature);
        let previous = match (&m.row.prev_api_key, m.row.prev_api_key_until_ms) {
            (Some(k), Some(until)) if real_now <= until => {
                signed.verify(k.as_bytes(), &req.signature)
            }
            _ => false,
        };
        if !(current || previous) {
            return Err(fail(
                ErrorCode::SignError,
                "the request signature does not verify",
            ));
        }
        // Nonces are remembered for the replay window (real time, as authentication is). One
        // statement records a new nonce, or one whose last use is out of the window, and returns
        // it; a nonce seen inside the window returns nothing. Expired ones are forgotten by the
        // index on their time, and by the alarm.
        let window_start = real_now - NONCE_WINDOW_SECS * 1000;
        #[derive(Deserialize)]
        struct Fresh {
            #[allow(dead_code)]
            nonce: String,
        }
        let fresh: Vec<Fresh> = self.q(
            "INSERT INTO nonces (nonce, seen_at_ms) VALUES (?, ?)
             ON CONFLICT (nonce) DO UPDATE SET seen_at_ms = excluded.seen_at_ms
             WHERE nonces.seen_at_ms < ?
             RETURNING nonce",
            vec![
                req.nonce.as_str().into(),
                real_now.into(),
                window_start.into(),
            ],
        )?;
        if fresh.is_empty() {
            return Err(fail(
                ErrorCode::NonceReused,
                "this Paydesk-Nonce was already used; send a fresh one",
            ));
        }
        self.x(
            "DELETE FROM nonces WHERE seen_at_ms < ?",
            vec![window_start.into()],
        )?;
        check_ip(&m, req.client_ip.as_deref())?;
        self.rate(&m, kind)
    }

    /// Counts one request of `kind` in the merchant's rolling minute (business time). Reads a
    /// count, not the window's rows: at a high limit the window holds thousands of them.
    pub(super) fn rate(&self, m: &Merchant, kind: RateKind) -> Result<(), Fail> {
        let now = self.now(m);
        let since = now - limits::MINUTE_MS;
        // By (kind, at_ms), the index: only this kind's expired entries are touched.
        self.x(
            "DELETE FROM rate_events WHERE kind = ? AND at_ms <= ?",
            vec![kind.as_str().into(), since.into()],
        )?;
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        #[derive(Deserialize)]
        struct T {
            at_ms: i64,
        }
        let count: Vec<N> = self.q(
            "SELECT COUNT(*) AS n FROM rate_events WHERE kind = ? AND at_ms > ?",
            vec![kind.as_str().into(), since.into()],
        )?;
        let count = count.first().map_or(0, |c| c.n.max(0) as u64);
        let limit = m.config.rate_limits.of(kind);
        let decision = match limits::rate_slot(count, limit) {
            None => Ok(()),
            // Full: the one entry whose expiry frees a slot decides the wait.
            Some(offset) => {
                let t: Vec<T> = self.q(
                    "SELECT at_ms FROM rate_events WHERE kind = ? AND at_ms > ?
                     ORDER BY at_ms LIMIT 1 OFFSET ?",
                    vec![kind.as_str().into(), since.into(), (offset as i64).into()],
                )?;
                Err(limits::retry_after(t.first().map_or(now, |t| t.at_ms), now))
            }
        };
        if let Err(retry) = decision {
            return Err(Fail::Api {
                code: ErrorCode::FrequencyLimited,
                message: format!("too many {} requests in the last minute", kind.as_str()),
                param: None,
                retry_after: Some(retry),
            });
        }
        self.x(
            "INSERT INTO rate_events (kind, at_ms) VALUES (?, ?)",
            vec![kind.as_str().into(), now.into()],
        )
    }

    fn create_order(
        &self,
        m: &Merchant,
        body: &str,
        origin: &str,
        dev: bool,
    ) -> Result<Reply, Fail> {
        let req: CreateOrder = parse_body(body)?;
        m.tier
            .check_allowed()
            .map_err(|c| fail(c, "personal accounts cannot use automatic collection"))?;
        let fingerprint = order_rules::fingerprint(&req);
        if let Some(existing) = self.order(&req.out_trade_no)? {
            if existing.fingerprint == fingerprint {
                return Reply::json(200, &self.wire_order(&existing, origin, m)?);
            }
            return Err(Fail::Api {
                code: ErrorCode::OutTradeNoUsed,
                message: "this out_trade_no was used for a different order".into(),
                param: Some("out_trade_no".into()),
                retry_after: None,
            });
        }
        let o = self.insert_order(m, &req, fingerprint, None, origin, dev)?;
        Reply::json(201, &self.wire_order(&o, origin, m)?)
    }

    /// Validates and stores a new order (its number is known to be unused): dormancy, the
    /// ledger's rules, approval levels, the audit entry and the approval event.
    pub(super) fn insert_order(
        &self,
        m: &Merchant,
        req: &CreateOrder,
        fingerprint: String,
        v2_json: Option<String>,
        origin: &str,
        dev: bool,
    ) -> Result<OrderRow, Fail> {
        let now = self.now(m);
        if m.row.dormant != 0 || limits::is_dormant(m.row.last_activity_ms, now) {
            return Err(fail(ErrorCode::AccountDormant, "the account is dormant after 30 days without orders; ask paydesk to re-activate it"));
        }
        let v = order_rules::validate(req, &m.config.items, now, dev)
            .map_err(|e| param_fail(e.param, e.message))?;
        let need = approval::required_approvers(&m.config.approval_levels, v.amount.total);
        let status = if need > 0 {
            OrderStatus::PendingApproval
        } else {
            OrderStatus::NotPay
        };
        let approval_id = if need > 0 {
            let id = format!("apr_{}_{}", &m.row.merchant_id[4..], runtime::random_hex(8));
            self.x(
                "INSERT INTO approvals (approval_id, kind, target, need, status, created_at_ms) VALUES (?, 'order', ?, ?, 'pending', ?)",
                vec![id.as_str().into(), v.out_trade_no.as_str().into(), i64::from(need).into(), now.into()],
            )?;
            Some(id)
        } else {
            None
        };
        let limit_pay: Vec<&str> = v.limit_pay.iter().map(|p| p.as_str()).collect();
        self.x(
            "INSERT INTO orders (out_trade_no, transaction_id, status, amount_total, currency, description,
                item_id, attach, tags_json, limit_pay, notify_url, timeout_action, created_at_ms,
                time_expire_ms, fingerprint, approval_id, v2_json)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                v.out_trade_no.as_str().into(),
                ids::transaction_id(now, runtime::random_bytes()).into(),
                status.as_str().into(),
                (v.amount.total as i64).into(),
                v.amount.currency.code().into(),
                v.description.as_str().into(),
                v.item_id.clone().into(),
                v.attach.clone().into(),
                v.tags.as_ref().map(serde_json::to_string).transpose()?.into(),
                limit_pay.join(",").into(),
                v.notify_url.clone().into(),
                match v.timeout_action {
                    paydesk_shared::api::TimeoutAction::Close => "close",
                    paydesk_shared::api::TimeoutAction::Remind => "remind",
                }
                .into(),
                now.into(),
                v.time_expire_ms.into(),
                fingerprint.into(),
                approval_id.clone().into(),
                v2_json.into(),
            ],
        )?;
        self.x(
            "UPDATE merchant SET last_activity_ms = ? WHERE merchant_id = ?",
            vec![now.into(), m.row.merchant_id.as_str().into()],
        )?;
        self.audit(
            now,
            "merchant_api",
            "order.create",
            &v.out_trade_no,
            "",
            status.as_str(),
        )?;
        let o = self.order_or_fail(&v.out_trade_no)?;
        if let Some(id) = &approval_id {
            let wire = self.wire_order(&o, origin, m)?;
            self.event(
                now,
                "order.approval_required",
                &v.out_trade_no,
                &serde_json::json!({"order": &wire, "approval_id": id}),
            )?;
        }
        Ok(o)
    }

    pub(super) fn close_order(&self, m: &Merchant, id: &str) -> Result<Reply, Fail> {
        self.run_due_for(m, id)?;
        let o = self.order_or_fail(id)?;
        let now = self.now(m);
        let status = o.status()?;
        if matches!(status, OrderStatus::NotPay | OrderStatus::PayError) {
            order_rules::check_close_age(o.opened != 0, o.created_at_ms, now).map_err(|code| {
                fail(
                    code,
                    "an order a payer has opened can be closed 5 minutes after creation",
                )
            })?;
        }
        self.apply(&o, Event::Close, now, "merchant_api")?;
        self.x("UPDATE approvals SET status = 'closed' WHERE target = ? AND kind = 'order' AND status = 'pending'", vec![id.into()])?;
        let o = self.order_or_fail(id)?;
        self.event(
            now,
            "order.closed",
            id,
            &serde_json::json!({"out_trade_no": id, "status": o.status}),
        )?;
        Ok(Reply::empty())
    }

    pub fn refund(&self, out_refund_no: &str) -> Result<Option<RefundRow>, Fail> {
        let rows: Vec<RefundRow> = self.q(
            &format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE out_refund_no = ?"),
            vec![out_refund_no.into()],
        )?;
        Ok(rows.into_iter().next())
    }

    fn create_refund(&self, m: &Merchant, body: &str) -> Result<Reply, Fail> {
        let req: CreateRefund = parse_body(body)?;
        let (r, created) = self.refund_create(m, &req, None)?;
        Reply::json(if created { 201 } else { 200 }, &r.wire())
    }

    /// Creates a refund, or finds the same one again (`false`): every refund rule, the
    /// approval threshold, and settlement in the sandbox.
    pub(super) fn refund_create(
        &self,
        m: &Merchant,
        req: &CreateRefund,
        notify_url: Option<&str>,
    ) -> Result<(RefundRow, bool), Fail> {
        if !order_rules::is_out_refund_no(&req.out_refund_no) {
            return Err(param_fail(
                "out_refund_no",
                "out_refund_no must be 6-64 characters of 0-9 A-Z a-z _ - | * @",
            ));
        }
        if !order_rules::is_out_trade_no(&req.out_trade_no) {
            return Err(param_fail(
                "out_trade_no",
                "out_trade_no must be 6-32 characters of 0-9 A-Z a-z _ - | *",
            ));
        }
        if req
            .reason
            .as_deref()
            .is_some_and(|r| r.chars().count() > 80 || r.chars().any(char::is_control))
        {
            return Err(param_fail(
                "reason",
                "reason must be at most 80 characters of plain text",
            ));
        }
        let fingerprint = hex_lower(&sha256(&serde_json::to_vec(req)?));
        if let Some(existing) = self.refund(&req.out_refund_no)? {
            if existing.fingerprint == fingerprint {
                return Ok((existing, false));
            }
            return Err(Fail::Api {
                code: ErrorCode::OutRefundNoUsed,
                message: "this out_refund_no was used for a different refund".into(),
                param: Some("out_refund_no".into()),
                retry_after: None,
            });
        }
        let o = self.order_or_fail(&req.out_trade_no)?;
        let status = o.status()?;
        if !matches!(status, OrderStatus::Success | OrderStatus::Refund) {
            return Err(fail(
                ErrorCode::OrderNotPaid,
                "only paid orders can be refunded",
            ));
        }
        #[derive(Deserialize)]
        struct Agg {
            held: Option<i64>,
            n: Option<i64>,
            last: Option<i64>,
        }
        let agg: Vec<Agg> = self.q(
            "SELECT SUM(CASE WHEN status IN ('SUCCESS', 'PROCESSING') THEN amount ELSE 0 END) AS held,
                    SUM(CASE WHEN status IN ('SUCCESS', 'PROCESSING') THEN 1 ELSE 0 END) AS n,
                    MAX(created_at_ms) AS last
             FROM refunds WHERE out_trade_no = ?",
            vec![req.out_trade_no.as_str().into()],
        )?;
        let agg = agg.into_iter().next().unwrap_or(Agg {
            held: None,
            n: None,
            last: None,
        });
        let now = self.now(m);
        let ctx = refund_rules::RefundContext {
            paid_total: o.amount_total as u64,
            refunded_or_pending: agg.held.unwrap_or(0) as u64,
            refund_count: agg.n.unwrap_or(0) as u32,
            paid_at_ms: o.paid_at_ms.unwrap_or(o.created_at_ms),
            last_refund_at_ms: agg.last,
        };
        refund_rules::check(&ctx, req.amount, now).map_err(|(code, msg)| match code {
            ErrorCode::ParamError => param_fail("amount", msg),
            ErrorCode::FrequencyLimited => Fail::Api {
                code,
                message: msg.into(),
                param: None,
                retry_after: Some(60),
            },
            _ => fail(code, msg),
        })?;
        let needs_approval =
            approval::refund_needs_approval(m.config.refund_approval_above, req.amount);
        let approval_id = if needs_approval {
            let id = format!("apr_{}_{}", &m.row.merchant_id[4..], runtime::random_hex(8));
            self.x(
                "INSERT INTO approvals (approval_id, kind, target, need, status, created_at_ms) VALUES (?, 'refund', ?, 1, 'pending', ?)",
                vec![id.as_str().into(), req.out_refund_no.as_str().into(), now.into()],
            )?;
            Some(id)
        } else {
            None
        };
        self.x(
            "INSERT INTO refunds (out_refund_no, out_trade_no, amount, reason, status, created_at_ms, fingerprint, approval_id,
                                  refund_id, notify_url)
             VALUES (?, ?, ?, ?, 'PROCESSING', ?, ?, ?, ?, ?)",
            vec![
                req.out_refund_no.as_str().into(),
                req.out_trade_no.as_str().into(),
                (req.amount as i64).into(),
                req.reason.clone().into(),
                now.into(),
                fingerprint.into(),
                approval_id.clone().into(),
                crate::domain::v2::refund_id(now, runtime::random_bytes()).into(),
                notify_url.into(),
            ],
        )?;
        self.audit(
            now,
            "merchant_api",
            "refund.create",
            &req.out_refund_no,
            "",
            "PROCESSING",
        )?;
        if approval_id.is_none() {
            self.complete_refund(&req.out_refund_no, now, "merchant_api")?;
        } else {
            let r = self.refund(&req.out_refund_no)?.expect("just inserted");
            self.event(
                now,
                "refund.approval_required",
                &req.out_refund_no,
                &r.wire(),
            )?;
        }
        let r = self.refund(&req.out_refund_no)?.expect("just inserted");
        Ok((r, true))
    }

    /// The sandbox settles a refund at once: the refund succeeds and the order shows it.
    pub fn complete_refund(&self, out_refund_no: &str, now: i64, actor: &str) -> Result<(), Fail> {
        let r = self
            .refund(out_refund_no)?
            .ok_or_else(|| Fail::Internal("refund vanished".into()))?;
        let o = self.order_or_fail(&r.out_trade_no)?;
        self.x(
            "UPDATE refunds SET status = 'SUCCESS', settled_at_ms = ? WHERE out_refund_no = ?",
            vec![now.into(), out_refund_no.into()],
        )?;
        self.x(
            "UPDATE orders SET refunded_total = refunded_total + ? WHERE out_trade_no = ?",
            vec![r.amount.into(), r.out_trade_no.as_str().into()],
        )?;
        self.audit(
            now,
            actor,
            "refund.succeed",
            out_refund_no,
            "PROCESSING",
            "SUCCESS",
        )?;
        self.apply(&o, Event::Refund, now, actor)?;
        let r = self.refund(out_refund_no)?.expect("exists");
        self.event(now, "refund.succeeded", out_refund_no, &r.wire())
    }

    pub fn verify_audit(&self) -> Result<Reply, Fail> {
        let rows: Vec<AuditRow> = self.q(
            "SELECT seq, at_ms, actor, action, target, before, after, prev_hash, hash FROM audit ORDER BY seq",
            vec![],
        )?;
        let entries: Vec<audit::Entry> = rows
            .into_iter()
            .map(|r| audit::Entry {
                seq: r.seq,
                at_ms: r.at_ms,
                actor: r.actor,
                action: r.action,
                target: r.target,
                before: r.before,
                after: r.after,
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
            .collect();
        match audit::verify(&entries) {
            Ok(n) => Reply::json(200, &serde_json::json!({"intact": true, "entries": n})),
            Err(b) => Reply::json(
                200,
                &serde_json::json!({"intact": false, "entries": entries.len(), "first_broken_seq": b.seq, "reason": b.reason}),
            ),
        }
    }
}

pub const REFUND_COLUMNS: &str = "out_refund_no, out_trade_no, amount, reason, status, \
    created_at_ms, fingerprint, approval_id, refund_id, notify_url, settled_at_ms";

#[derive(Debug, Clone, Deserialize)]
pub struct RefundRow {
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub amount: i64,
    pub reason: Option<String>,
    pub status: String,
    pub created_at_ms: i64,
    pub fingerprint: String,
    pub approval_id: Option<String>,
    pub refund_id: Option<String>,
    pub notify_url: Option<String>,
    pub settled_at_ms: Option<i64>,
}

impl RefundRow {
    pub fn wire(&self) -> Refund {
        let status = match self.status.as_str() {
            "SUCCESS" => RefundStatus::Success,
            "CLOSED" => RefundStatus::Closed,
            "ABNORMAL" => RefundStatus::Abnormal,
            _ => RefundStatus::Processing,
        };
        Refund {
            out_refund_no: self.out_refund_no.clone(),
            out_trade_no: self.out_trade_no.clone(),
            amount: self.amount as u64,
            status,
            created_at: format_rfc3339(self.created_at_ms),
            reason: self.reason.clone(),
            approval_id: if status == RefundStatus::Processing {
                self.approval_id.clone()
            } else {
                None
            },
        }
    }
}

/// The merchant's IP allowlist, if it has one.
pub fn check_ip(m: &Merchant, client_ip: Option<&str>) -> Result<(), Fail> {
    if m.config.ip_allowlist.is_empty() {
        return Ok(());
    }
    let allowed = client_ip.is_some_and(|ip| {
        m.config
            .ip_allowlist
            .iter()
            .any(|cidr| crate::domain::ip::cidr_contains(cidr, ip))
    });
    if allowed {
        Ok(())
    } else {
        Err(fail(
            ErrorCode::IpNotAllowed,
            "the request comes from an address outside the merchant's allowlist",
        ))
    }
}

#[derive(Deserialize)]
struct AuditRow {
    seq: i64,
    at_ms: i64,
    actor: String,
    action: String,
    target: String,
    before: String,
    after: String,
    prev_hash: String,
    hash: String,
}

/// Parses a JSON body into a request type; malformed JSON, wrong types and unknown fields are
/// `PARAM_ERROR` naming what serde found (never internal detail).
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, Fail> {
    serde_json::from_str(body).map_err(|e| {
        let msg = e.to_string();
        let param = msg
            .split('`')
            .nth(1)
            .filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"))
            .unwrap_or("body")
            .to_owned();
        Fail::Api {
            code: ErrorCode::ParamError,
            message: format!("invalid request body: {msg}"),
            param: Some(param),
            retry_after: None,
        }
    })
}
