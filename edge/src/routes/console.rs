//! `/console/api/...`: the console's JSON API for a merchant's staff, signed in with a session
//! cookie. The worker hashes passwords (PBKDF2-SHA256 through WebCrypto: the object only ever
//! sees hashes), signs and checks the session cookie (`HttpOnly; Secure; SameSite=Strict`), and
//! checks the CSRF token every change carries (`X-Paydesk-CSRF`, bound to the session); the
//! merchant's object checks the session is live and its role allows the operation
//! (`merchant/console_users.rs`). Users are created through the admin API.

use super::{json, json_body, read_body, Call, Ctx};
use crate::domain::console_rules::{self as rules, PBKDF2_ITERATIONS};
use crate::domain::ids::is_merchant_id;
use crate::domain::refusal::Refusal;
use crate::error::AppError;
use crate::merchant::protocol::{
    ChangeConsoleUser, ConsoleAnswer, ConsoleCall, ConsoleSalt, ConsoleSignIn, ListConsoleUsers,
    NewConsoleUser, NewPassword, RemoveConsoleUser, SignInReply, ViewKind,
};
use crate::runtime;
use paydesk_shared::api::ErrorCode;
use paydesk_shared::sign::token::ConsoleToken;
use paydesk_shared::sign::{hex_lower, hmac_sha256};
use serde::Deserialize;
use worker::{Request, Response};

const COOKIE: &str = "pd_console";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    merchant_id: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    role: String,
    password: String,
}

/// `POST /admin/merchants/{id}/console_users`: the password is hashed here, with a fresh salt.
pub async fn create_user(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    super::admin::authorize(req, ctx)?;
    let merchant_id = super::admin::merchant_param(ctx)?;
    let u: NewUser = super::admin::body(req).await?;
    let p = hashed(&u.password).await?;
    let ask = NewConsoleUser {
        email: u.email,
        role: u.role,
        salt_hex: p.salt_hex,
        hash_hex: p.hash_hex,
        iterations: p.iterations,
    };
    let user = call.ask(&ctx.env, &merchant_id, ask).await?;
    Ok(json(201, &user)?)
}

/// `POST /console/api/sign-in`: a session cookie, and the CSRF token to send with changes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserChange {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// A password checked against the rules and hashed with a fresh salt: the object only ever sees
/// the hash.
async fn hashed(password: &str) -> Result<NewPassword, AppError> {
    rules::check_password(password)?;
    let salt = runtime::random_bytes::<16>();
    let hash = runtime::pbkdf2_sha256(password.as_bytes(), &salt, PBKDF2_ITERATIONS).await?;
    Ok(NewPassword {
        salt_hex: hex_lower(&salt),
        hash_hex: hex_lower(&hash),
        iterations: PBKDF2_ITERATIONS,
    })
}

/// The `{email}` of a console user's admin path, decoded.
fn email_param(ctx: &Ctx) -> Result<String, AppError> {
    ctx.param("email")
        .and_then(|e| paydesk_shared::urlenc::path_segment(e))
        .ok_or_else(|| AppError::param("email", "the path does not name an email"))
}

/// `GET /admin/merchants/{id}/console_users`: who may use the console, and how.
pub async fn list_users(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    super::admin::authorize(req, ctx)?;
    super::admin::act(ctx, call, ListConsoleUsers {}).await
}

/// `PUT /admin/merchants/{id}/console_users/{email}` {role?, password?}: a new password is
/// hashed here, with a fresh salt, as at creation.
pub async fn change_user(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    super::admin::authorize(req, ctx)?;
    super::admin::merchant_param(ctx)?;
    let email = email_param(ctx)?;
    let c: UserChange = super::admin::body(req).await?;
    let password = match c.password {
        None => None,
        Some(p) => Some(hashed(&p).await?),
    };
    let ask = ChangeConsoleUser {
        email,
        role: c.role,
        password,
    };
    super::admin::act(ctx, call, ask).await
}

