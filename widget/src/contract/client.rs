//! The contract page in the browser: reads the inlined data, takes over the worker's markup
//! (keeping anything typed before the wasm came), and from then on every event becomes an
//! [`Edit`] on the pure [`Signing`] form, after which the page renders again and morphs the
//! document into it. A submit the worker would refuse is stopped and the reason shown; one it
//! would take posts as the HTML form it is.

use super::page::render;
use super::sign::{Edit, Signing};
use crate::api;
use crate::page::morph::morph_into;
use crate::page::snapshot::input;
use paydesk_shared::api::PayMethod;
use paydesk_shared::contract::{ContractPageData, ContractStatus};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlInputElement};

/// One contract page: what it was given, the form, and what the document shows.
struct Page {
    data: ContractPageData,
    form: Signing,
    logo: Option<&'static str>,
    root: Element,
    /// The markup the document holds: nothing to do when a change renders the same.
    shown: String,
}

type Shared = Rc<RefCell<Page>>;

/// Hydrates the server-rendered contract page from its inlined data. Called by the contract
/// page's starter; built into its own wasm (feature `contract-page`), so the pay page does not
/// carry the contract page.
#[wasm_bindgen]
pub fn mount_contract() -> Result<(), JsValue> {
    let (data, root) = api::inlined("paydesk-contract-data")?;
    let data: ContractPageData =
        api::parse(&data).ok_or_else(|| JsValue::from_str("bad #paydesk-contract-data"))?;
    let logo = api::mark_logo(&root);
    let first = Signing::seeded(&data.seed);
    let shown = render(&data, &first, logo);
    let mut form = first;
    if data.view.status == ContractStatus::Pending {
        for e in snapshot(&root) {
            form.edit(e);
        }
    }
    let page = Rc::new(RefCell::new(Page {
        data,
        form,
        logo,
        root: root.clone(),
        shown,
    }));
    show(&page);
    listen(&page);
    api::mark_ready(&root);
    Ok(())
}

/// Renders and morphs the document into it, when that changes anything.
fn show(page: &Shared) {
    let mut p = page.borrow_mut();
    let markup = render(&p.data, &p.form, p.logo);
    if markup != p.shown {
        morph_into(&p.root, &markup);
        p.shown = markup;
    }
}

fn edit(page: &Shared, e: Edit) {
    page.borrow_mut().form.edit(e);
    show(page);
}

/// Every event of the page, heard once at its root (`api::listen`).
fn listen(page: &Shared) {
    let root = page.borrow().root.clone();
    let on = |kind: &str, f: fn(&Shared, &Event, &Element)| api::listen(&root, page, kind, f);
    on("input", |page, _, el| {
        if let Some(e) = field_edit(el) {
            edit(page, e);
        }
    });
    on("change", |page, _, el| {
        if let Some(e) = choice_edit(el) {
            edit(page, e);
        }
    });
    on("click", on_click);
    on("submit", on_submit);
    on("load", |page, _, el| logo(page, el, "data-loaded"));
    on("error", |page, _, el| logo(page, el, "data-failed"));
}

/// A card field typed in.
fn field_edit(el: &Element) -> Option<Edit> {
    let value = el.unchecked_ref::<HtmlInputElement>().value();
    Some(match el.id().as_str() {
        "pd-card-number" => Edit::Number(value),
        "pd-card-exp" => Edit::Expiry(value),
        "pd-card-cvc" => Edit::Cvc(value),
        _ => return None,
    })
}

/// A method, a wallet or the consent box chosen.
fn choice_edit(el: &Element) -> Option<Edit> {
    let input = el.unchecked_ref::<HtmlInputElement>();
    match el.get_attribute("name").as_deref()? {
        "method" => PayMethod::parse(&input.value()).map(Edit::Method),
        "wallet" => Some(Edit::Wallet(input.value())),
        "consent" => Some(Edit::Consent(input.checked())),
        _ => None,
    }
}

/// The language switch: the same page in the other language, what was typed kept.
fn on_click(page: &Shared, e: &Event, el: &Element) {
    if el.closest("[data-act=lang]").ok().flatten().is_none() {
        return;
    }
    e.prevent_default();
    let other = page.borrow().form.lang.other();
    edit(page, Edit::Lang(other));
}

/// The signing form is checked at the clock the worker rendered the page at (the worker checks
/// a post at its own, `SignPost::instrument`); only an entry the worker would take posts.
fn on_submit(page: &Shared, e: &Event, el: &Element) {
    if el.id() != "pd-contract-form" {
        return;
    }
    let ok = {
        let mut p = page.borrow_mut();
        let now = p.data.seed.now_ms;
        p.form.submit(now)
    };
    if !ok {
        e.prevent_default();
    }
    show(page);
}

/// The merchant's logo said whether it loaded: renders keep the mark from now on.
fn logo(page: &Shared, el: &Element, mark: &'static str) {
    if el.tag_name() == "IMG" && el.class_list().contains("pd-logo") {
        page.borrow_mut().logo = Some(mark);
        show(page);
    }
}

/// What the payer did to the worker's form before the wasm came, as edits.
fn snapshot(root: &Element) -> Vec<Edit> {
    let found = crate::page::snapshot::snapshot(root, "#pd-contract-form");
    let mut edits: Vec<Edit> = found.method.map(Edit::Method).into_iter().collect();
    edits.extend(found.wallet.map(Edit::Wallet));
    edits.push(Edit::Number(found.number));
    edits.push(Edit::Expiry(found.expiry));
    edits.push(Edit::Cvc(found.cvc));
    let consent = input(root, "input[name=consent]").is_some_and(|i| i.checked());
    edits.push(Edit::Consent(consent));
    edits
}
