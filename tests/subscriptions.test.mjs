// Subscriptions through the real worker on the merchant's test clock (docs/openapi.json,
// "subscriptions"): a year walked in one call and in many small ones gives the same periods,
// each charged once on its calendar day; month ends keep the anchor day; trials, reminders,
// invoices paid through their links, dunning to canceled and to unpaid, a retry that succeeds
// without skipping or doubling a period, the incomplete window, cancel, pause and resume,
// metered usage counted once, racing a period's close, and a worker restart mid-year.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { startWorker, crashWorker, devVars, ROOT } from './support/worker.mjs';
import { startReceiver } from './support/receiver.mjs';
import { call, admin, newMerchant, advance, otn, pay } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const DAY = 86_400;
const HOUR = 3_600;

/** Moves a new merchant's business time to `iso` (forward only); the weeks without activity
 * made its account dormant, so it is reactivated as an operator would. */
async function clockTo(worker, m, iso) {
  const now = Date.parse((await advance(worker, m, 1)).business_time);
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds > 0) await advance(worker, m, seconds);
  const r = await admin(worker, 'POST', `/admin/merchants/${m.merchant_id}/reactivate`, { document_ref: 'KYC-TEST-1' });
  assert.equal(r.status, 200);
}

async function signedContract(worker, m, instrument = { method: 'balance', wallet: 'wallet_ok', consent: 'yes' }, planFields = {}) {
  const plan = {
    plan_id: String(Date.now()) + String(randomBytes(2).readUInt16BE()), name: 'Membership',
    max_amount_per_deduction: 1_000_000, period: 'day', max_deductions_per_period: 5, ...planFields,
  };
  assert.equal((await call(worker, m, 'POST', '/v1/contract_plans', plan)).status, 201);
  const c = await call(worker, m, 'POST', '/v1/contracts', { plan_id: plan.plan_id, contract_code: otn('C'), display_account: 'alice' });
  assert.equal(c.status, 201, c.text);
  const page = await fetch(c.json.sign_url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
    body: new URLSearchParams(instrument).toString(),
  });
  assert.equal(page.status, 200);
  const now = (await call(worker, m, 'GET', `/v1/contracts/${c.json.contract_code}`)).json;
  assert.equal(now.status, 'ACTIVE');
  return now;
}

