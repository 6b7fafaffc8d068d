// The merchant console in headless Chromium, served by the real worker at /console: a staff
// member signs in through the form, sees what waits for approval and approves it, searches
// orders, switches language; a viewer is shown no approve buttons (and the server refuses a
// viewer's approval anyway: console_auth.test.mjs). Screenshots go to target/test-artifacts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startWorker, ARTIFACTS, ROOT } from './support/worker.mjs';
import { launch, PHONE, DESKTOP } from './support/browser.mjs';
import { admin, call, newMerchant, createOrder, pay, otn, advance, CARD } from './support/api.mjs';
import { startReceiver } from './support/receiver.mjs';

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
  await phone.page.click('button[role=tab]:has-text("Approvals")');
  await phone.page.waitForSelector(`[data-approval]`);
  await shot(phone.page, 'console-approvals-phone');
  await phone.context.close();

  // On a desktop: approve, and the queue empties; the order can now be paid.
  const desk = await signIn(DESKTOP, m, 'lead@shop.example');
  await desk.page.click('button[type=submit]');
  await desk.page.click('button[role=tab]:has-text("Approvals")');
  const row = await desk.page.waitForSelector('[data-approval]');
  assert.match(await row.textContent(), new RegExp(`order ${o.out_trade_no} · ¥\\d+\\.\\d\\d · 0/1`));
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

  // A viewer sees the queue without approve buttons, and a payment in risk review with the
  // figures of the rule that sent it there.
  await createOrder(w, m);
  assert.equal((await admin(w, 'PUT', `/admin/merchants/${m.merchant_id}/risk`, { amount: { factor: 2, history: 1, min_history: 1, action: 'review' }, review_hours: 12 })).status, 200);
  assert.equal((await pay(w, await createOrder(w, m, { amount: { total: 100, currency: 'CNY' } }), CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  assert.equal((await pay(w, await createOrder(w, m, { amount: { total: 400, currency: 'CNY' } }), CARD('4242 4242 4242 4242'))).json.code, 'IN_REVIEW');
  const viewer = await signIn(DESKTOP, m, 'intern@shop.example');
  await viewer.page.click('button[type=submit]');
  await viewer.page.click('button[role=tab]:has-text("Approvals")');
  await viewer.page.waitForSelector('[data-approval]');
  assert.equal(await viewer.page.locator('[data-approval] button').count(), 0);
  await viewer.page.waitForSelector('[data-review] [data-figures]');
  assert.equal(await viewer.page.textContent('[data-review] [data-figures]'), 'amount 400 is over 2x the median 100 of the last 1 paid orders');
  await viewer.context.close();
  // An approver rejecting it (which refunds the payment) is asked for a reason and to confirm.
  const lead = await signIn(DESKTOP, m, 'lead@shop.example');
  await lead.page.click('button[type=submit]');
  await lead.page.click('button[role=tab]:has-text("Approvals")');
  await lead.page.click('[data-review] button:has-text("Reject and refund")');
  await lead.page.waitForSelector('#c-reject-reason');
  const [waiting] = (await call(w, m, 'GET', '/v1/reviews?status=pending')).json.reviews;
  assert.ok(waiting, 'nothing is rejected before the confirmation');
  await lead.page.fill('#c-reject-reason', 'card reported stolen');
  await lead.page.click('[data-review] button:has-text("Confirm: reject and refund ¥4.00")');
  await lead.page.waitForFunction(() => !document.querySelector('[data-review]'));
  const [decided] = (await call(w, m, 'GET', '/v1/reviews?status=all')).json.reviews;
  assert.deepEqual([decided.status, decided.reason], ['rejected', 'card reported stolen']);
  assert.deepEqual(lead.errors, []);
  await lead.context.close();
});

test('each_console_area_clicked_through_dashboard_orders_refund_automation_money_alerts', async () => {
  const rx = await startReceiver();
  try {
    const m = await newMerchant(w, { industry: 'services', notify_url: rx.url, refund_approval_above: 5000 });
    for (const [email, role] of [['ops@shop.example', 'operator'], ['lead@shop.example', 'approver']]) {
      assert.equal((await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email, role, password: PASSWORD })).status, 201);
    }
    const o = await createOrder(w, m, { out_trade_no: `PAID${Date.now()}`, amount: { total: 12000, currency: 'CNY' } });
    assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
    const open = await createOrder(w, m, { out_trade_no: `OPEN${Date.now()}` });
    const plan = { plan_id: `${Date.now()}3`, name: 'Tea club', max_amount_per_deduction: 100000, period: 'week', max_deductions_per_period: 2 };
    assert.equal((await call(w, m, 'POST', '/v1/contract_plans', plan)).status, 201);
    const c = await call(w, m, 'POST', '/v1/contracts', { plan_id: plan.plan_id, contract_code: otn('C'), display_account: 'bob' });
    assert.equal(c.status, 201, c.text);
    const business = Date.parse((await advance(w, m, 1)).business_time);
    const due = new Date(business + 30 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ip = await call(w, m, 'POST', '/v1/installment_plans', { plan_no: otn('IP'), description: 'Piano', parts: [{ amount: 5000 }, { amount: 7000, due_at: due }] });
    assert.equal(ip.status, 201, ip.text);

    for (const [device, suffix] of [[PHONE, 'phone'], [DESKTOP, 'desktop']]) {
      const s = await signIn(device, m, 'ops@shop.example');
      const { page } = s;
      await page.click('button[type=submit]');
      // The dashboard first: four SVG charts with today's payment in them, and the audit chain.
      await page.waitForSelector('[data-testid=audit]');
      assert.match(await page.textContent('[data-testid=audit]'), /Audit chain intact \(\d+ entries\)/);
      assert.equal(await page.locator('figure[data-chart] svg[role=img]').count(), 4);
      await page.waitForFunction(() => [...document.querySelectorAll('figure[data-chart="Collected per day"] rect')].some((r) => Number(r.getAttribute('height')) > 0));
      assert.match(await page.textContent('figure[data-chart="Collected per day"]'), /Σ ¥120\.00/);
      await shot(page, `console-dashboard-${suffix}`);

      // Orders: filter by status, open the paid order, refund part of it, send its notification again.
      await page.click('button[role=tab]:has-text("Orders")');
      await page.selectOption('#c-status', 'SUCCESS');
      await page.waitForSelector(`tr[data-order="${o.out_trade_no}"]`);
      await page.waitForFunction((no) => !document.querySelector(`tr[data-order="${no}"]`), open.out_trade_no);
      await page.click(`tr[data-order="${o.out_trade_no}"] button`);
      await page.waitForSelector('[data-testid=order-page] li.console-audit');
      // Staff see where the money is: held by the platform until fulfilled or its days pass.
      assert.match(await page.textContent('[data-testid=funds]'), /^Held by the platform until \d{4}-\d\d-\d\dT/);
      assert.equal(await page.locator('[data-testid=review]').count(), 0, 'not in review');
      if (suffix === 'desktop') {
        await page.fill('#c-refund-amount', '1.50');
        await page.fill('#c-refund-reason', 'scratched box');
        await page.click('form[aria-label="Issue a refund"] button[type=submit]');
        await page.waitForSelector('[data-refund]');
        assert.match(await page.textContent('[data-refund]'), /¥1\.50 · SUCCESS/);
        await page.waitForSelector('[data-notification] button');
        await page.click('[data-notification] button:has-text("Resend")');
        await page.waitForSelector('[data-testid=done]');
        // A refund above the merchant's threshold waits for an approver (a minute later: refunds of
        // one order are a minute apart).
        await advance(w, m, 61);
        await page.fill('#c-refund-amount', '60');
        await page.click('form[aria-label="Issue a refund"] button[type=submit]');
        await page.waitForFunction(() => document.querySelectorAll('[data-refund]').length === 2 || document.querySelector('[role=alert]'));
        assert.equal(await page.locator('[role=alert]').count(), 0, await page.locator('[role=alert]').allTextContents().then(String));
        assert.match(await page.locator('[data-refund]').nth(1).textContent(), /¥60\.00 · PENDING_APPROVAL/);
      }
      await shot(page, `console-order-${suffix}`);

      await page.click('button[role=tab]:has-text("Automation")');
      await page.waitForSelector(`tr[data-contract="${c.json.contract_code}"]`);
      // An installment plan with its schedule, in yuan.
      const plan = await page.waitForSelector(`li[data-plan="${ip.json.plan_no}"]`);
      assert.match(await plan.textContent(), /¥0\.00 \/ ¥120\.00/);
      assert.match(await plan.textContent(), /¥50\.00 · .*¥70\.00 · /);
      await page.click('button[role=tab]:has-text("Money")');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-download=fees]')]);
      const csv = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
      assert.match(csv, /^month,industry,rate_bp/);
      await shot(page, `console-money-${suffix}`);
      await page.click('button[role=tab]:has-text("Alerts")');
      await page.waitForSelector('section[aria-label=Alerts] h2');
      // An operator is not shown approve buttons; the big refund waits in the queue.
      if (suffix === 'desktop') {
        await page.click('button[role=tab]:has-text("Approvals")');
        await page.waitForSelector('[data-approval]');
        assert.equal(await page.locator('[data-approval] button').count(), 0);
      }
      assert.deepEqual(s.errors, []);
      await s.context.close();
    }
    const refunds = (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
    assert.equal(refunds.refunded_total, 150);
    // The approver releases the big refund; what the operator did is audited as the operator.
    const lead = await signIn(DESKTOP, m, 'lead@shop.example');
    await lead.page.click('button[type=submit]');
    await lead.page.click('button[role=tab]:has-text("Approvals")');
    await lead.page.click('[data-approval] button:has-text("Approve")');
    await lead.page.waitForSelector('[data-testid=empty]');
    await lead.context.close();
    const log = (await call(w, m, 'GET', '/v1/audit?kind=refund')).json.entries;
    assert.ok(log.some((e) => e.actor === 'console:ops@shop.example'), JSON.stringify(log.map((e) => [e.actor, e.action])));
    assert.equal((await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json.refunded_total, 6150);
  } finally {
    await rx.close();
  }
});

test('rules_and_branding_with_a_live_preview_and_a_loosening_change_through_approval', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 50_000, approvers: 1 }], daily_limit: 5_000_000 });
  for (const [email, role] of [['ops@shop.example', 'operator'], ['lead@shop.example', 'approver']]) {
    assert.equal((await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email, role, password: PASSWORD })).status, 201);
  }
  for (const [device, suffix] of [[PHONE, 'phone'], [DESKTOP, 'desktop']]) {
    const s = await signIn(device, m, 'ops@shop.example');
    const { page } = s;
    await page.click('button[type=submit]');
    await page.click('button[role=tab]:has-text("Rules and branding")');
    await page.waitForSelector('#s-display_name');
    // The preview is the pay page the worker renders, following the form as it is typed.
    const name = `Tea House ${suffix}`;
    await page.fill('#s-display_name', name);
    await page.frameLocator('iframe[data-testid=preview]').locator(`text=${name}`).first().waitFor();
    await page.fill('#s-release_days', '10');
    await page.frameLocator('iframe[data-testid=preview]').locator('text=/for at most 10 days/').waitFor();
    await page.click('form[aria-label="Rules and branding"] button[type=submit]');
    await page.waitForSelector('[data-testid=outcome][data-status=applied]');
    assert.match(await page.textContent('[data-testid=outcome]'), new RegExp(`branding\\.display_name.*${name}`));
    await page.waitForSelector('.console-audit:has-text("merchant.settings")');
    await shot(page, `console-settings-${suffix}`);
    if (suffix === 'desktop') {
      // Raising the daily limit loosens a control: it waits for the approver.
      await page.fill('#s-daily_limit', '90000');
      await page.click('form[aria-label="Rules and branding"] button[type=submit]');
      await page.waitForSelector('[data-testid=outcome][data-status=pending_approval]');
      await page.waitForSelector('[data-testid=pending]');
      assert.match(await page.textContent('[data-testid=pending]'), /daily_limit.*5000000.*9000000/);
    }
    assert.deepEqual(s.errors, []);
    await s.context.close();
  }
  const lead = await signIn(DESKTOP, m, 'lead@shop.example');
  await lead.page.click('button[type=submit]');
  await lead.page.click('button[role=tab]:has-text("Approvals")');
  await lead.page.waitForSelector('[data-approval]:has-text("settings")');
  // The approver sees what the change does, and who proposed it.
  assert.match(await lead.page.textContent('[data-approval] [data-testid=diff]'), /daily_limit.*5000000.*9000000/);
  assert.match(await lead.page.textContent('[data-approval]'), /proposed by ops@shop\.example/);
  await lead.page.click('[data-approval] button:has-text("Approve")');
  await lead.page.waitForSelector('[data-testid=empty]');
  const settings = await lead.page.evaluate(() => fetch('/console/api/settings').then((r) => r.json()));
  assert.deepEqual([settings.rules.daily_limit, settings.pending], [9_000_000, undefined]);
  await lead.context.close();
  // An admin also sets where alerts go and rotates the webhook secret.
  assert.equal((await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email: 'boss@shop.example', role: 'admin', password: PASSWORD })).status, 201);
  const boss = await signIn(DESKTOP, m, 'boss@shop.example');
  await boss.page.click('button[type=submit]');
  await boss.page.click('button[role=tab]:has-text("Rules and branding")');
  await boss.page.waitForSelector('#m-staff_email');
  await boss.page.fill('#m-staff_email', 'oncall@shop.example');
  await boss.page.click('button:has-text("Save alert channels")');
  await boss.page.waitForSelector('[data-testid=channels-saved]');
  boss.page.once('dialog', (d) => d.accept());
  await boss.page.click('button:has-text("Rotate the webhook secret")');
  await boss.page.waitForSelector('[data-testid=new-secret] code');
  assert.match(await boss.page.textContent('[data-testid=new-secret] code'), /^whsec_[0-9a-f]{48}$/);
  assert.deepEqual(boss.errors, []);
  await boss.context.close();
  const o = await createOrder(w, m, { amount: { total: 100, currency: 'CNY' } });
  const view = await (await fetch(`${w.url}/api/checkout/${new URL(o.checkout_url).pathname.split('/').pop()}`)).json();
  assert.deepEqual([view.merchant.display_name, view.release_days], ['Tea House desktop', 10]);
});

