//! Micro-benchmarks of the signing on every request (`cargo xtask bench`, or
//! `cargo bench -p paydesk-shared --bench signing`).
//!
//! Each group measures one operation beside `sha256_same_bytes`: plain SHA-256 of the bytes the
//! operation authenticates, the floor no HMAC over those bytes can beat. The bench profile inherits
//! the release profile, so the hash crates run at opt-level 3 as they do in the product.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use paydesk_shared::sign::{
    self, params,
    request::SignedRequest,
    token::{CheckoutToken, TokenBuf},
    webhook, MacKey,
};
use std::hint::black_box;
use std::time::Duration;

const API_KEY: &[u8] = b"sk_bench_0123456789abcdef0123456789abcdef";
const WEBHOOK_SECRET: &[u8] = b"whsec_bench_0123456789abcdef01234567";
const TOKEN_KEY: &[u8] = b"checkout_bench_0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_795_778_560;

/// A typical `POST /v1/orders` body.
const ORDER_BODY: &[u8] = br#"{"out_trade_no":"BENCH_20261201_000123","amount":{"total":12800,"currency":"CNY"},"description":"Oolong tea, 250 g tin","notify_url":"https://shop.example.com/paydesk/notify","attach":"cart=8812"}"#;

/// A typical `order.paid` notification body.
const EVENT_BODY: &[u8] = br#"{"id":"evt_0f5c2a9e1b7d4c3a","type":"order.paid","created_at":"2026-12-01T08:15:02Z","data":{"out_trade_no":"BENCH_20261201_000123","transaction_id":"4200001234202612010123456789","status":"SUCCESS","amount":{"total":12800,"currency":"CNY"},"description":"Oolong tea, 250 g tin","created_at":"2026-12-01T08:14:31Z","time_expire":"2026-12-02T08:14:31Z","checkout_url":"https://pay.example.com/pay/MTc5NTc3ODU2MC5tY2hfYmVuY2guQkVOQ0g.abc","paid_at":"2026-12-01T08:15:02Z","method":"credit_card","refunded_total":0,"attach":"cart=8812"}}"#;

/// A `/pay/unifiedorder` request's parameters, as a v2 SDK sends them.
const V2_PARAMS: &[(&str, &str)] = &[
    ("appid", "wxd930ea5d5a258f4f"),
    ("mch_id", "10000100"),
    ("device_info", "1000"),
    ("body", "Oolong tea, 250 g tin"),
    ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ("out_trade_no", "BENCH20261201000123"),
    ("total_fee", "12800"),
    ("spbill_create_ip", "123.12.12.123"),
    ("notify_url", "https://shop.example.com/wxpay/notify"),
    ("trade_type", "NATIVE"),
    ("product_id", "tea-250g"),
    ("attach", "cart=8812"),
    ("sign_type", "MD5"),
];

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

fn floor(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, bytes: &[u8]) {
    g.bench_function("sha256_same_bytes", |b| {
        b.iter(|| sign::sha256(black_box(bytes)))
    });
}

fn request_signature(c: &mut Criterion) {
    let ts = NOW.to_string();
    let req = SignedRequest {
        method: "POST",
        path_and_query: "/v1/orders",
        timestamp: &ts,
        nonce: "5f2b9c0e7a1d4e3f8a6b2c1d",
        body: ORDER_BODY,
    };
    let signature = req.sign(API_KEY);
    let signed = format!("POST\n/v1/orders\n{ts}\n{}\n", req.nonce).into_bytes();
    let signed = [signed.as_slice(), ORDER_BODY, b"\n"].concat();
    let mut g = c.benchmark_group("request signature verify");
    g.throughput(Throughput::Bytes(signed.len() as u64));
    // The server prepares each key once (edge/src/mac_keys.rs), so the hot path is verify_with.
    let key = MacKey::new(API_KEY);
    g.bench_function("paydesk", |b| {
        b.iter(|| assert!(black_box(&req).verify_with(black_box(&key), black_box(&signature))))
    });
    floor(&mut g, &signed);
    g.finish();
}

fn webhook_signing(c: &mut Criterion) {
    let signed = [NOW.to_string().as_bytes(), b".", EVENT_BODY].concat();
    let mut g = c.benchmark_group("webhook signature header");
    g.throughput(Throughput::Bytes(signed.len() as u64));
    g.bench_function("paydesk", |b| {
        b.iter(|| {
            webhook::signature_header(&[black_box(WEBHOOK_SECRET)], NOW, black_box(EVENT_BODY))
        })
    });
    floor(&mut g, &signed);
    g.finish();

    let header = webhook::signature_header(&[WEBHOOK_SECRET], NOW, EVENT_BODY);
    let mut g = c.benchmark_group("webhook signature verify");
    g.throughput(Throughput::Bytes(signed.len() as u64));
    g.bench_function("paydesk", |b| {
        b.iter(|| {
            webhook::verify(
                &[black_box(WEBHOOK_SECRET)],
                black_box(&header),
                EVENT_BODY,
                NOW,
            )
            .unwrap()
        })
    });
    floor(&mut g, &signed);
    g.finish();
}

fn v2_params(c: &mut Criterion) {
    let key = "192006250b4c09247ec02edce69f6a2d";
    let signed = params::string_to_sign(V2_PARAMS.iter().copied(), key);
    for (name, st) in [
        ("v2 parameter sign MD5", params::SignType::Md5),
        (
            "v2 parameter sign HMAC-SHA256",
            params::SignType::HmacSha256,
        ),
    ] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(signed.len() as u64));
        g.bench_function("paydesk", |b| {
            b.iter(|| params::sign(black_box(V2_PARAMS).iter().copied(), key, st))
        });
        floor(&mut g, signed.as_bytes());
        g.finish();
    }
}

fn checkout_token(c: &mut Criterion) {
    let token = CheckoutToken {
        merchant_id: "mch_0f5c2a9e1b7d4c3a".into(),
        out_trade_no: "BENCH_20261201_000123".into(),
        expires_at: NOW + 86_400,
    }
    .encode(&MacKey::new(TOKEN_KEY))
    .expect("a valid token");
    let key = MacKey::new(TOKEN_KEY);
    let mut g = c.benchmark_group("checkout token verify");
    g.throughput(Throughput::Bytes(token.len() as u64));
    // As the edge reads a token on every payer request (edge/src/routes/checkout.rs): a fresh
    // buffer on the stack, the ids borrowed from it.
    g.bench_function("paydesk", |b| {
        b.iter(|| {
            let mut buf = TokenBuf::new();
            let c = CheckoutToken::read(black_box(&token), black_box(&key), NOW, &mut buf).unwrap();
            black_box((c.merchant_id, c.id));
        })
    });
    floor(&mut g, token.as_bytes());
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = request_signature, webhook_signing, v2_params, checkout_token
}
criterion_main!(benches);
