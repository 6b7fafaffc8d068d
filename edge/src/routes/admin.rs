//! `/admin/...`: operator API, authenticated by `Authorization: Bearer <ADMIN_TOKEN>`.

use super::{json, read_body, Call, Ctx};
use crate::config::Secret;
use crate::domain::risk_rules::RiskConfig;
use crate::domain::{admin_rules, ids, merchant_rules};
use crate::error::AppError;
use crate::merchant::protocol::{
    AdvanceClock, Ask, CreateMerchant, Decide, GetMerchant, JoinPool, ListOrders, MerchantConfig,
    MerchantSetup, Reactivate, RotateSecret, SecretKind, SetRisk, Unfreeze, VerifyAudit,
};
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::sign::ct_eq;
use serde::Deserialize;
use worker::{Request, Response};

pub(super) fn authorize(req: &Request, ctx: &Ctx) -> Result<(), AppError> {
    let token = ctx
        .env
        .secret("ADMIN_TOKEN")
        .map(|s| s.to_string())
        .map_err(|_| AppError::internal("ADMIN_TOKEN is not configured"))?;
    if token.len() < 16 {
        return Err(AppError::internal(
            "ADMIN_TOKEN must be at least 16 characters",
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

pub(super) fn merchant_param(ctx: &Ctx) -> Result<String, AppError> {
    let id = ctx.param("id").cloned().unwrap_or_default();
    if !ids::is_merchant_id(&id) {
        return Err(AppError::code(
            ErrorCode::MerchantNotExist,
            "no such merchant",
        ));
    }
    Ok(id)
}

pub(super) async fn body<T: for<'de> Deserialize<'de>>(req: &mut Request) -> Result<T, AppError> {
    let text = read_body(req, 64 * 1024).await?;
    crate::json_text::from_text(&text)
        .map_err(|e| AppError::param("body", format!("invalid request body: {e}")))
}

/// Asks the merchant's object as an authenticated admin: to them, a merchant that does not
/// exist is a missing resource (404), not an authentication failure as on the merchant API.
async fn ask<A: Ask>(
    ctx: &Ctx,
    call: &Call,
    merchant_id: &str,
    command: A,
) -> Result<A::Reply, AppError> {
    call.ask(&ctx.env, merchant_id, command)
        .await
        .map_err(|e| match e.refusal() {
            Some(r) if r.code == ErrorCode::MerchantNotExist => {
                AppError::code(ErrorCode::NotFound, "no such merchant")
            }
            _ => e,
        })
}

/// An admin action on the merchant named in the path, answered as JSON.
pub(super) async fn act<A: Ask>(ctx: &Ctx, call: &Call, command: A) -> Result<Response, AppError> {
    let reply = ask(ctx, call, &merchant_param(ctx)?, command).await?;
    Ok(json(200, &reply)?)
}

pub async fn create_merchant(
    req: &mut Request,
    ctx: &Ctx,
    call: &Call,
) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    let m: merchant_rules::NewMerchant = body(req).await?;
    merchant_rules::validate(&m, call.dev)?;
    let merchant_id = ids::merchant_id(runtime::random_bytes());
    if let Some(group_id) = &m.group_id {
        join_pool(ctx, call, group_id, &merchant_id, m.sandbox).await?;
    }
    let api_key = Secret::new(format!("sk_{}", runtime::random_hex(24)));
    let webhook_secret = Secret::new(format!("whsec_{}", runtime::random_hex(24)));
    let defaults = MerchantConfig::default();
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
            rate_limits: m.rate_limits.unwrap_or(defaults.rate_limits),
            daily_limit: m.daily_limit,
            items: m.items,
            utc_offset_minutes: m.utc_offset_minutes.unwrap_or(defaults.utc_offset_minutes),
            remind_grace_seconds: m
                .remind_grace_seconds
                .unwrap_or(defaults.remind_grace_seconds),
            refund_approval_above: m.refund_approval_above,
            dunning: m.dunning.unwrap_or_default(),
            validity_days: m.validity_days,
            release_days: m.release_days.unwrap_or(defaults.release_days),
            auto_refund_hours: m.auto_refund_hours,
            industry: m.industry,
            risk: m.risk.unwrap_or_default(),
        },
        api_key: api_key.clone(),
        webhook_secret: webhook_secret.clone(),
        group_id: m.group_id,
    };
    let create = CreateMerchant {
        setup: Box::new(setup),
        ensure: false,
    };
    call.ask(&ctx.env, &merchant_id, create).await?;
    // The only time the keys are shown.
    let keys = serde_json::json!({
        "merchant_id": merchant_id,
        "api_key": api_key.peek(),
        "webhook_secret": webhook_secret.peek(),
    });
    Ok(json(201, &keys)?)
}

/// The group takes the new merchant into its pool before the merchant exists, so no
/// settlement of the member can reach a group that does not know it.
async fn join_pool(
    ctx: &Ctx,
    call: &Call,
    group_id: &str,
    member_id: &str,
    sandbox: bool,
) -> Result<(), AppError> {
    let no_group = || AppError::param("group_id", "group_id names no merchant");
    if !ids::is_merchant_id(group_id) {
        return Err(no_group());
    }
    let join = JoinPool {
        member_id: member_id.to_owned(),
        sandbox,
    };
    match call.ask(&ctx.env, group_id, join).await {
        Err(e)
            if e.refusal()
                .is_some_and(|r| r.code == ErrorCode::MerchantNotExist) =>
        {
            Err(no_group())
        }
        other => other.map(|_| ()),
    }
}

pub async fn get_merchant(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    act(ctx, call, GetMerchant {}).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RotateKey {
    grace_seconds: Option<u32>,
}

/// Mints a new secret, keeps the old one valid for the grace period, answers the new one once.
async fn rotate(
    req: &mut Request,
    ctx: &Ctx,
    call: &Call,
    kind: SecretKind,
) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    let id = merchant_param(ctx)?;
    let r: RotateKey = body(req).await?;
    let grace_seconds = admin_rules::rotation_grace(r.grace_seconds)?;
    let (field, prefix) = match kind {
        SecretKind::ApiKey => ("api_key", "sk"),
        SecretKind::WebhookSecret => ("webhook_secret", "whsec"),
    };
    let new_secret = Secret::new(format!("{prefix}_{}", runtime::random_hex(24)));
    let rotation = RotateSecret {
        kind,
        new_secret: new_secret.clone(),
        grace_seconds,
    };
    let rotated = ask(ctx, call, &id, rotation).await?;
    let mut answer = serde_json::to_value(rotated)?;
    answer[field] = new_secret.peek().into();
    Ok(json(200, &answer)?)
}

pub async fn rotate_key(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    rotate(req, ctx, call, SecretKind::ApiKey).await
}

pub async fn rotate_webhook_secret(
    req: &mut Request,
    ctx: &Ctx,
    call: &Call,
) -> Result<Response, AppError> {
    rotate(req, ctx, call, SecretKind::WebhookSecret).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReactivateBody {
    document_ref: String,
}

pub async fn reactivate(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    let r: ReactivateBody = body(req).await?;
    let document_ref = r.document_ref;
    act(ctx, call, Reactivate { document_ref }).await
}

pub async fn unfreeze(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    let u: Unfreeze = body(req).await?;
    act(ctx, call, u).await
}

/// `POST /admin/merchants/{id}/reseal`: after a new data key leads `DATA_KEYS`, re-seals a
/// batch of what older keys sealed; called until nothing remains (docs/messaging.md).
pub async fn reseal(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    act(ctx, call, crate::merchant::protocol::Reseal {}).await
}

/// `PUT /admin/merchants/{id}/risk`: the merchant's risk rules, whole.
pub async fn set_risk(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    let risk: RiskConfig = body(req).await?;
    act(ctx, call, SetRisk { risk }).await
}

/// `PUT /admin/merchants/{id}/channel`: the upstream channel the merchant is paid through.
pub async fn set_channel(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    let config: crate::domain::upstream_rules::ChannelConfig = body(req).await?;
    act(ctx, call, crate::merchant::protocol::SetChannel { config }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    seconds: u64,
}

pub async fn advance_clock(
    req: &mut Request,
    ctx: &Ctx,
    call: &Call,
) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    let a: AdvanceBody = body(req).await?;
    act(ctx, call, AdvanceClock { seconds: a.seconds }).await
}

pub async fn list_orders(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    let (_, query) = runtime::path_and_query(req);
    act(ctx, call, ListOrders::from_query(&query)?).await
}

pub async fn verify_audit(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    act(ctx, call, VerifyAudit {}).await
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
    let no_such = || AppError::code(ErrorCode::ApprovalNotExist, "no such approval");
    let merchant_id = ids::merchant_of_approval(&approval_id).ok_or_else(no_such)?;
    let d: Decision = body(req).await?;
    let decide = Decide {
        approval_id,
        approver: d.approver,
        approve,
    };
    let decided = call
        .ask(&ctx.env, &merchant_id, decide)
        .await
        .map_err(|e| match e.refusal() {
            Some(r) if r.code == ErrorCode::MerchantNotExist => no_such(),
            _ => e,
        })?;
    Ok(json(200, &decided)?)
}
