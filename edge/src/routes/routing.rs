//! The worker's side of the routing table (`route_table.rs`): what a handler is, what it gets
//! besides the request, and the table built once per isolate.

use crate::route_table::{Found, Table};
use std::future::Future;
use std::pin::Pin;
use worker::{Env, Method, Request, Response, Result};

/// What a handler gets besides the request: the worker's bindings and the path's parameters.
pub struct Ctx {
    pub env: Env,
    params: Vec<(String, String)>,
}

impl Ctx {
    /// The value of `:key` (or `*key`) in the matched path pattern.
    pub fn param(&self, key: &str) -> Option<&String> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

pub type Handler = fn(Request, Ctx) -> Pin<Box<dyn Future<Output = Result<Response>>>>;

/// The table, with a word per method as workers-rs's `Router` has.
#[derive(Default)]
pub struct Routes(Table<Method, Handler>);

impl Routes {
    pub fn get(&mut self, pattern: &str, h: Handler) -> &mut Self {
        self.0.add(&[Method::Get], pattern, h);
        self
    }

    pub fn post(&mut self, pattern: &str, h: Handler) -> &mut Self {
        self.0.add(&[Method::Post], pattern, h);
        self
    }

    pub fn put(&mut self, pattern: &str, h: Handler) -> &mut Self {
        self.0.add(&[Method::Put], pattern, h);
        self
    }

    pub fn delete(&mut self, pattern: &str, h: Handler) -> &mut Self {
        self.0.add(&[Method::Delete], pattern, h);
        self
    }

    /// Every method, as `Router::on_async`.
    pub fn any(&mut self, pattern: &str, h: Handler) -> &mut Self {
        self.0.add(&Method::all(), pattern, h);
        self
    }

    /// Runs the request's route; `otherwise` answers a wrong method or an unknown path.
    pub async fn run(
        routes: &'static std::thread::LocalKey<Routes>,
        req: Request,
        env: Env,
        otherwise: impl FnOnce(Found<Handler>, &Request, &Env) -> Result<Response>,
    ) -> Result<Response> {
        // As workers-rs: a path another method routes is 405, HEAD, OPTIONS and TRACE aside.
        let others = [
            Method::Get,
            Method::Post,
            Method::Put,
            Method::Patch,
            Method::Delete,
            Method::Connect,
            Method::Report,
        ];
        match routes.with(|r| r.0.find(&req.method(), &req.path(), &others)) {
            Found::Route(handler, params) => handler(req, Ctx { env, params }).await,
            other => otherwise(other, &req, &env),
        }
    }
}
