//! The pay page in the browser: reads the inlined data, takes over the server-rendered markup,
//! and from then on every event becomes an [`Action`] on the pure [`State`], after which the
//! page renders again and morphs the document into it. Side effects (the pay request, the live
//! status, the ticking clock, the embedding page's events) start here and come back as actions.

use super::{morph::morph_into, render, snapshot::snapshot, Frame, Restore};
use crate::api;
use crate::i18n::Lang;
use crate::state::{Action, Phase, State};
use paydesk_shared::api::PayMethod;
use paydesk_shared::{PayOutcome, PayPageData};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlInputElement};

/// One pay page: its state, where it is shown, and what it was given.
struct Page {
    state: Rc<State>,
    frame: Frame,
    root: Element,
    embed_origin: Option<String>,
    /// The page's clock less the browser's: the deadline is on the merchant's clock (its test
    /// clock included), which a phone's clock, set wrong, must not move.
    clock_offset_ms: i64,
    /// The markup the document holds (at first the worker's, if it rendered the page; then
    /// the last put in): nothing to do when a change renders the same.
    shown: String,
}

type Shared = Rc<RefCell<Page>>;

/// Takes over `root`, which holds the worker's rendering of `data` or nothing: puts `restore`
/// back over the first state, renders, and listens. `live` starts the clock and the status
/// socket (off in component tests, which drive the state).
pub fn start(
    root: &Element,
    data: PayPageData,
    lang: Option<Lang>,
    now_ms: Option<i64>,
    restore: Restore,
    live: bool,
) {
    let fresh = super::is_fresh(&data.seed);
    // The phase depends on the clock: seed the state with the page's own clock, not patch it.
    let lang = lang.unwrap_or_else(|| Lang::from_tag(&data.seed.lang));
    let mut state = Rc::new(State::seeded(
        &data,
        lang,
        now_ms.unwrap_or(data.seed.now_ms),
    ));
    for a in restore.actions(&state, fresh) {
        state = state.reduce(a);
    }
    let mut frame = Frame::of(&data);
    frame.logo = api::mark_logo(root);
    // The worker rendered `data`'s first state into `root` (and the logo's mark is now set in
    // the document too): when the page's own first rendering is the same, hydrating morphs
    // nothing, so it need not walk the document to find that out.
    let shown = match root.first_element_child() {
        Some(_) => super::render(&super::first_state(&data), &frame),
        None => String::new(),
    };
    let page = Rc::new(RefCell::new(Page {
        state,
        frame,
        root: root.clone(),
        embed_origin: data.embed_origin.clone(),
        clock_offset_ms: clock_offset(now_ms.unwrap_or(data.seed.now_ms), api::now_ms()),
        shown,
    }));
    show(&page);
    listen(&page);
    embed_event(&page);
    if live {
        tick(&page);
        live_status(&page, 0);
    }
}

/// The page's entry point, called by its module script.
#[wasm_bindgen]
pub fn mount() -> Result<(), JsValue> {
    let (data, root) = api::inlined("paydesk-data")?;
    let data: PayPageData =
        api::parse(&data).ok_or_else(|| JsValue::from_str("bad #paydesk-data"))?;
    let mut restore = if root.first_element_child().is_some() {
        snapshot(&root, "#pd-form")
    } else {
        Restore::default()
    };
    restore.remembered = api::remembered_method();
    let lang = data.seed.lang.is_empty().then(Lang::detect);
    let now = (data.seed.now_ms == 0).then(api::now_ms);
    start(&root, data, lang, now, restore, true);
    api::mark_ready(&root);
    Ok(())
}

/// Applies `action`; renders and starts the effects the change calls for.
fn dispatch(page: &Shared, action: Action) {
    let (before, after) = {
        let mut p = page.borrow_mut();
        let before = p.state.clone();
        p.state = before.clone().reduce(action);
        (before, p.state.clone())
    };
    if Rc::ptr_eq(&before, &after) {
        return;
    }
    show(page);
    if after.submissions != before.submissions && after.phase == Phase::Submitting {
        pay(page, &after);
    }
    if after.phase != before.phase {
        embed_event(page);
    }
}

/// Renders the state and morphs the document into it.
fn show(page: &Shared) {
    let mut p = page.borrow_mut();
    let markup = render(&p.state, &p.frame);
    if markup != p.shown {
        if p.root.first_element_child().is_some() {
            morph_into(&p.root, &markup);
        } else {
            p.root.set_inner_html(&markup);
        }
        p.shown = markup;
    }
}

/// One pay request per accepted submission; its answer comes back as an action. A successful
/// method is remembered for this browser's next order.
fn pay(page: &Shared, s: &State) {
    let Ok(req) = s.pay_request() else {
        return;
    };
    let (page, method, token) = (page.clone(), s.method, page.borrow().frame.token.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let answer = api::pay(&token, &req).await;
        if matches!(answer, PayOutcome::Paid | PayOutcome::InReview) {
            api::remember_method(method);
        }
        dispatch(&page, answer.into());
    });
}

/// Tells the embedding page (only the allowed origin it came from) that the order was paid or
/// failed, once per outcome: `www/embed.js` turns these into the host's DOM events.
fn embed_event(page: &Shared) {
    let p = page.borrow();
    let Some(origin) = &p.embed_origin else {
        return;
    };
    let otn = &p.state.view.out_trade_no;
    match &p.state.phase {
        // Paid into the merchant's risk review: the host must not ship yet, and hears so.
        Phase::Paid => {
            let review = p.state.view.in_review.then_some("IN_REVIEW");
            api::notify_host(origin, "paid", otn, review)
        }
        Phase::Failed { code, .. } => api::notify_host(origin, "failed", otn, Some(code)),
        Phase::Blocked => api::notify_host(origin, "failed", otn, Some("ORDER_NOT_PAYABLE")),
        _ => {}
    }
}

