//! Sending the messages that are due (`merchant/messages.rs` keeps them): email through the
//! `EMAIL` send_email binding, SMS as a signed POST to the merchant's SMS provider. Runs from
//! the object's alarm, outside any transaction (it awaits the network), concurrently across
//! messages (one failing provider holds nothing else up); each attempt's bookkeeping is its own
//! transaction. Like notifications, delivery is at least once: a provider deduplicates on
//! `Paydesk-Message-Id`.

use super::messages::message_aad;
use super::store::{Ledger, Merchant, Result};
use crate::domain::message_rules::{self as rules, Channel};
use crate::domain::sealing;
use crate::runtime;
use futures_util::future::join_all;
use paydesk_shared::sign::webhook::{signature_header, sms_key};
use serde::Deserialize;
use worker::{EmailAddress, Headers, Method, Request, RequestInit, SendEmailBuilder};

/// A message due now, its address opened.
pub struct Outgoing {
    pub message_id: String,
    pub channel: Channel,
    pub payer: bool,
    pub template: String,
    pub to: String,
    pub title: String,
    pub body: String,
    pub attempts: i64,
}

/// How long a message being sent is not taken up again by another run.
const CLAIM_MS: i64 = 5 * 60_000;

impl Ledger<'_> {
    /// The messages due now (oldest first), at most `limit`, claimed: their next attempt is put
    /// off by `CLAIM_MS` in the same transaction, so a second run of the alarm while these are
    /// in flight does not send them again (their attempt's record sets the real next time; a
    /// send lost with the worker is made again when the claim runs out).
    pub fn due_messages(&self, m: &Merchant, limit: i64) -> Result<Vec<Outgoing>> {
        #[derive(Deserialize)]
        struct Row {
            message_id: String,
            channel: String,
            audience: String,
            template: String,
            to_sealed: Option<String>,
            title: String,
            body: String,
            attempts: i64,
        }
        let now = self.now(m);
        let rows: Vec<Row> = self.q(
            "SELECT message_id, channel, audience, template, to_sealed, title, body, attempts
             FROM messages WHERE status = 'PENDING' AND next_attempt_at_ms <= ?
             ORDER BY next_attempt_at_ms LIMIT ?",
            vec![now.into(), limit.into()],
        )?;
        let offset = m.config.utc_offset_minutes;
        for r in &rows {
            // A payer's SMS lost with the worker is sent again when the claim runs out, but
            // never in quiet hours.
            let again = match Channel::parse(&r.channel) {
                Some(c) => rules::send_at(now + CLAIM_MS, r.audience == "payer", c, offset).0,
                None => now + CLAIM_MS,
            };
            self.x(
                "UPDATE messages SET next_attempt_at_ms = ? WHERE message_id = ?",
                vec![again.into(), r.message_id.as_str().into()],
            )?;
        }
        let keys = runtime::data_keys(self.env)?;
        let mut due = Vec::with_capacity(rows.len());
        for r in rows {
            let aad = message_aad(m, &r.message_id);
            let opened = match (Channel::parse(&r.channel), r.to_sealed.as_deref()) {
                (Some(c), Some(sealed)) => {
                    sealing::open(&keys, &aad, sealed).ok().map(|to| (c, to))
                }
                _ => None,
            };
            // One address that no longer opens (its key dropped from DATA_KEYS before this
            // merchant was resealed) fails alone: the others go, and the alarm is not due again
            // at once for a message it can never send.
            let Some((channel, to)) = opened else {
                self.x(
                    "UPDATE messages SET status = 'FAILED', next_attempt_at_ms = NULL,
                     last_error = 'its address does not open: is the key that sealed it still in DATA_KEYS?'
                     WHERE message_id = ?",
                    vec![r.message_id.as_str().into()],
                )?;
                continue;
            };
            due.push(Outgoing {
                message_id: r.message_id,
                channel,
                payer: r.audience == "payer",
                template: r.template,
                to: String::from_utf8_lossy(&to).into_owned(),
                title: r.title,
                body: r.body,
                attempts: r.attempts,
            });
        }
        Ok(due)
    }

    /// Records an attempt: DELIVERED, tried again on the schedule (a payer's SMS never in quiet
    /// hours), or FAILED once the schedule is spent.
    pub fn record_message_attempt(
        &self,
        m: &Merchant,
        o: &Outgoing,
        error: Option<String>,
    ) -> Result<()> {
        let now = self.now(m);
        let n = o.attempts + 1;
        let id = o.message_id.as_str();
        // Delivered is what happened, even if an unsubscribe suppressed the row while it was
        // in flight (it stops every later message, not this one).
        let Some(error) = error else {
            return self.x(
                "UPDATE messages SET status = 'DELIVERED', attempts = ?, delivered_at_ms = ?,
                 next_attempt_at_ms = NULL, last_error = NULL
                 WHERE message_id = ? AND status IN ('PENDING', 'SUPPRESSED') AND attempts = ?",
                vec![n.into(), now.into(), id.into(), o.attempts.into()],
            );
        };
        let offset = m.config.utc_offset_minutes;
        let next = rules::next_delay_ms(n as u32)
            .map(|d| rules::send_at(now + d, o.payer, o.channel, offset).0);
        let status = if next.is_some() { "PENDING" } else { "FAILED" };
        self.x(
            "UPDATE messages SET status = ?, attempts = ?, next_attempt_at_ms = ?, last_error = ?
             WHERE message_id = ? AND status = 'PENDING' AND attempts = ?",
            vec![
                status.into(),
                n.into(),
                next.into(),
                error.into(),
                id.into(),
                o.attempts.into(),
            ],
        )
    }
}

