//! `/pay/{token}`: the pay page, rendered by the worker with the widget's own components, and
//! its form, paid without JavaScript.

use super::{html, not_valid, read_body, Call, Ctx};
use crate::domain::merchant_rules;
use crate::error::AppError;
use crate::merchant::protocol::{Checkout, Pay};
use crate::page::{
    pay_page, pay_page_csp, problem_page, PayPageProblem, STRICT_CSP, WIDGET_ASSETS,
};
use crate::runtime;
use paydesk_shared::api::{NextStep, PayResult};
use paydesk_shared::sign::token::TokenBuf;
use paydesk_shared::urlenc::query_param;
use paydesk_shared::{OrderStatus, PayOutcome, PayPageData, RenderSeed};
use paydesk_widget::form::FormPost;
use paydesk_widget::i18n::Lang;
use worker::{Request, Response};

/// `GET /pay/{token}`: the pay page of the order the token names, rendered by the widget's own
/// components (the browser hydrates it), or a friendly 404 page for a forged, expired or unknown
/// one (the payer is not told which).
pub async fn get(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let (_, query) = runtime::path_and_query(req);
    if let Some(how) = query_param(&query, "receipt") {
        return super::receipts::payer(ctx, call, how == "json").await;
    }
    let page = match load(req, ctx, call).await {
        Ok(Some(page)) => page,
        Ok(None) => return not_valid(),
        Err(e) => return super::unavailable(e),
    };
    let seed = RenderSeed {
        lang: page.lang.code().into(),
        now_ms: page.now_ms,
        submission_key: runtime::random_hex(16),
        ..RenderSeed::default()
    };
    page.render(seed).await
}

/// `POST /pay/{token}`: the pay form of the page, posted without JavaScript. Validated by the
/// widget's reducer, paid through the same ledger command as the checkout API (the form's
/// one-time key makes a repeated post answer the first one's result instead of paying again),
/// answered with the page rendered again: success, or the retry prompt with the method kept.
pub async fn post(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    if let Some(refused) = foreign_post(req, call)? {
        return Ok(refused);
    }
    let body = read_body(req, 4 * 1024).await?;
    let page = match load(req, ctx, call).await {
        Ok(Some(page)) => page,
        Ok(None) => return not_valid(),
        Err(e) => return super::unavailable(e),
    };
    let form = FormPost::parse(&body);
    let (lang, now) = (page.lang, page.now_ms);
    let fresh_key = runtime::random_hex(16);
    if !form.key_ok() {
        // Not a post of our page (or a tampered one): the page afresh, nothing sent.
        return page
            .render(form.seed(lang, now, None, None, fresh_key))
            .await;
    }
    let pay = match form.submit(&page.data.view, lang, now) {
        Ok(pay) => pay,
        // An entry to fix, or an order that cannot be paid now: the page as the reducer sees it.
        Err(state) => {
            let seed = form.seed(
                lang,
                now,
                None,
                state.field_error,
                form.submission_key.clone(),
            );
            return page.render(seed).await;
        }
    };
    let ask = Pay {
        out_trade_no: page.out_trade_no.clone(),
        pay,
        client_ip: req.headers().get("cf-connecting-ip").ok().flatten(),
    };
    let answer = outcome(call.ask(&ctx.env, &page.merchant_id, ask).await);
    // After a lost answer the same key must be posted again (it may have paid); after any other
    // answer a new attempt needs a new key.
    let next_key = if answer == PayOutcome::Unavailable {
        form.submission_key.clone()
    } else {
        fresh_key
    };
    let seed = form.seed(lang, now, Some(answer), None, next_key);
    page.render(seed).await
}

/// What the page says about the ledger's answer to its form: paid, pending, declined with the
/// next step, refused for the order's state, or no answer (the payer may post the same key again).
fn outcome(sent: Result<PayResult, AppError>) -> PayOutcome {
    match sent {
        Ok(r) => match r.status {
            OrderStatus::Success if r.code.is_some() => PayOutcome::InReview,
            OrderStatus::Success => PayOutcome::Paid,
            OrderStatus::UserPaying => PayOutcome::Pending,
            _ => PayOutcome::Declined {
                code: r.code.unwrap_or_default(),
                message: r.message.unwrap_or_default(),
                next_step: r.next_step.unwrap_or(NextStep::None),
            },
        },
        Err(AppError::Refused(r)) if r.code.http_status() < 500 => PayOutcome::Refused {
            code: r.code.as_str().into(),
            message: r.message,
        },
        Err(_) => PayOutcome::Unavailable,
    }
}

/// A pay page's order, loaded for a verified token.
pub struct Page {
    pub data: PayPageData,
    lang: Lang,
    pub merchant_id: String,
    pub out_trade_no: String,
    ancestors: Vec<String>,
    /// Paid through an upstream channel's cashier (`cashier_page.rs`).
    cashier: bool,
    /// The merchant's business time when the order was read: the deadline's clock.
    pub now_ms: i64,
}

