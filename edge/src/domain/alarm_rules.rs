//! When a merchant object's alarm fires next, if that follows from the alarm as it was last set
//! and what a request changed, without reading every time something falls due
//! (`merchant/object.rs`, `schedule_alarm`; `merchant/deadlines.rs`, `next_due_real_ms`, reads
//! them all).

use paydesk_shared::OrderStatus;

/// What a command did to the times things fall due (`Ledger::due_change` in
/// `merchant/store.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DueChange {
    /// Anything may have moved (every command but those below): every due time is read.
    #[default]
    Unknown,
    /// Nothing that falls due was touched: the dev-only bench write, and an order query or pay
    /// page that found nothing due on its order.
    Untouched,
    /// One new time (real ms) and nothing else: an order created through the API, awaiting
    /// payment by its deadline.
    Added(i64),
}

/// What creating an order did to the due times: one awaiting payment adds its deadline, given in
/// the merchant's business time and converted to real time by the test clock's offset; one
/// awaiting approval also has an event to deliver, so everything is read.
pub fn order_created(status: OrderStatus, time_expire_ms: i64, clock_offset_ms: i64) -> DueChange {
    match status {
        OrderStatus::NotPay => DueChange::Added(time_expire_ms - clock_offset_ms),
        _ => DueChange::Unknown,
    }
}

/// The next time (real ms; `None`: nothing is due) given `known`, the alarm as last set
/// (`None` when it is not known, `Some(None)` when none is set), and the request's `change`.
/// `None` when it does not follow: every due time must be read.
pub fn next_without_reading(change: DueChange, known: Option<Option<i64>>) -> Option<Option<i64>> {
    match (change, known?) {
        (DueChange::Unknown, _) => None,
        (DueChange::Untouched, set) => Some(set),
        (DueChange::Added(at), set) => Some(Some(set.map_or(at, |s| s.min(at)))),
    }
}

/// The time to set the alarm to for `next`: never before the next millisecond, so what is
/// already due runs at once.
pub fn alarm_time(next: Option<i64>, now_ms: i64) -> Option<i64> {
    next.map(|at| at.max(now_ms + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_time_moves_the_alarm_only_when_sooner() {
        let added = DueChange::Added(500);
        assert_eq!(
            next_without_reading(added, Some(Some(900))),
            Some(Some(500))
        );
        assert_eq!(
            next_without_reading(added, Some(Some(300))),
            Some(Some(300))
        );
        assert_eq!(next_without_reading(added, Some(None)), Some(Some(500)));
    }

    #[test]
    fn untouched_keeps_the_alarm_as_it_is() {
        assert_eq!(
            next_without_reading(DueChange::Untouched, Some(Some(900))),
            Some(Some(900))
        );
        assert_eq!(
            next_without_reading(DueChange::Untouched, Some(None)),
            Some(None)
        );
    }

    #[test]
    fn an_unknown_alarm_or_change_reads_everything() {
        assert_eq!(next_without_reading(DueChange::Added(500), None), None);
        assert_eq!(next_without_reading(DueChange::Untouched, None), None);
        assert_eq!(
            next_without_reading(DueChange::Unknown, Some(Some(900))),
            None
        );
    }

    #[test]
    fn a_created_order_adds_its_deadline_in_real_time_only_while_it_awaits_payment() {
        assert_eq!(
            order_created(OrderStatus::NotPay, 90_000, 60_000),
            DueChange::Added(30_000)
        );
        assert_eq!(
            order_created(OrderStatus::PendingApproval, 90_000, 0),
            DueChange::Unknown
        );
    }

    #[test]
    fn the_alarm_is_never_set_in_the_past() {
        assert_eq!(alarm_time(Some(100), 1_000), Some(1_001));
        assert_eq!(alarm_time(Some(5_000), 1_000), Some(5_000));
        assert_eq!(alarm_time(None, 1_000), None);
    }
}
