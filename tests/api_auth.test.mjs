// Request authentication of the merchant JSON API (docs/openapi.json): every refusal has its code,
// says nothing about which key part was wrong, and changes nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, otn, nonce, tokenOf, CARD } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const order = () => ({ out_trade_no: otn(), amount: { total: 100, currency: 'CNY' }, description: 'auth test' });

async function orderCount(m) {
  const r = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders?limit=100`);
  assert.equal(r.status, 200);
  return r.json.orders.length;
}

test('signed_request_is_accepted', async () => {
  const m = await newMerchant(w);
  const r = await call(w, m, 'POST', '/v1/orders', order());
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.status, 'NOTPAY');
});

test('refusals_have_stable_codes_and_change_nothing', async () => {
  const m = await newMerchant(w);
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    ['wrong key', { key: 'sk_not_the_key' }, 401, 'SIGN_ERROR'],
    ['tampered signature', { signature: 'a'.repeat(64) }, 401, 'SIGN_ERROR'],
    ['uppercase signature', { signature: 'A'.repeat(64) }, 401, 'SIGN_ERROR'],
    ['no signature', { signature: '' }, 401, 'SIGN_ERROR'],
    ['short nonce', { nonce: 'abc' }, 401, 'SIGN_ERROR'],
    // Well clear of the 300 s edge (checked exactly by the native tests of check_timestamp), so
    // the time this test takes cannot move a case across it.
    ['timestamp 330 s old', { timestampOffset: -330 }, 401, 'TIMESTAMP_EXPIRED'],
    ['timestamp 330 s ahead', { timestampOffset: 330 }, 401, 'TIMESTAMP_EXPIRED'],
    ['timestamp not a number', { timestamp: 'yesterday' }, 401, 'TIMESTAMP_EXPIRED'],
    ['unknown merchant', { merchantId: 'mch_0123456789abcdef' }, 401, 'MERCHANT_NOT_EXIST'],
    ['malformed merchant', { merchantId: '../admin' }, 401, 'MERCHANT_NOT_EXIST'],
  ];
  for (const [name, caseOpts, status, code] of cases) {
    const { timestampOffset, ...opts } = caseOpts;
    if (timestampOffset) opts.timestamp = String(Math.floor(Date.now() / 1000) + timestampOffset);
    const r = await call(w, m, 'POST', '/v1/orders', order(), opts);
    assert.equal(r.status, status, `${name}: ${r.text}`);
    assert.equal(r.json.code, code, name);
    assert.ok(r.json.request_id, name);
    assert.doesNotMatch(r.json.message, /sk_|api_key|expected/i, `${name} leaks nothing`);
  }
  // A body changed after signing is a bad signature too.
  const body = order();
  const ts = String(now);
  const n = nonce();
  const { sign } = await import('./support/api.mjs');
  const sig = sign(m.api_key, 'POST', '/v1/orders', ts, n, JSON.stringify(body));
  const r = await call(w, m, 'POST', '/v1/orders', { ...body, amount: { total: 1, currency: 'CNY' } }, { timestamp: ts, nonce: n, signature: sig });
  assert.equal(r.json.code, 'SIGN_ERROR');
  assert.equal(await orderCount(m), 0);
});

test('a_replayed_nonce_is_refused', async () => {
  const m = await newMerchant(w);
  const n = nonce();
  const first = await call(w, m, 'POST', '/v1/orders', order(), { nonce: n });
  assert.equal(first.status, 201);
  const replay = await call(w, m, 'POST', '/v1/orders', order(), { nonce: n });
  assert.equal(replay.status, 401);
  assert.equal(replay.json.code, 'NONCE_REUSED');
  assert.equal(await orderCount(m), 1);
});

// The object keeps the window's nonces in memory (edge/src/domain/replay_window.rs) and records
// one only when the transaction that logged it commits: a request refused before it was
// accepted (here by the allowlist, whose refusal rolls back the nonce's entry in the log) did not
// use its nonce, while one that fails on its merits after authentication did.
test('a_nonce_is_used_only_by_a_request_that_got_past_authentication', async () => {
  const m = await newMerchant(w, { ip_allowlist: ['203.0.113.0/24'] });
  const n = nonce();
  const outside = await call(w, m, 'POST', '/v1/orders', order(), { nonce: n, headers: { 'CF-Connecting-IP': '198.51.100.9' } });
  assert.equal(outside.json.code, 'IP_NOT_ALLOWED');
  const inside = await call(w, m, 'POST', '/v1/orders', order(), { nonce: n, headers: { 'CF-Connecting-IP': '203.0.113.77' } });
  assert.equal(inside.status, 201, inside.text);
  const again = await call(w, m, 'POST', '/v1/orders', order(), { nonce: n, headers: { 'CF-Connecting-IP': '203.0.113.77' } });
  assert.equal(again.json.code, 'NONCE_REUSED');
  const n2 = nonce();
  const bad = await call(w, m, 'POST', '/v1/orders', { ...order(), amount: { total: 0, currency: 'CNY' } }, { nonce: n2, headers: { 'CF-Connecting-IP': '203.0.113.77' } });
  assert.equal(bad.status, 400, bad.text);
  const retried = await call(w, m, 'POST', '/v1/orders', order(), { nonce: n2, headers: { 'CF-Connecting-IP': '203.0.113.77' } });
  assert.equal(retried.json.code, 'NONCE_REUSED');
  assert.equal(await orderCount(m), 1);
});

test('the_ip_allowlist_is_enforced', async () => {
  const m = await newMerchant(w, { ip_allowlist: ['203.0.113.0/24'] });
  const outside = await call(w, m, 'POST', '/v1/orders', order(), { headers: { 'CF-Connecting-IP': '198.51.100.9' } });
  assert.equal(outside.status, 403, outside.text);
  assert.equal(outside.json.code, 'IP_NOT_ALLOWED');
  const inside = await call(w, m, 'POST', '/v1/orders', order(), { headers: { 'CF-Connecting-IP': '203.0.113.77' } });
  assert.equal(inside.status, 201, inside.text);
  assert.equal(await orderCount(m), 1);
});

test('a_rotated_key_keeps_the_old_one_valid_for_the_grace_period', async () => {
  const m = await newMerchant(w);
  const r = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/rotate-key`, { grace_seconds: 600 });
  assert.equal(r.status, 200);
  assert.notEqual(r.json.api_key, m.api_key);
  assert.equal((await call(w, m, 'POST', '/v1/orders', order())).status, 201, 'old key in grace');
  assert.equal((await call(w, { ...m, api_key: r.json.api_key }, 'POST', '/v1/orders', order())).status, 201, 'new key');
  // A rotation with no grace retires the old key at once.
  const r2 = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/rotate-key`, { grace_seconds: 0 });
  const old = await call(w, { ...m, api_key: r.json.api_key }, 'POST', '/v1/orders', order());
  assert.equal(old.json.code, 'SIGN_ERROR');
  assert.equal((await call(w, { ...m, api_key: r2.json.api_key }, 'POST', '/v1/orders', order())).status, 201);
});

test('admin_api_needs_the_admin_token', async () => {
  for (const token of ['', 'wrong-token-wrong-token', `${w.env.ADMIN_TOKEN}x`]) {
    const r = await admin(w, 'POST', '/admin/merchants', { name: 'x', tier: 'enterprise', branding: { display_name: 'x' } }, token);
    assert.equal(r.status, 401);
    assert.equal(r.json.code, 'UNAUTHORIZED');
  }
});

/** A request to the worker naming another host in its Host header, as anyone can send. */
function asHost(host, method, path, headers = {}, body = '') {
  const u = new URL(w.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: { ...headers, Host: host } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a_host_header_anyone_sends_never_becomes_the_merchants_link_origin', async () => {
  // Links the ledger builds later (notifications, reminders) use the origin the merchant's own
  // signed requests come to. An unsigned request, a payer's page and a payment, each naming
  // another host, must not move it there.
  const m = await newMerchant(w, { notify_url: 'https://merchant.example/hook' });
  const o = (await call(w, m, 'POST', '/v1/orders', order())).json;
  const evil = 'pay.evil.example';
  const unsigned = await asHost(evil, 'GET', `/v1/orders/${o.out_trade_no}`, { 'Paydesk-Merchant': m.merchant_id });
  assert.equal(unsigned.status, 401, unsigned.text);
  assert.equal((await asHost(evil, 'GET', `/pay/${tokenOf(o)}`)).status, 200);
  const paid = await asHost(evil, 'POST', `/api/checkout/${tokenOf(o)}/pay`, { 'content-type': 'application/json' }, JSON.stringify(CARD('4242424242424242')));
  assert.equal(JSON.parse(paid.text).status, 'SUCCESS', paid.text);
  // The payment's notification was built in that request: its link is still the merchant's.
  const [note] = (await call(w, m, 'GET', `/v1/notifications?out_trade_no=${o.out_trade_no}&type=order.paid`)).json.notifications;
  const body = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${note.id}`)).json.body);
  assert.ok(body.data.checkout_url.startsWith(`${w.url}/pay/`), body.data.checkout_url);
});
