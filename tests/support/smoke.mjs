// The black-box smoke layer: what every way of running paydesk must do, whatever runs it.
// tests/smoke.test.mjs runs it against `wrangler dev`, tests/selfhost.test.mjs against
// `cargo xtask serve` (workerd in production mode). Each test goes through the public surfaces
// only: a merchant created with the admin token, an order made through the signed JSON API and
// through the WeChat Pay v2 dialect, paid through the checkout API and through the pay page's
// form with no JavaScript, the pay page's live socket hearing the payment, and the signed
// notification the merchant's server receives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { call, newMerchant, createOrder, pay, CARD } from './api.mjs';
import { verifyPaydesk } from '../../docs/recipes/verify_webhook.mjs';

const APPID = 'wx2421b1c4370ec43b';

function v2sign(params, key) {
  const s = Object.keys(params).filter((k) => k !== 'sign' && params[k] !== '')
    .sort().map((k) => `${k}=${params[k]}`).join('&') + `&key=${key}`;
  return createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();
}

function fromXml(xml) {
  const out = {};
  for (const [, k, cdata, text] of xml.matchAll(/<(\w+)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g)) out[k] = cdata ?? text;
  return out;
}

/**
 * The smoke tests, registered with node:test. `ctx` is filled in by the caller's `before`:
 * `w` (the running server), `rx` (tests/support/receiver.mjs, where the merchant's
 * notifications arrive) and `notifyUrl` (the URL the merchant gives, which reaches `rx`).
 */
export function smokeTests(ctx) {
  let m;
  const merchant = async () => (m ??= await newMerchant(ctx.w, { notify_url: ctx.notifyUrl }));

  test('smoke_create_pay_and_the_signed_notification_arrives', async () => {
    const mm = await merchant();
    const order = await createOrder(ctx.w, mm, { notify_url: ctx.notifyUrl });
    assert.equal(order.status, 'NOTPAY');
    const paid = await pay(ctx.w, order, CARD('4242424242424242'));
    assert.equal(paid.status, 200, JSON.stringify(paid.json));
    assert.equal((await call(ctx.w, mm, 'GET', `/v1/orders/${order.out_trade_no}`)).json.status, 'SUCCESS');
    const [d] = await ctx.rx.waitFor(
      (ds) => ds.some((x) => x.event?.data?.out_trade_no === order.out_trade_no && x.event?.type === 'order.paid'),
      `order.paid for ${order.out_trade_no}`,
    ).then((ds) => ds.filter((x) => x.event?.data?.out_trade_no === order.out_trade_no));
    const event = verifyPaydesk(mm.webhook_secret, d.headers['paydesk-signature'], d.body);
    assert.equal(event.type, 'order.paid');
    assert.equal(event.data.amount.total, 1000);
  });

  test('smoke_the_pay_pages_live_socket_hears_the_payment', async () => {
    const mm = await merchant();
    const order = await createOrder(ctx.w, mm, { notify_url: ctx.notifyUrl });
    const token = new URL(order.checkout_url).pathname.split('/').pop();
    const ws = new WebSocket(`${ctx.w.url.replace(/^http/, 'ws')}/api/checkout/${token}/live`);
    const heard = [];
    const paidHeard = new Promise((resolve, reject) => {
      ws.addEventListener('message', (e) => { heard.push(String(e.data)); if (/SUCCESS/.test(e.data)) resolve(); });
      ws.addEventListener('error', () => reject(new Error('the live socket failed')));
    });
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve, { once: true });
      ws.addEventListener('error', () => reject(new Error('the live socket did not open')), { once: true });
    });
    assert.equal((await pay(ctx.w, order, CARD('4242424242424242'))).status, 200);
    await paidHeard;
    ws.close();
    assert.deepEqual(JSON.parse(heard.find((h) => /SUCCESS/.test(h))), { status: 'SUCCESS' });
  });

  test('smoke_v2_unifiedorder_answers_a_signed_pay_link', async () => {
    const mm = await merchant();
    const p = {
      appid: APPID, mch_id: mm.merchant_id, nonce_str: randomBytes(8).toString('hex'),
      body: 'Oolong 乌龙茶', out_trade_no: `V${Date.now()}${randomBytes(3).toString('hex')}`, total_fee: '880',
      spbill_create_ip: '203.0.113.7', notify_url: ctx.notifyUrl, trade_type: 'NATIVE', product_id: 'oolong',
    };
    p.sign = v2sign(p, mm.api_key);
    const body = '<xml>' + Object.entries(p).map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`).join('') + '</xml>';
    const r = await fetch(`${ctx.w.url}/pay/unifiedorder`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
    assert.equal(r.status, 200);
    const f = fromXml(await r.text());
    assert.equal(f.return_code, 'SUCCESS', JSON.stringify(f));
    assert.equal(f.result_code, 'SUCCESS', JSON.stringify(f));
    assert.equal(f.sign, v2sign(f, mm.api_key), 'the answer is signed with the merchant key');
    const page = await fetch(f.code_url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /乌龙茶|Oolong/);
  });

  test('smoke_the_pay_page_pays_with_javascript_off', async () => {
    const mm = await merchant();
    const order = await createOrder(ctx.w, mm, { notify_url: ctx.notifyUrl });
    const page = await fetch(order.checkout_url);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<form id="pd-form" method="post"/);
    const key = html.match(/name="submission_key" value="([0-9a-f]+)"|value="([0-9a-f]+)" type="hidden" name="submission_key"/);
    assert.ok(key, 'the form carries a one-time key');
    const form = new URLSearchParams({
      submission_key: key[1] ?? key[2], method: 'credit_card',
      card_number: '4242 4242 4242 4242', card_exp: '12/35', card_cvc: '123',
    });
    const r = await fetch(order.checkout_url, {
      method: 'POST', body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ctx.w.url },
    });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /data-testid="success"/);
    assert.equal((await call(ctx.w, mm, 'GET', `/v1/orders/${order.out_trade_no}`)).json.status, 'SUCCESS');
  });

  test('smoke_health_says_storage_answers_and_the_pay_page_files_are_served', async () => {
    const h = await (await fetch(`${ctx.w.url}/api/health`)).json();
    assert.deepEqual([h.status, h.storage?.status], ['ok', 'ok']);
    for (const [path, type] of [['/pay.css', /^text\/css/], ['/embed.js', /javascript/], ['/', /^text\/html/]]) {
      const r = await fetch(ctx.w.url + path);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type'), type, path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${path}: www/_headers applies`);
      await r.arrayBuffer();
    }
  });
}
