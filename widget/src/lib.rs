//! paydesk-widget: the payer's and the merchant's pages.
//!
//! - The pay page ([`page`]): the worker renders it ([`render_page`]) and inlines the order's
//!   `PayPageData` as JSON in `#paydesk-data`; in the browser (feature `browser`), [`mount`]
//!   takes over that markup with the same data and renderer, so the page is readable and
//!   payable (a real HTML form) before the wasm arrives. Behaviour lives in the pure reducer of
//!   [`state`]; [`api`] is the only module that talks to the edge; [`form`] is what the worker
//!   does with the form when there is no JavaScript.
//! - The contract page ([`contract`], feature `contract-page`) and the merchant console
//!   (`console`, feature `console-page`): Yew components, each built into its own wasm.

pub mod api;
pub mod components;
#[cfg(feature = "console-page")]
pub mod console;
pub mod contract;
pub mod form;
pub mod i18n;
pub mod page;
pub mod state;

pub use page::{render_page, Restore};

#[cfg(feature = "contract-page")]
mod browser {
    use super::*;
    use wasm_bindgen::prelude::*;

    /// Hydrates the server-rendered contract page from its inlined data. Called by the contract
    /// page's module script. Built into its own wasm (feature `contract-page`), so the pay page
    /// does not carry the contract page.
    #[wasm_bindgen]
    pub fn mount_contract() -> Result<(), JsValue> {
        let (data, root) = api::inlined("paydesk-contract-data")?;
        let data: paydesk_shared::contract::ContractPageData = page::json::from_str(&data)
            .ok_or_else(|| JsValue::from_str("bad #paydesk-contract-data"))?;
        let props = contract::ContractAppProps::for_page(data);
        let handle =
            yew::Renderer::<contract::ContractApp>::with_root_and_props(root.clone(), props)
                .hydrate();
        // The app lives as long as the document.
        std::mem::forget(handle);
        components::mark_logo(&root);
        api::mark_ready(&root);
        Ok(())
    }
}

#[cfg(feature = "contract-page")]
pub use browser::mount_contract;
#[cfg(feature = "console-page")]
pub use console::mount_console;
#[cfg(all(
    feature = "browser",
    not(any(feature = "contract-page", feature = "console-page"))
))]
pub use page::client::mount;
