//! `/unsubscribe/{token}`: the link in every message to a payer, working without login. A GET
//! asks (link previewers and prefetchers open links, so it changes nothing); a POST, from the
//! page's button or a mail client's one-click unsubscribe, unsubscribes the address from every
//! later message of that merchant on that channel. A forged, expired or unknown link gets the
//! friendly 404 page.

use super::{Call, Ctx};
use crate::error::AppError;
use crate::merchant::protocol::{Unsubscribe, UnsubscribeReply};
use crate::page::{escape_html as esc, static_document};
use crate::runtime;
use paydesk_shared::sign::token::UnsubscribeToken;
use worker::{Request, Response};

/// `GET /unsubscribe/{token}`.
pub async fn ask(_: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    answer(ctx, call, false).await
}

/// `POST /unsubscribe/{token}`.
pub async fn confirm(_: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    answer(ctx, call, true).await
}

async fn answer(ctx: &Ctx, call: &Call, confirm: bool) -> Result<Response, AppError> {
    let token = ctx.param("token").map(String::as_str).unwrap_or_default();
    let key = runtime::checkout_token_key(&ctx.env)?;
    let now = runtime::now_ms() / 1000;
    let Ok(t) = UnsubscribeToken::verify(token, &crate::mac_keys::prepared(&key), now) else {
        return super::not_valid();
    };
    let ask = Unsubscribe {
        message_id: t.message_id,
        confirm,
    };
    let reply = match call.ask(&ctx.env, &t.merchant_id, ask).await {
        Ok(r) => r,
        Err(AppError::Refused(r)) if matches!(r.code.http_status(), 401 | 404) => {
            return super::not_valid()
        }
        Err(e) => return Err(e),
    };
    let resp = super::html(page(&reply), 200)?;
    resp.headers().set(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )?;
    Ok(resp)
}

/// The page: what is unsubscribed, or the button that does it.
fn page(r: &UnsubscribeReply) -> String {
    let (name, to) = (esc(&r.merchant), esc(&r.to));
    let (zh_way, en_way) = if r.channel == "sms" {
        ("短信", "text messages")
    } else {
        ("邮件", "emails")
    };
    let body = if r.unsubscribed {
        format!(
            "<p data-testid=\"unsubscribed\">已退订：{to} 不会再收到 {name} 的{zh_way}提醒。</p>\n\
             <p lang=\"en\">Unsubscribed: {to} will get no more {en_way} from {name}.</p>\n"
        )
    } else {
        format!(
            "<p>退订后，{to} 将不再收到 {name} 的{zh_way}提醒与通知。</p>\n\
             <p lang=\"en\">{to} will get no more reminders or notices from {name} by {en_way}.</p>\n\
             <form method=\"post\"><button type=\"submit\">退订 <span lang=\"en\">Unsubscribe</span></button></form>\n"
        )
    };
    static_document(
        &format!("{name} · 退订 Unsubscribe"),
        r#"class="paydesk unsubscribe""#,
        &format!("<h1>{name}</h1>\n{body}"),
    )
}
