// The console's sign-in and roles (README "The console"): users created
// through the admin API, passwords hashed with PBKDF2-SHA256, session cookies that are HttpOnly,
// Secure and SameSite=Strict, a CSRF token on every change, lockout after failed sign-ins, and
// every action checked against the user's role on the server: a viewer's forged approval is
// refused, and one person can never approve twice.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startWorker } from './support/worker.mjs';
import { admin, call, newMerchant, createOrder, pay, CARD } from './support/api.mjs';
import { startReceiver } from './support/receiver.mjs';
import { checkSchema } from './support/openapi.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const PASSWORD = 'correct horse battery';

async function signIn(m, email, password = PASSWORD) {
  const r = await fetch(`${w.url}/console/api/sign-in`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ merchant_id: m.merchant_id, email, password }),
  });
  const json = await r.json();
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0];
  return { status: r.status, json, setCookie: r.headers.get('set-cookie'), cookie, csrf: json.csrf_token, retryAfter: Number(r.headers.get('retry-after')) };
}

/** A console form's one-time key, as the browser makes it. */
const formKey = () => randomBytes(16).toString('hex');

async function consoleCall(session, method, path, { csrf = session.csrf, body } = {}) {
  const headers = { Cookie: session.cookie };
  if (csrf) headers['X-Paydesk-CSRF'] = csrf;
  if (body) headers['Content-Type'] = 'application/json';
  const r = await fetch(`${w.url}/console/api${path}`, { method, headers, body: body && JSON.stringify(body) });
  return { status: r.status, json: await r.json(), setCookie: r.headers.get('set-cookie') };
}

