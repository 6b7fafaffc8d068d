//! What the ledger records when something happens: an event of a [`EventKind`], written as data
//! in the same transaction as the change, and whether and how it is delivered to the merchant.
//! Rendering its body (JSON or v2 XML) belongs to delivery, not to the ledger.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "order.approval_required")]
    OrderApprovalRequired,
    #[serde(rename = "order.paid")]
    OrderPaid,
    #[serde(rename = "order.failed")]
    OrderFailed,
    #[serde(rename = "order.closed")]
    OrderClosed,
    #[serde(rename = "order.reminder")]
    OrderReminder,
    /// A paid order's held money is released to the merchant (fulfilled, or its days passed).
    #[serde(rename = "order.released")]
    OrderReleased,
    /// A payment's risk review was decided: approved, or rejected (and refunded in full).
    #[serde(rename = "order.reviewed")]
    OrderReviewed,
    #[serde(rename = "refund.approval_required")]
    RefundApprovalRequired,
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded,
    #[serde(rename = "refund.failed")]
    RefundFailed,
    #[serde(rename = "contract.signed")]
    ContractSigned,
    #[serde(rename = "contract.terminated")]
    ContractTerminated,
    /// Never signed within its 24 hours.
    #[serde(rename = "contract.expired")]
    ContractExpired,
    /// A deduction under a plan with a pre-deduction notice was accepted: the payer is to be
    /// told before it is charged.
    #[serde(rename = "contract.deduction_notice")]
    ContractDeductionNotice,
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    /// Three days before a trial ends.
    #[serde(rename = "subscription.trial_will_end")]
    SubscriptionTrialWillEnd,
    /// `reminder_hours` before each charge: amount, date, and the invoice's link when the payer
    /// pays it themselves.
    #[serde(rename = "subscription.renewal_upcoming")]
    SubscriptionRenewalUpcoming,
    /// A charge failed (each attempt): the second reminder, with what to do.
    #[serde(rename = "subscription.payment_failed")]
    SubscriptionPaymentFailed,
    /// Its status changed (other than to canceled).
    #[serde(rename = "subscription.updated")]
    SubscriptionUpdated,
    #[serde(rename = "subscription.canceled")]
    SubscriptionCanceled,
    /// A part became an order: `reminder_hours` before it is due, with its link (or, with a
    /// contract, when it will be deducted).
    #[serde(rename = "installment.due_upcoming")]
    InstallmentDueUpcoming,
    /// A part's deduction failed: the second reminder, with its link and until when.
    #[serde(rename = "installment.payment_failed")]
    InstallmentPaymentFailed,
    #[serde(rename = "installment_plan.completed")]
    InstallmentPlanCompleted,
    /// A part went unpaid past its grace: refunded and kept amounts.
    #[serde(rename = "installment_plan.defaulted")]
    InstallmentPlanDefaulted,
    /// A merchant day closed: its batch, settled the next day.
    #[serde(rename = "settlement.created")]
    SettlementCreated,
    /// A fund pool member's settlement reached its group's pool.
    #[serde(rename = "settlement.swept")]
    SettlementSwept,
}

