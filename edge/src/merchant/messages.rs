//! Messages to people, kept as an outbox like notifications: staff alerts (raised and resolved,
//! routed per kind by the merchant's settings) and payer reminders and confirmations (prompted by
//! the events of an order, subscription, plan or contract that has the payer's contact). One
//! row per message and channel, unique by what prompted it, so nothing is sent twice however
//! often it is prompted; inbox messages are delivered as they are written. An SMS to a payer
//! waits out quiet hours; a payer who unsubscribed is not written to again (the message is kept
//! as SUPPRESSED). Addresses are sealed; only masked forms are shown. `merchant/message_delivery.rs`
//! sends what is due.

use super::protocol::{InboxPage, MessageList, MessageView, UnsubscribeReply};
use super::store::{Ledger, Merchant, Result};
use crate::domain::contact_rules::{mask_email, mask_phone};
use crate::domain::message_rules::{
    message_key, send_at, Channel, Locale, MessagingSettings, Prompt,
};
use crate::domain::message_templates::{self as templates, PayerTemplate, Rendered};
use crate::domain::sealing;
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::sign::token::UnsubscribeToken;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::urlenc::query_param;
use serde::Deserialize;

/// An unsubscribe link works for five years.
const UNSUBSCRIBE_DAYS: i64 = 5 * 366;

/// A message about to be written.
struct NewMessage<'a> {
    id: String,
    dedup_key: String,
    channel: Channel,
    payer: bool,
    template: &'a str,
    subject: &'a str,
    to: Option<&'a str>,
    rendered: Rendered,
}

#[derive(Deserialize)]
struct MessageRow {
    message_id: String,
    channel: String,
    audience: String,
    template: String,
    subject: String,
    to_masked: Option<String>,
    to_digest: Option<String>,
    title: String,
    body: String,
    status: String,
    attempts: i64,
    next_attempt_at_ms: Option<i64>,
    quiet_until_ms: Option<i64>,
    created_at_ms: i64,
    delivered_at_ms: Option<i64>,
    last_error: Option<String>,
    read_at_ms: Option<i64>,
}

const MESSAGE_COLUMNS: &str = "message_id, channel, audience, template, subject, to_masked, \
    to_digest, title, body, status, attempts, next_attempt_at_ms, quiet_until_ms, created_at_ms, \
    delivered_at_ms, last_error, read_at_ms";

impl MessageRow {
    fn view(self) -> MessageView {
        let inbox = self.channel == "inbox";
        MessageView {
            id: self.message_id,
            channel: self.channel,
            audience: self.audience,
            template: self.template,
            subject: self.subject,
            to: self.to_masked,
            title: self.title,
            text: self.body,
            status: self.status,
            attempts: self.attempts as u32,
            next_attempt_at: self.next_attempt_at_ms.map(format_rfc3339),
            quiet_until: self.quiet_until_ms.map(format_rfc3339),
            created_at: format_rfc3339(self.created_at_ms),
            delivered_at: self.delivered_at_ms.map(format_rfc3339),
            last_error: self.last_error,
            read: inbox.then_some(self.read_at_ms.is_some()),
        }
    }
}

