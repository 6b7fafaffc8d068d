// The console's sign-in and roles (README "The console: sign-in and roles"): users created
// through the admin API, passwords hashed with PBKDF2-SHA256, session cookies that are HttpOnly,
// Secure and SameSite=Strict, a CSRF token on every change, lockout after failed sign-ins, and
// every action checked against the user's role on the server: a viewer's forged approval is
// refused, and one person can never approve twice.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { admin, call, newMerchant, createOrder } from './support/api.mjs';
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

async function consoleCall(session, method, path, { csrf = session.csrf } = {}) {
  const headers = { Cookie: session.cookie };
  if (csrf) headers['X-Paydesk-CSRF'] = csrf;
  const r = await fetch(`${w.url}/console/api${path}`, { method, headers });
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

  const viewer = await signIn(m, 'viewer@shop.example');
  assert.equal(viewer.status, 200, JSON.stringify(viewer.json));
  checkSchema('ConsoleSession', viewer.json);
  assert.match(viewer.setCookie, /^pd_console=[^;]+; Path=\/console; Max-Age=43200; HttpOnly; Secure; SameSite=Strict$/);
  assert.deepEqual([viewer.json.email, viewer.json.role], ['viewer@shop.example', 'viewer']);
  assert.equal((await consoleCall(viewer, 'GET', '/me')).json.role, 'viewer');
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
});