const subscribe = (worker, m, fields) => call(worker, m, 'POST', '/v1/subscriptions', {
  subscription_id: otn('S'), description: 'Tea club', price: { amount: 9900, interval: 'month' }, ...fields,
});
const getSub = async (worker, m, id) => {
  const r = await call(worker, m, 'GET', `/v1/subscriptions/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
};

/** Every event of a subscription, oldest first: [{type, created_at}]. */
async function events(worker, m, id) {
  const all = [];
  let cursor = '';
  for (;;) {
    const r = await call(worker, m, 'GET', `/v1/notifications?subscription_id=${id}&limit=100${cursor}`);
    assert.equal(r.status, 200, r.text);
    all.push(...r.json.notifications);
    if (!r.json.next_cursor) break;
    cursor = `&cursor=${r.json.next_cursor}`;
  }
  return all.reverse().map((n) => ({ type: n.type, at: n.created_at }));
}

const CARD = (number) => ({ method: 'credit_card', card: { number, exp_month: 12, exp_year: 2035, cvc: '123' } });
const BANK_CARD = { method: 'bank_card', card: { number: '6222 0000 0000 0000', exp_month: 12, exp_year: 2035, cvc: '123' } };
/** Waits (polling, no fixed sleep) until the order is SUCCESS in the admin listing. */
async function paidByTheAlarm(m, outTradeNo, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?status=SUCCESS&limit=100`);
    if (list.json.orders.some((x) => x.out_trade_no === outTradeNo)) return;
    if (Date.now() > deadline) throw new Error(`${outTradeNo} was not paid by the alarm`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Which merchant and order a pay link opens (its token also carries an expiry, which the test
 * clock may shift by a second between two renderings of the same order's link). */
const linkTarget = (url) => Buffer.from(new URL(url).pathname.split('/').pop().split('.')[0], 'base64url').toString().split('.').slice(1).join('.');

const invoiceSummary = (s) => s.invoices.map((i) => [i.period_index, i.status, i.amount.total, i.period_start.slice(0, 16)]).reverse();

test('requests_are_validated_and_idempotent', async () => {
  const m = await newMerchant(w);
  const cases = [
    [{ subscription_id: 'has space' }, 'subscription_id'],
    [{ price: { amount: 0, interval: 'month' } }, 'price.amount'],
    [{ price: { amount: 100, interval: 'month', interval_count: 13 } }, 'price.interval_count'],
    [{ price: { amount: 100, interval: 'fortnight' } }, null],
    [{ trial_days: 0 }, 'trial_days'],
    [{ reminder_hours: 721 }, 'reminder_hours'],
    [{ usage: { unit: 'call', unit_amount: 1 } }, 'usage'],
    [{ starts_at: '2030-01-01T00:00:00Z' }, 'starts_at'],
    [{ surprise: 1 }, 'surprise'],
  ];
  for (const [fields, param] of cases) {
    const r = await subscribe(w, m, fields);
    assert.equal(r.status, 400, `${JSON.stringify(fields)}: ${r.text}`);
    assert.equal(r.json.code, 'PARAM_ERROR');
    if (param) assert.equal(r.json.param, param, JSON.stringify(fields));
  }
  const missing = await subscribe(w, m, { contract_code: 'NOPE' });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.code, 'CONTRACT_NOT_EXIST');
  const body = { subscription_id: otn('S'), description: 'Tea club', price: { amount: 9900, interval: 'month' } };
  const a = await call(w, m, 'POST', '/v1/subscriptions', body);
  assert.equal(a.status, 201, a.text);
  const again = await call(w, m, 'POST', '/v1/subscriptions', body);
  assert.equal(again.status, 200);
  assert.deepEqual(again.json.invoices, a.json.invoices, 'the same subscription, one first invoice');
  const other = await call(w, m, 'POST', '/v1/subscriptions', { ...body, description: 'Coffee club' });
  assert.equal(other.status, 409);
  assert.equal(other.json.code, 'SUBSCRIPTION_ID_USED');
  const none = await call(w, m, 'GET', '/v1/subscriptions/NOPE');
  assert.equal(none.status, 404);
  assert.equal(none.json.code, 'SUBSCRIPTION_NOT_EXIST');
  // Nothing was created by the refusals.
  const listed = await call(w, m, 'GET', '/v1/notifications?type=subscription.created');
  assert.equal(listed.json.notifications.length, 1);
});

/** A contract subscription started on 31 January 10:00 (UTC+8), walked to `until`. */
async function monthlyFromJan31(worker, walk) {
  const m = await newMerchant(worker);
  await clockTo(worker, m, '2027-01-31T02:00:00Z');
  const c = await signedContract(worker, m);
  const r = await subscribe(worker, m, { contract_code: c.contract_code });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.status, 'active');
  assert.equal(r.json.invoices[0].status, 'SUCCESS', 'the first period is deducted at once');
  await walk(m);
  return { m, s: await getSub(worker, m, r.json.subscription_id) };
}

test('a_year_in_one_call_charges_every_period_once_on_its_day_and_equals_many_small_steps', async () => {
  const { m, s } = await monthlyFromJan31(w, (m) => advance(w, m, 366 * DAY));
  // 31 January 2027 to 31 January 2028: thirteen periods, each charged once.
  const starts = s.invoices.map((i) => i.period_start).reverse();
  assert.deepEqual(starts.map((t) => t.slice(0, 10)), [
    '2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31', '2027-06-30', '2027-07-31',
    '2027-08-31', '2027-09-30', '2027-10-31', '2027-11-30', '2027-12-31', '2028-01-31',
  ]);
  assert.ok(s.invoices.every((i) => i.status === 'SUCCESS' && i.amount.total === 9900));
  assert.deepEqual(s.invoices.map((i) => i.period_index).reverse(), [...Array(13).keys()]);
  assert.equal(s.status, 'active');
  // Each invoice was paid at its period's start, on the merchant's calendar.
  for (const i of s.invoices) {
    const o = (await call(w, m, 'GET', `/v1/orders/${i.out_trade_no}`)).json;
    assert.equal(o.subscription_id, s.subscription_id);
    assert.equal(o.period_index, i.period_index);
    assert.equal(o.paid_at.slice(0, 16), i.period_start.slice(0, 16), `period ${i.period_index} charged at its start`);
  }
  // One reminder 48 hours before each renewal.
  const ev = await events(w, m, s.subscription_id);
  const reminders = ev.filter((e) => e.type === 'subscription.renewal_upcoming');
  assert.equal(reminders.length, 12, 'periods 1-12 (period 13, 29 February, is weeks away)');
  for (const [k, e] of reminders.entries()) {
    assert.equal(Date.parse(e.at), Date.parse(starts[k + 1]) - 48 * HOUR * 1000, `reminder of period ${k + 1}`);
  }
  // The same walk in 73 steps of five days gives the same ledger.
  const small = await monthlyFromJan31(w, async (m2) => {
    for (let i = 0; i < 73; i++) await advance(w, m2, 5 * DAY);
    await advance(w, m2, DAY);
  });
  assert.deepEqual(invoiceSummary(small.s), invoiceSummary(s));
  const smallEvents = await events(w, small.m, small.s.subscription_id);
  assert.deepEqual(smallEvents.map((e) => [e.type, e.at.slice(0, 16)]), ev.map((e) => [e.type, e.at.slice(0, 16)]));
});

test('a_trial_then_invoices_paid_through_their_links_then_dunning_to_canceled', async () => {
  const m = await newMerchant(w);
  const r = await subscribe(w, m, { trial_days: 14, price: { amount: 3000, interval: 'week', interval_count: 2 } });
  assert.equal(r.status, 201, r.text);
  const s0 = r.json;
  assert.equal(s0.status, 'trialing');
  assert.deepEqual(s0.invoices, [], 'nothing charged during the trial');
  const trialEnd = Date.parse(s0.trial_end);
  await advance(w, m, 12 * DAY);
  let ev = await events(w, m, s0.subscription_id);
  const notice = ev.find((e) => e.type === 'subscription.trial_will_end');
  assert.equal(Date.parse(notice.at), trialEnd - 3 * DAY * 1000);
  const reminder = ev.find((e) => e.type === 'subscription.renewal_upcoming');
  assert.equal(Date.parse(reminder.at), trialEnd - 48 * HOUR * 1000);
  // The reminder carries the invoice's link; the payer pays it there.
  const list = await call(w, m, 'GET', `/v1/notifications?subscription_id=${s0.subscription_id}&type=subscription.renewal_upcoming`);
  const detail = (await call(w, m, 'GET', `/v1/notifications/${list.json.notifications[0].id}`)).json;
  const data = JSON.parse(detail.body).data;
  assert.equal(data.amount.total, 3000);
  assert.match(data.checkout_url, /\/pay\//);
  const s1 = await getSub(w, m, s0.subscription_id);
  const inv0 = s1.invoices[0];
  assert.equal(inv0.status, 'NOTPAY');
  const o0 = (await call(w, m, 'GET', `/v1/orders/${inv0.out_trade_no}`)).json;
  assert.equal(linkTarget(data.checkout_url), `${m.merchant_id}.${o0.out_trade_no}`);
  assert.equal((await pay(w, o0, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  assert.equal((await getSub(w, m, s0.subscription_id)).status, 'active');
  // The next period (two weeks on) is not paid: past due at its start, reminded again after
  // 1 and 3 days, canceled after 5, its invoice closed.
  await advance(w, m, 2 * DAY + 14 * DAY + 5 * DAY + HOUR);
  const s2 = await getSub(w, m, s0.subscription_id);
  assert.equal(s2.status, 'canceled');
  assert.equal(s2.cancel_reason, 'payment_failed');
  assert.equal(s2.invoices[0].period_index, 1);
  assert.equal(s2.invoices[0].status, 'CLOSED');
  ev = await events(w, m, s0.subscription_id);
  const start1 = Date.parse(s2.invoices[0].period_start);
  const failed = ev.filter((e) => e.type === 'subscription.payment_failed').map((e) => (Date.parse(e.at) - start1) / (DAY * 1000));
  assert.deepEqual(failed, [0, 1, 3, 5]);
  const updates = ev.filter((e) => ['subscription.updated', 'subscription.canceled'].includes(e.type)).map((e) => e.type);
  assert.deepEqual(updates, ['subscription.updated', 'subscription.updated', 'subscription.canceled'], 'active, past_due, canceled');
  // Nothing more happens to it.
  await advance(w, m, 60 * DAY);
  assert.equal((await getSub(w, m, s0.subscription_id)).invoices.length, 2);
});

test('a_retry_that_succeeds_returns_to_active_without_skipping_or_doubling_a_period', async () => {
  const m = await newMerchant(w);
  // The sandbox card ending 0119 declines one deduction, then succeeds.
  const good = await signedContract(w, m);
  const r = await subscribe(w, m, { contract_code: good.contract_code, price: { amount: 500, interval: 'day', interval_count: 3 } });
  assert.equal(r.json.status, 'active');
  const flaky = await signedContract(w, m, { method: 'bank_card', card_number: '4000 0000 0000 0119', card_exp: '12/35', card_cvc: '123', consent: 'yes' });
  const f = await subscribe(w, m, { contract_code: flaky.contract_code, price: { amount: 500, interval: 'day', interval_count: 3 } });
  assert.equal(f.json.status, 'incomplete', 'its first deduction failed');
  assert.equal(f.json.invoices[0].status, 'PAYERROR');
  // Paid through the link within the 23 hours: active.
  const o0 = (await call(w, m, 'GET', `/v1/orders/${f.json.invoices[0].out_trade_no}`)).json;
  assert.deepEqual(o0.limit_pay, ['bank_card'], 'paid as the contract would be');
  assert.equal((await pay(w, o0, BANK_CARD)).json.status, 'SUCCESS');
  assert.equal((await getSub(w, m, f.json.subscription_id)).status, 'active');
  // The sandbox's 0119 declines each deduction's first attempt: period 1 fails at its start
  // (past due), its retry a day later succeeds (active); period 2 is charged at its own start,
  // fails, and its retry succeeds. Each period once, none skipped.
  await advance(w, m, 3 * DAY);
  let s = await getSub(w, m, f.json.subscription_id);
  assert.equal(s.status, 'past_due');
  await advance(w, m, DAY);
  s = await getSub(w, m, f.json.subscription_id);
  assert.equal(s.status, 'active');
  await advance(w, m, 2 * DAY + HOUR);
  assert.equal((await getSub(w, m, f.json.subscription_id)).status, 'past_due');
  await advance(w, m, DAY);
  s = await getSub(w, m, f.json.subscription_id);
  assert.equal(s.status, 'active');
  assert.deepEqual(s.invoices.map((i) => [i.period_index, i.status]).reverse(), [[0, 'SUCCESS'], [1, 'SUCCESS'], [2, 'SUCCESS']]);
  for (const i of s.invoices.slice(0, 2)) {
    const o = (await call(w, m, 'GET', `/v1/orders/${i.out_trade_no}`)).json;
    assert.equal(Date.parse(o.paid_at) - Date.parse(i.period_start), DAY * 1000, `period ${i.period_index} paid by its retry a day later`);
  }
  const ev = await events(w, m, f.json.subscription_id);
  assert.equal(ev.filter((e) => e.type === 'subscription.payment_failed').length, 3, 'the first charge, and periods 1 and 2');
  assert.deepEqual(ev.filter((e) => e.type === 'subscription.updated').length, 5, 'active, past_due, active, past_due, active');
});

test('dunning_ends_unpaid_by_the_merchants_setting_and_each_attempt_is_an_event', async () => {
  const m = await newMerchant(w, { dunning: { retry_days: [2, 4], final_state: 'unpaid' } });
  const bad = await newMerchant(w, { dunning: { retry_days: [3, 1] } }).catch((e) => e);
  assert.match(String(bad), /dunning\.retry_days/);
  const c = await signedContract(w, m);
  const r = await subscribe(w, m, { contract_code: c.contract_code, price: { amount: 700, interval: 'week' }, trial_days: 7 });
  assert.equal(r.json.status, 'trialing');
  // A contract on a wallet without funds: every deduction is declined.
  const poor = await signedContract(w, m, { method: 'balance', wallet: 'wallet_low', consent: 'yes' });
  const p = await subscribe(w, m, { contract_code: poor.contract_code, price: { amount: 700, interval: 'week' }, trial_days: 7 });
  await advance(w, m, 7 * DAY + 4 * DAY + HOUR);
  const s = await getSub(w, m, p.json.subscription_id);
  assert.equal(s.status, 'unpaid');
  assert.equal(s.cancel_reason, 'payment_failed');
  assert.equal(s.invoices.length, 1);
  assert.equal(s.invoices[0].status, 'CLOSED');
  const ev = await events(w, m, p.json.subscription_id);
  const start = Date.parse(s.invoices[0].period_start);
  assert.deepEqual(ev.filter((e) => e.type === 'subscription.payment_failed').map((e) => (Date.parse(e.at) - start) / (DAY * 1000)), [0, 2, 4]);
  // Nothing more is charged while unpaid; it can still be canceled.
  await advance(w, m, 30 * DAY);
  assert.equal((await getSub(w, m, p.json.subscription_id)).invoices.length, 1);
  const cancel = await call(w, m, 'POST', `/v1/subscriptions/${p.json.subscription_id}/cancel`);
  assert.equal(cancel.json.status, 'canceled');
  // The good one went on every week meanwhile.
  const g = await getSub(w, m, r.json.subscription_id);
  assert.equal(g.status, 'active');
  assert.ok(g.invoices.every((i) => i.status === 'SUCCESS'));
  assert.equal(g.invoices.length, 5, 'days 7, 14, 21, 28 and 35');
});

test('an_unpaid_first_invoice_expires_the_subscription_after_23_hours', async () => {
  const m = await newMerchant(w);
  const r = await subscribe(w, m, {});
  assert.equal(r.json.status, 'incomplete');
  assert.equal(r.json.invoices[0].status, 'NOTPAY');
  await advance(w, m, 22 * HOUR);
  assert.equal((await getSub(w, m, r.json.subscription_id)).status, 'incomplete');
  await advance(w, m, HOUR + 60);
  const s = await getSub(w, m, r.json.subscription_id);
  assert.equal(s.status, 'incomplete_expired');
  assert.equal(s.invoices[0].status, 'CLOSED');
  const o = (await call(w, m, 'GET', `/v1/orders/${s.invoices[0].out_trade_no}`)).json;
  assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).status, 409, 'its invoice can no longer be paid');
  const again = await call(w, m, 'POST', `/v1/subscriptions/${r.json.subscription_id}/cancel`);
  assert.equal(again.status, 409);
  assert.equal(again.json.code, 'SUBSCRIPTION_NOT_ALLOWED');
});

test('cancel_now_or_at_period_end_pause_and_resume', async () => {
  const m = await newMerchant(w);
  const c = await signedContract(w, m);
  const mk = async () => (await subscribe(w, m, { contract_code: c.contract_code, price: { amount: 100, interval: 'week' } })).json;
  const now = await mk();
  const atEnd = await mk();
  const paused = await mk();
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${now.subscription_id}/cancel`, { at_period_end: false })).json.status, 'canceled');
  const e = await call(w, m, 'POST', `/v1/subscriptions/${atEnd.subscription_id}/cancel`, { at_period_end: true });
  assert.equal(e.json.status, 'active');
  assert.equal(e.json.cancel_at_period_end, true);
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${paused.subscription_id}/pause`)).json.status, 'paused');
  const twice = await call(w, m, 'POST', `/v1/subscriptions/${paused.subscription_id}/pause`);
  assert.equal(twice.json.code, 'SUBSCRIPTION_NOT_ALLOWED');
  await advance(w, m, 7 * DAY + HOUR);
  const e2 = await getSub(w, m, atEnd.subscription_id);
  assert.equal(e2.status, 'canceled');
  assert.equal(e2.cancel_reason, 'period_end');
  assert.equal(e2.invoices.length, 1, 'not renewed');
  assert.equal((await getSub(w, m, now.subscription_id)).invoices.length, 1);
  // Two weeks paused: those periods are not collected; after resuming, the next one is.
  await advance(w, m, 7 * DAY);
  assert.equal((await getSub(w, m, paused.subscription_id)).invoices.length, 1);
  const resumed = await call(w, m, 'POST', `/v1/subscriptions/${paused.subscription_id}/resume`);
  assert.equal(resumed.json.status, 'active');
  await advance(w, m, 7 * DAY);
  const p = await getSub(w, m, paused.subscription_id);
  assert.deepEqual(p.invoices.map((i) => [i.period_index, i.status]).reverse(), [[0, 'SUCCESS'], [3, 'SUCCESS']]);
});

