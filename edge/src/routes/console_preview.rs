//! `GET /console/preview?display_name=&theme_color=&logo_url=&filing_text=&guarantee_text=&release_days=&auto_refund_hours=&lang=`:
//! the real pay page, rendered by the worker from the widget's own components exactly as a
//! payer's first paint, for the branding and money-holding settings the console is editing; the
//! console's settings page frames it as a live preview. Only for a signed-in console user (a
//! page of any name on this origin is not for anyone else to make), framed only by this origin,
//! with no script and no form that could post.

use super::{html, Call, Ctx};
use crate::domain::{escrow_rules, merchant_rules};
use crate::error::AppError;
use crate::merchant::protocol::ConsoleCall;
use crate::page::{pay_page, WIDGET_ASSETS};
use crate::runtime;
use paydesk_shared::api::PayMethod;
use paydesk_shared::time::format_rfc3339;
use paydesk_shared::urlenc::query_param;
use paydesk_shared::{Branding, CheckoutView, Money, OrderStatus, PayPageData, RenderSeed};
use paydesk_widget::i18n::Lang;
use worker::{Request, Response};

const PREVIEW_CSP: &str =
    "default-src 'none'; script-src 'none'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' https: data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

pub async fn preview(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let session = super::console::session_of(req, ctx)?;
    // The session must still be live, not only signed.
    let me = ConsoleCall {
        session_id: session.session_id,
        method: "GET".into(),
        path: "/me".into(),
        query: String::new(),
        body: String::new(),
    };
    call.ask(&ctx.env, &session.merchant_id, me).await?;
    let (_, query) = runtime::path_and_query(req);
    let p = |k: &str| query_param(&query, k).filter(|v| !v.is_empty());
    let branding = Branding {
        display_name: p("display_name").unwrap_or_default(),
        logo_url: p("logo_url"),
        filing_text: p("filing_text"),
        theme_color: p("theme_color"),
        guarantee_text: p("guarantee_text"),
    };
    merchant_rules::check_branding(&branding)?;
    let number = |k: &str| p(k).and_then(|v| v.parse::<u32>().ok());
    let release_days = number("release_days").unwrap_or(escrow_rules::DEFAULT_RELEASE_DAYS);
    let auto_refund_hours = number("auto_refund_hours");
    escrow_rules::check_settings(release_days, auto_refund_hours)?;
    let lang = Lang::negotiate(p("lang").as_deref(), None);
    let now = runtime::now_ms();
    let data = PayPageData {
        view: CheckoutView {
            merchant: branding,
            out_trade_no: "PREVIEW".into(),
            description: match lang {
                Lang::Zh => "示例商品（预览）".into(),
                Lang::En => "Sample item (preview)".into(),
            },
            amount: Money::cny(8800),
            status: OrderStatus::NotPay,
            time_expire: format_rfc3339(now + 30 * 60_000),
            methods: PayMethod::ALL.to_vec(),
            installment: None,
            release_days,
            auto_refund_hours,
            in_review: false,
            review_hours: 0,
        },
        token: "preview".into(),
        embed_origin: None,
        sandbox: false,
        seed: RenderSeed {
            lang: lang.code().into(),
            now_ms: now,
            ..RenderSeed::default()
        },
    };
    let markup = paydesk_widget::render_page(&data);
    let resp = html(pay_page(&data, &markup, WIDGET_ASSETS, "preview"), 200)?;
    resp.headers().set("Content-Security-Policy", PREVIEW_CSP)?;
    resp.headers().set("Cache-Control", "no-store")?;
    Ok(resp)
}
