// Withhold contracts through the JSON API and the contract page's forms (docs/openapi.json,
// "contracts"): plans, a payer signing once, deductions without the payer within the plan's
// limits, termination by the payer, the merchant and the term, the pre-deduction notice, and
// what must never happen (a terminated contract charged, a limit overrun, card data kept).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startWorker, waitForEmails } from './support/worker.mjs';
import { startReceiver } from './support/receiver.mjs';
import { call, admin, newMerchant, advance, otn } from './support/api.mjs';

let w;
let rx;
before(async () => {
  w = await startWorker({ logLevel: 'info' }); // info: the emails sent (sentEmails)
  rx = await startReceiver();
});
after(async () => {
  await rx?.close();
  await w?.stop();
});

const DAY = 86_400;
const planId = () => String(Date.now()) + String(randomBytes(2).readUInt16BE());
const code = () => otn('C');

async function plan(m, fields = {}) {
  const body = {
    plan_id: planId(), name: 'Tea club membership', max_amount_per_deduction: 9900,
    period: 'month', max_deductions_per_period: 1, ...fields,
  };
  const r = await call(w, m, 'POST', '/v1/contract_plans', body);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function requestContract(m, p, fields = {}) {
  const body = { plan_id: p.plan_id, contract_code: code(), display_account: 'alice@example.com', notify_url: rx.url, ...fields };
  const r = await call(w, m, 'POST', '/v1/contracts', body);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** Posts the contract page's form as a browser without JavaScript would. */
async function postForm(url, fields) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: r.status, html: await r.text() };
}

const pageStatus = (html) => html.match(/data-contract-status="([A-Z]+)"/)?.[1];
const WALLET = { method: 'balance', wallet: 'wallet_ok', consent: 'yes' };
const CARD = (n) => ({ method: 'bank_card', card_number: n, card_exp: '12/35', card_cvc: '123', consent: 'yes' });

async function signed(m, planFields = {}, instrument = WALLET, contractFields = {}) {
  const p = await plan(m, planFields);
  const c = await requestContract(m, p, contractFields);
  const page = await postForm(c.sign_url, instrument);
  assert.equal(page.status, 200);
  assert.equal(pageStatus(page.html), 'ACTIVE', page.html.slice(0, 400));
  const now = (await call(w, m, 'GET', `/v1/contracts/${c.contract_code}`)).json;
  return { p, c: now };
}

const deduct = (m, c, amount, fields = {}) => call(w, m, 'POST', `/v1/contracts/${encodeURIComponent(c.contract_code)}/deductions`,
  { out_trade_no: otn('P'), amount, description: 'December membership', ...fields });
