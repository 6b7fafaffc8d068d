// Rules that run with nobody watching, on the merchant's test clock: deadlines (close /
// remind), rate windows, dormancy, approvals; and the test clock itself.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, createOrder, pay, CARD, advance, otn, approveLive, alarmAt, tokenOf } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const get = async (m, o) => (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
const inMinutes = (min) => new Date(Date.now() + min * 60_000).toISOString();

test('deadline_close_closes_the_order', async () => {
  const m = await newMerchant(w);
  const o = await createOrder(w, m, { time_expire: inMinutes(10) });
  await advance(w, m, 9 * 60);
  assert.equal((await get(m, o)).status, 'NOTPAY');
  await advance(w, m, 61);
  assert.equal((await get(m, o)).status, 'CLOSED');
});

test('deadline_remind_extends_once_by_the_grace_then_closes', async () => {
  const m = await newMerchant(w, { remind_grace_seconds: 3600 });
  const o = await createOrder(w, m, { time_expire: inMinutes(10), timeout_action: 'remind' });
  const o2 = await createOrder(w, m, { time_expire: inMinutes(10), timeout_action: 'remind' });
  // The pay page counts down to when the payer can no longer pay: the deadline and its grace,
  // before the reminder and after it (the merchant's query keeps the deadline it set).
  const payableUntil = async (order) => (await (await fetch(`${w.url}/api/checkout/${tokenOf(order)}`)).json()).time_expire;
  const closesAt = new Date(Date.parse(o.time_expire) + 3600_000).toISOString().replace('.000Z', 'Z');
  assert.equal(await payableUntil(o), closesAt);
  assert.equal((await get(m, o)).time_expire, o.time_expire);
  await advance(w, m, 601);
  const reminded = await get(m, o);
  assert.equal(reminded.status, 'NOTPAY');
  assert.equal(Date.parse(reminded.time_expire) - Date.parse(o.time_expire), 3600_000);
  // The link the payer was sent lasts a day past the grace, not past the deadline alone.
  const expiresAt = (x) => Number(Buffer.from(tokenOf(x).split('.')[0], 'base64url').toString().split('.')[0]);
  assert.equal(expiresAt(o), Date.parse(closesAt) / 1000 + 86_400);
  assert.equal(await payableUntil(o), closesAt);
  // Still payable within the grace period.
  const p = await pay(w, o2, CARD('4242424242424242'));
  assert.equal(p.status, 200, 'o2 is in its grace period');
  await advance(w, m, 3600);
  assert.equal((await get(m, o)).status, 'CLOSED');
  assert.equal((await get(m, o2)).status, 'SUCCESS');
});

test('the_alarm_waits_for_the_earliest_deadline_as_orders_come_and_go', async () => {
  // A created order moves the object's alarm only to a sooner deadline, without reading every
  // due time (edge/src/merchant/object.rs, schedule_alarm); anything else reads them all. The
  // runtime's own alarm, read through the dev-only meter, must be the earliest deadline in real
  // time throughout, the test clock's offset included.
  const m = await newMerchant(w);
  const at = (min) => new Date(Math.ceil(Date.now() / 1000 + min * 60) * 1000).toISOString();
  const due = (o, offsetMs = 0) => Date.parse(o.time_expire) - offsetMs;
  assert.equal(await alarmAt(w, m), null, 'a new merchant waits for nothing');
  const a = await createOrder(w, m, { time_expire: at(30) });
  assert.equal(await alarmAt(w, m), due(a));
  const b = await createOrder(w, m, { time_expire: at(10) });
  assert.equal(await alarmAt(w, m), due(b), 'a sooner deadline moves it');
  const c = await createOrder(w, m, { time_expire: at(20) });
  assert.equal(await alarmAt(w, m), due(b), 'a later one does not');
  assert.equal((await call(w, m, 'POST', `/v1/orders/${b.out_trade_no}/close`)).status, 204);
  assert.equal(await alarmAt(w, m), due(c), 'closing the earliest moves it to the next');
  await advance(w, m, 60);
  assert.equal(await alarmAt(w, m), due(c, 60_000), 'business time runs a minute ahead');
  // at(5) of real time is four minutes ahead of business time: still the soonest.
  const e = await createOrder(w, m, { time_expire: at(5) });
  assert.equal(await alarmAt(w, m), due(e, 60_000));
});

