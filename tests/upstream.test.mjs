// The first real channel, WeChat Pay v2 upstream, through the real worker (docs/openapi.json:
// /admin/merchants/{id}/channel, /pay/{token}/cashier, /channels/wechat_v2/notify/{id}): a live
// merchant L is paid through the cashier of a second paydesk merchant U acting as the upstream
// (paydesk speaks the dialect). Between them, a recording proxy that can hold or fail an answer
// shows every request L makes: unifiedorder, orderquery before any retry, refund.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes, createHmac } from 'node:crypto';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, createOrder, pay, advance, approveLive, CARD } from './support/api.mjs';
import { checkSchema } from './support/openapi.mjs';

/**
 * Forwards to `target`, recording each path. `hold`: the next request to that path is forwarded
 * but answered late (after L gave up); `fail`: the next N requests answer 502 unforwarded;
 * `pair`: the answer to the next request to that path waits (within L's timeout) until a second
 * request to it arrives, so two sends overlap; `refuse`: the next request to that path is not
 * forwarded but answered with the upstream's signed refusal (`result_code` FAIL, NOTENOUGH);
 * `replies[path]`: the next requests to that path are not forwarded but answered, in turn, with
 * these fields in the upstream's signed envelope.
 */
async function startProxy(target) {
  const p = { paths: [], hold: null, fail: 0, loseNotifications: null, lost: [], pair: null, paired: null, refuse: null, replies: {} };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      p.paths.push(req.url);
      if (req.url === '/lost-notifications') { p.lost.push(Buffer.concat(chunks).toString()); res.end('<xml><return_code>SUCCESS</return_code></xml>'); return; }
      if (p.fail > 0) { p.fail--; res.writeHead(502); res.end('bad gateway'); return; }
      if (p.refuse === req.url) { p.refuse = null; res.writeHead(200, { 'content-type': 'text/xml' }); res.end(refusal()); return; }
      if (p.replies[req.url]?.length) { res.writeHead(200, { 'content-type': 'text/xml' }); res.end(answer(p.replies[req.url].shift())); return; }
      let body = Buffer.concat(chunks).toString();
      if (p.loseNotifications && req.url === '/pay/unifiedorder') body = redirectNotifications(body, p);
      const upstream = await fetch(`${target}${req.url}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
      const text = await upstream.text();
      if (p.pair === req.url) {
        if (p.paired) { p.paired(); p.pair = null; } else await new Promise((r) => { p.paired = r; setTimeout(r, 4_000); });
      }
      if (p.hold === req.url) {
        p.hold = null;
        // The upstream did its work; its answer is lost to L's 5-second timeout.
        await new Promise((r) => setTimeout(r, 6_500));
      }
      res.writeHead(upstream.status, { 'content-type': 'text/xml' });
      res.end(text);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  p.url = `http://127.0.0.1:${server.address().port}`;
  p.close = () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); });
  return p;
}

/** The unifiedorder with its notify_url pointed at the proxy, which swallows what arrives. */
function redirectNotifications(xml, p) {
  const fields = Object.fromEntries([...xml.matchAll(/<(\w+)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g)].map((m) => [m[1], m[2] ?? m[3]]));
  delete fields.xml;
  fields.notify_url = `${p.url}/lost-notifications`;
  return signed(fields, p.loseNotifications);
}

/** The upstream's answer refusing a refund for good, signed as it signs its answers. */
function refusal() {
  const fields = { return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'NOTENOUGH', err_code_des: 'the account cannot refund this amount', appid: 'wxpaydesktest01', mch_id: U.merchant_id, nonce_str: randomBytes(8).toString('hex') };
  return signed(fields, U.api_key);
}

/** An answer of the upstream with `fields`, signed as it signs its answers. */
function answer(fields) {
  return signed({ return_code: 'SUCCESS', result_code: 'SUCCESS', appid: 'wxpaydesktest01', mch_id: U.merchant_id, nonce_str: randomBytes(8).toString('hex'), ...fields }, U.api_key);
}

/** A v2 document signed with `key` (HMAC-SHA256 over the sorted non-empty fields). */
function signed(fields, key) {
  const all = { ...fields };
  delete all.sign;
  const s = Object.keys(all).sort().filter((k) => all[k] !== '').map((k) => `${k}=${all[k]}`).join('&') + `&key=${key}`;
  all.sign = createHmac('sha256', key).update(s).digest('hex').toUpperCase();
  return `<xml>${Object.entries(all).map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</xml>`;
}

let w, proxy, U, L;
before(async () => {
  w = await startWorker();
  proxy = await startProxy(w.url);
  U = await newMerchant(w, { name: 'Upstream Pay' });
  L = await newMerchant(w, { sandbox: false, name: 'Live Shop' });
  await approveLive(w, L);
});
after(async () => { await proxy?.close(); await w?.stop(); });