/** An order once it has left NOTPAY (a charge the object's alarm makes), polled, not slept on. */
async function settled(m, outTradeNo, timeoutMs = 20_000) {
  // The admin listing runs nothing due: only the merchant object's alarm can have settled it.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const status of ['SUCCESS', 'PAYERROR', 'CLOSED']) {
      const list = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?status=${status}`);
      if (list.json.orders.some((o) => o.out_trade_no === outTradeNo)) {
        return (await call(w, m, 'GET', `/v1/orders/${outTradeNo}`)).json;
      }
    }
    if (Date.now() > deadline) return (await call(w, m, 'GET', `/v1/orders/${outTradeNo}`)).json;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const getContract = async (m, c) => (await call(w, m, 'GET', `/v1/contracts/${encodeURIComponent(c.contract_code)}`)).json;

test('plans_are_validated_and_idempotent', async () => {
  const m = await newMerchant(w);
  const body = { plan_id: planId(), name: 'Monthly', max_amount_per_deduction: 9900, period: 'month', max_deductions_per_period: 2, contract_days: 365, pre_deduction_notice: true };
  const a = await call(w, m, 'POST', '/v1/contract_plans', body);
  assert.equal(a.status, 201, a.text);
  assert.deepEqual(a.json.max_amount_per_deduction, { total: 9900, currency: 'CNY' });
  assert.equal(a.json.pre_deduction_notice, true);
  const again = await call(w, m, 'POST', '/v1/contract_plans', body);
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, a.json);
  const other = await call(w, m, 'POST', '/v1/contract_plans', { ...body, name: 'Other' });
  assert.equal(other.status, 409);
  assert.equal(other.json.code, 'PLAN_ID_USED');
  for (const [field, value] of [['plan_id', 'abc'], ['plan_id', '1'.repeat(29)], ['name', ''], ['max_amount_per_deduction', 0],
    ['max_deductions_per_period', 0], ['contract_days', 0], ['period', 'fortnight']]) {
    const r = await call(w, m, 'POST', '/v1/contract_plans', { ...body, plan_id: planId(), [field]: value });
    assert.equal(r.status, 400, `${field}=${value}: ${r.text}`);
    assert.equal(r.json.code, 'PARAM_ERROR');
    // An unknown enum value is a malformed body; every other field is named.
    assert.equal(r.json.param, field === 'period' ? 'body' : field);
  }
  assert.equal((await call(w, m, 'GET', `/v1/contract_plans/${body.plan_id}`)).json.name, 'Monthly');
  const none = await call(w, m, 'GET', '/v1/contract_plans/404404');
  assert.equal(none.status, 404);
  assert.equal(none.json.code, 'PLAN_NOT_EXIST');
});

test('a_contract_is_requested_signed_once_and_reported', async () => {
  const m = await newMerchant(w);
  const p = await plan(m);
  const c = await requestContract(m, p, { payer_ref: 'user-42' });
  assert.equal(c.status, 'PENDING');
  assert.match(c.sign_url, /\/contract\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.equal(c.contract_id, undefined);
  // The same request answers the same contract; another body under the code is refused.
  const body = { plan_id: p.plan_id, contract_code: c.contract_code, display_account: 'alice@example.com', notify_url: rx.url, payer_ref: 'user-42' };
  const again = await call(w, m, 'POST', '/v1/contracts', body);
  assert.equal(again.status, 200);
  assert.equal(again.json.sign_url, c.sign_url);
  const other = await call(w, m, 'POST', '/v1/contracts', { ...body, display_account: 'mallory' });
  assert.equal(other.status, 409);
  assert.equal(other.json.code, 'CONTRACT_CODE_USED');
  const noPlan = await call(w, m, 'POST', '/v1/contracts', { ...body, contract_code: code(), plan_id: '999' });
  assert.equal(noPlan.status, 404);
  assert.equal(noPlan.json.code, 'PLAN_NOT_EXIST');
  for (const [field, value] of [['contract_code', 'has space'], ['display_account', ''], ['display_account', 'x'.repeat(33)], ['notify_url', 'ftp://x'], ['payer_ref', '']]) {
    const r = await call(w, m, 'POST', '/v1/contracts', { ...body, contract_code: code(), [field]: value });
    assert.equal(r.status, 400, `${field}: ${r.text}`);
    assert.equal(r.json.param, field);
  }
  // A deduction before signing is refused.
  const early = await deduct(m, c, 100);
  assert.equal(early.status, 409);
  assert.equal(early.json.code, 'CONTRACT_NOT_ACTIVE');

  // Signing: the consent box is required and the card is checked; nothing is signed until both are right.
  const noConsent = await postForm(c.sign_url, { method: 'balance', wallet: 'wallet_ok' });
  assert.equal(pageStatus(noConsent.html), 'PENDING');
  assert.match(noConsent.html, /data-testid="problem"/);
  const badCard = await postForm(c.sign_url, CARD('4242424242424241'));
  assert.equal(pageStatus(badCard.html), 'PENDING');
  assert.match(badCard.html, /pd-card-number-error/);
  const unknownCard = await postForm(c.sign_url, CARD('4000000000000010'));
  assert.equal(pageStatus(unknownCard.html), 'PENDING');
  assert.match(unknownCard.html, /data-testid="problem"/);
  // Said in the payer's language, not the channel's English.
  const declinedZh = await postForm(`${c.sign_url}${c.sign_url.includes('?') ? '&' : '?'}lang=zh`, CARD('4000000000000010'));
  assert.match(declinedZh.html, /无法使用该付款方式 银行拒绝了这张卡。/);
  assert.doesNotMatch(declinedZh.html, /declined by its bank/);
  assert.equal((await getContract(m, c)).status, 'PENDING');

  const ok = await postForm(c.sign_url, CARD('4242 4242 4242 4242'));
  assert.equal(pageStatus(ok.html), 'ACTIVE');
  const now = await getContract(m, c);
  assert.equal(now.status, 'ACTIVE');
  assert.match(now.contract_id, /^\d{18}$/);
  assert.deepEqual(now.instrument, { method: 'bank_card', card_last4: '4242' });
  assert.equal(now.sign_url, undefined);
  assert.match(now.manage_url, /\/contract\//);
  // Signing again changes nothing.
  const twice = await postForm(c.sign_url, WALLET);
  assert.equal(pageStatus(twice.html), 'ACTIVE');
  assert.deepEqual((await getContract(m, c)).instrument, { method: 'bank_card', card_last4: '4242' });

  const [evt] = await rx.waitFor((d) => d.some((x) => x.event?.type === 'contract.signed' && x.event.data.contract_code === c.contract_code), 'contract.signed')
    .then((d) => d.filter((x) => x.event?.type === 'contract.signed' && x.event.data.contract_code === c.contract_code));
  assert.equal(evt.event.data.status, 'ACTIVE');
  assert.equal(evt.event.data.contract_id, now.contract_id);
  assert.ok(evt.headers['paydesk-signature'], 'signed like every notification');
  // The merchant's notification list names the contract.
  const listed = (await call(w, m, 'GET', '/v1/notifications?type=contract.signed')).json.notifications;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].contract_code, c.contract_code);
  assert.equal(listed[0].out_trade_no, undefined);
  // The full card number is never kept or told.
  for (const d of rx.deliveries) assert.doesNotMatch(d.body, /4242[\s-]?4242[\s-]?4242[\s-]?4242/);
  assert.doesNotMatch(JSON.stringify(now), /4242[\s-]?4242[\s-]?4242[\s-]?4242/);
});

test('deductions_charge_within_the_plans_limits_on_the_merchants_calendar', async () => {
  const m = await newMerchant(w);
  const { c } = await signed(m, { max_amount_per_deduction: 9900, period: 'month', max_deductions_per_period: 1 });
  const over = await deduct(m, c, 9901);
  assert.equal(over.status, 403);
  assert.equal(over.json.code, 'CONTRACT_AMOUNT_EXCEEDED');
  const first = await deduct(m, c, 9900, { attach: 'inv-1' });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.json.status, 'SUCCESS');
  assert.equal(first.json.trade_type, 'PAP');
  assert.equal(first.json.contract_code, c.contract_code);
  assert.equal(first.json.contract_url, c.manage_url, "the receipt links to the payer's page of the contract");
  assert.equal(first.json.method, 'balance');
  // The same request again answers the same order; another body under the number is refused.
  const body = { out_trade_no: first.json.out_trade_no, amount: 9900, description: 'December membership', attach: 'inv-1' };
  const replay = await call(w, m, 'POST', `/v1/contracts/${c.contract_code}/deductions`, body);
  assert.equal(replay.status, 200);
  assert.equal(replay.json.transaction_id, first.json.transaction_id);
  const reused = await call(w, m, 'POST', `/v1/contracts/${c.contract_code}/deductions`, { ...body, amount: 100 });
  assert.equal(reused.status, 409);
  assert.equal(reused.json.code, 'OUT_TRADE_NO_USED');
  const refusedNo = otn('P');
  const second = await deduct(m, c, 100, { out_trade_no: refusedNo });
  assert.equal(second.status, 403);
  assert.equal(second.json.code, 'CONTRACT_PERIOD_LIMIT_EXCEEDED');
  // A refused deduction stores nothing.
  assert.equal((await call(w, m, 'GET', `/v1/orders/${refusedNo}`)).status, 404);
  // A deduction is an ordinary order: queried, refunded, listed.
  const q = await call(w, m, 'GET', `/v1/orders/${first.json.out_trade_no}`);
  assert.equal(q.json.status, 'SUCCESS');
  const refund = await call(w, m, 'POST', '/v1/refunds', { out_trade_no: first.json.out_trade_no, out_refund_no: otn('R'), amount: 900 });
  assert.equal(refund.status, 201, refund.text);
  // Next month on the merchant's calendar (UTC+8) the count starts over. (An order half-way
  // keeps the account from going dormant after 30 idle days.)
  const nowIso = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`)).json.business_time;
  const local = new Date(Date.parse(nowIso) + 8 * 3600_000);
  const nextMonth = Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 1) - 8 * 3600_000;
  const toNext = Math.ceil((nextMonth - Date.parse(nowIso)) / 1000) + 60;
  await advance(w, m, Math.floor(toNext / 2));
  const before = await deduct(m, c, 100);
  assert.equal(before.json.code, 'CONTRACT_PERIOD_LIMIT_EXCEEDED', 'still this month');
  await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 100, currency: 'CNY' }, description: 'keeps the account active' });
  await advance(w, m, toNext - Math.floor(toNext / 2));
  const next = await deduct(m, c, 9900);
  assert.equal(next.status, 201, next.text);
  assert.equal(next.json.status, 'SUCCESS');
});

