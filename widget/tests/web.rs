//! Widget tests in a real browser (headless Chromium through wasm-bindgen-test): mount the pay
//! page, interact with it, then read the DOM. Built with the pay page's client only: the contract
//! page's and the console's builds (features `contract-page`, `console-page`) leave it out.
#![cfg(all(
    target_arch = "wasm32",
    not(any(feature = "contract-page", feature = "console-page"))
))]

use paydesk_shared::api::PayMethod;
use paydesk_shared::installment::PartOfPlan;
use paydesk_shared::{Branding, CheckoutView, Money, OrderStatus, PayPageData};
use paydesk_widget::i18n::Lang;
use paydesk_widget::page::client::start;
use paydesk_widget::Restore;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

const NOW: i64 = 1_795_778_560_000; // 2026-11-27T11:22:40Z

fn view(name: &str, status: OrderStatus) -> CheckoutView {
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
        status,
        time_expire: "2026-11-27T11:32:40Z".into(),
        methods: vec![PayMethod::CreditCard, PayMethod::Balance],
        installment: None,
        release_days: 7,
        auto_refund_hours: None,
        in_review: false,
        review_hours: 24,
    }
}

fn mount(view: CheckoutView, lang: Lang) -> Element {
    let doc = web_sys::window().unwrap().document().unwrap();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    let data = PayPageData {
        view,
        token: "no-such-token".into(),
        embed_origin: None,
        sandbox: true,
        seed: Default::default(),
    };
    // No clock and no status socket: the tests drive the page.
    start(
        &root,
        data,
        Some(lang),
        Some(NOW),
        Restore::default(),
        false,
    );
    root
}

/// Yields to the browser until `cond` holds on the root (at most ~5 s, then fails).
async fn wait_for(root: &Element, what: &str, cond: impl Fn(&Element) -> bool) {
    for _ in 0..500 {
        if cond(root) {
            return;
        }
        paydesk_widget::api::sleep_ms(10).await;
    }
    panic!("timed out waiting for {what}; DOM: {}", root.inner_html());
}

fn text_of(root: &Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .map(|e| e.text_content().unwrap_or_default())
        .unwrap_or_default()
}

fn input(root: &Element, selector: &str) -> HtmlInputElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap()
}

/// Types into an input as a person would: set the value, fire `input`.
fn type_into(root: &Element, selector: &str, value: &str) {
    let el = input(root, selector);
    el.set_value(value);
    let ev = web_sys::InputEvent::new("input").unwrap();
    el.dispatch_event(&ev).unwrap();
}

#[wasm_bindgen_test]
async fn shows_merchant_amount_description_and_guarantee() {
    let root = mount(view("Demo Tea House", OrderStatus::NotPay), Lang::En);
    wait_for(&root, "the amount", |r| {
        text_of(r, ".pd-amount") == "¥12.34"
    })
    .await;
    assert_eq!(text_of(&root, ".pd-merchant-name"), "Demo Tea House");
    assert_eq!(text_of(&root, ".pd-description"), "Tieguanyin oolong 250g");
    assert!(text_of(&root, ".pd-order-no").contains("DEMO-0001"));
    assert!(text_of(&root, "[data-testid=guarantee]").contains("held by the platform"));
    assert_eq!(text_of(&root, "[data-testid=countdown]"), "10:00");
    let logo = root.query_selector("img.pd-logo").unwrap().unwrap();
    assert_eq!(logo.get_attribute("src").as_deref(), Some("/demo/logo.svg"));
    // The first allowed method is chosen, and card fields ask for the numeric keyboard.
    assert!(input(&root, "#pd-method-credit_card").checked());
    assert_eq!(
        input(&root, "#pd-card-number")
            .get_attribute("inputmode")
            .as_deref(),
        Some("numeric")
    );
    assert_eq!(
        input(&root, "#pd-card-exp")
            .get_attribute("autocomplete")
            .as_deref(),
        Some("cc-exp")
    );
}