test('an_invoice_held_for_approval_is_deducted_once_approved_and_a_rejected_one_is_not_collected', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 5000, approvers: 1 }] });
  const c = await signedContract(w, m);
  const r = await subscribe(w, m, { contract_code: c.contract_code, price: { amount: 9900, interval: 'week' } });
  assert.equal(r.json.status, 'incomplete');
  assert.equal(r.json.invoices[0].status, 'PENDING_APPROVAL');
  const o = (await call(w, m, 'GET', `/v1/orders/${r.json.invoices[0].out_trade_no}`)).json;
  const ok = await admin(w, 'POST', `/admin/approvals/${o.approval_id}/approve`, { approver: 'finance-lead' });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  // Deducted by the object's alarm with nobody asking: the admin listing runs nothing due.
  await paidByTheAlarm(m, o.out_trade_no);
  const s = await getSub(w, m, r.json.subscription_id);
  assert.deepEqual([s.status, s.invoices[0].status], ['active', 'SUCCESS']);
  // The next week's invoice is held too; rejected, that period is not collected and the one
  // after is.
  await advance(w, m, 7 * DAY + HOUR);
  const held = await getSub(w, m, r.json.subscription_id);
  assert.equal(held.invoices[0].status, 'PENDING_APPROVAL');
  const o1 = (await call(w, m, 'GET', `/v1/orders/${held.invoices[0].out_trade_no}`)).json;
  assert.equal((await admin(w, 'POST', `/admin/approvals/${o1.approval_id}/reject`, { approver: 'finance-lead' })).status, 200);
  await advance(w, m, 7 * DAY);
  const after = await getSub(w, m, r.json.subscription_id);
  assert.deepEqual(after.invoices.map((i) => [i.period_index, i.status]).reverse(), [[0, 'SUCCESS'], [1, 'CLOSED'], [2, 'PENDING_APPROVAL']]);
});

