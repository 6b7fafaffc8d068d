//! `/v1/...`: the signed merchant JSON API. The worker only gathers what was signed and hands
//! it to the merchant's object, which authenticates and answers.

use super::bills::Layout;
use super::{declared_length, json, json_body, Call, Ctx};
use crate::domain::ids::is_merchant_id;
use crate::error::AppError;
use crate::merchant::client::ApiAnswer;
use crate::merchant::protocol::{ApiBody, ApiReply, ApiRequest};
use crate::request_body::{api_body, too_large, MAX_API_BODY};
use paydesk_shared::api::ErrorCode;
use worker::{web_sys, Request, Response, ResponseBody};

/// The longest path and query whose request body is streamed to the object: the envelope header
/// carries them, and Cloudflare has allowed as little as 16 KB for one header.
const MAX_URL_BESIDE_STREAM: usize = 4096;

pub async fn handle(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    // The runtime's own headers object: worker-rs's `Headers::clone` would copy every header.
    let headers = req.inner().headers();
    let header = |name: &str| headers.get(name).ok().flatten().unwrap_or_default();
    let merchant_id = header("paydesk-merchant");
    if !is_merchant_id(&merchant_id) {
        return Err(AppError::code(
            ErrorCode::MerchantNotExist,
            "Paydesk-Merchant does not name a merchant",
        ));
    }
    let (path, query) = crate::runtime::path_and_query(req);
    if declared_length(req).is_some_and(|n| n > MAX_API_BODY) {
        return Err(too_large(MAX_API_BODY));
    }
    let declared_json = header("content-type").starts_with("application/json");
    // The body goes to the object unread, which checks it (`request_body::api_body`), unless the
    // URL would make the envelope's header long: then it is read and checked here.
    let (body, stream) = if path.len() + query.len() <= MAX_URL_BESIDE_STREAM {
        (String::new(), req.inner().body())
    } else {
        (api_body(req.bytes().await?, declared_json)?, None)
    };
    let method = req.method().to_string();
    // An order query may ask for the flat XML rendering; statements for CSV.
    let wants_xml = method == "GET" && header("accept").contains("application/xml");
    let wants_csv = method == "GET" && header("accept").contains("text/csv");
    let api = ApiRequest {
        method,
        path,
        query,
        timestamp: header("paydesk-timestamp"),
        nonce: header("paydesk-nonce"),
        signature: header("paydesk-signature"),
        body,
        client_ip: headers.get("cf-connecting-ip").ok().flatten(),
        render: !wants_xml && !wants_csv,
        declared_json,
    };
    match call.ask_api(&ctx.env, &merchant_id, api, stream).await? {
        ApiAnswer::Rendered(resp) => passed_on(&resp),
        ApiAnswer::Reply(reply) => respond(reply, ctx, call, wants_xml, wants_csv),
    }
}

/// The object's rendered answer, its body streamed to the client unread.
fn passed_on(resp: &web_sys::Response) -> Result<Response, AppError> {
    let body = resp
        .body()
        .map_or(ResponseBody::Empty, ResponseBody::Stream);
    Ok(json_body(resp.status(), body)?)
}

/// An answer of the API as HTTP: bills and exports streamed, statements as CSV when asked.
pub fn respond(
    reply: ApiReply,
    ctx: &Ctx,
    call: &Call,
    wants_xml: bool,
    wants_csv: bool,
) -> Result<Response, AppError> {
    match reply.body {
        ApiBody::Bill(head) => {
            super::bills::respond(ctx.env.clone(), call.clone(), *head, Layout::Csv)
        }
        ApiBody::Export(head) => super::exports::respond(ctx.env.clone(), call.clone(), *head),
        ApiBody::Settlements(s) if wants_csv => super::statements::settlements(&s),
        ApiBody::FeeReport(r) if wants_csv => super::statements::fee_report(&r),
        _ => render(reply, wants_xml),
    }
}

/// The JSON API's answer as HTTP; an order in XML when asked for (`wants_xml`).
pub fn render(reply: ApiReply, wants_xml: bool) -> Result<Response, AppError> {
    match reply.body {
        ApiBody::Nothing => Ok(json(204, &())?),
        ApiBody::Order(o) if wants_xml && reply.status == 200 => {
            let resp = Response::ok(crate::xml::to_xml("xml", &serde_json::to_value(o)?))?;
            resp.headers()
                .set("Content-Type", "application/xml; charset=utf-8")?;
            resp.headers().set("Cache-Control", "no-store")?;
            Ok(resp)
        }
        body => {
            let Some(bytes) = body.to_json() else {
                return Err(AppError::internal(
                    "a bill or an export is streamed, not rendered",
                ));
            };
            Ok(json_body(reply.status, ResponseBody::Body(bytes?))?)
        }
    }
}