/// Sends what is due and records every attempt.
pub async fn send_due_messages(ledger: &Ledger<'_>) -> Result<usize> {
    let Some(m) = ledger.merchant()? else {
        return Ok(0);
    };
    let due = ledger.atomically(|l| l.due_messages(&m, 50))?;
    if due.is_empty() {
        return Ok(0);
    }
    let sms_url = ledger.atomically(|l| l.messaging_settings(&m))?.sms_url;
    // Signed with keys derived from the webhook secrets, never the secrets themselves: the
    // provider cannot sign a notification.
    let secrets: Vec<String> = m
        .webhook_secrets(runtime::now_ms())
        .into_iter()
        .map(|s| sms_key(s.peek().as_bytes()))
        .collect();
    let sending = due.iter().map(|o| async {
        match o.channel {
            Channel::Email => send_email(ledger, &m, o).await,
            Channel::Sms => send_sms(sms_url.as_deref(), &secrets, o).await,
            Channel::Inbox => Ok(()),
        }
    });
    let results = join_all(sending).await;
    for (o, r) in due.iter().zip(results) {
        ledger.atomically(|l| l.record_message_attempt(&m, o, r.err()))?;
    }
    Ok(due.len())
}

/// Through the `EMAIL` binding, from `EMAIL_FROM` under the merchant's name.
async fn send_email(
    ledger: &Ledger<'_>,
    m: &Merchant,
    o: &Outgoing,
) -> std::result::Result<(), String> {
    let from = ledger
        .env
        .var("EMAIL_FROM")
        .map_err(|_| "EMAIL_FROM is not configured".to_owned())?
        .to_string();
    let binding = ledger
        .env
        .send_email("EMAIL")
        .map_err(|_| "the EMAIL binding is not configured".to_owned())?;
    let sender = EmailAddress::new(&m.branding.display_name, &from);
    let mail = SendEmailBuilder::new_with_email_address_and_str(&sender, &o.to, &o.title);
    mail.set_text(&o.body);
    binding
        .send_with_builder(&mail)
        .await
        .map(|_| ())
        .map_err(|e| format!("email refused: {}", String::from(e.message())))
}

/// A JSON POST signed as notifications are (`Paydesk-Signature`) but with the SMS key derived
/// from each webhook secret (`sms_key`), acknowledged by any 2xx.
async fn send_sms(
    url: Option<&str>,
    secrets: &[String],
    o: &Outgoing,
) -> std::result::Result<(), String> {
    let url = url.ok_or("no SMS provider is configured")?;
    let body = serde_json::json!({
        "id": o.message_id,
        "to": o.to,
        "text": o.body,
        "template": o.template,
    })
    .to_string();
    let req = sms_request(url, secrets, &o.message_id, &body).map_err(|e| e.to_string())?;
    match runtime::send_within(req, rules::TIMEOUT_MS).await {
        Ok(Some(resp)) if (200..300).contains(&resp.status_code()) => Ok(()),
        Ok(Some(resp)) => Err(format!("HTTP {}", resp.status_code())),
        Ok(None) => Err(format!("timed out after {} ms", rules::TIMEOUT_MS)),
        Err(e) => Err(format!("connection failed: {e}")),
    }
}

fn sms_request(url: &str, secrets: &[String], id: &str, body: &str) -> worker::Result<Request> {
    let headers = Headers::new();
    let keys: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    let t = runtime::now_ms() / 1000;
    headers.set("User-Agent", "paydesk-messages/1")?;
    headers.set("Content-Type", "application/json")?;
    headers.set("Paydesk-Message-Id", id)?;
    headers.set(
        "Paydesk-Signature",
        &signature_header(&keys, t, body.as_bytes()),
    )?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    init.with_redirect(worker::RequestRedirect::Manual);
    Request::new_with_init(url, &init)
}
