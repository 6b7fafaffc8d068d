//! The pay page without a framework. The worker renders it ([`render_page`]) and inlines the
//! order's [`PayPageData`] as JSON in `#paydesk-data`; in the browser ([`client`], feature
//! `browser`), the same renderer runs again on every change of the pure [`State`] and the
//! document is morphed into the new markup ([`morph`]), which keeps focus, caret and typed
//! values. The page is readable and payable (a real HTML form) before the wasm arrives, and the
//! wasm carries no component framework: the first load stays small on a phone network.

#[cfg(all(
    feature = "browser",
    not(any(feature = "contract-page", feature = "console-page"))
))]
pub mod client;
pub(crate) mod entry;
pub mod json;
pub mod markup;
#[cfg(all(feature = "browser", not(feature = "console-page")))]
pub(crate) mod morph;
pub(crate) mod order;
mod outcome;
mod restore;
#[cfg(all(feature = "browser", not(feature = "console-page")))]
pub(crate) mod snapshot;

use crate::i18n::Lang;
use crate::state::{Phase, State};
use markup::Markup;
use paydesk_shared::{OrderStatus, PayPageData};
pub use restore::{is_fresh, Restore};

/// What the page shows besides the state: fixed for the page's life, except the logo's mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub token: String,
    pub sandbox: bool,
    /// `data-loaded` or `data-failed` once the browser has said, so a re-render keeps it.
    pub logo: Option<&'static str>,
    /// `&embed=<origin>` when the page is framed by an allowed origin, else empty: the form's
    /// post and the language link keep it, so a payment made before (or without) the script
    /// still tells the embedding page.
    pub embed_query: String,
}

impl Frame {
    pub fn of(data: &PayPageData) -> Frame {
        Frame {
            token: data.token.clone(),
            sandbox: data.sandbox,
            logo: None,
            embed_query: data.embed_origin.as_deref().map_or(String::new(), |o| {
                format!("&embed={}", paydesk_shared::urlenc::encode_component(o))
            }),
        }
    }
}

/// The state the worker renders the page in; the browser seeds its own from the same data
/// (`client::start`), with its own clock and language only where the seed has none.
pub fn first_state(data: &PayPageData) -> State {
    State::seeded(data, Lang::from_tag(&data.seed.lang), data.seed.now_ms)
}

/// The pay page's markup for `data`, as the worker sends it.
pub fn render_page(data: &PayPageData) -> String {
    render(&first_state(data), &Frame::of(data))
}

