//! What a merchant's object asks of its SQLite: statements run, rows read and rows written, as
//! the runtime counts them on each cursor (`rowsRead`, `rowsWritten`). Kept apart for requests and
//! for the alarm, since the alarm's pruning and sweeps are meant to stay off the request path.
//! The dev-only route `GET /dev/merchants/{id}/sql-meter` reads them (`edge/src/routes/dev.rs`);
//! the bench reports statements and rows per order create from it, on an empty merchant and on
//! one with a long history, so a statement whose cost grows with history shows.

use serde::{Deserialize, Serialize};
use std::cell::Cell;

/// Counts of one kind of work since the object started.
#[derive(Default)]
pub struct Tally {
    runs: Cell<u64>,
    statements: Cell<u64>,
    rows_read: Cell<u64>,
    rows_written: Cell<u64>,
}

impl Tally {
    /// One request or alarm run begins.
    pub fn run(&self) {
        bump(&self.runs, 1);
    }

    /// A statement, with what its cursor (read to its end) says it read and wrote.
    pub fn count(&self, rows_read: usize, rows_written: usize) {
        bump(&self.statements, 1);
        bump(&self.rows_read, rows_read as u64);
        bump(&self.rows_written, rows_written as u64);
    }

    pub fn reading(&self) -> Reading {
        Reading {
            runs: self.runs.get(),
            statements: self.statements.get(),
            rows_read: self.rows_read.get(),
            rows_written: self.rows_written.get(),
        }
    }
}

fn bump(c: &Cell<u64>, by: u64) {
    c.set(c.get().saturating_add(by));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    pub runs: u64,
    pub statements: u64,
    pub rows_read: u64,
    pub rows_written: u64,
}

/// Both tallies of one object.
#[derive(Default)]
pub struct SqlMeter {
    pub requests: Tally,
    pub alarms: Tally,
}

/// What `GET /dev/merchants/{id}/sql-meter` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterReading {
    pub requests: Reading,
    pub alarms: Reading,
    /// When the object's alarm is set (real ms, the runtime's own answer), if it is: what the
    /// object waits for, seen from outside (`merchant/object.rs`, `schedule_alarm`).
    #[serde(default)]
    pub alarm_ms: Option<i64>,
}

impl SqlMeter {
    pub fn reading(&self) -> MeterReading {
        MeterReading {
            requests: self.requests.reading(),
            alarms: self.alarms.reading(),
            alarm_ms: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_add_up_and_stay_apart() {
        let m = SqlMeter::default();
        m.requests.run();
        m.requests.count(3, 0);
        m.requests.count(1, 2);
        m.alarms.run();
        m.alarms.count(10, 10);
        let r = m.reading();
        let want = |runs, statements, rows_read, rows_written| Reading {
            runs,
            statements,
            rows_read,
            rows_written,
        };
        assert_eq!(r.requests, want(1, 2, 4, 2));
        assert_eq!(r.alarms, want(1, 1, 10, 10));
    }
}