/// `DELETE /admin/merchants/{id}/console_users/{email}`: their access ends now.
pub async fn remove_user(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    super::admin::authorize(req, ctx)?;
    super::admin::merchant_param(ctx)?;
    let email = email_param(ctx)?;
    super::admin::act(ctx, call, RemoveConsoleUser { email }).await
}

/// Only the console's own script may sign in: a JSON body (a form on another site cannot send
/// one without the browser asking first) and, where the browser says, from this origin, so no
/// other site can sign a visitor into a session of its choosing.
pub async fn sign_in(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let json_body = req.headers().get("Content-Type")?.is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    if !json_body || super::pay::foreign_post(req, call)?.is_some() {
        return Err(AppError::code(
            ErrorCode::Forbidden,
            "sign in from the console's own page (a JSON body, from this origin)",
        ));
    }
    let body = read_body(req, 4 * 1024).await?;
    let s: SignIn = crate::json_text::from_text(&body)
        .map_err(|e| AppError::param("body", format!("invalid request body: {e}")))?;
    if !is_merchant_id(&s.merchant_id) {
        return Err(AppError::code(
            ErrorCode::Unauthorized,
            "wrong email or password",
        ));
    }
    let salt = call
        .ask(
            &ctx.env,
            &s.merchant_id,
            ConsoleSalt {
                email: s.email.clone(),
            },
        )
        .await?;
    let salt_bytes = paydesk_shared::sign::hex_decode_lower(&salt.salt_hex)
        .ok_or_else(|| AppError::internal("a stored salt is not hex"))?;
    let hash = runtime::pbkdf2_sha256(s.password.as_bytes(), &salt_bytes, salt.iterations).await?;
    let ask = ConsoleSignIn {
        email: s.email,
        hash_hex: hex_lower(&hash),
    };
    let session = match call.ask(&ctx.env, &s.merchant_id, ask).await? {
        SignInReply::SignedIn(session) => session,
        SignInReply::Refused {
            locked_for_secs: None,
        } => {
            return Err(AppError::code(
                ErrorCode::Unauthorized,
                "wrong email or password",
            ))
        }
        SignInReply::Refused {
            locked_for_secs: Some(secs),
        } => {
            let why = "too many failed sign-ins: this user is locked for a while";
            return Err(Refusal::new(ErrorCode::FrequencyLimited, why)
                .retry_after(secs)
                .into());
        }
    };
    let (Some(id), Some(expires)) = (session.session_id.clone(), session.expires_at_ms) else {
        return Err(AppError::internal("a sign-in without a session"));
    };
    let key = runtime::checkout_token_key(&ctx.env)?;
    let token = ConsoleToken {
        merchant_id: s.merchant_id,
        session_id: id.clone(),
        expires_at: expires / 1000,
    }
    .encode(&crate::mac_keys::prepared(&key))
    .ok_or_else(|| AppError::internal("a session cannot be tokenised"))?;
    let body = serde_json::json!({
        "email": session.email,
        "role": session.role,
        "expires_at": paydesk_shared::time::format_rfc3339(expires),
        "csrf_token": csrf(key.peek().as_bytes(), &id),
    });
    let resp = json(200, &body)?;
    let max_age = rules::SESSION_MS / 1000;
    resp.headers().set(
        "Set-Cookie",
        &format!(
            "{COOKIE}={token}; Path=/console; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
        ),
    )?;
    Ok(resp)
}

