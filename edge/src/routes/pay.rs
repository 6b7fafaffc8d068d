use super::{Call, Ctx};
use crate::error::AppError;
use crate::merchant::{client, protocol::Command};
use crate::page::{pay_page, problem_page, PayPageProblem, WIDGET_ASSETS};
use crate::runtime;
use paydesk_shared::sign::token::CheckoutToken;
use paydesk_shared::CheckoutView;
use worker::{Request, Response};

/// `GET /pay/{token}`: the pay page of the order the token names, or a friendly 404 page for a
/// forged, expired or unknown one (the payer is not told which).
pub async fn get(_req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let token = ctx.param("token").map(String::as_str).unwrap_or_default();
    let key = runtime::checkout_token_key(&ctx.env)?;
    let Ok(t) = CheckoutToken::verify(token, key.peek().as_bytes(), runtime::now_ms() / 1000)
    else {
        return not_valid();
    };
    let cmd = Command::Checkout {
        out_trade_no: t.out_trade_no,
    };
    let reply = client::send(
        &ctx.env,
        &t.merchant_id,
        &call.request_id,
        &call.origin,
        call.dev,
        cmd,
    )
    .await?;
    if reply.status != 200 {
        return not_valid();
    }
    let view: CheckoutView = serde_json::from_value(reply.body)?;
    html(pay_page(&view, WIDGET_ASSETS), 200)
}

fn not_valid() -> Result<Response, AppError> {
    html(problem_page(PayPageProblem::LinkNotValid), 404)
}

fn html(body: String, status: u16) -> Result<Response, AppError> {
    let resp = Response::from_html(body)?.with_status(status);
    resp.headers().set("Cache-Control", "no-store")?;
    resp.headers().set("Referrer-Policy", "no-referrer")?;
    resp.headers().set("X-Content-Type-Options", "nosniff")?;
    Ok(resp)
}
