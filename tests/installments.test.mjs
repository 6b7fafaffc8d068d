// Installment plans through the real worker on the test clock (docs/openapi.json,
// "installments"): a deposit and a balance paid through their links, the pay page of a part
// saying which part of how many and what is left, a default that refunds what was paid but
// keeps a non-refundable deposit (and refunds it when the plan says so), a year of monthly
// parts deducted from a contract on their due dates in one clock call, and a failed deduction
// reminded and paid within the grace.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, advance, otn, pay, tokenOf } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const DAY = 86_400;
const HOUR = 3_600;
const CARD = { method: 'credit_card', card: { number: '4242 4242 4242 4242', exp_month: 12, exp_year: 2035, cvc: '123' } };

/** The merchant's business time now. */
/** Which merchant and order a pay link opens (its token also carries an expiry, which the test
 * clock may shift by a second between two renderings of the same order's link). */
const linkTarget = (url) => Buffer.from(new URL(url).pathname.split('/').pop().split('.')[0], 'base64url').toString().split('.').slice(1).join('.');

const businessNow = async (m) => Date.parse((await advance(w, m, 1)).business_time);
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const create = (m, fields) => call(w, m, 'POST', '/v1/installment_plans', { plan_no: otn('IP'), description: 'Upright piano', ...fields });
const getPlan = async (m, no) => {
  const r = await call(w, m, 'GET', `/v1/installment_plans/${no}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
};
const order = async (m, no) => (await call(w, m, 'GET', `/v1/orders/${no}`)).json;
const types = async (m, no) => (await call(w, m, 'GET', `/v1/notifications?plan_no=${no}&limit=100`)).json.notifications.map((n) => n.type).reverse();

async function signedContract(m, instrument, planFields = {}) {
  const plan = { plan_id: String(Date.now()) + String(randomBytes(2).readUInt16BE()), name: 'Piano', max_amount_per_deduction: 1_000_000, period: 'month', max_deductions_per_period: 2, ...planFields };
  assert.equal((await call(w, m, 'POST', '/v1/contract_plans', plan)).status, 201);
  const c = await call(w, m, 'POST', '/v1/contracts', { plan_id: plan.plan_id, contract_code: otn('C'), display_account: 'bob' });
  const page = await fetch(c.json.sign_url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
    body: new URLSearchParams(instrument).toString(),
  });
  assert.equal(page.status, 200);
  return c.json.contract_code;
}

test('plans_are_validated_and_idempotent', async () => {
  const m = await newMerchant(w);
  const now = await businessNow(m);
  const later = (d) => iso(now + d * DAY * 1000);
  const cases = [
    [{ parts: [{ amount: 3000, deposit: true }, { amount: 7000, due_at: later(30) }] }, 'parts', /20%/],
    [{ parts: [{ amount: 1000 }, { amount: 1000, due_at: later(30), deposit: true }] }, 'parts', /first part/],
    [{ parts: [{ amount: 1000, due_at: later(3) }, { amount: 1000, due_at: later(30) }] }, 'parts', /at once/],
    [{ parts: [{ amount: 1000 }, { amount: 1000 }] }, 'parts', /due_at/],
    [{ parts: [{ amount: 1000 }, { amount: 1000, due_at: later(30) }, { amount: 1000, due_at: later(20) }] }, 'parts', /in order/],
    [{ parts: [{ amount: 1000 }] }, 'parts', /2 to 24/],
    [{ parts: [{ amount: 1000 }, { amount: 1000, due_at: later(30) }], grace_hours: 0 }, 'grace_hours', /grace/],
    [{ plan_no: 'not valid', parts: [{ amount: 1000 }, { amount: 1000, due_at: later(30) }] }, 'plan_no', /plan_no/],
  ];
  for (const [fields, param, message] of cases) {
    const r = await create(m, fields);
    assert.equal(r.status, 400, `${JSON.stringify(fields)}: ${r.text}`);
    assert.equal(r.json.code, 'PARAM_ERROR');
    assert.equal(r.json.param, param);
    assert.match(r.json.message, message);
  }
  const body = { plan_no: otn('IP'), description: 'Piano', parts: [{ amount: 2000, deposit: true }, { amount: 8000, due_at: later(30) }] };
  const a = await call(w, m, 'POST', '/v1/installment_plans', body);
  assert.equal(a.status, 201, a.text);
  const again = await call(w, m, 'POST', '/v1/installment_plans', body);
  assert.equal(again.status, 200);
  assert.equal(again.json.parts[0].out_trade_no, a.json.parts[0].out_trade_no, 'one deposit order');
  const other = await call(w, m, 'POST', '/v1/installment_plans', { ...body, description: 'Violin' });
  assert.equal(other.json.code, 'INSTALLMENT_PLAN_NO_USED');
  // Sent again once its balance's date has passed (a retry long after): still the same plan,
  // not a refusal of a new one.
  await advance(w, m, 31 * DAY);
  const late = await call(w, m, 'POST', '/v1/installment_plans', body);
  assert.deepEqual([late.status, late.json.plan_no], [200, body.plan_no], late.text);
  const none = await call(w, m, 'GET', '/v1/installment_plans/NOPE');
  assert.deepEqual([none.status, none.json.code], [404, 'INSTALLMENT_PLAN_NOT_EXIST']);
});

test('deposit_then_balance_paid_through_their_links_and_the_page_says_which_part', async () => {
  const m = await newMerchant(w);
  const now = await businessNow(m);
  const dueBalance = now + 30 * DAY * 1000;
  const r = await create(m, { parts: [{ amount: 2000, deposit: true, label: '定金' }, { amount: 8000, due_at: iso(dueBalance), label: '尾款' }] });
  assert.equal(r.status, 201, r.text);
  const p0 = r.json;
  assert.deepEqual([p0.status, p0.total.total, p0.paid.total, p0.remaining.total], ['ACTIVE', 10000, 0, 10000]);
  assert.equal(p0.parts[0].status, 'NOTPAY');
  assert.equal(p0.parts[1].out_trade_no, undefined, 'the balance is not an order yet');
  const deposit = await order(m, p0.parts[0].out_trade_no);
  assert.deepEqual([deposit.plan_no, deposit.part_index, deposit.amount.total], [p0.plan_no, 0, 2000]);
  // The deposit's page: part 1 of 2, and what is left after it, in both languages.
  const zh = await (await fetch(`${deposit.checkout_url}?lang=zh`)).text();
  assert.match(zh, /分期付款：第 1 期，共 2 期 · 定金/);
  assert.match(zh, /本期付款后还需支付 ¥80\.00/);
  const en = await (await fetch(`${deposit.checkout_url}?lang=en`)).text();
  assert.match(en, /Installments: part 1 of 2 · 定金/);
  assert.match(en, /¥80\.00 left to pay after this part/);
  const view = await (await fetch(`${w.url}/api/checkout/${tokenOf(deposit)}`)).json();
  assert.deepEqual(view.installment, { part: 1, parts: 2, label: '定金', remaining_after: { total: 8000, currency: 'CNY' } });
  assert.equal((await pay(w, deposit, CARD)).json.status, 'SUCCESS');
  assert.deepEqual([(await getPlan(m, p0.plan_no)).paid.total, (await getPlan(m, p0.plan_no)).remaining.total], [2000, 8000]);
  // 48 hours before the balance is due it becomes an order, and the reminder has its link.
  await advance(w, m, 28 * DAY);
  const p1 = await getPlan(m, p0.plan_no);
  assert.equal(p1.parts[1].status, 'NOTPAY');
  const list = (await call(w, m, 'GET', `/v1/notifications?plan_no=${p0.plan_no}&type=installment.due_upcoming`)).json.notifications;
  assert.equal(list.length, 1);
  const data = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${list[0].id}`)).json.body).data;
  assert.equal(Date.parse(list[0].created_at), dueBalance - 48 * HOUR * 1000);
  const balance = await order(m, p1.parts[1].out_trade_no);
  assert.equal(linkTarget(data.checkout_url), `${m.merchant_id}.${balance.out_trade_no}`);
  assert.equal(data.due_at, p1.parts[1].due_at);
  const last = await (await fetch(`${balance.checkout_url}?lang=zh`)).text();
  assert.match(last, /第 2 期，共 2 期 · 尾款/);
  assert.match(last, /这是最后一期/);
  assert.equal((await pay(w, balance, CARD)).json.status, 'SUCCESS');
  const done = await getPlan(m, p0.plan_no);
  assert.deepEqual([done.status, done.paid.total, done.remaining.total], ['COMPLETED', 10000, 0]);
  assert.ok(done.completed_at);
  assert.deepEqual(await types(m, p0.plan_no), ['installment.due_upcoming', 'installment_plan.completed']);
  // Nothing else happens to a completed plan.
  await advance(w, m, 30 * DAY);
  assert.equal((await getPlan(m, p0.plan_no)).status, 'COMPLETED');
});