/// Every event of the page, heard once at its root.
fn listen(page: &Shared) {
    let root = page.borrow().root.clone();
    let on = |kind: &str, f: fn(&Shared, &Event, &Element)| api::listen(&root, page, kind, f);
    on("input", on_input);
    on("change", on_change);
    on("click", on_click);
    on("submit", |page, e, _| {
        e.prevent_default();
        submit(page);
    });
    on("load", |page, _, el| logo(page, el, "data-loaded"));
    on("error", |page, _, el| logo(page, el, "data-failed"));
}

fn on_input(page: &Shared, _: &Event, el: &Element) {
    let value = || el.unchecked_ref::<HtmlInputElement>().value();
    let action = match el.id().as_str() {
        "pd-card-number" => Action::EditCardNumber(value()),
        "pd-card-exp" => Action::EditExpiry(value()),
        "pd-card-cvc" => Action::EditCvc(value()),
        _ => return,
    };
    dispatch(page, action);
}

fn on_change(page: &Shared, _: &Event, el: &Element) {
    let value = el.unchecked_ref::<HtmlInputElement>().value();
    match el.get_attribute("name").as_deref() {
        Some("method") => {
            if let Some(m) = PayMethod::parse(&value) {
                dispatch(page, Action::SelectMethod(m));
            }
        }
        Some("wallet") => dispatch(page, Action::SelectWallet(value)),
        _ => {}
    }
}

fn on_click(page: &Shared, e: &Event, el: &Element) {
    let Some(act) = el.closest("[data-act]").ok().flatten() else {
        return;
    };
    e.prevent_default();
    match act.get_attribute("data-act").as_deref() {
        Some("lang") => {
            let other = page.borrow().state.lang.other();
            dispatch(page, Action::SetLang(other));
        }
        Some("refresh") => poll(page),
        Some("retry") => {
            if page.borrow().state.retry_resends() {
                submit(page);
            } else {
                dispatch(page, Action::Dismiss);
            }
        }
        Some("return") => return_to_merchant(page),
        _ => {}
    }
}

/// Submits with a fresh one-time key from the browser's CSPRNG; the reducer keeps the previous
/// key instead when this retries a lost answer, so that retry cannot pay twice.
fn submit(page: &Shared) {
    dispatch(
        page,
        Action::Submit {
            key: api::submission_key(),
        },
    );
}

/// In an embedding page, asks it to close the overlay; on a page of its own, goes back.
fn return_to_merchant(page: &Shared) {
    let p = page.borrow();
    match &p.embed_origin {
        Some(origin) => api::notify_host(origin, "return", &p.state.view.out_trade_no, None),
        None => {
            if let Some(w) = web_sys::window() {
                let _ = w.history().and_then(|h| h.back());
            }
        }
    }
}

/// The merchant's logo said whether it loaded: renders keep the mark from now on.
fn logo(page: &Shared, el: &Element, mark: &'static str) {
    if el.tag_name() == "IMG" && el.class_list().contains("pd-logo") {
        page.borrow_mut().frame.logo = Some(mark);
        show(page);
    }
}

/// Moves the page's clock every second: the countdown runs and the form closes at the
/// deadline without a reload.
fn tick(page: &Shared) {
    let page = page.clone();
    let offset = page.borrow().clock_offset_ms;
    let handler =
        Closure::<dyn Fn()>::new(move || dispatch(&page, Action::Tick(api::now_ms() + offset)));
    if let Some(w) = web_sys::window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(
            handler.as_ref().unchecked_ref(),
            1000,
        );
    }
    handler.forget();
}

/// How far the page's clock (`page_ms`, the worker's, when it rendered the page) is ahead of the
/// browser's (`browser_ms`, at the start); none without a rendered clock.
fn clock_offset(page_ms: i64, browser_ms: i64) -> i64 {
    if page_ms == 0 {
        0
    } else {
        page_ms - browser_ms
    }
}

/// One status poll ("refresh status", and while the socket is down); no answer changes nothing.
fn poll(page: &Shared) {
    let page = page.clone();
    wasm_bindgen_futures::spawn_local(async move { poll_now(&page).await });
}

async fn poll_now(page: &Shared) {
    let token = page.borrow().frame.token.clone();
    if let Some(status) = api::status(&token).await {
        dispatch(page, Action::Status(status));
    }
}

/// Keeps the order's status current while the page is open: a paid-elsewhere, closed or
/// approved order changes the page at once. Listens on the live socket; when it drops, polls,
/// backs off 1 s, 2 s, 4 s ... 15 s, polls again and opens a new socket.
fn live_status(page: &Shared, attempt: u32) {
    let token = page.borrow().frame.token.clone();
    let (on_status, on_closed) = (page.clone(), page.clone());
    let socket = api::live(
        &token,
        move |st| dispatch(&on_status, Action::Status(st)),
        move || {
            wasm_bindgen_futures::spawn_local(async move {
                poll_now(&on_closed).await;
                api::sleep_ms(1000 * (1u32 << attempt.min(4)).min(15)).await;
                poll_now(&on_closed).await;
                live_status(&on_closed, attempt + 1);
            });
        },
    );
    // The socket lives as long as the page; its handlers hold what they need.
    std::mem::forget(socket);
}
