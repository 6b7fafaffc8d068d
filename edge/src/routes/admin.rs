//! `/admin/...`: operator API, authenticated by `Authorization: Bearer <ADMIN_TOKEN>`.

use super::{read_body, relay, Call, Ctx};
use crate::domain::{ids, merchant_rules};
use crate::error::AppError;
use crate::merchant::client;
use crate::merchant::protocol::{AdminAction, Command, MerchantConfig, MerchantSetup};
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::sign::ct_eq;
use serde::Deserialize;
use worker::{Request, Response};

fn authorize(req: &Request, ctx: &Ctx) -> Result<(), AppError> {
    let token = ctx
        .env
        .secret("ADMIN_TOKEN")
        .map(|s| s.to_string())
        .map_err(|_| AppError::Internal("ADMIN_TOKEN is not configured".into()))?;
    if token.len() < 16 {
        return Err(AppError::Internal(
            "ADMIN_TOKEN must be at least 16 characters".into(),
        ));
    }
    let given = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let given = given.strip_prefix("Bearer ").unwrap_or("");
    if !ct_eq(given.as_bytes(), token.as_bytes()) {
        return Err(AppError::code(
            ErrorCode::Unauthorized,
            "a valid admin token is required",
        ));
    }
    Ok(())
}

fn merchant_param(ctx: &Ctx) -> Result<String, AppError> {
    let id = ctx.param("id").cloned().unwrap_or_default();
    if !ids::is_merchant_id(&id) {
        return Err(AppError::code(
            ErrorCode::MerchantNotExist,
            "no such merchant",
        ));
    }
    Ok(id)
}

async fn body<T: for<'de> Deserialize<'de>>(req: &mut Request) -> Result<T, AppError> {
    let text = read_body(req, 64 * 1024).await?;
    serde_json::from_str(&text)
        .map_err(|e| AppError::param("body", format!("invalid request body: {e}")))
}

async fn action(
    ctx: &Ctx,
    call: &Call,
    merchant_id: &str,
    action: AdminAction,
) -> Result<Response, AppError> {
    let approval = matches!(action, AdminAction::Decide { .. });
    let cmd = Command::Admin(action);
    let reply = client::send(
        &ctx.env,
        merchant_id,
        &call.request_id,
        &call.origin,
        call.dev,
        cmd,
    )
    .await?;
    // To an authenticated admin, a merchant that does not exist is a missing resource (404),
    // not an authentication failure as it is on the merchant API.
    if reply.body.get("code").and_then(|c| c.as_str()) == Some(ErrorCode::MerchantNotExist.as_str())
    {
        return Err(if approval {
            AppError::code(ErrorCode::ApprovalNotExist, "no such approval")
        } else {
            AppError::code(ErrorCode::NotFound, "no such merchant")
        });
    }
    relay(reply)
}

pub async fn create_merchant(
    req: &mut Request,
    ctx: &Ctx,
    call: &Call,
) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    let m: merchant_rules::NewMerchant = body(req).await?;
    merchant_rules::validate(&m, call.dev).map_err(|e| AppError::param(e.param, e.message))?;
    let merchant_id = ids::merchant_id(runtime::random_bytes());
    let api_key = format!("sk_{}", runtime::random_hex(24));
    let webhook_secret = format!("whsec_{}", runtime::random_hex(24));
    let setup = MerchantSetup {
        merchant_id: merchant_id.clone(),
        name: m.name,
        tier: m.tier,
        sandbox: m.sandbox,
        branding: m.branding,
        config: MerchantConfig {
            notify_url: m.notify_url,
            backup_notify_url: m.backup_notify_url,
            ip_allowlist: m.ip_allowlist,
            allowed_origins: m.allowed_origins,
            approval_levels: m.approval_levels,
            rate_limits: m.rate_limits.unwrap_or_default(),
            daily_limit: m.daily_limit,
            items: m.items,
            utc_offset_minutes: m
                .utc_offset_minutes
                .unwrap_or(crate::domain::limits::DEFAULT_UTC_OFFSET_MINUTES),
            remind_grace_seconds: m.remind_grace_seconds.unwrap_or(24 * 3600),
            refund_approval_above: m.refund_approval_above,
        },
        api_key: api_key.clone(),
        webhook_secret: webhook_secret.clone(),
    };
    let reply = client::send(
        &ctx.env,
        &merchant_id,
        &call.request_id,
        &call.origin,
        call.dev,
        Command::CreateMerchant {
            setup: Box::new(setup),
            ensure: false,
        },
    )
    .await?;
    if reply.status != 201 {
        return relay(reply);
    }
    let resp = Response::from_json(&serde_json::json!({
        "merchant_id": merchant_id,
        "api_key": api_key,
        "webhook_secret": webhook_secret,
    }))?
    .with_status(201);
    resp.headers().set("Cache-Control", "no-store")?;
    Ok(resp)
}

