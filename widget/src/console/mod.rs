//! The merchant console (`/console`), its own wasm (feature `console-page`): staff sign in, see
//! what waits for approval and decide it, search orders, and read alerts. Everything it shows
//! and does goes through `/console/api`, where the merchant's object checks the session and the
//! role for every request; the page only hides what the role cannot do.

mod api;

use crate::i18n::Lang;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use yew::prelude::*;

/// Picks the text of the console's language.
fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// Who is signed in, and the CSRF token their changes carry.
#[derive(Clone, PartialEq)]
struct Session {
    email: String,
    role: String,
    csrf: String,
}

impl Session {
    fn of(v: &Value) -> Session {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        Session {
            email: s("email"),
            role: s("role"),
            csrf: s("csrf_token"),
        }
    }

    fn approves(&self) -> bool {
        matches!(self.role.as_str(), "approver" | "admin")
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Approvals,
    Orders,
    Alerts,
}

/// The whole console: signing in, then the tabs.
#[function_component(ConsoleApp)]
pub fn console_app() -> Html {
    let lang = use_state(Lang::detect);
    let session = use_state(|| None::<Session>);
    let checked = use_state(|| false);
    {
        let (session, checked) = (session.clone(), checked.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let me = api::call("GET", "/me", None, "").await;
                if me.ok() {
                    session.set(Some(Session::of(&me.json)));
                }
                checked.set(true);
            });
        });
    }
    let toggle = {
        let lang = lang.clone();
        Callback::from(move |_| {
            lang.set(if *lang == Lang::Zh {
                Lang::En
            } else {
                Lang::Zh
            })
        })
    };
    let body = match (&*session, *checked) {
        (_, false) => html! {},
        (None, true) => html! { <SignIn lang={*lang} on_signed_in={
            let session = session.clone();
            Callback::from(move |s| session.set(Some(s)))
        } /> },
        (Some(s), true) => html! { <Signed lang={*lang} session={s.clone()} on_signed_out={
            let session = session.clone();
            Callback::from(move |_| session.set(None))
        } /> },
    };
    html! {
        <div class="console" lang={if *lang == Lang::Zh { "zh-CN" } else { "en" }}>
            <header class="console-bar">
                <strong>{ t(*lang, "paydesk 商户控制台", "paydesk console") }</strong>
                <button type="button" class="link" onclick={toggle}>
                    { t(*lang, "English", "中文") }
                </button>
            </header>
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SignInProps {
    lang: Lang,
    on_signed_in: Callback<Session>,
}

#[function_component(SignIn)]
fn sign_in(p: &SignInProps) -> Html {
    let error = use_state(String::new);
    let onsubmit = {
        let (error, done) = (error.clone(), p.on_signed_in.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = |id: &str| {
                use wasm_bindgen::JsCast;
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(id))
                    .and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .map(|i| i.value())
                    .unwrap_or_default()
            };
            let body = json!({
                "merchant_id": value("c-merchant"),
                "email": value("c-email"),
                "password": value("c-password"),
            });
            let (error, done) = (error.clone(), done.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = api::call("POST", "/sign-in", Some(body), "").await;
                if a.ok() {
                    done.emit(Session::of(&a.json));
                } else {
                    error.set(a.message());
                }
            });
        })
    };
    let l = p.lang;
    html! {
        <form class="console-sign-in" {onsubmit} aria-label={t(l, "登录", "Sign in")}>
            <h1>{ t(l, "登录", "Sign in") }</h1>
            <label for="c-merchant">{ t(l, "商户号", "Merchant ID") }</label>
            <input id="c-merchant" name="merchant_id" autocomplete="username" required=true />
            <label for="c-email">{ t(l, "邮箱", "Email") }</label>
            <input id="c-email" name="email" type="email" autocomplete="email" required=true />
            <label for="c-password">{ t(l, "密码", "Password") }</label>
            <input id="c-password" name="password" type="password" autocomplete="current-password" required=true />
            if !error.is_empty() {
                <p class="console-error" role="alert">{ (*error).clone() }</p>
            }
            <button type="submit">{ t(l, "登录", "Sign in") }</button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct SignedProps {
    lang: Lang,
    session: Session,
    on_signed_out: Callback<()>,
}

#[function_component(Signed)]
fn signed(p: &SignedProps) -> Html {
    let tab = use_state(|| Tab::Approvals);
    let l = p.lang;
    let sign_out = {
        let (csrf, done) = (p.session.csrf.clone(), p.on_signed_out.clone());
        Callback::from(move |_| {
            let (csrf, done) = (csrf.clone(), done.clone());
            wasm_bindgen_futures::spawn_local(async move {
                api::call("POST", "/sign-out", None, &csrf).await;
                done.emit(());
            });
        })
    };
    let tab_button = |which: Tab, zh: &'static str, en: &'static str| {
        let tab = tab.clone();
        let current = *tab == which;
        html! {
            <button type="button" role="tab" aria-selected={current.to_string()}
                onclick={Callback::from(move |_| tab.set(which))}>{ t(l, zh, en) }</button>
        }
    };
    html! {
        <main class="console-main">
            <p class="console-who">
                <span data-testid="who">{ format!("{} · {}", p.session.email, p.session.role) }</span>
                <button type="button" class="link" onclick={sign_out}>{ t(l, "退出", "Sign out") }</button>
            </p>
            <nav role="tablist">
                { tab_button(Tab::Approvals, "待审批", "Approvals") }
                { tab_button(Tab::Orders, "订单", "Orders") }
                { tab_button(Tab::Alerts, "告警", "Alerts") }
            </nav>
            {
                match *tab {
                    Tab::Approvals => html! { <Approvals lang={l} session={p.session.clone()} /> },
                    Tab::Orders => html! { <Orders lang={l} /> },
                    Tab::Alerts => html! { <Alerts lang={l} /> },
                }
            }
        </main>
    }
}

#[derive(Properties, PartialEq)]
struct TabProps {
    lang: Lang,
    #[prop_or_default]
    session: Option<Session>,
}

/// Loads `path` into a state when the tab opens and each time `reload` changes.
#[hook]
fn use_loaded(path: String, reload: u32) -> UseStateHandle<Option<Value>> {
    let data = use_state(|| None::<Value>);
    {
        let data = data.clone();
        use_effect_with((path, reload), move |(path, _)| {
            let path = path.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let a = api::call("GET", &path, None, "").await;
                data.set(Some(a.json));
            });
        });
    }
    data
}

