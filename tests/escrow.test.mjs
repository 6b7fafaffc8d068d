// Escrow through the real worker on the test clock (docs/openapi.json, /v1/orders/{no}/fulfil):
// a paid order's money is held until the merchant fulfils it or its release_days pass; a
// merchant's automatic refund returns it in full, once, when the order is not fulfilled in time;
// a fulfilment racing that refund never lets the same money be both refunded and released; the
// pay page promises exactly what the settings do.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, createOrder, pay, advance, otn, CARD } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const DAY = 86_400;
const HOUR = 3_600;
const get = async (m, o) => (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
async function paid(m, total = 1000) {
  const o = await createOrder(w, m, { amount: { total, currency: 'CNY' } });
  assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  return get(m, o);
}
const released = async (m, o) => (await call(w, m, 'GET', `/v1/notifications?out_trade_no=${o.out_trade_no}&type=order.released`)).json.notifications;

test('money_is_held_until_fulfilled_or_its_days_pass', async () => {
  const m = await newMerchant(w, { release_days: 3 });
  const a = await paid(m);
  assert.equal(a.funds, 'held');
  assert.equal(Date.parse(a.held_until) - Date.parse(a.paid_at), 3 * DAY * 1000);
  const f = await call(w, m, 'POST', `/v1/orders/${a.out_trade_no}/fulfil`);
  assert.equal(f.status, 200, f.text);
  assert.deepEqual([f.json.funds, f.json.released_at, f.json.fulfilled_at !== undefined], ['released', f.json.fulfilled_at, true]);
  const again = await call(w, m, 'POST', `/v1/orders/${a.out_trade_no}/fulfil`);
  assert.deepEqual(again.json, f.json, 'fulfilling again changes nothing');
  assert.equal((await released(m, a)).length, 1);
  // Another order is not fulfilled: released after three days of the merchant's clock, with
  // what is left after a refund made while it was held.
  const b = await paid(m, 5000);
  assert.equal((await call(w, m, 'POST', '/v1/refunds', { out_trade_no: b.out_trade_no, out_refund_no: otn('R'), amount: 1200 })).status, 201);
  await advance(w, m, 3 * DAY - 60);
  assert.equal((await get(m, b)).funds, 'held');
  await advance(w, m, 120);
  const rb = await get(m, b);
  assert.equal(rb.funds, 'released');
  const ev = await released(m, b);
  assert.equal(ev.length, 1);
  const data = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${ev[0].id}`)).json.body).data;
  assert.equal(data.released_amount, 3800);
  // Only a paid order can be fulfilled.
  const unpaid = await createOrder(w, m);
  const refused = await call(w, m, 'POST', `/v1/orders/${unpaid.out_trade_no}/fulfil`);
  assert.deepEqual([refused.status, refused.json.code], [409, 'ORDER_NOT_PAID']);
});

test('not_fulfilled_in_time_is_refunded_in_full_once_and_a_fulfilled_order_never_is', async () => {
  const m = await newMerchant(w, { release_days: 7, auto_refund_hours: 48 });
  const late = await paid(m, 2000);
  const partly = await paid(m, 3000);
  assert.equal((await call(w, m, 'POST', '/v1/refunds', { out_trade_no: partly.out_trade_no, out_refund_no: otn('R'), amount: 500 })).status, 201);
  const done = await paid(m, 4000);
  assert.equal((await call(w, m, 'POST', `/v1/orders/${done.out_trade_no}/fulfil`)).status, 200);
  await advance(w, m, 47 * HOUR);
  assert.equal((await get(m, late)).refunded_total, 0);
  await advance(w, m, HOUR + 60);
  const l = await get(m, late);
  assert.deepEqual([l.status, l.refunded_total], ['REFUND', 2000]);
  const p = await get(m, partly);
  assert.equal(p.refunded_total, 3000, 'the rest of a partly refunded order');
  assert.equal((await get(m, done)).refunded_total, 0);
  // Never twice, and nothing is released of what was refunded.
  await advance(w, m, 10 * DAY);
  assert.equal((await get(m, late)).refunded_total, 2000);
  const refunds = (await call(w, m, 'GET', `/v1/notifications?out_trade_no=${late.out_trade_no}&type=refund.succeeded`)).json.notifications;
  assert.equal(refunds.length, 1);
  const ev = await released(m, late);
  const data = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${ev[0].id}`)).json.body).data;
  assert.equal(data.released_amount, 0);
  const audit = await call(w, m, 'GET', '/v1/audit/verify');
  assert.equal(audit.json.intact, true);
});

test('the_automatic_refund_returns_everything_whatever_refunds_came_before_it', async () => {
  const m = await newMerchant(w, { release_days: 7, auto_refund_hours: 48, refund_approval_above: 1000 });
  const recent = await paid(m, 3000);
  const waiting = await paid(m, 5000);
  const big = await paid(m, 9000);
  const refund = (o, amount) => call(w, m, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount });
  const held = await refund(waiting, 2000);
  assert.equal(held.json.status, 'PROCESSING', 'above the threshold: it waits for approval');
  await advance(w, m, 48 * HOUR - 30);
  // Refunded by the merchant a moment before: the minute between two refunds paces the
  // merchant's requests, not what the rule owes.
  assert.equal((await refund(recent, 500)).json.status, 'SUCCESS');
  await advance(w, m, 60);
  assert.equal((await get(m, recent)).refunded_total, 3000);
  assert.equal((await get(m, big)).refunded_total, 9000, 'an owed refund waits for no approval');
  // The refund waiting for approval keeps its money; the rest comes back now, and all of it once
  // the approver says no.
  assert.equal((await get(m, waiting)).refunded_total, 3000);
  assert.equal((await admin(w, 'POST', `/admin/approvals/${held.json.approval_id}/reject`, { approver: 'finance-lead' })).status, 200);
  assert.equal((await get(m, waiting)).refunded_total, 5000);
  await advance(w, m, 6 * DAY);
  for (const o of [recent, waiting, big]) {
    const ev = await released(m, o);
    assert.equal(ev.length, 1);
    assert.equal(JSON.parse((await call(w, m, 'GET', `/v1/notifications/${ev[0].id}`)).json.body).data.released_amount, 0, 'nothing of it goes to the merchant');
  }
  assert.equal((await call(w, m, 'GET', '/v1/audit/verify')).json.intact, true);
});

