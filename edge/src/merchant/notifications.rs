//! The merchant's view of its notifications (DESIGN.md §3.4): list with filters and cursor,
//! one with every attempt, manual resend, and delivery alerts.

use super::ledger::{fail, param_fail, Fail, Ledger, Merchant};
use super::protocol::Reply;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::sign::{b64url_decode, b64url_encode};
use paydesk_shared::time::format_rfc3339;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct EventRow {
    seq: i64,
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    order_key: String,
    created_at_ms: i64,
    notify_url: Option<String>,
    status: String,
    attempts: i64,
    next_attempt_at_ms: Option<i64>,
    delivered_at_ms: Option<i64>,
    body: String,
}

#[derive(Serialize)]
struct Notification {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    out_trade_no: String,
    status: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    notify_url: Option<String>,
    attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivered_at: Option<String>,
}

impl From<&EventRow> for Notification {
    fn from(e: &EventRow) -> Self {
        Notification {
            id: e.event_id.clone(),
            kind: e.kind.clone(),
            out_trade_no: e.order_key.clone(),
            status: e.status.clone(),
            created_at: format_rfc3339(e.created_at_ms),
            notify_url: e.notify_url.clone(),
            attempts: e.attempts,
            next_attempt_at: e.next_attempt_at_ms.map(format_rfc3339),
            delivered_at: e.delivered_at_ms.map(format_rfc3339),
        }
    }
}

const EVENT_COLUMNS: &str =
    "seq, event_id, type, order_key, created_at_ms, notify_url, status, attempts, \
    next_attempt_at_ms, delivered_at_ms, body";

fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                k.to_owned(),
                v.replace("%7C", "|")
                    .replace("%2A", "*")
                    .replace("%3D", "="),
            )
        })
        .collect()
}

impl Ledger<'_> {
    pub fn list_notifications(&self, query: &str) -> Result<Reply, Fail> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE 1 = 1");
        let mut binds = Vec::new();
        let mut limit = 20i64;
        for (k, v) in query_params(query) {
            match k.as_str() {
                "status" => {
                    if !["PENDING", "DELIVERED", "FAILED", "NONE"].contains(&v.as_str()) {
                        return Err(param_fail(
                            "status",
                            "status is PENDING, DELIVERED, FAILED or NONE",
                        ));
                    }
                    sql.push_str(" AND status = ?");
                    binds.push(v.into());
                }
                "type" => {
                    sql.push_str(" AND type = ?");
                    binds.push(v.into());
                }
                "out_trade_no" => {
                    sql.push_str(" AND order_key = ?");
                    binds.push(v.into());
                }
                "cursor" => {
                    let seq: i64 = b64url_decode(&v)
                        .and_then(|b| String::from_utf8(b).ok())
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| param_fail("cursor", "cursor is not valid"))?;
                    sql.push_str(" AND seq < ?");
                    binds.push(seq.into());
                }
                "limit" => {
                    limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=100).contains(n))
                        .ok_or_else(|| param_fail("limit", "limit must be 1-100"))?;
                }
                _ => return Err(param_fail("query", format!("unknown query parameter {k}"))),
            }
        }
        sql.push_str(" ORDER BY seq DESC LIMIT ?");
        binds.push((limit + 1).into());
        let mut rows: Vec<EventRow> = self.q(&sql, binds)?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = more
            .then(|| {
                rows.last()
                    .map(|r| b64url_encode(r.seq.to_string().as_bytes()))
            })
            .flatten();
        let list: Vec<Notification> = rows.iter().map(Notification::from).collect();
        Reply::json(
            200,
            &serde_json::json!({"notifications": list, "next_cursor": next_cursor}),
        )
    }

    fn event_row(&self, id: &str) -> Result<EventRow, Fail> {
        let rows: Vec<EventRow> = self.q(
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?"),
            vec![id.into()],
        )?;
        rows.into_iter()
            .next()
            .ok_or_else(|| fail(ErrorCode::NotFound, "no notification with this id"))
    }

    pub fn get_notification(&self, id: &str) -> Result<Reply, Fail> {
        let e = self.event_row(id)?;
        #[derive(Deserialize, Serialize)]
        struct AttemptRow {
            n: i64,
            at_ms: i64,
            url: String,
            status_code: Option<i64>,
            latency_ms: i64,
            error: Option<String>,
            response_head: Option<String>,
        }
        let attempts: Vec<AttemptRow> = self.q(
            "SELECT n, at_ms, url, status_code, latency_ms, error, response_head FROM delivery_attempts WHERE event_id = ? ORDER BY n",
            vec![id.into()],
        )?;
        let attempts: Vec<serde_json::Value> = attempts
            .iter()
            .map(|a| {
                serde_json::json!({
                    "n": a.n, "at": format_rfc3339(a.at_ms), "at_ms": a.at_ms, "url": a.url,
                    "status_code": a.status_code, "latency_ms": a.latency_ms, "error": a.error,
                    "response_head": a.response_head,
                })
            })
            .collect();
        let mut n = serde_json::to_value(Notification::from(&e))?;
        n["body"] = serde_json::Value::String(e.body.clone());
        n["attempt_log"] = serde_json::Value::Array(attempts);
        let _ = e.seq;
        Reply::json(200, &n)
    }

    /// Sends a notification again now (a failed one gets a whole new schedule).
    pub fn resend_notification(&self, m: &Merchant, id: &str) -> Result<Reply, Fail> {
        let e = self.event_row(id)?;
        if e.notify_url.is_none() || e.body.is_empty() {
            return Err(fail(
                ErrorCode::ParamError,
                "this event has no notification to send (no notify_url, or none in the order's dialect)",
            ));
        }
        let now = self.now(m);
        let attempts = if e.status == "FAILED" { 0 } else { e.attempts };
        self.x(
            "UPDATE events SET status = 'PENDING', attempts = ?, next_attempt_at_ms = ? WHERE event_id = ?",
            vec![attempts.into(), now.into(), id.into()],
        )?;
        self.audit(
            now,
            "merchant_api",
            "notification.resend",
            id,
            &e.status,
            "PENDING",
        )?;
        let e = self.event_row(id)?;
        Reply::json(202, &Notification::from(&e))
    }

    pub fn list_alerts(&self) -> Result<Reply, Fail> {
        #[derive(Deserialize)]
        struct A {
            seq: i64,
            kind: String,
            raised_at_ms: i64,
            cleared_at_ms: Option<i64>,
            detail: String,
        }
        let rows: Vec<A> = self.q("SELECT seq, kind, raised_at_ms, cleared_at_ms, detail FROM alerts ORDER BY seq DESC LIMIT 50", vec![])?;
        let alerts: Vec<serde_json::Value> = rows
            .iter()
            .map(|a| {
                serde_json::json!({
                    "id": a.seq, "type": a.kind, "raised_at": format_rfc3339(a.raised_at_ms),
                    "cleared_at": a.cleared_at_ms.map(format_rfc3339), "open": a.cleared_at_ms.is_none(),
                    "detail": a.detail,
                })
            })
            .collect();
        Reply::json(200, &serde_json::json!({"alerts": alerts}))
    }
}
