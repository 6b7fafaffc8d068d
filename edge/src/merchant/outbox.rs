//! Delivering the outbox: signed POSTs of due events to the merchant's server, each attempt
//! recorded, retried on the schedule of `domain::delivery`, alerts after consecutive failures.
//! Runs from the object's alarm, outside any transaction (it awaits the network); each
//! attempt's bookkeeping is its own transaction. Delivery is at least once: a receiver
//! deduplicates on `Paydesk-Event-Id`.

use super::ledger::{Fail, Ledger};
use crate::domain::delivery::{self, ALERT_AFTER};
use crate::runtime;
use futures_util::future::{join_all, select, Either};
use paydesk_shared::sign::webhook::signature_header;
use serde::Deserialize;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

/// An event due for delivery.
#[derive(Debug, Deserialize)]
pub struct Due {
    pub event_id: String,
    pub body: String,
    pub notify_url: String,
    pub attempts: i64,
    /// `json` (signed in a header) or `v2` (the protocol's XML, signed inside).
    pub format: String,
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
    /// The earliest undelivered event of each order that is due now, so one order's events
    /// arrive in order; at most `limit` of them.
    pub fn due_deliveries(&self, limit: i64) -> Result<Vec<Due>, Fail> {
        let Some(m) = self.merchant()? else {
            return Ok(vec![]);
        };
        let now = self.now(&m);
        let mut due: Vec<Due> = self.q(
            "SELECT e.event_id, e.body, e.notify_url, e.attempts, e.format FROM events e
             WHERE e.status = 'PENDING' AND e.next_attempt_at_ms <= ?
               AND e.seq = (SELECT MIN(seq) FROM events f WHERE f.order_key = e.order_key AND f.status = 'PENDING')
             ORDER BY e.seq LIMIT ?",
            vec![now.into(), limit.into()],
        )?;
        // While an alert is open, deliveries go to the backup URL when the merchant has one.
        if let Some(backup) = &m.config.backup_notify_url {
            if self.open_alert()?.is_some() {
                for d in &mut due {
                    d.notify_url = backup.clone();
                }
            }
        }
        Ok(due)
    }

    pub fn open_alert(&self) -> Result<Option<i64>, Fail> {
        #[derive(Deserialize)]
        struct A {
            seq: i64,
        }
        let rows: Vec<A> = self.q(
            "SELECT seq FROM alerts WHERE cleared_at_ms IS NULL ORDER BY seq DESC LIMIT 1",
            vec![],
        )?;
        Ok(rows.first().map(|a| a.seq))
    }

    /// Records an attempt and moves the event on: DELIVERED, retry later, or FAILED.
    pub fn record_attempt(&self, d: &Due, a: &Attempt) -> Result<(), Fail> {
        let m = self.merchant_or_fail()?;
        let now = self.now(&m);
        // `attempts` counts this schedule's attempts (a resend starts a new schedule); the log
        // numbers every attempt ever made.
        let n = d.attempts + 1;
        #[derive(Deserialize)]
        struct Last {
            n: Option<i64>,
        }
        let logged: Vec<Last> = self.q(
            "SELECT MAX(n) AS n FROM delivery_attempts WHERE event_id = ?",
            vec![d.event_id.as_str().into()],
        )?;
        let log_n = logged.first().and_then(|l| l.n).unwrap_or(0) + 1;
        self.x(
            "INSERT INTO delivery_attempts (event_id, n, at_ms, url, status_code, latency_ms, error, response_head)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                d.event_id.as_str().into(),
                log_n.into(),
                // In the merchant's business time, like the schedule.
                (a.at_ms + m.row.clock_offset_ms).into(),
                a.url.as_str().into(),
                a.status.map(i64::from).into(),
                a.latency_ms.into(),
                a.error.clone().into(),
                a.head.as_str().into(),
            ],
        )?;
        if a.acked {
            self.x(
                "UPDATE events SET status = 'DELIVERED', attempts = ?, delivered_at_ms = ?, next_attempt_at_ms = NULL WHERE event_id = ?",
                vec![n.into(), now.into(), d.event_id.as_str().into()],
            )?;
            self.x("UPDATE merchant SET consecutive_failures = 0", vec![])?;
            if let Some(seq) = self.open_alert()? {
                self.x(
                    "UPDATE alerts SET cleared_at_ms = ? WHERE seq = ?",
                    vec![now.into(), seq.into()],
                )?;
                self.audit(
                    now,
                    "system:notify",
                    "alert.clear",
                    &m.row.merchant_id,
                    "open",
                    "cleared",
                )?;
            }
            return Ok(());
        }
        let jitter = f64::from(runtime::random_bytes::<1>()[0]) / 256.0;
        match delivery::next_delay_ms(n as u32, jitter) {
            Some(delay) => self.x(
                "UPDATE events SET attempts = ?, next_attempt_at_ms = ? WHERE event_id = ?",
                vec![n.into(), (now + delay).into(), d.event_id.as_str().into()],
            )?,
            None => self.x(
                "UPDATE events SET status = 'FAILED', attempts = ?, next_attempt_at_ms = NULL WHERE event_id = ?",
                vec![n.into(), d.event_id.as_str().into()],
            )?,
        }
        let failures = m.row.consecutive_failures + 1;
        self.x(
            "UPDATE merchant SET consecutive_failures = ?",
            vec![failures.into()],
        )?;
        if failures >= ALERT_AFTER && self.open_alert()?.is_none() {
            let detail = format!(
                "{failures} consecutive failed deliveries; last to {} ({})",
                a.url,
                a.status.map_or_else(
                    || a.error.clone().unwrap_or_default(),
                    |s| format!("HTTP {s}")
                )
            );
            self.x(
                "INSERT INTO alerts (kind, raised_at_ms, detail) VALUES ('merchant.alert', ?, ?)",
                vec![now.into(), detail.into()],
            )?;
            self.audit(
                now,
                "system:notify",
                "alert.raise",
                &m.row.merchant_id,
                "",
                "open",
            )?;
        }
        Ok(())
    }
}