/// `/console/api/...` but sign-in: the session cookie, the CSRF token on every change, then
/// the merchant's object answers (the session's role allowing).
pub async fn handle(req: &mut Request, ctx: &Ctx, call: &Call) -> Result<Response, AppError> {
    let key = runtime::checkout_token_key(&ctx.env)?;
    let session = session_of(req, ctx)?;
    let method = req.method().to_string();
    if method != "GET" {
        let given = req
            .headers()
            .get("x-paydesk-csrf")
            .ok()
            .flatten()
            .unwrap_or_default();
        let want = csrf(key.peek().as_bytes(), &session.session_id);
        if !rules::constant_eq(given.as_bytes(), want.as_bytes()) {
            return Err(AppError::code(
                ErrorCode::Forbidden,
                "a change needs the session's CSRF token in X-Paydesk-CSRF",
            ));
        }
    }
    let (path, query) = runtime::path_and_query(req);
    // A download link asks for CSV in its query: a link cannot set `Accept`.
    let (query, wants_csv) = without_csv(&query);
    let body = read_body(req, 16 * 1024).await?;
    let session_id = session.session_id.clone();
    let ask = ConsoleCall {
        session_id: session.session_id,
        method,
        path: path.trim_start_matches("/console/api").to_owned(),
        query,
        body,
    };
    let (kind, view) = match call.ask(&ctx.env, &session.merchant_id, ask).await? {
        ConsoleAnswer::Api(r) => {
            return super::merchant_api::respond(*r, ctx, call, false, wants_csv)
        }
        ConsoleAnswer::View { kind, json } => (kind, json),
    };
    let view = match kind {
        // The page learns its CSRF token again from `me` after a reload.
        ViewKind::Me => {
            let mut me: serde_json::Value = crate::json_text::from_text(&view)?;
            me["csrf_token"] = csrf(key.peek().as_bytes(), &session_id).into();
            me.to_string()
        }
        ViewKind::Plain | ViewKind::SignedOut => view,
    };
    let resp = json_body(200, worker::ResponseBody::Body(view.into_bytes()))?;
    if kind == ViewKind::SignedOut {
        resp.headers().set(
            "Set-Cookie",
            &format!("{COOKIE}=; Path=/console; Max-Age=0; HttpOnly; Secure; SameSite=Strict"),
        )?;
    }
    Ok(resp)
}

/// The request's signed session cookie (its signature and expiry: the merchant's object checks
/// the session has not ended).
pub(super) fn session_of(req: &Request, ctx: &Ctx) -> Result<ConsoleToken, AppError> {
    let key = runtime::checkout_token_key(&ctx.env)?;
    let cookie = req
        .headers()
        .get("cookie")
        .ok()
        .flatten()
        .unwrap_or_default();
    let token = cookie
        .split(';')
        .filter_map(|c| c.trim().strip_prefix(&format!("{COOKIE}=")))
        .next()
        .unwrap_or_default();
    ConsoleToken::verify(
        token,
        &crate::mac_keys::prepared(&key),
        runtime::now_ms() / 1000,
    )
    .map_err(|_| {
        AppError::code(
            ErrorCode::Unauthorized,
            "not signed in, or the session ended",
        )
    })
}

/// `GET /console`: the console's page; its wasm (`www/pkg/paydesk_console*`, built from the
/// widget crate with `console-page`) renders everything, through `/console/api`.
pub async fn page(_: &mut Request, _: &Ctx, _: &Call) -> Result<Response, AppError> {
    let doc = r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>paydesk 商户控制台 · console</title>
<link rel="stylesheet" href="/console.css">
<script type="module" src="/console.js"></script>
</head>
<body>
<div id="console-root"><noscript>The console needs JavaScript. 控制台需要启用 JavaScript。</noscript></div>
</body>
</html>
"#;
    let resp = super::html(doc.to_owned(), 200)?;
    resp.headers().set(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; \
         style-src 'self'; img-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )?;
    Ok(resp)
}

/// The query without its `format=csv`, and whether it had one.
fn without_csv(query: &str) -> (String, bool) {
    let kept: Vec<&str> = query.split('&').filter(|p| *p != "format=csv").collect();
    let csv = kept.len() != query.split('&').count();
    (kept.join("&"), csv)
}

/// The CSRF token of a session: only the worker's key makes it, and only its session's
/// requests carry it.
fn csrf(key: &[u8], session_id: &str) -> String {
    hex_lower(&hmac_sha256(key, &[b"paydesk-console-csrf\n", session_id.as_bytes()])[..16])
}
