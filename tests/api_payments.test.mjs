// Paying through the checkout API on the sandbox channel (docs/openapi.json, /api/checkout): every documented
// test instrument, retry guidance, paying twice, and the orders that cannot be paid.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, createOrder, pay, CARD, advance, tokenOf } from './support/api.mjs';

let w;
let m;
before(async () => {
  w = await startWorker();
  m = await newMerchant(w);
});
after(async () => { await w?.stop(); });

const status = async (merchant, o) => (await call(w, merchant, 'GET', `/v1/orders/${o.out_trade_no}`)).json;

test('checkout_view_shows_what_the_page_needs', async () => {
  const named = await newMerchant(w, { branding: { display_name: '山茶书店 Camellia Books', theme_color: '#336699' } });
  const o = await createOrder(w, named, { limit_pay: ['credit_card', 'balance'] });
  const r = await fetch(`${w.url}/api/checkout/${tokenOf(o)}`);
  assert.equal(r.status, 200);
  const v = await r.json();
  assert.equal(v.merchant.display_name, '山茶书店 Camellia Books');
  assert.deepEqual(v.amount, { total: 1000, currency: 'CNY' });
  assert.equal(v.status, 'NOTPAY');
  assert.deepEqual(v.methods, ['balance', 'credit_card']);
  const forged = await fetch(`${w.url}/api/checkout/forged.token`);
  assert.equal(forged.status, 404);
  assert.equal((await forged.json()).code, 'NOT_FOUND');
});

test('pay_by_card_succeeds_and_the_merchant_sees_it', async () => {
  for (const [method, number] of [['credit_card', '4242 4242 4242 4242'], ['bank_card', '6222 0000 0000 0000']]) {
    const o = await createOrder(w, m);
    const r = await pay(w, o, { method, card: { number, exp_month: 12, exp_year: 2035, cvc: '123' } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, { status: 'SUCCESS' });
    const s = await status(m, o);
    assert.equal(s.status, 'SUCCESS');
    assert.equal(s.method, method);
    assert.ok(s.paid_at);
    assert.doesNotMatch(JSON.stringify(s), /4242[\s-]?4242[\s-]?4242[\s-]?4242|6222[\s-]?0000[\s-]?0000[\s-]?0000/, 'no full card number anywhere');
    const close = await call(w, m, 'POST', `/v1/orders/${o.out_trade_no}/close`);
    assert.equal(close.status, 409);
    assert.equal(close.json.code, 'ORDER_PAID');
  }
});

test('declines_explain_and_say_what_helps', async () => {
  const cases = [
    ['4000 0000 0000 0002', 'CARD_DECLINED', 'switch_method'],
    ['4000 0000 0000 9995', 'INSUFFICIENT_FUNDS', 'switch_method'],
    ['4000 0000 0000 0069', 'EXPIRED_CARD', 'switch_method'],
  ];
  for (const [number, code, next] of cases) {
    const o = await createOrder(w, m);
    const r = await pay(w, o, CARD(number));
    assert.equal(r.status, 402, number);
    assert.equal(r.json.status, 'PAYERROR');
    assert.equal(r.json.code, code);
    assert.equal(r.json.next_step, next);
    assert.ok(r.json.message.length > 10);
    assert.equal((await status(m, o)).status, 'PAYERROR');
    // Switching method after a decline succeeds.
    const again = await pay(w, o, { method: 'balance', wallet: 'wallet_ok' });
    assert.equal(again.status, 200);
    assert.equal((await status(m, o)).status, 'SUCCESS');
  }
});

test('processing_error_then_retry_succeeds', async () => {
  const o = await createOrder(w, m);
  const first = await pay(w, o, CARD('4000 0000 0000 0119'));
  assert.equal(first.status, 402);
  assert.equal(first.json.code, 'PROCESSING_ERROR');
  assert.equal(first.json.next_step, 'retry');
  const second = await pay(w, o, CARD('4000 0000 0000 0119'));
  assert.equal(second.status, 200);
  assert.equal(second.json.status, 'SUCCESS');
});

test('wallet_balance_low_and_ok', async () => {
  const o = await createOrder(w, m);
  const low = await pay(w, o, { method: 'balance', wallet: 'wallet_low' });
  assert.equal(low.status, 402);
  assert.equal(low.json.code, 'INSUFFICIENT_FUNDS');
  assert.equal(low.json.next_step, 'switch_method');
  assert.equal((await pay(w, o, { method: 'balance', wallet: 'wallet_ok' })).status, 200);
});

test('slow_instrument_stays_userpaying_then_succeeds', async () => {
  const o = await createOrder(w, m);
  const r = await pay(w, o, CARD('4000 0000 0000 3220'));
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'USERPAYING');
  assert.equal((await status(m, o)).status, 'USERPAYING');
  const busy = await pay(w, o, CARD('4242 4242 4242 4242'));
  assert.equal(busy.status, 409);
  assert.equal(busy.json.code, 'ORDER_PAYING');
  // The merchant object's alarm settles it a few seconds later, with nobody asking: wait for it.
  const deadline = Date.now() + 30_000;
  let s;
  // The admin listing reads without running anything due, so only the alarm can settle it.
  while (Date.now() < deadline) {
    const list = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?status=SUCCESS`);
    s = list.json.orders.some((x) => x.out_trade_no === o.out_trade_no) ? 'SUCCESS' : 'USERPAYING';
    if (s === 'SUCCESS') break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(s, 'SUCCESS');
});

test('paying_twice_never_charges_twice', async () => {
  const o = await createOrder(w, m);
  // Ten concurrent submissions of the same payment: exactly one charge.
  const results = await Promise.all(Array.from({ length: 10 }, () => pay(w, o, CARD('4242424242424242'))));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, JSON.stringify(results.map((r) => [r.status, r.json.code])));
  for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.json.code, 'ORDER_PAID');
  // The same submission key answers the first result again instead of failing.
  const o2 = await createOrder(w, m);
  const key = 'sub_0123456789abcdef';
  const a = await pay(w, o2, { ...CARD('4242424242424242'), submission_key: key });
  const b = await pay(w, o2, { ...CARD('4242424242424242'), submission_key: key });
  assert.deepEqual([a.status, b.status], [200, 200]);
  assert.deepEqual(b.json, a.json);
  const audit = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/audit/verify`);
  assert.equal(audit.json.intact, true);
  // As on every admin path: a malformed id is 401 MERCHANT_NOT_EXIST, an unknown one 404.
  const malformed = await admin(w, 'GET', '/admin/merchants/nobody/audit/verify');
  assert.deepEqual([malformed.status, malformed.json.code], [401, 'MERCHANT_NOT_EXIST']);
  const unknown = await admin(w, 'GET', '/admin/merchants/mch_0000000000000000/audit/verify');
  assert.deepEqual([unknown.status, unknown.json.code], [404, 'NOT_FOUND']);
});

