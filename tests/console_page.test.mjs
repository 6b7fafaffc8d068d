// The merchant console in headless Chromium, served by the real worker at /console: a staff
// member signs in through the form, sees what waits for approval and approves it, searches
// orders, switches language; a viewer is shown no approve buttons (and the server refuses a
// viewer's approval anyway: console_auth.test.mjs). Screenshots go to target/test-artifacts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWorker, ARTIFACTS } from './support/worker.mjs';
import { launch, PHONE, DESKTOP } from './support/browser.mjs';
import { admin, call, newMerchant, createOrder } from './support/api.mjs';

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

const PASSWORD = 'correct horse battery';
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function signIn(device, m, email) {
  const context = await browser.newContext({ ...device, locale: 'en-US' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${w.url}/console`);
  await page.waitForSelector('#console-root[data-console-ready] form');
  await page.fill('#c-merchant', m.merchant_id);
  await page.fill('#c-email', email);
  await page.fill('#c-password', PASSWORD);
  return { context, page, errors };
}

test('staff_sign_in_approve_and_search_in_the_console_at_390_and_1280_px', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 500, approvers: 1 }] });
  for (const [email, role] of [['lead@shop.example', 'approver'], ['intern@shop.example', 'viewer']]) {
    assert.equal((await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email, role, password: PASSWORD })).status, 201);
  }
  const o = await createOrder(w, m, { out_trade_no: `CON${Date.now()}` });
  assert.equal(o.status, 'PENDING_APPROVAL');

  // On a phone: the sign-in form, labelled; a wrong password says so.
  const phone = await signIn(PHONE, m, 'lead@shop.example');
  await phone.page.fill('#c-password', 'not the password');
  await phone.page.click('button[type=submit]');
  await phone.page.waitForSelector('[role=alert]');
  assert.match(await phone.page.textContent('[role=alert]'), /wrong email or password/);
  await shot(phone.page, 'console-sign-in-phone');
  await phone.page.fill('#c-password', PASSWORD);
  await phone.page.click('button[type=submit]');
  await phone.page.waitForSelector('[data-testid=who]');
  assert.equal(await phone.page.textContent('[data-testid=who]'), 'lead@shop.example · approver');
  await phone.page.waitForSelector(`[data-approval]`);
  await shot(phone.page, 'console-approvals-phone');
  await phone.context.close();

  // On a desktop: approve, and the queue empties; the order can now be paid.
  const desk = await signIn(DESKTOP, m, 'lead@shop.example');
  await desk.page.click('button[type=submit]');
  const row = await desk.page.waitForSelector('[data-approval]');
  assert.match(await row.textContent(), new RegExp(`order ${o.out_trade_no} · 0/1`));
  await shot(desk.page, 'console-approvals-desktop');
  await desk.page.click('[data-approval] button:has-text("Approve")');
  await desk.page.waitForSelector('[data-testid=empty]');
  assert.equal((await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json.status, 'NOTPAY');
  // Orders: search by a number's beginning.
  await desk.page.click('button[role=tab]:has-text("Orders")');
  await desk.page.fill('#c-number', 'CON');
  await desk.page.waitForSelector(`tr[data-order="${o.out_trade_no}"]`);
  // The other language.
  await desk.page.click('button.link:has-text("中文")');
  await desk.page.waitForSelector('button[role=tab]:has-text("待审批")');
  await shot(desk.page, 'console-orders-zh');
  // Signing out returns to the form; a reload stays signed out.
  await desk.page.click('button.link:has-text("退出")');
  await desk.page.waitForSelector('form');
  await desk.page.reload();
  await desk.page.waitForSelector('#console-root[data-console-ready] form');
  assert.deepEqual(desk.errors, []);
  await desk.context.close();

  // A viewer sees the queue without approve buttons.
  await createOrder(w, m);
  const viewer = await signIn(DESKTOP, m, 'intern@shop.example');
  await viewer.page.click('button[type=submit]');
  await viewer.page.waitForSelector('[data-approval]');
  assert.equal(await viewer.page.locator('[data-approval] button').count(), 0);
  await viewer.context.close();
});
