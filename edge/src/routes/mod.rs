//! One module per API surface. Each handler asks the merchant object through the typed
//! protocol (`Call::ask`) and renders the typed reply; it returns `Result<Response, AppError>`,
//! and [`respond`] is the one place an error becomes HTTP.

mod admin;
mod applications;
mod bills;
mod checkout;
mod console;
mod console_preview;
mod contract;
mod dev;
mod exports;
mod health;
mod merchant_api;
mod pay;
mod receipts;
mod routing;
mod statements;
mod unsubscribe;
mod upstream;
mod v2;

use crate::config::Deployment;
use crate::error::AppError;
pub use crate::merchant::protocol::Call;
use crate::page::{problem_page, PayPageProblem, STRICT_CSP};
use crate::route_table::Found;
use crate::runtime;
pub use routing::Ctx;
use routing::{Handler, Routes};
use serde::Serialize;
use worker::{Env, Request, Response, Result};

/// Answers that are data, not documents: nothing may load from or frame them.
pub const JSON_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// What every handler needs to know about the request it serves.
fn call_of(req: &Request, env: &Env) -> Call {
    let request_id = req
        .headers()
        .get("cf-ray")
        .ok()
        .flatten()
        .unwrap_or_else(|| format!("req_{}", runtime::random_hex(8)));
    Call {
        request_id,
        origin: runtime::origin(req),
        dev: runtime::deployment(env) == Deployment::Dev,
    }
}

