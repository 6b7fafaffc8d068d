//! paydesk-widget: the pay page. The edge serves a page with the order's [`PayPageData`]
//! inlined as JSON in `#paydesk-data`; [`mount`] reads it and renders [`App`] into
//! `#paydesk-root`. Behaviour lives in the pure reducer of [`state`]; [`api`] is the only module
//! that talks to the edge.

pub mod api;
pub mod app;
pub mod components;
pub mod i18n;
pub mod state;

pub use app::{App, AppProps};
use paydesk_shared::PayPageData;
use wasm_bindgen::prelude::*;

/// Reads the inlined checkout data and renders the pay page. Called by the page's module script.
#[wasm_bindgen]
pub fn mount() -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let data = document
        .get_element_by_id("paydesk-data")
        .and_then(|e| e.text_content())
        .ok_or_else(|| JsValue::from_str("no #paydesk-data"))?;
    let data: PayPageData = serde_json::from_str(&data)
        .map_err(|e| JsValue::from_str(&format!("bad #paydesk-data: {e}")))?;
    let root = document
        .get_element_by_id("paydesk-root")
        .ok_or_else(|| JsValue::from_str("no #paydesk-root"))?;
    root.set_inner_html("");
    let props = AppProps {
        data,
        lang: i18n::Lang::detect(),
        now_ms: api::now_ms(),
        live: true,
    };
    // The page lives as long as the document: the app handle is intentionally never destroyed.
    let handle = yew::Renderer::<App>::with_root_and_props(root.clone(), props).render();
    std::mem::forget(handle);
    // Load can be measured from outside (DESIGN.md §5).
    let _ = root.set_attribute("data-paydesk-ready", "");
    if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
        let _ = perf.mark("paydesk:interactive");
    }
    Ok(())
}