test('an_invoice_approved_before_its_period_is_announced_again_with_its_link', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 5000, approvers: 1 }] });
  const r = await subscribe(w, m, { price: { amount: 9900, interval: 'week' }, trial_days: 3 });
  const announced = async () => {
    const list = (await call(w, m, 'GET', `/v1/notifications?subscription_id=${r.json.subscription_id}&type=subscription.renewal_upcoming`)).json.notifications.reverse();
    return Promise.all(list.map(async (n) => JSON.parse((await call(w, m, 'GET', `/v1/notifications/${n.id}`)).json.body).data));
  };
  await advance(w, m, 2 * DAY);
  const [held] = await announced();
  assert.deepEqual([held?.awaiting_approval, held?.checkout_url], [true, undefined], 'it cannot be paid yet: no link');
  const o = (await call(w, m, 'GET', `/v1/orders/${held.out_trade_no}`)).json;
  assert.equal((await admin(w, 'POST', `/admin/approvals/${o.approval_id}/approve`, { approver: 'finance-lead' })).status, 200);
  const [, approved] = await announced();
  assert.equal(approved?.awaiting_approval, undefined);
  assert.deepEqual([approved.out_trade_no, approved.pay_by], [held.out_trade_no, held.pay_by]);
  assert.match(approved.checkout_url, /\/pay\//, 'announced again, with its link');
});

