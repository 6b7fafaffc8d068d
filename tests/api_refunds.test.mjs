// Refunds (docs/openapi.json, /v1/refunds): partial, never above the paid amount, at most 50, not after a year,
// one minute apart, idempotent on out_refund_no, correct under concurrency.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, newMerchant, createOrder, pay, CARD, advance, otn } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

async function paidOrder(m, total = 1000) {
  const o = await createOrder(w, m, { amount: { total, currency: 'CNY' } });
  const r = await pay(w, o, CARD('4242424242424242'));
  assert.equal(r.status, 200);
  return o;
}

const refund = (m, o, amount, extra = {}) =>
  call(w, m, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount, ...extra });

test('partial_refunds_up_to_the_paid_amount', async () => {
  const m = await newMerchant(w);
  const o = await paidOrder(m);
  const a = await refund(m, o, 600, { reason: 'one cup broken' });
  assert.equal(a.status, 201, a.text);
  assert.equal(a.json.status, 'SUCCESS');
  assert.equal(a.json.reason, 'one cup broken');
  let q = (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
  assert.equal(q.status, 'REFUND');
  assert.equal(q.refunded_total, 600);
  await advance(w, m, 60);
  const over = await refund(m, o, 401);
  assert.equal(over.status, 403);
  assert.equal(over.json.code, 'REFUND_NOT_ALLOWED');
  const rest = await refund(m, o, 400);
  assert.equal(rest.status, 201);
  q = (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
  assert.equal(q.refunded_total, 1000);
  const got = await call(w, m, 'GET', `/v1/refunds/${a.json.out_refund_no}`);
  assert.deepEqual(got.json, a.json);
  assert.equal((await call(w, m, 'GET', '/v1/refunds/NO_SUCH_REFUND')).json.code, 'REFUND_NOT_EXIST');
});

test('the_same_out_refund_no_never_refunds_twice', async () => {
  const m = await newMerchant(w);
  const o = await paidOrder(m);
  const body = { out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount: 100 };
  const a = await call(w, m, 'POST', '/v1/refunds', body);
  const b = await call(w, m, 'POST', '/v1/refunds', body);
  assert.deepEqual([a.status, b.status], [201, 200]);
  assert.deepEqual(b.json, a.json);
  const c = await call(w, m, 'POST', '/v1/refunds', { ...body, amount: 101 });
  assert.equal(c.status, 409);
  assert.equal(c.json.code, 'OUT_REFUND_NO_USED');
  assert.equal((await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json.refunded_total, 100);
});

test('refund_rules_frequency_unpaid_and_age', async () => {
  const m = await newMerchant(w);
  const o = await paidOrder(m);
  assert.equal((await refund(m, o, 10)).status, 201);
  const soon = await refund(m, o, 10);
  assert.equal(soon.status, 429);
  assert.equal(soon.json.code, 'FREQUENCY_LIMITED');
  assert.equal(soon.headers.get('retry-after'), '60');
  const unpaid = await createOrder(w, m);
  const r = await refund(m, unpaid, 10);
  assert.equal(r.status, 409);
  assert.equal(r.json.code, 'ORDER_NOT_PAID');
  assert.equal((await refund(m, { out_trade_no: 'NO_SUCH_ORDER' }, 10)).json.code, 'ORDER_NOT_EXIST');
  assert.equal((await refund(m, o, 0)).json.code, 'PARAM_ERROR');
  assert.equal((await refund(m, o, -1)).json.code, 'PARAM_ERROR');
  // A year and a day later, no refunds. (Re-activate after the dormancy the year causes.)
  await advance(w, m, 366 * 86_400);
  const old = await refund(m, o, 10);
  assert.equal(old.status, 403);
  assert.equal(old.json.code, 'REFUND_NOT_ALLOWED');
});

test('at_most_fifty_refunds_per_order', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 100, query: 300, refund: 100 } });
  const o = await paidOrder(m, 10_000);
  for (let i = 0; i < 50; i++) {
    const r = await refund(m, o, 1);
    assert.equal(r.status, 201, `refund ${i}: ${r.text}`);
    await advance(w, m, 60);
  }
  const r = await refund(m, o, 1);
  assert.equal(r.status, 403);
  assert.equal(r.json.code, 'REFUND_NOT_ALLOWED');
  assert.equal((await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json.refunded_total, 50);
});

test('concurrent_refunds_never_exceed_the_paid_amount', async () => {
  const m = await newMerchant(w);
  const orders = [];
  for (let i = 0; i < 3; i++) orders.push(await paidOrder(m, 1000));
  // Twenty concurrent refunds spread over three orders, each asking for 700 of 1000.
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => refund(m, orders[i % 3], 700)),
  );
  assert.equal(results.filter((r) => r.status === 201).length, 3, JSON.stringify(results.map((r) => r.json.code)));
  const refused = results.filter((r) => r.status !== 201).map((r) => r.json.code);
  assert.ok(refused.every((c) => ['REFUND_NOT_ALLOWED', 'FREQUENCY_LIMITED'].includes(c)), JSON.stringify(refused));
  for (const o of orders) {
    const q = (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
    assert.equal(q.refunded_total, 700);
  }
});

test('refunds_above_the_threshold_wait_for_approval', async () => {
  const m = await newMerchant(w, { refund_approval_above: 500 });
  const o = await paidOrder(m);
  const r = await refund(m, o, 800);
  assert.equal(r.status, 201);
  assert.equal(r.json.status, 'PROCESSING');
  assert.match(r.json.approval_id, /^apr_/);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json.refunded_total, 0);
  const { admin } = await import('./support/api.mjs');
  const d = await admin(w, 'POST', `/admin/approvals/${r.json.approval_id}/approve`, { approver: 'finance-lead' });
  assert.equal(d.status, 200);
  assert.equal(d.json.status, 'approved');
  const after = (await call(w, m, 'GET', `/v1/refunds/${r.json.out_refund_no}`)).json;
  assert.equal(after.status, 'SUCCESS');
  assert.equal((await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json.refunded_total, 800);
  // Split into small refunds, the order's refunds still cross the threshold: an approver decides.
  const split = await paidOrder(m);
  assert.equal((await refund(m, split, 300)).json.status, 'SUCCESS');
  await advance(w, m, 61);
  assert.equal((await refund(m, split, 200)).json.status, 'SUCCESS', '500 in all: not over it');
  await advance(w, m, 61);
  const third = await refund(m, split, 100);
  assert.deepEqual([third.status, third.json.status, /^apr_/.test(third.json.approval_id)], [201, 'PROCESSING', true]);
});