test('a_fulfilment_racing_the_automatic_refund_never_pays_out_the_same_money_twice', async () => {
  const m = await newMerchant(w, { release_days: 2, auto_refund_hours: 24, rate_limits: { create: 1000, query: 1000, refund: 50 } });
  const orders = [];
  for (let i = 0; i < 8; i++) orders.push(await paid(m, 1000 + i));
  await advance(w, m, 24 * HOUR - 1);
  // The clock crosses the refund time while the merchant fulfils every order.
  await Promise.all([advance(w, m, 2), ...orders.map((o) => call(w, m, 'POST', `/v1/orders/${o.out_trade_no}/fulfil`))]);
  await advance(w, m, 3 * DAY);
  for (const o of orders) {
    const now = await get(m, o);
    assert.equal(now.funds, 'released');
    const ev = await released(m, o);
    assert.equal(ev.length, 1);
    const out = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${ev[0].id}`)).json.body).data.released_amount;
    assert.equal(out + now.refunded_total, now.amount.total, `${o.out_trade_no}: refunded or released, never both`);
    assert.ok([0, now.amount.total].includes(now.refunded_total));
  }
});

test('a_refund_in_progress_holds_the_release_until_it_ends_so_nothing_is_released_then_clawed_back', async () => {
  const m = await newMerchant(w, { release_days: 3, refund_approval_above: 1000 });
  const refund = async (o, amount) => (await call(w, m, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount })).json;
  const releasedAmount = async (o) => {
    const ev = await released(m, o);
    assert.equal(ev.length, 1, `${o.out_trade_no}: released once`);
    return JSON.parse((await call(w, m, 'GET', `/v1/notifications/${ev[0].id}`)).json.body).data.released_amount;
  };
  // The hold runs out while a refund waits for its approver: the money stays held.
  const lapsed = await paid(m, 5000);
  const waiting = await refund(lapsed, 2000);
  assert.equal(waiting.status, 'PROCESSING');
  // Fulfilled while a refund waits: the release waits too.
  const fulfilled = await paid(m, 4000);
  const rejected = await refund(fulfilled, 1500);
  const f = await call(w, m, 'POST', `/v1/orders/${fulfilled.out_trade_no}/fulfil`);
  assert.equal(f.status, 200, f.text);
  assert.deepEqual([f.json.funds, typeof f.json.fulfilled_at], ['held', 'string']);
  await advance(w, m, 3 * DAY + 60);
  assert.equal((await get(m, lapsed)).funds, 'held', 'what the refund takes is not the merchant\'s yet');
  assert.equal((await released(m, lapsed)).length, 0);
  // Approved: the refund comes out of held money and the rest is released, once.
  assert.equal((await admin(w, 'POST', `/admin/approvals/${waiting.approval_id}/approve`, { approver: 'finance-lead' })).status, 200);
  const l = await get(m, lapsed);
  assert.deepEqual([l.funds, l.refunded_total], ['released', 2000]);
  assert.equal(await releasedAmount(lapsed), 3000);
  // Rejected: the whole payment is released, once, though the hold has not run out.
  assert.equal((await admin(w, 'POST', `/admin/approvals/${rejected.approval_id}/reject`, { approver: 'finance-lead' })).status, 200);
  const r = await get(m, fulfilled);
  assert.deepEqual([r.funds, r.refunded_total], ['released', 0]);
  assert.equal(await releasedAmount(fulfilled), 4000);
  // Nothing was clawed back: no refund of released money was booked.
  await advance(w, m, 2 * DAY);
  const settled = (await call(w, m, 'GET', '/v1/settlements')).json.settlements;
  assert.equal(settled.reduce((n, s) => n + s.refunds, 0), 0);
  assert.equal(settled.reduce((n, s) => n + s.gross, 0), 7000);
  assert.equal((await call(w, m, 'GET', '/v1/audit/verify')).json.intact, true);
});

test('the_pay_page_promises_what_the_settings_do', async () => {
  const plain = await newMerchant(w, { release_days: 5 });
  const o = await createOrder(w, plain);
  const view = await (await fetch(o.checkout_url.replace('/pay/', '/api/checkout/'))).json();
  assert.deepEqual([view.release_days, view.auto_refund_hours], [5, undefined]);
  const zh = await (await fetch(`${o.checkout_url}?lang=zh`)).text();
  assert.match(zh, /资金由平台托管，商家确认发货或付款 5 天后才转给商家；如不满意，可向商家申请退款。/);
  const auto = await newMerchant(w, { release_days: 7, auto_refund_hours: 72 });
  const o2 = await createOrder(w, auto);
  const en = await (await fetch(`${o2.checkout_url}?lang=en`)).text();
  assert.match(en, /held by the platform until the merchant confirms delivery, for at most 7 days\. Not delivered within 72 hours\? It is refunded in full by itself\./);
  const bad = await newMerchant(w, { release_days: 2, auto_refund_hours: 49 }).catch((e) => e);
  assert.match(String(bad), /auto_refund_hours/);
});
