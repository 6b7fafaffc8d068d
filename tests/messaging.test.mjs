// Messages to people (docs/messaging.md): staff alerts routed per kind to email (Cloudflare's
// send_email binding, simulated by wrangler dev, which logs each message and writes its text),
// SMS (a signed POST to the merchant's provider: a local receiver here) and the inbox; payer
// reminders from the events of what carries their contact, with quiet hours for SMS and an
// unsubscribe link that works without login. All through the real worker and the test clock.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, devVars, waitForEmails, sentEmails, waitUntil } from './support/worker.mjs';
import { startReceiver } from './support/receiver.mjs';
import { call, admin, newMerchant, createOrder, advance, otn } from './support/api.mjs';
import { checkSchema } from './support/openapi.mjs';

let w;
before(async () => { w = await startWorker({ logLevel: 'info' }); });
after(async () => { await w?.stop(); });

const settle = waitUntil;
const messages = async (m, query = '') => (await call(w, m, 'GET', `/v1/messages${query}`)).json.messages;

test('staff_alerts_go_where_routed_once_per_cause_and_say_when_resolved', async () => {
  const sms = await startReceiver();
  const m = await newMerchant(w, { approval_levels: [{ above: 500, approvers: 1 }] });
  const settings = {
    staff_email: 'ops.lead@shop.example', staff_phone: '13800000001', staff_locale: 'en', sms_url: sms.url,
    alert_routes: { 'approvals.waiting': ['email', 'sms', 'inbox'] },
  };
  // Bad input is refused whole, naming the field, and changes nothing.
  for (const [bad, param] of [[{ staff_phone: '123' }, 'staff_phone'], [{ alert_routes: { lunch: ['inbox'] } }, 'alert_routes'], [{ sms_url: 'ftp://x' }, 'sms_url']]) {
    const r = await call(w, m, 'PUT', '/v1/messaging', { ...settings, ...bad });
    assert.deepEqual([r.status, r.json.code, r.json.param], [400, 'PARAM_ERROR', param]);
  }
  assert.deepEqual((await call(w, m, 'GET', '/v1/messaging')).json, { alert_routes: {} });
  const put = await call(w, m, 'PUT', '/v1/messaging', settings);
  assert.equal(put.status, 200, put.text);
  checkSchema('MessagingSettings', put.json);
  assert.equal(put.json.staff_phone, '138****0001');
  assert.equal(put.json.staff_email, 'o***@shop.example');

  // Two orders wait for approval: one alert, counted twice; one message per channel.
  const a = await createOrder(w, m);
  const b = await createOrder(w, m);
  const email = (await waitForEmails(w, (s) => s.some((e) => e.to === settings.staff_email), 'the alert email')).find((e) => e.to === settings.staff_email);
  assert.match(email.subject, /\] Alert: Requests wait for approval$/);
  assert.match(email.from, /^"Test Shop \d+" <notifications@paydesk\.example>$/);
  assert.match(email.text, /orders or refunds wait for approval/);
  await sms.waitFor((d) => d.length >= 1, 'the alert SMS');
  const d = sms.deliveries[0];
  assert.equal(d.event.to, '13800000001');
  assert.equal(d.event.template, 'alert.raised');
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(d.headers['paydesk-signature']);
  // Signed with the SMS key derived from the webhook secret, which cannot sign a notification.
  const smsKey = createHmac('sha256', m.webhook_secret).update('paydesk-sms-key').digest('hex');
  assert.equal(v1, createHmac('sha256', smsKey).update(`${t}.${d.body}`).digest('hex'));
  assert.notEqual(v1, createHmac('sha256', m.webhook_secret).update(`${t}.${d.body}`).digest('hex'));
  assert.equal(d.headers['paydesk-message-id'], d.event.id);
  const alerts = (await call(w, m, 'GET', '/v1/alerts')).json.alerts;
  assert.deepEqual(alerts.map((x) => [x.type, x.count, x.open]), [['approvals.waiting', 2, true]]);

  let inbox = (await call(w, m, 'GET', '/v1/inbox')).json;
  checkSchema('InboxPage', inbox);
  assert.equal(inbox.unread, 1);
  assert.equal(inbox.messages[0].template, 'alert.raised');
  const read = await call(w, m, 'POST', `/v1/inbox/${inbox.messages[0].id}/read`);
  assert.equal(read.json.read, true);
  assert.equal((await call(w, m, 'GET', '/v1/inbox?unread=true')).json.messages.length, 0);
  assert.equal((await call(w, m, 'POST', '/v1/inbox/msg_nope/read')).status, 404);

  // Approving both clears the cause: one "resolved" message per channel.
  for (const o of [a, b]) {
    const r = await admin(w, 'POST', `/admin/approvals/${o.approval_id}/approve`, { approver: 'finance-lead' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  await waitForEmails(w, (s) => s.some((e) => /\] Resolved: Requests wait for approval$/.test(e.subject)), 'the resolved email');
  await sms.waitFor((ds) => ds.length >= 2, 'the resolved SMS');
  assert.equal(sms.deliveries[1].event.template, 'alert.resolved');
  inbox = (await call(w, m, 'GET', '/v1/inbox')).json;
  assert.deepEqual(inbox.messages.map((x) => x.template), ['alert.resolved', 'alert.raised']);
  const out = await settle(async () => {
    const all = await messages(m);
    return all.length === 4 && all.every((x) => x.status === 'DELIVERED') && all;
  }, 'four delivered messages');
  checkSchema('MessageList', { messages: out });
  assert.equal(sentEmails(w).filter((e) => e.to === settings.staff_email).length, 2, 'each once');
  assert.equal(sms.deliveries.length, 2, 'each once');
  assert.doesNotMatch(JSON.stringify(out), /13800000001|ops\.lead/, 'addresses are shown masked');
  await sms.close();
});

test('a_message_whose_address_no_longer_opens_fails_alone_and_the_merchant_goes_on', async () => {
  // A merchant missed by a DATA_KEYS rotation: its pending message was sealed under a key the
  // operator then dropped.
  const state = join(mkdtempSync(join(tmpdir(), 'paydesk-messages-')), 'state');
  const vars = devVars({ DATA_KEYS: `old-1:${randomBytes(32).toString('hex')}` });
  let own = await startWorker({ persistTo: state, vars });
  const sms = await startReceiver({ status: 503 });
  try {
    const m = await newMerchant(own, { approval_levels: [{ above: 500, approvers: 1 }] });
    const put = await call(own, m, 'PUT', '/v1/messaging', { staff_phone: '13800000002', sms_url: sms.url, alert_routes: { 'approvals.waiting': ['sms'] } });
    assert.equal(put.status, 200, put.text);
    await createOrder(own, m);
    await sms.waitFor((d) => d.length >= 1, 'the first, refused, attempt');
    await waitUntil(async () => (await call(own, m, 'GET', '/v1/messages')).json.messages[0]?.attempts === 1, 'the attempt recorded');
    await own.stop();
    own = await startWorker({ persistTo: state, vars: { ...vars, DATA_KEYS: `new-2:${randomBytes(32).toString('hex')}` } });
    await advance(own, m, 10 * 60);
    const [msg] = await waitUntil(async () => {
      const all = (await call(own, m, 'GET', '/v1/messages')).json.messages;
      return all[0]?.status === 'FAILED' && all;
    }, 'the message failed');
    assert.match(msg.last_error, /does not open/);
    assert.equal(sms.deliveries.length, 1, 'never sent to a wrong address');
    assert.equal((await createOrder(own, m, { amount: { total: 100, currency: 'CNY' } })).status, 'NOTPAY', 'the merchant goes on');
  } finally {
    await sms.close();
    await own.stop();
  }
});

test('an_sms_in_flight_when_its_number_unsubscribes_is_recorded_as_delivered', async (t) => {
  let release;
  const held = new Promise((res) => { release = res; });
  const sms = await startReceiver({ answer: async () => { await held; return { status: 200, body: 'ok' }; } });
  t.after(() => sms.close());
  const m = await newMerchant(w, { remind_grace_seconds: 3600 });
  assert.equal((await call(w, m, 'PUT', '/v1/messaging', { sms_url: sms.url })).status, 200);
  const at = await clockToLocal(m, 10);
  const o = await createOrder(w, m, { contact: { phone: '13700001111', locale: 'en' }, timeout_action: 'remind', time_expire: new Date(at + 600_000).toISOString() });
  await advance(w, m, 660);
  await sms.waitFor((d) => d.length >= 1, 'the reminder SMS, held in flight');
  // The payer unsubscribes while the provider has not answered yet.
  const unsubscribe = /Unsubscribe: (\S+)/.exec(sms.deliveries[0].event.text)[1];
  assert.equal((await fetch(unsubscribe, { method: 'POST' })).status, 200);
  release();
  const [row] = await settle(async () => {
    const all = (await messages(m)).filter((x) => x.subject === o.out_trade_no);
    return all[0]?.status === 'DELIVERED' && all;
  }, 'the SMS recorded as delivered');
  assert.equal(row.attempts, 1);
});

/** Moves the merchant's clock to the next `hour`:`minute` in merchant time (UTC+8). */
async function clockToLocal(m, hour, minute = 0) {
  const now = Date.parse((await advance(w, m, 1)).business_time);
  const local = new Date(now + 8 * 3_600_000);
  let target = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), hour, minute) - 8 * 3_600_000;
  if (target <= now) target += 86_400_000;
  await advance(w, m, Math.round((target - now) / 1000));
  return target;
}

