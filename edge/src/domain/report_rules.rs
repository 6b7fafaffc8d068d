//! The daily report's calendar: which days of the merchant's own calendar (its UTC offset) a
//! report covers, and a zero line for each so a quiet day shows as a day, not as a gap.

use super::refusal::Refusal;
use paydesk_shared::time::civil_from_days;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;
/// The longest report: about a quarter.
pub const MAX_DAYS: i64 = 92;
pub const DEFAULT_DAYS: i64 = 30;

/// One day of the report, in fen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    /// `YYYY-MM-DD` in the merchant's calendar.
    pub date: String,
    /// Orders created that day, and how many of them are paid by now (the success rate).
    pub orders: u64,
    pub paid_orders: u64,
    /// Payments received that day, and how many.
    pub payments: u64,
    pub collected: u64,
    /// Refunds that succeeded, by the day they were asked for.
    pub refunded: u64,
    /// Fees of that day's payments, net of fees given back with refunds.
    pub fees: u64,
}

/// The days a report covers: `days` whole days ending with today, in the merchant's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first day's number (days since 1970-01-01 in the merchant's calendar).
    pub first_day: i64,
    pub days: i64,
    pub offset_ms: i64,
}

impl Window {
    /// `days=` of the query (1 to 92, 30 if absent), ending today at `now_ms`.
    pub fn of(days: Option<&str>, now_ms: i64, utc_offset_minutes: i32) -> Result<Window, Refusal> {
        let days = match days {
            None => DEFAULT_DAYS,
            Some(d) => d
                .parse::<i64>()
                .ok()
                .filter(|d| (1..=MAX_DAYS).contains(d))
                .ok_or_else(|| Refusal::param("days", "days is a whole number from 1 to 92"))?,
        };
        let offset_ms = i64::from(utc_offset_minutes) * 60_000;
        let today = (now_ms + offset_ms).div_euclid(DAY_MS);
        Ok(Window {
            first_day: today - days + 1,
            days,
            offset_ms,
        })
    }

    /// The instants the report covers: `[from, to)`.
    pub fn span_ms(&self) -> (i64, i64) {
        let from = self.first_day * DAY_MS - self.offset_ms;
        (from, from + self.days * DAY_MS)
    }

    /// The SQL expression of the local day number of a column holding milliseconds.
    pub fn day_of(&self, column: &str) -> String {
        format!("(({column} + {}) / {DAY_MS})", self.offset_ms)
    }

    /// A zero line for every day, oldest first.
    pub fn empty_days(&self) -> Vec<Day> {
        (self.first_day..self.first_day + self.days)
            .map(|n| {
                let (y, m, d) = civil_from_days(n);
                Day {
                    date: format!("{y:04}-{m:02}-{d:02}"),
                    ..Day::default()
                }
            })
            .collect()
    }

    /// Where the day numbered `day` is in `empty_days`, if it is in the window.
    pub fn index(&self, day: i64) -> Option<usize> {
        usize::try_from(day - self.first_day)
            .ok()
            .filter(|i| (*i as i64) < self.days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_ends_today_in_the_merchants_calendar() {
        // 2026-12-03T17:00Z is already 2026-12-04 in UTC+8.
        let now = 1_796_317_200_000;
        let w = Window::of(Some("3"), now, 480).unwrap();
        let days = w.empty_days();
        assert_eq!(
            days.iter().map(|d| d.date.as_str()).collect::<Vec<_>>(),
            ["2026-12-02", "2026-12-03", "2026-12-04"]
        );
        let (from, to) = w.span_ms();
        assert_eq!(to - from, 3 * DAY_MS);
        // Local midnight of the 2nd is 16:00Z on the 1st.
        assert_eq!(from % DAY_MS, 16 * 3_600_000);
        assert!(from <= now && now < to);
        assert_eq!(w.index((now + w.offset_ms) / DAY_MS), Some(2));
        assert_eq!(w.index(w.first_day - 1), None);
        assert_eq!(w.index(w.first_day + 3), None);
        assert_eq!(Window::of(None, now, 0).unwrap().days, 30);
    }

    #[test]
    fn refuses_a_window_out_of_range() {
        for bad in ["0", "93", "-1", "x", ""] {
            assert_eq!(
                Window::of(Some(bad), 0, 0).unwrap_err().param.as_deref(),
                Some("days"),
                "{bad}"
            );
        }
    }
}
