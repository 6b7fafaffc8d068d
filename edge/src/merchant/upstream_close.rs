//! Closing an order handed to the upstream channel: there before here. The payer may still pay
//! such an order at the upstream's cashier, so it is closed here only once the upstream has
//! said so: closed there (`closeorder`), never created there, or over. Paid there (a
//! notification lost, or the payer paying as the close went out: `ORDERPAID`), it is paid here
//! instead. An upstream that does not answer leaves the order open here, payable as it is
//! there, and is asked again a minute later (`upstream_payments.ask_at_ms`, a time the alarm
//! waits for, `merchant/deadlines.rs`): a payer is never charged for an order this ledger shows
//! closed.
//!
//! - At the deadline, the alarm (and the test clock's walk) asks before `run_due` closes it;
//!   `process_due` leaves an order alone while its hand-off is open.
//! - The merchant's close (JSON API, v2 `closeorder`) asks first and is refused with
//!   `SYSTEM_ERROR` (nothing changed, try again) while the upstream does not answer.
//! - Closes the ledger makes by itself (a contract ended, a subscription cancelled, a plan
//!   defaulted) come first here and are closed there after they commit; should a payment land
//!   there in between, it raises a `settlement.anomaly` alert (`merchant/upstream.rs`).

use super::store::{Ledger, Result};
use super::upstream::ask;
use crate::domain::order_rules::{self, CloseReason};
use crate::domain::upstream_rules::{self as rules, Trade, Upstream};
use crate::error::AppError;
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::OrderStatus;
use serde::Deserialize;

/// How long a close the upstream did not confirm waits before it is asked again (real time).
const ASK_AGAIN_MS: i64 = 60_000;

/// What the upstream said of an order to be closed, once settled here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum There {
    /// Closed there, or never made there: it may close here.
    Closed,
    /// Paid there: paid here too.
    Paid,
    /// No answer: left open, asked again later.
    Unknown,
}

impl Ledger<'_> {
    /// Orders handed to the upstream whose hand-off is not settled: those still unpaid here
    /// whose deadline falls within `ahead_ms` (business time), and those closed here already
    /// (by the ledger's own rules). A `remind` order not yet reminded stays open past its
    /// deadline (`merchant/deadlines.rs`), so upstream too. The alarm skips those waiting to be
    /// asked again; the test clock's walk (`ahead_ms` > 0) asks them all.
    fn expiring_handoffs(&self, ahead_ms: i64) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Row {
            out_trade_no: String,
        }
        let Some(m) = self.merchant()? else {
            return Ok(vec![]);
        };
        let asked_before = if ahead_ms > 0 {
            i64::MAX
        } else {
            self.real_now()
        };
        let rows: Vec<Row> = self.q(
            "SELECT p.out_trade_no FROM upstream_payments p JOIN orders o ON o.out_trade_no = p.out_trade_no
             WHERE p.closed_at_ms IS NULL AND (p.ask_at_ms IS NULL OR p.ask_at_ms <= ?)
               AND (o.status = 'CLOSED'
                    OR (o.status IN ('NOTPAY', 'PAYERROR') AND o.time_expire_ms <= ?
                        AND (o.timeout_action = 'close' OR o.reminded = 1)))
             LIMIT 50",
            vec![asked_before.into(), (self.now(&m) + ahead_ms).into()],
        )?;
        Ok(rows.into_iter().map(|r| r.out_trade_no).collect())
    }

    /// Whether `otn` was handed to the upstream and is not settled there: it may be paid there
    /// yet, so it does not close here before the upstream says so.
    pub fn handoff_open(&self, otn: &str) -> Result<bool> {
        let open = self.number(
            "SELECT 1 AS v FROM upstream_payments WHERE out_trade_no = ? AND closed_at_ms IS NULL",
            vec![otn.into()],
        )?;
        Ok(open.is_some())
    }

    /// An order closed here: if it was handed to the upstream, it is closed there too once the
    /// command has committed (`merchant/object.rs` runs `settle_expiring` when told).
    pub fn close_handoff_later(&self, otn: &str) -> Result<()> {
        if self.handoff_open(otn)? {
            self.upstream_due.set(true);
        }
        Ok(())
    }

    pub(super) fn handoff_closed(&self, otn: &str) -> Result<()> {
        self.x(
            "UPDATE upstream_payments SET closed_at_ms = ?, ask_at_ms = NULL WHERE out_trade_no = ?",
            vec![self.real_now().into(), otn.into()],
        )
    }

    /// The hand-off of an order closed here while the upstream was still making it: open
    /// again, so the next settlement closes it there.
    pub(super) fn handoff_reopened(&self, otn: &str) -> Result<()> {
        self.upstream_due.set(true);
        self.x(
            "UPDATE upstream_payments SET closed_at_ms = NULL, ask_at_ms = NULL WHERE out_trade_no = ?",
            vec![otn.into()],
        )
    }

    fn ask_close_again(&self, otn: &str) -> Result<()> {
        self.x(
            "UPDATE upstream_payments SET ask_at_ms = ? WHERE out_trade_no = ?",
            vec![(self.real_now() + ASK_AGAIN_MS).into(), otn.into()],
        )
    }

    /// The upstream to ask before the merchant's close of `otn`: only for an order the close
    /// would close (still open, past the grace of an order a payer opened: `order_rules::close`)
    /// whose hand-off is not settled. Any other is left to the close's own answer.
    fn upstream_to_close(&self, otn: &str) -> Result<Option<Upstream>> {
        let m = self.merchant_or_fail()?;
        let Some(o) = self.order(otn)? else {
            return Ok(None);
        };
        let closes = order_rules::close(
            CloseReason::Merchant,
            o.status,
            o.opened != 0,
            o.created_at_ms,
            self.now(&m),
        );
        if closes.is_err() || !self.handoff_open(otn)? {
            return Ok(None);
        }
        self.upstream(&m)
    }

    /// Settles here what the upstream said of `otn`.
    fn settled_there(&self, otn: &str, there: There, trade: &Trade) -> Result<()> {
        match there {
            There::Paid => {
                self.upstream_paid(otn, trade, "channel:orderquery")?;
                // Paid there but not here (closed here, or another amount): the anomaly is
                // raised once, for staff to settle at the upstream, and not asked again.
                let paid_here = matches!(
                    self.order_or_fail(otn)?.status,
                    OrderStatus::Success | OrderStatus::Refund
                );
                if !paid_here {
                    self.handoff_closed(otn)?;
                }
                Ok(())
            }
            There::Closed => self.handoff_closed(otn),
            There::Unknown => self.ask_close_again(otn),
        }
    }

    /// Paid here: nothing of its hand-off is to be asked again.
    pub(super) fn handoff_paid(&self, otn: &str) -> Result<()> {
        self.x(
            "UPDATE upstream_payments SET ask_at_ms = NULL WHERE out_trade_no = ? AND ask_at_ms IS NOT NULL",
            vec![otn.into()],
        )
    }
}

