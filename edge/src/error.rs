//! The one error type of the edge and the one place it becomes an HTTP answer. Internal details
//! are logged, never sent: a client learns a stable code and a message meant for it.

use serde::Serialize;

#[derive(Debug)]
pub enum AppError {
    NotFound,
    /// A route that only exists in local development.
    DevOnly,
    Param {
        param: &'static str,
        message: String,
    },
    Internal(String),
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<&'static str>,
    pub request_id: String,
}

impl AppError {
    /// HTTP status and the JSON body a client sees.
    pub fn to_body(&self, request_id: &str) -> (u16, ErrorBody) {
        let (status, code, message, param) = match self {
            AppError::NotFound | AppError::DevOnly => {
                (404, "NOT_FOUND", "no such resource".to_owned(), None)
            }
            AppError::Param { param, message } => {
                (400, "PARAM_ERROR", message.clone(), Some(*param))
            }
            AppError::Internal(_) => (
                500,
                "SYSTEM_ERROR",
                "something went wrong on our side; retry later with the same request".to_owned(),
                None,
            ),
        };
        (
            status,
            ErrorBody {
                code,
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
}
