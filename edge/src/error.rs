//! The one error type of the edge and the one place it becomes an HTTP answer. Internal details
//! are logged, never sent: a client learns a stable code and a message meant for it.

use paydesk_shared::api::ErrorCode;
use serde::Serialize;

#[derive(Debug)]
pub enum AppError {
    /// A refusal with a stable code, the message for the client and the offending parameter.
    Code {
        code: ErrorCode,
        message: String,
        param: Option<String>,
    },
    /// A route that only exists in local development: looks absent elsewhere.
    DevOnly,
    Internal(String),
}

impl AppError {
    pub fn code(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Code {
            code,
            message: message.into(),
            param: None,
        }
    }

    pub fn param(param: &str, message: impl Into<String>) -> Self {
        AppError::Code {
            code: ErrorCode::ParamError,
            message: message.into(),
            param: Some(param.to_owned()),
        }
    }

    pub fn not_found() -> Self {
        AppError::code(ErrorCode::NotFound, "no such resource")
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
    /// HTTP status and the JSON body a client sees.
    pub fn to_body(&self, request_id: &str) -> (u16, ErrorBody) {
        let (code, message, param) = match self {
            AppError::Code {
                code,
                message,
                param,
            } => (*code, message.clone(), param.clone()),
            AppError::DevOnly => (ErrorCode::NotFound, "no such resource".to_owned(), None),
            AppError::Internal(_) => (
                ErrorCode::SystemError,
                "something went wrong on our side; retry later with the same request".to_owned(),
                None,
            ),
        };
        (
            code.http_status(),
            ErrorBody {
                code: code.as_str(),
                message,
                param,
                request_id: request_id.to_owned(),
            },
        )
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Internal(format!("json: {e}"))
    }
}

#[cfg(target_arch = "wasm32")]
impl From<worker::Error> for AppError {
    fn from(e: worker::Error) -> Self {
        AppError::Internal(format!("runtime: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_client() {
        let (status, body) =
            AppError::Internal("sqlite: disk I/O at /secret/path".into()).to_body("req_1");
        assert_eq!(status, 500);
        assert_eq!(body.code, "SYSTEM_ERROR");
        assert!(!body.message.contains("sqlite"));
        let json = serde_json::to_string(&body).unwrap();
        assert!(!json.contains("/secret/path"));
    }

    #[test]
    fn dev_routes_look_absent_in_production() {
        let (status, body) = AppError::DevOnly.to_body("r");
        assert_eq!((status, body.code), (404, "NOT_FOUND"));
    }

    #[test]
    fn codes_carry_their_status() {
        let (status, body) = AppError::param("amount", "bad").to_body("r");
        assert_eq!(
            (status, body.code, body.param.as_deref()),
            (400, "PARAM_ERROR", Some("amount"))
        );
    }
}
