// What the console's dashboard and automation pages read (docs/openapi.json): the daily report
// (GET /v1/reports/daily: a line per day of the merchant's calendar, on its clock), the lists of
// contracts, subscriptions and installment plans, and every read of the merchant API through a
// console session (GET /console/api/v1/...), for any role, and nothing but reads.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { admin, call, newMerchant, createOrder, pay, otn, advance, CARD } from './support/api.mjs';
import { checkSchema } from './support/openapi.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const PASSWORD = 'correct horse battery';
const DAY = 86_400;

async function paid(m, total) {
  const o = await createOrder(w, m, { amount: { total, currency: 'CNY' } });
  assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  return (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
}

async function signIn(m, email, role) {
  const made = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email, role, password: PASSWORD });
  assert.equal(made.status, 201);
  const r = await fetch(`${w.url}/console/api/sign-in`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ merchant_id: m.merchant_id, email, password: PASSWORD }),
  });
  assert.equal(r.status, 200);
  const json = await r.json();
  return { cookie: r.headers.get('set-cookie').split(';')[0], csrf: json.csrf_token };
}

const consoleGet = (s, path) => fetch(`${w.url}/console/api${path}`, { headers: { Cookie: s.cookie } });

test('the_daily_report_counts_each_day_of_the_merchants_calendar_on_its_clock', async () => {
  const m = await newMerchant(w, { industry: 'services' });
  const a = await paid(m, 1000);
  await paid(m, 2500);
  await createOrder(w, m); // never paid: the day's success rate is 2 of 3
  const r = await call(w, m, 'POST', '/v1/refunds', { out_trade_no: a.out_trade_no, out_refund_no: otn('R'), amount: 400 });
  assert.equal(r.status, 201, r.text);

  const report = async (q = '') => {
    const x = await call(w, m, 'GET', `/v1/reports/daily${q}`);
    assert.equal(x.status, 200, x.text);
    checkSchema('DailyReport', x.json);
    return x.json;
  };
  const now = await report('?days=2');
  assert.equal(now.days.length, 2);
  const today = now.days[1];
  // The merchant's calendar is UTC+8 by default.
  const local = new Date(Date.parse(a.paid_at) + 8 * 3600_000).toISOString().slice(0, 10);
  assert.equal(today.date, local);
  assert.deepEqual(
    [today.orders, today.paid_orders, today.payments, today.collected, today.refunded, today.fees],
    [3, 2, 2, 3500, 400, 10 + 25 - 4],
  );
  assert.deepEqual(now.days[0], { date: now.days[0].date, orders: 0, paid_orders: 0, payments: 0, collected: 0, refunded: 0, fees: 0 });
  assert.equal(Date.parse(now.to) - Date.parse(now.from), 2 * DAY * 1000);

  // A day later on the merchant's clock, the same day is yesterday and today is quiet.
  await advance(w, m, DAY);
  const later = await report('?days=2');
  assert.deepEqual(later.days[0], today);
  assert.equal(later.days[1].orders, 0);
  assert.equal((await report()).days.length, 30);

  for (const [q, param] of [['?days=93', 'days'], ['?days=0', 'days'], ['?since=1', 'query']]) {
    const bad = await call(w, m, 'GET', `/v1/reports/daily${q}`);
    assert.deepEqual([bad.status, bad.json.code, bad.json.param], [400, 'PARAM_ERROR', param], q);
  }
});