test('console_users_sign_in_with_sessions_csrf_lockout_and_roles_enforced_on_the_server', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 500, approvers: 2 }] });
  const user = (email, role, password = PASSWORD) => admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email, role, password });
  for (const [body, param] of [[['a@shop.example', 'viewer', 'short'], 'password'], [['a@shop.example', 'root'], 'role'], [['not-an-email', 'viewer'], 'email']]) {
    const r = await user(...body);
    assert.deepEqual([r.status, r.json.code, r.json.param], [400, 'PARAM_ERROR', param]);
  }
  assert.equal((await user('viewer@shop.example', 'viewer')).status, 201);
  assert.equal((await user('Alice@Shop.example', 'approver')).status, 201);
  assert.equal((await user('bob@shop.example', 'approver')).status, 201);
  assert.equal((await user('alice@shop.example', 'admin')).json.param, 'email', 'one user per email');

  // A wrong password and an unknown email are answered alike.
  const wrong = await signIn(m, 'alice@shop.example', 'not the password');
  const unknown = await signIn(m, 'nobody@shop.example');
  assert.deepEqual([wrong.status, wrong.json.code, wrong.json.message], [401, 'UNAUTHORIZED', unknown.json.message]);
  assert.equal(wrong.setCookie, null);

  // Another site's form (no JSON body) or script (a foreign Sec-Fetch-Site) cannot sign a
  // visitor in, even with the right password: no session is set.
  const body = JSON.stringify({ merchant_id: m.merchant_id, email: 'viewer@shop.example', password: PASSWORD });
  for (const headers of [{ 'Content-Type': 'text/plain' }, { 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'cross-site' }]) {
    const r = await fetch(`${w.url}/console/api/sign-in`, { method: 'POST', headers, body });
    assert.deepEqual([r.status, (await r.json()).code, r.headers.get('set-cookie')], [403, 'FORBIDDEN', null], JSON.stringify(headers));
  }
  const viewer = await signIn(m, 'viewer@shop.example');
  assert.equal(viewer.status, 200, JSON.stringify(viewer.json));
  checkSchema('ConsoleSession', viewer.json);
  assert.match(viewer.setCookie, /^pd_console=[^;]+; Path=\/console; Max-Age=43200; HttpOnly; Secure; SameSite=Strict$/);
  assert.deepEqual([viewer.json.email, viewer.json.role], ['viewer@shop.example', 'viewer']);
  // `me` is the object's view passed on by the worker, with the session's CSRF token added (a
  // reloaded console page learns it there).
  const me = await consoleCall(viewer, 'GET', '/me');
  assert.deepEqual([me.status, me.json.email, me.json.role, me.json.csrf_token], [200, 'viewer@shop.example', 'viewer', viewer.csrf]);
  assert.match(me.json.csrf_token, /^[0-9a-f]{32}$/);
  assert.equal((await consoleCall({ cookie: '' }, 'GET', '/me')).status, 401, 'no cookie, no session');
  const forged = viewer.cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  assert.equal((await consoleCall({ cookie: forged }, 'GET', '/me')).status, 401, 'a changed cookie');

  // An order above 500 waits for two different approvers.
  const o = await createOrder(w, m);
  let queue = (await consoleCall(viewer, 'GET', '/approvals')).json.approvals;
  assert.deepEqual(queue.map((a) => [a.target, a.need, a.approvers]), [[o.out_trade_no, 2, []]]);
  const id = queue[0].approval_id;
  // A viewer's forged approval is refused by the server, CSRF token and all.
  const v = await consoleCall(viewer, 'POST', `/approvals/${id}/approve`);
  assert.deepEqual([v.status, v.json.code], [403, 'FORBIDDEN']);

  const alice = await signIn(m, 'ALICE@shop.example');
  const noCsrf = await consoleCall(alice, 'POST', `/approvals/${id}/approve`, { csrf: null });
  assert.deepEqual([noCsrf.status, noCsrf.json.code], [403, 'FORBIDDEN']);
  const otherCsrf = await consoleCall(alice, 'POST', `/approvals/${id}/approve`, { csrf: viewer.csrf });
  assert.equal(otherCsrf.status, 403, "another session's CSRF token");
  const first = await consoleCall(alice, 'POST', `/approvals/${id}/approve`);
  assert.deepEqual([first.status, first.json.status, first.json.approvals], [200, 'pending', 1]);
  const again = await consoleCall(alice, 'POST', `/approvals/${id}/approve`);
  assert.deepEqual([again.status, again.json.code], [409, 'ALREADY_APPROVED'], 'the same person never approves twice');
  queue = (await consoleCall(viewer, 'GET', '/approvals')).json.approvals;
  assert.deepEqual(queue[0].approvers, ['alice@shop.example']);
  const bob = await signIn(m, 'bob@shop.example');
  const second = await consoleCall(bob, 'POST', `/approvals/${id}/approve`);
  assert.deepEqual([second.status, second.json.status], [200, 'approved']);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json.status, 'NOTPAY');
  assert.deepEqual((await consoleCall(viewer, 'GET', '/approvals')).json.approvals, []);

  // Signing out ends the session: the old cookie opens nothing.
  const out = await consoleCall(bob, 'POST', '/sign-out');
  assert.equal(out.status, 200);
  assert.match(out.setCookie, /^pd_console=; Path=\/console; Max-Age=0/);
  assert.equal((await consoleCall(bob, 'GET', '/me')).status, 401);
  const signIns = (await call(w, m, 'GET', '/v1/audit?kind=console')).json.entries;
  const votes = (await call(w, m, 'GET', '/v1/audit?kind=approval')).json.entries;
  assert.ok(signIns.some((e) => e.action === 'console.sign_in' && e.target === 'alice@shop.example'));
  assert.deepEqual(votes.map((e) => e.actor), ['approver:alice@shop.example', 'approver:bob@shop.example'], 'approvals are audited by person');
  assert.doesNotMatch(JSON.stringify(signIns), /correct horse/);

  // Five failed sign-ins in a row lock the user out, the right password too, for 15 minutes.
  for (let i = 1; i <= 4; i++) assert.equal((await signIn(m, 'viewer@shop.example', `guess ${i} wrong`)).status, 401);
  const fifth = await signIn(m, 'viewer@shop.example', 'guess 5 wrong');
  assert.deepEqual([fifth.status, fifth.json.code], [429, 'FREQUENCY_LIMITED']);
  assert.ok(fifth.retryAfter > 890 && fifth.retryAfter <= 900, `Retry-After: ${fifth.retryAfter}`);
  assert.equal((await signIn(m, 'viewer@shop.example')).status, 429, 'locked, whatever the password');
  assert.equal((await consoleCall(viewer, 'GET', '/me')).status, 200, 'a session already open is not ended by it');
  // An email that is no user is answered and locked out the same way, so the lockout does not
  // tell who is a user; it stays locked, and other emails are not.
  for (let i = 1; i <= 4; i++) assert.equal((await signIn(m, 'stranger@shop.example', `guess ${i}`)).status, 401);
  const strangerFifth = await signIn(m, 'Stranger@shop.example', 'guess 5');
  assert.deepEqual([strangerFifth.status, strangerFifth.json.code], [429, 'FREQUENCY_LIMITED']);
  assert.ok(strangerFifth.retryAfter > 890 && strangerFifth.retryAfter <= 900, `Retry-After: ${strangerFifth.retryAfter}`);
  assert.equal((await signIn(m, 'stranger@shop.example')).status, 429, 'still locked');
  assert.equal((await signIn(m, 'someone.else@shop.example')).status, 401, 'another email is not');
});