test('declines_behave_as_the_test_instruments_say_and_do_not_use_up_the_period', async () => {
  const m = await newMerchant(w);
  const declined = await signed(m, { max_deductions_per_period: 1 }, CARD('4000000000000002'));
  const d1 = await deduct(m, declined.c, 500);
  assert.equal(d1.status, 201);
  assert.equal(d1.json.status, 'PAYERROR');
  // A declined deduction does not count: the next one is attempted (and declined again).
  const d2 = await deduct(m, declined.c, 500);
  assert.equal(d2.status, 201);
  assert.equal(d2.json.status, 'PAYERROR');
  const [failed] = await rx.waitFor((d) => d.some((x) => x.event?.type === 'order.failed' && x.event.data.out_trade_no === d1.json.out_trade_no), 'order.failed')
    .then((d) => d.filter((x) => x.event?.type === 'order.failed' && x.event.data.out_trade_no === d1.json.out_trade_no));
  assert.equal(failed.event.data.code, 'CARD_DECLINED');

  const flaky = await signed(m, { max_deductions_per_period: 5 }, CARD('4000000000000119'));
  const f1 = await deduct(m, flaky.c, 500);
  assert.equal(f1.json.status, 'PAYERROR');
  const f2 = await deduct(m, flaky.c, 500);
  assert.equal(f2.json.status, 'SUCCESS', 'a processing error succeeds on the next deduction');

  const low = await signed(m, {}, { method: 'balance', wallet: 'wallet_low', consent: 'yes' });
  const l1 = await deduct(m, low.c, 500);
  assert.equal(l1.json.status, 'PAYERROR');

  const slow = await signed(m, {}, CARD('4000000000003220'));
  const s1 = await deduct(m, slow.c, 500);
  assert.equal(s1.json.status, 'USERPAYING');
  await advance(w, m, 5);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${s1.json.out_trade_no}`)).json.status, 'SUCCESS');
});

test('deductions_obey_every_order_rule', async () => {
  const m = await newMerchant(w, { daily_limit: 1000, approval_levels: [{ above: 5000, approvers: 1 }] });
  const { c } = await signed(m, { max_amount_per_deduction: 9000, max_deductions_per_period: 10 });
  const big = await deduct(m, c, 6000);
  assert.equal(big.status, 201);
  assert.equal(big.json.status, 'PENDING_APPROVAL');
  // Approved, it is charged by itself; here the daily limit (¥10.00) refuses the charge, which
  // fails the deduction (it is not left hanging).
  const approved = await admin(w, 'POST', `/admin/approvals/${big.json.approval_id}/approve`, { approver: 'alice' });
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  assert.equal((await settled(m, big.json.out_trade_no)).status, 'PAYERROR');
  const ok = await deduct(m, c, 800);
  assert.equal(ok.json.status, 'SUCCESS');
  const overNo = otn('P');
  const overDaily = await deduct(m, c, 300, { out_trade_no: overNo });
  assert.equal(overDaily.status, 403);
  assert.equal(overDaily.json.code, 'DAILY_LIMIT_EXCEEDED');
  assert.equal((await call(w, m, 'GET', `/v1/orders/${overNo}`)).status, 404, 'a refused deduction stores nothing');

  const personal = await newMerchant(w, { tier: 'personal' });
  const pp = await call(w, personal, 'POST', '/v1/contract_plans', { plan_id: planId(), name: 'x', max_amount_per_deduction: 1, period: 'day', max_deductions_per_period: 1 });
  assert.equal(pp.status, 201);
  const pc = await call(w, personal, 'POST', '/v1/contracts', { plan_id: pp.json.plan_id, contract_code: code(), display_account: 'a' });
  assert.equal(pc.status, 403);
  assert.equal(pc.json.code, 'ACCOUNT_NOT_ALLOWED');
});

test('an_approved_deduction_is_charged_by_itself', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 5000, approvers: 1 }] });
  const { c } = await signed(m, { max_amount_per_deduction: 9000 });
  const big = await deduct(m, c, 6000);
  assert.equal(big.json.status, 'PENDING_APPROVAL');
  const approved = await admin(w, 'POST', `/admin/approvals/${big.json.approval_id}/approve`, { approver: 'alice' });
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  const o = await settled(m, big.json.out_trade_no);
  assert.equal(o.status, 'SUCCESS');
  assert.equal(o.method, 'balance');
});

test('a_deduction_approved_in_a_later_period_counts_there_and_is_refused_over_its_limit', async () => {
  // Held for approval on one day (counted there), approved the next, after that day's one
  // deduction: charging it then would make two in a day on a plan that allows one.
  const m = await newMerchant(w, { approval_levels: [{ above: 5000, approvers: 1 }] });
  const { c } = await signed(m, { period: 'day', max_deductions_per_period: 1 });
  const big = await deduct(m, c, 6000);
  assert.equal(big.json.status, 'PENDING_APPROVAL');
  const nowIso = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`)).json.business_time;
  const local = new Date(Date.parse(nowIso) + 8 * 3600_000);
  const tomorrow = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1) - 8 * 3600_000;
  await advance(w, m, Math.ceil((tomorrow - Date.parse(nowIso)) / 1000) + 60);
  const small = await deduct(m, c, 100);
  assert.equal(small.json.status, 'SUCCESS', 'the held one counts on the day it was asked for');
  const approved = await admin(w, 'POST', `/admin/approvals/${big.json.approval_id}/approve`, { approver: 'alice' });
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  const o = await settled(m, big.json.out_trade_no);
  assert.equal(o.status, 'PAYERROR', 'refused: the day already had its deduction');
  const [failed] = await rx.waitFor((d) => d.some((x) => x.event?.type === 'order.failed' && x.event.data.out_trade_no === big.json.out_trade_no), 'order.failed')
    .then((d) => d.filter((x) => x.event?.type === 'order.failed' && x.event.data.out_trade_no === big.json.out_trade_no));
  assert.equal(failed.event.data.code, 'CONTRACT_PERIOD_LIMIT_EXCEEDED');
});

