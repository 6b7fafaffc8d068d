//! `/contract/{token}`: a withhold contract's page for the payer, rendered by the worker with
//! the widget's own components (the browser hydrates it): the terms and the signing form while
//! it is pending, the signed state with the way to end it, and the ended or expired state.
//! Its forms work without JavaScript. `/contract/{token}/terminate` asks the payer to confirm
//! (GET) and ends the contract (POST). A forged, expired or unknown token gets a friendly 404.

use super::{read_body, Call, Ctx};
use crate::error::AppError;
use crate::merchant::protocol::{ContractPage, ContractPageReply, EndContract, SignContract};
use crate::page::{
    contract_page, pay_page_csp, problem_page, PayPageProblem, CONTRACT_ASSETS, STRICT_CSP,
};
use crate::runtime;
use paydesk_shared::contract::{ContractPageData, ContractProblem, ContractSeed};
use paydesk_shared::sign::token::ContractToken;
use paydesk_shared::urlenc::query_param;
use paydesk_widget::contract::SignPost;
use paydesk_widget::i18n::Lang;
use worker::{Request, Response};

/// `GET /contract/{token}`.
pub async fn get(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let Some(page) = Page::open(req, ctx, call).await? else {
        return not_valid();
    };
    let reply = call.ask(&ctx.env, &page.merchant_id, page.ask()).await;
    page.answer(reply, None, false).await
}

/// `POST /contract/{token}`: the signing form.
pub async fn sign(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    if let Some(refused) = super::pay::foreign_post(req, call)? {
        return Ok(refused);
    }
    let body = read_body(req, 4 * 1024).await?;
    let Some(page) = Page::open(req, ctx, call).await? else {
        return not_valid();
    };
    let form = SignPost::parse(&body);
    let now = runtime::now_ms();
    let seed = form.seed(page.lang, now, None);
    let pay = match form.instrument(now) {
        Ok(pay) => pay,
        Err(problem) => {
            let reply = call.ask(&ctx.env, &page.merchant_id, page.ask()).await;
            return page
                .answer(reply, Some(seed_with(seed, problem)), false)
                .await;
        }
    };
    let ask = SignContract {
        contract_code: page.contract_code.clone(),
        pay,
        consent: form.consent,
    };
    match call.ask(&ctx.env, &page.merchant_id, ask).await {
        Ok(reply) => page.answer(Ok(reply), Some(seed), false).await,
        Err(e) => {
            let problem = problem_of(e)?;
            let reply = call.ask(&ctx.env, &page.merchant_id, page.ask()).await;
            page.answer(reply, Some(seed_with(seed, problem)), false)
                .await
        }
    }
}

/// `GET /contract/{token}/terminate`: the confirmation (a GET changes nothing: link
/// previewers and prefetchers open links).
pub async fn confirm_end(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let Some(page) = Page::open(req, ctx, call).await? else {
        return not_valid();
    };
    let reply = call.ask(&ctx.env, &page.merchant_id, page.ask()).await;
    page.answer(reply, None, true).await
}

/// `POST /contract/{token}/terminate`: the payer ends the contract.
pub async fn end(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    if let Some(refused) = super::pay::foreign_post(req, call)? {
        return Ok(refused);
    }
    let _ = read_body(req, 1024).await?;
    let Some(page) = Page::open(req, ctx, call).await? else {
        return not_valid();
    };
    let ask = EndContract {
        contract_code: page.contract_code.clone(),
    };
    match call.ask(&ctx.env, &page.merchant_id, ask).await {
        Ok(reply) => page.answer(Ok(reply), None, false).await,
        // Already ended or never signed: the page as it stands says so.
        Err(AppError::Refused(_)) => {
            let reply = call.ask(&ctx.env, &page.merchant_id, page.ask()).await;
            page.answer(reply, None, false).await
        }
        Err(e) => Err(e),
    }
}

/// What the page says about a refused signing.
fn problem_of(e: AppError) -> Result<ContractProblem, AppError> {
    use paydesk_shared::api::ErrorCode;
    Ok(match e {
        AppError::Refused(r) if r.code == ErrorCode::PaymentFailed => ContractProblem::Declined {
            code: r
                .reason
                .and_then(|x| x.decline_code())
                .unwrap_or("PAYMENT_FAILED")
                .into(),
        },
        AppError::Refused(r) if r.code == ErrorCode::ParamError => match r.param.as_deref() {
            Some("consent") => ContractProblem::Consent,
            _ => ContractProblem::Refused {
                code: r.code,
                message: r.message,
            },
        },
        AppError::Refused(r) if r.code.http_status() < 500 => ContractProblem::Refused {
            code: r.code,
            message: r.message,
        },
        _ => ContractProblem::Unavailable,
    })
}

fn seed_with(mut seed: ContractSeed, problem: ContractProblem) -> ContractSeed {
    seed.problem = Some(problem);
    seed
}

/// A contract page's contract, for a verified token.
struct Page {
    token: String,
    lang: Lang,
    merchant_id: String,
    contract_code: String,
}

impl Page {
    /// `None` for a forged, expired or malformed token.
    async fn open(req: &Request, ctx: &Ctx, _call: &Call) -> Result<Option<Page>, AppError> {
        let token = ctx.param("token").cloned().unwrap_or_default();
        let key = runtime::checkout_token_key(&ctx.env)?;
        let Ok(t) = ContractToken::verify(
            &token,
            &crate::mac_keys::prepared(&key),
            runtime::now_ms() / 1000,
        ) else {
            return Ok(None);
        };
        let (_, query) = runtime::path_and_query(req);
        let accept = req.headers().get("Accept-Language")?;
        let lang = Lang::negotiate(query_param(&query, "lang").as_deref(), accept.as_deref());
        Ok(Some(Page {
            token,
            lang,
            merchant_id: t.merchant_id,
            contract_code: t.contract_code,
        }))
    }

    fn ask(&self) -> ContractPage {
        ContractPage {
            contract_code: self.contract_code.clone(),
        }
    }

    /// The page for the object's answer, rendered from `seed` (or a fresh one).
    async fn answer(
        self,
        reply: Result<ContractPageReply, AppError>,
        seed: Option<ContractSeed>,
        confirm_end: bool,
    ) -> Result<Response, AppError> {
        let reply = match reply {
            Ok(r) => r,
            // No such contract or merchant: the same page as a forged link.
            Err(AppError::Refused(r)) if matches!(r.code.http_status(), 401 | 404) => {
                return not_valid()
            }
            Err(e) => return Err(e),
        };
        let mut seed = seed.unwrap_or_else(|| ContractSeed {
            lang: self.lang.code().into(),
            now_ms: runtime::now_ms(),
            ..ContractSeed::default()
        });
        seed.confirm_end = confirm_end;
        let data = ContractPageData {
            view: reply.view,
            token: self.token,
            sandbox: reply.sandbox,
            seed,
        };
        let markup = paydesk_widget::contract::render_contract_page(&data);
        let nonce = runtime::random_hex(16);
        let resp = super::html(contract_page(&data, &markup, CONTRACT_ASSETS, &nonce), 200)?;
        resp.headers()
            .set("Content-Security-Policy", &pay_page_csp(&nonce, &[]))?;
        resp.headers()
            .set("Link", &crate::page::preload_header(CONTRACT_ASSETS))?;
        Ok(resp)
    }
}

fn not_valid() -> Result<Response, AppError> {
    let resp = super::html(problem_page(PayPageProblem::ContractLinkNotValid), 404)?;
    resp.headers().set("Content-Security-Policy", STRICT_CSP)?;
    Ok(resp)
}
