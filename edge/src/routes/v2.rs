//! The v2 XML dialect: `POST /pay/unifiedorder` and friends. The worker reads and parses the
//! body with the hardened parser, finds the merchant by `mch_id`, and answers with the object's
//! signed XML document. A body that is not a protocol document never reaches an object.

use super::bills::Layout;
use super::{read_body, Call, Ctx};
use crate::domain::ids::is_merchant_id;
use crate::domain::v2::{fail_msg, Op, Params};
use crate::error::AppError;
use crate::merchant::protocol::{EntrustWeb, V2Reply, V2Request};
use crate::merchant::v2_dialect::return_fail;
use paydesk_shared::v2xml;
use worker::{Request, Response};

pub async fn handle(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let (path, _) = crate::runtime::path_and_query(req);
    let op = Op::from_path(&path).ok_or_else(AppError::not_found)?;
    let body = match read_body(req, v2xml::MAX_BYTES).await {
        Ok(b) => b,
        Err(_) => return xml(&return_fail(fail_msg::XML)),
    };
    let params = match v2xml::parse(&body) {
        Ok(p) => Params(p),
        Err(e) => return xml(&return_fail(&format!("{}: {}", fail_msg::XML, e.message()))),
    };
    let mch_id = params.get("mch_id").unwrap_or_default().to_owned();
    if !is_merchant_id(&mch_id) {
        return xml(&return_fail(fail_msg::MCH_ID));
    }
    let client_ip = req.headers().get("cf-connecting-ip").ok().flatten();
    let ask = V2Request {
        op,
        params,
        client_ip,
    };
    match call.ask(&ctx.env, &mch_id, ask).await {
        Ok(V2Reply {
            bill: Some(head), ..
        }) => super::bills::respond(ctx.env.clone(), call.clone(), *head, Layout::V2),
        Ok(reply) => xml(&reply),
        Err(e) => {
            if let AppError::Internal { detail } = &e {
                worker::console_error!("request {}: v2: {detail}", call.request_id);
            }
            // The object failed before the dialect could answer: the protocol's "retry later".
            xml(&return_fail("SYSTEMERROR"))
        }
    }
}

/// `GET /papay/entrustweb?<signed params>`: the link a merchant's papay SDK builds for the payer
/// (`apply_signing`). A genuine link opens the contract's page (303); anything else is the
/// friendly page for a link that does not work (the payer cannot fix it; the merchant can).
pub async fn entrust_web(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let (_, query) = crate::runtime::path_and_query(req);
    let params = Params(paydesk_shared::urlenc::query_pairs(&query));
    let mch_id = params.get("mch_id").unwrap_or_default().to_owned();
    let answer = if is_merchant_id(&mch_id) {
        call.ask(&ctx.env, &mch_id, EntrustWeb { params }).await
    } else {
        Err(AppError::param("mch_id", fail_msg::MCH_ID))
    };
    match answer {
        Ok(e) => {
            let resp = Response::empty()?.with_status(303);
            resp.headers().set("Location", &e.contract_url)?;
            resp.headers().set("Cache-Control", "no-store")?;
            resp.headers().set("Referrer-Policy", "no-referrer")?;
            Ok(resp)
        }
        Err(AppError::Internal { detail }) => Err(AppError::Internal { detail }),
        Err(_) => {
            let page = crate::page::problem_page(crate::page::PayPageProblem::ContractLinkNotValid);
            let resp = super::html(page, 400)?;
            resp.headers()
                .set("Content-Security-Policy", crate::page::STRICT_CSP)?;
            Ok(resp)
        }
    }
}

/// The protocol answers everything but a wrong method with 200 and a document.
pub async fn wrong_method(_: &mut Request, _: &Ctx, _: &Call) -> Result<Response, AppError> {
    xml(&return_fail(fail_msg::POST))
}

fn xml(reply: &V2Reply) -> Result<Response, AppError> {
    let resp = Response::ok(&reply.xml)?;
    resp.headers()
        .set("Content-Type", "text/xml; charset=utf-8")?;
    resp.headers().set("Cache-Control", "no-store")?;
    resp.headers()
        .set("Content-Security-Policy", super::JSON_CSP)?;
    Ok(resp)
}
