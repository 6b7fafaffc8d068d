//! Which channel a payment goes through, and what the merchant's object remembers of each:
//! its circuit (`domain/circuit.rs`), kept in `channel_health`. A channel that fails or times
//! out is passed over for the next one; a timeout is never passed over blindly: the channel is
//! asked first whether it charged, so a payment is charged once across a failover. Opening a
//! circuit raises an alert (`channel.circuit_open`), closing it clears the alert; both are
//! audited. The sandbox banks keep their own books (`sandbox_books`) of what they charged,
//! whatever paydesk heard back, so a test can count the charges.

use super::protocol::{ChannelList, ChannelView, SandboxCharges};
use super::store::{Ledger, Merchant, OrderRow, Result};
use crate::channel::sandbox::SLOW_PENDING_MS;
use crate::channel::{Channel, ChannelId, Decline, Found, Instrument, Outcome};
use crate::domain::circuit::{self, Change, Health};
use paydesk_shared::time::format_rfc3339;
use serde::Deserialize;

/// A payment attempt as routed: the channel that answered last, and its answer (never
/// `Unavailable` or `TimedOut`: those are passed over, or resolved by asking).
pub struct Routed {
    pub channel: ChannelId,
    pub outcome: Outcome,
}

#[derive(Deserialize)]
struct Row {
    channel: String,
    consecutive_failures: i64,
    opened_at_ms: Option<i64>,
}

