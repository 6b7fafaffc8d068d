//! Which merchant API operation a method and path name, and which rate window it counts
//! against. Pure, so the routing table is tested natively.

use crate::domain::limits::RateKind;
use paydesk_shared::api::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRoute {
    CreateOrder,
    QueryOrder(String),
    CloseOrder(String),
    FulfilOrder(String),
    OrderReceipt(String),
    CreateRefund,
    QueryRefund(String),
    VerifyAudit,
    AuditLog,
    SettlementStatement(String),
    ListNotifications,
    GetNotification(String),
    ResendNotification(String),
    ListAlerts,
    CreatePlan,
    QueryPlan(String),
    CreateContract,
    QueryContract(String),
    TerminateContract(String),
    CreateDeduction(String),
    CreateSubscription,
    QuerySubscription(String),
    CancelSubscription(String),
    PauseSubscription(String),
    ResumeSubscription(String),
    ReportUsage(String),
    CreateInstallmentPlan,
    QueryInstallmentPlan(String),
    ListEntitlements,
    FeeReport,
    ListSettlements,
    Balance,
    CreateReceiver,
    ListReceivers,
    Pool,
    Bill,
    Export,
    ListReviews,
    ApproveReview(String),
    RejectReview(String),
    Apply,
    Application,
    ListChannels,
    GetMessaging,
    SetMessaging,
    Inbox,
    MarkRead(String, bool),
    ListMessages,
    ListContracts,
    ListSubscriptions,
    ListInstallmentPlans,
    DailyReport,
}

impl ApiRoute {
    pub fn rate_kind(&self) -> RateKind {
        match self {
            ApiRoute::CreateOrder
            | ApiRoute::CreatePlan
            | ApiRoute::CreateContract
            | ApiRoute::TerminateContract(_)
            | ApiRoute::CreateDeduction(_)
            | ApiRoute::CreateSubscription
            | ApiRoute::CancelSubscription(_)
            | ApiRoute::PauseSubscription(_)
            | ApiRoute::ResumeSubscription(_)
            | ApiRoute::ReportUsage(_)
            | ApiRoute::CreateInstallmentPlan
            | ApiRoute::CreateReceiver
            | ApiRoute::Apply
            | ApiRoute::SetMessaging => RateKind::Create,
            ApiRoute::CreateRefund => RateKind::Refund,
            _ => RateKind::Query,
        }
    }
}

