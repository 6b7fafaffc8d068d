// The pay page rendered by the worker (issue 7): it works with JavaScript off (a real HTML form
// the worker processes), keeps what the payer did before the wasm arrived, hydrates to the same
// markup it was served with, in both languages, and its assets are hashed, cached immutably and
// compressed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWorker, ARTIFACTS } from './support/worker.mjs';
import { launch, outlastTheStarter, withWasmHeld, PHONE } from './support/browser.mjs';
import { call, newMerchant, createOrder } from './support/api.mjs';

let w;
let browser;
let m;
before(async () => {
  w = await startWorker();
  browser = await launch();
  m = await newMerchant(w, { branding: { display_name: 'Tea House 茶馆', theme_color: '#0a7d5a' } });
});
after(async () => {
  await browser?.close();
  await w?.stop();
});

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const status = async (otn) => (await call(w, m, 'GET', `/v1/orders/${otn}`)).json;

async function noScript(locale = 'en-US') {
  const ctx = await browser.newContext({ ...PHONE, locale, javaScriptEnabled: false });
  const page = await ctx.newPage();
  return { ctx, page };
}

async function fillCard(page, number) {
  await page.locator('#pd-method-credit_card').check();
  await page.locator('#pd-card-number').fill(number);
  await page.locator('#pd-card-exp').fill('12/35');
  await page.locator('#pd-card-cvc').fill('123');
}

test('without_javascript_pay_by_card_and_see_success', async () => {
  const order = await createOrder(w, m, { amount: { total: 1234, currency: 'CNY' } });
  const { ctx, page } = await noScript();
  await page.goto(order.checkout_url);
  assert.equal(await page.locator('.pd-amount').textContent(), '¥12.34');
  assert.match(await page.locator('[data-testid=countdown]').textContent(), /^2[34]:\d\d:\d\d$/);
  // Only the fields the chosen method needs are shown, by the stylesheet alone.
  assert.equal(await page.locator('#pd-card-number').isVisible(), false, 'wallet first: card fields hidden');
  await fillCard(page, '4242 4242 4242 4242');
  assert.equal(await page.locator('#pd-card-number').isVisible(), true);
  await page.locator('[data-testid=pay]').click();
  await page.locator('[data-testid=success]').waitFor();
  await shot(page, 'nojs-success');
  assert.equal((await status(order.out_trade_no)).status, 'SUCCESS');
  await ctx.close();
});

test('without_javascript_declined_then_retry_prompt_then_wallet_success', async () => {
  const order = await createOrder(w, m);
  const { ctx, page } = await noScript();
  await page.goto(order.checkout_url);
  await fillCard(page, '4000 0000 0000 0002');
  await page.locator('[data-testid=pay]').click();
  const prompt = page.locator('[data-testid=retry-prompt]');
  await prompt.waitFor();
  assert.equal(await prompt.getAttribute('data-code'), 'CARD_DECLINED');
  assert.match(await prompt.textContent(), /declined this card.*not been charged/s);
  assert.ok(await page.locator('#pd-method-credit_card').isChecked(), 'the entered method is kept');
  assert.equal(await page.locator('#pd-card-number').inputValue(), '', 'card data is never echoed back');
  await shot(page, 'nojs-declined');
  assert.equal((await status(order.out_trade_no)).status, 'PAYERROR');
  await page.locator('#pd-method-balance').check();
  assert.ok(await page.locator('input[value=wallet_ok]').isVisible());
  await page.locator('[data-testid=pay]').click();
  await page.locator('[data-testid=success]').waitFor();
  assert.equal((await status(order.out_trade_no)).status, 'SUCCESS');
  await ctx.close();
});