macro_rules! route {
    ($handler:path) => {{
        fn handler(
            mut req: Request,
            ctx: Ctx,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response>>>> {
            Box::pin(async move {
                let call = call_of(&req, &ctx.env);
                let result = $handler(&mut req, &ctx, &call).await;
                respond(&call, result)
            })
        }
        handler as Handler
    }};
}

thread_local! {
    /// Built at the isolate's first request and kept (`routes/routing.rs`).
    static ROUTES: Routes = routes();
}

pub async fn handle(req: Request, env: Env) -> Result<Response> {
    // A routed request's call is made by its route (`route!`); only a miss needs one here.
    Routes::run(&ROUTES, req, env, |found, req, env| {
        let call = call_of(req, env);
        let err = match found {
            Found::WrongMethod => AppError::code(
                paydesk_shared::api::ErrorCode::MethodNotAllowed,
                "this method is not allowed on this path",
            ),
            _ => AppError::not_found(),
        };
        respond(&call, Err(err))
    })
    .await
}

/// A download's headers: its type, the file name to save it as, never cached, never run.
fn attachment(resp: &Response, content_type: &str, filename: &str) -> Result<()> {
    let h = resp.headers();
    h.set("Content-Type", content_type)?;
    h.set(
        "Content-Disposition",
        &format!("attachment; filename=\"{filename}\""),
    )?;
    data_headers(resp)
}

fn routes() -> Routes {
    let mut t = Routes::default();
    t.get("/api/health", route!(health::get))
        .get("/api/live", route!(health::live))
        .get("/.well-known/paydesk-receipt-keys", route!(receipts::keys))
        .get("/pay/:token", route!(pay::get))
        .post("/pay/:token", route!(pay::post))
        .get("/contract/:token", route!(contract::get))
        .post("/contract/:token", route!(contract::sign))
        .get("/contract/:token/terminate", route!(contract::confirm_end))
        .post("/contract/:token/terminate", route!(contract::end))
        .get("/unsubscribe/:token", route!(unsubscribe::ask))
        .post("/unsubscribe/:token", route!(unsubscribe::confirm))
        .post("/pay/unifiedorder", route!(v2::handle))
        .post("/pay/orderquery", route!(v2::handle))
        .post("/pay/closeorder", route!(v2::handle))
        .post("/pay/refundquery", route!(v2::handle))
        .post("/pay/downloadbill", route!(v2::handle))
        .post("/secapi/pay/refund", route!(v2::handle))
        .get("/papay/entrustweb", route!(v2::entrust_web))
        .post("/papay/querycontract", route!(v2::handle))
        .post("/pay/pappayapply", route!(v2::handle))
        .post("/pay/paporderquery", route!(v2::handle))
        .post("/papay/deletecontract", route!(v2::handle))
        .get("/secapi/pay/refund", route!(v2::wrong_method))
        .get("/api/checkout/:token", route!(checkout::get))
        .post("/api/checkout/:token/pay", route!(checkout::pay))
        .get("/api/checkout/:token/live", route!(checkout::live))
        .any("/v1/*path", route!(merchant_api::handle))
        .post("/admin/merchants", route!(admin::create_merchant))
        .get("/admin/merchants/:id", route!(admin::get_merchant))
        .post("/admin/merchants/:id/rotate-key", route!(admin::rotate_key))
        .post(
            "/admin/merchants/:id/rotate-webhook-secret",
            route!(admin::rotate_webhook_secret),
        )
        .post("/admin/merchants/:id/reactivate", route!(admin::reactivate))
        .post("/admin/merchants/:id/unfreeze", route!(admin::unfreeze))
        .post("/admin/merchants/:id/reseal", route!(admin::reseal))
        .post(
            "/admin/merchants/:id/console_users",
            route!(console::create_user),
        )
        .get(
            "/admin/merchants/:id/console_users",
            route!(console::list_users),
        )
        .put(
            "/admin/merchants/:id/console_users/:email",
            route!(console::change_user),
        )
        .delete(
            "/admin/merchants/:id/console_users/:email",
            route!(console::remove_user),
        )
        .get("/console", route!(console::page))
        .get("/console/preview", route!(console_preview::preview))
        .post("/console/api/sign-in", route!(console::sign_in))
        .any("/console/api/*path", route!(console::handle))
        .put("/admin/merchants/:id/risk", route!(admin::set_risk))
        .put("/admin/merchants/:id/channel", route!(admin::set_channel))
        .post("/pay/:token/cashier", route!(upstream::cashier))
        .get("/pay/:token/cashier", route!(upstream::cashier))
        .post("/channels/wechat_v2/notify/:id", route!(upstream::notify))
        .get(
            "/admin/merchants/:id/application",
            route!(applications::get),
        )
        .post(
            "/admin/merchants/:id/application/:decision",
            route!(applications::decide),
        )
        .post(
            "/admin/merchants/:id/clock/advance",
            route!(admin::advance_clock),
        )
        .get("/admin/merchants/:id/orders", route!(admin::list_orders))
        .get(
            "/admin/merchants/:id/audit/verify",
            route!(admin::verify_audit),
        )
        .post("/admin/approvals/:id/:decision", route!(admin::decide))
        .post("/dev/demo-order", route!(dev::create_demo_order))
        .get("/dev/merchants/:id/sql-meter", route!(dev::sql_meter))
        .post("/dev/merchants/:id/bench-write", route!(dev::bench_write))
        .post(
            "/dev/merchants/:id/protocol-probe",
            route!(dev::protocol_probe),
        );
    t
}

fn respond(call: &Call, result: std::result::Result<Response, AppError>) -> Result<Response> {
    match result {
        Ok(resp) => Ok(resp),
        Err(err) => {
            if let AppError::Internal { detail } = &err {
                worker::console_error!("request {}: {detail}", call.request_id);
            }
            let (status, body, retry_after) = err.to_body(&call.request_id);
            let resp = json(status, &body)?;
            if let Some(secs) = retry_after {
                resp.headers().set("Retry-After", &secs.to_string())?;
            }
            Ok(resp)
        }
    }
}

/// A JSON answer that is data, not a document (204 has no body).
pub fn json(status: u16, body: &impl Serialize) -> Result<Response> {
    let resp = if status == 204 {
        Response::empty()?.with_status(204)
    } else {
        Response::from_json(body)?.with_status(status)
    };
    data_headers(&resp)?;
    Ok(resp)
}

/// A JSON answer whose body is already written (or streamed): `json` without serialising.
pub fn json_body(status: u16, body: worker::ResponseBody) -> Result<Response> {
    let resp = Response::from_body(body)?.with_status(status);
    resp.headers().set("Content-Type", "application/json")?;
    data_headers(&resp)?;
    Ok(resp)
}

/// An answer that is data: never cached, never loads or frames anything.
pub fn data_headers(resp: &Response) -> Result<()> {
    let h = resp.headers();
    h.set("Cache-Control", "no-store")?;
    h.set("Content-Security-Policy", JSON_CSP)
}

/// Reads a body of at most `max` bytes as UTF-8.
pub async fn read_body(req: &mut Request, max: usize) -> std::result::Result<String, AppError> {
    if declared_length(req).is_some_and(|n| n > max) {
        return Err(crate::request_body::too_large(max));
    }
    crate::request_body::body_text(req.bytes().await?, max)
}

/// The body's length as its client declared it (`Content-Length`), if it did.
pub fn declared_length(req: &Request) -> Option<usize> {
    let length = req.headers().get("content-length").ok().flatten()?;
    length.parse().ok()
}

/// An HTML page: never cached, no referrer, no sniffing.
pub fn html(body: String, status: u16) -> std::result::Result<Response, AppError> {
    let resp = Response::from_html(body)?.with_status(status);
    resp.headers().set("Cache-Control", "no-store")?;
    resp.headers().set("Referrer-Policy", "no-referrer")?;
    resp.headers().set("X-Content-Type-Options", "nosniff")?;
    Ok(resp)
}

/// The friendly 404 page for a pay link that does not open an order.
pub fn not_valid() -> std::result::Result<Response, AppError> {
    let resp = html(problem_page(PayPageProblem::LinkNotValid), 404)?;
    resp.headers().set("Content-Security-Policy", STRICT_CSP)?;
    Ok(resp)
}

/// A payer's page that failed on our side: logged, and answered as a page in both languages
/// that says so and what to do (reload; nothing is charged twice), never as the API's JSON.
/// A refusal (a 4xx) is the caller's to answer.
pub fn unavailable(e: AppError) -> std::result::Result<Response, AppError> {
    match e {
        AppError::Internal { detail } => {
            worker::console_error!("payer page: {detail}");
            let resp = html(problem_page(PayPageProblem::Unavailable), 503)?;
            resp.headers().set("Content-Security-Policy", STRICT_CSP)?;
            resp.headers().set("Retry-After", "5")?;
            resp.headers().set("Cache-Control", "no-store")?;
            Ok(resp)
        }
        other => Err(other),
    }
}
