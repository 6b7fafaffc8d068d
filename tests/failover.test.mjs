// Failover between the sandbox's two channels through the real worker, on the merchant's test
// clock (docs/openapi.json: /v1/channels; README "Sandbox test instruments"): five consecutive
// failures or timeouts of channel A open its circuit, raise an alert, and send payments to B;
// after the wait a payment probes A and closes it; a timeout is never failed over blindly: A is
// asked first, so a payment is charged exactly once, counted in the sandbox banks' own books.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, newMerchant, createOrder, pay, advance, CARD } from './support/api.mjs';
import { checkSchema } from './support/openapi.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const A_FAILS = CARD('4000 0000 0000 5126');
const A_TIMES_OUT = CARD('4000 0000 0000 5134');
const A_TIMES_OUT_CHARGED = CARD('4000 0000 0000 5142');
const ALL_FAIL = CARD('4000 0000 0000 5159');
const OK = CARD('4242 4242 4242 4242');

async function channels(m) {
  const r = await call(w, m, 'GET', '/v1/channels');
  assert.equal(r.status, 200);
  checkSchema('ChannelList', r.json);
  return Object.fromEntries(r.json.channels.map((c) => [c.channel, c]));
}
const books = async (m) => {
  const c = await channels(m);
  return [c.sandbox_a.sandbox_charges.count, c.sandbox_b.sandbox_charges.count];
};
const channelOf = async (m, o) => (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
const circuitAlerts = async (m) => (await call(w, m, 'GET', '/v1/alerts')).json.alerts.filter((a) => a.type === 'channel.circuit_open');

/** Pays a fresh order with `card`; the order as the API shows it afterwards. */
async function payWith(m, card, amount = 1_000) {
  const o = await createOrder(w, m, { amount: { total: amount, currency: 'CNY' } });
  const r = await pay(w, o, card);
  return { r, order: await channelOf(m, o) };
}

test('five_failures_open_channel_a_payments_go_to_b_and_a_probe_closes_it', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  const first = await payWith(m, OK);
  assert.equal(first.order.channel, 'sandbox_a', 'A is preferred');

  for (let i = 1; i <= 5; i++) {
    const { r, order } = await payWith(m, A_FAILS);
    assert.deepEqual([r.status, r.json.status, order.channel], [200, 'SUCCESS', 'sandbox_b'], `payment ${i} fell over to B`);
    const a = (await channels(m)).sandbox_a;
    assert.deepEqual([a.state, a.consecutive_failures], [i < 5 ? 'closed' : 'open', i]);
    assert.equal((await circuitAlerts(m)).length, i < 5 ? 0 : 1);
  }
  const [alert] = await circuitAlerts(m);
  assert.deepEqual([alert.open, alert.count], [true, 1]);
  assert.match(alert.detail, /^sandbox_a: 5 consecutive failures or timeouts/);
  assert.deepEqual(await books(m), [1, 5], 'B charged each fallen-over payment once; A charged none of them');

  // Open: a payment that A would take goes straight to B.
  const passedOver = await payWith(m, OK);
  assert.equal(passedOver.order.channel, 'sandbox_b');

  // After the wait, the next payment probes A; it answers, the circuit closes, the alert clears.
  await advance(w, m, 29);
  assert.equal((await channels(m)).sandbox_a.state, 'open');
  await advance(w, m, 1);
  assert.equal((await channels(m)).sandbox_a.state, 'half_open');
  const probe = await payWith(m, OK);
  assert.equal(probe.order.channel, 'sandbox_a');
  const a = (await channels(m)).sandbox_a;
  assert.deepEqual([a.state, a.consecutive_failures, a.opened_at], ['closed', 0, undefined]);
  const [cleared] = await circuitAlerts(m);
  assert.deepEqual([cleared.open, cleared.resolution], [false, 'sandbox_a: a probe was answered']);
  const entries = (await call(w, m, 'GET', '/v1/audit?kind=channel.open')).json.entries;
  assert.equal(entries[0].actor, 'system:circuit');
  assert.equal((await call(w, m, 'GET', '/v1/audit?kind=channel.close')).json.entries.length, 1);
  assert.deepEqual(await books(m), [2, 6], 'A: the first payment and the probe; B: the five and the one passed over');
});

test('a_failed_probe_opens_the_circuit_again_for_another_wait', async () => {
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  for (let i = 0; i < 5; i++) await payWith(m, A_TIMES_OUT);
  assert.equal((await channels(m)).sandbox_a.state, 'open');
  await advance(w, m, 30);
  const probe = await payWith(m, A_FAILS);
  assert.deepEqual([probe.r.json.status, probe.order.channel], ['SUCCESS', 'sandbox_b']);
  const a = (await channels(m)).sandbox_a;
  assert.deepEqual([a.state, a.consecutive_failures], ['open', 6]);
  const open = (await circuitAlerts(m)).filter((x) => x.open);
  assert.equal(open.length, 1, 'still one open alert: one per cause');
  assert.equal(open[0].count, 2, 'the failed probe counted on it');
  assert.match(open[0].detail, /^sandbox_a: 6 consecutive failures/);
  assert.ok(Date.parse(open[0].last_seen_at) > Date.parse(open[0].raised_at), 'last seen at the probe, 30 s later');
  assert.equal((await payWith(m, OK)).order.channel, 'sandbox_b', 'the wait started over');
});

test('a_timeout_is_asked_about_before_failing_over_so_nothing_is_charged_twice', async () => {
  const m = await newMerchant(w);
  // A timed out but charged: asking A finds the charge; B is never tried.
  const charged = await payWith(m, A_TIMES_OUT_CHARGED, 4_321);
  assert.deepEqual([charged.r.json.status, charged.order.channel], ['SUCCESS', 'sandbox_a']);
  assert.deepEqual(await books(m), [1, 0]);
  // A timed out without charging: asked, A says so; B charges, once.
  const notCharged = await payWith(m, A_TIMES_OUT, 1_234);
  assert.deepEqual([notCharged.r.json.status, notCharged.order.channel], ['SUCCESS', 'sandbox_b']);
  assert.deepEqual(await books(m), [1, 1]);
  const c = await channels(m);
  assert.deepEqual([c.sandbox_a.sandbox_charges.amount, c.sandbox_b.sandbox_charges.amount], [4_321, 1_234]);
  assert.equal(c.sandbox_a.consecutive_failures, 2, 'timeouts count as failures, charged or not');

  // Every channel failing: nothing charged, the payer told to try again; the same order then pays once.
  const o = await createOrder(w, m);
  const failed = await pay(w, o, ALL_FAIL);
  assert.deepEqual([failed.status, failed.json.status, failed.json.code, failed.json.next_step], [402, 'PAYERROR', 'PROCESSING_ERROR', 'retry']);
  assert.deepEqual(await books(m), [1, 1]);
  const again = await pay(w, o, OK);
  assert.equal(again.json.status, 'SUCCESS');
  const twice = await pay(w, o, OK);
  assert.equal(twice.json.code, 'ORDER_PAID');
  assert.deepEqual(await books(m), [2, 1], 'charged once, by A (closed: it answered since)');
});