test('every_console_area_passes_axe_and_works_by_keyboard_and_the_pay_page_never_loads_the_console', async () => {
  const m = await newMerchant(w, { approval_levels: [{ above: 500, approvers: 2 }] });
  for (const [email, role] of [['boss@shop.example', 'admin'], ['alice@shop.example', 'approver'], ['bob@shop.example', 'approver']]) {
    assert.equal((await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/console_users`, { email, role, password: PASSWORD })).status, 201);
  }
  const o = await createOrder(w, m, { amount: { total: 1000, currency: 'CNY' } });
  // Two levels, two people: the queue says who approved at which level.
  for (const who of ['alice@shop.example', 'bob@shop.example'].slice(0, 1)) {
    const s = await signIn(DESKTOP, m, who);
    await s.page.click('button[type=submit]');
    await s.page.click('button[role=tab]:has-text("Approvals")');
    await s.page.click('[data-approval] button:has-text("Approve")');
    await s.page.waitForSelector('[data-approval]:has-text("1/2")');
    await s.context.close();
  }

  // axe (the accessibility engine) needs its script in the page: this context bypasses the CSP.
  const context = await browser.newContext({ ...DESKTOP, locale: 'en-US', bypassCSP: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${w.url}/console`);
  await page.waitForSelector('#console-root[data-console-ready] form');
  const axe = async (area) => {
    await page.addScriptTag({ path: join(ROOT, 'node_modules', 'axe-core', 'axe.min.js') });
    const r = await page.evaluate(() => globalThis.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'], iframes: false }));
    assert.deepEqual(r.violations.map((v) => `${area}: ${v.id} ${v.nodes.map((n) => n.target).join(' ')}`), []);
  };
  await axe('sign-in');
  // Signed in by keyboard alone.
  await page.focus('#c-merchant');
  await page.keyboard.type(m.merchant_id);
  await page.keyboard.press('Tab');
  await page.keyboard.type('boss@shop.example');
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=who]');
  for (const [tab, ready] of [
    ['Dashboard', '[data-testid=audit]'],
    ['Approvals', '[data-approval]'],
    ['Orders', `tr[data-order="${o.out_trade_no}"]`],
    ['Automation', 'section[aria-label=Automation] h2'],
    ['Money', '[data-download=fees]'],
    ['Rules and branding', '#m-staff_email'],
    ['Alerts', 'section[aria-label=Alerts] h2'],
  ]) {
    await page.focus(`button[role=tab]:has-text("${tab}")`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(ready);
    await axe(tab);
  }
  // The approvals queue names the approver of each level so far.
  await page.focus('button[role=tab]:has-text("Approvals")');
  await page.keyboard.press('Enter');
  assert.match(await page.textContent('[data-approval]'), /level 1: alice@shop\.example/);
  // And what it decides on: the amount.
  assert.match(await page.textContent('[data-approval]'), new RegExp(`order ${o.out_trade_no} · ¥10\\.00`));
  assert.deepEqual(errors, []);
  await context.close();

  // The pay page never loads anything of the console.
  const payer = await browser.newContext({ ...PHONE });
  const pay = await payer.newPage();
  const urls = [];
  pay.on('request', (r) => urls.push(r.url()));
  const open = await createOrder(w, m, { amount: { total: 100, currency: 'CNY' } });
  await pay.goto(open.checkout_url);
  await pay.waitForSelector('[data-testid=guarantee]');
  await pay.waitForLoadState('networkidle');
  assert.ok(urls.length > 1);
  assert.deepEqual(urls.filter((u) => /console/.test(u)), []);
  await payer.close();
});
