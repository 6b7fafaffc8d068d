//! `/admin/merchants/{id}/application`: the operator reviews a merchant's application to
//! collect live money (`merchant/onboarding.rs`).

use super::admin::{act, authorize, body, merchant_param};
use super::{Call, Ctx};
use crate::domain::limits::Tier;
use crate::error::AppError;
use crate::merchant::protocol::{DecideApplication, GetApplication};
use crate::runtime;
use paydesk_shared::urlenc::query_pairs;
use serde::Deserialize;
use worker::{Request, Response};

/// `GET …/application[?reveal=true]`: masked, or opened (audited).
pub async fn get(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    let (_, query) = runtime::path_and_query(req);
    let mut reveal = false;
    for (k, v) in query_pairs(&query) {
        match (k.as_str(), v.as_str()) {
            ("reveal", "true") => reveal = true,
            ("reveal", "false") => reveal = false,
            (k, _) => {
                return Err(AppError::param(
                    k,
                    "the only parameter is reveal=true|false",
                ))
            }
        }
    }
    act(ctx, call, GetApplication { reveal }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    /// The application the operator read; a newer one in its place refuses the decision.
    #[serde(default)]
    application_id: Option<i64>,
    #[serde(default)]
    tier: Option<Tier>,
    #[serde(default)]
    reason: String,
}

/// `POST …/application/approve|reject {tier?, reason}`.
pub async fn decide(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    authorize(req, ctx)?;
    merchant_param(ctx)?;
    let approve = match ctx.param("decision").map(String::as_str) {
        Some("approve") => true,
        Some("reject") => false,
        _ => {
            return Err(AppError::code(
                paydesk_shared::api::ErrorCode::NotFound,
                "approve or reject",
            ))
        }
    };
    let d: Decision = body(req).await?;
    if !approve && d.tier.is_some() {
        return Err(AppError::param("tier", "a rejection has no tier"));
    }
    let decision = DecideApplication {
        application_id: d.application_id,
        approve,
        tier: d.tier,
        reason: d.reason,
    };
    act(ctx, call, decision).await
}
