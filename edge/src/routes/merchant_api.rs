//! `/v1/...`: the signed merchant JSON API. The worker only gathers what was signed and hands
//! it to the merchant's object, which authenticates and answers.

use super::bills::Layout;
use super::{json, read_body, Call, Ctx};
use crate::domain::ids::is_merchant_id;
use crate::error::AppError;
use crate::merchant::protocol::{ApiBody, ApiReply, ApiRequest};
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
    let body = read_body(req, MAX_BODY).await?;
    if !body.is_empty() && !header("content-type").starts_with("application/json") {
        return Err(AppError::code(
            ErrorCode::UnsupportedMediaType,
            "send the body as application/json",
        ));
    }
    let api = ApiRequest {
        method: req.method().to_string(),
        path,
        query,
        timestamp: header("paydesk-timestamp"),
        nonce: header("paydesk-nonce"),
        signature: header("paydesk-signature"),
        body,
        client_ip: headers.get("cf-connecting-ip").ok().flatten(),
    };
    // An order query may ask for the flat XML rendering; statements for CSV.
    let wants_xml = api.method == "GET" && header("accept").contains("application/xml");
    let wants_csv = api.method == "GET" && header("accept").contains("text/csv");
    let reply = call.ask(&ctx.env, &merchant_id, api).await?;
    respond(reply, ctx, call, wants_xml, wants_csv)
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
    let value = match reply.body {
        ApiBody::Nothing => return Ok(json(204, &())?),
        ApiBody::Order(o) if wants_xml && reply.status == 200 => {
            let resp = Response::ok(crate::xml::to_xml("xml", &serde_json::to_value(o)?))?;
            resp.headers()
                .set("Content-Type", "application/xml; charset=utf-8")?;
            resp.headers().set("Cache-Control", "no-store")?;
            return Ok(resp);
        }
        ApiBody::Order(o) => serde_json::to_value(o)?,
        ApiBody::Refund(r) => serde_json::to_value(r)?,
        ApiBody::Audit(a) => serde_json::to_value(a)?,
        ApiBody::Notifications(n) => serde_json::to_value(n)?,
        ApiBody::Notification(n) => serde_json::to_value(n)?,
        ApiBody::Resent(n) => serde_json::to_value(n)?,
        ApiBody::Alerts(a) => serde_json::to_value(a)?,
        ApiBody::Plan(p) => serde_json::to_value(p)?,
        ApiBody::Contract(c) => serde_json::to_value(c)?,
        ApiBody::Subscription(s) => serde_json::to_value(s)?,
        ApiBody::Usage(u) => serde_json::to_value(u)?,
        ApiBody::InstallmentPlan(p) => serde_json::to_value(p)?,
        ApiBody::Entitlements(e) => serde_json::to_value(e)?,
        ApiBody::FeeReport(f) => serde_json::to_value(f)?,
        ApiBody::Settlements(s) => serde_json::to_value(s)?,
        ApiBody::Balance(b) => serde_json::to_value(b)?,
        ApiBody::Receiver(r) => serde_json::to_value(r)?,
        ApiBody::Receivers(r) => serde_json::to_value(r)?,
        ApiBody::Pool(p) => serde_json::to_value(p)?,
        ApiBody::Receipts(r) => serde_json::to_value(r)?,
        ApiBody::AuditLog(a) => serde_json::to_value(a)?,
        ApiBody::Reviews(r) => serde_json::to_value(r)?,
        ApiBody::Review(r) => serde_json::to_value(r)?,
        ApiBody::Application(a) => serde_json::to_value(a)?,
        ApiBody::Channels(c) => serde_json::to_value(c)?,
        ApiBody::Statement(s) => serde_json::to_value(s)?,
        ApiBody::Messaging(m) => serde_json::to_value(m)?,
        ApiBody::Inbox(i) => serde_json::to_value(i)?,
        ApiBody::Messages(m) => serde_json::to_value(m)?,
        ApiBody::Message(m) => serde_json::to_value(m)?,
        ApiBody::Contracts(c) => serde_json::to_value(c)?,
        ApiBody::Subscriptions(s) => serde_json::to_value(s)?,
        ApiBody::InstallmentPlans(p) => serde_json::to_value(p)?,
        ApiBody::Daily(d) => serde_json::to_value(d)?,
        ApiBody::Bill(_) | ApiBody::Export(_) => {
            return Err(AppError::internal(
                "a bill or an export is streamed, not rendered",
            ))
        }
    };
    Ok(json(reply.status, &value)?)
}