test('an_invoice_held_for_approval_until_it_expires_does_not_stop_the_subscription', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 5000, approvers: 1 }] });
  const r = await subscribe(w, m, { price: { amount: 9900, interval: 'week' }, trial_days: 3 });
  assert.equal(r.json.status, 'trialing');
  // The first invoice waits for an approval nobody gives, and expires (the dunning's last retry
  // plus two days after its period starts); the next period is reminded and invoiced all the same.
  // Only the notifications are read: they run nothing due.
  await advance(w, m, 12 * DAY);
  const reminders = (await events(w, m, r.json.subscription_id)).filter((e) => e.type === 'subscription.renewal_upcoming');
  assert.equal(reminders.length, 2, 'both periods reminded');
  const s = await getSub(w, m, r.json.subscription_id);
  assert.deepEqual(s.invoices.map((i) => [i.period_index, i.status]).reverse(), [[0, 'CLOSED'], [1, 'PENDING_APPROVAL']]);
});

test('a_contract_ended_before_the_next_period_announces_no_charge_and_cancels_the_subscription', async () => {
  const m = await newMerchant(w);
  const c = await signedContract(w, m);
  const r = await subscribe(w, m, { contract_code: c.contract_code, price: { amount: 700, interval: 'week' } });
  assert.deepEqual([r.json.status, r.json.invoices[0].status], ['active', 'SUCCESS']);
  assert.equal((await call(w, m, 'POST', `/v1/contracts/${c.contract_code}/terminate`, { remark: 'moved away' })).status, 200);
  await advance(w, m, 7 * DAY + HOUR);
  const ev = await events(w, m, r.json.subscription_id);
  assert.equal(ev.filter((e) => e.type === 'subscription.renewal_upcoming').length, 0, 'no charge is announced that cannot be made');
  const s = await getSub(w, m, r.json.subscription_id);
  assert.deepEqual([s.status, s.cancel_reason], ['canceled', 'contract_ended']);
  assert.ok(s.invoices.every((i) => i.status !== 'NOTPAY' && (i.period_index === 0 || i.status !== 'SUCCESS')), JSON.stringify(s.invoices));
});

test('a_charge_the_contracts_term_ends_before_is_never_announced', async () => {
  // A one-day contract, a daily subscription reminded a day ahead: period 1 starts after the
  // term ends, so its reminder (due at once) must not announce a charge that cannot be made.
  const m = await newMerchant(w);
  const c = await signedContract(w, m, undefined, { contract_days: 1 });
  const r = await subscribe(w, m, { contract_code: c.contract_code, price: { amount: 700, interval: 'day' }, reminder_hours: 24 });
  assert.deepEqual([r.json.status, r.json.invoices[0].status], ['active', 'SUCCESS']);
  await advance(w, m, DAY + HOUR);
  const ev = await events(w, m, r.json.subscription_id);
  assert.equal(ev.filter((e) => e.type === 'subscription.renewal_upcoming').length, 0, JSON.stringify(ev.map((e) => e.type)));
  const s = await getSub(w, m, r.json.subscription_id);
  assert.deepEqual([s.status, s.cancel_reason], ['canceled', 'contract_ended']);
});

test('on_a_contract_that_announces_each_charge_a_day_ahead_no_subscription_charges_sooner', async () => {
  const m = await newMerchant(w);
  const c = await signedContract(w, m, undefined, { pre_deduction_notice: true });
  const price = { amount: 700, interval: 'week' };
  const short = await subscribe(w, m, { contract_code: c.contract_code, price, reminder_hours: 12 });
  assert.deepEqual([short.status, short.json.code, short.json.param], [400, 'PARAM_ERROR', 'reminder_hours']);
  // The contract's first deduction, within 12 hours of signing, may be charged at once.
  const first = await subscribe(w, m, { contract_code: c.contract_code, price });
  assert.deepEqual([first.status, first.json.invoices[0].status], [201, 'SUCCESS']);
  // Another one is not: it needs a trial that puts its first charge a day or more away.
  const now = await subscribe(w, m, { contract_code: c.contract_code, price });
  assert.deepEqual([now.status, now.json.code, now.json.param], [400, 'PARAM_ERROR', 'trial_days']);
  const later = await subscribe(w, m, { contract_code: c.contract_code, price, trial_days: 1 });
  assert.equal(later.status, 201, later.text);
  await advance(w, m, 60);
  const ev = await events(w, m, later.json.subscription_id);
  const reminder = ev.find((e) => e.type === 'subscription.renewal_upcoming');
  assert.ok(Date.parse(later.json.trial_end) - Date.parse(reminder.at) >= DAY * 1000, 'announced a day ahead');
  const list = (await call(w, m, 'GET', '/v1/subscriptions')).json.subscriptions;
  assert.equal(list.length, 2, 'the refused ones left nothing');
});

