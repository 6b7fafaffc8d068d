//! Which console operation a method and path under `/console/api` name, and what a user must be
//! allowed to do it. Pure, so the table is tested natively.

use super::api_route::{decode, route, ApiRoute};
use crate::domain::console_rules::Action;
use paydesk_shared::api::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleRoute {
    Me,
    SignOut,
    Alerts,
    Inbox,
    Orders,
    /// One order: its events, refunds and audit entries.
    Order(String),
    /// A refund of an order (through approval above the merchant's threshold).
    Refund(String),
    /// A notification sent again.
    Resend(String),
    Approvals,
    Reviews,
    /// A risk review, approved (`true`) or rejected.
    DecideReview(String, bool),
    /// An approval, approved (`true`) or rejected.
    Decide(String, bool),
    /// A read of the merchant API (`GET /console/api/v1/...`), answered as the API answers it:
    /// settlements, bills, fee and daily reports, contracts, subscriptions, the audit chain.
    Read(ApiRoute),
    /// The merchant's rules and branding, and a change waiting for approval.
    Settings,
    /// The rules replaced whole (through approval when the change loosens a control).
    ChangeSettings,
    /// The alert channels (`PUT /v1/messaging`'s settings).
    SetMessaging,
    /// A new webhook secret, the old one valid for a grace period.
    RotateWebhookSecret,
}

impl ConsoleRoute {
    /// `path` is what follows `/console/api`.
    pub fn of(method: &str, path: &str) -> Result<ConsoleRoute, ErrorCode> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (want, r) = match segs.as_slice() {
            ["v1", ..] => ("GET", ConsoleRoute::Read(read(method, path)?)),
            ["me"] => ("GET", ConsoleRoute::Me),
            ["settings"] if method == "PUT" => ("PUT", ConsoleRoute::ChangeSettings),
            ["settings"] => ("GET", ConsoleRoute::Settings),
            ["messaging"] => ("PUT", ConsoleRoute::SetMessaging),
            ["webhook-secret", "rotate"] => ("POST", ConsoleRoute::RotateWebhookSecret),
            ["sign-out"] => ("POST", ConsoleRoute::SignOut),
            ["alerts"] => ("GET", ConsoleRoute::Alerts),
            ["inbox"] => ("GET", ConsoleRoute::Inbox),
            ["orders"] => ("GET", ConsoleRoute::Orders),
            ["orders", no] if !no.is_empty() => ("GET", ConsoleRoute::Order(decode(no)?)),
            ["orders", no, "refund"] if !no.is_empty() => {
                ("POST", ConsoleRoute::Refund(decode(no)?))
            }
            ["notifications", id, "resend"] if !id.is_empty() => {
                ("POST", ConsoleRoute::Resend(decode(id)?))
            }
            ["approvals"] => ("GET", ConsoleRoute::Approvals),
            ["reviews"] => ("GET", ConsoleRoute::Reviews),
            ["reviews", id, verb] if !id.is_empty() => (
                "POST",
                ConsoleRoute::DecideReview(decode(id)?, approves(verb)?),
            ),
            ["approvals", id, verb] if !id.is_empty() => (
                "POST",
                ConsoleRoute::Decide((*id).to_owned(), approves(verb)?),
            ),
            _ => return Err(ErrorCode::NotFound),
        };
        if method != want {
            return Err(ErrorCode::MethodNotAllowed);
        }
        Ok(r)
    }

    /// What the user's role must allow.
    pub fn action(&self) -> Action {
        match self {
            ConsoleRoute::Decide(..) | ConsoleRoute::DecideReview(..) => Action::Approve,
            ConsoleRoute::SetMessaging | ConsoleRoute::RotateWebhookSecret => Action::Administer,
            ConsoleRoute::Refund(_) | ConsoleRoute::Resend(_) | ConsoleRoute::ChangeSettings => {
                Action::Operate
            }
            _ => Action::Read,
        }
    }
}

/// A merchant API operation that only reads: what `GET` names there.
fn read(method: &str, path: &str) -> Result<ApiRoute, ErrorCode> {
    if method != "GET" {
        return Err(ErrorCode::MethodNotAllowed);
    }
    route("GET", path).map_err(|e| match e {
        ErrorCode::MethodNotAllowed => ErrorCode::NotFound,
        e => e,
    })
}

/// `approve` or `reject`.
fn approves(verb: &str) -> Result<bool, ErrorCode> {
    match verb {
        "approve" => Ok(true),
        "reject" => Ok(false),
        _ => Err(ErrorCode::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_what_they_need() {
        assert_eq!(ConsoleRoute::of("GET", "/me"), Ok(ConsoleRoute::Me));
        assert_eq!(
            ConsoleRoute::of("POST", "/approvals/ap_1/reject"),
            Ok(ConsoleRoute::Decide("ap_1".into(), false))
        );
        assert_eq!(
            ConsoleRoute::of("GET", "/approvals/ap_1/approve"),
            Err(ErrorCode::MethodNotAllowed)
        );
        assert_eq!(ConsoleRoute::of("GET", "/users"), Err(ErrorCode::NotFound));
        assert_eq!(
            ConsoleRoute::Decide("a".into(), true).action(),
            Action::Approve
        );
        assert_eq!(ConsoleRoute::SignOut.action(), Action::Read);
        assert_eq!(
            ConsoleRoute::of("POST", "/orders/A%7CB/refund"),
            Ok(ConsoleRoute::Refund("A|B".into()))
        );
        assert_eq!(ConsoleRoute::Refund("x".into()).action(), Action::Operate);
        assert_eq!(ConsoleRoute::Resend("x".into()).action(), Action::Operate);
        assert_eq!(
            ConsoleRoute::of("POST", "/reviews/rv_1/approve"),
            Ok(ConsoleRoute::DecideReview("rv_1".into(), true))
        );
        assert_eq!(
            ConsoleRoute::of("GET", "/reviews"),
            Ok(ConsoleRoute::Reviews)
        );
        assert_eq!(ConsoleRoute::Orders.action(), Action::Read);
        assert_eq!(
            ConsoleRoute::of("PUT", "/settings"),
            Ok(ConsoleRoute::ChangeSettings)
        );
        assert_eq!(ConsoleRoute::ChangeSettings.action(), Action::Operate);
        assert_eq!(
            ConsoleRoute::of("POST", "/webhook-secret/rotate").map(|r| r.action()),
            Ok(Action::Administer)
        );
        assert_eq!(
            ConsoleRoute::of("PUT", "/messaging").map(|r| r.action()),
            Ok(Action::Administer)
        );
        assert_eq!(
            ConsoleRoute::of("GET", "/settings").map(|r| r.action()),
            Ok(Action::Read)
        );
        assert_eq!(
            ConsoleRoute::of("POST", "/settings"),
            Err(ErrorCode::MethodNotAllowed)
        );
        // The merchant API's reads, and only its reads.
        assert_eq!(
            ConsoleRoute::of("GET", "/v1/reports/daily"),
            Ok(ConsoleRoute::Read(ApiRoute::DailyReport))
        );
        assert_eq!(
            ConsoleRoute::of("GET", "/v1/contracts"),
            Ok(ConsoleRoute::Read(ApiRoute::ListContracts))
        );
        assert_eq!(
            ConsoleRoute::of("POST", "/v1/orders"),
            Err(ErrorCode::MethodNotAllowed)
        );
        assert_eq!(
            ConsoleRoute::of("GET", "/v1/orders/X/close"),
            Err(ErrorCode::NotFound)
        );
        assert_eq!(ConsoleRoute::Read(ApiRoute::Balance).action(), Action::Read);
    }
}
