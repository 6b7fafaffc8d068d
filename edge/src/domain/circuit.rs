//! The circuit breaker of each payment channel: five consecutive failures or timeouts open it
//! (payments go to the next channel, an alert is raised); once `PROBE_AFTER_MS` has passed on the
//! merchant's clock it is half-open, and the next payment probes it: an answer closes it, a
//! failure opens it again for another wait. A decline is an answer (the channel works; the
//! payer's bank said no), so it counts as success here.

/// Consecutive failures or timeouts that open a channel's circuit.
pub const OPEN_AFTER: u32 = 5;
/// How long an open circuit waits before a payment probes the channel again.
pub const PROBE_AFTER_MS: i64 = 30_000;

/// What a merchant's object remembers of a channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    pub consecutive_failures: u32,
    /// When the circuit opened (or a probe failed); `None`: closed.
    pub opened_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed,
    Open,
    /// Open long enough: the next payment probes the channel.
    HalfOpen,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
        }
    }
}

/// What an attempt changed in a circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Opened,
    Closed,
}

impl Health {
    pub fn state(&self, now_ms: i64) -> State {
        match self.opened_at_ms {
            None => State::Closed,
            Some(at) if now_ms >= at + PROBE_AFTER_MS => State::HalfOpen,
            Some(_) => State::Open,
        }
    }

    /// The channel's health after an attempt through it (`answered`: it answered, whatever
    /// the answer), and whether its circuit opened or closed.
    pub fn after(self, answered: bool, now_ms: i64) -> (Health, Option<Change>) {
        if answered {
            let change = self.opened_at_ms.map(|_| Change::Closed);
            return (Health::default(), change);
        }
        let failures = self.consecutive_failures.saturating_add(1);
        let (opened_at_ms, change) = match self.opened_at_ms {
            // A failed probe: open again, the wait starts over.
            Some(_) => (Some(now_ms), None),
            None if failures >= OPEN_AFTER => (Some(now_ms), Some(Change::Opened)),
            None => (None, None),
        };
        let health = Health {
            consecutive_failures: failures,
            opened_at_ms,
        };
        (health, change)
    }
}

/// The order to try channels in: those not open (closed, or due a probe) in the merchant's
/// order of preference, then the open ones as a last resort (a payer is never refused only
/// because every circuit is open).
pub fn order<C: Copy>(channels: &[(C, Health)], now_ms: i64) -> Vec<C> {
    let open = |h: &Health| h.state(now_ms) == State::Open;
    let first = channels.iter().filter(|(_, h)| !open(h));
    let last = channels.iter().filter(|(_, h)| open(h));
    first.chain(last).map(|(c, _)| *c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail_n(mut h: Health, n: u32, now: i64) -> (Health, Vec<Change>) {
        let mut changes = vec![];
        for _ in 0..n {
            let (next, c) = h.after(false, now);
            h = next;
            changes.extend(c);
        }
        (h, changes)
    }

    #[test]
    fn five_consecutive_failures_open_the_circuit() {
        let (h, changes) = fail_n(Health::default(), 4, 0);
        assert_eq!((h.state(0), changes.len()), (State::Closed, 0));
        let (h, change) = h.after(false, 10);
        assert_eq!(change, Some(Change::Opened));
        assert_eq!(h.state(10), State::Open);
        // An answer in between starts the count again.
        let (h2, _) = fail_n(Health::default(), 4, 0);
        let (h2, _) = h2.after(true, 1);
        let (h2, changes) = fail_n(h2, 4, 2);
        assert_eq!((h2.state(2), changes), (State::Closed, vec![]));
        assert_eq!(h.after(false, 11).1, None, "opened once, not again");
    }

    #[test]
    fn a_probe_after_the_wait_closes_or_reopens_it() {
        let (h, _) = fail_n(Health::default(), 5, 1_000);
        assert_eq!(h.state(1_000 + PROBE_AFTER_MS - 1), State::Open);
        let probe_at = 1_000 + PROBE_AFTER_MS;
        assert_eq!(h.state(probe_at), State::HalfOpen);
        let (closed, change) = h.after(true, probe_at);
        assert_eq!((closed, change), (Health::default(), Some(Change::Closed)));
        let (reopened, change) = h.after(false, probe_at);
        assert_eq!(change, None);
        assert_eq!(
            reopened.state(probe_at + 1),
            State::Open,
            "the wait starts over"
        );
        assert_eq!(reopened.state(probe_at + PROBE_AFTER_MS), State::HalfOpen);
    }

    #[test]
    fn open_channels_go_last_and_a_probe_keeps_its_place() {
        let open = Health {
            consecutive_failures: 5,
            opened_at_ms: Some(0),
        };
        let chans = [("a", open), ("b", Health::default())];
        assert_eq!(order(&chans, 10), vec!["b", "a"]);
        assert_eq!(
            order(&chans, PROBE_AFTER_MS),
            vec!["a", "b"],
            "probed first"
        );
        let both = [("a", open), ("b", open)];
        assert_eq!(order(&both, 10), vec!["a", "b"], "all open: tried anyway");
    }
}