async function defaulted(refundable, partial = false) {
  const m = await newMerchant(w);
  const now = await businessNow(m);
  const due = (d) => iso(now + d * DAY * 1000);
  const r = await create(m, {
    deposit_refundable: refundable, grace_hours: 24,
    parts: [{ amount: 2000, deposit: true }, { amount: 4000, due_at: due(10) }, { amount: 4000, due_at: due(20) }],
  });
  assert.equal(r.status, 201, r.text);
  await pay(w, await order(m, r.json.parts[0].out_trade_no), CARD);
  await advance(w, m, 9 * DAY);
  const part1 = await order(m, (await getPlan(m, r.json.plan_no)).parts[1].out_trade_no);
  await pay(w, part1, CARD);
  if (partial) {
    // The merchant already refunded part of part 2 (a scratch on the piano).
    const ref = await call(w, m, 'POST', '/v1/refunds', { out_trade_no: part1.out_trade_no, out_refund_no: otn('R'), amount: 1000 });
    assert.equal(ref.status, 201, ref.text);
  }
  // Part 3 is never paid: a day past its due time the plan defaults, not a moment before.
  await advance(w, m, 11 * DAY + 23 * HOUR);
  assert.equal((await getPlan(m, r.json.plan_no)).status, 'ACTIVE');
  await advance(w, m, HOUR + 60);
  return { m, p: await getPlan(m, r.json.plan_no) };
}

