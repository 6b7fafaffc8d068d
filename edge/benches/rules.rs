//! Micro-benchmarks of the pure rules on the order path (`cargo xtask bench`, or
//! `cargo bench -p paydesk-edge --bench rules`): validation of `POST /v1/orders` and one step of
//! the order state machine. Beside each, SHA-256 of the same bytes, for scale (see
//! shared/benches/signing.rs).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use paydesk_edge::domain::order_rules::validate;
use paydesk_edge::domain::state::{transition, Event};
use paydesk_shared::api::CreateOrder;
use paydesk_shared::{Money, OrderStatus};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

const NOW_MS: i64 = 1_795_778_560_000;

/// The same typical body as in shared/benches/signing.rs, with tags and a deadline.
const ORDER_BODY: &str = r#"{"out_trade_no":"BENCH_20261201_000123","amount":{"total":12800,"currency":"CNY"},"description":"Oolong tea, 250 g tin","time_expire":"2026-12-02T08:14:31Z","timeout_action":"remind","notify_url":"https://shop.example.com/paydesk/notify","attach":"cart=8812","tags":{"channel":"web","campaign":"winter"},"limit_pay":["balance","credit_card"]}"#;

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

fn floor(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, bytes: &[u8]) {
    g.bench_function("sha256_same_bytes", |b| {
        b.iter(|| paydesk_shared::sign::sha256(black_box(bytes)))
    });
}

fn order_validation(c: &mut Criterion) {
    let items = BTreeMap::from([("tea-250g".to_owned(), Money::cny(8800))]);
    let req: CreateOrder = serde_json::from_str(ORDER_BODY).expect("a valid body");
    validate(&req, &items, NOW_MS, false).expect("a valid order");

    let mut g = c.benchmark_group("order validation");
    g.throughput(Throughput::Bytes(ORDER_BODY.len() as u64));
    g.bench_function("paydesk", |b| {
        b.iter(|| validate(black_box(&req), &items, NOW_MS, false).unwrap())
    });
    floor(&mut g, ORDER_BODY.as_bytes());
    g.finish();

    let mut g = c.benchmark_group("order body parse + validation");
    g.throughput(Throughput::Bytes(ORDER_BODY.len() as u64));
    g.bench_function("paydesk", |b| {
        b.iter(|| {
            let req: CreateOrder = serde_json::from_str(black_box(ORDER_BODY)).unwrap();
            validate(&req, &items, NOW_MS, false).unwrap()
        })
    });
    floor(&mut g, ORDER_BODY.as_bytes());
    g.finish();
}

fn state_machine(c: &mut Criterion) {
    let mut g = c.benchmark_group("order state machine step");
    g.bench_function("paydesk", |b| {
        b.iter(|| {
            transition(
                black_box(OrderStatus::UserPaying),
                black_box(Event::PaySucceeded),
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = order_validation, state_machine
}
criterion_main!(benches);
