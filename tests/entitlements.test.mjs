// Validity through the real worker (docs/openapi.json, GET /v1/entitlements): paying for an item
// with a validity period grants the payer an entitlement, a repeat purchase while it runs extends
// it, one after it lapsed starts it again, a refund takes the purchase's days back (and ends it
// when nothing is left), and items without a period or orders without a payer grant nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, advance, otn, pay, CARD } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const DAY_MS = 86_400_000;
const ITEMS = {
  items: { 'course-101': { total: 19900, currency: 'CNY' }, 'month-pass': { total: 4900, currency: 'CNY' }, 'tea-tin': { total: 3000, currency: 'CNY' } },
  validity_days: { 'course-101': 365, 'month-pass': 30 },
};

async function buy(m, item, payer) {
  const r = await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn('E'), item_id: item, description: 'Python 101', ...(payer ? { payer_ref: payer } : {}) });
  assert.equal(r.status, 201, r.text);
  assert.equal((await pay(w, r.json, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  return (await call(w, m, 'GET', `/v1/orders/${r.json.out_trade_no}`)).json;
}
/** Moves the test clock; weeks without orders leave an account dormant, so it is reactivated. */
async function later(m, seconds) {
  await advance(w, m, seconds);
  const r = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/reactivate`, { document_ref: 'KYC-TEST-2' });
  assert.equal(r.status, 200);
}
const entitlements = async (m, payer) => {
  const r = await call(w, m, 'GET', `/v1/entitlements?payer_ref=${encodeURIComponent(payer)}`);
  assert.equal(r.status, 200, r.text);
  return r.json.entitlements;
};

test('a_purchase_grants_a_repeat_extends_a_refund_takes_it_back', async () => {
  const m = await newMerchant(w, ITEMS);
  const first = await buy(m, 'course-101', 'student-42');
  assert.equal(first.payer_ref, 'student-42');
  let [e] = await entitlements(m, 'student-42');
  assert.equal(e.item_id, 'course-101');
  assert.equal(e.active, true);
  assert.equal(Date.parse(e.valid_until) - Date.parse(e.valid_from), 365 * DAY_MS);
  assert.equal(e.valid_from, first.paid_at);
  // Bought again 100 days later: a year more from the end, not from now.
  await later(m, 100 * 86_400);
  const second = await buy(m, 'course-101', 'student-42');
  [e] = await entitlements(m, 'student-42');
  assert.equal(Date.parse(e.valid_until), Date.parse(first.paid_at) + 730 * DAY_MS);
  assert.deepEqual(e.purchases.map((p) => p.out_trade_no), [first.out_trade_no, second.out_trade_no]);
  // The second purchase refunded: its year comes off the end.
  const refund = await call(w, m, 'POST', '/v1/refunds', { out_trade_no: second.out_trade_no, out_refund_no: otn('R'), amount: 19900 });
  assert.equal(refund.status, 201, refund.text);
  [e] = await entitlements(m, 'student-42');
  assert.equal(Date.parse(e.valid_until), Date.parse(first.paid_at) + 365 * DAY_MS);
  assert.ok(e.purchases[1].ended_at);
  assert.equal(e.active, true);
  // The first refunded too: it ends now.
  await advance(w, m, 60);
  const r2 = await call(w, m, 'POST', '/v1/refunds', { out_trade_no: first.out_trade_no, out_refund_no: otn('R'), amount: 19900 });
  assert.equal(r2.status, 201, r2.text);
  [e] = await entitlements(m, 'student-42');
  assert.equal(e.active, false);
  assert.equal(e.valid_until, e.purchases[0].ended_at, 'ended at the refund');
});

test('a_lapsed_entitlement_starts_again_and_nothing_else_grants_one', async () => {
  const m = await newMerchant(w, ITEMS);
  const first = await buy(m, 'course-101', 'stu-7');
  await later(m, 400 * 86_400);
  let [e] = await entitlements(m, 'stu-7');
  assert.equal(e.active, false, 'a year has passed');
  const again = await buy(m, 'course-101', 'stu-7');
  [e] = await entitlements(m, 'stu-7');
  assert.equal(e.active, true);
  assert.equal(e.valid_from, again.paid_at);
  assert.equal(Date.parse(e.valid_until), Date.parse(again.paid_at) + 365 * DAY_MS);
  assert.notEqual(e.valid_from, first.paid_at);
  // A month's pass bought, lapsed, bought again: refunding the first (even in part) takes
  // nothing from the second, because its month was used.
  const month1 = await buy(m, 'month-pass', 'stu-9');
  await later(m, 40 * 86_400);
  const month2 = await buy(m, 'month-pass', 'stu-9');
  const late = await call(w, m, 'POST', '/v1/refunds', { out_trade_no: month1.out_trade_no, out_refund_no: otn('R'), amount: 100 });
  assert.equal(late.status, 201, late.text);
  const [pass] = await entitlements(m, 'stu-9');
  assert.equal(pass.active, true);
  assert.equal(Date.parse(pass.valid_until), Date.parse(month2.paid_at) + 30 * DAY_MS);
  assert.ok(pass.purchases[0].ended_at);
  assert.equal(pass.purchases[1].ended_at, undefined);
  // An item without a validity period, or an order without a payer, grants nothing.
  await buy(m, 'tea-tin', 'stu-8');
  const anonymous = await buy(m, 'course-101');
  assert.equal(anonymous.payer_ref, undefined);
  assert.deepEqual(await entitlements(m, 'stu-8'), []);
  // Another merchant's payers are not this merchant's.
  const other = await newMerchant(w, ITEMS);
  assert.deepEqual(await entitlements(other, 'stu-7'), []);
});

test('bad_input_is_refused_with_the_field_named', async () => {
  const missing = await newMerchant(w, ITEMS);
  const r = await call(w, missing, 'GET', '/v1/entitlements');
  assert.deepEqual([r.status, r.json.code, r.json.param], [400, 'PARAM_ERROR', 'payer_ref']);
  const badPayer = await call(w, missing, 'POST', '/v1/orders', { out_trade_no: otn('E'), item_id: 'course-101', description: 'x', payer_ref: 'a'.repeat(65) });
  assert.deepEqual([badPayer.status, badPayer.json.param], [400, 'payer_ref']);
  const bad = await newMerchant(w, { ...ITEMS, validity_days: { 'no-such-item': 30 } }).catch((e) => e);
  assert.match(String(bad), /validity_days/);
});