impl EventKind {
    pub const ALL: [EventKind; 26] = [
        EventKind::OrderApprovalRequired,
        EventKind::OrderPaid,
        EventKind::OrderFailed,
        EventKind::OrderClosed,
        EventKind::OrderReminder,
        EventKind::OrderReleased,
        EventKind::OrderReviewed,
        EventKind::RefundApprovalRequired,
        EventKind::RefundSucceeded,
        EventKind::RefundFailed,
        EventKind::ContractSigned,
        EventKind::ContractTerminated,
        EventKind::ContractExpired,
        EventKind::ContractDeductionNotice,
        EventKind::SubscriptionCreated,
        EventKind::SubscriptionTrialWillEnd,
        EventKind::SubscriptionRenewalUpcoming,
        EventKind::SubscriptionPaymentFailed,
        EventKind::SubscriptionUpdated,
        EventKind::SubscriptionCanceled,
        EventKind::InstallmentDueUpcoming,
        EventKind::InstallmentPaymentFailed,
        EventKind::InstallmentPlanCompleted,
        EventKind::InstallmentPlanDefaulted,
        EventKind::SettlementCreated,
        EventKind::SettlementSwept,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::OrderApprovalRequired => "order.approval_required",
            EventKind::OrderPaid => "order.paid",
            EventKind::OrderFailed => "order.failed",
            EventKind::OrderClosed => "order.closed",
            EventKind::OrderReminder => "order.reminder",
            EventKind::OrderReleased => "order.released",
            EventKind::OrderReviewed => "order.reviewed",
            EventKind::RefundApprovalRequired => "refund.approval_required",
            EventKind::RefundSucceeded => "refund.succeeded",
            EventKind::RefundFailed => "refund.failed",
            EventKind::ContractSigned => "contract.signed",
            EventKind::ContractTerminated => "contract.terminated",
            EventKind::ContractExpired => "contract.expired",
            EventKind::ContractDeductionNotice => "contract.deduction_notice",
            EventKind::SubscriptionCreated => "subscription.created",
            EventKind::SubscriptionTrialWillEnd => "subscription.trial_will_end",
            EventKind::SubscriptionRenewalUpcoming => "subscription.renewal_upcoming",
            EventKind::SubscriptionPaymentFailed => "subscription.payment_failed",
            EventKind::SubscriptionUpdated => "subscription.updated",
            EventKind::SubscriptionCanceled => "subscription.canceled",
            EventKind::InstallmentDueUpcoming => "installment.due_upcoming",
            EventKind::InstallmentPaymentFailed => "installment.payment_failed",
            EventKind::InstallmentPlanCompleted => "installment_plan.completed",
            EventKind::InstallmentPlanDefaulted => "installment_plan.defaulted",
            EventKind::SettlementCreated => "settlement.created",
            EventKind::SettlementSwept => "settlement.swept",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Order events carry the whole order; refund events the refund.
    pub fn is_order_event(self) -> bool {
        self.as_str().starts_with("order.")
    }

    /// About a subscription, not one of its invoices.
    pub fn is_subscription_event(self) -> bool {
        self.as_str().starts_with("subscription.")
    }

    /// About an installment plan, not one of its parts' orders.
    pub fn is_installment_event(self) -> bool {
        self.as_str().starts_with("installment")
    }

    /// About a settlement, not an order.
    pub fn is_settlement_event(self) -> bool {
        self.as_str().starts_with("settlement.")
    }

    /// About a contract, not an order (the deduction notice is about its order).
    pub fn is_contract_event(self) -> bool {
        matches!(
            self,
            EventKind::ContractSigned | EventKind::ContractTerminated | EventKind::ContractExpired
        )
    }
}

/// The dialect an event is delivered in: the one its order was created through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `{id, type, created_at, data}`, signed in the `Paydesk-Signature` header.
    Json,
    /// The WeChat Pay v2 XML notification, signed inside.
    V2,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::V2 => "v2",
        }
    }

    /// The v2 protocol notifies payments and contract signing and ending only; its other
    /// events are recorded, not sent.
    pub fn delivers(self, kind: EventKind) -> bool {
        match self {
            Format::Json => true,
            Format::V2 => matches!(
                kind,
                EventKind::OrderPaid | EventKind::ContractSigned | EventKind::ContractTerminated
            ),
        }
    }
}

/// Where an event's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Due now or at its next attempt.
    Pending,
    Delivered,
    /// Every scheduled attempt failed; a manual resend starts over.
    Failed,
    /// Recorded only: no notify URL, or nothing the order's dialect sends.
    None,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
        DeliveryStatus::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "PENDING",
            DeliveryStatus::Delivered => "DELIVERED",
            DeliveryStatus::Failed => "FAILED",
            DeliveryStatus::None => "NONE",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// A new event is pending when it has somewhere to go and something to say.
    pub fn of_new_event(format: Format, kind: EventKind, has_url: bool) -> DeliveryStatus {
        if has_url && format.delivers(kind) {
            DeliveryStatus::Pending
        } else {
            DeliveryStatus::None
        }
    }

    /// A resend starts a failed or delivered event's schedule over (one delivered on its last
    /// scheduled attempt would otherwise fail for good after one more try); a pending one, in
    /// the middle of its schedule, keeps its count.
    pub fn attempts_after_resend(self, attempts: i64) -> i64 {
        if matches!(self, DeliveryStatus::Failed | DeliveryStatus::Delivered) {
            0
        } else {
            attempts
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_their_wire_names() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!(EventKind::OrderPaid.is_order_event());
        assert!(!EventKind::RefundSucceeded.is_order_event());
        assert!(EventKind::ContractSigned.is_contract_event());
        assert!(!EventKind::ContractDeductionNotice.is_contract_event());
        for d in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(d.as_str()), Some(d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
    }

    #[test]
    fn what_is_delivered() {
        use DeliveryStatus::{None as Recorded, Pending};
        assert_eq!(
            DeliveryStatus::of_new_event(Format::Json, EventKind::OrderClosed, true),
            Pending
        );
        assert_eq!(
            DeliveryStatus::of_new_event(Format::Json, EventKind::OrderPaid, false),
            Recorded
        );
        assert_eq!(
            DeliveryStatus::of_new_event(Format::V2, EventKind::OrderPaid, true),
            Pending
        );
        assert_eq!(
            DeliveryStatus::of_new_event(Format::V2, EventKind::RefundSucceeded, true),
            Recorded
        );
        for k in [EventKind::ContractSigned, EventKind::ContractTerminated] {
            assert_eq!(DeliveryStatus::of_new_event(Format::V2, k, true), Pending);
        }
        assert_eq!(
            DeliveryStatus::of_new_event(Format::V2, EventKind::ContractExpired, true),
            Recorded
        );
        assert_eq!(DeliveryStatus::Failed.attempts_after_resend(15), 0);
        assert_eq!(DeliveryStatus::Delivered.attempts_after_resend(15), 0);
        assert_eq!(DeliveryStatus::Pending.attempts_after_resend(3), 3);
    }
}