/// Delivers what is due, concurrently across orders, and records every attempt.
pub async fn deliver_due(ledger: &Ledger<'_>) -> Result<usize, Fail> {
    let due = ledger.atomically(|l| l.due_deliveries(50))?;
    let Some(m) = ledger.merchant()? else {
        return Ok(0);
    };
    // During a rotation every delivery carries one v1 per valid secret.
    let mut secrets = vec![m.row.webhook_secret.clone()];
    if m.row
        .webhook_secret_prev_until_ms
        .is_some_and(|until| runtime::now_ms() <= until)
    {
        secrets.extend(m.row.webhook_secret_prev.clone());
    }
    let attempts = join_all(due.iter().map(|d| post(d, &secrets))).await;
    for (d, a) in due.iter().zip(&attempts) {
        ledger.atomically(|l| l.record_attempt(d, a))?;
    }
    Ok(due.len())
}

async fn post(d: &Due, secrets: &[String]) -> Attempt {
    let started = runtime::now_ms();
    let t = started / 1000;
    let keys: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    let mut attempt = Attempt {
        url: d.notify_url.clone(),
        at_ms: started,
        status: None,
        latency_ms: 0,
        error: None,
        head: String::new(),
        acked: false,
    };
    let result = async {
        let headers = Headers::new();
        headers.set("User-Agent", "paydesk-webhooks/1")?;
        headers.set("Paydesk-Event-Id", &d.event_id)?;
        if d.format == "v2" {
            headers.set("Content-Type", "text/xml; charset=utf-8")?;
        } else {
            headers.set("Content-Type", "application/json")?;
            headers.set(
                "Paydesk-Signature",
                &signature_header(&keys, t, d.body.as_bytes()),
            )?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(d.body.clone().into()));
        init.with_redirect(worker::RequestRedirect::Manual);
        let req = Request::new_with_init(&d.notify_url, &init)?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(req);
        let send = Box::pin(fetch.send_with_signal(&signal));
        let timeout = Box::pin(Delay::from(std::time::Duration::from_millis(
            delivery::TIMEOUT_MS as u64,
        )));
        let outcome = match select(send, timeout).await {
            Either::Left((resp, _)) => Some(resp),
            Either::Right(_) => None,
        };
        let r = match outcome {
            Some(resp) => {
                let mut resp = resp?;
                let status = resp.status_code();
                let text = resp.text().await.unwrap_or_default();
                let acked = delivery::acknowledged(d.format == "v2", status, &text);
                Some((status, text.chars().take(200).collect::<String>(), acked))
            }
            None => {
                controller.abort();
                None
            }
        };
        Ok::<_, worker::Error>(r)
    }
    .await;
    attempt.latency_ms = runtime::now_ms() - started;
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