test('without_javascript_a_retryable_card_decline_asks_for_the_card_again', async () => {
  // The answer to a post holds no card number, so a bare "try again" would send empty fields:
  // the prompt asks for the card again, and paying with it again goes through.
  const order = await createOrder(w, m);
  const { ctx, page } = await noScript();
  await page.goto(order.checkout_url);
  await fillCard(page, '4000 0000 0000 0119');
  await page.locator('[data-testid=pay]').click();
  const prompt = page.locator('[data-testid=retry-prompt]');
  await prompt.waitFor();
  assert.equal(await prompt.getAttribute('data-code'), 'PROCESSING_ERROR');
  assert.equal(await page.locator('[data-testid=retry]').count(), 0, 'no bare resubmit');
  assert.match(await page.locator('[data-testid=reenter-card]').textContent(), /Enter the card again below/);
  await fillCard(page, '4000 0000 0000 0119');
  await page.locator('[data-testid=pay]').click();
  await page.locator('[data-testid=success]').waitFor();
  await ctx.close();
});

test('without_javascript_a_merchant_past_its_daily_limit_says_try_tomorrow', async () => {
  const capped = await newMerchant(w, { daily_limit: 1_000 });
  const order = await createOrder(w, capped, { amount: { total: 2_000, currency: 'CNY' } });
  const { ctx, page } = await noScript();
  await page.goto(order.checkout_url);
  await fillCard(page, '4242 4242 4242 4242');
  await page.locator('[data-testid=pay]').click();
  const prompt = page.locator('[data-testid=retry-prompt]');
  await prompt.waitFor();
  assert.equal(await prompt.getAttribute('data-code'), 'DAILY_LIMIT_EXCEEDED');
  assert.match(await prompt.textContent(), /cannot take more payments today; try again tomorrow or contact them\. You have not been charged\./);
  await ctx.close();
});

test('without_javascript_a_bad_card_number_names_the_field_and_sends_nothing', async () => {
  const order = await createOrder(w, m);
  const { ctx, page } = await noScript('zh-CN');
  await page.goto(order.checkout_url);
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  await fillCard(page, '4242 4242 4242 4241');
  await page.locator('[data-testid=pay]').click();
  await page.locator('#pd-card-number-error').waitFor();
  assert.equal(await page.locator('#pd-card-number').getAttribute('aria-invalid'), 'true');
  assert.ok(await page.locator('#pd-method-credit_card').isChecked());
  assert.equal((await status(order.out_trade_no)).status, 'NOTPAY');
  await ctx.close();
});

