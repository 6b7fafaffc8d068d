//! The merchant's view of its notifications: list with filters and a cursor, one with its body
//! and every attempt, a manual resend, and delivery alerts.

use super::protocol::{
    Alert, AlertList, AttemptView, Notification, NotificationDetail, NotificationPage,
};
use super::store::{EventRow, Ledger, Merchant, Result, EVENT_COLUMNS};
use crate::domain::cursor;
use crate::domain::events::DeliveryStatus;
use crate::error::AppError;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::urlenc::query_pairs;
use serde::Deserialize;

impl From<&EventRow> for Notification {
    fn from(e: &EventRow) -> Self {
        Notification {
            id: e.event_id.clone(),
            kind: e.kind,
            // A contract's events belong to no order: they name the contract instead.
            out_trade_no: if e.kind.is_contract_event()
                || e.kind.is_subscription_event()
                || e.kind.is_installment_event()
                || e.kind.is_settlement_event()
            {
                String::new()
            } else {
                e.order_key.clone()
            },
            contract_code: e.kind.is_contract_event().then(|| e.target.clone()),
            subscription_id: e.kind.is_subscription_event().then(|| e.target.clone()),
            plan_no: e.kind.is_installment_event().then(|| e.target.clone()),
            status: e.status,
            created_at: format_rfc3339(e.created_at_ms),
            notify_url: e.notify_url.clone(),
            attempts: e.attempts,
            next_attempt_at: e.next_attempt_at_ms.map(format_rfc3339),
            delivered_at: e.delivered_at_ms.map(format_rfc3339),
        }
    }
}

impl Ledger<'_> {
    /// `GET /v1/notifications?status&type&out_trade_no&cursor&limit`, newest first.
    pub fn list_notifications(&self, query: &str) -> Result<NotificationPage> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE 1 = 1");
        let mut binds = Vec::new();
        let mut limit = 20i64;
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "status" => {
                    let st = DeliveryStatus::parse(&v).ok_or_else(|| {
                        AppError::param("status", "status is PENDING, DELIVERED, FAILED or NONE")
                    })?;
                    sql.push_str(" AND status = ?");
                    binds.push(st.as_str().into());
                }
                "type" => {
                    sql.push_str(" AND type = ?");
                    binds.push(v.into());
                }
                "out_trade_no" => {
                    sql.push_str(" AND order_key = ?");
                    binds.push(v.into());
                }
                "subscription_id" => {
                    sql.push_str(" AND order_key = ?");
                    binds.push(format!("subscription:{v}").into());
                }
                "plan_no" => {
                    sql.push_str(" AND order_key = ?");
                    binds.push(format!("installment:{v}").into());
                }
                "cursor" => {
                    sql.push_str(" AND seq < ?");
                    binds.push(cursor::decode_seq(&v)?.into());
                }
                "limit" => {
                    limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=100).contains(n))
                        .ok_or_else(|| AppError::param("limit", "limit must be 1-100"))?;
                }
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        sql.push_str(" ORDER BY seq DESC LIMIT ?");
        binds.push((limit + 1).into());
        let mut rows: Vec<EventRow> = self.q(&sql, binds)?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = rows
            .last()
            .filter(|_| more)
            .map(|r| cursor::encode(&r.seq.to_string()));
        Ok(NotificationPage {
            notifications: rows.iter().map(Notification::from).collect(),
            next_cursor,
        })
    }

    fn event_or_fail(&self, id: &str) -> Result<EventRow> {
        self.event_row(id)?
            .ok_or_else(|| AppError::code(ErrorCode::NotFound, "no notification with this id"))
    }

    /// One notification with its body and every delivery attempt.
    pub fn get_notification(&self, m: &Merchant, id: &str) -> Result<NotificationDetail> {
        let e = self.event_or_fail(id)?;
        #[derive(Deserialize)]
        struct AttemptRow {
            n: i64,
            at_ms: i64,
            url: String,
            status_code: Option<i64>,
            latency_ms: i64,
            error: Option<String>,
            response_head: Option<String>,
        }
        let rows: Vec<AttemptRow> = self.q(
            "SELECT n, at_ms, url, status_code, latency_ms, error, response_head FROM delivery_attempts WHERE event_id = ? ORDER BY n",
            vec![id.into()],
        )?;
        let attempt_log = rows
            .into_iter()
            .map(|a| AttemptView {
                n: a.n,
                at: format_rfc3339(a.at_ms),
                at_ms: a.at_ms,
                url: a.url,
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error,
                response_head: a.response_head,
            })
            .collect();
        Ok(NotificationDetail {
            notification: Notification::from(&e),
            body: self.render_event(m, &e)?.unwrap_or_default(),
            attempt_log,
        })
    }

    /// Sends a notification again now (a failed one gets a whole new schedule).
    pub fn resend_notification(&self, m: &Merchant, id: &str) -> Result<Notification> {
        let e = self.event_or_fail(id)?;
        let deliverable = e.format.delivers(e.kind) || !e.body.is_empty();
        if e.notify_url.is_none() || !deliverable {
            return Err(AppError::code(
                ErrorCode::ParamError,
                "this event has no notification to send (no notify_url, or none in the order's dialect)",
            ));
        }
        let now = self.now(m);
        self.x(
            "UPDATE events SET status = ?, attempts = ?, next_attempt_at_ms = ? WHERE event_id = ?",
            vec![
                DeliveryStatus::Pending.as_str().into(),
                e.status.attempts_after_resend(e.attempts).into(),
                now.into(),
                id.into(),
            ],
        )?;
        self.audit(
            now,
            "merchant_api",
            "notification.resend",
            id,
            e.status.as_str(),
            "PENDING",
        )?;
        Ok(Notification::from(&self.event_or_fail(id)?))
    }

    pub fn list_alerts(&self) -> Result<AlertList> {
        #[derive(Deserialize)]
        struct A {
            seq: i64,
            kind: String,
            raised_at_ms: i64,
            cleared_at_ms: Option<i64>,
            detail: String,
            count: i64,
            last_seen_ms: Option<i64>,
            resolution: Option<String>,
        }
        let rows: Vec<A> = self.q(
            "SELECT seq, kind, raised_at_ms, cleared_at_ms, detail, count, last_seen_ms, resolution
             FROM alerts ORDER BY seq DESC LIMIT 50",
            vec![],
        )?;
        let alerts = rows
            .into_iter()
            .map(|a| Alert {
                id: a.seq,
                kind: a.kind,
                raised_at: format_rfc3339(a.raised_at_ms),
                cleared_at: a.cleared_at_ms.map(format_rfc3339),
                open: a.cleared_at_ms.is_none(),
                detail: a.detail,
                count: a.count as u32,
                last_seen_at: format_rfc3339(a.last_seen_ms.unwrap_or(a.raised_at_ms)),
                resolution: a.resolution,
            })
            .collect();
        Ok(AlertList { alerts })
    }
}
