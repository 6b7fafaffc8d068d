//! One module per API surface. Each handler returns `Result<Response, AppError>`; [`respond`]
//! is the one place an error becomes HTTP.

mod dev;
mod health;
mod pay;

use crate::error::AppError;
use crate::runtime;
use worker::{Env, Request, Response, Result, RouteContext, Router};

pub async fn handle(req: Request, env: Env) -> Result<Response> {
    Router::new()
        .get_async("/api/health", |req, ctx| async move {
            respond(&req, health::get(&req, &ctx).await)
        })
        .get_async("/pay/:token", |req, ctx| async move {
            respond(&req, pay::get(&req, &ctx).await)
        })
        .post_async("/dev/demo-order", |mut req, ctx| async move {
            let r = dev::create_demo_order(&mut req, &ctx).await;
            respond(&req, r)
        })
        .or_else_any_method("/*path", |req, _| respond(&req, Err(AppError::NotFound)))
        .run(req, env)
        .await
}

pub type Ctx = RouteContext<()>;

fn respond(req: &Request, result: std::result::Result<Response, AppError>) -> Result<Response> {
    match result {
        Ok(resp) => Ok(resp),
        Err(err) => {
            let request_id = req
                .headers()
                .get("cf-ray")
                .ok()
                .flatten()
                .unwrap_or_else(|| runtime::random_hex(8));
            if let AppError::Internal(detail) = &err {
                worker::console_error!("request {request_id}: {detail}");
            }
            let (status, body) = err.to_body(&request_id);
            Ok(Response::from_json(&body)?.with_status(status))
        }
    }
}
