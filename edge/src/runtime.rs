//! Thin access to the runtime: clock, randomness, configuration from the environment.

use crate::config::{DemoMerchant, Deployment, Secret};
use crate::error::AppError;
use wasm_bindgen::prelude::*;
use worker::{Env, Request};

#[wasm_bindgen]
extern "C" {
    /// Web Crypto's CSPRNG, present in every Workers isolate.
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);

    /// Web Crypto's `subtle.importKey`.
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(
        format: &str,
        key: &js_sys::Uint8Array,
        algorithm: &str,
        extractable: bool,
        usages: &js_sys::Array,
    ) -> Result<js_sys::Promise, JsValue>;

    /// Web Crypto's `subtle.deriveBits`.
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = deriveBits, catch)]
    fn derive_bits(
        algorithm: &js_sys::Object,
        key: &JsValue,
        length: u32,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// PBKDF2-SHA256 of a password through the runtime's Web Crypto (native code, not wasm: the
/// console's password hashes, `routes/console.rs`).
pub async fn pbkdf2_sha256(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Result<[u8; 32], AppError> {
    use wasm_bindgen_futures::JsFuture;
    let fail = |e: JsValue| AppError::internal(format!("PBKDF2 failed: {e:?}"));
    let usages = js_sys::Array::of1(&JsValue::from_str("deriveBits"));
    let pw = js_sys::Uint8Array::from(password);
    let key = JsFuture::from(import_key("raw", &pw, "PBKDF2", false, &usages).map_err(fail)?)
        .await
        .map_err(fail)?;
    let alg = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&alg, &JsValue::from_str(k), v);
    set("name", &JsValue::from_str("PBKDF2")).map_err(fail)?;
    set("hash", &JsValue::from_str("SHA-256")).map_err(fail)?;
    set("salt", &js_sys::Uint8Array::from(salt)).map_err(fail)?;
    set("iterations", &JsValue::from_f64(f64::from(iterations))).map_err(fail)?;
    let bits = JsFuture::from(derive_bits(&alg, &key, 256).map_err(fail)?)
        .await
        .map_err(fail)?;
    let bytes = js_sys::Uint8Array::new(&bits).to_vec();
    bytes
        .try_into()
        .map_err(|_| AppError::internal("PBKDF2 gave other than 32 bytes"))
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    get_random_values(&mut buf);
    buf
}

pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    get_random_values(&mut buf);
    paydesk_shared::sign::hex_lower(&buf)
}

/// Sends `req`, giving up (and aborting it) after `timeout_ms`: `None` if no answer came in time.
/// Notifications (`merchant/outbox.rs`) and the upstream channel (`merchant/upstream.rs`) go out
/// through it.
pub async fn send_within(
    req: worker::Request,
    timeout_ms: u64,
) -> worker::Result<Option<worker::Response>> {
    use futures_util::future::{select, Either};
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let fetch = worker::Fetch::Request(req);
    let sending = Box::pin(fetch.send_with_signal(&signal));
    let timeout = Box::pin(worker::Delay::from(std::time::Duration::from_millis(
        timeout_ms,
    )));
    let answer = match select(sending, timeout).await {
        Either::Left((resp, _)) => resp.map(Some),
        Either::Right(_) => Ok(None),
    };
    if matches!(answer, Ok(None)) {
        controller.abort();
    }
    answer
}

/// Real wall-clock time in unix milliseconds: the static `Date.now()`, which builds no `Date`
/// object (`worker::Date::now` does, and every request reads the clock a few times).
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

pub fn deployment(env: &Env) -> Deployment {
    Deployment::from_var(
        env.var("PAYDESK_ENV")
            .ok()
            .map(|v| v.to_string())
            .as_deref(),
    )
}

fn secret(env: &Env, name: &str) -> Result<Secret, AppError> {
    env.secret(name)
        .map(|s| Secret::new(s.to_string()))
        .map_err(|_| AppError::internal(format!("secret {name} is not configured")))
}

/// The deployment's receipt signing keys (`RECEIPT_SIGNING_KEYS`; the first signs).
pub fn receipt_keys(env: &Env) -> Result<Vec<crate::domain::receipt_rules::ReceiptKey>, AppError> {
    let keys = secret(env, "RECEIPT_SIGNING_KEYS")?;
    crate::domain::receipt_rules::parse_keys(keys.peek()).map_err(AppError::internal)
}

/// The deployment's data keys (`DATA_KEYS`; the first seals), for personal and business data
/// kept sealed at rest (`domain/sealing.rs`).
pub fn data_keys(env: &Env) -> Result<Vec<crate::domain::sealing::DataKey>, AppError> {
    let keys = secret(env, "DATA_KEYS")?;
    crate::domain::sealing::parse_keys(keys.peek()).map_err(AppError::internal)
}

pub fn checkout_token_key(env: &Env) -> Result<Secret, AppError> {
    let key = secret(env, "CHECKOUT_TOKEN_KEY")?;
    if key.peek().len() < 32 {
        return Err(AppError::internal(
            "CHECKOUT_TOKEN_KEY must be at least 32 characters",
        ));
    }
    Ok(key)
}

pub fn demo_merchant(env: &Env) -> Result<DemoMerchant, AppError> {
    let merchant_id = secret(env, "DEMO_MERCHANT_ID")?.peek().to_owned();
    if !crate::domain::ids::is_merchant_id(&merchant_id) {
        return Err(AppError::internal("DEMO_MERCHANT_ID is not a merchant id"));
    }
    Ok(DemoMerchant {
        merchant_id,
        api_key: secret(env, "DEMO_API_KEY")?,
    })
}

/// `scheme://host[:port]` of the request, from its Host header (no URL parsing: the URL crate's tables cost wasm size).
pub fn origin(req: &Request) -> String {
    let host = req
        .headers()
        .get("host")
        .ok()
        .flatten()
        .unwrap_or_else(|| "localhost".into());
    let local =
        host.starts_with("127.0.0.1") || host.starts_with("localhost") || host.starts_with("[::1]");
    let scheme = if local { "http" } else { "https" };
    format!("{scheme}://{host}")
}

/// The path and the query (without `?`) of the request, from the raw URL string: no URL
/// parsing (the URL crate's tables cost wasm size).
pub fn path_and_query(req: &Request) -> (String, String) {
    let url = req.inner().url();
    let after_scheme = url.split_once("://").map_or(url.as_str(), |x| x.1);
    let pq = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let pq = pq.split('#').next().unwrap_or("/");
    match pq.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (pq.to_owned(), String::new()),
    }
}