#[wasm_bindgen_test]
async fn a_part_of_an_installment_plan_says_which_and_what_is_left() {
    let mut v = view("Piano House", OrderStatus::NotPay);
    v.installment = Some(PartOfPlan {
        part: 2,
        parts: 3,
        label: Some("尾款".into()),
        remaining_after: Money::cny(400_000),
    });
    let root = mount(v.clone(), Lang::Zh);
    wait_for(&root, "the part", |r| {
        text_of(r, "[data-testid=installment]").contains("第 2 期，共 3 期 · 尾款")
    })
    .await;
    assert!(text_of(&root, "[data-testid=installment]").contains("本期付款后还需支付 ¥4,000.00"));
    v.installment.as_mut().unwrap().remaining_after = Money::cny(0);
    let last = mount(v, Lang::En);
    wait_for(&last, "the last part", |r| {
        text_of(r, "[data-testid=installment]").contains("part 2 of 3")
    })
    .await;
    assert!(text_of(&last, "[data-testid=installment]").contains("This is the last part"));
    // An ordinary order says nothing of parts.
    let plain = mount(view("Tea", OrderStatus::NotPay), Lang::En);
    wait_for(&plain, "the amount", |r| {
        text_of(r, ".pd-amount") == "¥12.34"
    })
    .await;
    assert!(plain
        .query_selector("[data-testid=installment]")
        .unwrap()
        .is_none());
}

