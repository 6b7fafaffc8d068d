//! `/v1/...`: the signed merchant JSON API. The worker only gathers what was signed and hands
//! it to the merchant's object, which authenticates and answers.

use super::{read_body, relay, Call, Ctx};
use crate::domain::ids::is_merchant_id;
use crate::error::AppError;
use crate::merchant::{client, protocol::ApiRequest, protocol::Command};
use paydesk_shared::api::ErrorCode;
use worker::{Request, Response};

pub const MAX_BODY: usize = 64 * 1024;

pub async fn handle(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let headers = req.headers().clone();
    let header = |name: &str| headers.get(name).ok().flatten().unwrap_or_default();
    let merchant_id = header("paydesk-merchant");
    if !is_merchant_id(&merchant_id) {
        return Err(AppError::code(
            ErrorCode::MerchantNotExist,
            "Paydesk-Merchant does not name a merchant",
        ));
    }
    let (path, query) = crate::runtime::path_and_query(req);
    let method = req.method().to_string();
    let body = read_body(req, MAX_BODY).await?;
    if !body.is_empty() {
        let ct = header("content-type");
        if !ct.starts_with("application/json") {
            return Err(AppError::code(
                ErrorCode::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
    }
    let api = ApiRequest {
        method: method.clone(),
        path: path.clone(),
        query,
        timestamp: header("paydesk-timestamp"),
        nonce: header("paydesk-nonce"),
        signature: header("paydesk-signature"),
        body,
        client_ip: headers.get("cf-connecting-ip").ok().flatten(),
    };
    let wants_xml = header("accept").contains("application/xml");
    let reply = client::send(
        &ctx.env,
        &merchant_id,
        &call.request_id,
        &call.origin,
        call.dev,
        Command::Api(api),
    )
    .await?;
    if wants_xml && method == "GET" && reply.status == 200 && path.starts_with("/v1/orders/") {
        let resp = Response::ok(crate::xml::to_xml("xml", &reply.body))?;
        resp.headers()
            .set("Content-Type", "application/xml; charset=utf-8")?;
        resp.headers().set("Cache-Control", "no-store")?;
        return Ok(resp);
    }
    relay(reply)
}
