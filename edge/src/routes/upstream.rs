//! The upstream channel's HTTP surface: the pay page's button that hands the payer to the
//! upstream's cashier, and the upstream's payment notification (`merchant/upstream.rs`).

use super::pay::{foreign_post, load};
use super::{not_valid, read_body, Call, Ctx};
use crate::cashier_page::Problem;
use crate::domain::ids::is_merchant_id;
use crate::error::AppError;
use crate::merchant::protocol::{Cashier, UpstreamNotify};
use paydesk_shared::api::ErrorCode;
use paydesk_shared::v2xml;
use worker::{Request, Response};

/// `POST /pay/{token}/cashier` (the button) and `GET` (the QR page asking again): a phone is
/// sent on to the upstream's cashier (303), a desktop browser shown its QR code; back to the
/// pay page once the upstream says it is paid; the page again with what went wrong otherwise.
pub async fn cashier(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    if req.method() == worker::Method::Post {
        if let Some(refused) = foreign_post(req, call)? {
            return Ok(refused);
        }
    }
    let Some(page) = load(req, ctx, call).await? else {
        return not_valid();
    };
    let ask = Cashier {
        out_trade_no: page.out_trade_no.clone(),
        client_ip: req.headers().get("cf-connecting-ip").ok().flatten(),
        user_agent: req.headers().get("user-agent")?.unwrap_or_default(),
    };
    let location = match call.ask(&ctx.env, &page.merchant_id, ask).await {
        Ok(reply) => match (reply.url, reply.qr) {
            (Some(code_url), true) => return page.qr_page(&code_url, call.dev),
            (url, _) => url.unwrap_or_else(|| format!("/pay/{}", page.data.token)),
        },
        // Paid already (the notification came first): the pay page shows it.
        Err(AppError::Refused(r)) if r.code == ErrorCode::OrderPaid => {
            format!("/pay/{}", page.data.token)
        }
        Err(AppError::Refused(r)) if r.code.http_status() < 500 => {
            return page.cashier_page(Some(Problem::Refused), call.dev)
        }
        Err(e) => {
            if let AppError::Internal { detail } = &e {
                worker::console_error!("request {}: cashier: {detail}", call.request_id);
            }
            return page.cashier_page(Some(Problem::NotAnswering), call.dev);
        }
    };
    let resp = Response::empty()?.with_status(303);
    resp.headers().set("Location", &location)?;
    resp.headers().set("Cache-Control", "no-store")?;
    resp.headers().set("Referrer-Policy", "no-referrer")?;
    Ok(resp)
}

/// `POST /channels/wechat_v2/notify/{merchant_id}`: the upstream's payment notification,
/// answered in its protocol (`FAIL` makes the upstream deliver it again later).
pub async fn notify(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let id = ctx.param("id").cloned().unwrap_or_default();
    let body = read_body(req, v2xml::MAX_BYTES).await.unwrap_or_default();
    let answer = if is_merchant_id(&id) {
        call.ask(&ctx.env, &id, UpstreamNotify { body }).await
    } else {
        Err(AppError::not_found())
    };
    let xml = answer.unwrap_or_else(|e| {
        if let AppError::Internal { detail } = &e {
            worker::console_error!("request {}: upstream notify: {detail}", call.request_id);
        }
        crate::domain::v2::return_fail("not accepted")
    });
    let resp = Response::ok(xml)?;
    resp.headers()
        .set("Content-Type", "text/xml; charset=utf-8")?;
    resp.headers().set("Cache-Control", "no-store")?;
    Ok(resp)
}
