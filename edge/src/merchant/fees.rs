//! Fees: each paid order's fee, booked when it is paid at the rate of the merchant's industry
//! and the month's volume before it, given back pro rata by refunds (the pieces always add up
//! to the fee), and the monthly fee report `GET /v1/reports/fees?month=YYYY-MM`. The arithmetic
//! and its one rounding rule are `domain::money_rules`'.

use super::protocol::{FeeLine, FeeReport};
use super::store::{Ledger, Merchant, OrderRow, Result};
use crate::domain::contract_rules::period_start;
use crate::domain::money_rules as rules;
use crate::error::AppError;
use paydesk_shared::contract::Period;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::urlenc::query_pairs;

impl Ledger<'_> {
    /// Called as an order is paid: its fee at the rate the month's volume before it reaches.
    /// The volume is what the merchant collected and kept: a payment refunded (in part or in
    /// full, its fee given back) does not lower the rate of the next.
    pub fn book_fee(&self, m: &Merchant, o: &OrderRow, now: i64) -> Result<()> {
        let month = period_start(now, Period::Month, m.config.utc_offset_minutes);
        let before = self.number(
            "SELECT SUM(amount_total - refunded_total) AS v FROM orders
             WHERE paid_at_ms >= ? AND out_trade_no != ?",
            vec![month.into(), o.out_trade_no.as_str().into()],
        )?;
        let volume = before.unwrap_or(0).max(0) as u64;
        let rate = rules::rate_bp(m.config.industry, volume);
        let fee = rules::fee(o.amount_total as u64, rate);
        self.x(
            "UPDATE orders SET fee = ?, fee_rate_bp = ?, fee_refunded = 0 WHERE out_trade_no = ?",
            vec![
                (fee as i64).into(),
                i64::from(rate).into(),
                o.out_trade_no.as_str().into(),
            ],
        )
    }

    /// Called as a refund of `amount` succeeds (`o` as it was before): its share of the fee
    /// goes back; answers how much.
    pub fn give_fee_back(&self, o: &OrderRow, amount: u64) -> Result<u64> {
        let Some(fee) = o.fee else {
            return Ok(0);
        };
        let back = rules::given_back(
            fee as u64,
            o.amount_total as u64,
            o.refunded_total as u64,
            amount,
        );
        self.x(
            "UPDATE orders SET fee_refunded = fee_refunded + ? WHERE out_trade_no = ?",
            vec![(back as i64).into(), o.out_trade_no.as_str().into()],
        )?;
        Ok(back)
    }

    /// `GET /v1/reports/fees?month=YYYY-MM`: orders paid that merchant month, by rate.
    pub fn fee_report(&self, m: &Merchant, query: &str) -> Result<FeeReport> {
        let bad = || AppError::param("month", "month must be YYYY-MM");
        let mut month = None;
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "month" => month = Some(v),
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        let month = month.ok_or_else(bad)?;
        let (from, to) =
            rules::report_month(&month, m.config.utc_offset_minutes).ok_or_else(bad)?;
        let lines: Vec<FeeLine> = self.q(
            "SELECT fee_rate_bp AS rate_bp, COUNT(*) AS orders, SUM(amount_total) AS volume,
                    SUM(fee) AS fees, SUM(fee_refunded) AS fees_refunded
             FROM orders WHERE paid_at_ms >= ? AND paid_at_ms < ? AND fee IS NOT NULL
             GROUP BY fee_rate_bp ORDER BY fee_rate_bp DESC",
            vec![from.into(), to.into()],
        )?;
        let sum = |f: fn(&FeeLine) -> u64| lines.iter().map(f).sum::<u64>();
        let (fees, fees_refunded) = (sum(|l| l.fees), sum(|l| l.fees_refunded));
        Ok(FeeReport {
            month,
            industry: m.config.industry,
            from: format_rfc3339(from),
            to: format_rfc3339(to),
            orders: sum(|l| l.orders),
            volume: sum(|l| l.volume),
            fees,
            fees_refunded,
            net_fees: fees - fees_refunded,
            lines,
        })
    }
}