test('payer_reminders_carry_the_link_wait_out_quiet_hours_and_stop_when_unsubscribed', async (t) => {
  const sms = await startReceiver();
  t.after(() => sms.close());
  const m = await newMerchant(w, { remind_grace_seconds: 3600 });
  assert.equal((await call(w, m, 'PUT', '/v1/messaging', { sms_url: sms.url })).status, 200);
  const contact = { phone: '13912345678', email: 'payer.one@example.com', locale: 'en' };
  const bad = await call(w, m, 'POST', '/v1/subscriptions', {
    subscription_id: otn('S'), description: 'Tea club', price: { amount: 9900, interval: 'month' }, contact: { email: 'x@' },
  });
  assert.deepEqual([bad.status, bad.json.param], [400, 'contact.email']);

  // At 23:00 merchant time an unpaid order's reminder goes by email at once; its SMS waits
  // until 08:00.
  const at = await clockToLocal(m, 22, 50);
  const o = await createOrder(w, m, { contact, timeout_action: 'remind', time_expire: new Date(at + 600_000).toISOString() });
  assert.deepEqual(o.contact, { phone: '139****5678', email: 'p***@example.com', locale: 'en' });
  await advance(w, m, 660);
  const mail = (await waitForEmails(w, (s) => s.some((e) => e.to === contact.email), 'the reminder email')).find((e) => e.to === contact.email);
  assert.match(mail.subject, /^Test Shop \d+ · Your payment is still open$/);
  assert.match(mail.text, /Your order "Test order" \(¥10\.00\) with Test Shop \d+ is not paid yet\. Please pay by \d{4}-\d\d-\d\d 00:00 \(UTC\+8\)\./);
  // The link is the order's pay page, its token lasting as long as the extended deadline.
  const link = /Pay: (\S+)/.exec(mail.text)[1];
  assert.ok(link.startsWith(`${w.url}/pay/`), mail.text);
  assert.equal((await fetch(link)).status, 200);
  const unsubscribe = /Unsubscribe: (\S+)/.exec(mail.text)[1];
  const held = await settle(async () => (await messages(m, '?channel=sms'))[0], 'the SMS row');
  assert.equal(held.status, 'PENDING');
  assert.equal(held.to, '139****5678');
  assert.equal(Date.parse(held.quiet_until) - at, (9 * 60 + 10) * 60_000, '08:00 merchant time');
  assert.equal(sms.deliveries.length, 0);
  await advance(w, m, 9 * 3600);
  await sms.waitFor((d) => d.length >= 1, 'the SMS after quiet hours');
  assert.equal(sms.deliveries[0].event.to, contact.phone);
  assert.match(sms.deliveries[0].event.text, /is not paid yet/);

  // The unsubscribe link: a GET only asks; the POST unsubscribes, without login.
  const page = await fetch(unsubscribe);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<form method="post">/);
  const done = await fetch(unsubscribe, { method: 'POST' });
  assert.match(await done.text(), /Unsubscribed: p\*\*\*@example\.com will get no more emails/);
  assert.equal((await fetch(unsubscribe.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), { method: 'POST' })).status, 404);
  const audit = (await call(w, m, 'GET', '/v1/audit')).json;
  assert.ok(JSON.stringify(audit).includes('contact.unsubscribe'));

  // The next reminder to that address is kept as SUPPRESSED; the SMS still goes.
  const second = await createOrder(w, m, { contact, timeout_action: 'remind', time_expire: new Date(at + 10 * 3_600_000 + 600_000).toISOString() });
  await advance(w, m, 3600);
  const rows = await settle(async () => {
    const all = (await messages(m)).filter((x) => x.subject === second.out_trade_no);
    return all.length === 2 && all.every((x) => x.status !== 'PENDING') && all;
  }, 'the second reminder');
  assert.deepEqual(rows.map((x) => [x.channel, x.status]).sort(), [['email', 'SUPPRESSED'], ['sms', 'DELIVERED']]);
  assert.equal(sentEmails(w).filter((e) => e.to === contact.email).length, 1);

  // Unsubscribed from SMS, the number gets none, written with its country code or without.
  await sms.waitFor((d) => d.length >= 2, 'the second SMS');
  const smsUnsubscribe = /Unsubscribe: (\S+)/.exec(sms.deliveries[1].event.text)[1];
  assert.equal((await fetch(smsUnsubscribe, { method: 'POST' })).status, 200);
  const third = await createOrder(w, m, { contact: { phone: '+8613912345678', locale: 'en' }, timeout_action: 'remind', time_expire: new Date(at + 20 * 3_600_000).toISOString() });
  await advance(w, m, 10 * 3600);
  const [kept] = await settle(async () => {
    const all = (await messages(m)).filter((x) => x.subject === third.out_trade_no);
    return all.length === 1 && all[0].status !== 'PENDING' && all;
  }, 'the third reminder');
  assert.deepEqual([kept.channel, kept.status], ['sms', 'SUPPRESSED']);
  assert.equal(sms.deliveries.length, 2);
});

