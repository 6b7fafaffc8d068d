//! Work that falls due with nobody watching: order deadlines (`close` / `remind`), payments
//! left pending by the channel, deductions reaching their charge time, and contracts whose
//! signing window or term ran out. The alarm runs it; so does every read of an order, so an answer
//! never shows an order that should already have moved.

use super::store::{Ledger, Merchant, OrderRow, Result, ORDER_COLUMNS};
use crate::channel::{Channel, ChannelId, Outcome};
use crate::domain::events::EventKind;
use crate::domain::limits;
use crate::domain::order_rules::{self, CloseReason, Due};

impl Ledger<'_> {
    /// Everything due at the merchant's business time.
    pub fn run_due(&self) -> Result<()> {
        let Some(m) = self.merchant()? else {
            return Ok(());
        };
        let now = self.now(&m);
        let due: Vec<OrderRow> = self.q(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders
                 WHERE (status IN ('NOTPAY', 'PAYERROR', 'PENDING_APPROVAL') AND time_expire_ms <= ?)
                    OR (status = 'USERPAYING' AND pending_until_ms <= ?)
                    OR (status = 'NOTPAY' AND charge_at_ms <= ?)
                 ORDER BY created_at_ms, out_trade_no"
            ),
            vec![now.into(), now.into(), now.into()],
        )?;
        // A contract that ended first closes its deductions before they could be charged.
        self.run_due_contracts(&m, now)?;
        self.run_due_subscriptions(&m, now)?;
        self.run_due_installments(&m, now)?;
        for o in due {
            // Re-read: ending a contract above may have closed it.
            if let Some(o) = self.order(&o.out_trade_no)? {
                self.process_due(&m, o, now)?;
            }
        }
        self.run_due_reviews(&m, now)?;
        self.run_due_escrow(&m, now)?;
        self.run_due_settlements(&m, now)?;
        self.run_due_retention(&m, now)?;
        self.forget_old_attempts(now)
    }

    /// The alarm's housekeeping: forgets the nonces that left the replay window and the rate
    /// window entries that left the minute. One new nonce in 16, and one new rate window entry
    /// in 16, forget them too (`merchant/auth.rs`), so this only keeps an idle merchant's
    /// tables small; reads that run what is due (`run_due`) do not pay for it.
    pub fn forget_expired_requests(&self) -> Result<()> {
        let Some(m) = self.merchant()? else {
            return Ok(());
        };
        self.x(
            "DELETE FROM rate_events WHERE at_ms <= ?",
            vec![(self.now(&m) - limits::MINUTE_MS).into()],
        )?;
        self.forget_expired_nonces(self.real_now())
    }

    /// The same for one order, before it is read or changed (`orders.rs`, `up_to_date`): runs
    /// what fell due on `o`, and answers the order as it now stands, read again only if
    /// something did (`None` if it is gone).
    pub fn process_due(&self, m: &Merchant, mut o: OrderRow, now: i64) -> Result<Option<OrderRow>> {
        // A reminder extends the deadline once; a test clock may have moved past both.
        for _ in 0..2 {
            match order_rules::due(&o.deadlines(), now) {
                Some(Due::Remind) => self.remind(m, &o, now)?,
                // Handed to the upstream and not settled there: closed once the upstream says
                // so (`merchant/upstream_close.rs`), not before.
                Some(Due::Expire) if self.handoff_open(&o.out_trade_no)? => return Ok(Some(o)),
                Some(Due::Expire) => {
                    self.close_order(m, &o, CloseReason::Expired, now, "system:deadline")?
                }
                Some(Due::QueryPending) => self.settle_pending(m, &o, now)?,
                // Within the plan's limits of the period it is charged in: a deduction held
                // for approval may be charged in a later period than it was asked for.
                Some(Due::Charge) => self.charge_scheduled(m, &o, now)?,
                None => return Ok(Some(o)),
            }
            match self.order(&o.out_trade_no)? {
                Some(next) => o = next,
                None => return Ok(None),
            }
        }
        Ok(Some(o))
    }

    /// A `remind` order's deadline passed: the merchant is told once, and the order stays open
    /// for the merchant's grace period.
    fn remind(&self, m: &Merchant, o: &OrderRow, now: i64) -> Result<()> {
        let extended = o.time_expire_ms + i64::from(m.config.remind_grace_seconds) * 1000;
        self.x(
            "UPDATE orders SET reminded = 1, time_expire_ms = ? WHERE out_trade_no = ?",
            vec![extended.into(), o.out_trade_no.as_str().into()],
        )?;
        let st = o.status.as_str();
        self.audit(
            now,
            "system:deadline",
            "order.remind",
            &o.out_trade_no,
            st,
            st,
        )?;
        let extra = serde_json::json!({
            "out_trade_no": o.out_trade_no,
            "status": o.status,
            "time_expire": paydesk_shared::time::format_rfc3339(extended),
        });
        self.order_event(m, now, EventKind::OrderReminder, &o.out_trade_no, extra)
    }

    /// A payment the channel left pending: ask the channel again.
    fn settle_pending(&self, m: &Merchant, o: &OrderRow, now: i64) -> Result<()> {
        let id = o.channel.as_deref().and_then(ChannelId::parse);
        let id = id.unwrap_or(ChannelId::SandboxA);
        match id
            .channel()
            .query(o.card_last4.as_deref().unwrap_or_default())
        {
            Outcome::Succeeded => {
                self.book_sandbox(id, o, o.amount_total as u64, now)?;
                self.settle_paid(m, o, now, "channel")
            }
            Outcome::Pending { after_ms } => self.x(
                "UPDATE orders SET pending_until_ms = ? WHERE out_trade_no = ?",
                vec![(now + after_ms).into(), o.out_trade_no.as_str().into()],
            ),
            failed => {
                let d = failed.decline();
                self.release_daily(m, o)?;
                self.drop_review(o, now)?;
                self.x(
                    "UPDATE orders SET pending_until_ms = NULL WHERE out_trade_no = ?",
                    vec![o.out_trade_no.as_str().into()],
                )?;
                // A pending payment of an order with a contract was its deduction.
                self.payment_failed(m, o, d.code(), o.contract_code.is_some(), now)
            }
        }
    }

    /// The earliest pending deadline in real time (the alarm's time), if any: the ledger's,
    /// and the next delivery attempt (of a notification or a message).
    pub fn next_due_real_ms(&self) -> Result<Option<i64>> {
        let d = self.dues()?;
        // No merchant yet: nothing can be due.
        let Some(offset) = d.clock_offset_ms else {
            return Ok(None);
        };
        // What waits for the upstream channel (refunds, closes to ask about) is due in real time.
        let upstream = d.upstream.map(|t| t + offset);
        let next = [d.ledger(), d.delivery, d.messages, d.sweep, upstream]
            .into_iter()
            .flatten()
            .min();
        Ok(next.map(|t| t - offset))
    }

    /// The earliest business time something in the ledger falls due (orders, contracts,
    /// subscriptions): what `run_due` acts on.
    pub fn next_ledger_due(&self) -> Result<Option<i64>> {
        let d = self.dues()?;
        Ok(d.clock_offset_ms.and(d.ledger()))
    }

    /// Every time the alarm waits for, in one statement: each request reschedules the alarm,
    /// and a statement per capability was most of what an order create ran. Each capability
    /// owns its subquery; each is a `MIN` over an index, so none grows with history. The two
    /// merchant settings it needs come with it, without reading and parsing the whole row.
    fn dues(&self) -> Result<Dues> {
        use super::{
            contracts, escrow, installments, outbox, pool, renewals, reviews, settlements,
        };
        let sql = format!(
            "SELECT (SELECT clock_offset_ms FROM merchant) AS clock_offset_ms,
                    (SELECT json_extract(config_json, '$.utc_offset_minutes') FROM merchant)
                        AS utc_offset_minutes,
                    ({ORDERS_DUE}) AS orders,
                    ({}) AS contracts,
                    ({}) AS subscriptions,
                    ({}) AS installments,
                    ({}) AS escrow,
                    ({}) AS reviews,
                    ({}) AS open_day,
                    ({}) AS delivery,
                    (SELECT MIN(next_attempt_at_ms) FROM messages WHERE status = 'PENDING') AS messages,
                    ({}) AS sweep,
                    ({UPSTREAM_DUE}) AS upstream",
            contracts::CONTRACT_DUE,
            renewals::SUBSCRIPTION_DUE,
            installments::INSTALLMENT_DUE,
            escrow::ESCROW_DUE,
            reviews::REVIEW_DUE,
            settlements::OPEN_DAY,
            outbox::DELIVERY_DUE,
            pool::SWEEP_DUE,
        );
        let row: Option<Dues> = self.first(&sql, vec![])?;
        Ok(row.unwrap_or_default())
    }
}