test('resumed_too_close_to_a_period_on_a_notice_contract_its_charge_waits_a_day_after_the_reminder', async () => {
  const m = await newMerchant(w);
  const c = await signedContract(w, m, undefined, { pre_deduction_notice: true });
  const r = await subscribe(w, m, { contract_code: c.contract_code, price: { amount: 700, interval: 'week' }, reminder_hours: 48 });
  assert.equal(r.status, 201, r.text);
  const id = r.json.subscription_id;
  const periodOne = Date.parse(r.json.current_period_end);
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${id}/pause`)).json.status, 'paused');
  // Resumed two hours before period 1 starts: its reminder goes out now, not two days ahead.
  const t = Date.parse((await advance(w, m, 7 * DAY - 2 * HOUR)).business_time);
  assert.equal(t, periodOne - 2 * HOUR * 1000);
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${id}/resume`)).json.status, 'active');
  await advance(w, m, 1);
  const upcoming = (await call(w, m, 'GET', `/v1/notifications?subscription_id=${id}&type=subscription.renewal_upcoming`)).json.notifications;
  assert.equal(upcoming.length, 1);
  const said = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${upcoming[0].id}`)).json.body).data;
  assert.equal(Date.parse(said.charge_at), t + DAY * 1000, 'the reminder names the day-later charge');
  // The period starts: nothing is charged until a day after the reminder.
  await advance(w, m, 3 * HOUR);
  const paid = async () => (await getSub(w, m, id)).invoices.filter((i) => i.period_index === 1 && i.status === 'SUCCESS');
  assert.deepEqual(await paid(), [], 'not charged at the period start, 2 hours after the reminder');
  await advance(w, m, 21 * HOUR);
  const [one] = await paid();
  assert.ok(one, 'charged a day after the reminder');
  const order = (await call(w, m, 'GET', `/v1/orders/${one.out_trade_no}`)).json;
  assert.ok(Date.parse(order.paid_at) >= t + DAY * 1000, order.paid_at);
});

test('a_payment_in_flight_when_canceled_is_refunded_and_a_payers_declines_do_not_use_up_the_retries', async () => {
  const m = await newMerchant(w);
  // The sandbox card ending 3220 stays USERPAYING for a while, then succeeds.
  const slow = await signedContract(w, m, { method: 'credit_card', card_number: '4000 0000 0000 3220', card_exp: '12/35', card_cvc: '123', consent: 'yes' });
  const r = await subscribe(w, m, { contract_code: slow.contract_code, price: { amount: 800, interval: 'week' } });
  assert.deepEqual([r.json.status, r.json.invoices[0].status], ['incomplete', 'USERPAYING']);
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${r.json.subscription_id}/cancel`)).json.status, 'canceled');
  await advance(w, m, 60);
  const o = (await call(w, m, 'GET', `/v1/orders/${r.json.invoices[0].out_trade_no}`)).json;
  assert.deepEqual([o.status, o.refunded_total], ['REFUND', 800], 'nothing is kept for a canceled subscription');
  // A past-due invoice's link: the payer's declined attempts are not the dunning's attempts.
  const poor = await signedContract(w, m, { method: 'balance', wallet: 'wallet_low', consent: 'yes' });
  const p = await subscribe(w, m, { contract_code: poor.contract_code, price: { amount: 800, interval: 'week' }, trial_days: 1 });
  await advance(w, m, DAY + HOUR);
  let s = await getSub(w, m, p.json.subscription_id);
  assert.equal(s.status, 'past_due');
  const inv = (await call(w, m, 'GET', `/v1/orders/${s.invoices[0].out_trade_no}`)).json;
  for (let i = 0; i < 4; i++) assert.equal((await pay(w, inv, { method: 'balance', wallet: 'wallet_low' })).json.status, 'PAYERROR');
  s = await getSub(w, m, p.json.subscription_id);
  assert.equal(s.status, 'past_due', 'still past due: four declines on the page are not four retries');
  const failed = (await events(w, m, p.json.subscription_id)).filter((e) => e.type === 'subscription.payment_failed');
  assert.equal(failed.length, 1);
  // The payer pays with a working wallet: active again.
  assert.equal((await pay(w, inv, { method: 'balance', wallet: 'wallet_ok' })).json.status, 'SUCCESS');
  assert.equal((await getSub(w, m, p.json.subscription_id)).status, 'active');
});

test('usage_on_an_invoice_in_flight_when_canceled_is_charged_on_its_own_not_refunded_with_it', async () => {
  const m = await newMerchant(w);
  // The sandbox card ending 3220 stays USERPAYING for a while, then succeeds.
  const slow = await signedContract(w, m, { method: 'credit_card', card_number: '4000 0000 0000 3220', card_exp: '12/35', card_cvc: '123', consent: 'yes' });
  const r = await subscribe(w, m, { contract_code: slow.contract_code, price: { amount: 1000, interval: 'day' }, usage: { unit: 'api_call', unit_amount: 3 } });
  assert.equal(r.status, 201, r.text);
  const id = r.json.subscription_id;
  await advance(w, m, 60);
  assert.equal((await getSub(w, m, id)).status, 'active');
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${id}/usage`, { quantity: 10, idempotency_key: 'u1' })).status, 201);
  await advance(w, m, DAY - 60); // to the period's start: charged, and still in flight
  const inFlight = (await getSub(w, m, id)).invoices.find((i) => i.period_index === 1);
  assert.deepEqual([inFlight?.status, inFlight?.usage_amount], ['USERPAYING', 30]);
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${id}/cancel`)).json.status, 'canceled');
  await advance(w, m, 60);
  const refunded = (await call(w, m, 'GET', `/v1/orders/${inFlight.out_trade_no}`)).json;
  assert.deepEqual([refunded.status, refunded.refunded_total], ['REFUND', 1030], 'the period is not kept');
  const usage = (await getSub(w, m, id)).invoices.filter((i) => i.period_index > 1);
  assert.deepEqual(usage.map((i) => [i.amount.total, i.usage_amount]), [[30, 30]], 'the usage is still owed, charged on its own');
});