const CHANNEL = () => ({ type: 'wechat_v2', mch_id: U.merchant_id, appid: 'wxpaydesktest01', key: U.api_key, base_url: proxy.url });
const PHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148';
const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36';
/** The pay button, pressed on a phone (MWEB: sent to the cashier) unless told otherwise. */
const press = (o, ua = PHONE_UA, method = 'POST') => fetch(`${o.checkout_url}/cashier`, { method, redirect: 'manual', headers: { 'Accept-Language': 'en', 'User-Agent': ua } });
const order = async (m, no) => (await call(w, m, 'GET', `/v1/orders/${no}`)).json;
async function until(what, f) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A notification as the upstream writes it, signed with `key` (HMAC-SHA256, v2 rules). */
function notification(fields, key) {
  return signed({ appid: 'wxpaydesktest01', mch_id: U.merchant_id, nonce_str: randomBytes(8).toString('hex'), result_code: 'SUCCESS', return_code: 'SUCCESS', sign_type: 'HMAC-SHA256', ...fields }, key);
}
const notify = (body) => fetch(`${w.url}/channels/wechat_v2/notify/${L.merchant_id}`, { method: 'POST', body }).then((r) => r.text());

test('the_channel_is_configured_checked_and_its_key_shown_masked', async () => {
  const bad = await admin(w, 'PUT', `/admin/merchants/${L.merchant_id}/channel`, { ...CHANNEL(), base_url: 'http://pay.example.com' });
  assert.deepEqual([bad.status, bad.json.code, bad.json.param], [400, 'PARAM_ERROR', 'base_url']);
  assert.equal((await admin(w, 'GET', `/admin/merchants/${L.merchant_id}`)).json.channel, undefined, 'nothing changed');
  const set = await admin(w, 'PUT', `/admin/merchants/${L.merchant_id}/channel`, CHANNEL());
  assert.equal(set.status, 200);
  checkSchema('ChannelSummary', set.json);
  assert.equal(set.json.key, `****${U.api_key.slice(-4)}`);
  assert.doesNotMatch(JSON.stringify((await call(w, L, 'GET', '/v1/audit')).json), new RegExp(U.api_key), 'the key is never in the audit chain');
});

test('a_live_merchant_is_paid_through_the_upstream_cashier_and_refunds_go_back_through_it', async () => {
  const o = await createOrder(w, L, { amount: { total: 2_345, currency: 'CNY' }, description: 'Green tea' });
  const html = await (await fetch(o.checkout_url, { headers: { 'Accept-Language': 'en' } })).text();
  assert.match(html, /data-testid="cashier"/);
  assert.match(html, /¥23\.45/);
  const card = await pay(w, o, CARD('4242424242424242'));
  assert.equal(card.json.code, 'CHANNEL_NOT_CONFIGURED', 'a live merchant never takes a sandbox card');

  proxy.paths = [];
  const first = await press(o);
  assert.equal(first.status, 303);
  const cashier = first.headers.get('location');
  assert.ok(cashier.startsWith(`${w.url}/pay/`), `the upstream's cashier: ${cashier}`);
  assert.deepEqual(proxy.paths, ['/pay/unifiedorder']);
  const atUpstream = await order(U, o.out_trade_no);
  assert.deepEqual([atUpstream.status, atUpstream.amount.total], ['NOTPAY', 2_345]);

  // Pressed again: the upstream is asked first, and the same cashier is opened, nothing new.
  const again = await press(o);
  assert.deepEqual([again.status, again.headers.get('location')], [303, cashier]);
  assert.deepEqual(proxy.paths, ['/pay/unifiedorder', '/pay/orderquery']);

  // The payer pays at the upstream's cashier; its notification makes the order paid here.
  const token = new URL(cashier).pathname.split('/').pop();
  const paid = await fetch(`${w.url}/api/checkout/${token}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CARD('4242424242424242')) });
  assert.equal((await paid.json()).status, 'SUCCESS');
  const here = await until('the order paid at L', async () => { const x = await order(L, o.out_trade_no); return x.status === 'SUCCESS' && x; });
  assert.equal(here.channel, 'wechat_v2');
  const paidAt = here.paid_at;

  // A notification again changes nothing; one not signed with the key is refused.
  const genuine = notification({ out_trade_no: o.out_trade_no, total_fee: '2345', transaction_id: atUpstream.transaction_id }, U.api_key);
  assert.match(await notify(genuine), /<return_code><!\[CDATA\[SUCCESS\]\]><\/return_code>/);
  assert.match(await notify(notification({ out_trade_no: o.out_trade_no, total_fee: '2345' }, 'x'.repeat(32))), /FAIL/);
  assert.equal((await order(L, o.out_trade_no)).paid_at, paidAt, 'paid once');

  // A refund goes to the upstream; it succeeds here once the upstream says the payer has it.
  proxy.paths = [];
  const r = await call(w, L, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: `R${o.out_trade_no}`.slice(0, 32), amount: 345 });
  assert.equal(r.status, 201);
  const done = await until('the refund', async () => { const x = (await call(w, L, 'GET', `/v1/refunds/${r.json.out_refund_no}`)).json; return x.status === 'SUCCESS' && x; });
  assert.equal(done.amount, 345);
  assert.deepEqual(proxy.paths, ['/secapi/pay/refund', '/pay/refundquery'], 'accepted, then asked whether the payer has it');
  assert.equal((await order(U, o.out_trade_no)).refunded_total, 345, 'the upstream refunded it');
  assert.equal((await order(L, o.out_trade_no)).refunded_total, 345);
});

/** An order of L (or of another merchant on the same channel) paid at the upstream's cashier,
 * and known paid there. */
async function paidThroughUpstream(total, m = L) {
  const o = await createOrder(w, m, { amount: { total, currency: 'CNY' } });
  const token = new URL((await press(o)).headers.get('location')).pathname.split('/').pop();
  const paid = await fetch(`${w.url}/api/checkout/${token}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CARD('4242424242424242')) });
  assert.equal((await paid.json()).status, 'SUCCESS');
  await until('the order paid at L', async () => (await order(m, o.out_trade_no)).status === 'SUCCESS');
  return o;
}

