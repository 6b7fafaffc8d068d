use super::{Call, Ctx};
use crate::error::AppError;
use serde::Serialize;
use worker::{Request, Response};

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    commit: &'static str,
}

/// `GET /api/health`: liveness, with the version and commit of the running build.
pub async fn get(_req: &mut Request, _ctx: &Ctx, _call: &Call) -> Result<Response, AppError> {
    Ok(Response::from_json(&Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        commit: env!("PAYDESK_GIT_COMMIT"),
    })?)
}