test('a_part_held_for_approval_is_announced_without_a_link_and_again_with_it_once_approved', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 5000, approvers: 1 }] });
  const now = await businessNow(m);
  const r = await create(m, { parts: [{ amount: 2000 }, { amount: 8000, due_at: iso(now + 30 * DAY * 1000) }] });
  assert.equal(r.status, 201, r.text);
  assert.equal((await pay(w, await order(m, r.json.parts[0].out_trade_no), CARD)).json.status, 'SUCCESS');
  await advance(w, m, 28 * DAY);
  const balance = await order(m, (await getPlan(m, r.json.plan_no)).parts[1].out_trade_no);
  assert.equal(balance.status, 'PENDING_APPROVAL', 'above the merchant\'s approval level');
  const announced = async () => {
    const list = (await call(w, m, 'GET', `/v1/notifications?plan_no=${r.json.plan_no}&type=installment.due_upcoming`)).json.notifications.reverse();
    return Promise.all(list.map(async (n) => JSON.parse((await call(w, m, 'GET', `/v1/notifications/${n.id}`)).json.body).data));
  };
  const [held] = await announced();
  assert.deepEqual([held.awaiting_approval, held.checkout_url], [true, undefined], 'it cannot be paid yet: no link');
  assert.equal((await admin(w, 'POST', `/admin/approvals/${balance.approval_id}/approve`, { approver: 'finance-lead' })).status, 200);
  const [, approved] = await announced();
  assert.equal(approved?.awaiting_approval, undefined);
  assert.equal(linkTarget(approved.checkout_url), `${m.merchant_id}.${balance.out_trade_no}`, 'announced again, with its link');
  assert.equal((await pay(w, await order(m, balance.out_trade_no), CARD)).json.status, 'SUCCESS');
  assert.equal((await getPlan(m, r.json.plan_no)).status, 'COMPLETED');
});

