//! Delivering the outbox: rendering each due event in its order's dialect (JSON signed in a
//! header, or the v2 protocol's signed XML), POSTing it to the merchant's server, recording every
//! attempt, retrying on the schedule of `domain::delivery`, and raising an alert after
//! consecutive failures. Runs from the object's alarm, outside any transaction (it awaits the
//! network); each attempt's bookkeeping is its own transaction. Delivery is at least once: a
//! receiver deduplicates on `Paydesk-Event-Id`.

use super::store::{EventRow, Ledger, Merchant, Result, EVENT_COLUMNS};
use crate::domain::delivery::{self, ALERT_AFTER};
use crate::domain::events::{DeliveryStatus, EventKind, Format};
use crate::runtime;
use futures_util::future::join_all;
use paydesk_shared::sign::webhook::signature_header;
use paydesk_shared::time::format_rfc3339;
use worker::{Headers, Method, Request, RequestInit};

/// When the next delivery is due: the earliest attempt of an event that is the first
/// undelivered one of its order, as `due_deliveries` sends them. An event waiting behind an
/// earlier one of its order is not due on its own time, or the alarm would fire at once, send
/// nothing and fire again until the earlier one is delivered or given up. Read in index order
/// (`events_due`, then `events_by_order` for each event passed over), so it stops at the first
/// head: one row while no order has two events waiting.
pub(super) const DELIVERY_DUE: &str = "SELECT e.next_attempt_at_ms FROM events e
    WHERE e.status = 'PENDING' AND NOT EXISTS (SELECT 1 FROM events f
        WHERE f.order_key = e.order_key AND f.seq < e.seq AND f.status = 'PENDING')
    ORDER BY e.next_attempt_at_ms LIMIT 1";

/// An event due for delivery, rendered.
pub struct Due {
    pub event_id: String,
    pub body: String,
    pub notify_url: String,
    pub attempts: i64,
    pub format: Format,
}

/// What one attempt came to.
pub struct Attempt {
    pub url: String,
    pub at_ms: i64,
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub head: String,
    /// Whether the receiver acknowledged it: a 2xx, and for `v2` an XML `return_code` SUCCESS.
    pub acked: bool,
}