/// The upstream's `orderquery` of `otn`, read.
async fn query(up: &Upstream, otn: &str) -> Result<Trade> {
    let (url, body) = up.order_query(otn, &runtime::random_hex(16));
    ask(up, &url, &body).await.map(|p| rules::trade(&p))
}

/// Asks the upstream about `otn`, to be closed, closes it there if it is unpaid, and settles
/// the answer here (in its own transaction). No answer is recorded to be asked again a minute
/// later only by the alarm (`again`): a merchant's close that was not confirmed changes
/// nothing, and a test-clock walk leaves it to the alarm that follows.
async fn close_there(l: &Ledger<'_>, up: &Upstream, otn: &str, again: bool) -> Result<There> {
    let mut trade = match query(up, otn).await {
        Ok(t) => t,
        Err(e) => {
            worker::console_error!("upstream orderquery before a close: {e:?}");
            Trade::NotPaid
        }
    };
    let there = match trade {
        Trade::Paid { .. } => There::Paid,
        Trade::NotExist | Trade::Over => There::Closed,
        Trade::NotPaid => {
            let (url, body) = up.close_order(otn, &runtime::random_hex(16));
            match ask(up, &url, &body).await {
                Ok(p) if rules::closed(&p) => There::Closed,
                // Paid as the close went out: asked again for the payment it made.
                Ok(p) if p.get("err_code") == Some("ORDERPAID") => match query(up, otn).await {
                    Ok(paid @ Trade::Paid { .. }) => {
                        trade = paid;
                        There::Paid
                    }
                    _ => There::Unknown,
                },
                Ok(_) => There::Unknown,
                Err(e) => {
                    worker::console_error!("upstream closeorder: {e:?}");
                    There::Unknown
                }
            }
        }
    };
    if there != There::Unknown || again {
        l.atomically(|l| l.settled_there(otn, there, &trade))?;
    }
    Ok(there)
}

/// Before an order handed to the upstream is closed at its deadline (or after the ledger closed
/// it by itself), the upstream is asked and the order settled as it says (`close_there`).
/// `ahead_ms`: how far the clock is about to move (the test clock's walk), 0 for the alarm.
pub async fn settle_expiring(l: &Ledger<'_>, ahead_ms: i64) -> Result<()> {
    let due = l.atomically(|l| l.expiring_handoffs(ahead_ms))?;
    if due.is_empty() {
        return Ok(());
    }
    let m = l.merchant_or_fail()?;
    let Some(up) = l.upstream(&m)? else {
        return Ok(());
    };
    // A walk may yet be refused and roll back: only the alarm records when to ask again.
    for otn in due {
        close_there(l, &up, &otn, ahead_ms == 0).await?;
    }
    Ok(())
}

/// Before the merchant's close of `otn` (JSON API, v2 `closeorder`): an order handed to the
/// upstream is closed there first. Paid there, it is paid here and the close then answers
/// `ORDER_PAID`; no answer, the close is refused and nothing changes.
pub async fn close_there_first(l: &Ledger<'_>, otn: &str) -> Result<()> {
    let Some(up) = l.atomically(|l| l.upstream_to_close(otn))? else {
        return Ok(());
    };
    match close_there(l, &up, otn, false).await? {
        There::Unknown => Err(AppError::code(
            ErrorCode::SystemError,
            "the upstream channel did not confirm the close (the payer may still pay there); \
             nothing changed: try again",
        )),
        There::Closed | There::Paid => Ok(()),
    }
}