test('an_order_awaiting_approval_past_its_deadline_sends_the_payer_no_link_that_cannot_pay_it', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 500, approvers: 1 }], remind_grace_seconds: 3600 });
  const contact = { email: 'waiting.payer@example.com', locale: 'en' };
  const o = await createOrder(w, m, { contact, timeout_action: 'remind', time_expire: new Date(Date.now() + 120_000).toISOString() });
  assert.equal(o.status, 'PENDING_APPROVAL');
  await advance(w, m, 180);
  // The merchant hears of the deadline; the payer, who could not pay yet, is not told to.
  const sent = await settle(async () => {
    const n = (await call(w, m, 'GET', `/v1/notifications?out_trade_no=${o.out_trade_no}&type=order.reminder`)).json.notifications;
    return n.length === 1 && n;
  }, 'the reminder to the merchant');
  assert.equal(sent.length, 1);
  assert.deepEqual((await messages(m)).filter((x) => x.subject === o.out_trade_no), []);
});

test('a_contract_confirmation_links_its_termination_and_a_failing_provider_fails_alone', async () => {
  const sms = await startReceiver({ status: 500 });
  const m = await newMerchant(w);
  const settings = { staff_email: 'ops2@shop.example', staff_phone: '13800000002', sms_url: sms.url, alert_routes: { 'approvals.waiting': ['sms', 'email'] } };
  assert.equal((await call(w, m, 'PUT', '/v1/messaging', settings)).status, 200);
  await clockToLocal(m, 10);

  const plan = { plan_id: String(Date.now()), name: 'Gym membership', max_amount_per_deduction: 100000, period: 'month', max_deductions_per_period: 1 };
  assert.equal((await call(w, m, 'POST', '/v1/contract_plans', plan)).status, 201);
  const contact = { email: 'member@example.com' };
  const c = await call(w, m, 'POST', '/v1/contracts', { plan_id: plan.plan_id, contract_code: otn('C'), display_account: 'alice', contact });
  assert.equal(c.status, 201, c.text);
  assert.deepEqual(c.json.contact, { email: 'm***@example.com' });
  const signed = await fetch(c.json.sign_url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
    body: new URLSearchParams({ method: 'balance', wallet: 'wallet_ok', consent: 'yes' }).toString(),
  });
  assert.equal(signed.status, 200);
  const mail = (await waitForEmails(w, (s) => s.some((e) => e.to === contact.email), 'the signed confirmation')).find((e) => e.to === contact.email);
  assert.match(mail.subject, / · 免密支付已开通$/);
  assert.match(mail.text, /您已与 Test Shop \d+ 签约「Gym membership」/);
  const end = /解约: (\S+)/.exec(mail.text)[1];
  assert.ok(end.startsWith(c.json.sign_url) && end.endsWith('/terminate'), end);
  assert.equal((await fetch(end)).status, 200, 'the termination link opens its confirmation');

  // An alert routed to a provider that keeps failing: its SMS is retried on the schedule, then
  // FAILED; the email of the same alert is not held up.
  const ap = await newMerchant(w, { approval_levels: [{ above: 500, approvers: 1 }] });
  assert.equal((await call(w, ap, 'PUT', '/v1/messaging', settings)).status, 200);
  await createOrder(w, ap);
  await waitForEmails(w, (s) => s.some((e) => e.to === settings.staff_email), 'the alert email');
  for (const [n, wait] of [[1, 60], [2, 300], [3, 1800], [4, 7200], [5, 21_600]]) {
    await sms.waitFor((d) => d.length >= n, `SMS attempt ${n}`);
    await settle(async () => (await messages(ap, '?channel=sms'))[0]?.attempts === n, `attempt ${n} recorded`);
    await advance(w, ap, wait);
  }
  await sms.waitFor((d) => d.length >= 6, 'the last attempt');
  const failed = await settle(async () => {
    const [x] = await messages(ap, '?channel=sms');
    return x.status === 'FAILED' && x;
  }, 'the SMS to fail');
  assert.equal(failed.attempts, 6);
  assert.equal(failed.last_error, 'HTTP 500');
  assert.equal(failed.next_attempt_at, undefined);
  // A day later (the order's deadline passes then, so the alert's resolution may go out too,
  // as a message of its own): nothing more of this one.
  await advance(w, ap, 86_400);
  assert.equal(sms.deliveries.filter((d) => d.event?.id === failed.id).length, 6, 'nothing more after FAILED');
  await sms.close();
});