test('embedded_the_cashier_opens_in_a_new_window_and_the_framed_page_follows_the_order_until_paid', async () => {
  const shop = 'https://shop.example';
  const E = await newMerchant(w, { sandbox: false, name: 'Embedded Shop', allowed_origins: [shop] });
  await approveLive(w, E);
  assert.equal((await admin(w, 'PUT', `/admin/merchants/${E.merchant_id}/channel`, CHANNEL())).status, 200);
  const o = await paidThroughUpstream(1_500, E);
  const framed = (x) => fetch(`${x.checkout_url}?embed=${encodeURIComponent(shop)}`, { headers: { 'Accept-Language': 'en' } });
  // An order still to pay: the cashier page, framable by the shop, its button a new window.
  const open = await createOrder(w, E, { amount: { total: 800, currency: 'CNY' } });
  const page = await framed(open);
  assert.match(page.headers.get('content-security-policy'), /frame-ancestors https:\/\/shop\.example( |$)/);
  const html = await page.text();
  assert.match(html, /action="\/pay\/[^"]+\/cashier" target="_blank"/);
  assert.match(html, /content="3;url=\/pay\/[^"?]+\?embed=https%3A%2F%2Fshop\.example"/);
  assert.match(html, /opens in a new window/);
  // Not embedded: framed by nobody, the cashier in this window.
  const plain = await fetch(open.checkout_url);
  assert.match(plain.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  assert.doesNotMatch(await plain.text(), /target="_blank"/);
  // Paid: the framed page is the pay page, which tells the shop (its embedding origin kept).
  const done = await (await framed(o)).text();
  const data = JSON.parse(done.match(/type="application\/json">([^<]*)<\/script>/)[1]);
  assert.deepEqual([data.embed_origin, data.view.status], [shop, 'SUCCESS']);
});

test('an_automatic_refund_the_upstream_refuses_keeps_the_money_held_for_the_payer_and_tells_staff', async () => {
  // A sandbox merchant paid through the channel: its test clock can run.
  const S = await newMerchant(w, { name: 'Owing Shop', release_days: 3, auto_refund_hours: 24 });
  assert.equal((await admin(w, 'PUT', `/admin/merchants/${S.merchant_id}/channel`, CHANNEL())).status, 200);
  const o = await paidThroughUpstream(5_000, S);
  const alerts = async () => (await call(w, S, 'GET', '/v1/alerts')).json.alerts.filter((a) => a.type === 'refund.owed');
  const told = async (type) => (await call(w, S, 'GET', `/v1/notifications?out_trade_no=${o.out_trade_no}&type=${type}`)).json.notifications;

  // Not fulfilled within 24 hours: refunded in full by itself, and the upstream refuses it.
  proxy.refuse = '/secapi/pay/refund';
  await advance(w, S, 24 * 3600 + 60);
  const [alert] = await until('the refund.owed alert', async () => { const a = await alerts(); return a.length > 0 && a; });
  assert.equal(proxy.refuse, null, 'the refund went to the upstream');
  assert.match(alert.detail, new RegExp(`${o.out_trade_no}: the refund of 5000 fen its payer is owed did not go through \\(the account cannot refund this amount\\)`));
  assert.equal((await told('refund.failed')).length, 1);
  const owed = await order(S, o.out_trade_no);
  assert.deepEqual([owed.funds, owed.held_until, owed.refunded_total], ['owed', undefined, 0]);

  // The hold runs out and the merchant fulfils it: the payer's money is still not released.
  await advance(w, S, 3 * 24 * 3600);
  const f = await call(w, S, 'POST', `/v1/orders/${o.out_trade_no}/fulfil`);
  assert.deepEqual([f.status, f.json.funds], [200, 'owed']);
  assert.equal((await told('order.released')).length, 0, 'nothing released');

  // Staff refund it again; it goes through, the alert resolves, and nothing is left to release.
  const again = await call(w, S, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: `RO${o.out_trade_no}`.slice(0, 32), amount: 5_000 });
  assert.equal(again.status, 201, again.text);
  await until('the refund', async () => (await call(w, S, 'GET', `/v1/refunds/${again.json.out_refund_no}`)).json.status === 'SUCCESS');
  const back = await order(S, o.out_trade_no);
  assert.deepEqual([back.funds, back.refunded_total], ['released', 5_000]);
  assert.equal((await order(U, o.out_trade_no)).refunded_total, 5_000, 'the payer has it back');
  const [released] = await told('order.released');
  assert.equal(JSON.parse((await call(w, S, 'GET', `/v1/notifications/${released.id}`)).json.body).data.released_amount, 0);
  const [done] = await alerts();
  assert.deepEqual([typeof done.cleared_at, done.resolution], ['string', 'refunded in full']);
  assert.equal((await call(w, S, 'GET', '/v1/audit/verify')).json.intact, true);
});