#[wasm_bindgen_test]
async fn card_number_and_expiry_are_formatted_as_typed() {
    let root = mount(view("Shop", OrderStatus::NotPay), Lang::En);
    wait_for(&root, "the form", |r| {
        r.query_selector("#pd-card-number").unwrap().is_some()
    })
    .await;
    type_into(&root, "#pd-card-number", "4242424242424242");
    wait_for(&root, "grouping", |r| {
        input(r, "#pd-card-number").value() == "4242 4242 4242 4242"
    })
    .await;
    type_into(&root, "#pd-card-exp", "1235");
    wait_for(&root, "MM/YY", |r| {
        input(r, "#pd-card-exp").value() == "12/35"
    })
    .await;
    type_into(&root, "#pd-card-cvc", "12a3");
    wait_for(&root, "digits only", |r| {
        input(r, "#pd-card-cvc").value() == "123"
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_bad_card_number_is_pointed_out_before_sending() {
    let root = mount(view("Shop", OrderStatus::NotPay), Lang::En);
    wait_for(&root, "the form", |r| {
        r.query_selector("#pd-card-number").unwrap().is_some()
    })
    .await;
    type_into(&root, "#pd-card-number", "4242424242424241");
    let button: web_sys::HtmlElement = root
        .query_selector("[data-testid=pay]")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    button.click();
    wait_for(&root, "the field error", |r| {
        !text_of(r, ".pd-field-error").is_empty()
    })
    .await;
    assert_eq!(text_of(&root, ".pd-field-error"), "Check the card number");
    assert_eq!(
        input(&root, "#pd-card-number")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
}

#[wasm_bindgen_test]
async fn a_lost_connection_keeps_what_was_typed() {
    // The token names no order on the test server: the pay call fails like a lost network.
    let root = mount(view("Shop", OrderStatus::NotPay), Lang::En);
    wait_for(&root, "the form", |r| {
        r.query_selector("#pd-card-number").unwrap().is_some()
    })
    .await;
    type_into(&root, "#pd-card-number", "4242424242424242");
    type_into(&root, "#pd-card-exp", "1235");
    type_into(&root, "#pd-card-cvc", "123");
    let button: web_sys::HtmlElement = root
        .query_selector("[data-testid=pay]")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    button.click();
    wait_for(&root, "the network prompt", |r| {
        r.query_selector("[data-testid=network-lost]")
            .unwrap()
            .is_some()
    })
    .await;
    assert_eq!(
        input(&root, "#pd-card-number").value(),
        "4242 4242 4242 4242"
    );
    assert!(text_of(&root, "[data-testid=network-lost]").contains("not be charged twice"));
}

#[wasm_bindgen_test]
async fn speaks_chinese_and_switches_language() {
    let root = mount(view("演示茶馆", OrderStatus::NotPay), Lang::Zh);
    wait_for(&root, "the header", |r| {
        text_of(r, ".pd-pay-to") == "付款给"
    })
    .await;
    assert_eq!(text_of(&root, ".pd-amount-label"), "应付金额");
    let card = root.query_selector(".pd-card").unwrap().unwrap();
    assert_eq!(card.get_attribute("lang").as_deref(), Some("zh-CN"));
    let switch: web_sys::HtmlElement = root
        .query_selector("[data-testid=lang]")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    switch.click();
    wait_for(&root, "English", |r| text_of(r, ".pd-pay-to") == "Pay to").await;
}

#[wasm_bindgen_test]
async fn states_other_than_payable() {
    let paid = mount(view("Shop", OrderStatus::Success), Lang::En);
    wait_for(&paid, "success", |r| {
        r.query_selector("[data-testid=success]").unwrap().is_some()
    })
    .await;
    assert!(paid.query_selector("[data-testid=pay]").unwrap().is_none());
    let pending = mount(view("Shop", OrderStatus::PendingApproval), Lang::En);
    wait_for(&pending, "awaiting", |r| {
        text_of(r, "[data-testid=blocked]").contains("merchant's confirmation")
    })
    .await;
    let closed = mount(view("Shop", OrderStatus::Closed), Lang::En);
    wait_for(&closed, "closed", |r| {
        text_of(r, "[data-testid=blocked]").contains("Closed unpaid, nothing charged")
    })
    .await;
}

#[wasm_bindgen_test]
async fn branding_with_markup_is_shown_as_text() {
    let evil = "<img src=x onerror=alert(1)><b>Shop</b>";
    let root = mount(view(evil, OrderStatus::NotPay), Lang::En);
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
}

#[wasm_bindgen_test]
async fn typing_keeps_the_same_input_focused() {
    let root = mount(view("Shop", OrderStatus::NotPay), Lang::En);
    let number = input(&root, "#pd-card-number");
    number.focus().unwrap();
    type_into(&root, "#pd-card-number", "42424242");
    wait_for(&root, "grouping", |r| {
        input(r, "#pd-card-number").value() == "4242 4242"
    })
    .await;
    // The page re-rendered (the value is grouped) into the same element, still focused.
    assert!(input(&root, "#pd-card-number").is_same_node(Some(&number)));
    let doc = web_sys::window().unwrap().document().unwrap();
    assert!(doc.active_element().unwrap().is_same_node(Some(&number)));
    // A field error adds markup after the input; the input stays the same element.
    let pay: web_sys::HtmlElement = root
        .query_selector("[data-testid=pay]")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    pay.click();
    wait_for(&root, "the field error", |r| {
        !text_of(r, ".pd-field-error").is_empty()
    })
    .await;
    assert!(input(&root, "#pd-card-number").is_same_node(Some(&number)));
}

#[wasm_bindgen_test]
async fn a_logo_that_fails_stays_marked_across_renders() {
    let mut v = view("Shop", OrderStatus::NotPay);
    v.merchant.logo_url = Some("/no-such-logo.png".into());
    let root = mount(v, Lang::En);
    wait_for(&root, "the failed mark", |r| {
        r.query_selector("img.pd-logo[data-failed]")
            .unwrap()
            .is_some()
    })
    .await;
    type_into(&root, "#pd-card-cvc", "1");
    wait_for(&root, "a render", |r| {
        input(r, "#pd-card-cvc").value() == "1"
    })
    .await;
    assert!(root
        .query_selector("img.pd-logo[data-failed]")
        .unwrap()
        .is_some());
}
