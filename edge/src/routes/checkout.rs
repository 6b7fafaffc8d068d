//! `/api/checkout/{token}`: the public checkout API the pay page talks to: what the page shows,
//! paying, and the live status socket.

use super::{json, read_body, Call, Ctx};
use crate::error::AppError;
use crate::merchant::protocol::{Checkout, Pay};
use crate::runtime;
use paydesk_shared::api::{ErrorCode, PayRequest};
use paydesk_shared::sign::token::{CheckoutToken, Claims, TokenBuf};
use paydesk_shared::OrderStatus;
use worker::{Request, RequestInit, Response};

/// The order a checkout token names (its merchant, and its `out_trade_no` as the claims' `id`),
/// read into `buf` without allocating; NOT_FOUND for a forged or expired one.
pub fn verify_token<'b>(ctx: &Ctx, buf: &'b mut TokenBuf) -> Result<Claims<'b>, AppError> {
    read_token(ctx, buf, runtime::now_ms() / 1000)
}

/// The order a pay link names, for its receipts: the link's signature is checked, not its age.
/// A receipt attests money that moved, which does not expire, and the payer keeps the link to
/// it (the pay page's success state links there); an order not paid shows no receipt.
pub fn verify_token_of_receipt<'b>(
    ctx: &Ctx,
    buf: &'b mut TokenBuf,
) -> Result<Claims<'b>, AppError> {
    read_token(ctx, buf, i64::MIN)
}

fn read_token<'b>(ctx: &Ctx, buf: &'b mut TokenBuf, now: i64) -> Result<Claims<'b>, AppError> {
    let token = ctx.param("token").map(String::as_str).unwrap_or_default();
    let key = runtime::checkout_token_key(&ctx.env)?;
    CheckoutToken::read(token, &crate::mac_keys::prepared(&key), now, buf).map_err(|_| {
        AppError::code(
            ErrorCode::NotFound,
            "this payment link is not valid or has expired",
        )
    })
}

pub async fn get(_req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let mut buf = TokenBuf::new();
    let t = verify_token(ctx, &mut buf)?;
    let ask = Checkout {
        out_trade_no: t.id.to_owned(),
    };
    let reply = call.ask(&ctx.env, t.merchant_id, ask).await?;
    Ok(json(200, &reply.view)?)
}

pub async fn pay(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let mut buf = TokenBuf::new();
    let t = verify_token(ctx, &mut buf)?;
    let body = read_body(req, 8 * 1024).await?;
    let pay: PayRequest = crate::json_text::from_text(&body)
        .map_err(|e| AppError::param("body", format!("invalid pay request: {e}")))?;
    let ask = Pay {
        out_trade_no: t.id.to_owned(),
        pay,
        client_ip: req.headers().get("cf-connecting-ip").ok().flatten(),
    };
    let result = call.ask(&ctx.env, t.merchant_id, ask).await?;
    // A declined payment is 402 with what to do next.
    let status = if result.status == OrderStatus::PayError {
        402
    } else {
        200
    };
    Ok(json(status, &result)?)
}

/// `GET /api/checkout/{token}/live`: a WebSocket of the order's status, served by the merchant's
/// object (hibernatable, tagged by order).
pub async fn live(req: &mut Request, ctx: &Ctx, _call: &Call) -> Result<Response, AppError> {
    let mut buf = TokenBuf::new();
    let t = verify_token(ctx, &mut buf)?;
    let upgrade = req
        .headers()
        .get("upgrade")
        .ok()
        .flatten()
        .unwrap_or_default();
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return Err(AppError::param("upgrade", "this endpoint speaks WebSocket"));
    }
    let stub = ctx
        .env
        .durable_object("MERCHANT")?
        .id_from_name(t.merchant_id)?
        .get_stub()?;
    let url = format!("https://merchant.internal/live?otn={}", t.id);
    let mut init = RequestInit::new();
    init.with_headers(req.headers().clone());
    let fwd = Request::new_with_init(&url, &init)?;
    Ok(stub.fetch_with_request(fwd).await?)
}