test('the_merchant_terminates_and_nothing_is_charged_after', async () => {
  const m = await newMerchant(w);
  const { c } = await signed(m, { max_deductions_per_period: 5 });
  const r = await call(w, m, 'POST', `/v1/contracts/${c.contract_code}/terminate`, { remark: 'account closed' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'TERMINATED');
  assert.equal(r.json.termination_mode, 'merchant');
  assert.equal(r.json.termination_remark, 'account closed');
  assert.equal(r.json.manage_url, undefined);
  const d = await deduct(m, c, 100);
  assert.equal(d.status, 409);
  assert.equal(d.json.code, 'CONTRACT_NOT_ACTIVE');
  const again = await call(w, m, 'POST', `/v1/contracts/${c.contract_code}/terminate`);
  assert.equal(again.status, 409);
  assert.equal(again.json.code, 'CONTRACT_NOT_ACTIVE');
  const evt = await rx.waitFor((x) => x.some((e) => e.event?.type === 'contract.terminated' && e.event.data.contract_code === c.contract_code), 'contract.terminated');
  assert.equal(evt.find((e) => e.event?.data?.contract_code === c.contract_code && e.event.type === 'contract.terminated').event.data.termination_mode, 'merchant');
  const none = await call(w, m, 'GET', '/v1/contracts/NO-SUCH-CONTRACT');
  assert.equal(none.status, 404);
  assert.equal(none.json.code, 'CONTRACT_NOT_EXIST');
});

test('the_payer_ends_it_from_the_page_without_login_after_confirming', async () => {
  const m = await newMerchant(w);
  const { c } = await signed(m);
  // Opening the link changes nothing: it asks to confirm.
  const confirm = await fetch(`${c.manage_url}/terminate`);
  const html = await confirm.text();
  assert.equal(confirm.status, 200);
  assert.match(html, /data-testid="confirm-end"/);
  assert.equal((await getContract(m, c)).status, 'ACTIVE');
  const ended = await postForm(`${c.manage_url}/terminate`, { confirm: 'yes' });
  assert.equal(pageStatus(ended.html), 'TERMINATED');
  const now = await getContract(m, c);
  assert.equal(now.termination_mode, 'payer');
  const d = await deduct(m, c, 100);
  assert.equal(d.json.code, 'CONTRACT_NOT_ACTIVE');
  // A post from another site is refused and changes nothing.
  const m2 = await newMerchant(w);
  const other = await signed(m2);
  const foreign = await fetch(`${other.c.manage_url}/terminate`, { method: 'POST', headers: { 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
  assert.equal(foreign.status, 403);
  assert.equal((await getContract(m2, other.c)).status, 'ACTIVE');
});

test('contract_links_cannot_be_forged_widened_or_used_across_merchants', async () => {
  const m = await newMerchant(w);
  const { c } = await signed(m);
  const token = new URL(c.manage_url).pathname.split('/')[2];
  const [payload, mac] = token.split('.');
  const decoded = Buffer.from(payload, 'base64url').toString();
  const [exp, mch, cc] = decoded.split('.');
  const forge = (p) => `${w.url}/contract/${Buffer.from(p).toString('base64url')}.${mac}`;
  const other = await newMerchant(w);
  for (const url of [forge(`${Number(exp) + 1}.${mch}.${cc}`), forge(`${exp}.${other.merchant_id}.${cc}`), forge(`${exp}.${mch}.OTHER-CODE`), `${w.url}/contract/garbage`]) {
    const r = await fetch(url);
    assert.equal(r.status, 404, url);
    assert.match(await r.text(), /data-paydesk-problem/);
    const end = await postForm(`${url}/terminate`, { confirm: 'yes' });
    assert.equal(end.status, 404);
  }
  assert.equal((await getContract(m, c)).status, 'ACTIVE');
  // A checkout token does not open a contract page.
  const order = await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 100, currency: 'CNY' }, description: 'x' });
  const checkoutToken = new URL(order.json.checkout_url).pathname.split('/')[2];
  assert.equal((await fetch(`${w.url}/contract/${checkoutToken}`)).status, 404);
  assert.equal((await fetch(`${w.url}/pay/${token}`)).status, 404);
  // Every change is in the audit chain, which is intact.
  const audit = await call(w, m, 'GET', '/v1/audit/verify');
  assert.equal(audit.json.intact, true);
  assert.ok(audit.json.entries >= 3);
});

test('terms_end_by_themselves_and_unsigned_requests_expire', async () => {
  const m = await newMerchant(w);
  const { c } = await signed(m, { contract_days: 30 });
  assert.ok(c.expires_at);
  const pending = await requestContract(m, await plan(m));
  await advance(w, m, DAY + 60);
  const expired = await getContract(m, pending);
  assert.equal(expired.status, 'EXPIRED');
  assert.equal(expired.sign_url, undefined);
  const late = await postForm(pending.sign_url, WALLET);
  assert.equal(pageStatus(late.html), 'EXPIRED');
  await advance(w, m, 30 * DAY);
  const ended = await getContract(m, c);
  assert.equal(ended.status, 'TERMINATED');
  assert.equal(ended.termination_mode, 'expiry');
  const evt = await rx.waitFor((d) => d.some((x) => x.event?.type === 'contract.terminated' && x.event.data.contract_code === c.contract_code), 'expiry notification');
  assert.equal(evt.find((x) => x.event?.type === 'contract.terminated' && x.event.data.contract_code === c.contract_code).event.data.termination_mode, 'expiry');
});

/** A deduction charged a day after the request: its order's creation is read a moment after
 * the request's time (locally the clock moves within a request), so its second may be the next. */
function aDayAfter(o) {
  const lead = Date.parse(o.charge_at) - Date.parse(o.created_at);
  assert.ok(lead === DAY * 1000 || lead === DAY * 1000 - 1000, `charge_at − created_at = ${lead} ms`);
}

test('with_a_pre_deduction_notice_the_charge_waits_a_day_and_ending_it_cancels_the_charge', async () => {
  const m = await newMerchant(w);
  const contact = { email: `notice.${randomBytes(4).toString('hex')}@example.com` };
  const { c } = await signed(m, { pre_deduction_notice: true, max_deductions_per_period: 5 }, WALLET, { contact });
  // The first charge within 12 hours of signing: charged at once; the next is announced, as the
  // contract page says.
  const first = await deduct(m, c, 100);
  assert.equal(first.json.status, 'SUCCESS');
  assert.equal(first.json.charge_at, undefined);
  const second = await deduct(m, c, 150);
  assert.equal(second.json.status, 'NOTPAY');
  aDayAfter(second.json);
  await advance(w, m, 13 * 3600);
  const announced = await deduct(m, c, 200);
  assert.equal(announced.status, 201);
  assert.equal(announced.json.status, 'NOTPAY');
  const chargeAt = Date.parse(announced.json.charge_at);
  aDayAfter(announced.json);
  const notice = await rx.waitFor((d) => d.some((x) => x.event?.type === 'contract.deduction_notice' && x.event.data.out_trade_no === announced.json.out_trade_no), 'notice');
  const n = notice.find((x) => x.event?.data?.out_trade_no === announced.json.out_trade_no && x.event.type === 'contract.deduction_notice');
  assert.equal(n.event.data.charge_at, announced.json.charge_at);
  assert.match(n.event.data.manage_url, /\/contract\//);
  // The payer is told too, as the contract page promised: when, how much, and where to end it.
  const told = (e) => e.to === contact.email && /Upcoming charge|扣款提醒/.test(e.subject) && e.text.includes('¥2.00');
  const [mail] = (await waitForEmails(w, (sent) => sent.some(told), 'the payer\'s notice')).filter(told);
  assert.ok(mail.text.includes(n.event.data.manage_url), mail.text);
  assert.doesNotMatch(mail.text, /\/pay\//, 'deducted from the contract: no pay link');
  // The payer's page lists it.
  const page = await (await fetch(c.manage_url)).text();
  assert.match(page, /data-testid="upcoming"/);
  assert.match(page, /¥2\.00/);
  await advance(w, m, DAY - 60);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${announced.json.out_trade_no}`)).json.status, 'NOTPAY');
  await advance(w, m, 60);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${announced.json.out_trade_no}`)).json.status, 'SUCCESS');

  // Announced, then ended by the payer before the day is out: never charged.
  const cancelled = await deduct(m, c, 300);
  assert.equal(cancelled.json.status, 'NOTPAY');
  await postForm(`${c.manage_url}/terminate`, { confirm: 'yes' });
  const closed = (await call(w, m, 'GET', `/v1/orders/${cancelled.json.out_trade_no}`)).json;
  assert.equal(closed.status, 'CLOSED');
  await advance(w, m, 2 * DAY);
  const later = (await call(w, m, 'GET', `/v1/orders/${cancelled.json.out_trade_no}`)).json;
  assert.equal(later.status, 'CLOSED');
  assert.equal(later.paid_at, undefined);
});

