//! The console's calls to `/console/api`: same-origin, so the session cookie goes along; every
//! change carries the session's CSRF token.

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

/// An answer: its status and JSON (`Null` when it had none).
pub struct Answer {
    pub status: u16,
    pub json: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error's message, for the page to show.
    pub fn message(&self) -> String {
        self.json["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("HTTP {}", self.status))
    }
}

pub async fn call(method: &str, path: &str, body: Option<Value>, csrf: &str) -> Answer {
    let failed = Answer {
        status: 0,
        json: Value::Null,
    };
    let init = RequestInit::new();
    init.set_method(method);
    let Ok(headers) = web_sys::Headers::new() else {
        return failed;
    };
    if method != "GET" {
        let _ = headers.set("X-Paydesk-CSRF", csrf);
    }
    if let Some(b) = body {
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&JsValue::from_str(&b.to_string()));
    }
    init.set_headers(&headers);
    let Some(window) = web_sys::window() else {
        return failed;
    };
    let url = format!("/console/api{path}");
    let Ok(resp) = JsFuture::from(window.fetch_with_str_and_init(&url, &init)).await else {
        return failed;
    };
    let Ok(resp) = resp.dyn_into::<Response>() else {
        return failed;
    };
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    };
    Answer {
        status: resp.status(),
        json: text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null),
    }
}
