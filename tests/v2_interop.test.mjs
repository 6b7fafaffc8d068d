// The v2 XML dialect (issue 6) through two independently written, widely used third-party
// WeChat Pay v2 SDKs, unmodified except for their base URL:
// - wechatpy 1.8.18 (PyPI), driven in a Python child process (tests/interop/wechatpy_client.py);
// - tenpay 2.1.18 (npm), in this process; it also verifies every response's signature.
// Plus the protocol's edges with raw XML: bad signatures, hostile XML, unknown fields, retries
// of notifications the merchant did not acknowledge, and concurrency.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import tenpay from 'tenpay';
import { startWorker, ROOT } from './support/worker.mjs';
import { startReceiver } from './support/receiver.mjs';
import { admin, alarmAt, call, newMerchant, pay, CARD, advance, otn, sqlMeter } from './support/api.mjs';

const ACK = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
const APPID = 'wx2421b1c4370ec43b';

let w;
let rx;
let m;

before(async () => {
  w = await startWorker();
  rx = await startReceiver({ answer: () => ({ body: ACK }) });
  m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 200 } });
});

after(async () => {
  await rx?.close();
  await w?.stop();
});

// ---- a minimal, independent v2 client for the raw protocol tests ----

function v2sign(params, key, type = 'MD5') {
  const s = Object.keys(params).filter((k) => k !== 'sign' && params[k] !== '' && params[k] !== undefined)
    .sort().map((k) => `${k}=${params[k]}`).join('&') + `&key=${key}`;
  return type === 'MD5'
    ? createHash('md5').update(s, 'utf8').digest('hex').toUpperCase()
    : createHmac('sha256', key).update(s, 'utf8').digest('hex').toUpperCase();
}

