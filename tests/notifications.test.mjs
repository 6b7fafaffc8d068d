// Notifications to the merchant's server (README "Notifications") with a real receiver on loopback:
// delivered once and verifiable with the documented recipes, retried on schedule (test clock),
// FAILED then resent, alerts, restarts, bursts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, devVars, ROOT } from './support/worker.mjs';
import { startReceiver } from './support/receiver.mjs';
import { call, admin, newMerchant, createOrder, pay, CARD, advance } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const paid = async (m, fields = {}) => {
  const o = await createOrder(w, m, fields);
  assert.equal((await pay(w, o, CARD('4242424242424242'))).status, 200);
  return o;
};
const notification = async (m, id) => (await call(w, m, 'GET', `/v1/notifications/${id}`)).json;
async function waitNotification(m, id, pred, what) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const n = await notification(m, id);
    if (pred(n)) return n;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(n)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function runRecipe(kind, delivery) {
  const dir = mkdtempSync(join(tmpdir(), 'paydesk-recipe-'));
  const file = join(dir, 'delivery.json');
  writeFileSync(file, JSON.stringify(delivery));
  const [cmd, script] = kind === 'python'
    ? ['python3', join(ROOT, 'docs/recipes/verify_webhook.py')]
    : [process.execPath, join(ROOT, 'docs/recipes/verify_webhook.mjs')];
  try {
    return { ok: true, out: execFileSync(cmd, [script, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() };
  } catch (e) {
    return { ok: false, out: String(e.stderr) };
  }
}

test('a_paid_order_is_delivered_once_and_verifies_with_the_documented_recipes', async () => {
  const rx = await startReceiver();
  const m = await newMerchant(w, { notify_url: rx.url });
  const o = await paid(m);
  const [d] = await rx.waitFor((ds) => ds.length >= 1, 'the order.paid delivery');
  assert.equal(d.event.type, 'order.paid');
  assert.equal(d.headers['paydesk-event-id'], d.event.id);
  assert.match(d.headers['paydesk-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal(d.event.data.out_trade_no, o.out_trade_no);
  assert.equal(d.event.data.status, 'SUCCESS');
  assert.deepEqual(d.event.data.amount, o.amount);
  const delivery = { secret: m.webhook_secret, signature: d.headers['paydesk-signature'], body: d.body };
  for (const kind of ['python', 'node']) {
    const good = runRecipe(kind, delivery);
    assert.ok(good.ok, `${kind}: ${good.out}`);
    assert.equal(good.out, `${d.event.id} order.paid`);
    const altered = runRecipe(kind, { ...delivery, body: d.body.replace('"SUCCESS"', '"REFUND"') });
    assert.ok(!altered.ok && /signature mismatch/.test(altered.out), `${kind} refuses an altered body`);
    const t = Number(/t=(\d+)/.exec(delivery.signature)[1]);
    const retimed = runRecipe(kind, { ...delivery, signature: delivery.signature.replace(`t=${t}`, `t=${t + 1}`) });
    assert.ok(!retimed.ok && /signature mismatch/.test(retimed.out), `${kind} refuses an altered timestamp`);
    const wrongKey = runRecipe(kind, { ...delivery, secret: 'whsec_wrong' });
    assert.ok(!wrongKey.ok && /signature mismatch/.test(wrongKey.out), `${kind} refuses the wrong secret`);
  }
  // The README shows exactly these recipes.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const f of ['verify_webhook.py', 'verify_webhook.mjs']) {
    const code = readFileSync(join(ROOT, 'docs/recipes', f), 'utf8');
    assert.ok(readme.includes(code.trim()), `README carries docs/recipes/${f} verbatim`);
  }
  // Once: a later event of another order arrives, and order.paid was still delivered once.
  const fence = await createOrder(w, m);
  assert.equal((await call(w, m, 'POST', `/v1/orders/${fence.out_trade_no}/close`)).status, 204);
  await rx.waitFor((ds) => ds.some((x) => x.event?.type === 'order.closed'), 'the fence event');
  assert.equal(rx.ofType('order.paid').length, 1);
  const n = await notification(m, d.event.id);
  assert.equal(n.status, 'DELIVERED');
  assert.equal(n.attempt_log.length, 1);
  assert.equal(n.attempt_log[0].status_code, 200);
  await rx.close();
});

test('during_a_webhook_secret_rotation_both_secrets_verify', async () => {
  const rx = await startReceiver();
  const m = await newMerchant(w, { notify_url: rx.url });
  const r = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/rotate-webhook-secret`, { grace_seconds: 600 });
  assert.equal(r.status, 200);
  await paid(m);
  const [d] = await rx.waitFor((ds) => ds.length >= 1, 'a delivery');
  assert.match(d.headers['paydesk-signature'], /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
  for (const secret of [m.webhook_secret, r.json.webhook_secret]) {
    const v = runRecipe('python', { secret, signature: d.headers['paydesk-signature'], body: d.body });
    assert.ok(v.ok, v.out);
  }
  // With no grace the old secret stops signing at once.
  const r2 = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/rotate-webhook-secret`, { grace_seconds: 0 });
  assert.equal(r2.status, 200);
  await paid(m);
  const [, d2] = await rx.waitFor((ds) => ds.length >= 2, 'a second delivery');
  assert.match(d2.headers['paydesk-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
  const fresh = runRecipe('python', { secret: r2.json.webhook_secret, signature: d2.headers['paydesk-signature'], body: d2.body });
  assert.ok(fresh.ok, fresh.out);
  for (const old of [m.webhook_secret, r.json.webhook_secret]) {
    const stale = runRecipe('python', { secret: old, signature: d2.headers['paydesk-signature'], body: d2.body });
    assert.ok(!stale.ok && /signature mismatch/.test(stale.out), 'a retired secret no longer verifies');
  }
  await rx.close();
});

test('a_failing_receiver_gets_it_on_the_fourth_attempt_at_the_scheduled_times', async () => {
  const rx = await startReceiver({ failFirst: 3 });
  const m = await newMerchant(w, { notify_url: rx.url });
  await paid(m);
  await rx.waitFor((ds) => ds.length === 1, 'attempt 1');
  const id = rx.deliveries[0].event.id;
  const schedule = [15, 15, 30];
  for (let i = 0; i < 3; i++) {
    const n = await waitNotification(m, id, (x) => x.attempt_log.length === i + 1 && x.next_attempt_at, `attempt ${i + 1} recorded`);
    const last = n.attempt_log[i].at_ms;
    const gap = Date.parse(n.next_attempt_at) - Math.floor(last / 1000) * 1000;
    assert.ok(gap >= schedule[i] * 1000 - 1000 && gap <= schedule[i] * 1100 + 1000, `retry ${i + 1} after ${gap} ms, schedule ${schedule[i]} s`);
    assert.equal(n.status, 'PENDING');
    await advance(w, m, Math.ceil(schedule[i] * 1.1) + 1);
    await rx.waitFor((ds) => ds.length === i + 2, `attempt ${i + 2}`);
  }
  const n = await waitNotification(m, id, (x) => x.status === 'DELIVERED', 'delivered');
  assert.deepEqual(n.attempt_log.map((a) => a.status_code), [500, 500, 500, 200]);
  assert.equal(n.attempt_log[0].response_head, 'try again later');
  assert.ok(n.attempt_log.every((a) => a.latency_ms >= 0));
  assert.equal(new Set(rx.deliveries.map((d) => d.event.id)).size, 1, 'the same event each time');
  await rx.close();
});

// One order's events arrive in order, so an event waits while an earlier one of its order is
// being retried. It is not due on its own time meanwhile: if it were, the merchant's alarm would
// fire at once, find nothing it may send and fire again, every millisecond, until the earlier
// event was delivered (up to a day). The alarm waits for the earlier event's retry instead.
test('an_event_behind_an_undelivered_one_of_its_order_waits_without_keeping_the_alarm_firing', async (t) => {
  const rx = await startReceiver({ failFirst: 1 });
  t.after(() => rx.close());
  const m = await newMerchant(w, { notify_url: rx.url });
  const meter = async () => (await fetch(`${w.url}/dev/merchants/${m.merchant_id}/sql-meter`)).json();
  const o = await createOrder(w, m);
  assert.equal((await pay(w, o, CARD('4000 0000 0000 0002'))).status, 402);
  await rx.waitFor((ds) => ds.length === 1, 'order.failed, attempt 1');
  const failed = await waitNotification(m, rx.deliveries[0].event.id, (x) => x.attempt_log.length === 1 && x.next_attempt_at, 'its retry scheduled');
  // `next_attempt_at` is given to the second; the merchant's clock is not moved yet.
  const retry = Date.parse(failed.next_attempt_at);
  const before = (await meter()).alarms.runs;
  assert.equal((await pay(w, o, CARD('4242424242424242'))).status, 200);
  // The alarm is set for the retry, well before it comes, having run a few times at most.
  let now;
  for (;;) {
    const { alarm_ms: at, alarms } = await meter();
    now = Date.now();
    if (at >= retry && at < retry + 1000) {
      assert.ok(alarms.runs - before <= 3, `${alarms.runs - before} alarm runs while order.paid waited`);
      break;
    }
    assert.ok(now < retry - 2000, `the alarm is set for ${at}, not for the retry at ${retry} (${alarms.runs - before} runs)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await advance(w, m, 17);
  await rx.waitFor((ds) => ds.length === 3, 'the retry, then order.paid');
  assert.deepEqual(rx.deliveries.map((d) => d.event.type), ['order.failed', 'order.failed', 'order.paid']);
});

test('a_receiver_down_for_the_whole_schedule_ends_failed_and_a_resend_succeeds', async () => {
  const rx = await startReceiver({ status: 503 });
  const m = await newMerchant(w, { notify_url: rx.url });
  await paid(m);
  await rx.waitFor((ds) => ds.length === 1, 'attempt 1');
  const id = rx.deliveries[0].event.id;
  const schedule = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];
  for (let i = 0; i < schedule.length; i++) {
    // The failed attempt is recorded (and the next one scheduled) before time moves on.
    await waitNotification(m, id, (x) => x.attempt_log.length === i + 1 && x.next_attempt_at, `attempt ${i + 1} recorded`);
    await advance(w, m, Math.ceil(schedule[i] * 1.1) + 1);
    await rx.waitFor((ds) => ds.length === i + 2, `attempt ${i + 2}`);
  }
  const failed = await waitNotification(m, id, (x) => x.status === 'FAILED', 'FAILED');
  assert.equal(failed.attempt_log.length, 16);
  const list = await call(w, m, 'GET', '/v1/notifications?status=FAILED');
  assert.deepEqual(list.json.notifications.map((x) => x.id), [id]);
  rx.status = 200;
  const resend = await call(w, m, 'POST', `/v1/notifications/${id}/resend`);
  assert.equal(resend.status, 202);
  await rx.waitFor((ds) => ds.length === 17, 'the resent delivery');
  await waitNotification(m, id, (x) => x.status === 'DELIVERED', 'delivered after resend');
  await rx.close();
});

test('five_failures_raise_the_alert_switch_to_the_backup_and_a_success_clears_it', async () => {
  const rx = await startReceiver({ status: 500 });
  const backup = await startReceiver();
  const m = await newMerchant(w, { notify_url: rx.url, backup_notify_url: backup.url });
  for (let i = 0; i < 5; i++) await paid(m);
  await rx.waitFor((ds) => ds.length >= 5, 'five failed deliveries');
  const deadline = Date.now() + 30_000;
  let alerts;
  do {
    alerts = (await call(w, m, 'GET', '/v1/alerts')).json.alerts;
    if (alerts.some((a) => a.open)) break;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  assert.equal(alerts.filter((a) => a.open).length, 1, JSON.stringify(alerts));
  assert.match(alerts[0].detail, /5 consecutive failed deliveries/);
  assert.equal((await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`)).json.open_alert, true);
  // Retries now go to the backup URL, and its success clears the alert.
  await advance(w, m, 17);
  await backup.waitFor((ds) => ds.length >= 1, 'a delivery to the backup URL');
  const until = Date.now() + 30_000;
  do {
    alerts = (await call(w, m, 'GET', '/v1/alerts')).json.alerts;
    if (!alerts.some((a) => a.open)) break;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < until);
  assert.equal(alerts.filter((a) => a.open).length, 0);
  assert.ok(alerts[0].cleared_at);
  assert.equal(alerts[0].resolution, 'a delivery got through');
  assert.equal(alerts.length, 1, 'one alert for the cause, however many failures');
  await rx.close();
  await backup.close();
});

test('undelivered_notifications_survive_a_restart', async () => {
  const rx = await startReceiver();
  await rx.close(); // the merchant's server is down: connections are refused
  const vars = devVars();
  const persistTo = join(mkdtempSync(join(tmpdir(), 'paydesk-outbox-')), 'state');
  let w2 = await startWorker({ persistTo, vars });
  const m = await newMerchant(w2, { notify_url: rx.url });
  const orders = [];
  for (let i = 0; i < 3; i++) {
    const o = await createOrder(w2, m);
    assert.equal((await pay(w2, o, CARD('4242424242424242'))).status, 200);
    orders.push(o);
  }
  const waitPending = async () => {
    for (;;) {
      const l = (await call(w2, m, 'GET', '/v1/notifications?status=PENDING')).json.notifications;
      if (l.length === 3 && l.every((n) => n.attempts >= 1)) return l;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await waitPending();
  await w2.stop();
  // The receiver comes back on the same port; the worker restarts from its stored state.
  const port = Number(new URL(rx.url).port);
  const { createServer } = await import('node:http');
  const got = [];
  const srv = createServer((req, res) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => { got.push(JSON.parse(b)); res.end('ok'); }); });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  w2 = await startWorker({ persistTo, vars });
  try {
    await advance(w2, m, 17);
    const deadline = Date.now() + 30_000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(got.map((e) => e.data.out_trade_no).sort(), orders.map((o) => o.out_trade_no).sort());
  } finally {
    await w2.stop();
    await new Promise((r) => srv.close(r));
  }
});

test('two_hundred_orders_paid_in_a_burst_make_exactly_two_hundred_deliveries', async () => {
  const rx = await startReceiver();
  const m = await newMerchant(w, { notify_url: rx.url, rate_limits: { create: 1000, query: 1000, refund: 50 } });
  const orders = [];
  for (let i = 0; i < 200; i++) orders.push(await createOrder(w, m));
  for (let i = 0; i < 200; i += 50) {
    const results = await Promise.all(orders.slice(i, i + 50).map((o) => pay(w, o, CARD('4242424242424242'))));
    assert.ok(results.every((r) => r.status === 200));
  }
  await rx.waitFor((ds) => new Set(ds.map((d) => d.event.id)).size >= 200, '200 deliveries', 120_000);
  const fence = await createOrder(w, m);
  await call(w, m, 'POST', `/v1/orders/${fence.out_trade_no}/close`);
  await rx.waitFor((ds) => ds.some((d) => d.event.type === 'order.closed'), 'the fence event');
  const paidDeliveries = rx.ofType('order.paid');
  assert.equal(paidDeliveries.length, 200);
  assert.equal(new Set(paidDeliveries.map((d) => d.event.data.out_trade_no)).size, 200);
  await rx.close();
});