/// The whole card for state `s`.
pub fn render(s: &State, f: &Frame) -> String {
    let (lang, v) = (s.lang, &s.view);
    let mut m = Markup::new();
    m.raw("<div")
        .attr("lang", lang.html_tag())
        .attr("data-status", v.status.as_str())
        .raw(" class=\"pd-card\">");
    order::topbar(&mut m, lang, f.sandbox, &f.embed_query);
    order::header(&mut m, lang, &v.merchant, f.logo);
    order::amount(
        &mut m,
        lang,
        v.amount,
        &v.description,
        &v.out_trade_no,
        v.installment.as_ref(),
    );
    let show_form = matches!(
        s.phase,
        Phase::Ready | Phase::Submitting | Phase::Failed { .. } | Phase::NetworkLost
    );
    if show_form && matches!(v.status, OrderStatus::NotPay | OrderStatus::PayError) {
        order::countdown(&mut m, lang, s.seconds_left());
    }
    m.raw("<div aria-live=\"polite\" class=\"pd-live\">");
    outcome::outcome(&mut m, s);
    m.raw("</div>");
    if show_form {
        entry::pay_form(&mut m, s, f);
    }
    m.raw("</div>");
    m.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::{view, NOW};
    use crate::state::Action;
    use paydesk_shared::{PayOutcome, RenderSeed};
    use std::rc::Rc;

    fn data(status: OrderStatus, lang: &str) -> PayPageData {
        PayPageData {
            view: view(status),
            token: "tok".into(),
            embed_origin: None,
            sandbox: true,
            seed: RenderSeed {
                lang: lang.into(),
                now_ms: NOW,
                submission_key: "0123456789abcdef0123456789abcdef".into(),
                ..RenderSeed::default()
            },
        }
    }

    #[test]
    fn a_payable_order_gets_the_form_and_the_countdown() {
        let html = render_page(&data(OrderStatus::NotPay, "en"));
        assert!(html.starts_with(r#"<div lang="en" data-status="NOTPAY" class="pd-card">"#));
        assert!(html.contains(r#"<form id="pd-form" method="post" action="/pay/tok?lang=en""#));
        assert!(html.contains(r#"<input value="0123456789abcdef0123456789abcdef" type="hidden" name="submission_key">"#));
        assert!(html.contains(r#"<time data-testid="countdown">10:00</time>"#));
        assert!(html.contains(r#"value="balance" checked type="radio" name="method""#));
        assert!(html.contains(">Pay ¥12.34</button>"));
        assert!(html.contains("Sandbox"));
        let zh = render_page(&data(OrderStatus::NotPay, "zh"));
        assert!(zh.contains("确认付款 ¥12.34"));
    }

    #[test]
    fn a_paid_order_gets_the_receipt_and_no_form() {
        let html = render_page(&data(OrderStatus::Success, "en"));
        assert!(html.contains(r#"data-testid="success""#));
        assert!(html.contains(r#"href="?receipt""#));
        assert!(!html.contains("<form"));
        assert!(!html.contains("countdown"));
    }

    #[test]
    fn a_refunded_order_says_so_beside_the_payment() {
        let refunded = render_page(&data(OrderStatus::Refund, "zh"));
        assert!(refunded.contains(r#"data-testid="refunded""#));
        assert!(refunded.contains("已退款"));
        assert!(!render_page(&data(OrderStatus::Success, "en")).contains("refunded"));
    }

    #[test]
    fn an_embedded_page_keeps_its_embedding_origin_in_the_form_and_the_language_link() {
        let mut d = data(OrderStatus::NotPay, "en");
        d.embed_origin = Some("https://shop.example:8443".into());
        let html = render_page(&d);
        let embed = "embed=https%3A%2F%2Fshop.example%3A8443";
        assert!(
            html.contains(&format!(r#"action="/pay/tok?lang=en&amp;{embed}""#)),
            "{html}"
        );
        assert!(
            html.contains(&format!(r#"href="?lang=zh&amp;{embed}""#)),
            "{html}"
        );
    }

    #[test]
    fn what_merchants_and_payers_wrote_is_text() {
        let mut d = data(OrderStatus::NotPay, "en");
        d.view.merchant.display_name = "<script>x</script>".into();
        d.view.description = "\"><img src=x onerror=alert(1)>".into();
        d.view.merchant.logo_url = Some("\" onerror=\"alert(1)".into());
        let html = render_page(&d);
        assert!(!html.contains("<script>") && !html.contains("<img src=x"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains(r#"src="&quot; onerror=&quot;alert(1)""#));
        let s = Rc::new(first_state(&d)).reduce(Action::EditCvc("1\"2".into()));
        assert!(render(&s, &Frame::of(&d)).contains(r#"<input value="12" id="pd-card-cvc""#));
    }

    #[test]
    fn a_declined_post_renders_the_retry_prompt_over_the_form() {
        let mut d = data(OrderStatus::NotPay, "en");
        d.seed.outcome = Some(PayOutcome::Declined {
            code: "INSUFFICIENT_FUNDS".into(),
            message: "low".into(),
            next_step: paydesk_shared::api::NextStep::Retry,
        });
        let html = render_page(&d);
        assert!(html.contains(r#"data-testid="retry-prompt" data-code="INSUFFICIENT_FUNDS""#));
        assert!(html.contains(r#"data-testid="retry" data-act="retry""#));
        assert!(html.contains("<form"));
    }

    #[test]
    fn a_card_declined_on_a_post_asks_for_the_card_again_not_a_bare_retry() {
        let mut d = data(OrderStatus::NotPay, "zh");
        d.seed.method = Some(paydesk_shared::api::PayMethod::CreditCard);
        d.seed.outcome = Some(PayOutcome::Declined {
            code: "PROCESSING_ERROR".into(),
            message: "try again".into(),
            next_step: paydesk_shared::api::NextStep::Retry,
        });
        let html = render_page(&d);
        assert!(html.contains(r#"data-testid="reenter-card""#), "{html}");
        assert!(html.contains("重新输入卡信息"));
        assert!(!html.contains(r#"data-testid="retry""#));
        // A wallet is sent again as it is: the retry stays.
        d.seed.method = Some(paydesk_shared::api::PayMethod::Balance);
        assert!(render_page(&d).contains(r#"data-testid="retry""#));
    }

    #[test]
    fn the_logo_mark_survives_a_render() {
        let mut d = data(OrderStatus::NotPay, "en");
        d.view.merchant.logo_url = Some("/logo.svg".into());
        let mut f = Frame::of(&d);
        assert!(!render(&first_state(&d), &f).contains("data-failed"));
        f.logo = Some("data-failed");
        assert!(render(&first_state(&d), &f)
            .contains(r#"referrerpolicy="no-referrer" data-failed="" class="pd-logo""#));
    }
}
