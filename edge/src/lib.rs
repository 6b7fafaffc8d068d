//! paydesk-edge: the Cloudflare Worker. `fetch` builds the router and delegates; everything else
//! lives in `routes/` (surfaces), `domain/` (pure rules), `merchant/` (the Durable Object).

pub mod cashier_page;
pub mod channel;
pub mod config;
// Compiled by `build.rs`, which minifies the pages' stylesheet with it; here for its tests.
#[cfg(test)]
mod css_min;
pub mod domain;
pub mod error;
pub mod json_text;
pub mod mac_keys;
pub mod merchant;
pub mod page;
pub mod receipt_page;
pub mod request_body;
pub mod route_table;
pub mod xml;

#[cfg(target_arch = "wasm32")]
mod routes;
#[cfg(target_arch = "wasm32")]
mod runtime;

#[cfg(target_arch = "wasm32")]
pub use merchant::MerchantDO;

#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(
    req: worker::Request,
    env: worker::Env,
    _ctx: worker::Context,
) -> worker::Result<worker::Response> {
    routes::handle(req, env).await
}