/// What falls due when: orders (deadline, pending payment, charge time), in business time. The
/// `IS NOT NULL`s let SQLite use the partial indexes `orders_by_pending` and `orders_by_charge`
/// (`merchant/schema.rs`, migration 32); without them it would walk every unpaid order. An
/// order past its deadline whose close the upstream did not confirm waits for its hand-off's
/// time to ask again (`UPSTREAM_DUE`), not for its deadline, which has passed.
const ORDERS_DUE: &str = "SELECT MIN(t) FROM (
    SELECT MIN(time_expire_ms) AS t FROM orders o
     WHERE status IN ('NOTPAY', 'PAYERROR', 'PENDING_APPROVAL')
       AND NOT EXISTS (SELECT 1 FROM upstream_payments p WHERE p.out_trade_no = o.out_trade_no
                       AND p.closed_at_ms IS NULL AND p.ask_at_ms IS NOT NULL)
    UNION ALL
    SELECT MIN(pending_until_ms) AS t FROM orders
     WHERE status = 'USERPAYING' AND pending_until_ms IS NOT NULL
    UNION ALL
    SELECT MIN(charge_at_ms) AS t FROM orders WHERE status = 'NOTPAY' AND charge_at_ms IS NOT NULL
)";

/// What waits for the upstream channel, in real time: refunds to send (again) or to ask about
/// (`merchant/upstream_refunds.rs`), and closes it did not confirm, to ask about again (`merchant/upstream_close.rs`; the partial index
/// `upstream_payments_asking`, migration 39).
const UPSTREAM_DUE: &str = "SELECT MIN(t) FROM (
    SELECT MIN(upstream_retry_at_ms) AS t FROM refunds WHERE upstream_state IN ('pending', 'accepted')
    UNION ALL
    SELECT MIN(p.ask_at_ms) AS t FROM upstream_payments p
      JOIN orders o ON o.out_trade_no = p.out_trade_no
     WHERE p.closed_at_ms IS NULL AND p.ask_at_ms IS NOT NULL
       AND o.status IN ('NOTPAY', 'PAYERROR', 'CLOSED')
)";