test('a_plan_that_lapses_on_a_part_the_merchant_never_approved_gives_the_deposit_back', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 5000, approvers: 1 }] });
  const now = await businessNow(m);
  const r = await create(m, { grace_hours: 24, parts: [{ amount: 2000, deposit: true }, { amount: 8000, due_at: iso(now + 30 * DAY * 1000) }] });
  assert.equal(r.status, 201, r.text);
  assert.equal((await pay(w, await order(m, r.json.parts[0].out_trade_no), CARD)).json.status, 'SUCCESS');
  await advance(w, m, 28 * DAY);
  const balance = await order(m, (await getPlan(m, r.json.plan_no)).parts[1].out_trade_no);
  assert.equal(balance.status, 'PENDING_APPROVAL');
  // Nobody approves it: the payer, told to wait for its link, never got one.
  await advance(w, m, 4 * DAY);
  const p = await getPlan(m, r.json.plan_no);
  assert.deepEqual([p.status, p.refunded, p.kept], ['DEFAULTED', 2000, 0], 'the deposit (定金) is not kept');
  const deposit = await order(m, r.json.parts[0].out_trade_no);
  assert.deepEqual([deposit.status, deposit.refunded_total], ['REFUND', 2000]);
});

test('on_a_contract_a_part_held_for_approval_is_announced_as_awaiting_it_then_with_its_charge_time', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 5000, approvers: 1 }] });
  const code = await signedContract(m, { method: 'balance', wallet: 'wallet_ok', consent: 'yes' });
  const now = await businessNow(m);
  const due = now + 30 * DAY * 1000;
  const r = await create(m, { contract_code: code, parts: [{ amount: 2000 }, { amount: 8000, due_at: iso(due) }] });
  assert.equal(r.status, 201, r.text);
  await advance(w, m, 28 * DAY);
  const balance = await order(m, (await getPlan(m, r.json.plan_no)).parts[1].out_trade_no);
  assert.equal(balance.status, 'PENDING_APPROVAL');
  const announced = async () => {
    const list = (await call(w, m, 'GET', `/v1/notifications?plan_no=${r.json.plan_no}&type=installment.due_upcoming`)).json.notifications.reverse();
    return Promise.all(list.map(async (n) => JSON.parse((await call(w, m, 'GET', `/v1/notifications/${n.id}`)).json.body).data));
  };
  const [held] = await announced();
  assert.deepEqual([held.awaiting_approval, held.charge_at, held.checkout_url], [true, undefined, undefined], 'no charge is promised while it waits');
  assert.equal((await admin(w, 'POST', `/admin/approvals/${balance.approval_id}/approve`, { approver: 'finance-lead' })).status, 200);
  const [, approved] = await announced();
  assert.deepEqual([approved?.awaiting_approval, approved?.charge_at], [undefined, iso(due)], 'announced again, with when it is charged');
  await advance(w, m, 2 * DAY);
  const p = await getPlan(m, r.json.plan_no);
  assert.deepEqual([p.status, p.parts[1].paid_at], ['COMPLETED', iso(due)], 'charged on its due date');
});