pub fn route(method: &str, path: &str) -> Result<ApiRoute, ErrorCode> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (want, r) = match segs.as_slice() {
        ["v1", "orders"] => ("POST", ApiRoute::CreateOrder),
        ["v1", "orders", id] if !id.is_empty() => ("GET", ApiRoute::QueryOrder(decode(id)?)),
        ["v1", "orders", id, "close"] if !id.is_empty() => {
            ("POST", ApiRoute::CloseOrder(decode(id)?))
        }
        ["v1", "orders", id, "fulfil"] if !id.is_empty() => {
            ("POST", ApiRoute::FulfilOrder(decode(id)?))
        }
        ["v1", "orders", id, "receipt"] if !id.is_empty() => {
            ("GET", ApiRoute::OrderReceipt(decode(id)?))
        }
        ["v1", "refunds"] => ("POST", ApiRoute::CreateRefund),
        ["v1", "refunds", id] if !id.is_empty() => ("GET", ApiRoute::QueryRefund(decode(id)?)),
        ["v1", "audit", "verify"] => ("GET", ApiRoute::VerifyAudit),
        ["v1", "audit"] => ("GET", ApiRoute::AuditLog),
        ["v1", "settlements", id, "statement"] if !id.is_empty() => {
            ("GET", ApiRoute::SettlementStatement(decode(id)?))
        }
        ["v1", "notifications"] => ("GET", ApiRoute::ListNotifications),
        ["v1", "notifications", id] if !id.is_empty() => {
            ("GET", ApiRoute::GetNotification(decode(id)?))
        }
        ["v1", "notifications", id, "resend"] if !id.is_empty() => {
            ("POST", ApiRoute::ResendNotification(decode(id)?))
        }
        ["v1", "alerts"] => ("GET", ApiRoute::ListAlerts),
        ["v1", "contract_plans"] => ("POST", ApiRoute::CreatePlan),
        ["v1", "contract_plans", id] if !id.is_empty() => ("GET", ApiRoute::QueryPlan(decode(id)?)),
        ["v1", "contracts"] if method == "GET" => ("GET", ApiRoute::ListContracts),
        ["v1", "contracts"] => ("POST", ApiRoute::CreateContract),
        ["v1", "contracts", id] if !id.is_empty() => ("GET", ApiRoute::QueryContract(decode(id)?)),
        ["v1", "contracts", id, "terminate"] if !id.is_empty() => {
            ("POST", ApiRoute::TerminateContract(decode(id)?))
        }
        ["v1", "contracts", id, "deductions"] if !id.is_empty() => {
            ("POST", ApiRoute::CreateDeduction(decode(id)?))
        }
        ["v1", "installment_plans"] if method == "GET" => ("GET", ApiRoute::ListInstallmentPlans),
        ["v1", "installment_plans"] => ("POST", ApiRoute::CreateInstallmentPlan),
        ["v1", "entitlements"] => ("GET", ApiRoute::ListEntitlements),
        ["v1", "reports", "fees"] => ("GET", ApiRoute::FeeReport),
        ["v1", "reports", "daily"] => ("GET", ApiRoute::DailyReport),
        ["v1", "settlements"] => ("GET", ApiRoute::ListSettlements),
        ["v1", "balance"] => ("GET", ApiRoute::Balance),
        ["v1", "receivers"] if method == "POST" => ("POST", ApiRoute::CreateReceiver),
        ["v1", "receivers"] => ("GET", ApiRoute::ListReceivers),
        ["v1", "pool"] => ("GET", ApiRoute::Pool),
        ["v1", "bills"] => ("GET", ApiRoute::Bill),
        ["v1", "exports"] => ("GET", ApiRoute::Export),
        ["v1", "reviews"] => ("GET", ApiRoute::ListReviews),
        ["v1", "application"] if method == "POST" => ("POST", ApiRoute::Apply),
        ["v1", "application"] => ("GET", ApiRoute::Application),
        ["v1", "channels"] => ("GET", ApiRoute::ListChannels),
        ["v1", "messaging" | "inbox" | "messages", ..] => messaging(method, &segs[1..])?,
        ["v1", "reviews", id, "approve"] if !id.is_empty() => {
            ("POST", ApiRoute::ApproveReview(decode(id)?))
        }
        ["v1", "reviews", id, "reject"] if !id.is_empty() => {
            ("POST", ApiRoute::RejectReview(decode(id)?))
        }
        ["v1", "installment_plans", id] if !id.is_empty() => {
            ("GET", ApiRoute::QueryInstallmentPlan(decode(id)?))
        }
        ["v1", "subscriptions"] if method == "GET" => ("GET", ApiRoute::ListSubscriptions),
        ["v1", "subscriptions"] => ("POST", ApiRoute::CreateSubscription),
        ["v1", "subscriptions", id] if !id.is_empty() => {
            ("GET", ApiRoute::QuerySubscription(decode(id)?))
        }
        ["v1", "subscriptions", id, action] if !id.is_empty() => {
            let id = decode(id)?;
            let r = match *action {
                "cancel" => ApiRoute::CancelSubscription(id),
                "pause" => ApiRoute::PauseSubscription(id),
                "resume" => ApiRoute::ResumeSubscription(id),
                "usage" => ApiRoute::ReportUsage(id),
                _ => return Err(ErrorCode::NotFound),
            };
            ("POST", r)
        }
        _ => return Err(ErrorCode::NotFound),
    };
    if method != want {
        return Err(ErrorCode::MethodNotAllowed);
    }
    Ok(r)
}

/// Messages to people: the settings, the inbox, the outbound list.
fn messaging(method: &str, segs: &[&str]) -> Result<(&'static str, ApiRoute), ErrorCode> {
    Ok(match segs {
        ["messaging"] if method == "PUT" => ("PUT", ApiRoute::SetMessaging),
        ["messaging"] => ("GET", ApiRoute::GetMessaging),
        ["inbox"] => ("GET", ApiRoute::Inbox),
        ["inbox", id, action] if !id.is_empty() => {
            let read = match *action {
                "read" => true,
                "unread" => false,
                _ => return Err(ErrorCode::NotFound),
            };
            ("POST", ApiRoute::MarkRead(decode(id)?, read))
        }
        ["messages"] => ("GET", ApiRoute::ListMessages),
        _ => return Err(ErrorCode::NotFound),
    })
}

