// The script-tag embed on the demo shop: open, pay, the host page hears `paid` exactly once;
// messages from anywhere but the pay page's own frame are ignored; the loader stays small.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { startWorker, ARTIFACTS, ROOT } from './support/worker.mjs';
import { launch, withWasmHeld, PHONE, DESKTOP } from './support/browser.mjs';
import { newMerchant, createOrder, pay, CARD } from './support/api.mjs';

let w;
let browser;
before(async () => {
  w = await startWorker();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await w?.stop();
});

for (const [label, device] of [['phone', PHONE], ['desktop', DESKTOP]]) {
  test(`buy_on_the_demo_shop_and_hear_paid_once_on_${label}`, async () => {
    const ctx = await browser.newContext({ ...device, locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${w.url}/shop/`);
    await page.waitForFunction(() => !!window.Paydesk);
    await page.locator('#buy').click();
    const frame = page.frameLocator('[data-paydesk-overlay] iframe');
    await frame.locator('[data-paydesk-ready]').waitFor({ state: 'attached' });
    // Full screen on a phone, a centred dialog on a wide screen, over a dimmed page.
    const box = await page.locator('[data-paydesk-overlay] iframe').boundingBox();
    const vp = device.viewport;
    if (label === 'phone') {
      assert.deepEqual([box.x, box.y, box.width, box.height], [0, 48, vp.width, vp.height - 48]);
    } else {
      assert.equal(box.width, 420);
      assert.ok(Math.abs(box.x + box.width / 2 - vp.width / 2) <= 1, `centred: ${JSON.stringify(box)}`);
    }
    const dim = await page.locator('[data-paydesk-overlay]').evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(dim, 'rgba(0, 0, 0, 0.45)');
    await frame.locator('#pd-method-credit_card').check();
    await frame.locator('#pd-card-number').fill('4242424242424242');
    await frame.locator('#pd-card-exp').fill('1235');
    await frame.locator('#pd-card-cvc').fill('123');
    await frame.locator('[data-testid=pay]').click();
    await frame.locator('[data-testid=success]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, `embed-success-${label}.png`) });
    // The overlay closes by itself after showing success, and the promise resolves.
    await page.waitForFunction(() => window.shopOutcome && window.shopOutcome.status === 'paid');
    assert.equal(await page.locator('[data-paydesk-overlay]').count(), 0);
    const events = await page.evaluate(() => window.shopEvents);
    assert.equal(events.filter((e) => e.type === 'paid').length, 1, JSON.stringify(events));
    assert.match(await page.locator('#result').textContent(), /Paid/);
    await page.screenshot({ path: join(ARTIFACTS, `embed-shop-after-${label}.png`) });
    await ctx.close();
  });
}

test('paid_through_the_form_before_the_wasm_arrives_the_host_still_hears_paid', async () => {
  // The payer presses the server-rendered pay button while the wasm is still on its way: the
  // form posts, and the answer page, once its script runs, must still know whom to tell.
  const { ctx, page, release } = await withWasmHeld(browser);
  await page.goto(`${w.url}/shop/`);
  await page.waitForFunction(() => !!window.Paydesk);
  await page.locator('#buy').click();
  const frame = page.frameLocator('[data-paydesk-overlay] iframe');
  await frame.locator('#pd-method-balance').check();
  await frame.locator('[data-testid=pay]').click();
  await frame.locator('[data-testid=success]').waitFor();
  release();
  await page.waitForFunction(() => window.shopOutcome && window.shopOutcome.status === 'paid');
  const events = await page.evaluate(() => window.shopEvents);
  assert.equal(events.filter((e) => e.type === 'paid').length, 1, JSON.stringify(events));
  await ctx.close();
});

test('the_overlay_is_a_modal_dialog_for_the_keyboard', async () => {
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await ctx.newPage();
  await page.goto(`${w.url}/shop/`);
  await page.waitForFunction(() => !!window.Paydesk);
  await page.locator('#buy').focus();
  await page.keyboard.press('Enter');
  const overlay = page.locator('[data-paydesk-overlay]');
  await overlay.waitFor();
  assert.deepEqual(await overlay.evaluate((el) => [el.getAttribute('role'), el.getAttribute('aria-modal'), el.getAttribute('aria-label')]), ['dialog', 'true', 'Checkout']);
  await page.waitForFunction(() => document.activeElement.tagName === 'IFRAME');
  // Focus sent to the page behind comes back into the dialog.
  await page.evaluate(() => document.querySelector('#buy').focus());
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Close');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => window.shopOutcome && window.shopOutcome.status === 'closed');
  assert.equal(await overlay.count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'buy', 'focus returns to what opened it');
  await ctx.close();
});

test('closing_the_overlay_tells_the_host_closed', async () => {
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await ctx.newPage();
  await page.goto(`${w.url}/shop/`);
  await page.waitForFunction(() => !!window.Paydesk);
  await page.locator('#buy').click();
  await page.locator('[data-paydesk-overlay] button[aria-label=Close]').click();
  await page.waitForFunction(() => window.shopOutcome && window.shopOutcome.status === 'closed');
  const events = await page.evaluate(() => window.shopEvents);
  assert.deepEqual(events.map((e) => e.type), ['closed']);
  await ctx.close();
});

/** A tiny web server on loopback (another origin: another port) serving one page. */
async function site(body) {
  const srv = createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(body); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) };
}

test('a_merchant_site_on_another_origin_embeds_and_forged_messages_are_ignored', async () => {
  // The merchant's site is another origin, allowed by the merchant's settings; a third origin
  // tries to forge a `paid` message, and so does the host page itself.
  const evil = await site("<script>parent.postMessage({ type: 'paydesk:paid', out_trade_no: 'FORGED' }, '*')</script>");
  const merchantSite = await site(`<!doctype html><title>Merchant</title><script src="${w.url}/embed.js"></script>
      <script>window.ev = []; ['paid', 'failed', 'closed'].forEach((t) =>
        document.addEventListener('paydesk:' + t, (e) => window.ev.push([t, e.detail.out_trade_no])));</script>`);
  const host = merchantSite.url;
  const mm = await newMerchant(w, { allowed_origins: [host] });
  const order = await createOrder(w, mm);
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  await page.goto(`${host}/merchant-site.html`);
  await page.waitForFunction(() => !!window.Paydesk);
  await page.evaluate((url) => { window.outcome = window.Paydesk.open(url); }, order.checkout_url);
  const frame = page.frameLocator('[data-paydesk-overlay] iframe');
  await frame.locator('[data-paydesk-ready]').waitFor({ state: 'attached' });
  await page.evaluate((src) => new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.src = src;
    f.onload = resolve;
    document.body.appendChild(f);
  }), `${evil.url}/evil.html`);
  await page.evaluate(() => window.postMessage({ type: 'paydesk:paid', out_trade_no: 'FORGED2' }, '*'));
  // A message round trip later, nothing was heard and the checkout is still open.
  await page.evaluate(() => new Promise((r) => { window.addEventListener('message', () => r(), { once: true }); window.postMessage('ping', '*'); }));
  assert.deepEqual(await page.evaluate(() => window.ev), []);
  assert.equal(await page.locator('[data-paydesk-overlay]').count(), 1);
  // The real payment is heard, once, with the real order number.
  await frame.locator('#pd-method-balance').check();
  await frame.locator('[data-testid=pay]').click();
  await frame.locator('[data-testid=success]').waitFor();
  const outcome = await page.evaluate(() => window.outcome);
  assert.deepEqual(outcome, { status: 'paid', out_trade_no: order.out_trade_no, in_review: false });
  assert.deepEqual(await page.evaluate(() => window.ev), [['paid', order.out_trade_no]]);
  await ctx.close();
  await evil.close();
  await merchantSite.close();
});

test('a_payment_held_in_risk_review_is_heard_as_such_and_the_overlay_stays_to_say_why', async () => {
  // The merchant must not ship yet, and the payer must read that the money is held: the host
  // hears `paid` with `in_review`, and the overlay does not close by itself.
  const merchantSite = await site(`<!doctype html><title>Merchant</title><script src="${w.url}/embed.js"></script>
      <script>window.ev = []; document.addEventListener('paydesk:paid', (e) => window.ev.push(e.detail));</script>`);
  const host = merchantSite.url;
  const mm = await newMerchant(w, { allowed_origins: [host], risk: { payer: { max_per_minute: 1, action: 'review' } } });
  const first = await createOrder(w, mm, { payer_ref: 'payer-x' });
  assert.equal((await pay(w, first, CARD('4242424242424242'))).json.status, 'SUCCESS');
  const order = await createOrder(w, mm, { payer_ref: 'payer-x' });
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  await page.clock.install();
  await page.goto(`${host}/merchant-site.html`);
  await page.waitForFunction(() => !!window.Paydesk);
  await page.evaluate((url) => { window.outcome = window.Paydesk.open(url); }, order.checkout_url);
  const frame = page.frameLocator('[data-paydesk-overlay] iframe');
  await frame.locator('[data-paydesk-ready]').waitFor({ state: 'attached' });
  await frame.locator('#pd-method-balance').check();
  await frame.locator('[data-testid=pay]').click();
  await frame.locator('[data-testid=in-review]').waitFor();
  await page.waitForFunction(() => window.ev.length === 1);
  assert.deepEqual(await page.evaluate(() => window.ev), [{ out_trade_no: order.out_trade_no, in_review: true }]);
  // Well past the 1.5 s a plain payment's overlay stays: still open, the notice on screen.
  await page.clock.fastForward(5_000);
  assert.equal(await page.locator('[data-paydesk-overlay]').count(), 1);
  await page.locator('[data-paydesk-overlay] button').click();
  assert.deepEqual(await page.evaluate(() => window.outcome), { status: 'paid', out_trade_no: order.out_trade_no, in_review: true });
  await ctx.close();
  await merchantSite.close();
});

test('the_pay_page_may_only_be_framed_by_allowed_origins', async () => {
  const r = await fetch(`${w.url}/dev/demo-order`, { method: 'POST', body: '{}' });
  const order = await r.json();
  const page = await fetch(order.checkout_url);
  const csp = page.headers.get('content-security-policy');
  assert.match(csp, /frame-ancestors [^;]*http:\/\/127\.0\.0\.1:\d+/);
  assert.doesNotMatch(csp, /frame-ancestors[^;]*\*/);
  assert.match(csp, /script-src 'self' 'nonce-[0-9a-f]+'/);
  const api = await fetch(`${w.url}/api/checkout/${new URL(order.checkout_url).pathname.split('/').pop()}`);
  assert.equal(api.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
  const notFound = await fetch(`${w.url}/pay/forged.token`);
  assert.match(notFound.headers.get('content-security-policy'), /frame-ancestors 'none'/);
});

test('an_allowed_origin_written_in_capitals_or_with_its_default_port_still_hears_the_checkout', async () => {
  // Browsers report `https://shop.example.com`; the merchant wrote it otherwise. The page must
  // still take the embedding origin as its own, or it would never tell the host anything.
  const mm = await newMerchant(w, { allowed_origins: ['https://Shop.Example.com:443'] });
  const order = await createOrder(w, mm);
  const data = async (origin) => {
    const html = await (await fetch(`${order.checkout_url}?embed=${encodeURIComponent(origin)}`)).text();
    return JSON.parse(html.match(/type="application\/json">([^<]*)<\/script>/)[1]);
  };
  assert.equal((await data('https://shop.example.com')).embed_origin, 'https://shop.example.com');
  assert.equal((await data('https://evil.example.com')).embed_origin ?? null, null);
  assert.equal((await data('https://shop.example.com:8443')).embed_origin ?? null, null);
});

test('the_loader_is_small', () => {
  const gz = gzipSync(readFileSync(join(ROOT, 'www/embed.js')), { level: 9 }).length;
  console.log(`embed.js gzip bytes: ${gz}`);
  assert.ok(gz <= 4096, `embed.js is ${gz} B gzip, budget 4096`);
});
