//! Widget tests in a real browser (headless Chromium through wasm-bindgen-test):
//! mount a component, then read the DOM.
#![cfg(target_arch = "wasm32")]

use paydesk_shared::{Branding, CheckoutView, Money, OrderStatus, PayPageData};
use paydesk_widget::i18n::Lang;
use paydesk_widget::{App, AppProps};
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

fn view(name: &str) -> CheckoutView {
    CheckoutView {
        merchant: Branding {
            display_name: name.into(),
            logo_url: Some("/demo/logo.svg".into()),
            filing_text: Some("沪ICP备00000000号".into()),
            theme_color: Some("#0a7d5a".into()),
            guarantee_text: None,
        },
        out_trade_no: "DEMO-0001".into(),
        description: "Tieguanyin oolong 250g".into(),
        amount: Money::cny(1234),
        status: OrderStatus::NotPay,
        time_expire: "2026-11-28T11:22:40Z".into(),
        methods: vec![],
    }
}

fn props(view: CheckoutView, lang: Lang) -> AppProps {
    AppProps {
        data: PayPageData {
            view,
            token: "tok".into(),
            embed_origin: None,
            sandbox: true,
        },
        lang,
        now_ms: 1_795_778_560_000,
        live: false,
    }
}

fn fresh_root() -> Element {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div
}

/// Yields to the browser until `cond` holds on the root (at most ~5 s, then fails).
async fn wait_for(root: &Element, what: &str, cond: impl Fn(&Element) -> bool) {
    for _ in 0..500 {
        if cond(root) {
            return;
        }
        yew::platform::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}; DOM: {}", root.inner_html());
}

fn text_of(root: &Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .map(|e| e.text_content().unwrap_or_default())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn shows_merchant_amount_and_description() {
    let root = fresh_root();
    let props = AppProps {
        view: view("Demo Tea House"),
        lang: Lang::En,
    };
    let _app = yew::Renderer::<App>::with_root_and_props(root.clone(), props).render();
    wait_for(&root, "the amount", |r| {
        text_of(r, ".pd-amount") == "¥12.34"
    })
    .await;
    assert_eq!(text_of(&root, ".pd-merchant-name"), "Demo Tea House");
    assert_eq!(text_of(&root, ".pd-description"), "Tieguanyin oolong 250g");
    assert!(text_of(&root, ".pd-order-no").contains("DEMO-0001"));
    assert_eq!(text_of(&root, ".pd-pay-to"), "Pay to");
    let logo = root.query_selector("img.pd-logo").unwrap().unwrap();
    assert_eq!(logo.get_attribute("src").as_deref(), Some("/demo/logo.svg"));
}

#[wasm_bindgen_test]
async fn speaks_chinese() {
    let root = fresh_root();
    let props = AppProps {
        view: view("演示茶馆"),
        lang: Lang::Zh,
    };
    let _app = yew::Renderer::<App>::with_root_and_props(root.clone(), props).render();
    wait_for(&root, "the header", |r| {
        text_of(r, ".pd-pay-to") == "付款给"
    })
    .await;
    assert_eq!(text_of(&root, ".pd-amount-label"), "应付金额");
    let card = root.query_selector(".pd-card").unwrap().unwrap();
    assert_eq!(card.get_attribute("lang").as_deref(), Some("zh-CN"));
}

#[wasm_bindgen_test]
async fn branding_with_markup_is_shown_as_text() {
    let root = fresh_root();
    let evil = "<img src=x onerror=alert(1)><b>Shop</b>";
    let props = AppProps {
        view: view(evil),
        lang: Lang::En,
    };
    let _app = yew::Renderer::<App>::with_root_and_props(root.clone(), props).render();
    wait_for(&root, "the name", |r| {
        !text_of(r, ".pd-merchant-name").is_empty()
    })
    .await;
    assert_eq!(text_of(&root, ".pd-merchant-name"), evil);
    let name = root.query_selector(".pd-merchant-name").unwrap().unwrap();
    assert_eq!(
        name.child_element_count(),
        0,
        "no elements were created from the name"
    );
    assert!(name.dyn_ref::<web_sys::HtmlElement>().is_some());
}