test('posting_the_same_form_twice_pays_once', async () => {
  const order = await createOrder(w, m);
  const html = await (await fetch(order.checkout_url)).text();
  const key = html.match(/name="submission_key" value="([0-9a-f]+)"|value="([0-9a-f]+)" type="hidden" name="submission_key"/);
  assert.ok(key, 'the form carries a one-time key');
  const body = new URLSearchParams({
    submission_key: key[1] ?? key[2], method: 'credit_card',
    card_number: '4242 4242 4242 4242', card_exp: '12/35', card_cvc: '123',
  }).toString();
  const post = () => fetch(order.checkout_url, {
    method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: w.url },
  });
  // Two posts at once (a double tap), then a third (a reload of the answer).
  const answers = await Promise.all([post(), post()]);
  answers.push(await post());
  for (const r of answers) {
    assert.equal(r.status, 200);
    assert.match(await r.text(), /data-testid="success"/);
  }
  const payments = (await call(w, m, 'GET', `/v1/orders/${order.out_trade_no}`)).json;
  assert.equal(payments.status, 'SUCCESS');
  const events = (await call(w, m, 'GET', `/v1/notifications?out_trade_no=${order.out_trade_no}`)).json;
  assert.equal(events.notifications.filter((e) => e.type === 'order.paid').length, 1, 'one payment, one order.paid event');
  // A form posted from another site is refused and changes nothing.
  const other = await createOrder(w, m);
  const otherHtml = await (await fetch(other.checkout_url)).text();
  const otherKey = otherHtml.match(/value="([0-9a-f]{32})" type="hidden"/)[1];
  const forged = await fetch(other.checkout_url, {
    method: 'POST',
    body: new URLSearchParams({ submission_key: otherKey, method: 'balance', wallet: 'wallet_ok' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
  });
  assert.equal(forged.status, 403);
  const crossSite = await fetch(other.checkout_url, {
    method: 'POST',
    body: new URLSearchParams({ submission_key: otherKey, method: 'balance', wallet: 'wallet_ok' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null', 'sec-fetch-site': 'cross-site' },
  });
  assert.equal(crossSite.status, 403);
  assert.equal((await status(other.out_trade_no)).status, 'NOTPAY');
});

test('choice_and_digits_typed_before_the_wasm_arrives_survive_hydration', async () => {
  const order = await createOrder(w, m);
  const { ctx, page, errors, release } = await withWasmHeld(browser);
  await page.goto(order.checkout_url);
  // The server-rendered form is usable while the wasm is held back.
  await page.locator('#pd-method-credit_card').check();
  await page.locator('#pd-card-number').pressSequentially('4242424242424242');
  await page.locator('#pd-card-exp').pressSequentially('1235');
  assert.equal(await page.locator('[data-paydesk-ready]').count(), 0, 'not hydrated yet');
  release();
  await page.locator('[data-paydesk-ready]').waitFor({ state: 'attached' });
  assert.ok(await page.locator('#pd-method-credit_card').isChecked(), 'the choice is kept');
  assert.equal(await page.locator('#pd-card-number').inputValue(), '4242 4242 4242 4242', 'digits kept (and now grouped)');
  assert.equal(await page.locator('#pd-card-exp').inputValue(), '12/35');
  assert.ok(await page.evaluate(() => performance.getEntriesByName('paydesk:interactive').length === 1));
  // And the page now pays without a reload.
  let navigations = 0;
  page.on('framenavigated', () => navigations++);
  await page.locator('#pd-card-cvc').fill('123');
  await page.locator('[data-testid=pay]').click();
  await page.locator('[data-testid=success]').waitFor();
  assert.equal(navigations, 0);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('an_answer_to_a_form_post_keeps_its_method_and_error_over_the_remembered_method', async () => {
  // This browser paid an earlier order by balance; on this one the payer posts the card form
  // before the wasm arrives, and the answer names the field to fix. Hydrating that answer must
  // keep the posted method and its error, not switch to the remembered method.
  const order = await createOrder(w, m);
  const { ctx, page, errors, release } = await withWasmHeld(browser, { remembered: 'balance' });
  await page.goto(order.checkout_url);
  await fillCard(page, '4242 4242 4242 4241');
  await page.locator('[data-testid=pay]').click();
  await page.locator('#pd-card-number-error').waitFor();
  assert.equal(await page.locator('[data-paydesk-ready]').count(), 0, 'not hydrated yet');
  release();
  await page.locator('[data-paydesk-ready]').waitFor({ state: 'attached' });
  assert.ok(await page.locator('#pd-method-credit_card').isChecked(), 'the posted method is kept');
  assert.equal(await page.locator('#pd-card-number').getAttribute('aria-invalid'), 'true');
  assert.ok(await page.locator('#pd-card-number-error').isVisible(), 'the error is still shown');
  assert.equal((await status(order.out_trade_no)).status, 'NOTPAY');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a_page_left_open_starts_the_widget_once', async () => {
  const order = await createOrder(w, m);
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let sockets = 0;
  page.on('websocket', () => sockets++);
  await page.clock.install();
  await page.goto(order.checkout_url);
  await outlastTheStarter(page);
  assert.equal(sockets, 1, 'one live status connection');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the_document_is_parsed_without_waiting_for_the_widget_script', async () => {
  const order = await createOrder(w, m);
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await ctx.newPage();
  let release;
  const gate = new Promise((r) => { release = r; });
  await page.route(/\/a\/[^/]+\.js$/, async (route) => { await gate; await route.continue(); });
  // The starter is an async module: DOMContentLoaded (the bench's "pay button works") does not
  // wait for the widget's JS, which a deferred module would.
  await page.goto(order.checkout_url, { waitUntil: 'domcontentloaded' });
  assert.notEqual(await page.evaluate(() => document.readyState), 'loading');
  assert.equal(await page.locator('[data-paydesk-ready]').count(), 0, 'the JS is still held back');
  release();
  await page.locator('[data-paydesk-ready]').waitFor({ state: 'attached' });
  await ctx.close();
});

for (const locale of ['zh-CN', 'en-US']) {
  test(`server_and_hydrated_markup_are_the_same_in_${locale}`, async () => {
    const order = await createOrder(w, m);
    const ctx = await browser.newContext({ ...PHONE, locale });
    const page = await ctx.newPage();
    // The page's clock stands still, so the countdown cannot tick between the two reads.
    await page.clock.install();
    await page.clock.pauseAt(Date.now());
    let release;
    const gate = new Promise((r) => { release = r; });
    await page.route(/\.wasm$/, async (route) => { await gate; await route.continue(); });
    const fetched = [];
    page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
    await page.goto(order.checkout_url);
    const root = page.locator('#paydesk-root');
    const markup = async () => root.innerHTML();
    const served = await markup();
    release();
    // The starter waits for the first frame (`edge/src/page.rs`), which the paused clock holds:
    // one frame's worth moves it on, far less than a countdown tick.
    await page.clock.runFor(50);
    await page.locator('[data-paydesk-ready]').waitFor({ state: 'attached' });
    assert.equal(await markup(), served);
    assert.match(served, locale === 'en-US' ? /Pay ¥10\.00/ : /确认付款 ¥10\.00/);
    assert.match(served, /<form id="pd-form" method="post"/);
    // The preloads (the Link header's and the head's) are the fetches the page then uses: each
    // file comes down once.
    for (const ext of ['.js', '.wasm']) {
      assert.equal(fetched.filter((p) => p.startsWith('/a/') && p.endsWith(ext)).length, 1, `${ext}: ${fetched}`);
    }
    await ctx.close();
  });
}

test('assets_are_hashed_immutable_and_compressed', async () => {
  const order = await createOrder(w, m);
  const resp = await fetch(order.checkout_url, { headers: { 'accept-encoding': 'gzip, br' } });
  assert.match(resp.headers.get('content-encoding') ?? '', /gzip|br/);
  const html = await resp.text();
  const js = html.match(/<link rel="modulepreload" href="([^"]+)">/)[1];
  const wasm = html.match(/<link rel="preload" href="([^"]+)" as="fetch"/)[1];
  // The same preloads in the response's Link header, which the browser reads before the
  // document (and a host may send as 103 Early Hints).
  assert.equal(
    resp.headers.get('link'),
    `<${js}>; rel=modulepreload, <${wasm}>; rel=preload; as=fetch; type="application/wasm"; crossorigin`,
  );
  // The stylesheet is inline: nothing but the document blocks the first paint.
  assert.equal(html.match(/<link rel="stylesheet"/g), null, 'no stylesheet to fetch');
  assert.match(html, /<style>[^<]*\.pd-card[^<]*<\/style>/);
  // No script to fetch before the page can go on: the only classic script is the inline starter,
  // the body's last element, which schedules the widget for after the first frame.
  assert.equal((html.match(/<script[^>]*\bsrc=/g) ?? []).length, 0, 'no script to fetch while parsing');
  const classic = html.match(/<script(?![^>]*type="application\/json")[^>]*>([^<]*)<\/script>/g) ?? [];
  assert.equal(classic.length, 1, classic.join('\n'));
  assert.match(classic[0], /requestAnimationFrame\(\(\) => setTimeout\(go\)\)/);
  assert.ok(html.indexOf(classic[0]) + classic[0].length === html.indexOf('</body>') - 1, 'the starter ends the body');
  for (const path of [js, wasm]) {
    assert.match(path, /^\/a\/[a-z_]+\.[0-9a-f]{12}\.(js|wasm)$/, path);
    const r = await fetch(w.url + path, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get('cache-control') ?? '', /immutable/, path);
    assert.match(r.headers.get('content-encoding') ?? '', /gzip|br/, path);
    await r.arrayBuffer();
  }
});
