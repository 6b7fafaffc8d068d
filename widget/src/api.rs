//! The one place that talks to the edge: the pay call, the status poll, the live socket.

use paydesk_shared::api::PayRequest;
use paydesk_shared::{OrderStatus, PayOutcome};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

async fn fetch(url: &str, init: &RequestInit) -> Result<(u16, String), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let resp: Response = JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(resp.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok((resp.status(), text))
}

pub async fn pay(token: &str, req: &PayRequest) -> PayOutcome {
    let init = RequestInit::new();
    init.set_method("POST");
    // Not `expect`: its message would format the JsValue, which links wasm-bindgen's
    // debug printer into the page (about 1 KB of glue and wasm) for an error that cannot happen.
    let Ok(headers) = web_sys::Headers::new() else {
        return PayOutcome::Unavailable;
    };
    let _ = headers.set("Content-Type", "application/json");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&crate::page::json::pay_request(req)));
    let Ok((status, text)) = fetch(&format!("/api/checkout/{token}/pay"), &init).await else {
        return PayOutcome::Unavailable;
    };
    crate::form::pay_outcome(status, &text)
}

/// JSON read without serde ([`crate::page::json`]).
pub fn parse<T: crate::page::json::Decode>(text: &str) -> Option<T> {
    crate::page::json::from_str(text)
}

/// The order's current status (the poll behind "refresh status" and the live fallback).
pub async fn status(token: &str) -> Option<OrderStatus> {
    let init = RequestInit::new();
    init.set_method("GET");
    let (code, text) = fetch(&format!("/api/checkout/{token}"), &init).await.ok()?;
    if code != 200 {
        return None;
    }
    parse(&text)
}

/// Opens the live status socket; `on_status` gets every status the edge pushes, `on_closed`
/// fires once when the socket fails or closes. Returns the socket so the caller can keep it.
pub fn live(
    token: &str,
    on_status: impl Fn(OrderStatus) + 'static,
    on_closed: impl FnOnce() + 'static,
) -> Option<web_sys::WebSocket> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let url = format!(
        "{scheme}://{}/api/checkout/{token}/live",
        location.host().ok()?
    );
    let ws = web_sys::WebSocket::new(&url).ok()?;
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(status) = e.data().as_string().and_then(|t| parse(&t)) {
                on_status(status);
            }
        });
    ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let once = std::cell::Cell::new(Some(on_closed));
    let onclose = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if let Some(f) = once.take() {
            f();
        }
    });
    ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    ws.set_onerror(Some(onclose.as_ref().unchecked_ref()));
    onclose.forget();
    Some(ws)
}

/// Where this browser keeps the method it last paid with (`localStorage`). The pay page's
/// starter script reads it once too (`edge/src/page.rs`), while the wasm is still downloading.
pub const LAST_METHOD_KEY: &str = "paydesk:last_method";

/// The method this browser last paid with successfully.
pub fn remembered_method() -> Option<paydesk_shared::api::PayMethod> {
    let s = web_sys::window()?.local_storage().ok()??;
    paydesk_shared::api::PayMethod::parse(&s.get_item(LAST_METHOD_KEY).ok()??)
}

pub fn remember_method(m: paydesk_shared::api::PayMethod) {
    if let Some(Ok(Some(s))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = s.set_item(LAST_METHOD_KEY, m.as_str());
    }
}

/// 16 random bytes as hex, from the browser's CSPRNG: a one-time submission key.
pub fn submission_key() -> String {
    use crate::page::json::HEX_DIGITS;
    let mut buf = [0u8; 16];
    if let Some(c) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = c.get_random_values_with_u8_array(&mut buf);
    }
    let mut key = String::with_capacity(32);
    for b in buf {
        key.push(HEX_DIGITS[usize::from(b >> 4)].into());
        key.push(HEX_DIGITS[usize::from(b & 15)].into());
    }
    key
}

/// Resolves after `ms` milliseconds (the live status's backoff).
pub async fn sleep_ms(ms: u32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = JsFuture::from(wait).await;
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Tells the embedding page (only the allowed origin it came from) what happened.
pub fn notify_host(origin: &str, kind: &str, out_trade_no: &str, code: Option<&str>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    let msg = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&msg, &"type".into(), &format!("paydesk:{kind}").into());
    let _ = js_sys::Reflect::set(&msg, &"out_trade_no".into(), &out_trade_no.into());
    if let Some(c) = code {
        let _ = js_sys::Reflect::set(&msg, &"code".into(), &c.into());
    }
    let _ = parent.post_message(&msg, origin);
}

/// A server-rendered page's inlined JSON (the script element `data_id`) and its root,
/// `#paydesk-root`.
#[cfg(feature = "browser")]
pub fn inlined(data_id: &str) -> Result<(String, web_sys::Element), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let data = document
        .get_element_by_id(data_id)
        .and_then(|e| e.text_content())
        .ok_or_else(|| JsValue::from_str("no inlined data"))?;
    let root = document
        .get_element_by_id("paydesk-root")
        .ok_or_else(|| JsValue::from_str("no #paydesk-root"))?;
    Ok((data, root))
}

/// Calls `f` with `page`, the event and its target element for every `kind` event under
/// `root`. Heard on the way down (capture), so an event that does not bubble (an image's load
/// and error, a synthetic input) reaches the root too. The listener lives as long as the page.
#[cfg(feature = "browser")]
pub fn listen<P: Clone + 'static>(
    root: &web_sys::Element,
    page: &P,
    kind: &str,
    f: fn(&P, &web_sys::Event, &web_sys::Element),
) {
    let page = page.clone();
    let handler = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
        if let Some(target) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            f(&page, &e, &target);
        }
    });
    let _ = root.add_event_listener_with_callback_and_bool(
        kind,
        handler.as_ref().unchecked_ref(),
        true,
    );
    handler.forget();
}

/// A logo under `root` that loaded or failed before the page's script ran did so unheard: mark
/// it now. The mark set, if any.
#[cfg(feature = "browser")]
pub fn mark_logo(root: &web_sys::Element) -> Option<&'static str> {
    let img = root
        .query_selector("img.pd-logo")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlImageElement>().ok())
        .filter(|i| i.complete())?;
    let mark = if img.natural_width() > 0 {
        "data-loaded"
    } else {
        "data-failed"
    };
    let _ = img.set_attribute(mark, "");
    Some(mark)
}

/// The page has taken over: load can be measured from outside (the bench and the black-box
/// tests wait for these).
#[cfg(feature = "browser")]
pub fn mark_ready(root: &web_sys::Element) {
    let _ = root.set_attribute("data-paydesk-ready", "");
    if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
        let _ = perf.mark("paydesk:interactive");
    }
}