test('a_subscription_payer_is_reminded_48_hours_ahead_and_again_when_the_charge_fails', async () => {
  const m = await newMerchant(w);
  const HOUR = 3600;
  const plan = { plan_id: `${Date.now()}1`, name: 'Tea club', max_amount_per_deduction: 100000, period: 'week', max_deductions_per_period: 2 };
  assert.equal((await call(w, m, 'POST', '/v1/contract_plans', plan)).status, 201);
  // A contract on a wallet without funds: its deductions are declined.
  const c = await call(w, m, 'POST', '/v1/contracts', { plan_id: plan.plan_id, contract_code: otn('C'), display_account: 'bob' });
  await fetch(c.json.sign_url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
    body: new URLSearchParams({ method: 'balance', wallet: 'wallet_low', consent: 'yes' }).toString(),
  });
  const contact = { email: 'sub.payer@example.com' };
  const s = await call(w, m, 'POST', '/v1/subscriptions', {
    subscription_id: otn('S'), description: 'Tea club', price: { amount: 700, interval: 'week' }, trial_days: 7,
    contract_code: c.json.contract_code, contact,
  });
  assert.equal(s.status, 201, s.text);
  assert.deepEqual(s.json.contact, { email: 's***@example.com' });
  const mine = () => sentEmails(w).filter((e) => e.to === contact.email);

  await advance(w, m, 5 * 24 * HOUR - HOUR);
  assert.equal(mine().length, 0, 'nothing before 48 hours ahead');
  await advance(w, m, 2 * HOUR);
  await waitForEmails(w, () => mine().length >= 1, 'the renewal reminder');
  const [reminder] = mine();
  assert.match(reminder.subject, / · 扣款提醒$/);
  assert.match(reminder.text, /^「Tea club」¥7\.00 将于 \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\) 从您的签约账户自动扣款。/);
  assert.ok(reminder.text.includes(`查看或解约: ${c.json.sign_url}`), reminder.text);
  assert.match(reminder.text, /退订: \S+\/unsubscribe\//);

  await advance(w, m, 2 * 24 * HOUR);
  await waitForEmails(w, () => mine().length >= 2, 'the second reminder');
  const failed = mine()[1];
  assert.match(failed.subject, / · 扣款失败$/);
  // It says when the contract is deducted again, and that the link pays it before then.
  assert.match(failed.text, /「Tea club」¥7\.00 扣款未成功。我们将于 \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\) 再次扣款，您也可以在此之前通过下方链接支付。\n支付链接: \S+\/pay\//);
  // Each once, whatever runs again.
  await advance(w, m, HOUR);
  const sent = await settle(async () => {
    const all = (await messages(m, '?audience=payer')).filter((x) => x.to === 's***@example.com');
    return all.length === 2 && all.every((x) => x.status === 'DELIVERED') && all;
  }, 'two delivered reminders');
  assert.deepEqual(sent.map((x) => x.template), ['renewal.failed', 'renewal.upcoming']);
  assert.equal(mine().length, 2);
});
