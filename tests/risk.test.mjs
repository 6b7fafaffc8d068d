// Risk rules through the real worker, on the merchant's test clock (docs/openapi.json:
// /admin/merchants/{id}/risk, /v1/reviews, /admin/merchants/{id}/unfreeze): a burst from one
// payer is blocked while other payers pay; an amount outlier is charged into the review queue,
// its money held until the merchant approves it, refunded in full when rejected or left
// undecided, and the pay page tells the payer so; a refund rate over the limit freezes the
// merchant (no new orders, refunds still work) until an operator unfreezes it with a reason;
// every decision audited with its rule and figures; malformed rules change nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, createOrder, pay, advance, otn, tokenOf, CARD } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const setRisk = (m, risk) => admin(w, 'PUT', `/admin/merchants/${m.merchant_id}/risk`, risk);
const CARD_OK = CARD('4242 4242 4242 4242');
const audit = async (m, kind) => (await call(w, m, 'GET', `/v1/audit?kind=${kind}`)).json.entries;
const order = (m, total, fields = {}) => createOrder(w, m, { amount: { total, currency: 'CNY' }, ...fields });

test('a_burst_from_one_payer_is_blocked_and_other_payers_still_pay', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  assert.equal((await setRisk(m, { payer: { max_per_minute: 3, action: 'block' } })).status, 200);
  const results = [];
  for (let i = 0; i < 6; i++) {
    const o = await order(m, 1_000, { payer_ref: 'payer-1' });
    const r = await pay(w, o, CARD_OK);
    results.push([r.status, r.json.status, r.json.code]);
  }
  assert.deepEqual(results, [
    [200, 'SUCCESS', undefined], [200, 'SUCCESS', undefined], [200, 'SUCCESS', undefined],
    [402, 'PAYERROR', 'RISK_BLOCKED'], [402, 'PAYERROR', 'RISK_BLOCKED'], [402, 'PAYERROR', 'RISK_BLOCKED'],
  ]);
  const other = await pay(w, await order(m, 1_000, { payer_ref: 'payer-2' }), CARD_OK);
  assert.equal(other.json.status, 'SUCCESS', 'another payer of the same merchant pays');
  const [block] = await audit(m, 'order.block');
  assert.equal(block.actor, 'system:risk.payer_velocity');
  assert.deepEqual(JSON.parse(block.after), { rule: 'payer_velocity', figures: '4 attempts in a minute, limit 3' });
  // A minute later on the merchant's clock, the payer may pay again.
  await advance(w, m, 61);
  assert.equal((await pay(w, await order(m, 1_000, { payer_ref: 'payer-1' }), CARD_OK)).json.status, 'SUCCESS');
});

test('attempts_are_counted_per_client_ip', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  assert.equal((await setRisk(m, { ip: { max_per_minute: 2, action: 'block' } })).status, 200);
  const payFrom = async (ip) => {
    const o = await order(m, 1_000);
    const r = await fetch(`${w.url}/api/checkout/${tokenOf(o)}/pay`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip }, body: JSON.stringify(CARD_OK),
    });
    return (await r.json()).code ?? 'paid';
  };
  const seen = [];
  for (const ip of ['198.51.100.7', '198.51.100.7', '198.51.100.7', '203.0.113.9']) seen.push(await payFrom(ip));
  assert.deepEqual(seen, ['paid', 'paid', 'RISK_BLOCKED', 'paid']);
  // An IPv6 connection is given a /64: a new address inside it is the same payer.
  const six = [];
  for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:abcd::3', '2001:db8:1:3::1']) six.push(await payFrom(ip));
  assert.deepEqual(six, ['paid', 'paid', 'RISK_BLOCKED', 'paid']);
});

