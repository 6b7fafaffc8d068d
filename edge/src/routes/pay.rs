use super::{Call, Ctx};
use crate::error::AppError;
use crate::merchant::{client, protocol::Command};
use crate::page::{
    pay_page, pay_page_csp, problem_page, PayPageProblem, STRICT_CSP, WIDGET_ASSETS,
};
use crate::runtime;
use paydesk_shared::{CheckoutView, PayPageData};
use worker::{Request, Response};

/// `GET /pay/{token}`: the pay page of the order the token names, or a friendly 404 page for a
/// forged, expired or unknown one (the payer is not told which).
pub async fn get(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let token = ctx.param("token").cloned().unwrap_or_default();
    let t = match super::checkout::verify_token(ctx) {
        Ok(t) => t,
        Err(AppError::Code { .. }) => return not_valid(),
        Err(e) => return Err(e),
    };
    let cmd = Command::Checkout {
        out_trade_no: t.out_trade_no,
    };
    let reply = client::send(
        &ctx.env,
        &t.merchant_id,
        &call.request_id,
        &call.origin,
        call.dev,
        cmd,
    )
    .await?;
    if reply.status == 404 || reply.status == 401 {
        return not_valid();
    }
    if reply.status != 200 {
        return Err(AppError::Internal(format!(
            "checkout view: {}",
            reply.status
        )));
    }
    #[derive(serde::Deserialize)]
    struct Checkout {
        view: CheckoutView,
        sandbox: bool,
        allowed_origins: Vec<String>,
    }
    let c: Checkout = serde_json::from_value(reply.body)?;
    // Who may frame this page: the merchant's allowed origins (and this origin in dev, for the
    // demo shop). The page only ever posts messages to the embedding origin it was opened for,
    // and only if that origin is allowed.
    let mut ancestors = c.allowed_origins;
    if call.dev {
        ancestors.push(call.origin.clone());
    }
    let (_, query) = runtime::path_and_query(req);
    let embed_origin = query
        .split('&')
        .find_map(|p| p.strip_prefix("embed="))
        .map(percent_decode)
        .filter(|o| ancestors.iter().any(|a| a == o));
    let data = PayPageData {
        view: c.view,
        token,
        embed_origin,
        sandbox: c.sandbox,
    };
    let nonce = runtime::random_hex(16);
    let resp = html(pay_page(&data, WIDGET_ASSETS, &nonce), 200)?;
    resp.headers()
        .set("Content-Security-Policy", &pay_page_csp(&nonce, &ancestors))?;
    Ok(resp)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            s.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn not_valid() -> Result<Response, AppError> {
    let resp = html(problem_page(PayPageProblem::LinkNotValid), 404)?;
    resp.headers().set("Content-Security-Policy", STRICT_CSP)?;
    Ok(resp)
}

fn html(body: String, status: u16) -> Result<Response, AppError> {
    let resp = Response::from_html(body)?.with_status(status);
    resp.headers().set("Cache-Control", "no-store")?;
    resp.headers().set("Referrer-Policy", "no-referrer")?;
    resp.headers().set("X-Content-Type-Options", "nosniff")?;
    Ok(resp)
}
