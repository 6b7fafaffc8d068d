//! Escrow (资金托管): a paid order's money is held until the merchant fulfils the order
//! (`POST /v1/orders/{no}/fulfil`) or the merchant's `release_days` pass on its clock; a merchant
//! with `auto_refund_hours` has orders not fulfilled in time refunded in full, once, from the
//! held money. Every release is an `order.released` event and an audit entry; an automatic
//! refund is an ordinary refund (its event, its audit entry). A refund in progress holds the
//! release until it ends (`refund_ended`), and money the ledger owes the payer is never released
//! (`orders.refund_owed`, `merchant/refunds.rs`). Decisions: `domain::escrow_rules`.

use super::store::{Ledger, Merchant, OrderRow, Result, ORDER_COLUMNS};
use crate::domain::escrow_rules::{self as rules, Due};
use crate::domain::events::EventKind;
use crate::domain::settlement_rules::MoveKind;
use crate::error::AppError;
use paydesk_shared::api::{ErrorCode, Order};
use paydesk_shared::OrderStatus;

/// The earliest business time held money falls due: a release, or an automatic refund. Each
/// through its partial index (migration 29), named, so the planner cannot take an index that
/// holds more orders than those. One of the subqueries the alarm's schedule reads together
/// (`merchant/deadlines.rs`, `dues`).
pub(super) const ESCROW_DUE: &str = "SELECT MIN(t) FROM (
    SELECT MIN(held_until_ms) AS t FROM orders INDEXED BY orders_holding
     WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL AND in_review = 0
       AND refunding = 0 AND refund_owed = 0
    UNION ALL
    SELECT MIN(auto_refund_at_ms) AS t FROM orders INDEXED BY orders_auto_refunding
     WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL AND in_review = 0
       AND auto_refunded = 0 AND fulfilled_at_ms IS NULL
)";

impl Ledger<'_> {
    /// `POST /v1/orders/{no}/fulfil`: the merchant delivered; the held money is released now.
    /// Fulfilling again answers the order as it is.
    pub fn fulfil(&self, m: &Merchant, out_trade_no: &str) -> Result<Order> {
        let o = self.current_order(m, out_trade_no)?;
        if !matches!(o.status, OrderStatus::Success | OrderStatus::Refund) {
            return Err(AppError::code(
                ErrorCode::OrderNotPaid,
                "only a paid order can be fulfilled",
            ));
        }
        if o.in_review != 0 {
            return Err(AppError::code(
                ErrorCode::OrderInReview,
                "this payment is in risk review: approve or reject it first (/v1/reviews)",
            ));
        }
        let now = self.now(m);
        if o.fulfilled_at_ms.is_none() {
            self.x(
                "UPDATE orders SET fulfilled_at_ms = ? WHERE out_trade_no = ?",
                vec![now.into(), out_trade_no.into()],
            )?;
            self.audit(
                now,
                "merchant_api",
                "order.fulfil",
                out_trade_no,
                "",
                "fulfilled",
            )?;
        }
        let o = self.order_or_fail(out_trade_no)?;
        self.escrow_due(m, &o, now, "merchant_api")?;
        self.wire_order(&self.order_or_fail(out_trade_no)?, m)
    }

    /// Held money that fell due: automatic refunds first, then releases.
    pub fn run_due_escrow(&self, m: &Merchant, now: i64) -> Result<()> {
        // The orders due through each partial index of `ESCROW_DUE` (one order due both ways
        // comes once): the rows read are the ones due, however many orders are paid.
        let due: Vec<OrderRow> = self.q(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE rowid IN (
                   SELECT rowid FROM orders INDEXED BY orders_holding
                    WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL
                      AND in_review = 0 AND refunding = 0 AND refund_owed = 0
                      AND held_until_ms <= ?
                   UNION ALL
                   SELECT rowid FROM orders INDEXED BY orders_auto_refunding
                    WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL
                      AND in_review = 0 AND auto_refunded = 0 AND fulfilled_at_ms IS NULL
                      AND auto_refund_at_ms <= ?)
                 ORDER BY MIN(held_until_ms, COALESCE(auto_refund_at_ms, held_until_ms)), out_trade_no"
            ),
            vec![now.into(), now.into()],
        )?;
        for o in due {
            self.escrow_due(m, &o, now, "system:escrow")?;
        }
        Ok(())
    }

    /// A refund of the order ended (settled, refused or rejected): the release it held back
    /// happens now if the order was fulfilled or its hold ran out meanwhile.
    pub fn refund_ended(&self, m: &Merchant, out_trade_no: &str, now: i64) -> Result<()> {
        let o = self.order_or_fail(out_trade_no)?;
        self.escrow_due(m, &o, now, "system:escrow")
    }

    /// The order's held money, if anything of it is due: each step once (`domain::escrow_rules`).
    fn escrow_due(&self, m: &Merchant, o: &OrderRow, now: i64, actor: &str) -> Result<()> {
        let Some(held_until_ms) = o.held_until_ms else {
            return Ok(());
        };
        let held = rules::Held {
            held_until_ms,
            auto_refund_at_ms: o.auto_refund_at_ms,
            fulfilled: o.fulfilled_at_ms.is_some(),
            auto_refunded: o.auto_refunded != 0,
            refunding: o.refunding != 0,
            owed: o.refund_owed != 0,
            released: o.released_at_ms.is_some(),
            in_review: o.in_review != 0,
        };
        match rules::due(held, now) {
            Some(Due::AutoRefund) => {
                // Marked first: whatever the refund rules answer, it is tried once.
                self.x(
                    "UPDATE orders SET auto_refunded = 1 WHERE out_trade_no = ?",
                    vec![o.out_trade_no.as_str().into()],
                )?;
                let why = "not fulfilled in time: refunded automatically";
                self.refund_rest(m, o, why)?;
                let o = self.order_or_fail(&o.out_trade_no)?;
                // A refund still in progress keeps its money, and the release waits for it; if
                // an approver rejects it, the rest is refunded then (`merchant/approvals.rs`).
                self.escrow_due(m, &o, now, actor)
            }
            Some(Due::Release) => self.release(m, o, now, actor),
            None => Ok(()),
        }
    }

    /// The held money goes to the merchant: what was paid less what was refunded.
    fn release(&self, m: &Merchant, o: &OrderRow, now: i64, actor: &str) -> Result<()> {
        self.x(
            "UPDATE orders SET released_at_ms = ? WHERE out_trade_no = ? AND released_at_ms IS NULL",
            vec![now.into(), o.out_trade_no.as_str().into()],
        )?;
        let amount = (o.amount_total - o.refunded_total).max(0);
        let moves = self.book_release(m, o, now)?;
        let total = |k: MoveKind| {
            -moves
                .iter()
                .filter(|m| m.kind == k)
                .map(|m| m.amount)
                .sum::<i64>()
        };
        let otn = o.out_trade_no.as_str();
        let (fee, shared) = (total(MoveKind::Fee), total(MoveKind::Split));
        let booked = format!("{amount} (fee {fee}, shared {shared})");
        self.audit(now, actor, "order.release", otn, "held", &booked)?;
        let extra = serde_json::json!({"released_amount": amount, "fee_amount": fee,
            "shared_amount": shared});
        self.order_event(m, now, EventKind::OrderReleased, otn, extra)
    }
}