test('an_accepted_refund_succeeds_here_only_once_the_upstream_says_the_payer_has_it', async () => {
  const S = await newMerchant(w, { name: 'Refunding shop' });
  assert.equal((await admin(w, 'PUT', `/admin/merchants/${S.merchant_id}/channel`, CHANNEL())).status, 200);
  const o = await createOrder(w, S, { amount: { total: 3_000, currency: 'CNY' } });
  const token = new URL((await press(o)).headers.get('location')).pathname.split('/').pop();
  const paid = await fetch(`${w.url}/api/checkout/${token}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CARD('4242424242424242')) });
  assert.equal((await paid.json()).status, 'SUCCESS');
  await until('paid here', async () => (await order(S, o.out_trade_no)).status === 'SUCCESS');
  const refund = async (no, amount) => {
    const r = await call(w, S, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: no, amount });
    assert.equal(r.status, 201, r.text);
    return async () => (await call(w, S, 'GET', `/v1/refunds/${no}`)).json.status;
  };
  const asked = () => proxy.paths.filter((x) => x === '/pay/refundquery').length;

  // Accepted, then still on its way, then closed by the upstream: it never counted here.
  proxy.paths = [];
  proxy.replies['/pay/refundquery'] = [{ refund_status_0: 'PROCESSING' }, { refund_status_0: 'REFUNDCLOSE' }];
  const first = await refund(`RA${o.out_trade_no}`.slice(0, 32), 1_000);
  await until('asked about once', async () => asked() === 1);
  assert.equal(await first(), 'PROCESSING', 'accepted is not yet the payer\'s money back');
  assert.equal((await order(S, o.out_trade_no)).refunded_total, 0);
  await advance(w, S, 60); // the walk asks again (unless the alarm's minute came first)
  assert.equal(await first(), 'CLOSED');
  assert.ok(asked() >= 2);
  assert.equal((await order(S, o.out_trade_no)).refunded_total, 0, 'the money stays paid');
  const failed = (await call(w, S, 'GET', `/v1/notifications?out_trade_no=${o.out_trade_no}&type=refund.failed`)).json.notifications;
  assert.equal(failed.length, 1);

  // Without the fake answers, the upstream itself says the refund reached the payer (a minute
  // on at the upstream, which also paces two refunds of one order).
  await advance(w, U, 60);
  const second = await refund(`RB${o.out_trade_no}`.slice(0, 32), 500);
  await until('the refund', async () => (await second()) === 'SUCCESS');
  assert.equal((await order(S, o.out_trade_no)).refunded_total, 500);
  assert.deepEqual(proxy.paths.slice(-2), ['/secapi/pay/refund', '/pay/refundquery']);
});

test('a_refund_sent_twice_at_once_is_settled_once', async () => {
  const a = await paidThroughUpstream(2_000);
  const b = await paidThroughUpstream(1_000);
  const no = (o) => `R${o.out_trade_no}`.slice(0, 32);
  const refund = (o, amount) => call(w, L, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: no(o), amount });
  proxy.paths = [];
  proxy.paired = null;
  proxy.pair = '/secapi/pay/refund';
  // A's refund is sent; while its answer is on the way, B's request sends every refund due:
  // A's again, then B's. Both answers for A say it was accepted.
  const first = refund(a, 400);
  await until('A sent to the upstream', async () => proxy.paths.includes('/secapi/pay/refund'));
  const second = refund(b, 100);
  assert.deepEqual([(await first).status, (await second).status], [201, 201]);
  // A was sent at least twice and B at least once (the alarm may send what is due again).
  assert.ok(proxy.paths.filter((x) => x === '/secapi/pay/refund').length >= 3, proxy.paths.join(' '));
  await until('both refunds', async () => {
    const all = await Promise.all([a, b].map(async (o) => (await call(w, L, 'GET', `/v1/refunds/${no(o)}`)).json.status));
    return all.every((x) => x === 'SUCCESS');
  });
  assert.equal((await order(U, a.out_trade_no)).refunded_total, 400, 'the upstream took it once');
  assert.equal((await order(L, a.out_trade_no)).refunded_total, 400, 'and it counts once here');
  assert.equal((await order(L, b.out_trade_no)).refunded_total, 100);
  const told = (await call(w, L, 'GET', `/v1/notifications?out_trade_no=${a.out_trade_no}&type=refund.succeeded`)).json.notifications;
  assert.equal(told.length, 1, 'one refund.succeeded');
});

test('a_notification_of_the_wrong_amount_pays_nothing_and_raises_an_alert', async () => {
  const o = await createOrder(w, L, { amount: { total: 5_000, currency: 'CNY' } });
  assert.equal((await press(o)).status, 303);
  const forged = notification({ out_trade_no: o.out_trade_no, total_fee: '1', transaction_id: '4200000000' }, U.api_key);
  assert.match(await notify(forged), /SUCCESS/);
  assert.equal((await order(L, o.out_trade_no)).status, 'NOTPAY');
  const alerts = (await call(w, L, 'GET', '/v1/alerts')).json.alerts.filter((a) => a.type === 'settlement.anomaly');
  assert.equal(alerts.length, 1);
  assert.match(alerts[0].detail, /reports 1 fen paid/);
});

test('a_lost_answer_is_asked_about_before_anything_is_started_again_and_an_upstream_down_charges_nothing', async () => {
  const o = await createOrder(w, L, { amount: { total: 1_200, currency: 'CNY' } });
  proxy.paths = [];
  proxy.fail = 1;
  const down = await press(o);
  assert.equal(down.status, 200);
  assert.match(await down.text(), /not answering[^<]*not be charged twice/);

  // Whether the failed request reached the upstream is unknown: the next press asks first.
  proxy.hold = '/pay/unifiedorder';
  const lost = await press(o);
  assert.equal(lost.status, 200, 'the answer came too late: the page says try again');
  assert.match(await lost.text(), /data-testid="cashier-problem"/);
  assert.equal((await order(U, o.out_trade_no)).status, 'NOTPAY', 'yet the upstream did create it');

  const retry = await press(o);
  assert.equal(retry.status, 303);
  assert.deepEqual(proxy.paths, [
    '/pay/unifiedorder', // 502
    '/pay/orderquery', '/pay/unifiedorder', // not there: created, but the answer was lost
    '/pay/orderquery', '/pay/unifiedorder', // there, unpaid: the same order again, for its cashier
  ]);
  assert.equal(new URL(retry.headers.get('location')).pathname.startsWith('/pay/'), true);
  assert.equal((await order(L, o.out_trade_no)).status, 'NOTPAY', 'nothing paid, nothing charged');
});

test('a_lost_notification_is_made_good_by_asking_before_the_payer_pays_again', async () => {
  const o = await createOrder(w, L, { amount: { total: 3_300, currency: 'CNY' } });
  proxy.loseNotifications = U.api_key;
  const first = await press(o);
  proxy.loseNotifications = null;
  const token = new URL(first.headers.get('location')).pathname.split('/').pop();
  const paid = await fetch(`${w.url}/api/checkout/${token}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CARD('4242424242424242')) });
  assert.equal((await paid.json()).status, 'SUCCESS');
  await until('the upstream to have notified (into the void)', async () => proxy.lost.some((b) => b.includes(o.out_trade_no)));
  assert.equal((await order(L, o.out_trade_no)).status, 'NOTPAY', 'the notification was lost');

  // The payer, back on the page, presses again: the upstream is asked first and says paid.
  proxy.paths = [];
  const again = await press(o);
  assert.deepEqual([again.status, again.headers.get('location')], [303, `/pay/${new URL(o.checkout_url).pathname.split('/').pop()}`]);
  assert.deepEqual(proxy.paths, ['/pay/orderquery']);
  const here = await order(L, o.out_trade_no);
  assert.deepEqual([here.status, here.channel], ['SUCCESS', 'wechat_v2']);
  const entries = (await call(w, L, 'GET', '/v1/audit?kind=order.paysucceeded')).json.entries;
  const mine = entries.filter((e) => e.target === o.out_trade_no);
  assert.deepEqual(mine.map((e) => e.actor), ['channel:orderquery'], 'paid once, on the upstream\'s answer to the query');
  // Pressed once more, it is paid: back to the page, nothing asked.
  const third = await press(o);
  assert.equal(third.status, 303);
  assert.deepEqual(proxy.paths, ['/pay/orderquery']);
});

