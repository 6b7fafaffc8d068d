//! The order state machine. Every change of an order's status goes through
//! [`transition`]; an illegal event is an error with the code the client sees, never a no-op.
//!
//! ```text
//! PENDING_APPROVAL --approve--> NOTPAY --start_pay--> USERPAYING --succeeded--> SUCCESS --refund--> REFUND
//!        |  reject/close          | close/expire          | failed                                    | refund
//!        v                        v                       v                                           v
//!      CLOSED                   CLOSED                 PAYERROR --start_pay--> USERPAYING           REFUND
//!                                                         | close/expire --> CLOSED
//! ```

use super::refusal::Refusal;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::OrderStatus::{self, *};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A payer submitted a payment.
    StartPay,
    /// The channel confirmed the money moved.
    PaySucceeded,
    /// The channel refused; the payer may try again.
    PayFailed,
    /// The merchant closed the order (or the deadline did).
    Close,
    /// A refund (partial or full) succeeded.
    Refund,
    Approve,
    Reject,
}

pub fn transition(from: OrderStatus, event: Event) -> Result<OrderStatus, ErrorCode> {
    use Event as E;
    match (from, event) {
        (NotPay | PayError, E::StartPay) => Ok(UserPaying),
        (UserPaying, E::PaySucceeded) => Ok(Success),
        (UserPaying, E::PayFailed) => Ok(PayError),
        (NotPay | PayError | PendingApproval, E::Close) => Ok(Closed),
        (Success | Refund, E::Refund) => Ok(Refund),
        (PendingApproval, E::Approve) => Ok(NotPay),
        (PendingApproval, E::Reject) => Ok(Closed),

        (Closed, _) => Err(ErrorCode::OrderClosed),
        (Success | Refund, E::StartPay | E::Close | E::Approve | E::Reject) => {
            Err(ErrorCode::OrderPaid)
        }
        (UserPaying, E::StartPay | E::Close) => Err(ErrorCode::OrderPaying),
        (PendingApproval, E::StartPay) => Err(ErrorCode::PendingApproval),
        (_, E::Refund) => Err(ErrorCode::OrderNotPaid),
        (_, E::Approve | E::Reject) => Err(ErrorCode::AlreadyApproved),
        (_, E::PaySucceeded | E::PayFailed) => Err(ErrorCode::SystemError),
    }
}

/// [`transition`], refused with a message that says why.
pub fn advance(from: OrderStatus, event: Event) -> Result<OrderStatus, Refusal> {
    transition(from, event).map_err(|code| {
        let msg = match code {
            ErrorCode::OrderPaid => "the order is already paid",
            ErrorCode::OrderClosed => "the order is closed",
            ErrorCode::OrderPaying => "a payment of this order is in progress",
            ErrorCode::PendingApproval => "the order awaits the merchant's approval",
            ErrorCode::OrderNotPaid => "the order is not paid",
            ErrorCode::AlreadyApproved => "the order is not awaiting approval",
            _ => "this change is not possible in the order's state",
        };
        Refusal::new(code, msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Event::{Approve, Close, PayFailed, PaySucceeded, Reject, StartPay};

    const EVENTS: [Event; 7] = [
        StartPay,
        PaySucceeded,
        PayFailed,
        Close,
        Event::Refund,
        Approve,
        Reject,
    ];

    #[test]
    fn the_happy_paths() {
        let paid = [StartPay, PaySucceeded, Event::Refund, Event::Refund]
            .into_iter()
            .try_fold(NotPay, transition);
        assert_eq!(paid, Ok(OrderStatus::Refund));
        let retried = [StartPay, PayFailed, StartPay, PaySucceeded]
            .into_iter()
            .try_fold(NotPay, transition);
        assert_eq!(retried, Ok(Success));
        assert_eq!(transition(PendingApproval, Approve), Ok(NotPay));
        assert_eq!(transition(PendingApproval, Reject), Ok(Closed));
        assert_eq!(transition(NotPay, Close), Ok(Closed));
        assert_eq!(transition(PayError, Close), Ok(Closed));
    }

    #[test]
    fn illegal_events_say_why() {
        assert_eq!(transition(Success, Close), Err(ErrorCode::OrderPaid));
        assert_eq!(transition(Success, StartPay), Err(ErrorCode::OrderPaid));
        assert_eq!(transition(Closed, StartPay), Err(ErrorCode::OrderClosed));
        assert_eq!(transition(Closed, Close), Err(ErrorCode::OrderClosed));
        assert_eq!(
            transition(PendingApproval, StartPay),
            Err(ErrorCode::PendingApproval)
        );
        assert_eq!(
            transition(NotPay, Event::Refund),
            Err(ErrorCode::OrderNotPaid)
        );
        assert_eq!(transition(UserPaying, Close), Err(ErrorCode::OrderPaying));
        assert_eq!(
            transition(UserPaying, StartPay),
            Err(ErrorCode::OrderPaying)
        );
        assert_eq!(transition(NotPay, Approve), Err(ErrorCode::AlreadyApproved));
    }

    #[test]
    fn refusals_carry_the_transition_code() {
        assert_eq!(advance(NotPay, StartPay), Ok(UserPaying));
        let r = advance(Closed, StartPay).unwrap_err();
        assert_eq!(
            (r.code, r.message.as_str()),
            (ErrorCode::OrderClosed, "the order is closed")
        );
        assert_eq!(
            advance(UserPaying, Close).unwrap_err().code,
            ErrorCode::OrderPaying
        );
    }

    #[test]
    fn final_states_only_move_by_refund() {
        for from in OrderStatus::ALL {
            for e in EVENTS {
                if let Ok(to) = transition(from, e) {
                    if from == Closed {
                        panic!("CLOSED moved to {to} on {e:?}");
                    }
                    if matches!(from, Success | OrderStatus::Refund) {
                        assert_eq!(to, OrderStatus::Refund, "{from} on {e:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn money_only_arrives_through_userpaying() {
        for from in OrderStatus::ALL {
            for e in EVENTS {
                if transition(from, e) == Ok(Success) {
                    assert_eq!((from, e), (UserPaying, PaySucceeded));
                }
            }
        }
    }
}