test('the_alarm_closes_orders_with_nobody_asking', async () => {
  const m = await newMerchant(w);
  const o = await createOrder(w, m, { time_expire: inMinutes(2) });
  // Move business time to a few seconds before the deadline (leaving room for the deadline's
  // whole-second precision and a slow machine); the object's alarm fires at it in real time.
  const moved = await advance(w, m, 115);
  assert.ok(Date.parse(moved.business_time) < Date.parse(o.time_expire), 'the clock stopped short of the deadline');
  const list = async () => (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?status=CLOSED`)).json.orders;
  const deadline = Date.now() + 30_000;
  let closed = [];
  while (Date.now() < deadline) {
    closed = await list(); // listing does not run deadlines: only the alarm can have closed it
    if (closed.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(closed.map((c) => c.out_trade_no), [o.out_trade_no]);
});

test('rate_windows_refuse_with_retry_after_and_recover', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 3, query: 5, refund: 2 } });
  for (let i = 0; i < 3; i++) await createOrder(w, m);
  const r = await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 1, currency: 'CNY' }, description: 'x' });
  assert.equal(r.status, 429);
  assert.equal(r.json.code, 'FREQUENCY_LIMITED');
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  // Queries have their own window.
  const o = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders`)).json.orders[0];
  assert.equal((await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).status, 200);
  // A minute later the window still counts the three (the clock's walk leaves them), so the
  // next create forgets the ones that left the minute before it is counted, not refused: and the
  // window then holds exactly what the minute does.
  await advance(w, m, 60);
  const create = () => call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 1, currency: 'CNY' }, description: 'x' });
  for (let i = 0; i < 3; i++) assert.equal((await create()).status, 201);
  assert.equal((await create()).status, 429);
  const listed = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders`)).json.orders;
  assert.equal(listed.length, 6, 'the refused creates stored nothing');
});

test('default_rate_limits_are_100_creates_300_queries_50_refunds_a_minute', async () => {
  // No rate_limits in the setup: the documented defaults apply. Each kind has its own window, and
  // a request counts when it is authenticated, whatever its answer (a query of an unknown order too).
  const m = await newMerchant(w);
  const create = () => call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 1, currency: 'CNY' }, description: 'x' });
  const query = () => call(w, m, 'GET', `/v1/orders/${otn('Q')}`);
  const refund = () => call(w, m, 'POST', '/v1/refunds', { out_trade_no: otn('Q'), out_refund_no: otn('R'), amount: 1 });
  const refusedAfter = async (n, send, okStatus) => {
    for (let i = 0; i < n; i += 10) {
      const batch = await Promise.all(Array.from({ length: Math.min(10, n - i) }, send));
      assert.deepEqual([...new Set(batch.map((r) => r.status))], [okStatus], `within the limit at ${i}`);
    }
    const over = await send();
    assert.equal(over.status, 429, `request ${n + 1}`);
    assert.equal(over.json.code, 'FREQUENCY_LIMITED');
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  };
  await refusedAfter(100, create, 201);
  await refusedAfter(300, query, 404);
  await refusedAfter(50, refund, 404);
  const listed = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?limit=100`)).json;
  assert.equal(listed.orders.length, 100);
  assert.ok(!listed.next_cursor, 'the refused create stored nothing');
  await advance(w, m, 60);
  assert.equal((await create()).status, 201, 'the window moves with the clock');
});