test('an_outlier_is_charged_into_review_and_held_until_approved_rejected_or_refunded_undecided', async () => {
  const m = await newMerchant(w, { release_days: 1, rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  const rules = { amount: { factor: 5, history: 10, min_history: 3, action: 'review' }, review_hours: 12 };
  assert.deepEqual((await setRisk(m, rules)).json.amount, { ...rules.amount });
  for (let i = 0; i < 3; i++) assert.equal((await pay(w, await order(m, 1_000), CARD_OK)).json.status, 'SUCCESS');

  const big = await order(m, 10_000);
  const paid = await pay(w, big, CARD_OK);
  assert.deepEqual([paid.status, paid.json.status, paid.json.code], [200, 'SUCCESS', 'IN_REVIEW']);
  assert.match(paid.json.message, /12 hours/);
  const held = (await call(w, m, 'GET', `/v1/orders/${big.out_trade_no}`)).json;
  assert.deepEqual([held.status, held.review, held.funds], ['SUCCESS', 'pending', 'held']);
  const fulfil = await call(w, m, 'POST', `/v1/orders/${big.out_trade_no}/fulfil`);
  assert.deepEqual([fulfil.status, fulfil.json.code], [409, 'ORDER_IN_REVIEW']);
  // The payer's page says the payment is being checked, and what happens if nobody approves it.
  const page = await (await fetch(`${w.url}/pay/${tokenOf(big)}`)).text();
  assert.match(page, /data-testid="in-review"[^>]*>(Paid; the merchant is reviewing it\. Not approved within 12 hours, it is refunded in full\.|已付款，商户审核中：12小时内未通过将全额退款。)</);

  const queue = (await call(w, m, 'GET', '/v1/reviews')).json.reviews;
  assert.equal(queue.length, 1);
  const [rv] = queue;
  assert.deepEqual([rv.out_trade_no, rv.status, rv.rule, rv.amount], [big.out_trade_no, 'pending', 'amount_outlier', 10_000]);
  assert.equal(rv.figures, 'amount 10000 is over 5x the median 1000 of the last 3 paid orders');
  const approved = await call(w, m, 'POST', `/v1/reviews/${rv.review_id}/approve`, { reason: 'known customer' });
  assert.deepEqual([approved.status, approved.json.status, approved.json.reason], [200, 'approved', 'known customer']);
  assert.equal((await call(w, m, 'POST', `/v1/reviews/${rv.review_id}/approve`)).json.status, 'approved', 'the same decision again');
  const late = await call(w, m, 'POST', `/v1/reviews/${rv.review_id}/reject`);
  assert.deepEqual([late.status, late.json.code], [409, 'REVIEW_DECIDED']);
  const released = await call(w, m, 'POST', `/v1/orders/${big.out_trade_no}/fulfil`);
  assert.deepEqual([released.status, released.json.funds, released.json.review], [200, 'released', 'approved']);

  // Rejected: refunded in full from the held money.
  const second = await order(m, 20_000);
  assert.equal((await pay(w, second, CARD_OK)).json.code, 'IN_REVIEW');
  const [rv2] = (await call(w, m, 'GET', '/v1/reviews?status=pending')).json.reviews;
  const rejected = await call(w, m, 'POST', `/v1/reviews/${rv2.review_id}/reject`, { reason: 'stolen card report' });
  assert.equal(rejected.json.status, 'rejected');
  const refunded = (await call(w, m, 'GET', `/v1/orders/${second.out_trade_no}`)).json;
  assert.deepEqual([refunded.status, refunded.refunded_total, refunded.review], ['REFUND', 20_000, 'rejected']);

  // Undecided for 12 hours: refunded in full, as the payer was told; never released (1 day).
  const third = await order(m, 30_000);
  assert.equal((await pay(w, third, CARD_OK)).json.code, 'IN_REVIEW');
  await advance(w, m, 12 * 3600 + 60);
  const lapsed = (await call(w, m, 'GET', `/v1/orders/${third.out_trade_no}`)).json;
  assert.deepEqual([lapsed.status, lapsed.refunded_total, lapsed.review, lapsed.released_at], ['REFUND', 30_000, 'rejected', undefined]);
  const all = (await call(w, m, 'GET', '/v1/reviews?status=all')).json.reviews;
  assert.deepEqual(all.map((r) => r.status), ['approved', 'rejected', 'rejected']);
  assert.ok(all.slice(0, 2).every((r) => r.decided_by.startsWith('api_key:key_')), JSON.stringify(all));
  assert.equal(all[2].decided_by, 'system:review');
  // Each decision reaches the merchant's server as `order.reviewed`.
  for (const [no, review] of [[big.out_trade_no, 'approved'], [second.out_trade_no, 'rejected'], [third.out_trade_no, 'rejected']]) {
    const sent = (await call(w, m, 'GET', `/v1/notifications?out_trade_no=${no}&type=order.reviewed`)).json.notifications;
    assert.equal(sent.length, 1, `${no} ${review}`);
    const detail = (await call(w, m, 'GET', `/v1/notifications/${sent[0].id}`)).json;
    const { data } = JSON.parse(detail.body);
    assert.deepEqual([data.out_trade_no, data.review, data.review_id.startsWith('rv_')], [no, review, true]);
  }
  // The refunds the rejections owed are the rule's, not the API key's of whoever's request ran them.
  const owed = (await audit(m, 'refund.create')).filter((e) => e.target.startsWith('RA'));
  assert.deepEqual(owed.map((e) => e.actor), ['system:refund', 'system:refund']);
  const decisions = await audit(m, 'order.review');
  assert.deepEqual(decisions.map((e) => e.actor), Array(3).fill('system:risk.amount_outlier'));
  const bad = await call(w, m, 'GET', '/v1/reviews?status=maybe');
  assert.deepEqual([bad.status, bad.json.param], [400, 'status']);
  const missing = await call(w, m, 'POST', '/v1/reviews/rv_nope/approve');
  assert.deepEqual([missing.status, missing.json.code], [404, 'REVIEW_NOT_EXIST']);
});

test('payments_sent_to_review_do_not_shape_the_baseline_that_judges_the_next_one', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  await setRisk(m, { amount: { factor: 5, history: 3, min_history: 3, action: 'review' }, review_hours: 12 });
  for (let i = 0; i < 3; i++) assert.equal((await pay(w, await order(m, 1_000), CARD_OK)).json.status, 'SUCCESS');
  // One large payment rejected (refunded in full), one still waiting: were they counted, the
  // median of the last three would be 10,000 and a third would pass unreviewed.
  assert.equal((await pay(w, await order(m, 10_000), CARD_OK)).json.code, 'IN_REVIEW');
  const [first] = (await call(w, m, 'GET', '/v1/reviews?status=pending')).json.reviews;
  assert.equal((await call(w, m, 'POST', `/v1/reviews/${first.review_id}/reject`)).json.status, 'rejected');
  assert.equal((await pay(w, await order(m, 10_000), CARD_OK)).json.code, 'IN_REVIEW');
  const third = await pay(w, await order(m, 10_000), CARD_OK);
  assert.equal(third.json.code, 'IN_REVIEW', JSON.stringify(third.json));
  const [rv] = (await call(w, m, 'GET', '/v1/reviews?status=pending')).json.reviews.filter((r) => r.amount === 10_000).slice(-1);
  assert.equal(rv.figures, 'amount 10000 is over 5x the median 1000 of the last 3 paid orders');
});

test('refunds_owed_by_payments_rejected_in_review_do_not_freeze_the_merchant_that_caught_them', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  const freeze = { refund_rate_pct: 50, decline_rate_pct: 90, window_days: 7, min_payments: 4 };
  await setRisk(m, { amount: { factor: 5, history: 3, min_history: 3, action: 'review' }, review_hours: 12, freeze });
  const kept = [];
  for (let i = 0; i < 3; i++) {
    const o = await order(m, 1_000);
    assert.equal((await pay(w, o, CARD_OK)).json.status, 'SUCCESS');
    kept.push(o);
  }
  // Two large payments rejected in review: 20,000 refunded of 23,000 paid, were they counted.
  for (let i = 0; i < 2; i++) {
    assert.equal((await pay(w, await order(m, 10_000), CARD_OK)).json.code, 'IN_REVIEW');
    const [rv] = (await call(w, m, 'GET', '/v1/reviews?status=pending')).json.reviews;
    assert.equal((await call(w, m, 'POST', `/v1/reviews/${rv.review_id}/reject`)).json.status, 'rejected');
  }
  assert.equal((await createOrder(w, m)).status, 'NOTPAY', 'not frozen');
  // The merchant's own refunds still count: 2,000 of 3,000.
  for (const o of kept.slice(0, 2)) {
    assert.equal((await call(w, m, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount: 1_000 })).status, 201);
  }
  const summary = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`)).json;
  assert.deepEqual([summary.freeze.frozen, summary.freeze.reason], [true, 'refund_rate: refunded 2000 of 3000 paid in 7 days (66%), limit 50%']);
});

test('a_refund_rate_over_the_limit_freezes_the_merchant_until_an_operator_unfreezes_it', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  const freeze = { refund_rate_pct: 50, decline_rate_pct: 90, window_days: 7, min_payments: 4 };
  assert.equal((await setRisk(m, { freeze })).status, 200);
  const orders = [];
  for (let i = 0; i < 4; i++) {
    const o = await order(m, 1_000);
    assert.equal((await pay(w, o, CARD_OK)).json.status, 'SUCCESS');
    orders.push(o);
  }
  const refund = (o) => call(w, m, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount: 1_000 });
  for (const o of orders.slice(0, 2)) assert.equal((await refund(o)).status, 201);
  assert.equal((await createOrder(w, m)).status, 'NOTPAY', 'at 50% refunded: not over the limit');
  assert.equal((await refund(orders[2])).status, 201);

  const refused = await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 1_000, currency: 'CNY' }, description: 'x' });
  assert.deepEqual([refused.status, refused.json.code], [403, 'MERCHANT_FROZEN']);
  assert.equal((await refund(orders[3])).status, 201, 'refunds still work');
  assert.equal((await call(w, m, 'GET', `/v1/orders/${orders[3].out_trade_no}`)).status, 200, 'queries still work');
  const summary = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`)).json;
  assert.deepEqual([summary.freeze.frozen, summary.freeze.reason], [true, 'refund_rate: refunded 3000 of 4000 paid in 7 days (75%), limit 50%']);
  const [frozen] = await audit(m, 'merchant.freeze');
  assert.equal(frozen.actor, 'system:risk.refund_rate');
  const frozenAlerts = async () => (await call(w, m, 'GET', '/v1/alerts')).json.alerts.filter((a) => a.type === 'merchant.frozen');
  assert.deepEqual((await frozenAlerts()).map((a) => [a.open, a.count]), [[true, 1]]);

  const noReason = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/unfreeze`, { reason: ' ' });
  assert.deepEqual([noReason.status, noReason.json.param], [400, 'reason']);
  const lifted = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/unfreeze`, { reason: 'refunds were a product recall, ticket 4411' });
  assert.deepEqual([lifted.status, lifted.json.frozen], [200, false]);
  assert.equal((await createOrder(w, m)).status, 'NOTPAY', 'collecting again');
  assert.deepEqual((await frozenAlerts()).map((a) => [a.open, a.resolution]), [[false, 'unfrozen by the operator: refunds were a product recall, ticket 4411']]);
  const [unfreeze] = await audit(m, 'merchant.unfreeze');
  assert.deepEqual([unfreeze.actor, unfreeze.after], ['admin', 'refunds were a product recall, ticket 4411']);
  // `"freeze": null` switches the rule off, and it stays off once stored (absent would mean the defaults).
  assert.equal((await setRisk(m, { freeze: null })).json.freeze, null);
  const { config } = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`)).json;
  assert.equal(config.risk.freeze, null, JSON.stringify(config.risk));
});

test('malformed_risk_rules_are_refused_and_change_nothing', async () => {
  const m = await newMerchant(w);
  const good = { card: { max_per_minute: 5, action: 'review' }, review_hours: 48 };
  assert.equal((await setRisk(m, good)).status, 200);
  for (const [bad, param] of [
    [{ card: { max_per_minute: 0, action: 'review' } }, 'risk.card.max_per_minute'],
    [{ amount: { factor: 1, action: 'block' } }, 'risk.amount.factor'],
    [{ review_hours: 0 }, 'risk.review_hours'],
    [{ card: { max_per_minute: 5, action: 'maybe' } }, 'body'],
    [{ velocity: {} }, 'body'],
  ]) {
    const r = await setRisk(m, bad);
    assert.deepEqual([r.status, r.json.code, r.json.param], [400, 'PARAM_ERROR', param], JSON.stringify(bad));
  }
  const { config } = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`)).json;
  assert.deepEqual([config.risk.card, config.risk.review_hours], [good.card, 48]);
  const created = await admin(w, 'POST', '/admin/merchants', { name: 'Risky', tier: 'enterprise', sandbox: true, branding: { display_name: 'Risky' }, risk: { ip: { max_per_minute: 0, action: 'block' } } });
  assert.deepEqual([created.status, created.json.param], [400, 'risk.ip.max_per_minute']);
});

