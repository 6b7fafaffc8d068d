// The walking skeleton through the real worker: health, the pay page for a demo order, the
// friendly 404 for links that do not open an order, and dev routes absent in production.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, demoOrder, devVars } from './support/worker.mjs';
import { checkoutToken } from './support/token.mjs';
import { newMerchant } from './support/api.mjs';
import { checkResponse } from './support/openapi.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const inlined = (html) => {
  const m = html.match(/<script id="paydesk-data" type="application\/json">(.*?)<\/script>/s);
  assert.ok(m, 'the page inlines the checkout data');
  return JSON.parse(m[1]).view;
};

test('health_reports_version_and_commit', async () => {
  const r = await fetch(`${w.url}/api/health`);
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.status, 'ok');
  assert.match(body.version, /^\d+\.\d+\.\d+$/);
  assert.match(body.commit, /^([0-9a-f]{12}(-dirty)?|unknown)$/);
  // Storage answered: the probe wrote through a Durable Object's SQLite and read it back.
  assert.deepEqual(body.storage, { status: 'ok' });
  await checkResponse('GET', '/api/health', 200, body);
});

test('live_answers_without_asking_storage', async () => {
  const r = await fetch(`${w.url}/api/live`);
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.status, 'ok');
  assert.equal(body.storage, undefined);
  await checkResponse('GET', '/api/live', 200, body);
});

test('open_pay_page_of_a_demo_order', async () => {
  const order = await demoOrder(w, { amount: 4321, description: 'Jasmine tea 茉莉花茶' });
  assert.equal(order.merchant_id, w.env.DEMO_MERCHANT_ID);
  assert.match(order.checkout_url, new RegExp(`^${w.url}/pay/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$`));
  assert.equal(order.status, 'NOTPAY');
  const r = await fetch(order.checkout_url);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const html = await r.text();
  const data = inlined(html);
  assert.deepEqual(data.amount, { total: 4321, currency: 'CNY' });
  assert.equal(data.description, 'Jasmine tea 茉莉花茶');
  assert.equal(data.out_trade_no, order.out_trade_no);
  assert.equal(data.status, 'NOTPAY');
  assert.equal(data.merchant.display_name, '演示茶馆 Demo Tea House');
  assert.match(html, /<title>演示茶馆 Demo Tea House · ¥43\.21<\/title>/);
});

test('token_made_by_an_independent_implementation_opens_the_page', async () => {
  const order = await demoOrder(w);
  const token = checkoutToken(w.env.CHECKOUT_TOKEN_KEY, {
    merchantId: w.env.DEMO_MERCHANT_ID, outTradeNo: order.out_trade_no,
    expiresAt: Math.floor(Date.now() / 1000) + 600,
  });
  const r = await fetch(`${w.url}/pay/${token}`);
  assert.equal(r.status, 200);
  assert.equal(inlined(await r.text()).out_trade_no, order.out_trade_no);
});

test('forged_expired_or_unknown_links_get_the_friendly_404', async () => {
  const order = await demoOrder(w);
  const now = Math.floor(Date.now() / 1000);
  const good = { merchantId: w.env.DEMO_MERCHANT_ID, outTradeNo: order.out_trade_no, expiresAt: now + 600 };
  const genuine = new URL(order.checkout_url).pathname.split('/').pop();
  const [p64, mac] = genuine.split('.');
  const cases = {
    garbage: 'forged.token',
    wrong_key: checkoutToken('not-the-key-not-the-key-not-the-key', good),
    expired: checkoutToken(w.env.CHECKOUT_TOKEN_KEY, { ...good, expiresAt: now - 1 }),
    unknown_order: checkoutToken(w.env.CHECKOUT_TOKEN_KEY, { ...good, outTradeNo: 'NO_SUCH_ORDER' }),
    unknown_merchant: checkoutToken(w.env.CHECKOUT_TOKEN_KEY, { ...good, merchantId: 'mch_0000000000000000' }),
    widened: `${Buffer.from(`${now + 9_999_999}.${good.merchantId}.${good.outTradeNo}`).toString('base64url')}.${mac}`,
    truncated_mac: `${p64}.${mac.slice(0, 20)}`,
  };
  for (const [name, token] of Object.entries(cases)) {
    const r = await fetch(`${w.url}/pay/${token}`);
    assert.equal(r.status, 404, name);
    assert.match(r.headers.get('content-type'), /^text\/html/, name);
    const html = await r.text();
    assert.match(html, /付款链接无效或已过期/, name);
    assert.match(html, /This payment link is not valid or has expired/, name);
    assert.doesNotMatch(html, /paydesk-data/, name);
  }
});

