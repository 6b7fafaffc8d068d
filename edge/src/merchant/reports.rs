//! `GET /v1/reports/daily?days=N`: a line per day of the merchant's calendar (its UTC offset,
//! its clock) of what was ordered, paid, collected, refunded and charged in fees; the console's
//! dashboard draws it.

use super::protocol::DailyReport;
use super::store::{Ledger, Merchant, Result};
use crate::domain::report_rules::{Day, Window};
use crate::error::AppError;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::urlenc::query_pairs;
use serde::Deserialize;

#[derive(Deserialize)]
struct Line {
    day: i64,
    #[serde(default)]
    a: Option<u64>,
    #[serde(default)]
    b: Option<u64>,
    #[serde(default)]
    c: Option<u64>,
}

impl Ledger<'_> {
    pub fn daily_report(&self, m: &Merchant, query: &str) -> Result<DailyReport> {
        let mut days = None;
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "days" => days = Some(v),
                _ => {
                    return Err(AppError::param(
                        "query",
                        format!("unknown query parameter {k}"),
                    ))
                }
            }
        }
        let w = Window::of(days.as_deref(), self.now(m), m.config.utc_offset_minutes)?;
        let mut out = w.empty_days();
        let mut fill = |sql: String, put: fn(&mut Day, &Line)| -> Result<()> {
            let (from, to) = w.span_ms();
            for line in self.q::<Line>(&sql, vec![from.into(), to.into()])? {
                if let Some(i) = w.index(line.day) {
                    put(&mut out[i], &line);
                }
            }
            Ok(())
        };
        fill(
            format!(
                "SELECT {} AS day, COUNT(*) AS a, SUM(paid_at_ms IS NOT NULL) AS b FROM orders
                 WHERE created_at_ms >= ? AND created_at_ms < ? GROUP BY day",
                w.day_of("created_at_ms")
            ),
            |d, l| (d.orders, d.paid_orders) = (l.a.unwrap_or(0), l.b.unwrap_or(0)),
        )?;
        fill(
            format!(
                "SELECT {} AS day, COUNT(*) AS a, SUM(amount_total) AS b,
                        SUM(COALESCE(fee, 0) - fee_refunded) AS c FROM orders
                 WHERE paid_at_ms >= ? AND paid_at_ms < ? GROUP BY day",
                w.day_of("paid_at_ms")
            ),
            |d, l| {
                d.payments = l.a.unwrap_or(0);
                d.collected = l.b.unwrap_or(0);
                d.fees = l.c.unwrap_or(0);
            },
        )?;
        fill(
            format!(
                "SELECT {} AS day, SUM(amount) AS a FROM refunds
                 WHERE status = 'SUCCESS' AND created_at_ms >= ? AND created_at_ms < ?
                 GROUP BY day",
                w.day_of("created_at_ms")
            ),
            |d, l| d.refunded = l.a.unwrap_or(0),
        )?;
        let (from, to) = w.span_ms();
        Ok(DailyReport {
            from: format_rfc3339(from),
            to: format_rfc3339(to),
            days: out,
        })
    }
}
