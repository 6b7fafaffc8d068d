//! Dev-only routes: they exist when `PAYDESK_ENV=dev` (local `.dev.vars`) and answer 404
//! everywhere else.

use super::Ctx;
use crate::config::Deployment;
use crate::domain::ids;
use crate::error::AppError;
use crate::merchant::{client, protocol::Command, protocol::Reply};
use crate::runtime;
use paydesk_shared::sign::token::CheckoutToken;
use paydesk_shared::{Branding, Money};
use serde::{Deserialize, Serialize};
use worker::{Request, Response};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DemoOrderRequest {
    /// Minor units; default ¥12.34.
    amount: Option<u64>,
    description: Option<String>,
}

#[derive(Serialize)]
struct DemoOrderResponse {
    merchant_id: String,
    out_trade_no: String,
    transaction_id: String,
    amount: Money,
    checkout_url: String,
}

/// A dev-only demo order of the demo merchant, with its pay page URL.
pub async fn create_demo_order(req: &mut Request, ctx: &Ctx) -> Result<Response, AppError> {
    if runtime::deployment(&ctx.env) != Deployment::Dev {
        return Err(AppError::DevOnly);
    }
    let body = req.bytes().await?;
    let input: DemoOrderRequest = if body.is_empty() {
        DemoOrderRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| AppError::Param {
            param: "body",
            message: format!("not a demo order request: {e}"),
        })?
    };
    let amount = Money::new(input.amount.unwrap_or(1234), paydesk_shared::Currency::Cny)
        .ok()
        .filter(|m| m.total > 0)
        .ok_or(AppError::Param {
            param: "amount",
            message: "amount must be a positive integer of fen".into(),
        })?;
    let description = input
        .description
        .unwrap_or_else(|| "铁观音乌龙茶 250g · Tieguanyin oolong tea".into());
    if description.is_empty() || description.chars().count() > 127 {
        return Err(AppError::Param {
            param: "description",
            message: "description must be 1-127 characters".into(),
        });
    }

    let demo = runtime::demo_merchant(&ctx.env)?;
    let branding = Branding {
        display_name: "演示茶馆 Demo Tea House".into(),
        logo_url: Some("/demo/logo.svg".into()),
        filing_text: Some("沪ICP备00000000号 · dev-only demo merchant".into()),
        theme_color: Some("#0a7d5a".into()),
    };
    let seeded = client::send(
        &ctx.env,
        &demo.merchant_id,
        &Command::SeedDemoMerchant {
            merchant_id: demo.merchant_id.clone(),
            branding,
        },
    )
    .await?;
    if seeded != Reply::Ok {
        return Err(AppError::Internal(format!(
            "seeding demo merchant: {seeded:?}"
        )));
    }

    let now = runtime::now_ms();
    let time_expire_ms = now + 24 * 3600 * 1000;
    let cmd = Command::CreateDemoOrder {
        out_trade_no: ids::demo_out_trade_no(now, runtime::random_bytes()),
        transaction_id: ids::transaction_id(now, runtime::random_bytes()),
        amount,
        description,
        now_ms: now,
        time_expire_ms,
    };
    let order = match client::send(&ctx.env, &demo.merchant_id, &cmd).await? {
        Reply::Order(o) => o,
        other => {
            return Err(AppError::Internal(format!(
                "creating demo order: {other:?}"
            )))
        }
    };
    let token = CheckoutToken {
        merchant_id: demo.merchant_id.clone(),
        out_trade_no: order.out_trade_no.clone(),
        // A day past the deadline, so a late payer still sees the order's final state.
        expires_at: time_expire_ms / 1000 + 24 * 3600,
    }
    .encode(runtime::checkout_token_key(&ctx.env)?.peek().as_bytes())
    .ok_or_else(|| AppError::Internal("demo order number cannot be tokenised".into()))?;
    let resp = Response::from_json(&DemoOrderResponse {
        merchant_id: demo.merchant_id,
        out_trade_no: order.out_trade_no,
        transaction_id: order.transaction_id,
        amount: order.amount,
        checkout_url: format!("{}/pay/{token}", runtime::origin(req)),
    })?;
    Ok(resp.with_status(201))
}
