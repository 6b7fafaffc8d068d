// Orders through the signed JSON API: idempotent creation, validation of every field, bad
// bodies, queries in JSON and XML, closing, fixed-price items, and concurrency.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, otn, createOrder, advance, nonce } from './support/api.mjs';

let w;
let m;
before(async () => {
  w = await startWorker();
  m = await newMerchant(w, { items: { 'tea-250g': { total: 8800, currency: 'CNY' } } });
});
after(async () => { await w?.stop(); });

async function orders(merchant = m) {
  const r = await admin(w, 'GET', `/admin/merchants/${merchant.merchant_id}/orders?limit=100`);
  return r.json.orders;
}

test('create_query_and_the_wire_shape', async () => {
  const o = await createOrder(w, m, { attach: 'cart=42', tags: { channel: 'web' }, timeout_action: 'remind' });
  assert.match(o.transaction_id, /^pd\d{13}[0-9a-f]{12}$/);
  assert.equal(o.status, 'NOTPAY');
  assert.deepEqual(o.amount, { total: 1000, currency: 'CNY' });
  assert.equal(o.refunded_total, 0);
  assert.equal(o.attach, 'cart=42');
  assert.deepEqual(o.tags, { channel: 'web' });
  assert.equal(o.timeout_action, 'remind');
  assert.deepEqual(o.limit_pay, ['balance', 'bank_card', 'credit_card']);
  assert.match(o.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const ms = Date.parse(o.time_expire) - Date.parse(o.created_at);
  assert.equal(ms, 24 * 3600 * 1000, 'default deadline is 24 h');
  const q = await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`);
  assert.equal(q.status, 200);
  assert.deepEqual(q.json, o);
  const x = await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`, undefined, { headers: { Accept: 'application/xml' } });
  assert.equal(x.status, 200);
  assert.match(x.headers.get('content-type'), /application\/xml/);
  assert.match(x.text, new RegExp(`<out_trade_no><!\\[CDATA\\[${o.out_trade_no}\\]\\]></out_trade_no>`));
  assert.match(x.text, /<total>1000<\/total>/);
  const missing = await call(w, m, 'GET', '/v1/orders/NO_SUCH_ORDER');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.code, 'ORDER_NOT_EXIST');
});

test('same_out_trade_no_same_body_is_the_same_order_different_body_is_409', async () => {
  const body = { out_trade_no: otn(), amount: { total: 500, currency: 'CNY' }, description: 'idem' };
  const a = await call(w, m, 'POST', '/v1/orders', body);
  assert.equal(a.status, 201);
  // Same content, other field order and whitespace.
  const b = await call(w, m, 'POST', '/v1/orders', undefined, {
    rawBody: `{ "description": "idem", "amount": {"currency":"CNY","total":500}, "out_trade_no": "${body.out_trade_no}" }`,
  });
  assert.equal(b.status, 200);
  assert.deepEqual(b.json, a.json);
  const c = await call(w, m, 'POST', '/v1/orders', { ...body, amount: { total: 501, currency: 'CNY' } });
  assert.equal(c.status, 409);
  assert.equal(c.json.code, 'OUT_TRADE_NO_USED');
  assert.equal(c.json.param, 'out_trade_no');
});