test('contracts_subscriptions_and_installment_plans_are_listed_newest_first_by_status', async () => {
  const m = await newMerchant(w);
  const plan = { plan_id: `${Date.now()}7`, name: 'Tea club', max_amount_per_deduction: 100000, period: 'week', max_deductions_per_period: 2 };
  assert.equal((await call(w, m, 'POST', '/v1/contract_plans', plan)).status, 201);
  const codes = [];
  for (let i = 0; i < 2; i++) {
    const c = await call(w, m, 'POST', '/v1/contracts', { plan_id: plan.plan_id, contract_code: otn('C'), display_account: 'bob' });
    assert.equal(c.status, 201, c.text);
    codes.push(c.json.contract_code);
    await advance(w, m, 1);
  }
  const list = await call(w, m, 'GET', '/v1/contracts');
  assert.equal(list.status, 200, list.text);
  checkSchema('ContractList', list.json);
  assert.deepEqual(list.json.contracts.map((c) => c.contract_code), [...codes].reverse());
  assert.equal(list.json.next_after, undefined);
  assert.deepEqual((await call(w, m, 'GET', '/v1/contracts?status=PENDING')).json.contracts.length, 2);
  assert.deepEqual((await call(w, m, 'GET', '/v1/contracts?status=ACTIVE')).json.contracts, []);
  const after = await call(w, m, 'GET', `/v1/contracts?after=${codes[1]}`);
  assert.deepEqual(after.json.contracts.map((c) => c.contract_code), [codes[0]]);
  const bad = await call(w, m, 'GET', '/v1/contracts?status=SIGNED');
  assert.deepEqual([bad.status, bad.json.param], [400, 'status']);

  const now = Date.parse((await advance(w, m, 1)).business_time);
  const due = new Date(now + 30 * DAY * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ip = await call(w, m, 'POST', '/v1/installment_plans', {
    plan_no: otn('IP'), description: 'Upright piano', parts: [{ amount: 5000 }, { amount: 5000, due_at: due }],
  });
  assert.equal(ip.status, 201, ip.text);
  const plans = await call(w, m, 'GET', '/v1/installment_plans');
  assert.equal(plans.status, 200, plans.text);
  checkSchema('InstallmentPlanList', plans.json);
  assert.deepEqual(plans.json.plans.map((p) => p.plan_no), [ip.json.plan_no]);
  const subs = await call(w, m, 'GET', '/v1/subscriptions?status=active');
  assert.equal(subs.status, 200, subs.text);
  checkSchema('SubscriptionList', subs.json);
  assert.deepEqual(subs.json.subscriptions, []);
  assert.equal((await call(w, m, 'GET', '/v1/subscriptions?status=ACTIVE')).json.param, 'status');
});

test('a_console_session_reads_the_merchant_api_and_cannot_change_anything_through_it', async () => {
  const m = await newMerchant(w, { industry: 'services' });
  const o = await paid(m, 1200);
  const viewer = await signIn(m, 'viewer@shop.example', 'viewer');
  const daily = await consoleGet(viewer, '/v1/reports/daily?days=1');
  assert.equal(daily.status, 200);
  const body = await daily.json();
  checkSchema('DailyReport', body);
  assert.equal(body.days[0].collected, 1200);
  const verify = await (await consoleGet(viewer, '/v1/audit/verify')).json();
  assert.equal(verify.intact, true, JSON.stringify(verify));
  assert.equal((await (await consoleGet(viewer, `/v1/orders/${o.out_trade_no}`)).json()).status, 'SUCCESS');

  // A download link: the fee report as CSV, with the session cookie alone.
  const month = o.paid_at.slice(0, 7);
  const csv = await consoleGet(viewer, `/v1/reports/fees?month=${month}&format=csv`);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-disposition'), /paydesk-fees-/);
  assert.match(await csv.text(), /^month,industry,rate_bp/);

  // Only reads: a change through v1/ is refused whatever the role, and changes nothing.
  const boss = await signIn(m, 'boss@shop.example', 'admin');
  const refund = await fetch(`${w.url}/console/api/v1/refunds`, {
    method: 'POST',
    headers: { Cookie: boss.cookie, 'X-Paydesk-CSRF': boss.csrf, 'Content-Type': 'application/json' },
    body: JSON.stringify({ out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount: 100 }),
  });
  assert.equal(refund.status, 405);
  assert.equal((await consoleGet(boss, '/v1/orders/X/close')).status, 404);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json.refunded_total ?? 0, 0);
  // Without a session, nothing.
  assert.equal((await fetch(`${w.url}/console/api/v1/balance`)).status, 401);
});