test('unknown_routes_answer_a_json_error', async () => {
  const r = await fetch(`${w.url}/v0/nothing-here`);
  assert.equal(r.status, 404);
  const body = await r.json();
  assert.equal(body.code, 'NOT_FOUND');
  assert.match(body.request_id, /^\S+$/);
});

test('demo_order_refuses_bad_input', async () => {
  for (const [body, param] of [
    [{ amount: 0 }, 'amount'], [{ amount: -5 }, 'body'], [{ amount: 1.5 }, 'body'],
    [{ amount: 2 ** 53 }, 'amount'], [{ description: '' }, 'description'],
    [{ description: 'x'.repeat(128) }, 'description'], [{ surprise: 1 }, 'body'],
  ]) {
    const r = await fetch(`${w.url}/dev/demo-order`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(r.status, 400, JSON.stringify(body));
    const e = await r.json();
    assert.equal(e.code, 'PARAM_ERROR');
    assert.equal(e.param, param, JSON.stringify(body));
  }
});

test('dev_routes_do_not_exist_in_production', async () => {
  const prod = await startWorker({ vars: devVars({ PAYDESK_ENV: 'production' }) });
  try {
    const r = await fetch(`${prod.url}/dev/demo-order`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 404);
    assert.equal((await r.json()).code, 'NOT_FOUND');
    // The bench's SQL meter and its floor write (edge/src/routes/dev.rs) are dev routes too.
    const m = await newMerchant(prod);
    for (const [method, what] of [['GET', 'sql-meter'], ['POST', 'bench-write'], ['POST', 'protocol-probe']]) {
      const d = await fetch(`${prod.url}/dev/merchants/${m.merchant_id}/${what}`, { method });
      assert.equal(d.status, 404, what);
      assert.equal((await d.json()).code, 'NOT_FOUND');
    }
    assert.equal((await fetch(`${prod.url}/api/health`)).status, 200);
  } finally {
    await prod.stop();
  }
});

// The worker and its objects name the version of their protocol on every command and answer
// (edge/src/merchant/protocol.rs, PROTOCOL): after a deploy a busy object may still run the old
// code while the worker runs the new. A command of another version is refused before the object
// does anything, as a retryable SYSTEM_ERROR. The dev-only probe sends the bench write as
// another version would; the object's SQL meter shows it ran no statement.
test('an_object_refuses_a_command_of_another_protocol_version_before_doing_anything', async () => {
  const m = await newMerchant(w);
  const meter = async () => (await fetch(`${w.url}/dev/merchants/${m.merchant_id}/sql-meter`)).json();
  const before = await meter();
  const r = await fetch(`${w.url}/dev/merchants/${m.merchant_id}/protocol-probe`, { method: 'POST' });
  const body = await r.json();
  assert.deepEqual([r.status, body.code, r.headers.get('retry-after')], [500, 'SYSTEM_ERROR', '5'], JSON.stringify(body));
  const after = await meter();
  assert.equal(after.requests.statements, before.requests.statements, 'the refused command ran no statement');
  assert.equal(after.requests.runs, before.requests.runs + 1, 'only the second meter reading ran');
  // The same write under this version is done.
  const done = await fetch(`${w.url}/dev/merchants/${m.merchant_id}/bench-write`, { method: 'POST' });
  assert.equal(done.status, 200);
  assert.ok((await meter()).requests.statements > after.requests.statements, 'the write ran');
});