/// The order the token names, as its pay page shows it; `None` for a forged, expired or
/// unknown token.
pub async fn load(req: &Request, ctx: &Ctx, call: &Call) -> Result<Option<Page>, AppError> {
    let token = ctx.param("token").cloned().unwrap_or_default();
    let mut buf = TokenBuf::new();
    let t = match super::checkout::verify_token(ctx, &mut buf) {
        Ok(t) => t,
        Err(AppError::Refused(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let ask = Checkout {
        out_trade_no: t.id.to_owned(),
    };
    let c = match call.ask(&ctx.env, t.merchant_id, ask).await {
        Ok(c) => c,
        // No such order or merchant: the same page as a forged link.
        Err(AppError::Refused(r)) if matches!(r.code.http_status(), 401 | 404) => return Ok(None),
        Err(e) => return Err(e),
    };
    // Who may frame this page: the merchant's allowed origins (and this origin in dev, for the
    // demo shop). The page only ever posts messages to the embedding origin it was opened for,
    // and only if that origin is allowed.
    let mut ancestors = c.allowed_origins;
    if call.dev {
        ancestors.push(call.origin.clone());
    }
    let (_, query) = runtime::path_and_query(req);
    let param = |name: &str| query_param(&query, name);
    // Compared as browsers serialise origins: an allowed origin written `https://Shop.example`
    // or with `:443` is the page's `https://shop.example`.
    let embed_origin =
        param("embed").filter(|o| ancestors.iter().any(|a| merchant_rules::same_origin(a, o)));
    let accept = req.headers().get("Accept-Language")?;
    let lang = Lang::negotiate(param("lang").as_deref(), accept.as_deref());
    Ok(Some(Page {
        data: PayPageData {
            view: c.view,
            token,
            embed_origin,
            sandbox: c.sandbox,
            seed: RenderSeed::default(),
        },
        lang,
        merchant_id: t.merchant_id.to_owned(),
        out_trade_no: t.id.to_owned(),
        ancestors,
        cashier: c.cashier,
        now_ms: c.now_ms,
    }))
}

impl Page {
    /// The page, server-rendered from `seed`, with its CSP.
    async fn render(mut self, seed: RenderSeed) -> Result<Response, AppError> {
        let payable = matches!(
            self.data.view.status,
            OrderStatus::NotPay | OrderStatus::PayError
        );
        if self.cashier && payable {
            return self.cashier_page(None, false);
        }
        self.data.seed = seed;
        let markup = paydesk_widget::render_page(&self.data);
        let nonce = runtime::random_hex(16);
        let resp = html(pay_page(&self.data, &markup, WIDGET_ASSETS, &nonce), 200)?;
        resp.headers().set(
            "Content-Security-Policy",
            &pay_page_csp(&nonce, &self.ancestors),
        )?;
        resp.headers()
            .set("Link", &crate::page::preload_header(WIDGET_ASSETS))?;
        Ok(resp)
    }
}

impl Page {
    /// The page of an order paid at the upstream's cashier, with what went wrong last.
    pub fn cashier_page(
        &self,
        problem: Option<crate::cashier_page::Problem>,
        dev: bool,
    ) -> Result<Response, AppError> {
        let page = crate::cashier_page::cashier_page(
            &self.data.view,
            &self.data.token,
            problem,
            self.data.embed_origin.as_deref(),
        );
        self.cashier_response(page, dev)
    }

    /// The QR code of a NATIVE hand-off, asking again every few seconds.
    pub fn qr_page(&self, code_url: &str, dev: bool) -> Result<Response, AppError> {
        let page = crate::cashier_page::qr_page(&self.data.view, &self.data.token, code_url);
        self.cashier_response(page, dev)
    }

    fn cashier_response(&self, page: String, dev: bool) -> Result<Response, AppError> {
        let resp = html(page, 200)?;
        resp.headers().set("Cache-Control", "no-store")?;
        // Framed only where it was opened embedded, by the merchant's allowed origins.
        let ancestors: &[String] = match self.data.embed_origin {
            Some(_) => &self.ancestors,
            None => &[],
        };
        resp.headers().set(
            "Content-Security-Policy",
            &crate::cashier_page::cashier_csp(dev, ancestors),
        )?;
        Ok(resp)
    }
}

/// A form on another site must not drive this one's payments or contracts: the 403 page for
/// such a post. Browsers say where a post comes from in `Sec-Fetch-Site`; older ones in
/// `Origin` (`null` under our pages' no-referrer policy, so only a named foreign origin is
/// refused there).
pub fn foreign_post(req: &Request, call: &Call) -> Result<Option<Response>, AppError> {
    let site = req.headers().get("Sec-Fetch-Site")?;
    let origin = req.headers().get("Origin")?;
    let foreign = match site.as_deref() {
        Some(s) => s != "same-origin" && s != "none",
        None => origin.is_some_and(|o| o != call.origin && o != "null"),
    };
    if !foreign {
        return Ok(None);
    }
    let resp = html(problem_page(PayPageProblem::LinkNotValid), 403)?;
    resp.headers().set("Content-Security-Policy", STRICT_CSP)?;
    Ok(Some(resp))
}