test('a_part_due_after_the_contracts_term_is_announced_with_its_link_not_a_charge', async () => {
  // The contract lasts 19 days; the balance is due on day 20 and announced on day 18 (48 hours
  // ahead), while the contract is still active: it cannot be deducted, so it is announced as
  // the payer's to pay through its link.
  const m = await newMerchant(w);
  const code = await signedContract(m, { method: 'balance', wallet: 'wallet_ok', consent: 'yes' }, { contract_days: 19 });
  const now = await businessNow(m);
  const r = await create(m, { contract_code: code, parts: [{ amount: 1000 }, { amount: 1000, due_at: iso(now + 20 * DAY * 1000) }] });
  assert.equal(r.status, 201, r.text);
  await advance(w, m, 18 * DAY + HOUR);
  assert.equal((await call(w, m, 'GET', `/v1/contracts/${code}`)).json.status, 'ACTIVE', 'announced while the contract is active');
  const list = (await call(w, m, 'GET', `/v1/notifications?plan_no=${r.json.plan_no}&type=installment.due_upcoming`)).json.notifications;
  assert.equal(list.length, 1);
  const announced = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${list[0].id}`)).json.body).data;
  assert.equal(announced.charge_at, undefined, 'no deduction is promised');
  assert.ok(announced.checkout_url, 'its link is');
});

test('on_a_contract_an_open_part_is_listed_among_the_upcoming_charges_on_the_payers_page', async () => {
  const m = await newMerchant(w);
  const code = await signedContract(m, { method: 'balance', wallet: 'wallet_ok', consent: 'yes' });
  const now = await businessNow(m);
  const due = Math.floor(now / 60_000) * 60_000 + 10 * DAY * 1000;
  const r = await create(m, { contract_code: code, parts: [{ amount: 1000 }, { amount: 8000, due_at: iso(due) }] });
  assert.equal(r.status, 201, r.text);
  await advance(w, m, 9 * DAY); // the part is opened 48 hours before it is due
  const c = (await call(w, m, 'GET', `/v1/contracts/${code}`)).json;
  const html = await (await fetch(`${c.manage_url}${c.manage_url.includes('?') ? '&' : '?'}lang=en`)).text();
  const when = new Date(due).toISOString().slice(0, 16).replace('T', ' ');
  assert.match(html, new RegExp(`${when} UTC · ¥80\\.00`), 'the part the contract will pay is announced on its page');
});

test('on_a_contract_a_part_the_payer_failed_to_pay_early_is_still_deducted_on_its_due_date', async () => {
  const m = await newMerchant(w);
  const code = await signedContract(m, { method: 'balance', wallet: 'wallet_ok', consent: 'yes' });
  const now = await businessNow(m);
  const r = await create(m, { contract_code: code, parts: [{ amount: 2000 }, { amount: 8000, due_at: iso(now + 30 * DAY * 1000) }] });
  assert.equal(r.status, 201, r.text);
  await advance(w, m, 29 * DAY);
  const part = await order(m, (await getPlan(m, r.json.plan_no)).parts[1].out_trade_no);
  // The payer tries to pay it early on its page, from a wallet without the money.
  const early = await pay(w, part, { method: 'balance', wallet: 'wallet_low' });
  assert.equal(early.json.status, 'PAYERROR', JSON.stringify(early.json));
  await advance(w, m, 2 * DAY);
  const p = await getPlan(m, r.json.plan_no);
  assert.deepEqual([p.status, p.parts[1].status], ['COMPLETED', 'SUCCESS'], 'the contract deducted it on its due date');
});

test('a_default_refunds_what_was_paid_but_keeps_a_non_refundable_deposit', async () => {
  const { m, p } = await defaulted(false);
  assert.equal(p.status, 'DEFAULTED');
  assert.deepEqual([p.refunded, p.kept], [4000, 2000]);
  const [d, b1, b2] = await Promise.all(p.parts.map((x) => order(m, x.out_trade_no)));
  assert.deepEqual([d.status, d.refunded_total], ['SUCCESS', 0], 'the deposit (定金) is kept');
  assert.deepEqual([b1.status, b1.refunded_total], ['REFUND', 4000]);
  assert.equal(b2.status, 'CLOSED');
  assert.deepEqual(await types(m, p.plan_no), ['installment.due_upcoming', 'installment.due_upcoming', 'installment_plan.defaulted']);
  const refundable = await defaulted(true);
  assert.deepEqual([refundable.p.refunded, refundable.p.kept], [6000, 0]);
  const dep = await order(refundable.m, refundable.p.parts[0].out_trade_no);
  assert.deepEqual([dep.status, dep.refunded_total], ['REFUND', 2000]);
  // A part already refunded in part gets the rest back, not more.
  const partial = await defaulted(false, true);
  assert.deepEqual([partial.p.refunded, partial.p.kept], [3000, 2000]);
  const p1 = await order(partial.m, partial.p.parts[1].out_trade_no);
  assert.deepEqual([p1.status, p1.refunded_total], ['REFUND', 4000]);
});

test('with_a_contract_a_year_of_monthly_parts_is_deducted_on_the_due_dates_in_one_clock_call', async () => {
  const m = await newMerchant(w);
  const code = await signedContract(m, { method: 'balance', wallet: 'wallet_ok', consent: 'yes' });
  const now = await businessNow(m);
  const parts = Array.from({ length: 12 }, (_, i) => ({ amount: 1000 + i, ...(i ? { due_at: iso(now + i * 30 * DAY * 1000) } : {}) }));
  const r = await create(m, { contract_code: code, parts });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.parts[0].status, 'SUCCESS', 'the first part is deducted at once');
  await advance(w, m, 366 * DAY);
  const p = await getPlan(m, r.json.plan_no);
  assert.equal(p.status, 'COMPLETED');
  assert.equal(p.paid.total, parts.reduce((s, x) => s + x.amount, 0));
  for (const x of p.parts.slice(1)) {
    assert.equal(x.status, 'SUCCESS');
    assert.equal(x.paid_at, x.due_at, `part ${x.index} deducted on its due date`);
  }
  const t = await types(m, r.json.plan_no);
  assert.equal(t.filter((x) => x === 'installment.due_upcoming').length, 11);
  assert.equal(t.at(-1), 'installment_plan.completed');
});

test('on_a_contract_that_announces_each_charge_a_day_ahead_no_part_is_charged_sooner', async () => {
  const m = await newMerchant(w);
  const code = await signedContract(m, { method: 'balance', wallet: 'wallet_ok', consent: 'yes' }, { pre_deduction_notice: true, max_deductions_per_period: 5 });
  const now = await businessNow(m);
  const soon = [{ amount: 1000 }, { amount: 1000, due_at: iso(now + 12 * HOUR * 1000) }];
  const a = await create(m, { contract_code: code, parts: soon });
  assert.deepEqual([a.status, a.json.code, a.json.param], [400, 'PARAM_ERROR', 'parts']);
  const parts = [{ amount: 1000 }, { amount: 1000, due_at: iso(now + 2 * DAY * 1000) }];
  const b = await create(m, { contract_code: code, parts, reminder_hours: 12 });
  assert.deepEqual([b.status, b.json.param], [400, 'reminder_hours']);
  // The contract's first deduction within 12 hours of signing is charged at once; a second
  // plan's first part, due at once too, would be charged unannounced.
  const c = await create(m, { contract_code: code, parts });
  assert.deepEqual([c.status, c.json.parts[0].status], [201, 'SUCCESS']);
  const d = await create(m, { contract_code: code, parts });
  assert.deepEqual([d.status, d.json.param], [400, 'parts']);
  await advance(w, m, 60);
  const t = await types(m, c.json.plan_no);
  assert.ok(t.includes('installment.due_upcoming'), 'the second part is announced');
});

test('after_the_payer_ends_the_contract_each_part_is_announced_and_paid_through_its_link', async () => {
  const m = await newMerchant(w);
  const code = await signedContract(m, { method: 'balance', wallet: 'wallet_ok', consent: 'yes' });
  const now = await businessNow(m);
  const parts = [{ amount: 1000 }, { amount: 2000, due_at: iso(now + 3 * DAY * 1000) }, { amount: 3000, due_at: iso(now + 10 * DAY * 1000) }];
  const r = await create(m, { contract_code: code, parts });
  assert.equal(r.json.parts[0].status, 'SUCCESS');
  // Part 1 is open (announced 48 hours ahead) when the contract ends: it stays payable. The
  // payer's page says so before they end it.
  await advance(w, m, DAY + HOUR);
  const c = (await call(w, m, 'GET', `/v1/contracts/${code}`)).json;
  const confirm = await (await fetch(`${c.manage_url}/terminate?lang=en`)).text();
  assert.match(confirm, /instalments still due stay owed, paid through their links/);
  assert.equal((await call(w, m, 'POST', `/v1/contracts/${code}/terminate`, { remark: 'payer asked' })).status, 200);
  await advance(w, m, 2 * DAY);
  let p = await getPlan(m, r.json.plan_no);
  assert.deepEqual([p.status, p.parts[1].status], ['ACTIVE', 'PAYERROR'], 'nothing deducted, nothing closed');
  const failed = (await call(w, m, 'GET', `/v1/notifications?plan_no=${r.json.plan_no}&type=installment.payment_failed`)).json.notifications;
  const data = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${failed[0].id}`)).json.body).data;
  assert.deepEqual([data.code, data.part_index], ['CONTRACT_NOT_ACTIVE', 1]);
  assert.equal((await pay(w, await order(m, p.parts[1].out_trade_no), { method: 'balance', wallet: 'wallet_ok' })).json.status, 'SUCCESS');
  // Part 2 is announced with its link, not as a deduction, and paid through it.
  await advance(w, m, 6 * DAY);
  const upcoming = (await call(w, m, 'GET', `/v1/notifications?plan_no=${r.json.plan_no}&type=installment.due_upcoming`)).json.notifications;
  const last = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${upcoming[0].id}`)).json.body).data;
  assert.equal(last.part_index, 2);
  assert.equal(last.charge_at, undefined, 'no deduction is promised');
  assert.match(last.checkout_url, /\/pay\//);
  assert.equal((await pay(w, await order(m, last.out_trade_no), { method: 'balance', wallet: 'wallet_ok' })).json.status, 'SUCCESS');
  await advance(w, m, 2 * DAY);
  p = await getPlan(m, r.json.plan_no);
  assert.equal(p.status, 'COMPLETED');
});

test('a_part_deducted_after_a_period_boundary_counts_in_the_period_it_is_charged_in', async () => {
  const m = await newMerchant(w, { utc_offset_minutes: 0 });
  const code = await signedContract(m, { method: 'balance', wallet: 'wallet_ok', consent: 'yes' }, { period: 'day', max_deductions_per_period: 1 });
  const now = await businessNow(m);
  const tomorrow = (Math.floor(now / (DAY * 1000)) + 1) * DAY * 1000;
  const r = await create(m, { contract_code: code, parts: [{ amount: 1000 }, { amount: 1000, due_at: iso(tomorrow + 2 * HOUR * 1000) }] });
  assert.equal(r.json.parts[0].status, 'SUCCESS');
  // Part 1 is opened today (48 hours ahead) and deducted tomorrow: tomorrow's one deduction.
  await advance(w, m, Math.ceil((tomorrow + 2 * HOUR * 1000 - now) / 1000) + 60);
  assert.equal((await getPlan(m, r.json.plan_no)).parts[1].status, 'SUCCESS');
  const more = await call(w, m, 'POST', `/v1/contracts/${code}/deductions`, { out_trade_no: otn('P'), amount: 100, description: 'extra' });
  assert.deepEqual([more.status, more.json.code], [403, 'CONTRACT_PERIOD_LIMIT_EXCEEDED']);
});

test('a_failed_deduction_is_reminded_and_paid_through_its_link_within_the_grace', async () => {
  const m = await newMerchant(w);
  const code = await signedContract(m, { method: 'balance', wallet: 'wallet_low', consent: 'yes' });
  const now = await businessNow(m);
  const r = await create(m, { contract_code: code, parts: [{ amount: 1500 }, { amount: 1500, due_at: iso(now + 7 * DAY * 1000) }] });
  assert.equal(r.json.parts[0].status, 'PAYERROR', 'the wallet has no funds');
  const first = await order(m, r.json.parts[0].out_trade_no);
  assert.equal((await pay(w, first, { method: 'balance', wallet: 'wallet_ok' })).json.status, 'SUCCESS');
  await advance(w, m, 7 * DAY + HOUR);
  let p = await getPlan(m, r.json.plan_no);
  assert.deepEqual([p.status, p.parts[1].status], ['ACTIVE', 'PAYERROR']);
  const failed = (await call(w, m, 'GET', `/v1/notifications?plan_no=${r.json.plan_no}&type=installment.payment_failed`)).json.notifications;
  assert.equal(failed.length, 2, 'the first part and the second');
  const data = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${failed[0].id}`)).json.body).data;
  assert.equal(data.code, 'INSUFFICIENT_FUNDS');
  assert.match(data.checkout_url, /\/pay\//);
  assert.match(data.next_step, /checkout_url/);
  assert.equal(Date.parse(data.pay_by), Date.parse(p.parts[1].due_at) + 72 * HOUR * 1000);
  assert.equal((await pay(w, await order(m, p.parts[1].out_trade_no), { method: 'balance', wallet: 'wallet_ok' })).json.status, 'SUCCESS');
  p = await getPlan(m, r.json.plan_no);
  assert.equal(p.status, 'COMPLETED');
});