test('dormant_accounts_sleep_until_reactivated', async () => {
  const m = await newMerchant(w);
  const earlier = { out_trade_no: otn(), amount: { total: 1, currency: 'CNY' }, description: 'earlier' };
  const first = await call(w, m, 'POST', '/v1/orders', earlier);
  assert.equal(first.status, 201);
  await advance(w, m, 30 * 86_400);
  const r = await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 1, currency: 'CNY' }, description: 'x' });
  assert.equal(r.status, 403);
  assert.equal(r.json.code, 'ACCOUNT_DORMANT');
  // A number used before answers as it always did, asleep or not: the same request gets its
  // order back, another one is told the number is taken.
  const again = await call(w, m, 'POST', '/v1/orders', earlier);
  assert.equal(again.status, 200);
  assert.equal(again.json.transaction_id, first.json.transaction_id);
  const other = await call(w, m, 'POST', '/v1/orders', { ...earlier, description: 'other' });
  assert.equal(other.json.code, 'OUT_TRADE_NO_USED');
  const bad = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/reactivate`, { document_ref: '' });
  assert.equal(bad.status, 400);
  const ok = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/reactivate`, { document_ref: 'KYC-2026-0042' });
  assert.equal(ok.status, 200);
  assert.equal((await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 1, currency: 'CNY' }, description: 'x' })).status, 201);
});

test('approvals_need_distinct_approvers_and_a_rejection_closes', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 1_000_000, approvers: 1 }, { above: 10_000_000, approvers: 2 }] });
  const small = await createOrder(w, m, { amount: { total: 1_000_000, currency: 'CNY' } });
  assert.equal(small.status, 'NOTPAY', 'at the threshold: no approval');
  const bigBody = { out_trade_no: otn(), amount: { total: 10_000_001, currency: 'CNY' }, description: 'big' };
  const big = (await call(w, m, 'POST', '/v1/orders', bigBody)).json;
  assert.equal(big.status, 'PENDING_APPROVAL');
  // The same request again is the same order, awaiting the same approval.
  const again = await call(w, m, 'POST', '/v1/orders', bigBody);
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, big);
  const orders = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?status=PENDING_APPROVAL`)).json.orders;
  assert.equal(orders.length, 1);
  // The approval id is announced in the order.approval_required event; here from the audit-free
  // path: find it through a refused payment's absence and the admin decision endpoint.
  const id = await approvalIdOf(m, big);
  const first = await admin(w, 'POST', `/admin/approvals/${id}/approve`, { approver: 'alice' });
  assert.equal(first.json.status, 'pending');
  const dup = await admin(w, 'POST', `/admin/approvals/${id}/approve`, { approver: 'alice' });
  assert.equal(dup.status, 409);
  assert.equal(dup.json.code, 'ALREADY_APPROVED');
  assert.equal((await get(m, big)).status, 'PENDING_APPROVAL');
  const second = await admin(w, 'POST', `/admin/approvals/${id}/approve`, { approver: 'bob' });
  assert.equal(second.json.status, 'approved');
  assert.equal((await get(m, big)).status, 'NOTPAY');
  assert.equal((await pay(w, big, CARD('4242424242424242'))).status, 200);

  const rejected = await createOrder(w, m, { amount: { total: 2_000_000, currency: 'CNY' } });
  const rid = await approvalIdOf(m, rejected);
  assert.equal((await admin(w, 'POST', `/admin/approvals/${rid}/reject`, { approver: 'carol' })).status, 200);
  assert.equal((await get(m, rejected)).status, 'CLOSED');
  const late = await admin(w, 'POST', `/admin/approvals/${rid}/approve`, { approver: 'dave' });
  assert.equal(late.json.code, 'ALREADY_APPROVED');
  assert.equal((await admin(w, 'POST', '/admin/approvals/apr_0000000000000000_00/approve', { approver: 'x' })).json.code, 'APPROVAL_NOT_EXIST');
});

/** Approval ids are in the order listing of the admin API. */
async function approvalIdOf(m, o) {
  const r = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`);
  assert.equal(r.status, 200);
  const pending = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?status=PENDING_APPROVAL`);
  const found = pending.json.orders.find((x) => x.out_trade_no === o.out_trade_no);
  assert.ok(found?.approval_id, `order ${o.out_trade_no} lists its approval id`);
  return found.approval_id;
}

test('the_test_clock_is_for_sandbox_merchants_only', async () => {
  const live = await newMerchant(w, { sandbox: false });
  const r = await admin(w, 'POST', `/admin/merchants/${live.merchant_id}/clock/advance`, { seconds: 60 });
  assert.equal(r.status, 403);
  assert.equal(r.json.code, 'SANDBOX_ONLY');
  const m = await newMerchant(w);
  const bad = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/clock/advance`, { seconds: 0 });
  assert.equal(bad.status, 400);
  const t = await advance(w, m, 3600);
  assert.ok(Date.parse(t.business_time) - Date.now() > 3590_000);
});

