//! A request's body as text, as the worker's routes and the merchant object both accept it: at
//! most a given size, and UTF-8. The object applies it to a merchant API body the worker
//! streamed to it unread (`merchant/client.rs`).

use crate::error::AppError;
use paydesk_shared::api::ErrorCode;

/// The most a merchant API request's body may hold.
pub const MAX_API_BODY: usize = 64 * 1024;

/// The refusal of a body over `max` bytes.
pub fn too_large(max: usize) -> AppError {
    AppError::code(
        ErrorCode::BodyTooLarge,
        format!("the body must be at most {max} bytes"),
    )
}

/// `bytes` as text, if they are at most `max` and UTF-8.
pub fn body_text(bytes: Vec<u8>, max: usize) -> Result<String, AppError> {
    if bytes.len() > max {
        return Err(too_large(max));
    }
    String::from_utf8(bytes).map_err(|_| AppError::param("body", "the body must be UTF-8"))
}

/// A merchant API body must be JSON when there is one: checked after it was read, so an empty
/// body needs no type.
pub fn api_body(bytes: Vec<u8>, declared_json: bool) -> Result<String, AppError> {
    let body = body_text(bytes, MAX_API_BODY)?;
    if !body.is_empty() && !declared_json {
        return Err(AppError::code(
            ErrorCode::UnsupportedMediaType,
            "send the body as application/json",
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: AppError) -> ErrorCode {
        match e {
            AppError::Refused(r) => r.code,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn api_bodies() {
        assert_eq!(api_body(b"{}".to_vec(), true).unwrap(), "{}");
        // No body needs no type.
        assert_eq!(api_body(Vec::new(), false).unwrap(), "");
        let e = api_body(b"{}".to_vec(), false).unwrap_err();
        assert_eq!(code(e), ErrorCode::UnsupportedMediaType);
        let e = api_body(vec![b' '; MAX_API_BODY + 1], true).unwrap_err();
        assert_eq!(code(e), ErrorCode::BodyTooLarge);
        assert_eq!(
            api_body(vec![b' '; MAX_API_BODY], true).unwrap().len(),
            MAX_API_BODY
        );
        let e = api_body(vec![0xff, 0xfe], true).unwrap_err();
        assert_eq!(code(e), ErrorCode::ParamError);
    }
}
