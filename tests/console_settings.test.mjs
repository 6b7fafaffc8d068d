// Rules and branding from the console (README "The console"): the merchant's settings as one
// object (GET/PUT /console/api/settings), checked like a new merchant's; a change that loosens a
// control waits for the merchant's approvers (never the person who proposed it; one person never
// twice), anything else applies at once; every change audited field by field; and the live
// preview of the real pay page (GET /console/preview) for signed-in users only.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { admin, call, newMerchant, createOrder, tokenOf, pay, CARD } from './support/api.mjs';
import { checkSchema } from './support/openapi.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const PASSWORD = 'correct horse battery';

async function user(m, email, role) {
  assert.equal((await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email, role, password: PASSWORD })).status, 201);
  const r = await fetch(`${w.url}/console/api/sign-in`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ merchant_id: m.merchant_id, email, password: PASSWORD }),
  });
  assert.equal(r.status, 200);
  return { cookie: r.headers.get('set-cookie').split(';')[0], csrf: (await r.json()).csrf_token };
}

async function as(u, method, path, body) {
  const headers = { Cookie: u.cookie, 'X-Paydesk-CSRF': u.csrf };
  if (body) headers['Content-Type'] = 'application/json';
  const r = await fetch(`${w.url}/console/api${path}`, { method, headers, body: body && JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

test('a_rename_changes_no_receipt_of_a_payment_made_before_it', async () => {
  const m = await newMerchant(w, { branding: { display_name: '旧名 Old Name' } });
  const ops = await user(m, 'ops@shop.example', 'operator');
  const before = await createOrder(w, m, { amount: { total: 500, currency: 'CNY' } });
  assert.equal((await pay(w, before, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  const receipt = async (o) => (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}/receipt`)).json;
  const first = await receipt(before);
  assert.equal(JSON.parse(first.payment.payload).merchant_name, '旧名 Old Name');
  const { rules } = (await as(ops, 'GET', '/settings')).json;
  const renamed = await as(ops, 'PUT', '/settings', { ...rules, branding: { ...rules.branding, display_name: '新名 New Name' } });
  assert.equal(renamed.json.status, 'applied', JSON.stringify(renamed.json));
  assert.deepEqual(await receipt(before), first, 'the same bytes and signature after the rename');
  const after = await createOrder(w, m, { amount: { total: 500, currency: 'CNY' } });
  assert.equal((await pay(w, after, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  assert.equal(JSON.parse((await receipt(after)).payment.payload).merchant_name, '新名 New Name');
});

test('settings_change_at_once_or_through_approval_audited_field_by_field', async () => {
  const m = await newMerchant(w, {
    approval_levels: [{ above: 50_000, approvers: 1 }, { above: 1_000_000, approvers: 2 }],
    daily_limit: 5_000_000, refund_approval_above: 5000,
  });
  const viewer = await user(m, 'viewer@shop.example', 'viewer');
  const ops = await user(m, 'ops@shop.example', 'operator');
  const boss = await user(m, 'boss@shop.example', 'admin');
  const alice = await user(m, 'alice@shop.example', 'approver');
  const bob = await user(m, 'bob@shop.example', 'approver');

  const got = await as(viewer, 'GET', '/settings');
  assert.equal(got.status, 200);
  checkSchema('ConsoleSettings', got.json);
  const rules = got.json.rules;
  assert.deepEqual([rules.daily_limit, rules.refund_approval_above, got.json.pending], [5_000_000, 5000, undefined]);
  assert.match(rules.branding.display_name, /^Test Shop \d+$/);
  // A viewer changes nothing.
  const forged = await as(viewer, 'PUT', '/settings', { ...rules, daily_limit: 1 });
  assert.deepEqual([forged.status, forged.json.code], [403, 'FORBIDDEN']);

  // Branding and a lower limit tighten nothing: applied at once, and the pay page says so.
  const tight = { ...rules, branding: { ...rules.branding, display_name: '茶馆 Tea House' }, daily_limit: 4_000_000 };
  const applied = await as(ops, 'PUT', '/settings', tight);
  assert.equal(applied.status, 200, JSON.stringify(applied.json));
  checkSchema('SettingsOutcome', applied.json);
  assert.equal(applied.json.status, 'applied');
  assert.deepEqual(applied.json.changes.map((c) => c.field).sort(), ['branding.display_name', 'daily_limit']);
  const o = await createOrder(w, m, { amount: { total: 100, currency: 'CNY' } });
  const page = await (await fetch(`${w.url}/api/checkout/${tokenOf(o)}`)).json();
  assert.equal(page.merchant.display_name, '茶馆 Tea House');
  const log = (await call(w, m, 'GET', '/v1/audit?kind=merchant')).json.entries;
  const entry = log.find((e) => e.action === 'merchant.settings');
  assert.equal(entry.actor, 'console:ops@shop.example');
  assert.deepEqual(entry.changes.find((c) => c.field === 'daily_limit'), { field: 'daily_limit', before: '5000000', after: '4000000' });
  assert.equal((await as(ops, 'PUT', '/settings', tight)).json.status, 'unchanged');

  // Bad settings: a clear error, and nothing changes.
  const bad = await as(ops, 'PUT', '/settings', { ...tight, notify_url: 'http://example.com/hook' });
  assert.deepEqual([bad.status, bad.json.code, bad.json.param], [400, 'PARAM_ERROR', 'notify_url']);
  const unknown = await as(ops, 'PUT', '/settings', { ...tight, tier: 'personal' });
  assert.deepEqual([unknown.status, unknown.json.code, unknown.json.param], [400, 'PARAM_ERROR', 'tier'], 'the unknown field is named');

  // Raising the limit loosens a control: it waits for two approvers (the top level).
  const loose = { ...tight, daily_limit: 9_000_000 };
  const waits = await as(boss, 'PUT', '/settings', loose);
  assert.equal(waits.json.status, 'pending_approval', JSON.stringify(waits.json));
  const id = waits.json.approval_id;
  const pending = (await as(viewer, 'GET', '/settings')).json;
  assert.equal(pending.rules.daily_limit, 4_000_000, 'not applied yet');
  assert.equal(pending.pending.proposed_by, 'boss@shop.example');
  assert.deepEqual(pending.pending.changes, [{ field: 'daily_limit', before: '4000000', after: '9000000' }]);
  const second = await as(ops, 'PUT', '/settings', { ...tight, release_days: 10 });
  assert.deepEqual([second.status, second.json.code], [403, 'PENDING_APPROVAL']);
  const queue = (await as(alice, 'GET', '/approvals')).json.approvals;
  assert.deepEqual(queue.map((a) => [a.kind, a.need]), [['settings', 2]]);
  // Not the person who proposed it; not one person twice.
  const own = await as(boss, 'POST', `/approvals/${id}/approve`);
  assert.deepEqual([own.status, own.json.code], [403, 'FORBIDDEN']);
  assert.equal((await as(alice, 'POST', `/approvals/${id}/approve`)).json.status, 'pending');
  assert.equal((await as(alice, 'POST', `/approvals/${id}/approve`)).json.code, 'ALREADY_APPROVED');
  assert.equal((await as(bob, 'POST', `/approvals/${id}/approve`)).json.status, 'approved');
  const now = (await as(viewer, 'GET', '/settings')).json;
  assert.equal(now.rules.daily_limit, 9_000_000);
  assert.equal(now.pending, undefined);
  const approvedEntry = (await call(w, m, 'GET', '/v1/audit?kind=merchant')).json.entries.at(-1);
  assert.deepEqual([approvedEntry.action, approvedEntry.actor], ['merchant.settings', 'approver:bob@shop.example']);

  // A rejected change is dropped.
  const again = await as(ops, 'PUT', '/settings', { ...now.rules, notify_url: 'https://hooks.shop.example/paydesk' });
  assert.equal(again.json.status, 'pending_approval');
  assert.equal((await as(alice, 'POST', `/approvals/${again.json.approval_id}/reject`)).json.status, 'rejected');
  const after = (await as(viewer, 'GET', '/settings')).json;
  assert.deepEqual([after.rules.notify_url, after.pending], [null, undefined]);
});

test('the_live_preview_is_the_real_pay_page_for_signed_in_users_only', async () => {
  const m = await newMerchant(w);
  const ops = await user(m, 'ops@shop.example', 'operator');
  const url = `${w.url}/console/preview?display_name=${encodeURIComponent('茶馆 Preview')}&theme_color=%23aa3355&release_days=3&lang=en`;
  const r = await fetch(url, { headers: { Cookie: ops.cookie } });
  assert.equal(r.status, 200);
  const html = await r.text();
  assert.ok(html.includes('茶馆 Preview'));
  assert.ok(html.includes('#aa3355'));
  assert.match(html, /for at most 3 days/);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /script-src 'none'/);
  assert.match(csp, /form-action 'none'/);
  assert.match(csp, /frame-ancestors 'self'/);
  assert.equal((await fetch(url)).status, 401);
  const bad = await fetch(url.replace('%23aa3355', 'red'), { headers: { Cookie: ops.cookie } });
  assert.equal(bad.status, 400);
  // Signed out, the cookie no longer previews anything.
  await as(ops, 'POST', '/sign-out');
  assert.equal((await fetch(url, { headers: { Cookie: ops.cookie } })).status, 401);
});

test('an_admin_sets_alert_channels_and_rotates_the_webhook_secret_others_cannot', async () => {
  const m = await newMerchant(w);
  const ops = await user(m, 'ops@shop.example', 'operator');
  const boss = await user(m, 'boss@shop.example', 'admin');
  const settings = { staff_email: 'oncall@shop.example', staff_locale: 'en', alert_routes: { 'reviews.waiting': ['inbox', 'email'] } };
  assert.deepEqual((await as(ops, 'PUT', '/messaging', settings)).json.code, 'FORBIDDEN');
  assert.deepEqual((await as(ops, 'POST', '/webhook-secret/rotate')).json.code, 'FORBIDDEN');
  const set = await as(boss, 'PUT', '/messaging', settings);
  assert.equal(set.status, 200, JSON.stringify(set.json));
  assert.notEqual(set.json.staff_email, 'oncall@shop.example', 'shown masked');
  // Sent back exactly as shown, the stored address is kept.
  const back = await as(boss, 'PUT', '/messaging', { ...set.json, staff_locale: 'zh-CN' });
  assert.equal(back.status, 200);
  assert.equal(back.json.staff_email, set.json.staff_email);
  const bad = await as(boss, 'PUT', '/messaging', { staff_email: 'not an address' });
  assert.deepEqual([bad.status, bad.json.param], [400, 'staff_email']);

  const rotated = await as(boss, 'POST', '/webhook-secret/rotate', { grace_seconds: 600 });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
  assert.match(rotated.json.webhook_secret, /^whsec_[0-9a-f]{48}$/);
  assert.ok(Date.parse(rotated.json.previous_valid_until) > Date.now());
  const log = (await call(w, m, 'GET', '/v1/audit')).json.entries;
  assert.ok(log.some((e) => e.action === 'merchant.rotate_webhook_secret' && e.actor === 'console:boss@shop.example'));
  assert.ok(log.some((e) => e.action === 'messaging.update' && e.actor === 'console:boss@shop.example'));
});

test('no_one_person_loosens_a_control_alone_and_a_change_overtaken_is_not_applied', async () => {
  // Refunds need approval, orders do not: lifting the refund threshold still needs an approver.
  const r = await newMerchant(w, { refund_approval_above: 5000 });
  const ops = await user(r, 'ops@shop.example', 'operator');
  const lead = await user(r, 'lead@shop.example', 'approver');
  const base = (await as(ops, 'GET', '/settings')).json.rules;
  const lift = await as(ops, 'PUT', '/settings', { ...base, refund_approval_above: null });
  assert.equal(lift.json.status, 'pending_approval', JSON.stringify(lift.json));
  assert.equal((await as(ops, 'GET', '/settings')).json.rules.refund_approval_above, 5000);
  assert.equal((await as(lead, 'POST', `/approvals/${lift.json.approval_id}/approve`)).json.status, 'approved');
  assert.equal((await as(ops, 'GET', '/settings')).json.rules.refund_approval_above, null);

  // A merchant without approvers: loosening is an admin's alone; tightening is anyone's.
  const open = await newMerchant(w);
  const ops2 = await user(open, 'ops@shop.example', 'operator');
  const boss = await user(open, 'boss@shop.example', 'admin');
  const rules = (await as(ops2, 'GET', '/settings')).json.rules;
  const hook = { ...rules, notify_url: 'https://hooks.shop.example/paydesk' };
  const refused = await as(ops2, 'PUT', '/settings', hook);
  assert.deepEqual([refused.status, refused.json.code], [403, 'FORBIDDEN']);
  assert.equal((await as(ops2, 'PUT', '/settings', { ...rules, release_days: rules.release_days + 1 })).json.status, 'applied');
  const now = (await as(boss, 'GET', '/settings')).json.rules;
  assert.equal((await as(boss, 'PUT', '/settings', { ...now, notify_url: 'https://hooks.shop.example/paydesk' })).json.status, 'applied');

  // Rotating again within the grace would drop the secret still in use: refused until it ends.
  assert.equal((await as(boss, 'POST', '/webhook-secret/rotate')).status, 200);
  const again = await as(boss, 'POST', '/webhook-secret/rotate');
  assert.deepEqual([again.status, again.json.code], [429, 'FREQUENCY_LIMITED']);

  // A change overtaken by another (risk rules set by the operator meanwhile) is not applied.
  const m = await newMerchant(w, { approval_levels: [{ above: 50_000, approvers: 1 }] });
  const ops3 = await user(m, 'ops@shop.example', 'operator');
  const alice = await user(m, 'alice@shop.example', 'approver');
  const before = (await as(ops3, 'GET', '/settings')).json.rules;
  const raise = await as(ops3, 'PUT', '/settings', { ...before, daily_limit: 9_000_000 });
  assert.equal(raise.json.status, 'pending_approval');
  const risk = { ...before.risk, review_hours: before.risk.review_hours + 1 };
  assert.equal((await admin(w, 'PUT', `/admin/merchants/${m.merchant_id}/risk`, risk)).status, 200);
  const decided = await as(alice, 'POST', `/approvals/${raise.json.approval_id}/approve`);
  assert.equal(decided.json.status, 'closed', JSON.stringify(decided.json));
  const after = (await as(ops3, 'GET', '/settings')).json;
  assert.deepEqual([after.rules.daily_limit, after.pending], [before.daily_limit, undefined]);
  const log = (await call(w, m, 'GET', '/v1/audit?kind=settings')).json.entries.map((e) => e.action);
  assert.deepEqual(log, ['settings.propose', 'settings.stale']);

  // An unknown cursor is refused, not answered with an empty page.
  const bad = await call(w, m, 'GET', '/v1/contracts?after=NOPE');
  assert.deepEqual([bad.status, bad.json.param], [400, 'after']);
});
