//! The merchant console (`/console`), its own wasm (feature `console-page`): staff sign in and
//! see the dashboard, decide approvals and risk reviews, search orders and refund them, follow
//! contracts, subscriptions and installment plans, download settlements, fee reports and bills,
//! change the merchant's rules and branding with a live preview of the pay page, and read
//! alerts. Everything it shows and does goes through `/console/api`, where the
//! merchant's object checks the session and the role for every request; the page only hides
//! what the role cannot do.

mod alerts;
mod api;
mod approvals;
mod channels;
mod dashboard;
mod kit;
mod money;
mod orders;
mod settings;

use crate::i18n::Lang;
use kit::{error_line, field, t, Session};
use serde_json::json;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Dashboard,
    Approvals,
    Orders,
    Automation,
    Money,
    Settings,
    Alerts,
}

const TABS: [(Tab, &str, &str); 7] = [
    (Tab::Dashboard, "概览", "Dashboard"),
    (Tab::Approvals, "待审批", "Approvals"),
    (Tab::Orders, "订单", "Orders"),
    (Tab::Automation, "自动扣款", "Automation"),
    (Tab::Money, "资金", "Money"),
    (Tab::Settings, "规则与品牌", "Rules and branding"),
    (Tab::Alerts, "告警", "Alerts"),
];

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
            let body = json!({
                "merchant_id": field("c-merchant"),
                "email": field("c-email"),
                "password": field("c-password"),
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
            { error_line(&error) }
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
    let tab = use_state(|| Tab::Dashboard);
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
    let tab_button = |(which, zh, en): &(Tab, &'static str, &'static str)| {
        let (tab, which) = (tab.clone(), *which);
        let current = *tab == which;
        html! {
            <button type="button" role="tab" aria-selected={current.to_string()}
                onclick={Callback::from(move |_| tab.set(which))}>{ t(l, zh, en) }</button>
        }
    };
    let (lang, session) = (l, p.session.clone());
    html! {
        <main class="console-main">
            <p class="console-who">
                <span data-testid="who">{ format!("{} · {}", p.session.email, p.session.role) }</span>
                <button type="button" class="link" onclick={sign_out}>{ t(l, "退出", "Sign out") }</button>
            </p>
            <nav role="tablist" aria-label={t(l, "控制台", "Console")}>{ for TABS.iter().map(tab_button) }</nav>
            <div role="tabpanel">
            {
                match *tab {
                    Tab::Dashboard => html! { <dashboard::Dashboard {lang} {session} /> },
                    Tab::Approvals => html! { <approvals::Approvals {lang} {session} /> },
                    Tab::Orders => html! { <orders::Orders {lang} {session} /> },
                    Tab::Automation => html! { <money::Automation {lang} {session} /> },
                    Tab::Money => html! { <money::Money {lang} {session} /> },
                    Tab::Settings => html! { <settings::Settings {lang} {session} /> },
                    Tab::Alerts => html! { <alerts::Alerts {lang} {session} /> },
                }
            }
            </div>
        </main>
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