test('the_contract_page_lists_the_next_renewal_of_each_subscription_charged_from_it', async () => {
  const m = await newMerchant(w);
  const c = await signedContract(w, m);
  const flat = await subscribe(w, m, { contract_code: c.contract_code, description: 'Tea club', price: { amount: 700, interval: 'week' } });
  const metered = await subscribe(w, m, { contract_code: c.contract_code, description: 'API plan', price: { amount: 1000, interval: 'month' }, usage: { unit: 'api_call', unit_amount: 3 } });
  assert.deepEqual([flat.json.status, metered.json.status], ['active', 'active']);
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${metered.json.subscription_id}/usage`, { quantity: 10, idempotency_key: 'u1' })).status, 201);
  const contract = (await call(w, m, 'GET', `/v1/contracts/${c.contract_code}`)).json;
  const html = await (await fetch(`${contract.manage_url}?lang=en`)).text();
  const items = [...html.matchAll(/<li>([^<]*)<\/li>/g)].map((x) => x[1]);
  const day = (iso) => iso.slice(0, 10);
  assert.ok(items.some((x) => x.includes('¥7.00 · Tea club') && x.includes(day(flat.json.current_period_end))), items.join('\n'));
  assert.ok(items.some((x) => x.includes('¥10.30 + usage · API plan')), items.join('\n'));
  // Canceled at its period's end, it renews no more: no longer listed.
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${flat.json.subscription_id}/cancel`, { at_period_end: true })).status, 200);
  const after = await (await fetch(`${contract.manage_url}?lang=en`)).text();
  assert.doesNotMatch(after, /Tea club/);
});