test('operators_search_and_refund_from_the_console_and_a_refund_above_the_threshold_waits_for_an_approver', async () => {
  const rx = await startReceiver();
  const m = await newMerchant(w, { refund_approval_above: 500, notify_url: rx.url });
  for (const [email, role] of [['op@shop.example', 'operator'], ['look@shop.example', 'viewer'], ['ap@shop.example', 'approver']]) {
    assert.equal((await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email, role, password: PASSWORD })).status, 201);
  }
  const [op, look, ap] = [await signIn(m, 'op@shop.example'), await signIn(m, 'look@shop.example'), await signIn(m, 'ap@shop.example')];
  const web = await createOrder(w, m, { out_trade_no: `WEB${Date.now()}`, tags: { channel: 'web' } });
  const shop = await createOrder(w, m, { out_trade_no: `SHOP${Date.now()}`, tags: { channel: 'shop' } });
  for (const o of [web, shop]) assert.equal((await pay(w, o, CARD('4242424242424242'))).json.status, 'SUCCESS');

  // Search by a number's beginning, a tag (key, or key:value) and a time range.
  const found = async (q) => (await consoleCall(look, 'GET', `/orders?${q}`)).json.orders.map((o) => o.out_trade_no).sort();
  assert.deepEqual(await found('number=WEB'), [web.out_trade_no]);
  assert.deepEqual(await found('tag=channel:shop'), [shop.out_trade_no]);
  assert.deepEqual(await found('tag=channel'), [shop.out_trade_no, web.out_trade_no].sort());
  assert.deepEqual(await found(`from=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`), []);
  const bad = await consoleCall(look, 'GET', '/orders?from=yesterday');
  assert.deepEqual([bad.status, bad.json.param], [400, 'from']);

  // A viewer cannot refund; an operator can, and a refund above 500 waits for an approver.
  const denied = await consoleCall(look, 'POST', `/orders/${web.out_trade_no}/refund`, { body: { amount: 100, key: formKey() } });
  assert.deepEqual([denied.status, denied.json.code], [403, 'FORBIDDEN']);
  const form = { amount: 300, reason: 'damaged', key: formKey() };
  const small = await consoleCall(op, 'POST', `/orders/${web.out_trade_no}/refund`, { body: form });
  assert.deepEqual([small.status, small.json.status], [200, 'SUCCESS']);
  // The same form sent again (its answer lost) is the same refund, not a second one.
  const again = await consoleCall(op, 'POST', `/orders/${web.out_trade_no}/refund`, { body: form });
  assert.deepEqual([again.status, again.json.out_refund_no], [200, small.json.out_refund_no]);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${web.out_trade_no}`)).json.refunded_total, 300);
  const keyless = await consoleCall(op, 'POST', `/orders/${web.out_trade_no}/refund`, { body: { amount: 300 } });
  assert.deepEqual([keyless.status, keyless.json.code, keyless.json.param], [400, 'PARAM_ERROR', 'key'], 'the missing field is named');
  const big = await consoleCall(op, 'POST', `/orders/${shop.out_trade_no}/refund`, { body: { amount: 800, key: formKey() } });
  assert.equal(big.json.status, 'PROCESSING');
  assert.match(big.json.approval_id, /^apr_/);
  // The approver sees what they decide on: the refund's amount and its order.
  const waiting = (await consoleCall(ap, 'GET', '/approvals')).json.approvals.find((a) => a.approval_id === big.json.approval_id);
  assert.deepEqual([waiting.kind, waiting.amount, waiting.out_trade_no], ['refund', { total: 800, currency: 'CNY' }, shop.out_trade_no]);
  assert.equal((await consoleCall(op, 'POST', `/approvals/${big.json.approval_id}/approve`)).status, 403, 'an operator does not approve');
  const approved = await consoleCall(ap, 'POST', `/approvals/${big.json.approval_id}/approve`);
  assert.equal(approved.json.status, 'approved');
  assert.equal((await call(w, m, 'GET', `/v1/orders/${shop.out_trade_no}`)).json.refunded_total, 800);

  // An order's page: its refunds, its notifications (resent by an operator) and its audit
  // entries, by person.
  const detail = (await consoleCall(look, 'GET', `/orders/${web.out_trade_no}`)).json;
  assert.deepEqual(detail.refunds.map((r) => [r.amount, r.status]), [[300, 'SUCCESS']]);
  assert.ok(detail.audit.some((e) => e.actor === 'console:op@shop.example'), JSON.stringify(detail.audit.map((e) => [e.actor, e.action])));
  const paidEvent = detail.notifications.find((n) => n.type === 'order.paid');
  assert.ok(paidEvent, JSON.stringify(detail.notifications));
  assert.equal((await consoleCall(look, 'POST', `/notifications/${paidEvent.id}/resend`)).status, 403);
  const resent = await consoleCall(op, 'POST', `/notifications/${paidEvent.id}/resend`);
  assert.equal(resent.status, 200, JSON.stringify(resent.json));
  await rx.waitFor((ds) => ds.filter((d) => d.event?.id === paidEvent.id).length >= 2, 'the resent notification');
  await rx.close();

  // An admin both refunds and approves, but never the same refund: who asked for it may not
  // approve it, so a refund above the threshold always takes two people.
  assert.equal((await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email: 'boss@shop.example', role: 'admin', password: PASSWORD })).status, 201);
  const boss = await signIn(m, 'boss@shop.example');
  const desk = await createOrder(w, m);
  assert.equal((await pay(w, desk, CARD('4242424242424242'))).json.status, 'SUCCESS');
  const own = await consoleCall(boss, 'POST', `/orders/${desk.out_trade_no}/refund`, { body: { amount: 700, key: formKey() } });
  assert.equal(own.json.status, 'PROCESSING');
  const selfApproved = await consoleCall(boss, 'POST', `/approvals/${own.json.approval_id}/approve`);
  assert.deepEqual([selfApproved.status, selfApproved.json.code], [403, 'FORBIDDEN']);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${desk.out_trade_no}`)).json.refunded_total, 0, 'nothing refunded by it');
  assert.equal((await consoleCall(ap, 'POST', `/approvals/${own.json.approval_id}/approve`)).json.status, 'approved');
  assert.equal((await call(w, m, 'GET', `/v1/orders/${desk.out_trade_no}`)).json.refunded_total, 700);
});