function toXml(params) {
  return '<xml>' + Object.entries(params).map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`).join('') + '</xml>';
}

function fromXml(xml) {
  const out = {};
  for (const [, k, cdata, text] of xml.matchAll(/<(\w+)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g)) out[k] = cdata ?? text;
  return out;
}

async function raw(path, body) {
  const r = await fetch(`${w.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type'), text, f: fromXml(text) };
}

async function signed(path, params, { key = m.api_key, type = 'MD5' } = {}) {
  const p = { appid: APPID, mch_id: m.merchant_id, nonce_str: randomBytes(8).toString('hex'), ...params };
  if (type !== 'MD5') p.sign_type = type;
  p.sign = v2sign(p, key, type);
  return raw(path, toXml(p));
}

function nativeOrder(extra = {}) {
  return {
    body: 'Latte 拿铁', out_trade_no: otn('X'), total_fee: '1200', spbill_create_ip: '203.0.113.7',
    notify_url: rx.url, trade_type: 'NATIVE', product_id: 'latte', ...extra,
  };
}

/** The answer verifies under the merchant key (as a real SDK would check). */
function assertSigned(f, type = 'MD5') {
  assert.equal(f.sign, v2sign(f, m.api_key, type), 'the answer is signed');
}

// ---- wechatpy (Python) ----

function startWechatpy(merchant) {
  const py = spawn(join(ROOT, 'target/pyenv/bin/python'), [join(ROOT, 'tests/interop/wechatpy_client.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: py.stdout });
  const waiting = [];
  let exited = null;
  lines.on('line', (l) => waiting.shift()?.res(JSON.parse(l)));
  // If the driver dies (a missing dependency, a crash), every pending and later call fails at once.
  py.on('exit', (code) => {
    exited = new Error(`the wechatpy driver exited with ${code}`);
    for (const w of waiting.splice(0)) w.rej(exited);
  });
  py.stdin.write(JSON.stringify({ appid: APPID, api_key: merchant.api_key, mch_id: merchant.merchant_id, base_url: w.url }) + '\n');
  const send = (cmd) => new Promise((res, rej) => {
    if (exited) return rej(exited);
    waiting.push({ res, rej });
    py.stdin.write(JSON.stringify(cmd) + '\n');
  });
  return {
    call: (op, kwargs) => send({ op, kwargs }),
    parse: (xml) => send({ op: 'parse_notification', xml }),
    close: () => new Promise((res) => { if (exited) return res(); py.on('exit', res); py.stdin.end(); }),
  };
}

const payToken = (url) => ({ checkout_url: url });

test('wechatpy: create, pay, verified notification, query, refund, refund query, close (MD5)', async () => {
  const sdk = startWechatpy(m);
  try {
    const no = otn('PY');
    const created = await sdk.call('create', {
      trade_type: 'NATIVE', body: '咖啡 Coffee', total_fee: 1500, notify_url: rx.url, client_ip: '203.0.113.7',
      out_trade_no: no, product_id: 'coffee', attach: 'table=7',
    });
    assert.ok(created.ok, JSON.stringify(created));
    assert.equal(created.ok.result_code, 'SUCCESS');
    assert.match(created.ok.prepay_id, /^wx\d{14}[0-9a-f]{20}$/);
    assert.ok(created.ok.code_url.startsWith(`${w.url}/pay/`), created.ok.code_url);
    assertSigned(created.ok);

    // The code_url is our pay page: it shows the order.
    const page = await fetch(created.ok.code_url);
    assert.equal(page.status, 200);

    let q = await sdk.call('query', { out_trade_no: no });
    assert.equal(q.ok.trade_state, 'NOTPAY');
    assert.equal(q.ok.total_fee, '1500');

    // The same create again (new nonce, new time_start/time_expire from the SDK's clock) is the
    // same order: the same prepay_id.
    const again = await sdk.call('create', {
      trade_type: 'NATIVE', body: '咖啡 Coffee', total_fee: 1500, notify_url: rx.url, client_ip: '203.0.113.7',
      out_trade_no: no, product_id: 'coffee', attach: 'table=7',
    });
    assert.equal(again.ok.prepay_id, created.ok.prepay_id);

    const before = rx.deliveries.length;
    const paid = await pay(w, payToken(created.ok.code_url), CARD('4242424242424242'));
    assert.equal(paid.status, 200, JSON.stringify(paid.json));
    const ds = await rx.waitFor((d) => d.slice(before).some((x) => x.body.includes(no)), 'the v2 payment notification');
    const note = ds.slice(before).find((x) => x.body.includes(no));
    assert.match(note.headers['content-type'], /^text\/xml/);
    assert.ok(note.body.startsWith('<xml>'));
    // wechatpy's own verification function accepts it...
    const parsed = await sdk.parse(note.body);
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.equal(parsed.ok.result_code, 'SUCCESS');
    assert.equal(parsed.ok.out_trade_no, no);
    assert.equal(parsed.ok.total_fee, 1500);
    assert.equal(parsed.ok.attach, 'table=7');
    assert.equal(parsed.ok.transaction_id, q.ok.transaction_id);
    assert.match(parsed.ok.time_end, /^\d{14}$/);
    // ...and refuses it with one byte changed.
    const forged = await sdk.parse(note.body.replace('<total_fee>1500<', '<total_fee>1<'));
    assert.deepEqual(forged, { invalid_signature: true });

    q = await sdk.call('query', { transaction_id: parsed.ok.transaction_id });
    assert.equal(q.ok.trade_state, 'SUCCESS');
    assert.equal(q.ok.out_trade_no, no);
    assert.equal(q.ok.time_end, parsed.ok.time_end);
    assert.equal(q.ok.cash_fee, '1500');

    const refund = await sdk.call('refund', { total_fee: 1500, refund_fee: 500, out_refund_no: `${no}R1`, out_trade_no: no });
    assert.ok(refund.ok, JSON.stringify(refund));
    assert.equal(refund.ok.refund_fee, '500');
    assert.match(refund.ok.refund_id, /^50\d{13}[0-9a-f]{12}$/);
    const rq = await sdk.call('refund_query', { out_refund_no: `${no}R1` });
    assert.equal(rq.ok.refund_count, '1');
    assert.equal(rq.ok.refund_status_0, 'SUCCESS');
    assert.equal(rq.ok.refund_id_0, refund.ok.refund_id);
    assert.match(rq.ok.refund_success_time_0, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    q = await sdk.call('query', { out_trade_no: no });
    assert.equal(q.ok.trade_state, 'REFUND');

    // Refusals come back as the SDK's exception with the protocol's err_code.
    const over = await sdk.call('refund', { total_fee: 1500, refund_fee: 1001, out_refund_no: `${no}R2`, out_trade_no: no });
    assert.equal(over.error?.errcode, 'NOTENOUGH', JSON.stringify(over));
    const closePaid = await sdk.call('close', { out_trade_no: no });
    assert.equal(closePaid.error?.errcode, 'ORDERPAID');
    const reused = await sdk.call('create', {
      trade_type: 'NATIVE', body: 'Other', total_fee: 99, notify_url: rx.url, client_ip: '203.0.113.7', out_trade_no: no, product_id: 'x',
    });
    assert.equal(reused.error?.errcode, 'ORDERPAID');
    const missing = await sdk.call('query', { out_trade_no: otn('NONE') });
    assert.equal(missing.error?.errcode, 'ORDERNOTEXIST');

    // Close an unpaid order.
    const no2 = otn('PY');
    const c2 = await sdk.call('create', { trade_type: 'MWEB', body: 'Tea', total_fee: 300, notify_url: rx.url, client_ip: '203.0.113.7', out_trade_no: no2 });
    assert.ok(c2.ok.mweb_url.startsWith(`${w.url}/pay/`));
    const differs = await sdk.call('create', { trade_type: 'MWEB', body: 'Tea', total_fee: 301, notify_url: rx.url, client_ip: '203.0.113.7', out_trade_no: no2 });
    assert.equal(differs.error?.errcode, 'OUT_TRADE_NO_USED');
    const closed = await sdk.call('close', { out_trade_no: no2 });
    assert.ok(closed.ok, JSON.stringify(closed));
    assert.equal((await sdk.call('query', { out_trade_no: no2 })).ok.trade_state, 'CLOSED');
    assert.equal((await sdk.call('close', { out_trade_no: no2 })).error?.errcode, 'ORDERCLOSED');
  } finally {
    await sdk.close();
  }
});

test('wechatpy: HMAC-SHA256 create, and a wrong key is a signature failure', async () => {
  const sdk = startWechatpy(m);
  const wrong = startWechatpy({ ...m, api_key: 'not-the-key-0123456789abcdef0123' });
  try {
    const no = otn('PH');
    const created = await sdk.call('create', {
      trade_type: 'JSAPI', body: 'Cake', total_fee: 800, notify_url: rx.url, client_ip: '203.0.113.7',
      out_trade_no: no, user_id: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', sign_type: 'HMAC-SHA256',
    });
    assert.ok(created.ok, JSON.stringify(created));
    assertSigned(created.ok, 'HMAC-SHA256');
    assert.ok(created.ok.mweb_url);
    const bad = await wrong.call('create', {
      trade_type: 'NATIVE', body: 'Cake', total_fee: 800, notify_url: rx.url, client_ip: '203.0.113.7', out_trade_no: otn('PW'), product_id: 'c',
    });
    assert.equal(bad.error?.return_code, 'FAIL');
    assert.equal(bad.error?.return_msg, '签名错误');
  } finally {
    await sdk.close();
    await wrong.close();
  }
});

// ---- tenpay (npm) ----

function tenpayClient(merchant) {
  const api = new tenpay({ appid: APPID, mchid: merchant.merchant_id, partnerKey: merchant.api_key, notify_url: rx.url, spbill_create_ip: '203.0.113.7' });
  // The one change a merchant makes: the base URL of the endpoints.
  for (const k of Object.keys(api.urls)) api.urls[k] = api.urls[k].replace('https://api.mch.weixin.qq.com', w.url);
  return api;
}

/** Runs tenpay's own Express notification middleware on a body; what it made of it. */
function tenpayNotify(api, body) {
  return new Promise((resolve) => {
    const req = { body };
    const res = {
      header() {},
      send(x) { resolve({ replied: x }); },
    };
    api.middlewareForExpress('pay')(req, res, () => resolve({ weixin: req.weixin, res }));
  });
}

for (const signType of ['MD5', 'HMAC-SHA256']) {
  test(`tenpay (${signType}): create, pay, notification through its middleware, query, refund, refund query, close`, async () => {
    const api = tenpayClient(m);
    const no = otn('TP');
    // tenpay verifies the signature of every answer with the request's sign_type.
    const order = await api.unifiedOrder({ out_trade_no: no, body: 'Bagel', total_fee: 650, trade_type: 'MWEB', sign_type: signType });
    assert.equal(order.result_code, 'SUCCESS');
    assert.ok(order.mweb_url.startsWith(`${w.url}/pay/`));

    const before = rx.deliveries.length;
    const paid = await pay(w, payToken(order.mweb_url), { method: 'balance', wallet: 'wallet_ok' });
    assert.equal(paid.status, 200, JSON.stringify(paid.json));
    const ds = await rx.waitFor((d) => d.slice(before).some((x) => x.body.includes(no)), 'the v2 payment notification');
    const note = ds.slice(before).find((x) => x.body.includes(no));
    const got = await tenpayNotify(api, note.body);
    assert.ok(got.weixin, `tenpay refused the notification: ${got.replied}`);
    assert.equal(got.weixin.out_trade_no, no);
    assert.equal(got.weixin.total_fee, '650');
    assert.equal(got.weixin.sign_type, signType);
    const forged = await tenpayNotify(api, note.body.replace('<total_fee>650<', '<total_fee>65<'));
    assert.match(forged.replied, /FAIL/);

    const q = await api.orderQuery({ out_trade_no: no, sign_type: signType });
    assert.equal(q.trade_state, 'SUCCESS');
    const r = await api.refund({ out_trade_no: no, out_refund_no: `${no}R`, total_fee: 650, refund_fee: 650, sign_type: signType });
    assert.equal(r.refund_fee, '650');
    const rq = await api.refundQuery({ out_trade_no: no, sign_type: signType });
    assert.equal(rq.refund_count, '1');
    assert.equal(rq.refund_status_0, 'SUCCESS');
    assert.equal((await api.orderQuery({ transaction_id: q.transaction_id, sign_type: signType })).trade_state, 'REFUND');

    const no2 = otn('TP');
    await api.unifiedOrder({ out_trade_no: no2, body: 'Bagel', total_fee: 650, trade_type: 'NATIVE', product_id: 'bagel', sign_type: signType });
    await api.closeOrder({ out_trade_no: no2, sign_type: signType });
    assert.equal((await api.orderQuery({ out_trade_no: no2, sign_type: signType })).trade_state, 'CLOSED');
    await assert.rejects(api.closeOrder({ out_trade_no: no2, sign_type: signType }), /ORDERCLOSED/);
    await assert.rejects(api.refundQuery({ out_refund_no: `${no2}R`, sign_type: signType }), /REFUNDNOTEXIST/);
  });
}

// ---- the protocol's edges, raw ----

test('an orderquery reads its order once and leaves the alarm as it was', async () => {
  // As the JSON API's query does (tests/ledger_cost.test.mjs): the order named is read once, and
  // when nothing on it fell due the object's alarm is left as it was, not read again
  // (edge/src/merchant/v2_dialect.rs, order_queried_by_v2_keys). A merchant of its own, so
  // that nothing else runs on it between the two readings of its meter.
  const own = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 200 } });
  const as = { key: own.api_key };
  const o = nativeOrder({ mch_id: own.merchant_id });
  assert.equal((await signed('/pay/unifiedorder', o, as)).f.result_code, 'SUCCESS');
  const alarm = await alarmAt(w, own);
  assert.ok(alarm > Date.now(), 'the alarm waits for the order');
  const a = await sqlMeter(w, own);
  // Each runs its rate window entry and reads the order; 16 queries run the rate window's prune
  // exactly once (edge/src/domain/limits.rs). v2 requests carry no nonce to remember.
  for (let i = 0; i < 16; i++) {
    const q = await signed('/pay/orderquery', { mch_id: own.merchant_id, out_trade_no: o.out_trade_no }, as);
    assert.equal(q.f.trade_state, 'NOTPAY', q.text);
  }
  const b = await sqlMeter(w, own);
  assert.equal((b.statements - a.statements) / 16, 2 + 1 / 16, 'statements per orderquery');
  assert.equal(await alarmAt(w, own), alarm);
});

test('a bad signature is return_code FAIL and changes nothing', async () => {
  const o = nativeOrder();
  const r = await signed('/pay/unifiedorder', o, { key: 'wrong-key' });
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/xml/);
  assert.deepEqual(r.f, { return_code: 'FAIL', return_msg: '签名错误' });
  const q = await signed('/pay/orderquery', { out_trade_no: o.out_trade_no });
  assert.equal(q.f.err_code, 'ORDERNOTEXIST');
  assertSigned(q.f);
  // HMAC-SHA256 signed with MD5's value, and an unknown sign_type.
  const p = { appid: APPID, mch_id: m.merchant_id, nonce_str: 'n1', sign_type: 'HMAC-SHA256', out_trade_no: o.out_trade_no };
  p.sign = v2sign(p, m.api_key, 'MD5');
  assert.equal((await raw('/pay/orderquery', toXml(p))).f.return_msg, '签名错误');
  const st = await signed('/pay/orderquery', { out_trade_no: o.out_trade_no, sign_type: 'SHA1' });
  assert.equal(st.f.return_msg, 'sign_type参数错误');
  // No sign at all, an unknown merchant, a malformed merchant id.
  assert.equal((await raw('/pay/orderquery', toXml({ appid: APPID, mch_id: m.merchant_id, nonce_str: 'n' }))).f.return_msg, '缺少参数sign');
  assert.equal((await signed('/pay/orderquery', { out_trade_no: 'X1234567', mch_id: 'mch_0000000000000000' })).f.return_msg, '商户号mch_id不存在');
  assert.equal((await signed('/pay/orderquery', { out_trade_no: 'X1234567', mch_id: '1230000109' })).f.return_msg, 'mch_id参数格式错误');
});

test('after a key rotation the previous key works through its grace period, and answers are signed with it', async () => {
  const r = await newMerchant(w, {});
  const old = r.api_key;
  const rotated = await admin(w, 'POST', `/admin/merchants/${r.merchant_id}/rotate-key`, { grace_seconds: 600 });
  assert.equal(rotated.status, 200);
  const fresh = rotated.json.api_key;
  const query = (key) => {
    const p = { appid: APPID, mch_id: r.merchant_id, nonce_str: randomBytes(8).toString('hex'), out_trade_no: 'NO-SUCH-1' };
    p.sign = v2sign(p, key);
    return raw('/pay/orderquery', toXml(p));
  };
  for (const key of [old, fresh]) {
    const q = await query(key);
    assert.equal(q.f.err_code, 'ORDERNOTEXIST');
    assert.equal(q.f.sign, v2sign(q.f, key), 'the answer verifies under the key the request used');
  }
  await admin(w, 'POST', `/admin/merchants/${r.merchant_id}/rotate-key`, { grace_seconds: 0 });
  assert.equal((await query(old)).f.return_msg, '签名错误');
});

test('unknown extra fields are accepted and signed over', async () => {
  const o = nativeOrder({ receipt: 'Y', profit_sharing: 'N', zz_future_field: '未来' });
  const ok = await signed('/pay/unifiedorder', o);
  assert.equal(ok.f.result_code, 'SUCCESS', ok.text);
  // Signing without them (as if a proxy had added them) fails.
  const o2 = nativeOrder();
  const p = { appid: APPID, mch_id: m.merchant_id, nonce_str: 'abc', ...o2 };
  p.sign = v2sign(p, m.api_key);
  const tampered = toXml({ ...p, zz_injected: '1' });
  assert.equal((await raw('/pay/unifiedorder', tampered)).f.return_msg, '签名错误');
});

test('hostile XML is refused before it reaches the ledger', async () => {
  const cases = {
    xxe: `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><appid>&x;</appid></xml>`,
    laughs: `<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><body>&b;</body></xml>`,
    undeclared_entity: `<xml><mch_id>${m.merchant_id}</mch_id><body>&x;</body></xml>`,
    duplicate: `<xml><mch_id>${m.merchant_id}</mch_id><total_fee>1</total_fee><total_fee>100000</total_fee></xml>`,
    nested: `<xml><mch_id>${m.merchant_id}</mch_id><body><b>1</b></body></xml>`,
    deep: `<xml>${'<a>'.repeat(10)}1${'</a>'.repeat(10)}</xml>`,
    not_xml: 'total_fee=1&body=x',
    json: '{"total_fee": 1}',
    wrong_root: `<root><mch_id>${m.merchant_id}</mch_id></root>`,
    huge: `<xml><body>${'x'.repeat(40 * 1024)}</body></xml>`,
    empty: '',
  };
  for (const [name, body] of Object.entries(cases)) {
    const r = await raw('/pay/unifiedorder', body);
    assert.equal(r.status, 200, name);
    assert.equal(r.f.return_code, 'FAIL', `${name}: ${r.text}`);
    assert.ok(r.f.return_msg.startsWith('XML格式错误'), `${name}: ${r.f.return_msg}`);
    assert.equal(r.f.sign, undefined);
  }
  const get = await fetch(`${w.url}/secapi/pay/refund`);
  assert.equal(fromXml(await get.text()).return_msg, '请使用post方法');
});

test('parameter errors: result_code FAIL, PARAM_ERROR, signed, nothing created', async () => {
  const bad = {
    zero: { total_fee: '0' },
    decimal: { total_fee: '12.00' },
    jsapi_without_openid: { trade_type: 'JSAPI' },
    app: { trade_type: 'APP' },
    expire_format: { time_expire: '2026-12-01 00:00:00' },
    expire_past: { time_expire: '20200101000000' },
    notify_plain_http: { notify_url: 'http://10.0.0.1/notify' },
    no_ip: { spbill_create_ip: '' },
    limit_pay_unknown: { limit_pay: 'pcredit' },
  };
  for (const [name, extra] of Object.entries(bad)) {
    const o = nativeOrder(extra);
    const r = await signed('/pay/unifiedorder', o);
    assert.equal(r.f.return_code, 'SUCCESS', name);
    assert.equal(r.f.result_code, 'FAIL', `${name}: ${r.text}`);
    assert.equal(r.f.err_code, 'PARAM_ERROR', name);
    assert.ok(r.f.err_code_des.length > 5, name);
    assertSigned(r.f);
    assert.equal((await signed('/pay/orderquery', { out_trade_no: o.out_trade_no })).f.err_code, 'ORDERNOTEXIST', name);
  }
  // limit_pay=no_credit keeps credit cards off the pay page, and a retry that drops it is
  // another order.
  const debit = nativeOrder({ limit_pay: 'no_credit' });
  assert.equal((await signed('/pay/unifiedorder', debit)).f.result_code, 'SUCCESS');
  assert.deepEqual((await call(w, m, 'GET', `/v1/orders/${debit.out_trade_no}`)).json.limit_pay, ['balance', 'bank_card']);
  const { limit_pay: _, ...credit } = debit;
  assert.equal((await signed('/pay/unifiedorder', credit)).f.err_code, 'OUT_TRADE_NO_USED');
  // A refund whose total_fee is not the order's.
  const o = nativeOrder();
  await signed('/pay/unifiedorder', o);
  const r = await signed('/secapi/pay/refund', { out_trade_no: o.out_trade_no, out_refund_no: `${o.out_trade_no}R`, total_fee: '1', refund_fee: '1' });
  assert.equal(r.f.err_code, 'PARAM_ERROR');
  const unpaid = await signed('/secapi/pay/refund', { out_trade_no: o.out_trade_no, out_refund_no: `${o.out_trade_no}R`, total_fee: '1200', refund_fee: '1' });
  assert.equal(unpaid.f.err_code, 'TRADE_STATE_ERROR');
});

test('rate limits answer FREQUENCY_LIMITED in the dialect', async () => {
  const limited = await newMerchant(w, { rate_limits: { create: 2, query: 1000, refund: 10 } });
  const mk = (no) => {
    const p = { appid: APPID, mch_id: limited.merchant_id, nonce_str: randomBytes(8).toString('hex'), ...nativeOrder({ out_trade_no: no }) };
    p.sign = v2sign(p, limited.api_key);
    return raw('/pay/unifiedorder', toXml(p));
  };
  const codes = [];
  for (let i = 0; i < 3; i++) codes.push((await mk(otn('RL'))).f.err_code ?? 'OK');
  assert.deepEqual(codes, ['OK', 'OK', 'FREQUENCY_LIMITED']);
});

test('a notification the merchant does not acknowledge is delivered again, identically', async () => {
  const nack = await startReceiver({
    answer: (n) => (n === 0
      ? { body: '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[busy]]></return_msg></xml>' }
      : n === 1 ? { body: 'ok', type: 'text/plain' } : { body: ACK }),
  });
  try {
    const o = nativeOrder({ notify_url: nack.url });
    const c = await signed('/pay/unifiedorder', o);
    await pay(w, payToken(c.f.code_url), CARD('4242424242424242'));
    await nack.waitFor((d) => d.length === 1, 'first attempt');
    // Retries follow the notification schedule (15 s, then 15 s, ...) on the merchant's test clock.
    const list = async () => (await call(w, m, 'GET', `/v1/notifications?out_trade_no=${o.out_trade_no}`)).json;
    const id = (await list()).notifications.find((n) => n.type === 'order.paid').id;
    for (let i = 1; i < 3; i++) {
      await waitFor(async () => (await call(w, m, 'GET', `/v1/notifications/${id}`)).json.attempt_log.length === i, `attempt ${i} recorded`);
      await advance(w, m, 40);
      await nack.waitFor((d) => d.length === i + 1, `attempt ${i + 1}`);
    }
    const n = await waitFor(async () => {
      const x = (await call(w, m, 'GET', `/v1/notifications/${id}`)).json;
      return x.status === 'DELIVERED' && x;
    }, 'delivered');
    assert.deepEqual(n.attempt_log.map((a) => a.status_code), [200, 200, 200]);
    assert.match(n.attempt_log[0].response_head, /FAIL/);
    assert.ok(nack.deliveries.every((d) => d.body === nack.deliveries[0].body), 'every retry carries the same body');
    assert.equal(nack.deliveries.length, 3);
  } finally {
    await nack.close();
  }
});

test('a notification retried after a key rotation is the first attempt again, signed with the key it was first sent under', async () => {
  const r = await newMerchant(w, {});
  const nack = await startReceiver({
    answer: (n) => (n === 0
      ? { body: '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[busy]]></return_msg></xml>' }
      : { body: ACK }),
  });
  try {
    const o = nativeOrder({ notify_url: nack.url });
    const c = await signed('/pay/unifiedorder', { mch_id: r.merchant_id, ...o }, { key: r.api_key });
    assert.equal(c.f.result_code, 'SUCCESS', c.text);
    await pay(w, payToken(c.f.code_url), CARD('4242424242424242'));
    await nack.waitFor((d) => d.length === 1, 'first attempt');
    const id = (await call(w, r, 'GET', `/v1/notifications?out_trade_no=${o.out_trade_no}`)).json.notifications[0].id;
    await waitFor(async () => (await call(w, r, 'GET', `/v1/notifications/${id}`)).json.attempt_log.length === 1, 'attempt 1 recorded');
    // The merchant rotates its key; its server still verifies with the previous one (600 s of grace).
    const rotated = await admin(w, 'POST', `/admin/merchants/${r.merchant_id}/rotate-key`, { grace_seconds: 600 });
    assert.equal(rotated.status, 200);
    await advance(w, r, 40);
    await nack.waitFor((d) => d.length === 2, 'the retry');
    const [first, retry] = nack.deliveries.map((d) => d.body);
    assert.equal(retry, first, 'the same bytes');
    const f = fromXml(retry);
    assert.equal(f.sign, v2sign(f, r.api_key), 'signed with the key it was first sent under');
  } finally {
    await nack.close();
  }
});

test('concurrent identical creates make one order; concurrent refunds never exceed the payment', async () => {
  const o = nativeOrder({ total_fee: '1000' });
  const creates = await Promise.all(Array.from({ length: 12 }, () => signed('/pay/unifiedorder', o)));
  assert.ok(creates.every((c) => c.f.result_code === 'SUCCESS'), creates.map((c) => c.text).join('\n'));
  assert.equal(new Set(creates.map((c) => c.f.prepay_id)).size, 1);
  await pay(w, payToken(creates[0].f.code_url), CARD('4242424242424242'));
  // Refunds of one order must be a minute apart: each goes to its own order instead.
  const orders = [];
  for (let i = 0; i < 3; i++) {
    const x = nativeOrder({ total_fee: '1000' });
    const c = await signed('/pay/unifiedorder', x);
    await pay(w, payToken(c.f.code_url), CARD('4242424242424242'));
    orders.push(x.out_trade_no);
  }
  const attempts = await Promise.all(Array.from({ length: 15 }, (_, i) => signed('/secapi/pay/refund', {
    out_trade_no: orders[i % 3], out_refund_no: `RF${i}${randomBytes(4).toString('hex')}`, total_fee: '1000', refund_fee: '700',
  })));
  const ok = attempts.filter((a) => a.f.result_code === 'SUCCESS');
  assert.equal(ok.length, 3, attempts.map((a) => a.f.err_code).join(','));
  assert.ok(attempts.filter((a) => a.f.result_code !== 'SUCCESS').every((a) => ['NOTENOUGH', 'FREQUENCY_LIMITED'].includes(a.f.err_code)), attempts.map((a) => a.f.err_code).join(','));
  for (const no of orders) {
    const rq = await signed('/pay/refundquery', { out_trade_no: no });
    assert.equal(rq.f.refund_count, '1');
    assert.equal(rq.f.refund_fee, '700');
  }
});

async function waitFor(pred, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

// ---- downloadbill: the day's bill through both SDKs ----

test('downloadbill: wechatpy and tenpay read a closed day\'s bill; its errors as the protocol has them', async () => {
  const bm = await newMerchant(w, { release_days: 1 });
  const sdk = startWechatpy(bm);
  const api = tenpayClient(bm);
  try {
    const created = [];
    for (const total of [1200, 3400]) {
      const o = await call(w, bm, 'POST', '/v1/orders', { out_trade_no: otn('B'), amount: { total, currency: 'CNY' }, description: 'Latte, 拿铁' });
      assert.equal((await pay(w, o.json, CARD('4242424242424242'))).json.status, 'SUCCESS');
      assert.equal((await call(w, bm, 'POST', `/v1/orders/${o.json.out_trade_no}/fulfil`)).status, 200);
      created.push(o.json.out_trade_no);
    }
    const r = await call(w, bm, 'POST', '/v1/refunds', { out_trade_no: created[1], out_refund_no: otn('R'), amount: 400 });
    assert.equal(r.status, 201);
    // Not closed yet: the bill is still being made.
    const { business_time: now } = (await call(w, bm, 'GET', '/v1/balance')).json;
    const local = new Date(Date.parse(now) + 8 * 3_600_000);
    const today = local.toISOString().slice(0, 10).replaceAll('-', '');
    await assert.rejects(api.downloadBill({ bill_date: today }), /Bill Creating/);
    const toClose = (86_400_000 - (local.getTime() % 86_400_000)) / 1000 + 60;
    await advance(w, bm, Math.ceil(toClose));
    const [s] = (await call(w, bm, 'GET', '/v1/settlements')).json.settlements;
    assert.equal(s.date.replaceAll('-', ''), today);

    const text = (await sdk.call('download_bill', { bill_date: today })).ok.text;
    const lines = text.trim().split('\r\n');
    assert.equal(lines[0].split(',')[0], '交易时间');
    assert.equal(lines.length, 1 + 3 + 2, text);
    const rows = lines.slice(1, 4).map((l) => l.slice(1).split(',`'));
    assert.deepEqual(rows.map((f) => [f[6], f[9], f[12], f[16], f[20]]), [
      [created[0], 'SUCCESS', '12.00', '0.00', 'Latte, 拿铁'],
      [created[1], 'SUCCESS', '34.00', '0.00', 'Latte, 拿铁'],
      [created[1], 'REFUND', '0.00', '4.00', 'Latte, 拿铁'],
    ]);

    const parsed = await api.downloadBill({ bill_date: today }, true);
    assert.equal(parsed.list_title[0], '交易时间');
    assert.equal(parsed.list_data.length, 3);
    assert.deepEqual(parsed.total_title, ['总交易单数', '应结订单总金额', '退款总金额', '充值券退款总金额', '手续费总金额', '订单总金额', '申请退款总金额']);
    // 46.00 settled less 4.00 refunded less the fees (0.07 + 0.20 − 0.02) is the settlement's net.
    const [count, settled, refunded, , fees] = parsed.total_data;
    assert.deepEqual([count, settled, refunded, fees], ['3', '46.00', '4.00', '0.25000']);
    assert.equal(Math.round((Number(settled) - Number(refunded) - Number(fees)) * 100), s.net);
    const success = await api.downloadBill({ bill_date: today, bill_type: 'SUCCESS' }, true);
    assert.equal(success.list_data.length, 2);

    // A closed day with nothing, a malformed date, an unknown type: the protocol's failures.
    const none = await sdk.call('download_bill', { bill_date: '20260101' });
    assert.deepEqual([none.error?.return_code, none.error?.return_msg], ['FAIL', 'No Bill Exist']);
    await assert.rejects(api.downloadBill({ bill_date: '2026-12-01' }), /invalid bill_date/);
    const bad = await sdk.call('download_bill', { bill_date: today, bill_type: 'PAID' });
    assert.equal(bad.error?.return_msg, 'invalid bill_type');
    const forged = await signed('/pay/downloadbill', { bill_date: today }, { key: 'not-the-key-0123456789abcdef0123' });
    assert.equal(forged.f.return_code, 'FAIL');
  } finally {
    await sdk.close();
  }
});