test('a_desktop_browser_is_shown_a_qr_code_that_asks_again_until_paid', async () => {
  const o = await createOrder(w, L, { amount: { total: 880, currency: 'CNY' } });
  proxy.paths = [];
  const shown = await press(o, DESKTOP_UA);
  assert.equal(shown.status, 200);
  const csp = shown.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  const html = await shown.text();
  assert.match(html, /data-testid="qr"><svg/);
  assert.match(html, new RegExp(`http-equiv="refresh" content="3;url=/pay/${new URL(o.checkout_url).pathname.split('/').pop()}/cashier"`));
  assert.doesNotMatch(html, /<script|style=/, 'nothing the strict policy would block');
  assert.deepEqual(proxy.paths, ['/pay/unifiedorder']);
  const code = html.match(/data-testid="qr-link" href="([^"]+)"|href="([^"]+)" data-testid="qr-link"/);
  const codeUrl = (code[1] ?? code[2]).replaceAll('&amp;', '&');
  assert.equal((await order(U, o.out_trade_no)).status, 'NOTPAY', 'the upstream has it, unpaid');

  // The page asking again: still the QR code, the upstream queried, nothing created again.
  const refresh = await press(o, DESKTOP_UA, 'GET');
  assert.match(await refresh.text(), /data-testid="qr"/);
  assert.deepEqual(proxy.paths, ['/pay/unifiedorder', '/pay/orderquery']);

  // Scanned and paid (here: the code's link, the upstream's pay page); the next ask moves on.
  const token = new URL(codeUrl).pathname.split('/').pop();
  const paid = await fetch(`${w.url}/api/checkout/${token}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CARD('4242424242424242')) });
  assert.equal((await paid.json()).status, 'SUCCESS');
  const moved = await press(o, DESKTOP_UA, 'GET');
  assert.deepEqual([moved.status, moved.headers.get('location')], [303, new URL(o.checkout_url).pathname]);
  assert.equal((await order(L, o.out_trade_no)).status, 'SUCCESS');
});

test('before_a_handed_over_order_expires_the_upstream_is_asked_paid_is_kept_and_unpaid_is_closed_there', async () => {
  // A sandbox merchant may rehearse its channel (here against U) on the test clock.
  const S = await newMerchant(w, { name: 'Rehearsal shop' });
  assert.equal((await admin(w, 'PUT', `/admin/merchants/${S.merchant_id}/channel`, CHANNEL())).status, 200);
  const inTen = new Date(Date.now() + 10 * 60_000).toISOString();
  const willPay = await createOrder(w, S, { amount: { total: 1_500, currency: 'CNY' }, time_expire: inTen });
  const wontPay = await createOrder(w, S, { amount: { total: 1_600, currency: 'CNY' }, time_expire: inTen });
  // A remind order stays open past its deadline (the merchant's grace): open upstream too.
  const reminds = await createOrder(w, S, { amount: { total: 1_700, currency: 'CNY' }, time_expire: inTen, timeout_action: 'remind' });
  const card = await pay(w, willPay, CARD('4242424242424242'));
  assert.equal(card.json.code, 'CHANNEL_NOT_CONFIGURED', 'paid at the cashier, not by card');
  proxy.loseNotifications = U.api_key;
  const handed = await press(willPay);
  assert.equal((await press(wontPay)).status, 303);
  assert.equal((await press(reminds)).status, 303);
  proxy.loseNotifications = null;
  const token = new URL(handed.headers.get('location')).pathname.split('/').pop();
  const paid = await fetch(`${w.url}/api/checkout/${token}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CARD('4242424242424242')) });
  assert.equal((await paid.json()).status, 'SUCCESS');
  await until('the lost notification', async () => proxy.lost.some((b) => b.includes(willPay.out_trade_no)));

  proxy.paths = [];
  await advance(w, S, 11 * 60);
  assert.deepEqual([(await order(S, willPay.out_trade_no)).status, (await order(S, wontPay.out_trade_no)).status], ['SUCCESS', 'CLOSED']);
  assert.equal((await order(U, wontPay.out_trade_no)).status, 'CLOSED', 'closed at the upstream too: nobody pays it there');
  assert.deepEqual([(await order(S, reminds.out_trade_no)).status, (await order(U, reminds.out_trade_no)).status], ['NOTPAY', 'NOTPAY'], 'reminded, and payable at both');
  assert.deepEqual([...proxy.paths].sort(), ['/pay/closeorder', '/pay/orderquery', '/pay/orderquery']);
});