/// A path segment, percent-decoded (`|` and `*` may arrive encoded); anything that does not
/// decode to UTF-8 is a bad parameter.
pub fn decode(seg: &str) -> Result<String, ErrorCode> {
    paydesk_shared::urlenc::path_segment(seg).ok_or(ErrorCode::ParamError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("POST", "/v1/orders"), Ok(ApiRoute::CreateOrder));
        assert_eq!(
            route("GET", "/v1/orders/A%7CB*1"),
            Ok(ApiRoute::QueryOrder("A|B*1".into()))
        );
        assert_eq!(
            route("POST", "/v1/orders/X1/close"),
            Ok(ApiRoute::CloseOrder("X1".into()))
        );
        assert_eq!(route("POST", "/v1/refunds"), Ok(ApiRoute::CreateRefund));
        assert_eq!(
            route("GET", "/v1/settlements"),
            Ok(ApiRoute::ListSettlements)
        );
        assert_eq!(route("GET", "/v1/balance"), Ok(ApiRoute::Balance));
        assert_eq!(route("POST", "/v1/application"), Ok(ApiRoute::Apply));
        assert_eq!(route("GET", "/v1/application"), Ok(ApiRoute::Application));
        assert_eq!(route("PUT", "/v1/messaging"), Ok(ApiRoute::SetMessaging));
        assert_eq!(route("GET", "/v1/messaging"), Ok(ApiRoute::GetMessaging));
        assert_eq!(
            route("POST", "/v1/inbox/msg_1/unread"),
            Ok(ApiRoute::MarkRead("msg_1".into(), false))
        );
        assert_eq!(route("POST", "/v1/inbox/msg_1/x"), Err(ErrorCode::NotFound));
        assert_eq!(
            route("POST", "/v1/messages"),
            Err(ErrorCode::MethodNotAllowed)
        );
        assert_eq!(ApiRoute::Apply.rate_kind(), RateKind::Create);
        assert_eq!(route("POST", "/v1/receivers"), Ok(ApiRoute::CreateReceiver));
        assert_eq!(route("GET", "/v1/receivers"), Ok(ApiRoute::ListReceivers));
        assert_eq!(
            route("PUT", "/v1/receivers"),
            Err(ErrorCode::MethodNotAllowed)
        );
        assert_eq!(route("POST", "/v1/pool"), Err(ErrorCode::MethodNotAllowed));
        assert_eq!(ApiRoute::CreateReceiver.rate_kind(), RateKind::Create);
        assert_eq!(
            route("GET", "/v1/refunds/R1"),
            Ok(ApiRoute::QueryRefund("R1".into()))
        );
        assert_eq!(route("GET", "/v1/audit/verify"), Ok(ApiRoute::VerifyAudit));
        assert_eq!(
            route("GET", "/v1/notifications"),
            Ok(ApiRoute::ListNotifications)
        );
        assert_eq!(
            route("GET", "/v1/notifications/evt_1"),
            Ok(ApiRoute::GetNotification("evt_1".into()))
        );
        assert_eq!(
            route("POST", "/v1/notifications/evt_1/resend"),
            Ok(ApiRoute::ResendNotification("evt_1".into()))
        );
        assert_eq!(route("GET", "/v1/alerts"), Ok(ApiRoute::ListAlerts));
        assert_eq!(
            route("POST", "/v1/contract_plans"),
            Ok(ApiRoute::CreatePlan)
        );
        assert_eq!(
            route("GET", "/v1/contract_plans/12535"),
            Ok(ApiRoute::QueryPlan("12535".into()))
        );
        assert_eq!(route("POST", "/v1/contracts"), Ok(ApiRoute::CreateContract));
        assert_eq!(
            route("GET", "/v1/contracts/C%7C1"),
            Ok(ApiRoute::QueryContract("C|1".into()))
        );
        assert_eq!(
            route("POST", "/v1/contracts/C1/terminate"),
            Ok(ApiRoute::TerminateContract("C1".into()))
        );
        assert_eq!(
            route("POST", "/v1/contracts/C1/deductions"),
            Ok(ApiRoute::CreateDeduction("C1".into()))
        );
        assert_eq!(
            route("GET", "/v1/contracts/C1/deductions"),
            Err(ErrorCode::MethodNotAllowed)
        );
        assert_eq!(route("GET", "/v1/orders"), Err(ErrorCode::MethodNotAllowed));
        assert_eq!(
            route("DELETE", "/v1/orders/X1"),
            Err(ErrorCode::MethodNotAllowed)
        );
        assert_eq!(route("GET", "/v1/nothing"), Err(ErrorCode::NotFound));
        assert_eq!(route("GET", "/v1/orders/%ZZ"), Err(ErrorCode::ParamError));
        assert_eq!(route("GET", "/v1/orders/%FF"), Err(ErrorCode::ParamError));
    }

    #[test]
    fn rate_windows() {
        assert_eq!(ApiRoute::CreateOrder.rate_kind(), RateKind::Create);
        assert_eq!(ApiRoute::CreateRefund.rate_kind(), RateKind::Refund);
        assert_eq!(
            ApiRoute::CreateDeduction("c".into()).rate_kind(),
            RateKind::Create
        );
        assert_eq!(
            ApiRoute::QueryOrder("x".into()).rate_kind(),
            RateKind::Query
        );
    }
}
