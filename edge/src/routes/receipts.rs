//! Receipts for payers and for anyone checking them: the receipt page of a pay link
//! (`/pay/{token}?receipt`, or `?receipt=json` for the signed receipts themselves) and the
//! public keys that verify them (`/.well-known/paydesk-receipt-keys`).

use super::{json, Call, Ctx};
use crate::error::AppError;
use crate::merchant::protocol::PayerReceipts;
use crate::page::STRICT_CSP;
use crate::receipt_page::{receipt_page, ReceiptView};
use crate::runtime;
use paydesk_shared::sign::token::TokenBuf;
use worker::{Request, Response};

/// The receipt page of the order a genuine pay link names, however old the link (the friendly
/// 404 page otherwise).
pub async fn payer(ctx: &Ctx, call: &Call, as_json: bool) -> Result<Response, AppError> {
    let mut buf = TokenBuf::new();
    let Ok(t) = super::checkout::verify_token_of_receipt(ctx, &mut buf) else {
        return super::not_valid();
    };
    let ask = PayerReceipts {
        out_trade_no: t.id.to_owned(),
    };
    let r = match call.ask(&ctx.env, t.merchant_id, ask).await {
        Ok(r) => r,
        Err(AppError::Refused(r)) if matches!(r.code.http_status(), 401 | 404) => {
            return super::not_valid()
        }
        Err(e) => return Err(e),
    };
    if as_json {
        let all: Vec<_> = r.payment.iter().chain(&r.refunds).collect();
        return Ok(json(200, &all)?);
    }
    let view = ReceiptView {
        merchant_name: &r.merchant_name,
        payment: r.payment.as_ref(),
        refunds: &r.refunds,
        utc_offset_minutes: r.utc_offset_minutes,
    };
    let resp = super::html(receipt_page(&view), 200)?;
    resp.headers().set("Content-Security-Policy", STRICT_CSP)?;
    Ok(resp)
}

/// `GET /.well-known/paydesk-receipt-keys`: every public key a receipt may name, the current
/// one first, as JWK-style Ed25519 keys (`x` is the raw key, base64url).
pub async fn keys(_: &mut Request, ctx: &Ctx, _: &Call) -> Result<Response, AppError> {
    let keys = runtime::receipt_keys(&ctx.env)?;
    let list: Vec<serde_json::Value> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            serde_json::json!({"key_id": k.key_id, "alg": "Ed25519", "kty": "OKP",
                "crv": "Ed25519", "x": k.public_x(), "current": i == 0})
        })
        .collect();
    let resp = json(200, &serde_json::json!({ "keys": list }))?;
    resp.headers().set("Cache-Control", "public, max-age=300")?;
    Ok(resp)
}