test('the_operator_changes_a_users_role_resets_their_password_and_removes_them_and_each_takes_effect_at_once', async () => {
  const m = await newMerchant(w);
  const users = `/admin/merchants/${m.merchant_id}/console_users`;
  const user = (email) => `${users}/${encodeURIComponent(email)}`;
  assert.equal((await admin(w, 'POST', users, { email: 'leaver@shop.example', role: 'operator', password: PASSWORD })).status, 201);
  assert.equal((await admin(w, 'POST', users, { email: 'stays@shop.example', role: 'viewer', password: PASSWORD })).status, 201);
  const leaver = await signIn(m, 'leaver@shop.example');
  const stays = await signIn(m, 'stays@shop.example');
  const listed = await admin(w, 'GET', users);
  assert.equal(listed.status, 200);
  checkSchema('ConsoleUserList', listed.json);
  assert.deepEqual(listed.json.users.map((u) => [u.email, u.role, u.sessions]), [['leaver@shop.example', 'operator', 1], ['stays@shop.example', 'viewer', 1]]);
  assert.doesNotMatch(JSON.stringify(listed.json), /hash|salt/);

  // Refused changes change nothing.
  for (const [path, body, status, code] of [
    [user('nobody@shop.example'), { role: 'viewer' }, 404, 'NOT_FOUND'],
    [user('leaver@shop.example'), { role: 'root' }, 400, 'PARAM_ERROR'],
    [user('leaver@shop.example'), { password: 'short' }, 400, 'PARAM_ERROR'],
    [user('leaver@shop.example'), {}, 400, 'PARAM_ERROR'],
  ]) {
    const r = await admin(w, 'PUT', path, body);
    assert.deepEqual([r.status, r.json.code], [status, code], JSON.stringify(body));
  }
  assert.equal((await consoleCall(leaver, 'GET', '/me')).json.role, 'operator');

  // A new role applies to the live session at its next request.
  const demoted = await admin(w, 'PUT', user('Leaver@shop.example'), { role: 'viewer' });
  assert.deepEqual([demoted.status, demoted.json.role], [200, 'viewer']);
  assert.equal((await consoleCall(leaver, 'GET', '/me')).json.role, 'viewer');
  // A new password ends the sessions the old one started; only the new one signs in.
  assert.equal((await admin(w, 'PUT', user('leaver@shop.example'), { password: 'a brand new passphrase' })).status, 200);
  assert.equal((await consoleCall(leaver, 'GET', '/me')).status, 401);
  assert.equal((await signIn(m, 'leaver@shop.example')).status, 401);
  const again = await signIn(m, 'leaver@shop.example', 'a brand new passphrase');
  assert.equal(again.status, 200);
  // Removed: every session ends, and no password signs in, as for an email that is no user.
  const removed = await admin(w, 'DELETE', user('leaver@shop.example'));
  assert.deepEqual([removed.status, removed.json.sessions_ended], [200, 1]);
  assert.equal((await consoleCall(again, 'GET', '/me')).status, 401);
  const gone = await signIn(m, 'leaver@shop.example', 'a brand new passphrase');
  assert.deepEqual([gone.status, gone.json.message], [401, 'wrong email or password']);
  assert.equal((await admin(w, 'DELETE', user('leaver@shop.example'))).status, 404);
  // The other user is untouched; the operator's changes are audited.
  assert.equal((await consoleCall(stays, 'GET', '/me')).status, 200);
  assert.deepEqual((await admin(w, 'GET', users)).json.users.map((u) => u.email), ['stays@shop.example']);
  const audit = (await call(w, m, 'GET', '/v1/audit?kind=console_user')).json.entries;
  assert.deepEqual(audit.map((e) => [e.action, e.actor]).slice(-3), [['console_user.role', 'admin'], ['console_user.password', 'admin'], ['console_user.remove', 'admin']]);
});
