//! The one application error of the edge, shared by the routes and the merchant object (it
//! travels back over the object's stub unchanged), and the one place it becomes an HTTP answer.
//! Internal details are logged, never sent: a client learns a stable code and a message meant
//! for it. The v2 dialect renders the same error in its XML in one place too
//! (`domain::v2::result_fail`).

use crate::domain::refusal::Refusal;
use paydesk_shared::api::ErrorCode;
use serde::{Deserialize, Serialize};

/// Externally tagged where it crosses the object's stub, as the protocol's enums are
/// (`merchant/protocol.rs`, `ApiBody`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppError {
    /// A rule said no: a stable code, the message for the client, the offending parameter.
    Refused(Refusal),
    /// A route that only exists in local development: looks absent elsewhere.
    DevOnly,
    /// Something failed on our side; the detail is for the log only.
    Internal { detail: String },
}

impl AppError {
    pub fn code(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Refused(Refusal::new(code, message))
    }

    pub fn param(param: &str, message: impl Into<String>) -> Self {
        AppError::Refused(Refusal::param(param, message))
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        AppError::Internal {
            detail: detail.into(),
        }
    }

    pub fn not_found() -> Self {
        AppError::code(ErrorCode::NotFound, "no such resource")
    }

    /// The refusal, if a rule refused (not a failure on our side).
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            AppError::Refused(r) => Some(r),
            _ => None,
        }
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        AppError::Refused(r)
    }
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    pub request_id: String,
}

impl AppError {
    /// HTTP status, the JSON body a client sees, and the `Retry-After` seconds if any.
    pub fn to_body(&self, request_id: &str) -> (u16, ErrorBody, Option<u32>) {
        let (code, message, param, retry) = match self {
            AppError::Refused(r) => (r.code, r.message.clone(), r.param.clone(), r.retry_after),
            AppError::DevOnly => (
                ErrorCode::NotFound,
                "no such resource".to_owned(),
                None,
                None,
            ),
            AppError::Internal { .. } => (
                ErrorCode::SystemError,
                "something went wrong on our side; retry later with the same request".to_owned(),
                None,
                None,
            ),
        };
        let body = ErrorBody {
            code: code.as_str(),
            message,
            param,
            request_id: request_id.to_owned(),
        };
        (code.http_status(), body, retry)
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::internal(format!("json: {e}"))
    }
}

#[cfg(target_arch = "wasm32")]
impl From<worker::Error> for AppError {
    fn from(e: worker::Error) -> Self {
        AppError::internal(format!("runtime: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_client() {
        let (status, body, _) =
            AppError::internal("sqlite: disk I/O at /secret/path").to_body("req_1");
        assert_eq!(status, 500);
        assert_eq!(body.code, "SYSTEM_ERROR");
        assert!(!body.message.contains("sqlite"));
        let json = serde_json::to_string(&body).unwrap();
        assert!(!json.contains("/secret/path"));
    }

    #[test]
    fn dev_routes_look_absent_in_production() {
        let (status, body, _) = AppError::DevOnly.to_body("r");
        assert_eq!((status, body.code), (404, "NOT_FOUND"));
    }

    #[test]
    fn codes_carry_their_status() {
        let (status, body, _) = AppError::param("amount", "bad").to_body("r");
        assert_eq!(
            (status, body.code, body.param.as_deref()),
            (400, "PARAM_ERROR", Some("amount"))
        );
        let limited = Refusal::new(ErrorCode::FrequencyLimited, "slow").retry_after(12);
        assert_eq!(AppError::from(limited).to_body("r").2, Some(12));
    }

    #[test]
    fn errors_cross_the_object_boundary_unchanged() {
        for e in [
            AppError::param("amount", "bad"),
            AppError::DevOnly,
            AppError::internal("x"),
        ] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(crate::json_text::from_text::<AppError>(&json).unwrap(), e);
        }
    }
}