impl Ledger<'_> {
    /// The merchant's channels in its order of preference, with their health. A live merchant
    /// has none until a real channel is configured for it.
    pub fn channels_of(&self, m: &Merchant) -> Result<Vec<(ChannelId, Health)>> {
        if !m.sandbox() {
            return Ok(vec![]);
        }
        let rows: Vec<Row> = self.q(
            "SELECT channel, consecutive_failures, opened_at_ms FROM channel_health",
            vec![],
        )?;
        let health = |c: ChannelId| {
            rows.iter()
                .find(|r| r.channel == c.as_str())
                .map_or(Health::default(), |r| Health {
                    consecutive_failures: r.consecutive_failures as u32,
                    opened_at_ms: r.opened_at_ms,
                })
        };
        Ok(ChannelId::SANDBOX.map(|c| (c, health(c))).to_vec())
    }

    /// Charges through the first channel that answers, in the circuit's order.
    pub fn route_charge(
        &self,
        m: &Merchant,
        o: &OrderRow,
        instrument: &Instrument,
        attempt: u32,
        now: i64,
    ) -> Result<Routed> {
        let channels = self.channels_of(m)?;
        let amount = o.amount_total as u64;
        let mut last = ChannelId::SandboxA;
        for id in circuit::order(&channels, now) {
            let health = channels.iter().find(|(c, _)| *c == id).map(|(_, h)| *h);
            let health = health.unwrap_or_default();
            let channel = id.channel();
            if channel.took_money(instrument, attempt) {
                self.book_sandbox(id, o, amount, now)?;
            }
            last = id;
            let outcome = match channel.authorize(instrument, amount, attempt) {
                Outcome::Unavailable => {
                    self.record(m, id, health, Some("unavailable"), now)?;
                    continue;
                }
                Outcome::TimedOut => {
                    self.record(m, id, health, Some("timeout"), now)?;
                    match channel.find(instrument, attempt) {
                        Found::Charged => Outcome::Succeeded,
                        Found::NotCharged => continue,
                        // Unknown: nothing may be tried elsewhere; asked again later.
                        Found::Unknown => Outcome::Pending {
                            after_ms: SLOW_PENDING_MS,
                        },
                    }
                }
                answered => {
                    self.record(m, id, health, None, now)?;
                    answered
                }
            };
            return Ok(Routed {
                channel: id,
                outcome,
            });
        }
        // Every channel failed without charging: the payer may try again.
        Ok(Routed {
            channel: last,
            outcome: Outcome::Failed(Decline::ProcessingError),
        })
    }

    /// Remembers an attempt's effect on a channel's circuit (written only when it changed).
    fn record(
        &self,
        m: &Merchant,
        id: ChannelId,
        before: Health,
        failure: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let (after, change) = before.after(failure.is_none(), now);
        if after == before {
            return Ok(());
        }
        self.x(
            "INSERT INTO channel_health (channel, consecutive_failures, opened_at_ms, last_failure_at_ms, last_failure)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (channel) DO UPDATE SET consecutive_failures = ?2, opened_at_ms = ?3,
               last_failure_at_ms = COALESCE(?4, last_failure_at_ms), last_failure = COALESCE(?5, last_failure)",
            vec![
                id.as_str().into(),
                i64::from(after.consecutive_failures).into(),
                after.opened_at_ms.into(),
                failure.map(|_| now).into(),
                failure.map(str::to_owned).into(),
            ],
        )?;
        let detail = format!(
            "{}: {} consecutive failures or timeouts; payments go to the next channel, and one \
             probes it again after {} seconds",
            id.as_str(),
            after.consecutive_failures,
            circuit::PROBE_AFTER_MS / 1000
        );
        let cause = format!("channel:{}", id.as_str());
        match change {
            Some(Change::Opened) => self.circuit_opened(m, &cause, &detail, now),
            Some(Change::Closed) => self.circuit_closed(m, id, now),
            // Still failing while open (a failed probe): the same alert, counted again.
            None if after.opened_at_ms.is_some() => self
                .raise_alert("channel.circuit_open", &cause, &detail, now)
                .map(|_| ()),
            None => Ok(()),
        }
    }

    fn circuit_opened(&self, m: &Merchant, cause: &str, detail: &str, now: i64) -> Result<()> {
        self.raise_alert("channel.circuit_open", cause, detail, now)?;
        self.audit(
            now,
            "system:circuit",
            "channel.open",
            m.id(),
            "closed",
            detail,
        )
    }

    fn circuit_closed(&self, m: &Merchant, id: ChannelId, now: i64) -> Result<()> {
        let note = format!("{}: a probe was answered", id.as_str());
        self.resolve_alert(&format!("channel:{}", id.as_str()), &note, now)?;
        self.audit(
            now,
            "system:circuit",
            "channel.close",
            m.id(),
            "open",
            &note,
        )
    }

    /// The sandbox bank's own record of a charge.
    pub fn book_sandbox(&self, id: ChannelId, o: &OrderRow, amount: u64, now: i64) -> Result<()> {
        self.x(
            "INSERT INTO sandbox_books (channel, out_trade_no, amount, at_ms) VALUES (?, ?, ?, ?)",
            vec![
                id.as_str().into(),
                o.out_trade_no.as_str().into(),
                (amount as i64).into(),
                now.into(),
            ],
        )
    }

    /// `GET /v1/channels`: each channel's circuit, and for a sandbox merchant what each
    /// sandbox bank charged.
    pub fn list_channels(&self, m: &Merchant) -> Result<ChannelList> {
        let now = self.now(m);
        let mut channels = vec![];
        for (id, h) in self.channels_of(m)? {
            #[derive(Deserialize)]
            struct Books {
                n: i64,
                total: Option<i64>,
            }
            let books: Option<Books> = self.first(
                "SELECT COUNT(*) AS n, SUM(amount) AS total FROM sandbox_books WHERE channel = ?",
                vec![id.as_str().into()],
            )?;
            let books = books.unwrap_or(Books { n: 0, total: None });
            channels.push(ChannelView {
                channel: id.as_str().to_owned(),
                state: h.state(now).as_str().to_owned(),
                consecutive_failures: h.consecutive_failures,
                opened_at: h.opened_at_ms.map(format_rfc3339),
                probe_after: h
                    .opened_at_ms
                    .map(|at| format_rfc3339(at + circuit::PROBE_AFTER_MS)),
                sandbox_charges: Some(SandboxCharges {
                    count: books.n as u64,
                    amount: books.total.unwrap_or(0) as u64,
                }),
            });
        }
        Ok(ChannelList { channels })
    }
}