impl Ledger<'_> {
    /// The body an event is delivered with, in its order's dialect; `None` when the dialect
    /// sends nothing for it. The same event always renders the same bytes, so a retry is
    /// identical to the first attempt.
    pub fn render_event(&self, m: &Merchant, e: &EventRow) -> Result<Option<String>> {
        if !e.body.is_empty() {
            return Ok(Some(e.body.clone()));
        }
        if !e.format.delivers(e.kind) {
            return Ok(None);
        }
        match e.format {
            Format::Json => {
                let data: serde_json::Value = crate::json_text::from_text(&e.data_json)?;
                let doc = serde_json::json!({
                    "id": e.event_id,
                    "type": e.kind.as_str(),
                    "created_at": format_rfc3339(e.created_at_ms),
                    "data": data,
                });
                Ok(Some(doc.to_string()))
            }
            Format::V2 if e.kind == EventKind::OrderPaid => self.render_v2_payment(m, e),
            Format::V2 => self.render_v2_contract(m, e),
        }
    }

    /// A v2 body is signed with the merchant's API key: kept as first sent, so every retry is
    /// the same bytes under the same signature, even after the key is rotated (a merchant still
    /// on the previous key through its grace period verifies each attempt alike).
    fn keep_signed_body(&self, e: &EventRow, body: &str) -> Result<()> {
        if e.format != Format::V2 || !e.body.is_empty() {
            return Ok(());
        }
        self.x(
            "UPDATE events SET body = ? WHERE event_id = ? AND body = ''",
            vec![body.into(), e.event_id.as_str().into()],
        )
    }

    /// The v2 payment notification: what the protocol says of a paid order never changes
    /// after it is paid, so it is rendered from the order as it is.
    fn render_v2_payment(&self, m: &Merchant, e: &EventRow) -> Result<Option<String>> {
        debug_assert_eq!(e.kind, EventKind::OrderPaid);
        let o = self.order_or_fail(&e.order_key)?;
        let meta = o.v2()?;
        let facts = super::v2_dialect::facts(&o, meta.as_ref());
        let nonce = paydesk_shared::sign::hex_lower(
            &paydesk_shared::sign::sha256(e.event_id.as_bytes())[..16],
        );
        let contract_id = match &o.contract_code {
            Some(code) => self.contract(code)?.and_then(|c| c.contract_id),
            None => None,
        };
        Ok(crate::domain::v2::payment_notification(
            &facts,
            contract_id.as_deref(),
            m.id(),
            &nonce,
            m.row.api_key.peek(),
        ))
    }

    /// The earliest undelivered event of each order that is due now, so one order's events
    /// arrive in order; at most `limit` of them.
    pub fn due_deliveries(&self, limit: i64) -> Result<Vec<Due>> {
        let Some(m) = self.merchant()? else {
            return Ok(vec![]);
        };
        let rows: Vec<EventRow> = self.q(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM events e
                 WHERE e.status = 'PENDING' AND e.next_attempt_at_ms <= ?
                   AND e.seq = (SELECT MIN(seq) FROM events f WHERE f.order_key = e.order_key AND f.status = 'PENDING')
                 ORDER BY e.seq LIMIT ?"
            ),
            vec![self.now(&m).into(), limit.into()],
        )?;
        // While an alert is open, deliveries go to the backup URL when the merchant has one.
        let backup = match &m.config.backup_notify_url {
            Some(b) if self.open_alert()?.is_some() => Some(b.clone()),
            _ => None,
        };
        let mut due = Vec::with_capacity(rows.len());
        for e in rows {
            let (Some(body), Some(url)) = (self.render_event(&m, &e)?, e.notify_url.clone()) else {
                continue;
            };
            self.keep_signed_body(&e, &body)?;
            due.push(Due {
                notify_url: backup.clone().unwrap_or(url),
                event_id: e.event_id,
                body,
                attempts: e.attempts,
                format: e.format,
            });
        }
        Ok(due)
    }

    /// Records an attempt and moves the event on: DELIVERED, retry later, or FAILED.
    pub fn record_attempt(&self, d: &Due, a: &Attempt) -> Result<()> {
        let m = self.merchant_or_fail()?;
        let now = self.now(&m);
        self.log_attempt(&m, d, a)?;
        // `attempts` counts this schedule's attempts (a resend starts a new schedule).
        let n = d.attempts + 1;
        if a.acked {
            self.x(
                "UPDATE events SET status = ?, attempts = ?, delivered_at_ms = ?, next_attempt_at_ms = NULL WHERE event_id = ?",
                vec![DeliveryStatus::Delivered.as_str().into(), n.into(), now.into(), d.event_id.as_str().into()],
            )?;
            return self.deliveries_recovered(&m, now);
        }
        let jitter = f64::from(runtime::random_bytes::<1>()[0]) / 256.0;
        match delivery::next_delay_ms(n as u32, jitter) {
            Some(delay) => self.x(
                "UPDATE events SET attempts = ?, next_attempt_at_ms = ? WHERE event_id = ?",
                vec![n.into(), (now + delay).into(), d.event_id.as_str().into()],
            )?,
            None => self.x(
                "UPDATE events SET status = ?, attempts = ?, next_attempt_at_ms = NULL WHERE event_id = ?",
                vec![DeliveryStatus::Failed.as_str().into(), n.into(), d.event_id.as_str().into()],
            )?,
        }
        self.delivery_failed(&m, a, now)
    }

    /// The attempt log numbers every attempt ever made, in the merchant's business time.
    fn log_attempt(&self, m: &Merchant, d: &Due, a: &Attempt) -> Result<()> {
        #[derive(serde::Deserialize)]
        struct Last {
            n: Option<i64>,
        }
        let logged: Option<Last> = self.first(
            "SELECT MAX(n) AS n FROM delivery_attempts WHERE event_id = ?",
            vec![d.event_id.as_str().into()],
        )?;
        let log_n = logged.and_then(|l| l.n).unwrap_or(0) + 1;
        self.x(
            "INSERT INTO delivery_attempts (event_id, n, at_ms, url, status_code, latency_ms, error, response_head)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                d.event_id.as_str().into(),
                log_n.into(),
                (a.at_ms + m.row.clock_offset_ms).into(),
                a.url.as_str().into(),
                a.status.map(i64::from).into(),
                a.latency_ms.into(),
                a.error.clone().into(),
                a.head.as_str().into(),
            ],
        )
    }

    /// A delivery got through: the failure count restarts and an open alert clears.
    fn deliveries_recovered(&self, m: &Merchant, now: i64) -> Result<()> {
        self.x("UPDATE merchant SET consecutive_failures = 0", vec![])?;
        if self.resolve_alert("notifications", "a delivery got through", now)? {
            self.audit(
                now,
                "system:notify",
                "alert.clear",
                m.id(),
                "open",
                "cleared",
            )?;
        }
        Ok(())
    }

    /// One more consecutive failure; enough of them raise an alert.
    fn delivery_failed(&self, m: &Merchant, a: &Attempt, now: i64) -> Result<()> {
        let failures = m.row.consecutive_failures + 1;
        self.x(
            "UPDATE merchant SET consecutive_failures = ?",
            vec![failures.into()],
        )?;
        if failures < ALERT_AFTER {
            return Ok(());
        }
        let why = a.status.map_or_else(
            || a.error.clone().unwrap_or_default(),
            |s| format!("HTTP {s}"),
        );
        let detail = format!(
            "{failures} consecutive failed deliveries; last to {} ({why})",
            a.url
        );
        if self.raise_alert("notifications.failing", "notifications", &detail, now)? {
            self.audit(now, "system:notify", "alert.raise", m.id(), "", "open")?;
        }
        Ok(())
    }
}