test('orders_that_cannot_be_paid_say_why', async () => {
  // Closed.
  const closed = await createOrder(w, m);
  assert.equal((await call(w, m, 'POST', `/v1/orders/${closed.out_trade_no}/close`)).status, 204);
  const r1 = await pay(w, closed, CARD('4242424242424242'));
  assert.equal(r1.status, 409);
  assert.equal(r1.json.code, 'ORDER_CLOSED');
  // Expired (test clock past the deadline).
  const mm = await newMerchant(w);
  const expiring = await createOrder(w, mm, { time_expire: new Date(Date.now() + 120_000).toISOString() });
  await advance(w, mm, 121);
  const r2 = await pay(w, expiring, CARD('4242424242424242'));
  assert.equal(r2.json.code, 'ORDER_CLOSED');
  // Pending approval.
  const ap = await newMerchant(w, { approval_levels: [{ above: 500, approvers: 1 }] });
  const big = await createOrder(w, ap);
  assert.equal(big.status, 'PENDING_APPROVAL');
  const r3 = await pay(w, big, CARD('4242424242424242'));
  assert.equal(r3.status, 403);
  assert.equal(r3.json.code, 'PENDING_APPROVAL');
  // A method the order does not allow, and bad card input.
  const limited = await createOrder(w, m, { limit_pay: ['balance'] });
  assert.equal((await pay(w, limited, CARD('4242424242424242'))).json.param, 'method');
  const bad = await createOrder(w, m);
  assert.equal((await pay(w, bad, CARD('4242 4242 4242 4241'))).json.param, 'card.number');
  assert.equal((await pay(w, bad, { method: 'credit_card', card: { number: '4242424242424242', exp_month: 13, exp_year: 2035, cvc: '1' } })).json.param, 'card.exp');
  assert.equal((await pay(w, bad, { method: 'credit_card', card: { number: '4242424242424242', exp_month: 1, exp_year: 2035, cvc: '1' } })).json.param, 'card.cvc');
  assert.equal((await pay(w, bad, { method: 'balance', wallet: 'someone_elses' })).json.param, 'wallet');
  assert.equal((await status(m, bad)).status, 'NOTPAY', 'bad input changed nothing');
});

test('the_daily_limit_is_atomic_with_payment', async () => {
  const lim = await newMerchant(w, { daily_limit: 2500 });
  const orders = [];
  for (let i = 0; i < 5; i++) orders.push(await createOrder(w, lim));
  // Five concurrent ¥10 payments against a ¥25 daily limit: exactly two go through.
  const results = await Promise.all(orders.map((o) => pay(w, o, CARD('4242424242424242'))));
  const ok = results.filter((r) => r.status === 200).length;
  assert.equal(ok, 2, JSON.stringify(results.map((r) => r.json)));
  for (const r of results.filter((x) => x.status !== 200)) {
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'DAILY_LIMIT_EXCEEDED');
  }
  // The next merchant day (UTC+8) has a fresh limit.
  await advance(w, lim, 86_400);
  const rest = results.map((r, i) => [r, orders[i]]).filter(([r]) => r.status !== 200).map(([, o]) => o);
  // Those orders have expired with the day (24 h deadline); new ones pay.
  const fresh = await createOrder(w, lim);
  assert.equal((await pay(w, fresh, CARD('4242424242424242'))).status, 200);
  assert.ok(rest.length === 3);
});
