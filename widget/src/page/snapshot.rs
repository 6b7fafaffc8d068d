//! What a server-rendered form holds just before the wasm takes it over: the payer may have
//! used it already. The pay and contract pages' forms name their fields alike.

use super::Restore;
use paydesk_shared::api::PayMethod;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement};

/// The form `form` (a selector) under `root`: the checked method and wallet and the card fields.
pub fn snapshot(root: &Element, form: &str) -> Restore {
    let value = |sel: &str| input(root, sel).map(|i| i.value()).unwrap_or_default();
    Restore {
        method: input(root, &format!("{form} input[name=method]:checked"))
            .and_then(|i| PayMethod::parse(&i.value())),
        wallet: input(root, &format!("{form} input[name=wallet]:checked")).map(|i| i.value()),
        number: value("#pd-card-number"),
        expiry: value("#pd-card-exp"),
        cvc: value("#pd-card-cvc"),
        remembered: None,
    }
}

/// The input `sel` finds under `root`, if any.
pub fn input(root: &Element, sel: &str) -> Option<HtmlInputElement> {
    root.query_selector(sel)
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
}