pub async fn get_merchant(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    action(ctx, call, &merchant_param(ctx)?, AdminAction::Get).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RotateKey {
    grace_seconds: Option<u32>,
}

/// Which secret a rotation replaces.
#[derive(Clone, Copy)]
enum Rotated {
    ApiKey,
    WebhookSecret,
}

/// Mints a new secret, keeps the old one valid for the grace period, answers the new one once.
async fn rotate(
    req: &mut Request,
    ctx: &Ctx,
    call: &Call,
    which: Rotated,
) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    let id = merchant_param(ctx)?;
    let r: RotateKey = body(req).await?;
    let grace_seconds = r.grace_seconds.unwrap_or(24 * 3600);
    if grace_seconds > 7 * 86_400 {
        return Err(AppError::param(
            "grace_seconds",
            "grace_seconds must be at most 604800 (7 days)",
        ));
    }
    let (field, secret, action) = match which {
        Rotated::ApiKey => {
            let new_key = format!("sk_{}", runtime::random_hex(24));
            (
                "api_key",
                new_key.clone(),
                AdminAction::RotateKey {
                    new_key,
                    grace_seconds,
                },
            )
        }
        Rotated::WebhookSecret => {
            let new_secret = format!("whsec_{}", runtime::random_hex(24));
            (
                "webhook_secret",
                new_secret.clone(),
                AdminAction::RotateWebhookSecret {
                    new_secret,
                    grace_seconds,
                },
            )
        }
    };
    let reply = client::send(
        &ctx.env,
        &id,
        &call.request_id,
        &call.origin,
        call.dev,
        Command::Admin(action),
    )
    .await?;
    if reply.status != 200 {
        return relay(reply);
    }
    let mut body = reply.body;
    body[field] = serde_json::Value::String(secret);
    let resp = Response::from_json(&body)?;
    resp.headers().set("Cache-Control", "no-store")?;
    Ok(resp)
}

pub async fn rotate_key(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    rotate(req, ctx, call, Rotated::ApiKey).await
}

pub async fn rotate_webhook_secret(
    req: &mut Request,
    ctx: &Ctx,
    call: &Call,
) -> Result<Response, AppError> {
    rotate(req, ctx, call, Rotated::WebhookSecret).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reactivate {
    document_ref: String,
}

pub async fn reactivate(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    let id = merchant_param(ctx)?;
    let r: Reactivate = body(req).await?;
    action(
        ctx,
        call,
        &id,
        AdminAction::Reactivate {
            document_ref: r.document_ref,
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: u64,
}

pub async fn advance_clock(
    req: &mut Request,
    ctx: &Ctx,
    call: &Call,
) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    let id = merchant_param(ctx)?;
    let a: Advance = body(req).await?;
    action(
        ctx,
        call,
        &id,
        AdminAction::AdvanceClock { seconds: a.seconds },
    )
    .await
}

pub async fn list_orders(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    let id = merchant_param(ctx)?;
    let (_, query) = runtime::path_and_query(req);
    let mut status = None;
    let mut cursor = None;
    let mut limit = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "status" => status = Some(v.to_owned()),
            "cursor" => cursor = Some(v.to_owned()),
            "limit" => {
                limit = Some(
                    v.parse()
                        .map_err(|_| AppError::param("limit", "limit must be 1-100"))?,
                )
            }
            _ => {
                return Err(AppError::param(
                    "query",
                    format!("unknown query parameter {k}"),
                ))
            }
        }
    }
    action(
        ctx,
        call,
        &id,
        AdminAction::ListOrders {
            status,
            cursor,
            limit,
        },
    )
    .await
}

pub async fn verify_audit(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    action(ctx, call, &merchant_param(ctx)?, AdminAction::VerifyAudit).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    approver: String,
}

pub async fn decide(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    let approval_id = ctx.param("id").cloned().unwrap_or_default();
    let approve = match ctx.param("decision").map(String::as_str) {
        Some("approve") => true,
        Some("reject") => false,
        _ => return Err(AppError::not_found()),
    };
    // `apr_<merchant hex>_<random>` names its merchant.
    let merchant_id = approval_id
        .strip_prefix("apr_")
        .and_then(|r| r.split('_').next())
        .map(|hex| format!("mch_{hex}"))
        .filter(|m| ids::is_merchant_id(m))
        .ok_or_else(|| AppError::code(ErrorCode::ApprovalNotExist, "no such approval"))?;
    let d: Decision = body(req).await?;
    action(
        ctx,
        call,
        &merchant_id,
        AdminAction::Decide {
            approval_id,
            approver: d.approver,
            approve,
        },
    )
    .await
}
