//! `GET /api/health` (is the server up, and does its storage answer) and `GET /api/live` (is the
//! worker up, nothing else: the runtime's floor for load balancers and the bench).

use super::{Call, Ctx};
use crate::error::AppError;
use crate::merchant::protocol::ProbeStorage;
use serde::Serialize;
use worker::{Request, Response};

/// How long the storage probe may take before health says storage does not answer.
const PROBE_TIMEOUT_MS: u64 = 5_000;

/// The Durable Object that the probe writes to: not a merchant's (merchant ids are `mch_…`).
const PROBE_OBJECT: &str = "paydesk:storage-probe";

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    commit: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage: Option<Storage>,
}

#[derive(Serialize)]
struct Storage {
    /// `ok`, or `failing` with `error`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn health(storage: Option<Storage>) -> Health {
    let failing = storage.as_ref().is_some_and(|s| s.status != "ok");
    Health {
        status: if failing { "failing" } else { "ok" },
        version: env!("CARGO_PKG_VERSION"),
        commit: env!("PAYDESK_GIT_COMMIT"),
        storage,
    }
}

/// `GET /api/live`: the worker answers, with the version and commit of the running build.
pub async fn live(_req: &mut Request, _ctx: &Ctx, _call: &Call) -> Result<Response, AppError> {
    Ok(Response::from_json(&health(None))?)
}

/// `GET /api/health`: as `/api/live`, after a write and its read-back through a Durable Object's
/// SQLite; 503 with `storage.error` when that fails or takes over 5 s.
pub async fn get(_req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let storage = match probe(ctx, call).await {
        Ok(()) => Storage {
            status: "ok",
            error: None,
        },
        Err(e) => Storage {
            status: "failing",
            error: Some(e),
        },
    };
    let code = if storage.status == "ok" { 200 } else { 503 };
    Ok(Response::from_json(&health(Some(storage)))?.with_status(code))
}

async fn probe(ctx: &Ctx, call: &Call) -> Result<(), String> {
    use futures_util::future::{select, Either};
    let asking = Box::pin(call.ask(&ctx.env, PROBE_OBJECT, ProbeStorage {}));
    let timeout = Box::pin(worker::Delay::from(std::time::Duration::from_millis(
        PROBE_TIMEOUT_MS,
    )));
    match select(asking, timeout).await {
        Either::Left((Ok(p), _)) if p.at_ms > 0 => Ok(()),
        Either::Left((Ok(_), _)) => Err("the probe's write was not read back".into()),
        Either::Left((Err(e), _)) => {
            // Internal details go to the log, not to whoever asked.
            worker::console_error!("health: the storage probe failed: {e:?}");
            Err("the storage probe failed (the server's log says why)".into())
        }
        Either::Right(_) => Err(format!("no answer within {PROBE_TIMEOUT_MS} ms")),
    }
}
