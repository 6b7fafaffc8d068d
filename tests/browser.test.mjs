// The pay page in headless Chromium at a phone's size, served by the real worker.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWorker, demoOrder, ARTIFACTS } from './support/worker.mjs';
import { launch, PHONE } from './support/browser.mjs';

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

test('open_pay_page_on_a_phone_and_see_merchant_and_amount', async () => {
  const order = await demoOrder(w, { amount: 1234 });
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(order.checkout_url);
  // The widget renders the inlined order once the wasm has run.
  const name = page.locator('.pd-merchant-name');
  await name.waitFor();
  assert.equal(await name.textContent(), '演示茶馆 Demo Tea House');
  assert.equal(await page.locator('.pd-amount').textContent(), '¥12.34');
  assert.equal(await page.locator('.pd-pay-to').textContent(), 'Pay to');
  assert.match(await page.locator('.pd-order-no').textContent(), new RegExp(order.out_trade_no));
  const logoLoaded = await page.locator('img.pd-logo').evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(logoLoaded, 'the merchant logo loads');
  // Nothing overflows the phone's width.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: join(ARTIFACTS, 'pay-page-phone-en.png') });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('pay_page_speaks_chinese_to_a_chinese_browser', async () => {
  const order = await demoOrder(w);
  const ctx = await browser.newContext({ ...PHONE, locale: 'zh-CN' });
  const page = await ctx.newPage();
  await page.goto(order.checkout_url);
  await page.locator('.pd-pay-to').waitFor();
  assert.equal(await page.locator('.pd-pay-to').textContent(), '付款给');
  assert.equal(await page.locator('.pd-amount-label').textContent(), '应付金额');
  await page.screenshot({ path: join(ARTIFACTS, 'pay-page-phone-zh.png') });
  await ctx.close();
});

test('forged_link_shows_the_friendly_page', async () => {
  const ctx = await browser.newContext(PHONE);
  const page = await ctx.newPage();
  const resp = await page.goto(`${w.url}/pay/forged.token`);
  assert.equal(resp.status(), 404);
  assert.equal(await page.locator('h1').textContent(), '付款链接无效或已过期');
  await page.screenshot({ path: join(ARTIFACTS, 'pay-page-link-not-valid.png') });
  await ctx.close();
});