test('an_approval_racing_a_rejection_decides_once_and_refunds_at_most_once', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  assert.equal((await setRisk(m, { card: { max_per_minute: 1, action: 'review' } })).status, 200);
  assert.equal((await pay(w, await order(m, 1_000), CARD_OK)).json.status, 'SUCCESS');
  const o = await order(m, 4_000);
  assert.equal((await pay(w, o, CARD_OK)).json.code, 'IN_REVIEW');
  const [rv] = (await call(w, m, 'GET', '/v1/reviews')).json.reviews;
  const answers = await Promise.all([
    call(w, m, 'POST', `/v1/reviews/${rv.review_id}/approve`),
    call(w, m, 'POST', `/v1/reviews/${rv.review_id}/reject`),
    call(w, m, 'POST', `/v1/reviews/${rv.review_id}/reject`),
  ]);
  const won = answers.filter((r) => r.status === 200).map((r) => r.json.status);
  const lost = answers.filter((r) => r.status === 409).map((r) => r.json.code);
  assert.equal(won.length + lost.length, 3);
  assert.ok(new Set(won).size === 1 && lost.every((c) => c === 'REVIEW_DECIDED'), JSON.stringify(answers.map((r) => r.json)));
  const after = (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
  assert.equal(after.refunded_total, won[0] === 'rejected' ? 4_000 : 0, 'refunded in full once, or not at all');
  const refunds = await audit(m, 'refund.create');
  assert.equal(refunds.filter((e) => e.target.startsWith('RA')).length, won[0] === 'rejected' ? 1 : 0);
});