#[function_component(Approvals)]
fn approvals(p: &TabProps) -> Html {
    let reload = use_state(|| 0u32);
    let error = use_state(String::new);
    let data = use_loaded("/approvals".into(), *reload);
    let l = p.lang;
    let session = p.session.clone().unwrap_or(Session {
        email: String::new(),
        role: String::new(),
        csrf: String::new(),
    });
    let decide = |id: String, verb: &'static str| {
        let (csrf, reload, error) = (session.csrf.clone(), reload.clone(), error.clone());
        Callback::from(move |_| {
            let (id, csrf, reload, error) =
                (id.clone(), csrf.clone(), reload.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let a = api::call("POST", &format!("/approvals/{id}/{verb}"), None, &csrf).await;
                error.set(if a.ok() { String::new() } else { a.message() });
                reload.set(*reload + 1);
            });
        })
    };
    let rows = data
        .as_ref()
        .and_then(|d| d["approvals"].as_array().cloned())
        .unwrap_or_default();
    html! {
        <section aria-label={t(l, "待审批", "Approvals")}>
            if !error.is_empty() { <p class="console-error" role="alert">{ (*error).clone() }</p> }
            if rows.is_empty() { <p data-testid="empty">{ t(l, "没有待审批事项。", "Nothing waits for approval.") }</p> }
            <ul class="console-list">
            { for rows.iter().map(|a| {
                let id = a["approval_id"].as_str().unwrap_or_default().to_owned();
                let who: Vec<&str> = a["approvers"].as_array().map(|v| v.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                html! {
                    <li data-approval={id.clone()}>
                        <span>{ format!("{} {} · {}/{}", a["kind"].as_str().unwrap_or_default(), a["target"].as_str().unwrap_or_default(), who.len(), a["need"]) }</span>
                        if !who.is_empty() { <small>{ format!(" ({})", who.join(", ")) }</small> }
                        if session.approves() {
                            <button type="button" onclick={decide(id.clone(), "approve")}>{ t(l, "批准", "Approve") }</button>
                            <button type="button" onclick={decide(id.clone(), "reject")}>{ t(l, "拒绝", "Reject") }</button>
                        }
                    </li>
                }
            }) }
            </ul>
        </section>
    }
}

