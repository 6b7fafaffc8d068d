// What an order create asks of the merchant's SQLite does not grow with the merchant's history.
// Counted, not timed: the dev-only meter (edge/src/merchant/sql_meter.rs) reports the statements
// each request ran and the rows SQLite read for them, so a statement that walks every order, or
// every held one, shows as rows read that rise with the ledger however fast the machine is.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { advance, alarmAt, call, CARD, createOrder, newMerchant, pay, sqlMeter as meter, tokenOf } from './support/api.mjs';

const LIMITS = { create: 100_000, query: 100_000, refund: 100_000 };

/**
 * `n` creates, one at a time, a minute of the test clock after the history. One new nonce in 16
 * forgets the expired ones, and one new rate window entry in 16 likewise (edge/src/domain/
 * limits.rs, NONCE_PRUNE_EVERY and RATE_PRUNE_EVERY), so 16 consecutive creates run each of those
 * statements exactly once, wherever the counts start. The first 16 let go of the entries the
 * history left in the rate window (the test clock's walk does not: edge/src/merchant/
 * deadlines.rs, forget_expired_requests), and are not counted.
 */
async function perCreate(w, m, n) {
  await advance(w, m, 61);
  for (let i = 0; i < 16; i++) await createOrder(w, m);
  const a = await meter(w, m);
  for (let i = 0; i < n; i++) await createOrder(w, m);
  const b = await meter(w, m);
  const per = (k) => (b[k] - a[k]) / n;
  return { statements: per('statements'), rows_read: per('rows_read'), rows_written: per('rows_written') };
}

/** `n` orders, `inFlight` at a time, every `payEvery`-th paid (held until fulfilment). */
async function history(w, m, n, payEvery, inFlight = 8) {
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const o = await createOrder(w, m);
      if (i % payEvery === 0) assert.equal((await pay(w, o, CARD('4242424242424242'))).status, 200);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

test('a_create_costs_the_same_statements_and_rows_after_a_long_history', async (t) => {
  const w = await startWorker();
  try {
    const m = await newMerchant(w, { rate_limits: LIMITS });
    await history(w, m, 12, 3);
    const early = await perCreate(w, m, 16);
    await history(w, m, 480, 6);
    const late = await perCreate(w, m, 16);
    t.diagnostic(`per create after 12 orders: ${JSON.stringify(early)}; after 492: ${JSON.stringify(late)}`);
    assert.equal(late.statements, early.statements, `statements per create: ${early.statements} -> ${late.statements}`);
    // Four in all (docs/architecture.md, "What a request costs": the insert finds out whether
    // the number is taken, with no lookup before it), and one in 16 creates runs each of the two
    // prunes: a fifth would be a statement every create pays for.
    assert.ok(early.statements <= 4 + 2 / 16, `statements per create: ${early.statements}`);
    assert.ok(late.rows_read <= early.rows_read + 1, `rows read per create: ${early.rows_read} -> ${late.rows_read}`);
    assert.equal(late.rows_written, early.rows_written);
    // Cloudflare bills each table row and each index entry written. The indexes on what a new
    // order lacks (a contract, a subscription period, an instalment, a payment, a charge time, a
    // pending payment) are partial (edge/src/merchant/schema.rs, migration 32), so a create adds
    // no entry to them, the nonce log has no index (migration 33), held money is indexed only
    // while held (migration 34), and the rate window is one table keyed as it is read (migration
    // 35): 11 rows, where it wrote 12 while the window's entries had an index beside them, 13
    // while every order had an entry in `orders_held`, 15 while nonces were indexed by nonce and
    // by time, and 21 while the indexes on what a new order lacks held NULLs.
    assert.ok(early.rows_written < 12, `rows written per create: ${early.rows_written}`);
  } finally {
    await w.stop();
  }
});

/**
 * A new merchant with one order awaiting payment, then `n` runs of `request(m, o)` between two
 * readings of the meter: what each run cost, once the object's alarm is checked to still wait for
 * the order's deadline (the default deadline keeps its milliseconds; the answer shows whole
 * seconds). `first` runs before the first reading.
 */
async function besideAnOrder(n, request, first = async () => {}) {
  const w = await startWorker();
  try {
    const m = await newMerchant(w, { rate_limits: LIMITS });
    const o = await createOrder(w, m);
    const ask = (path, init) => fetch(`${w.url}${path}`, init);
    await first(w, m, o, ask);
    const before = await meter(w, m);
    for (let i = 0; i < n; i++) await request(w, m, o, ask);
    const after = await meter(w, m);
    const alarm = await alarmAt(w, m);
    assert.equal(alarm - (alarm % 1000), Date.parse(o.time_expire), 'the alarm still waits for the order');
    const per = (k) => (after[k] - before[k]) / n;
    return { statements: per('statements'), rows_written: per('rows_written') };
  } finally {
    await w.stop();
  }
}

const ok = async (r) => assert.equal(r.status, 200, await r.text());

test('the_benchs_one_insert_write_is_one_statement_and_leaves_the_alarm', async () => {
  // The floor order create is measured against (bench/lib/edge_load.mjs) must be what it says:
  // one INSERT, with no look at what falls due (edge/src/merchant/object.rs, bench_write).
  const per = await besideAnOrder(4, async (w, m, o, ask) => ok(await ask(`/dev/merchants/${m.merchant_id}/bench-write`, { method: 'POST' })));
  assert.deepEqual(per, { statements: 1, rows_written: 1 }, 'one statement and one row per write');
});

test('an_order_query_reads_its_order_once_and_leaves_the_alarm', async () => {
  // A query that finds nothing due on its order changes no due time, so the object neither
  // reads the order a second time nor every due time afterwards (edge/src/merchant/orders.rs,
  // queried_order): its nonce, its rate window entry, the order and the order's risk review.
  // 16 queries: each of the two prunes runs exactly once (see perCreate above).
  const per = await besideAnOrder(16, async (w, m, o) => {
    const r = await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'NOTPAY');
  });
  assert.equal(per.statements, 4 + 2 / 16, `statements per query: ${per.statements}`);
});

test('the_pay_page_reads_its_order_once_and_leaves_the_alarm', async () => {
  // The payer's checkout read, which the pay page renders (edge/src/merchant/payments.rs,
  // checkout): like a query, it reads the order once and moves no due time. After the first view
  // (which marks the order opened), each reads the order and the merchant's upstream channel (an
  // order outside an instalment plan reads no plan).
  const view = async (w, m, o, ask) => ok(await ask(`/api/checkout/${tokenOf(o)}`));
  const per = await besideAnOrder(4, view, view);
  assert.equal(per.statements, 2, 'statements per view');
});