test('a_rejected_review_refunds_everything_even_what_a_refund_held_for_approval_kept', async () => {
  const m = await newMerchant(w, { refund_approval_above: 1_000, rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  assert.equal((await setRisk(m, { card: { max_per_minute: 1, action: 'review' } })).status, 200);
  assert.equal((await pay(w, await order(m, 1_000), CARD_OK)).json.status, 'SUCCESS');
  const o = await order(m, 4_000);
  assert.equal((await pay(w, o, CARD_OK)).json.code, 'IN_REVIEW');
  const held = await call(w, m, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount: 1_500 });
  assert.equal(held.json.status, 'PROCESSING', 'above the threshold: it waits for approval');
  const [rv] = (await call(w, m, 'GET', '/v1/reviews?status=pending')).json.reviews;
  assert.equal((await call(w, m, 'POST', `/v1/reviews/${rv.review_id}/reject`)).json.status, 'rejected');
  const get = async () => (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json.refunded_total;
  assert.equal(await get(), 2_500, 'the rest, without waiting for approval');
  assert.equal((await admin(w, 'POST', `/admin/approvals/${held.json.approval_id}/reject`, { approver: 'finance-lead' })).status, 200);
  assert.equal(await get(), 4_000, 'and what the rejected refund had kept');
});

test('a_payment_the_channel_leaves_pending_keeps_its_review_and_is_refunded_if_rejected_before_it_completes', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  assert.equal((await setRisk(m, { card: { max_per_minute: 1, action: 'review' } })).status, 200);
  // This sandbox card leaves each charge pending; the channel confirms it 3 seconds later.
  const SLOW = CARD('4000 0000 0000 3220');
  const get = async (o) => (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
  const first = await order(m, 1_000);
  assert.equal((await pay(w, first, SLOW)).json.status, 'USERPAYING');
  await advance(w, m, 5);
  assert.equal((await get(first)).status, 'SUCCESS');

  // The card's second attempt in a minute goes to review; the channel still has it pending.
  const o = await order(m, 4_000);
  assert.equal((await pay(w, o, SLOW)).json.status, 'USERPAYING');
  const queue = (await call(w, m, 'GET', '/v1/reviews')).json.reviews;
  assert.deepEqual(queue.map((r) => r.out_trade_no), [o.out_trade_no], 'the review stays while the payment is pending');
  await advance(w, m, 5);
  const paid = await get(o);
  assert.deepEqual([paid.status, paid.review, paid.funds], ['SUCCESS', 'pending', 'held']);
  const fulfil = await call(w, m, 'POST', `/v1/orders/${o.out_trade_no}/fulfil`);
  assert.deepEqual([fulfil.status, fulfil.json.code], [409, 'ORDER_IN_REVIEW']);

  // Rejected while still pending: the payment is refunded in full once the channel confirms it.
  const o2 = await order(m, 6_000);
  assert.equal((await pay(w, o2, SLOW)).json.status, 'USERPAYING');
  const rv = (await call(w, m, 'GET', '/v1/reviews')).json.reviews.find((r) => r.out_trade_no === o2.out_trade_no);
  assert.equal((await call(w, m, 'POST', `/v1/reviews/${rv.review_id}/reject`, { reason: 'stolen card report' })).json.status, 'rejected');
  await advance(w, m, 5);
  const refunded = await get(o2);
  assert.deepEqual([refunded.status, refunded.refunded_total, refunded.review, refunded.released_at], ['REFUND', 6_000, 'rejected', undefined]);
});

test('a_decline_rate_over_the_limit_freezes_the_merchant_and_the_review_queue_pages', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  const freeze = { refund_rate_pct: 90, decline_rate_pct: 50, window_days: 1, min_payments: 4 };
  assert.equal((await setRisk(m, { freeze })).status, 200);
  for (let i = 0; i < 2; i++) assert.equal((await pay(w, await order(m, 1_000), CARD_OK)).json.status, 'SUCCESS');
  const declined = CARD('4000 0000 0000 0002');
  for (let i = 0; i < 2; i++) assert.equal((await pay(w, await order(m, 1_000), declined)).json.code, 'CARD_DECLINED');
  assert.equal((await createOrder(w, m)).status, 'NOTPAY', '2 of 4 declined: at the limit, not over');
  assert.equal((await pay(w, await order(m, 1_000), declined)).json.code, 'CARD_DECLINED');
  const refused = await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 1_000, currency: 'CNY' }, description: 'x' });
  assert.deepEqual([refused.status, refused.json.code], [403, 'MERCHANT_FROZEN']);
  const { freeze: state } = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`)).json;
  assert.equal(state.reason, 'decline_rate: 3 of 5 attempts declined in 1 days (60%), limit 50%');

  // The review queue, a page at a time (a cursor that never repeats or skips a review).
  const q = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  assert.equal((await setRisk(q, { card: { max_per_minute: 1, action: 'review' } })).status, 200);
  assert.equal((await pay(w, await order(q, 1_000), CARD_OK)).json.status, 'SUCCESS');
  const reviewed = [];
  for (let i = 0; i < 3; i++) {
    const o = await order(q, 1_000 + i);
    assert.equal((await pay(w, o, CARD_OK)).json.code, 'IN_REVIEW');
    reviewed.push(o.out_trade_no);
  }
  const all = (await call(w, q, 'GET', '/v1/reviews')).json.reviews;
  assert.deepEqual(all.map((r) => r.out_trade_no), reviewed, 'oldest first');
  const after = (await call(w, q, 'GET', `/v1/reviews?after=${all[0].review_id}`)).json.reviews;
  assert.deepEqual(after.map((r) => r.out_trade_no), reviewed.slice(1));
});