#[function_component(Orders)]
fn orders(p: &TabProps) -> Html {
    let number = use_state(String::new);
    let data = use_loaded(format!("/orders?number={}", *number), 0);
    let l = p.lang;
    let oninput = {
        let number = number.clone();
        Callback::from(move |e: InputEvent| {
            use wasm_bindgen::JsCast;
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                number.set(
                    i.value()
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || "_-|*".contains(*c))
                        .collect(),
                );
            }
        })
    };
    let rows = data
        .as_ref()
        .and_then(|d| d["orders"].as_array().cloned())
        .unwrap_or_default();
    html! {
        <section aria-label={t(l, "订单", "Orders")}>
            <label for="c-number">{ t(l, "订单号开头", "Order number starts with") }</label>
            <input id="c-number" type="search" {oninput} />
            <table class="console-table">
                <thead><tr>
                    <th>{ t(l, "订单号", "Number") }</th><th>{ t(l, "状态", "Status") }</th><th>{ t(l, "金额（分）", "Amount (minor units)") }</th>
                </tr></thead>
                <tbody>
                { for rows.iter().map(|o| html! {
                    <tr data-order={o["out_trade_no"].as_str().unwrap_or_default().to_owned()}>
                        <td>{ o["out_trade_no"].as_str().unwrap_or_default() }</td>
                        <td>{ o["status"].as_str().unwrap_or_default() }</td>
                        <td>{ o["amount"]["total"].to_string() }</td>
                    </tr>
                }) }
                </tbody>
            </table>
        </section>
    }
}

#[function_component(Alerts)]
fn alerts(p: &TabProps) -> Html {
    let data = use_loaded("/alerts".into(), 0);
    let l = p.lang;
    let rows = data
        .as_ref()
        .and_then(|d| d["alerts"].as_array().cloned())
        .unwrap_or_default();
    html! {
        <section aria-label={t(l, "告警", "Alerts")}>
            if rows.is_empty() { <p>{ t(l, "没有告警。", "No alerts.") }</p> }
            <ul class="console-list">
            { for rows.iter().map(|a| html! {
                <li>
                    <strong>{ a["type"].as_str().unwrap_or_default() }</strong>
                    { format!(" ×{} · {}", a["count"], a["detail"].as_str().unwrap_or_default()) }
                    if a["open"] == json!(false) { <small>{ t(l, "（已恢复）", " (resolved)") }</small> }
                </li>
            }) }
            </ul>
        </section>
    }
}

/// Renders the console into `#console-root`. Called by `/console.js`.
#[wasm_bindgen]
pub fn mount_console() -> Result<(), JsValue> {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("console-root"))
        .ok_or_else(|| JsValue::from_str("no #console-root"))?;
    let handle = yew::Renderer::<ConsoleApp>::with_root(root.clone()).render();
    // The console lives as long as the document.
    std::mem::forget(handle);
    let _ = root.set_attribute("data-console-ready", "");
    Ok(())
}