test('list_orders_filters_and_pages', async () => {
  const m = await newMerchant(w);
  const made = [];
  for (let i = 0; i < 7; i++) made.push(await createOrder(w, m));
  await pay(w, made[0], CARD('4242424242424242'));
  const seen = [];
  let cursor = '';
  for (let page = 0; page < 5; page++) {
    const r = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200);
    seen.push(...r.json.orders.map((o) => o.out_trade_no));
    if (!r.json.next_cursor) break;
    cursor = r.json.next_cursor;
  }
  assert.equal(seen.length, 7);
  assert.equal(new Set(seen).size, 7);
  const paid = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?status=SUCCESS`);
  assert.deepEqual(paid.json.orders.map((o) => o.out_trade_no), [made[0].out_trade_no]);
  assert.equal((await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?status=PAID`)).json.param, 'status');
  assert.equal((await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?limit=500`)).json.param, 'limit');
  assert.equal((await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?cursor=@@`)).json.param, 'cursor');
});

test('a_tier_caps_the_daily_limit_and_a_live_merchant_never_pays_through_the_sandbox', async () => {
  const over = await admin(w, 'POST', '/admin/merchants', { name: 'Corner shop', tier: 'individual_business', sandbox: true, branding: { display_name: 'Corner shop' }, daily_limit: 10_000_001 });
  assert.deepEqual([over.status, over.json.code, over.json.param], [400, 'PARAM_ERROR', 'daily_limit']);
  const atCap = await newMerchant(w, { tier: 'individual_business', daily_limit: 10_000_000 });
  assert.equal((await admin(w, 'GET', `/admin/merchants/${atCap.merchant_id}`)).json.daily_limit, 10_000_000);
  const big = await newMerchant(w, { daily_limit: 900_000_000 });
  assert.equal((await admin(w, 'GET', `/admin/merchants/${big.merchant_id}`)).json.daily_limit, 900_000_000, 'an enterprise is not capped by the tier');

  const live = await newMerchant(w, { sandbox: false });
  await approveLive(w, live);
  const o = await createOrder(w, live);
  const r = await pay(w, o, CARD('4242424242424242'));
  assert.deepEqual([r.status, r.json.code], [403, 'CHANNEL_NOT_CONFIGURED']);
  const after = await call(w, live, 'GET', `/v1/orders/${o.out_trade_no}`);
  assert.deepEqual([after.json.status, after.json.paid_at], ['NOTPAY', undefined], 'nothing was charged');
  // Without JavaScript, the page says the merchant cannot take the payment.
  const html = await (await fetch(o.checkout_url, { headers: { 'Accept-Language': 'en' } })).text();
  const key = html.match(/name="submission_key" value="([0-9a-f]+)"|value="([0-9a-f]+)" type="hidden" name="submission_key"/);
  assert.ok(key, 'the pay form has its submission key');
  const body = new URLSearchParams({ submission_key: key[1] ?? key[2], method: 'credit_card', card_number: '4242 4242 4242 4242', card_exp: '12/35', card_cvc: '123' }).toString();
  const answered = await (await fetch(o.checkout_url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: w.url, 'Accept-Language': 'en' } })).text();
  assert.match(answered, /The merchant cannot accept this payment; please contact them\./);
});