test('fifty_concurrent_identical_creates_make_exactly_one_order', async () => {
  const before = (await orders()).length;
  const body = { out_trade_no: otn('C'), amount: { total: 700, currency: 'CNY' }, description: 'race' };
  const results = await Promise.all(Array.from({ length: 50 }, () => call(w, m, 'POST', '/v1/orders', body)));
  const statuses = results.map((r) => r.status).sort();
  assert.equal(statuses.filter((s) => s === 201).length, 1, `one creation: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 200).length, 49);
  assert.equal(new Set(results.map((r) => r.json.transaction_id)).size, 1);
  assert.equal((await orders()).length, before + 1);
});

test('bad_input_gets_a_stable_code_and_changes_nothing', async () => {
  const before = (await orders()).length;
  const good = () => ({ out_trade_no: otn(), amount: { total: 100, currency: 'CNY' }, description: 'x' });
  const cases = [
    ['malformed JSON', { rawBody: '{"out_trade_no": ' }, 400, 'PARAM_ERROR', 'body'],
    ['not an object', { rawBody: '[1,2,3]' }, 400, 'PARAM_ERROR', 'body'],
    ['unknown field', { body: { ...good(), surprise: 1 } }, 400, 'PARAM_ERROR', 'surprise'],
    ['missing description', { body: { out_trade_no: otn(), amount: { total: 1, currency: 'CNY' } } }, 400, 'PARAM_ERROR', 'description'],
    ['amount as string', { body: { ...good(), amount: { total: '100', currency: 'CNY' } } }, 400, 'PARAM_ERROR', 'body'],
    ['negative amount', { body: { ...good(), amount: { total: -1, currency: 'CNY' } } }, 400, 'PARAM_ERROR', 'body'],
    ['fractional amount', { body: { ...good(), amount: { total: 1.5, currency: 'CNY' } } }, 400, 'PARAM_ERROR', 'body'],
    ['zero amount', { body: { ...good(), amount: { total: 0, currency: 'CNY' } } }, 400, 'PARAM_ERROR', 'amount'],
    ['overflowing amount', { rawBody: JSON.stringify(good()).replace('"total":100', '"total":18446744073709551616') }, 400, 'PARAM_ERROR', 'body'],
    ['amount above 2^53', { body: { ...good(), amount: { total: 2 ** 53, currency: 'CNY' } } }, 400, 'PARAM_ERROR', 'amount'],
    ['unknown currency', { body: { ...good(), amount: { total: 1, currency: 'EUR' } } }, 400, 'PARAM_ERROR', 'body'],
    // The ledger's fees, limits, settlements and bills are in fen: another currency would be
    // counted as if it were CNY.
    ['a currency other than CNY', { body: { ...good(), amount: { total: 100, currency: 'USD' } } }, 400, 'PARAM_ERROR', 'amount.currency'],
    ['non-ASCII out_trade_no', { body: { ...good(), out_trade_no: '订单订单订单订单' } }, 400, 'PARAM_ERROR', 'out_trade_no'],
    ['short out_trade_no', { body: { ...good(), out_trade_no: 'abc' } }, 400, 'PARAM_ERROR', 'out_trade_no'],
    ['empty description', { body: { ...good(), description: '' } }, 400, 'PARAM_ERROR', 'description'],
    ['long description', { body: { ...good(), description: 'x'.repeat(128) } }, 400, 'PARAM_ERROR', 'description'],
    ['deadline too soon', { body: { ...good(), time_expire: new Date(Date.now() + 30_000).toISOString() } }, 400, 'PARAM_ERROR', 'time_expire'],
    ['deadline too far', { body: { ...good(), time_expire: new Date(Date.now() + 31 * 86400_000).toISOString() } }, 400, 'PARAM_ERROR', 'time_expire'],
    ['deadline not RFC 3339', { body: { ...good(), time_expire: 'tomorrow' } }, 400, 'PARAM_ERROR', 'time_expire'],
    ['bad timeout_action', { body: { ...good(), timeout_action: 'explode' } }, 400, 'PARAM_ERROR', 'body'],
    ['http notify_url', { body: { ...good(), notify_url: 'http://shop.example.com/n' } }, 400, 'PARAM_ERROR', 'notify_url'],
    ['too many tags', { body: { ...good(), tags: Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`k${i}`, 'v'])) } }, 400, 'PARAM_ERROR', 'tags'],
    ['empty limit_pay', { body: { ...good(), limit_pay: [] } }, 400, 'PARAM_ERROR', 'limit_pay'],
    ['unknown item', { body: { out_trade_no: otn(), item_id: 'nope', description: 'x' } }, 400, 'PARAM_ERROR', 'item_id'],
  ];
  for (const [name, c, status, code, param] of cases) {
    const r = await call(w, m, 'POST', '/v1/orders', c.body, c.rawBody ? { rawBody: c.rawBody } : {});
    assert.equal(r.status, status, `${name}: ${r.text}`);
    assert.equal(r.json.code, code, name);
    assert.equal(r.json.param, param, `${name}: ${r.json.message}`);
  }
  // A 1 MiB body is refused before it is read.
  const big = await call(w, m, 'POST', '/v1/orders', undefined, { rawBody: JSON.stringify({ ...good(), description: 'x'.repeat(1 << 20) }) });
  assert.equal(big.status, 413);
  assert.equal(big.json.code, 'BODY_TOO_LARGE');
  // A body that is not JSON at all.
  const form = await call(w, m, 'POST', '/v1/orders', undefined, { rawBody: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.status, 415);
  // Bodies with no declared length reach the merchant's object unread, which refuses them
  // before they spend their nonce: too large, then not UTF-8.
  const reused = nonce();
  const chunked = await call(w, m, 'POST', '/v1/orders', undefined, { rawBody: JSON.stringify({ ...good(), description: 'x'.repeat(70_000) }), chunked: true, nonce: reused });
  assert.equal(chunked.status, 413, chunked.text);
  assert.equal(chunked.json.code, 'BODY_TOO_LARGE');
  const latin1 = await call(w, m, 'POST', '/v1/orders', undefined, { rawBody: '{}', rawBytes: Buffer.from([0x7b, 0xe9, 0x7d]), chunked: true, nonce: reused });
  assert.equal(latin1.status, 400, latin1.text);
  assert.deepEqual([latin1.json.code, latin1.json.param], ['PARAM_ERROR', 'body']);
  const untyped = await call(w, m, 'POST', '/v1/orders', undefined, { rawBody: JSON.stringify(good()), chunked: true, nonce: reused, headers: { 'Content-Type': 'text/plain' } });
  assert.equal(untyped.status, 415, untyped.text);
  assert.equal((await orders()).length, before, 'the ledger is unchanged');
  const streamed = await call(w, m, 'POST', '/v1/orders', good(), { chunked: true, nonce: reused });
  assert.equal(streamed.status, 201, `the refused bodies left the nonce unspent: ${streamed.text}`);
  // Beside a URL too long to travel in the envelope's header, the worker reads the body itself,
  // with the same rules.
  const long = `/v1/orders?pad=${'p'.repeat(5000)}`;
  const typed = await call(w, m, 'POST', long, undefined, { rawBody: JSON.stringify(good()), headers: { 'Content-Type': 'text/plain' } });
  assert.equal(typed.status, 415, typed.text);
  const read = await call(w, m, 'POST', long, good());
  assert.equal(read.status, 201, read.text);
});

test('fixed_price_items_set_the_amount', async () => {
  const r = await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), item_id: 'tea-250g', description: 'Tea by item' });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.amount, { total: 8800, currency: 'CNY' });
  assert.equal(r.json.item_id, 'tea-250g');
  const both = await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), item_id: 'tea-250g', amount: { total: 1, currency: 'CNY' }, description: 'x' });
  assert.equal(both.json.param, 'item_id');
});

test('close_an_order_and_the_close_rules', async () => {
  // Never opened by a payer: can be closed at once.
  const a = await createOrder(w, m);
  const c = await call(w, m, 'POST', `/v1/orders/${a.out_trade_no}/close`);
  assert.equal(c.status, 204);
  assert.equal((await call(w, m, 'GET', `/v1/orders/${a.out_trade_no}`)).json.status, 'CLOSED');
  const again = await call(w, m, 'POST', `/v1/orders/${a.out_trade_no}/close`);
  assert.equal(again.status, 409);
  assert.equal(again.json.code, 'ORDER_CLOSED');
  // Opened by a payer: not in its first five minutes.
  const mm = await newMerchant(w);
  const b = await createOrder(w, mm);
  const { tokenOf } = await import('./support/api.mjs');
  assert.equal((await fetch(`${w.url}/api/checkout/${tokenOf(b)}`)).status, 200);
  const early = await call(w, mm, 'POST', `/v1/orders/${b.out_trade_no}/close`);
  assert.equal(early.status, 409);
  assert.equal(early.json.code, 'ORDER_TOO_NEW');
  await advance(w, mm, 300);
  assert.equal((await call(w, mm, 'POST', `/v1/orders/${b.out_trade_no}/close`)).status, 204);
  const missing = await call(w, m, 'POST', '/v1/orders/NO_SUCH_ORDER/close');
  assert.equal(missing.json.code, 'ORDER_NOT_EXIST');
  const wrongMethod = await call(w, m, 'DELETE', `/v1/orders/${a.out_trade_no}`);
  assert.equal(wrongMethod.status, 405);
});

test('personal_accounts_cannot_collect', async () => {
  const p = await newMerchant(w, { tier: 'personal' });
  const r = await call(w, p, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 1, currency: 'CNY' }, description: 'x' });
  assert.equal(r.status, 403);
  assert.equal(r.json.code, 'ACCOUNT_NOT_ALLOWED');
});