/// Delivers what is due, concurrently across orders, and records every attempt.
pub async fn deliver_due(ledger: &Ledger<'_>) -> Result<usize> {
    let due = ledger.atomically(|l| l.due_deliveries(50))?;
    let Some(m) = ledger.merchant()? else {
        return Ok(0);
    };
    // During a rotation every delivery carries one v1 per valid secret.
    let secrets: Vec<String> = m
        .webhook_secrets(runtime::now_ms())
        .into_iter()
        .map(|s| s.peek().to_owned())
        .collect();
    let attempts = join_all(due.iter().map(|d| post(d, &secrets))).await;
    for (d, a) in due.iter().zip(&attempts) {
        ledger.atomically(|l| l.record_attempt(d, a))?;
    }
    Ok(due.len())
}

fn request(d: &Due, secrets: &[String], t: i64) -> worker::Result<Request> {
    let headers = Headers::new();
    headers.set("User-Agent", "paydesk-webhooks/1")?;
    headers.set("Paydesk-Event-Id", &d.event_id)?;
    match d.format {
        Format::V2 => headers.set("Content-Type", "text/xml; charset=utf-8")?,
        Format::Json => {
            let keys: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
            headers.set("Content-Type", "application/json")?;
            headers.set(
                "Paydesk-Signature",
                &signature_header(&keys, t, d.body.as_bytes()),
            )?;
        }
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(d.body.clone().into()));
    init.with_redirect(worker::RequestRedirect::Manual);
    Request::new_with_init(&d.notify_url, &init)
}

/// The receiver's status, the head of its answer, and whether it acknowledged; `None` if it did
/// not answer in time.
async fn send(d: &Due, secrets: &[String], t: i64) -> worker::Result<Option<(u16, String, bool)>> {
    let req = request(d, secrets, t)?;
    let Some(mut resp) = runtime::send_within(req, delivery::TIMEOUT_MS as u64).await? else {
        return Ok(None);
    };
    let status = resp.status_code();
    let text = resp.text().await.unwrap_or_default();
    let acked = delivery::acknowledged(d.format == Format::V2, status, &text);
    Ok(Some((status, text.chars().take(200).collect(), acked)))
}

async fn post(d: &Due, secrets: &[String]) -> Attempt {
    let started = runtime::now_ms();
    let result = send(d, secrets, started / 1000).await;
    let mut attempt = Attempt {
        url: d.notify_url.clone(),
        at_ms: started,
        status: None,
        latency_ms: runtime::now_ms() - started,
        error: None,
        head: String::new(),
        acked: false,
    };
    match result {
        Ok(Some((status, head, acked))) => {
            attempt.status = Some(status);
            attempt.head = head;
            attempt.acked = acked;
        }
        Ok(None) => attempt.error = Some(format!("timed out after {} ms", delivery::TIMEOUT_MS)),
        Err(e) => attempt.error = Some(format!("connection failed: {e}")),
    }
    attempt
}