test('concurrent_deductions_never_overrun_the_period_limit', async () => {
  const m = await newMerchant(w);
  const { c } = await signed(m, { period: 'day', max_deductions_per_period: 3 });
  const results = await Promise.all(Array.from({ length: 10 }, () => deduct(m, c, 100)));
  const ok = results.filter((r) => r.status === 201 && r.json.status === 'SUCCESS');
  const refused = results.filter((r) => r.status === 403 && r.json.code === 'CONTRACT_PERIOD_LIMIT_EXCEEDED');
  assert.equal(ok.length, 3, results.map((r) => r.status).join(','));
  assert.equal(refused.length, 7);
});

test('a_deduction_racing_the_termination_is_never_charged_after_it', async () => {
  const m = await newMerchant(w);
  const { c } = await signed(m, { period: 'day', max_deductions_per_period: 100 });
  const deductions = Array.from({ length: 12 }, () => deduct(m, c, 100));
  const termination = call(w, m, 'POST', `/v1/contracts/${c.contract_code}/terminate`);
  const [t, ...ds] = await Promise.all([termination, ...deductions]);
  assert.equal(t.status, 200, t.text);
  const terminatedAt = Date.parse(t.json.terminated_at);
  let charged = 0;
  for (const d of ds) {
    if (d.status === 201) {
      assert.equal(d.json.status, 'SUCCESS');
      assert.ok(Date.parse(d.json.paid_at) <= terminatedAt, 'charged before the termination');
      charged += 1;
    } else {
      assert.equal(d.status, 409, d.text);
      assert.equal(d.json.code, 'CONTRACT_NOT_ACTIVE');
    }
  }
  assert.equal(ds.length, 12);
  // After the race, nothing more can be charged, and the ledger agrees with the answers.
  const after = await deduct(m, c, 100);
  assert.equal(after.json.code, 'CONTRACT_NOT_ACTIVE');
  const listed = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?status=SUCCESS&limit=100`);
  const paid = listed.json.orders.filter((o) => o.contract_code === c.contract_code);
  assert.equal(paid.length, charged);
  for (const o of paid) assert.ok(Date.parse(o.paid_at) <= terminatedAt);
});
