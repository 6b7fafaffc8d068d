//! The v2 XML dialect (DESIGN.md §3.2): `POST /pay/unifiedorder` and friends. The worker reads
//! and parses the body with the hardened parser, finds the merchant by `mch_id`, and relays the
//! object's signed XML answer. A body that is not a protocol document never reaches an object.

use super::{read_body, Call, Ctx};
use crate::domain::ids::is_merchant_id;
use crate::domain::v2::{fail_msg, Op, Params};
use crate::error::AppError;
use crate::merchant::client;
use crate::merchant::protocol::{Command, Reply, V2Request};
use paydesk_shared::v2xml;
use worker::{Request, Response};

pub async fn handle(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let (path, _) = crate::runtime::path_and_query(req);
    let op = Op::from_path(&path).ok_or_else(AppError::not_found)?;
    let body = match read_body(req, v2xml::MAX_BYTES).await {
        Ok(b) => b,
        Err(_) => return xml(&fail(fail_msg::XML)),
    };
    let params = match v2xml::parse(&body) {
        Ok(p) => Params(p),
        Err(e) => return xml(&fail(&format!("{}: {}", fail_msg::XML, e.message()))),
    };
    let mch_id = params.get("mch_id").unwrap_or_default().to_owned();
    if !is_merchant_id(&mch_id) {
        return xml(&fail(fail_msg::MCH_ID));
    }
    let client_ip = req.headers().get("cf-connecting-ip").ok().flatten();
    let reply = client::send(
        &ctx.env,
        &mch_id,
        &call.request_id,
        &call.origin,
        call.dev,
        Command::V2(V2Request {
            op,
            params,
            client_ip,
        }),
    )
    .await?;
    xml(&reply)
}

/// The protocol answers everything but a wrong method with 200 and a document.
pub async fn wrong_method(_: &mut Request, _: &Ctx, _: &Call) -> Result<Response, AppError> {
    xml(&fail(fail_msg::POST))
}

fn fail(msg: &str) -> Reply {
    crate::merchant::v2api::return_fail(msg)
}

fn xml(reply: &Reply) -> Result<Response, AppError> {
    let Some(doc) = reply.body.get("xml").and_then(|x| x.as_str()) else {
        // The object failed before the dialect could answer (already logged there): the
        // protocol's way to say "retry later".
        return xml(&fail("SYSTEMERROR"));
    };
    let resp = Response::ok(doc)?;
    resp.headers()
        .set("Content-Type", "text/xml; charset=utf-8")?;
    resp.headers().set("Cache-Control", "no-store")?;
    resp.headers()
        .set("Content-Security-Policy", super::JSON_CSP)?;
    Ok(resp)
}
