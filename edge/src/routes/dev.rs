//! Dev-only routes: they exist when `PAYDESK_ENV=dev` (local `.dev.vars`) and answer 404
//! everywhere else. The demo shop's "server side": it creates orders for the demo merchant
//! exactly as a merchant server would, through the signed API with the demo key.

use super::{read_body, Call, Ctx};
use crate::config::{DemoMerchant, Secret};
use crate::error::AppError;
use crate::merchant::protocol::{
    ApiBody, ApiRequest, CreateMerchant, MerchantConfig, MerchantSetup,
};
use crate::runtime;
use paydesk_shared::sign::request::SignedRequest;
use paydesk_shared::{Branding, Money};
use serde::Deserialize;
use worker::{Request, Response};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DemoOrderRequest {
    /// Minor units; default ¥12.34.
    amount: Option<i64>,
    description: Option<String>,
    time_expire: Option<String>,
    timeout_action: Option<String>,
}

/// The dev-only demo merchant, created on first use (and left as it is after).
fn demo_setup(ctx: &Ctx, demo: &DemoMerchant) -> CreateMerchant {
    let webhook_secret = Secret::new(
        ctx.env
            .secret("DEMO_WEBHOOK_SECRET")
            .map(|s| s.to_string())
            .unwrap_or_default(),
    );
    let setup = MerchantSetup {
        merchant_id: demo.merchant_id.clone(),
        name: "Demo Tea House".into(),
        tier: crate::domain::limits::Tier::Enterprise,
        sandbox: true,
        branding: Branding {
            display_name: "演示茶馆 Demo Tea House".into(),
            logo_url: Some("/demo/logo.svg".into()),
            filing_text: Some("沪ICP备00000000号 · dev-only demo merchant".into()),
            theme_color: Some("#0a7d5a".into()),
            guarantee_text: None,
        },
        config: MerchantConfig {
            items: [("tea-250g".to_owned(), Money::cny(8800))]
                .into_iter()
                .collect(),
            ..MerchantConfig::default()
        },
        api_key: demo.api_key.clone(),
        webhook_secret,
        group_id: None,
    };
    CreateMerchant {
        setup: Box::new(setup),
        ensure: true,
    }
}

pub async fn create_demo_order(
    req: &mut Request,
    ctx: &Ctx,
    call: &Call,
) -> Result<Response, AppError> {
    if !call.dev {
        return Err(AppError::DevOnly);
    }
    let text = read_body(req, 8 * 1024).await?;
    let input: DemoOrderRequest = if text.is_empty() {
        DemoOrderRequest::default()
    } else {
        crate::json_text::from_text(&text)
            .map_err(|e| AppError::param("body", format!("not a demo order request: {e}")))?
    };
    let demo = runtime::demo_merchant(&ctx.env)?;
    call.ask(&ctx.env, &demo.merchant_id, demo_setup(ctx, &demo))
        .await?;

    let now = runtime::now_ms();
    let mut order = serde_json::json!({
        "out_trade_no": crate::domain::ids::demo_out_trade_no(now, runtime::random_bytes()),
        "amount": {"total": input.amount.unwrap_or(1234), "currency": "CNY"},
        "description": input.description.unwrap_or_else(|| "铁观音乌龙茶 250g · Tieguanyin oolong tea".into()),
    });
    if let Some(t) = input.time_expire {
        order["time_expire"] = t.into();
    }
    if let Some(a) = input.timeout_action {
        order["timeout_action"] = a.into();
    }
    let body = order.to_string();
    let timestamp = (now / 1000).to_string();
    let nonce = runtime::random_hex(24);
    let signature = SignedRequest {
        method: "POST",
        path_and_query: "/v1/orders",
        timestamp: &timestamp,
        nonce: &nonce,
        body: body.as_bytes(),
    }
    .sign(demo.api_key.peek().as_bytes());
    let api = ApiRequest {
        method: "POST".into(),
        path: "/v1/orders".into(),
        query: String::new(),
        timestamp,
        nonce,
        signature,
        body,
        client_ip: None,
        render: false,
        declared_json: false,
    };
    let reply = call.ask(&ctx.env, &demo.merchant_id, api).await?;
    if reply.status != 201 {
        return super::merchant_api::render(reply, false);
    }
    // The demo shop also learns whose order it is.
    let ApiBody::Order(order) = reply.body else {
        return Err(AppError::internal(
            "a created order answered without the order",
        ));
    };
    let mut body = serde_json::to_value(order)?;
    body["merchant_id"] = demo.merchant_id.into();
    Ok(super::json(201, &body)?)
}

/// `GET /dev/merchants/{id}/sql-meter`: what the merchant's object has asked of its SQLite since
/// it started, requests and alarms apart (`merchant/sql_meter.rs`). The bench reads it before
/// and after a run of creates.
pub async fn sql_meter(_req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    if !call.dev {
        return Err(AppError::DevOnly);
    }
    super::admin::act(ctx, call, crate::merchant::protocol::ReadSqlMeter {}).await
}

/// `POST /dev/merchants/{id}/bench-write`: one `INSERT` in the merchant's object and nothing
/// else, the bench's floor for what a write through a Durable Object costs.
pub async fn bench_write(_req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    if !call.dev {
        return Err(AppError::DevOnly);
    }
    super::admin::act(ctx, call, crate::merchant::protocol::BenchWrite {}).await
}

/// `POST /dev/merchants/{id}/protocol-probe`: the bench write sent as a worker of another
/// protocol version would send it (`merchant/protocol.rs`, `PROTOCOL`); answered with the
/// object's refusal as a client would get it.
pub async fn protocol_probe(
    _req: &mut Request,
    ctx: &Ctx,
    call: &Call,
) -> Result<Response, AppError> {
    if !call.dev {
        return Err(AppError::DevOnly);
    }
    let id = super::admin::merchant_param(ctx)?;
    let written = call.ask_as_another_version(&ctx.env, &id).await?;
    super::json(200, &written).map_err(AppError::from)
}