/// The earliest time of each kind of due work (`Ledger::dues`).
#[derive(Default, serde::Deserialize)]
struct Dues {
    /// The test clock's offset; `None` when the object holds no merchant yet.
    clock_offset_ms: Option<i64>,
    /// The merchant's day boundary (`MerchantConfig::utc_offset_minutes`), when it is set.
    utc_offset_minutes: Option<i32>,
    orders: Option<i64>,
    contracts: Option<i64>,
    subscriptions: Option<i64>,
    installments: Option<i64>,
    escrow: Option<i64>,
    reviews: Option<i64>,
    /// A day, not a time: it falls due when it closes.
    open_day: Option<i64>,
    delivery: Option<i64>,
    messages: Option<i64>,
    sweep: Option<i64>,
    /// Real time, not business time.
    upstream: Option<i64>,
}

impl Dues {
    /// What `run_due` acts on, in business time.
    fn ledger(&self) -> Option<i64> {
        let offset = self
            .utc_offset_minutes
            .unwrap_or(crate::domain::limits::DEFAULT_UTC_OFFSET_MINUTES);
        let settle = self
            .open_day
            .map(|d| crate::domain::settlement_rules::day_closes_at(d, offset));
        [
            self.orders,
            self.contracts,
            self.subscriptions,
            self.installments,
            self.escrow,
            self.reviews,
            settle,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