impl Ledger<'_> {
    /// The merchant's messaging settings, opened (staff contacts in clear, to reach them).
    pub fn messaging_settings(&self, m: &Merchant) -> Result<MessagingSettings> {
        #[derive(Deserialize)]
        struct S {
            sealed: String,
        }
        let Some(s) = self.first::<S>("SELECT sealed FROM messaging", vec![])? else {
            return Ok(MessagingSettings::default());
        };
        let keys = runtime::data_keys(self.env)?;
        let plain = sealing::open(&keys, &settings_aad(m), &s.sealed)
            .map_err(|e| AppError::internal(format!("messaging settings do not open: {e:?}")))?;
        Ok(serde_json::from_slice(&plain)?)
    }

    /// `GET /v1/messaging`: the settings as they may be shown (staff contacts masked).
    pub fn messaging_view(&self) -> Result<MessagingSettings> {
        #[derive(Deserialize)]
        struct S {
            masked_json: String,
        }
        let s = self.first::<S>("SELECT masked_json FROM messaging", vec![])?;
        Ok(s.map(|s| crate::json_text::from_text(&s.masked_json))
            .transpose()?
            .unwrap_or_default())
    }

    /// `PUT /v1/messaging`: replaces the settings whole (checked first; nothing changes if
    /// refused; a staff contact sent back as shown, masked, is kept), sealed, and audited in
    /// their masked form.
    pub fn set_messaging(&self, m: &Merchant, s: &MessagingSettings) -> Result<MessagingSettings> {
        let s = &s.keeping(&self.messaging_settings(m)?);
        s.check(self.call.dev)?;
        let keys = runtime::data_keys(self.env)?;
        let sealed = sealing::seal(
            &keys,
            runtime::random_bytes(),
            &settings_aad(m),
            &serde_json::to_vec(s)?,
        )
        .map_err(AppError::internal)?;
        let before = serde_json::to_string(&self.messaging_view()?)?;
        let masked = s.masked();
        let after = serde_json::to_string(&masked)?;
        let now = self.now(m);
        self.x(
            "INSERT OR REPLACE INTO messaging (id, sealed, masked_json, updated_at_ms) VALUES (1, ?, ?, ?)",
            vec![sealed.into(), after.as_str().into(), now.into()],
        )?;
        // The API key or console user that made the change.
        let actor = self.acting_key.borrow().clone();
        self.audit(
            now,
            actor.as_deref().unwrap_or("merchant_api"),
            "messaging.update",
            m.id(),
            &before,
            &after,
        )?;
        Ok(masked)
    }

    /// Tells staff of an alert raised or resolved, on each channel its kind is routed to.
    pub fn tell_staff(
        &self,
        kind: &str,
        seq: i64,
        raised: bool,
        note: &str,
        now: i64,
    ) -> Result<()> {
        let Some(m) = self.merchant()? else {
            return Ok(());
        };
        let settings = self.messaging_settings(&m)?;
        let locale = Locale::parse(settings.staff_locale.as_deref()).unwrap_or_default();
        let phase = if raised { "raised" } else { "resolved" };
        let template = format!("alert.{phase}");
        let name = &m.branding.display_name;
        for channel in settings.route(kind) {
            let to = match channel {
                Channel::Email => settings.staff_email.as_deref(),
                Channel::Sms => settings.staff_phone.as_deref(),
                Channel::Inbox => None,
            };
            let msg = NewMessage {
                id: new_id(),
                dedup_key: message_key(Prompt::Alert { seq, raised }, channel),
                channel,
                payer: false,
                template: &template,
                subject: kind,
                to,
                rendered: templates::render_alert(kind, raised, note, name, locale),
            };
            self.enqueue(&m, msg, now)?;
        }
        Ok(())
    }

    /// Tells the payer what an event means for them, when it is one they are told of and
    /// whatever it is about has their contact: by email, and by SMS when the merchant has an
    /// SMS provider.
    pub fn tell_payer(
        &self,
        event_id: &str,
        kind: &str,
        subject: &str,
        data: &serde_json::Value,
        now: i64,
    ) -> Result<()> {
        let Some(t) = PayerTemplate::of_event(kind, data) else {
            return Ok(());
        };
        let Some(m) = self.merchant()? else {
            return Ok(());
        };
        // A deduction's order holds no contact: its contract's payer is told.
        let contract = data.get("contract_code").and_then(|c| c.as_str());
        let contact = match (self.contact_of(&m, subject)?, contract) {
            (Some(c), _) => c,
            (None, Some(code)) if t == PayerTemplate::DeductionUpcoming => {
                match self.contact_of(&m, &super::contracts::contract_key(code))? {
                    Some(c) => c,
                    None => return Ok(()),
                }
            }
            (None, _) => return Ok(()),
        };
        let sms = self.messaging_settings(&m)?.sms_url.is_some();
        let locale = Locale::parse(contact.locale.as_deref()).unwrap_or_default();
        let mut facts =
            templates::facts_of(data, &m.branding.display_name, m.config.utc_offset_minutes);
        self.contract_facts(&m, subject, &mut facts)?;
        let ways = [
            (Channel::Email, contact.email.as_deref()),
            (Channel::Sms, contact.phone.as_deref().filter(|_| sms)),
        ];
        for (channel, to) in ways {
            let Some(to) = to else { continue };
            let id = new_id();
            facts.unsubscribe_link = self.unsubscribe_link(&m, &id)?;
            let msg = NewMessage {
                dedup_key: message_key(Prompt::Event(event_id), channel),
                id,
                channel,
                payer: true,
                template: t.as_str(),
                subject,
                to: Some(to),
                rendered: templates::render_payer(t, locale, &facts),
            };
            self.enqueue(&m, msg, now)?;
        }
        Ok(())
    }

    /// A contract's events name neither what it is for nor its page once signed: both are
    /// looked up.
    fn contract_facts(&self, m: &Merchant, subject: &str, f: &mut templates::Facts) -> Result<()> {
        let Some(code) = subject.strip_prefix("contract/") else {
            return Ok(());
        };
        let Some(c) = self.contract(code)? else {
            return Ok(());
        };
        if let Some(plan) = self.plan(&c.plan_id)? {
            f.description = plan.name;
        }
        f.contract_link = Some(self.contract_url(&c, m)?);
        Ok(())
    }

    fn unsubscribe_link(&self, m: &Merchant, message_id: &str) -> Result<String> {
        let key = runtime::checkout_token_key(self.env)?;
        let token = UnsubscribeToken {
            merchant_id: m.id().to_owned(),
            message_id: message_id.to_owned(),
            expires_at: runtime::now_ms() / 1000 + UNSUBSCRIBE_DAYS * 86_400,
        }
        .encode(&crate::mac_keys::prepared(&key))
        .ok_or_else(|| AppError::internal("a message id cannot be tokenised"))?;
        Ok(format!("{}/unsubscribe/{token}", m.row.origin))
    }

    /// Writes a message once (a second prompt with the same key changes nothing): the inbox's
    /// delivered at once, a payer who unsubscribed suppressed, the rest due now (a payer's SMS
    /// after quiet hours).
    fn enqueue(&self, m: &Merchant, msg: NewMessage<'_>, now: i64) -> Result<()> {
        let (sealed, masked, digest) = match msg.to {
            Some(to) => {
                let keys = runtime::data_keys(self.env)?;
                let aad = message_aad(m, &msg.id);
                let sealed = sealing::seal(&keys, runtime::random_bytes(), &aad, to.as_bytes())
                    .map_err(AppError::internal)?;
                let masked = match msg.channel {
                    Channel::Email => mask_email(to),
                    _ => mask_phone(to),
                };
                (
                    Some(sealed),
                    Some(masked),
                    Some(self.address_digest(msg.channel, to)?),
                )
            }
            None => (None, None, None),
        };
        let unsubscribed = match (&digest, msg.to, msg.payer) {
            (Some(d), Some(to), true) => {
                // An unsubscribe kept before addresses were read as one (`address_key`) is
                // under the address as it was written then.
                let written = self.digest_of(msg.channel, &to.trim().to_lowercase())?;
                self.unsubscribed(d)? || (written != *d && self.unsubscribed(&written)?)
            }
            _ => false,
        };
        let (due, quiet) = send_at(now, msg.payer, msg.channel, m.config.utc_offset_minutes);
        let (status, next, delivered) = match (msg.channel, unsubscribed) {
            (Channel::Inbox, _) => ("DELIVERED", None, Some(now)),
            (_, true) => ("SUPPRESSED", None, None),
            _ => ("PENDING", Some(due), None),
        };
        self.x(
            "INSERT OR IGNORE INTO messages (message_id, dedup_key, channel, audience, template,
                subject, to_sealed, to_masked, to_digest, title, body, status, next_attempt_at_ms,
                quiet_until_ms, created_at_ms, delivered_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                msg.id.into(),
                msg.dedup_key.into(),
                msg.channel.as_str().into(),
                (if msg.payer { "payer" } else { "staff" }).into(),
                msg.template.into(),
                msg.subject.into(),
                sealed.into(),
                masked.into(),
                digest.into(),
                msg.rendered.title.into(),
                msg.rendered.text.into(),
                status.into(),
                next.into(),
                quiet.into(),
                now.into(),
                delivered.into(),
            ],
        )
    }

    /// Whether the address of this digest unsubscribed.
    fn unsubscribed(&self, digest: &str) -> Result<bool> {
        Ok(self
            .number(
                "SELECT 1 AS v FROM unsubscribes WHERE to_digest = ?",
                vec![digest.into()],
            )?
            .is_some())
    }

    /// Who an address is, without keeping it: a keyed digest of it however it was written
    /// (`contact_rules::address_key`; an unsubscribe is by address).
    fn address_digest(&self, channel: Channel, to: &str) -> Result<String> {
        self.digest_of(channel, &crate::domain::contact_rules::address_key(to))
    }

    fn digest_of(&self, channel: Channel, to: &str) -> Result<String> {
        let key = runtime::checkout_token_key(self.env)?;
        let mac = paydesk_shared::sign::hmac_sha256(
            key.peek().as_bytes(),
            &[
                b"paydesk-address\n",
                channel.as_str().as_bytes(),
                b":",
                to.as_bytes(),
            ],
        );
        Ok(paydesk_shared::sign::hex_lower(&mac[..16]))
    }

    /// `GET /v1/inbox[?unread=true]`: the newest 50 first, and the unread count.
    pub fn inbox(&self, query: &str) -> Result<InboxPage> {
        let unread_only = query_param(query, "unread").as_deref() == Some("true");
        let rows: Vec<MessageRow> = self.q(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel = 'inbox'
                   AND (? = 0 OR read_at_ms IS NULL)
                 ORDER BY created_at_ms DESC, rowid DESC LIMIT 50"
            ),
            vec![i64::from(unread_only).into()],
        )?;
        let unread = self.number(
            "SELECT COUNT(*) AS v FROM messages WHERE channel = 'inbox' AND read_at_ms IS NULL",
            vec![],
        )?;
        Ok(InboxPage {
            unread: unread.unwrap_or(0) as u32,
            messages: rows.into_iter().map(MessageRow::view).collect(),
        })
    }

    /// `POST /v1/inbox/{id}/read` and `/unread`.
    pub fn mark_read(&self, m: &Merchant, id: &str, read: bool) -> Result<MessageView> {
        let now = self.now(m);
        self.x(
            "UPDATE messages SET read_at_ms = CASE WHEN ? THEN COALESCE(read_at_ms, ?) END
             WHERE message_id = ? AND channel = 'inbox'",
            vec![i64::from(read).into(), now.into(), id.into()],
        )?;
        self.message(id)?
            .filter(|r| r.channel == "inbox")
            .map(MessageRow::view)
            .ok_or_else(|| AppError::code(ErrorCode::NotFound, "no such inbox message"))
    }

    fn message(&self, id: &str) -> Result<Option<MessageRow>> {
        self.first(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE message_id = ?"),
            vec![id.into()],
        )
    }

    /// `GET /v1/messages[?status=&channel=&audience=]`: the newest 50 outbound messages first.
    pub fn list_messages(&self, query: &str) -> Result<MessageList> {
        let p = |k: &str| query_param(query, k).unwrap_or_default();
        let rows: Vec<MessageRow> = self.q(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel != 'inbox'
                   AND (?1 = '' OR status = ?1) AND (?2 = '' OR channel = ?2)
                   AND (?3 = '' OR audience = ?3)
                 ORDER BY created_at_ms DESC, rowid DESC LIMIT 50"
            ),
            vec![
                p("status").into(),
                p("channel").into(),
                p("audience").into(),
            ],
        )?;
        Ok(MessageList {
            messages: rows.into_iter().map(MessageRow::view).collect(),
        })
    }

    /// The payer's unsubscribe link: asks (GET), or unsubscribes the address it was sent to
    /// from every later message of this merchant on that channel, suppressing those waiting.
    pub fn unsubscribe(&self, message_id: &str, confirm: bool) -> Result<UnsubscribeReply> {
        let m = self.merchant_or_fail()?;
        let row = self.message(message_id)?.filter(|r| r.audience == "payer");
        let Some(MessageRow {
            to_digest: Some(digest),
            to_masked,
            channel,
            ..
        }) = row
        else {
            return Err(AppError::code(ErrorCode::NotFound, "no such message"));
        };
        let already = self.unsubscribed(&digest)?;
        if confirm && !already {
            let now = self.now(&m);
            self.x(
                "INSERT INTO unsubscribes (to_digest, at_ms, message_id) VALUES (?, ?, ?)",
                vec![digest.as_str().into(), now.into(), message_id.into()],
            )?;
            self.x(
                "UPDATE messages SET status = 'SUPPRESSED', next_attempt_at_ms = NULL
                 WHERE to_digest = ? AND status = 'PENDING' AND audience = 'payer'",
                vec![digest.as_str().into()],
            )?;
            let masked = to_masked.clone().unwrap_or_default();
            self.audit(now, "payer", "contact.unsubscribe", message_id, "", &masked)?;
        }
        Ok(UnsubscribeReply {
            merchant: m.branding.display_name.clone(),
            to: to_masked.unwrap_or_default(),
            channel,
            unsubscribed: confirm || already,
        })
    }
}

fn new_id() -> String {
    format!("msg_{}", runtime::random_hex(12))
}

fn settings_aad(m: &Merchant) -> Vec<u8> {
    sealing::aad::messaging(m.id())
}

/// What a message's address is sealed to: the merchant and the message.
pub fn message_aad(m: &Merchant, message_id: &str) -> Vec<u8> {
    sealing::aad::message(m.id(), message_id)
}