test('an_order_the_merchant_closes_after_handing_it_over_is_closed_at_the_upstream_too', async () => {
  const S = await newMerchant(w, { name: 'Closing shop' });
  assert.equal((await admin(w, 'PUT', `/admin/merchants/${S.merchant_id}/channel`, CHANNEL())).status, 200);
  const o = await createOrder(w, S, { amount: { total: 1_800, currency: 'CNY' } });
  assert.equal((await press(o)).status, 303);
  assert.equal((await order(U, o.out_trade_no)).status, 'NOTPAY');
  await advance(w, S, 6 * 60); // past the close grace of an order a payer opened
  proxy.paths = [];
  assert.equal((await call(w, S, 'POST', `/v1/orders/${o.out_trade_no}/close`)).status, 204);
  assert.equal((await order(S, o.out_trade_no)).status, 'CLOSED');
  await until('the upstream closed it', async () => (await order(U, o.out_trade_no)).status === 'CLOSED');
  assert.deepEqual([...proxy.paths].sort(), ['/pay/closeorder', '/pay/orderquery'], 'asked, then closed there');
  // Settled: the next clock walk asks nothing more about it.
  proxy.paths = [];
  await advance(w, S, 60);
  assert.deepEqual(proxy.paths, []);
});

test('an_order_handed_over_closes_here_only_once_the_upstream_says_so_paid_there_is_paid_here_and_no_answer_changes_nothing', async () => {
  const S = await newMerchant(w, { name: 'Careful shop' });
  assert.equal((await admin(w, 'PUT', `/admin/merchants/${S.merchant_id}/channel`, CHANNEL())).status, 200);
  const payAtUpstream = async (handed) => {
    const token = new URL(handed.headers.get('location')).pathname.split('/').pop();
    const paid = await fetch(`${w.url}/api/checkout/${token}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CARD('4242424242424242')) });
    assert.equal((await paid.json()).status, 'SUCCESS');
  };
  // The merchant's clock, walked ahead of the real one.
  let walked = 0;
  const walk = (seconds) => { walked += seconds; return advance(w, S, seconds); };
  const inTen = () => new Date(Date.now() + walked * 1000 + 10 * 60_000).toISOString();

  // Paid there, its notification lost: the merchant's close finds the payment and answers so.
  const paidThere = await createOrder(w, S, { amount: { total: 1_900, currency: 'CNY' } });
  proxy.loseNotifications = U.api_key;
  const handed = await press(paidThere);
  proxy.loseNotifications = null;
  await payAtUpstream(handed);
  await until('the lost notification', async () => proxy.lost.some((b) => b.includes(paidThere.out_trade_no)));
  await walk(6 * 60); // past the close grace of an order a payer opened
  const late = await call(w, S, 'POST', `/v1/orders/${paidThere.out_trade_no}/close`);
  assert.equal(late.json?.code, 'ORDER_PAID', late.text);
  assert.equal((await order(S, paidThere.out_trade_no)).status, 'SUCCESS', 'paid here, not closed over the payer\'s money');

  // The upstream not answering: the close is refused and nothing changes, here or there.
  const unsure = await createOrder(w, S, { amount: { total: 2_000, currency: 'CNY' } });
  assert.equal((await press(unsure)).status, 303);
  // Too new to close (a payer opened it within 5 minutes): refused before the upstream is asked.
  proxy.paths = [];
  const early = await call(w, S, 'POST', `/v1/orders/${unsure.out_trade_no}/close`);
  assert.deepEqual([early.status, early.json?.code], [409, 'ORDER_TOO_NEW'], early.text);
  assert.deepEqual(proxy.paths, [], 'nothing asked of the upstream');
  assert.equal((await order(U, unsure.out_trade_no)).status, 'NOTPAY', 'still payable there');
  // The test clock, refused for a live merchant, asks nothing of its upstream either.
  assert.equal((await admin(w, 'POST', `/admin/merchants/${L.merchant_id}/clock/advance`, { seconds: 40 * 86_400 })).status, 403);
  assert.equal((await admin(w, 'POST', `/admin/merchants/${S.merchant_id}/clock/advance`, { seconds: 500 * 86_400 })).status, 400);
  assert.deepEqual(proxy.paths, []);
  await walk(6 * 60);
  proxy.fail = 2; // orderquery, closeorder
  const refused = await call(w, S, 'POST', `/v1/orders/${unsure.out_trade_no}/close`);
  assert.deepEqual([refused.status, refused.json?.code], [500, 'SYSTEM_ERROR'], refused.text);
  assert.equal(proxy.fail, 0);
  assert.deepEqual([(await order(S, unsure.out_trade_no)).status, (await order(U, unsure.out_trade_no)).status], ['NOTPAY', 'NOTPAY']);
  assert.equal((await call(w, S, 'POST', `/v1/orders/${unsure.out_trade_no}/close`)).status, 204, 'asked again, it closes');
  assert.deepEqual([(await order(S, unsure.out_trade_no)).status, (await order(U, unsure.out_trade_no)).status], ['CLOSED', 'CLOSED']);

  // Its deadline passing while the upstream does not answer: open here as it is there, so a
  // payment made there is paid here.
  const stillOpen = await createOrder(w, S, { amount: { total: 2_100, currency: 'CNY' }, time_expire: inTen() });
  const open = await press(stillOpen);
  proxy.fail = 1_000; // the walk's ask, and the alarm's that follows it, go unanswered
  await walk(11 * 60);
  assert.equal((await order(S, stillOpen.out_trade_no)).status, 'NOTPAY', 'not closed over an unconfirmed close');
  proxy.fail = 0;
  await payAtUpstream(open);
  await until('paid here', async () => (await order(S, stillOpen.out_trade_no)).status === 'SUCCESS');

  // And once the upstream answers again (the next walk; the alarm a minute later), it closes at both.
  const closesLater = await createOrder(w, S, { amount: { total: 2_200, currency: 'CNY' }, time_expire: inTen() });
  assert.equal((await press(closesLater)).status, 303);
  proxy.fail = 1_000;
  await walk(11 * 60);
  assert.equal((await order(S, closesLater.out_trade_no)).status, 'NOTPAY');
  proxy.fail = 0;
  await walk(60);
  assert.deepEqual([(await order(S, closesLater.out_trade_no)).status, (await order(U, closesLater.out_trade_no)).status], ['CLOSED', 'CLOSED']);
});

test('orders_handed_to_the_upstream_and_not_yet_paid_count_against_the_daily_limit', async () => {
  // The upstream takes a payment without asking: what was handed off counts until it settles,
  // or two orders handed off together could both be paid past the limit.
  const m = await newMerchant(w, { name: 'Capped shop', daily_limit: 5_000 });
  assert.equal((await admin(w, 'PUT', `/admin/merchants/${m.merchant_id}/channel`, CHANNEL())).status, 200);
  const [a, b, c] = [await createOrder(w, m, { amount: { total: 3_000, currency: 'CNY' } }),
    await createOrder(w, m, { amount: { total: 3_000, currency: 'CNY' } }),
    await createOrder(w, m, { amount: { total: 2_000, currency: 'CNY' } })];
  const handed = await press(a);
  assert.equal(handed.status, 303);
  proxy.paths = [];
  const over = await press(b);
  assert.equal(over.status, 200);
  assert.match(await over.text(), /cannot be paid with WeChat Pay now/);
  assert.deepEqual(proxy.paths, [], 'the upstream never saw it');
  const token = new URL(handed.headers.get('location')).pathname.split('/').pop();
  const paid = await fetch(`${w.url}/api/checkout/${token}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CARD('4242424242424242')) });
  assert.equal((await paid.json()).status, 'SUCCESS');
  await until('the order paid', async () => (await order(m, a.out_trade_no)).status === 'SUCCESS');
  assert.equal((await press(b)).status, 200, 'paid, it counts as paid: still over the limit');
  assert.equal((await press(c)).status, 303, 'what fits beside it is handed off');
});