test('on_a_contract_that_announces_each_charge_the_last_usage_of_a_canceled_subscription_is_announced_a_day_ahead', async () => {
  const m = await newMerchant(w);
  const c = await signedContract(w, m, undefined, { pre_deduction_notice: true });
  const r = await subscribe(w, m, { contract_code: c.contract_code, price: { amount: 1000, interval: 'month' }, usage: { unit: 'api_call', unit_amount: 3 } });
  assert.equal(r.json.status, 'active', r.text);
  const id = r.json.subscription_id;
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${id}/usage`, { quantity: 10, idempotency_key: 'u1' })).status, 201);
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${id}/cancel`)).json.status, 'canceled');
  const last = (await getSub(w, m, id)).invoices.find((i) => i.period_index > 0);
  assert.deepEqual([last?.status, last?.amount.total], ['NOTPAY', 30], 'billed, not charged yet');
  const upcoming = (await call(w, m, 'GET', `/v1/notifications?subscription_id=${id}&type=subscription.renewal_upcoming`)).json.notifications;
  assert.equal(upcoming.length, 1, 'announced as the contract page promises');
  const data = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${upcoming[0].id}`)).json.body).data;
  assert.deepEqual([data.out_trade_no, data.amount.total, data.usage_only], [last.out_trade_no, 30, true]);
  await advance(w, m, 86_400 - 60);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${last.out_trade_no}`)).json.status, 'NOTPAY', 'not a moment before the day is out');
  await advance(w, m, 60);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${last.out_trade_no}`)).json.status, 'SUCCESS');
});

test('paused_and_resumed_before_a_period_starts_without_a_contract', async () => {
  const m = await newMerchant(w);
  const r = await subscribe(w, m, { price: { amount: 500, interval: 'week' } });
  const first = (await call(w, m, 'GET', `/v1/orders/${r.json.invoices[0].out_trade_no}`)).json;
  assert.equal((await pay(w, first, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  // Six days on, period 1's invoice is out with its reminder; paused and resumed before the
  // period starts, that invoice is closed and period 1 is not collected; period 2 is.
  await advance(w, m, 6 * DAY);
  assert.equal((await getSub(w, m, r.json.subscription_id)).invoices[0].status, 'NOTPAY');
  assert.equal((await call(w, m, 'POST', `/v1/subscriptions/${r.json.subscription_id}/pause`)).json.status, 'paused');
  const resumed = await call(w, m, 'POST', `/v1/subscriptions/${r.json.subscription_id}/resume`);
  assert.equal(resumed.json.status, 'active');
  await advance(w, m, DAY + HOUR);
  const s = await getSub(w, m, r.json.subscription_id);
  assert.equal(s.status, 'active', 'the closed invoice is not a failed charge');
  await advance(w, m, 6 * DAY);
  const later = await getSub(w, m, r.json.subscription_id);
  assert.deepEqual(later.invoices.map((i) => [i.period_index, i.status]).reverse(), [[0, 'SUCCESS'], [1, 'CLOSED'], [2, 'NOTPAY']]);
});

test('subscription_events_reach_the_merchant_signed_and_in_order', async () => {
  const rx = await startReceiver();
  try {
    const m = await newMerchant(w, { notify_url: rx.url });
    const r = await subscribe(w, m, { trial_days: 4, price: { amount: 1200, interval: 'month' } });
    await advance(w, m, 4 * DAY + HOUR);
    const want = ['subscription.created', 'subscription.trial_will_end', 'subscription.renewal_upcoming', 'subscription.payment_failed', 'subscription.updated'];
    const ds = await rx.waitFor((d) => want.every((t) => d.some((x) => x.event?.type === t)), 'the subscription events');
    const mine = ds.filter((d) => d.event?.data?.subscription_id === r.json.subscription_id).map((d) => d.event.type);
    assert.deepEqual(mine.slice(0, 5), want, 'delivered in the order they happened');
    // Each verifies with the documented recipe and the merchant's webhook secret.
    const dir = mkdtempSync(join(tmpdir(), 'paydesk-sub-recipe-'));
    for (const d of ds.slice(0, 5)) {
      const file = join(dir, 'delivery.json');
      writeFileSync(file, JSON.stringify({ secret: m.webhook_secret, signature: d.headers['paydesk-signature'], body: d.body }));
      const out = execFileSync(process.execPath, [join(ROOT, 'docs/recipes/verify_webhook.mjs'), file], { encoding: 'utf8' }).trim();
      assert.equal(out, `${d.event.id} ${d.event.type}`);
    }
    const reminder = ds.find((d) => d.event.type === 'subscription.renewal_upcoming').event.data;
    assert.equal(reminder.amount.total, 1200);
    assert.match(reminder.checkout_url, /\/pay\//);
    const failed = ds.find((d) => d.event.type === 'subscription.payment_failed').event.data;
    assert.deepEqual([failed.attempt, failed.code, failed.status], [1, 'NOT_PAID', 'past_due']);
    assert.match(failed.next_step, /checkout_url/);
  } finally {
    await rx.close();
  }
});

test('usage_counts_once_per_key_and_a_report_racing_the_close_lands_in_one_period', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 5000, query: 5000, refund: 50 } });
  const c = await signedContract(w, m);
  const r = await subscribe(w, m, { contract_code: c.contract_code, price: { amount: 1000, interval: 'day' }, usage: { unit: 'api_call', unit_amount: 3 } });
  assert.equal(r.status, 201, r.text);
  const id = r.json.subscription_id;
  const report = (key, quantity) => call(w, m, 'POST', `/v1/subscriptions/${id}/usage`, { quantity, idempotency_key: key });
  const a = await report('k1', 10);
  assert.equal(a.status, 201, a.text);
  assert.deepEqual([a.json.invoice_period, a.json.billed], [1, false]);
  assert.equal((await report('k1', 10)).status, 200, 'the same report again');
  const clash = await report('k1', 11);
  assert.equal(clash.status, 409);
  assert.equal(clash.json.code, 'USAGE_KEY_USED');
  const bad = await report('', 1);
  assert.equal(bad.json.param, 'idempotency_key');
  // Forty reports race the period's close (the clock crossing the day boundary).
  const keys = Array.from({ length: 40 }, (_, i) => `race-${i}`);
  const [, ...reports] = await Promise.all([advance(w, m, DAY), ...keys.map((k) => report(k, 1))]);
  assert.ok(reports.every((x) => x.status === 201), reports.map((x) => x.text).join('\n'));
  await advance(w, m, DAY);
  const s = await getSub(w, m, id);
  const byPeriod = Object.fromEntries(s.invoices.map((i) => [i.period_index, i.usage_amount]));
  assert.equal(byPeriod[0], 0);
  // Every unit is billed exactly once, on invoice 1 or 2 (whichever side of the close it fell).
  assert.equal(byPeriod[1] + byPeriod[2] + s.usage_pending * 3, (10 + 40) * 3);
  assert.equal(s.usage_pending, 0);
  assert.ok(byPeriod[1] >= 30, 'k1 was reported before the close');
  for (const i of s.invoices) assert.equal(i.amount.total, 1000 + i.usage_amount);
  const late = await report('k1', 10);
  assert.deepEqual([late.status, late.json.billed, late.json.invoice_period], [200, true, 1]);
  // A subscription whose first invoice failed (incomplete): that invoice exists, so usage
  // reported now lands on the next one, and the report says so.
  const low = await signedContract(w, m, { method: 'balance', wallet: 'wallet_low', consent: 'yes' });
  const inc = await subscribe(w, m, { contract_code: low.contract_code, price: { amount: 1000, interval: 'day' }, usage: { unit: 'api_call', unit_amount: 3 } });
  assert.equal(inc.json.status, 'incomplete', inc.text);
  const onNext = await call(w, m, 'POST', `/v1/subscriptions/${inc.json.subscription_id}/usage`, { quantity: 2, idempotency_key: 'inc-1' });
  assert.deepEqual([onNext.status, onNext.json.invoice_period, onNext.json.billed], [201, 1, false]);
  // Canceled with usage not billed yet: one last invoice of that usage only.
  assert.equal((await report('last-1', 5)).status, 201);
  const canceled = await call(w, m, 'POST', `/v1/subscriptions/${id}/cancel`);
  assert.equal(canceled.json.status, 'canceled');
  const last = canceled.json.invoices[0];
  assert.deepEqual([last.period_index, last.amount.total, last.usage_amount, last.status], [3, 15, 15, 'SUCCESS']);
  assert.equal(canceled.json.usage_pending, 0);
  // Usage to a subscription without a usage price is refused.
  const plain = await subscribe(w, m, { contract_code: c.contract_code });
  const refused = await call(w, m, 'POST', `/v1/subscriptions/${plain.json.subscription_id}/usage`, { quantity: 1, idempotency_key: 'x' });
  assert.equal(refused.json.code, 'SUBSCRIPTION_NOT_ALLOWED');
});

test('a_worker_restart_mid_year_loses_nothing', async () => {
  const persistTo = join(mkdtempSync(join(tmpdir(), 'paydesk-subs-')), 'state');
  const vars = devVars();
  let w2 = await startWorker({ persistTo, vars });
  try {
    const m = await newMerchant(w2);
    await clockTo(w2, m, '2027-01-31T02:00:00Z');
    const c = await signedContract(w2, m);
    const id = (await subscribe(w2, m, { contract_code: c.contract_code })).json.subscription_id;
    await advance(w2, m, 180 * DAY);
    await crashWorker(w2);
    w2 = await startWorker({ persistTo, vars });
    await advance(w2, m, 186 * DAY);
    const s = await getSub(w2, m, id);
    assert.deepEqual(s.invoices.map((i) => i.period_start.slice(0, 10)).reverse(), [
      '2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31', '2027-06-30', '2027-07-31',
      '2027-08-31', '2027-09-30', '2027-10-31', '2027-11-30', '2027-12-31', '2028-01-31',
    ]);
    for (const i of s.invoices) {
      const o = (await call(w2, m, 'GET', `/v1/orders/${i.out_trade_no}`)).json;
      assert.equal(o.status, 'SUCCESS');
      assert.equal(o.paid_at.slice(0, 16), i.period_start.slice(0, 16), `period ${i.period_index} charged at its start, before or after the restart`);
    }
    const audit = await call(w2, m, 'GET', '/v1/audit/verify');
    assert.equal(audit.json.intact, true);
  } finally {
    await w2.stop();
  }
});
