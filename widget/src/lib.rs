//! paydesk-widget: the pay page. The worker renders [`App`] for an order on the server (feature
//! `ssr`, [`render_page`]) and inlines the order's [`PayPageData`] as JSON in `#paydesk-data`;
//! in the browser (feature `browser`), [`mount`] hydrates that markup with the same data, so the
//! page is readable and payable (a real HTML form) before the wasm arrives. Behaviour lives in
//! the pure reducer of [`state`]; [`hooks`] hold the side effects; [`api`] is the only module
//! that talks to the edge; [`form`] is what the worker does with the form when there is no
//! JavaScript.

pub mod api;
pub mod app;
pub mod components;
#[cfg(feature = "console-page")]
pub mod console;
pub mod contract;
pub mod form;
pub mod hooks;
pub mod i18n;
pub mod state;

pub use app::{App, AppProps};
pub use hooks::Restore;
use paydesk_shared::PayPageData;

impl AppProps {
    /// The props the page renders with, on the server and when it is hydrated: everything comes
    /// from the inlined data, so both renders see the same thing.
    pub fn for_page(data: PayPageData, restore: Option<Restore>) -> AppProps {
        AppProps {
            lang: i18n::Lang::from_tag(&data.seed.lang),
            now_ms: data.seed.now_ms,
            data,
            live: true,
            restore,
        }
    }
}

/// The pay page's markup for `data`, by the components the browser hydrates: the page is
/// readable and payable before (or without) the wasm.
#[cfg(feature = "ssr")]
pub async fn render_page(data: PayPageData) -> String {
    yew::LocalServerRenderer::<App>::with_props(AppProps::for_page(data, None))
        .hydratable(true)
        .render()
        .await
}

#[cfg(all(feature = "browser", not(feature = "console-page")))]
mod browser {
    use super::*;
    #[cfg(not(any(feature = "contract-page", feature = "console-page")))]
    use paydesk_shared::api::PayMethod;
    use wasm_bindgen::prelude::*;
    #[cfg(not(any(feature = "contract-page", feature = "console-page")))]
    use wasm_bindgen::JsCast;

    /// Reads the inlined checkout data and takes over the server-rendered pay page: hydrates it
    /// when the worker rendered it (putting back what the payer already chose and typed), or
    /// renders it into an empty root. Called by the page's module script.
    #[cfg(not(any(feature = "contract-page", feature = "console-page")))]
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
        let server_rendered = root.first_element_child().is_some();
        let mut restore = if server_rendered {
            snapshot(&document)
        } else {
            Restore::default()
        };
        restore.remembered = api::remembered_method();
        let mut props = AppProps::for_page(data, Some(restore));
        if props.data.seed.lang.is_empty() {
            props.lang = i18n::Lang::detect();
        }
        if props.now_ms == 0 {
            props.now_ms = api::now_ms();
        }
        let renderer = yew::Renderer::<App>::with_root_and_props(root.clone(), props);
        // The page lives as long as the document: the app handle is intentionally never destroyed.
        let handle = if server_rendered {
            renderer.hydrate()
        } else {
            renderer.render()
        };
        std::mem::forget(handle);
        components::mark_logo(&document);
        // Load can be measured from outside (the bench and the black-box tests wait for these).
        let _ = root.set_attribute("data-paydesk-ready", "");
        if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
            let _ = perf.mark("paydesk:interactive");
        }
        Ok(())
    }

    /// Hydrates the server-rendered contract page from its inlined data. Called by the contract
    /// page's module script. Built into its own wasm (feature `contract-page`), so the pay page
    /// does not carry the contract page.
    #[cfg(feature = "contract-page")]
    #[wasm_bindgen]
    pub fn mount_contract() -> Result<(), JsValue> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| JsValue::from_str("no document"))?;
        let data = document
            .get_element_by_id("paydesk-contract-data")
            .and_then(|e| e.text_content())
            .ok_or_else(|| JsValue::from_str("no #paydesk-contract-data"))?;
        let data: paydesk_shared::contract::ContractPageData = serde_json::from_str(&data)
            .map_err(|e| JsValue::from_str(&format!("bad #paydesk-contract-data: {e}")))?;
        let root = document
            .get_element_by_id("paydesk-root")
            .ok_or_else(|| JsValue::from_str("no #paydesk-root"))?;
        let props = contract::ContractAppProps::for_page(data);
        let handle =
            yew::Renderer::<contract::ContractApp>::with_root_and_props(root.clone(), props)
                .hydrate();
        // Like the pay page: the app lives as long as the document.
        std::mem::forget(handle);
        components::mark_logo(&document);
        let _ = root.set_attribute("data-paydesk-ready", "");
        if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
            let _ = perf.mark("paydesk:interactive");
        }
        Ok(())
    }

    /// What the server-rendered form holds right now: the payer may have used it already.
    #[cfg(not(any(feature = "contract-page", feature = "console-page")))]
    fn snapshot(document: &web_sys::Document) -> Restore {
        let input = |sel: &str| {
            document
                .query_selector(sel)
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        };
        let value = |sel: &str| input(sel).map(|i| i.value()).unwrap_or_default();
        Restore {
            method: input("#pd-form input[name=method]:checked")
                .and_then(|i| PayMethod::parse(&i.value())),
            wallet: input("#pd-form input[name=wallet]:checked").map(|i| i.value()),
            number: value("#pd-card-number"),
            expiry: value("#pd-card-exp"),
            cvc: value("#pd-card-cvc"),
            remembered: None,
        }
    }
}

#[cfg(all(
    feature = "browser",
    not(any(feature = "contract-page", feature = "console-page"))
))]
pub use browser::mount;
#[cfg(all(feature = "browser", feature = "contract-page"))]
pub use browser::mount_contract;
#[cfg(feature = "console-page")]
pub use console::mount_console;