test('the_risk_rules_judge_the_first_hand_off_a_block_never_reaches_the_upstream_and_a_review_holds_the_payment', async () => {
  const withRule = async (name, action) => {
    const m = await newMerchant(w, { name, risk: { payer: { max_per_minute: 1, action } } });
    assert.equal((await admin(w, 'PUT', `/admin/merchants/${m.merchant_id}/channel`, CHANNEL())).status, 200);
    const first = await createOrder(w, m, { payer_ref: 'payer-x' });
    const second = await createOrder(w, m, { payer_ref: 'payer-x' });
    assert.equal((await press(first)).status, 303);
    return { m, second };
  };
  const blocking = await withRule('Blocking shop', 'block');
  proxy.paths = [];
  const blocked = await press(blocking.second);
  assert.equal(blocked.status, 200);
  assert.match(await blocked.text(), /cannot be paid with WeChat Pay now/);
  assert.deepEqual(proxy.paths, [], 'the upstream never saw it');
  assert.equal((await order(blocking.m, blocking.second.out_trade_no)).status, 'PAYERROR');
  const [entry] = (await call(w, blocking.m, 'GET', '/v1/audit?kind=order.block')).json.entries;
  assert.equal(entry.actor, 'system:risk.payer_velocity');

  const reviewing = await withRule('Reviewing shop', 'review');
  const handed = await press(reviewing.second);
  assert.equal(handed.status, 303, 'a review does not stop the hand-off');
  const token = new URL(handed.headers.get('location')).pathname.split('/').pop();
  await fetch(`${w.url}/api/checkout/${token}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CARD('4242424242424242')) });
  const paid = await until('the reviewed payment', async () => { const x = await order(reviewing.m, reviewing.second.out_trade_no); return x.status === 'SUCCESS' && x; });
  assert.equal(paid.review, 'pending', 'paid into the review queue: its money held');
  const reviews = (await call(w, reviewing.m, 'GET', '/v1/reviews')).json.reviews;
  assert.deepEqual(reviews.map((r) => [r.out_trade_no, r.rule]), [[reviewing.second.out_trade_no, 'payer_velocity']]);
});
