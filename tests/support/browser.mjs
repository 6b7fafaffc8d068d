// Headless Debian Chromium driven by playwright-core (never `playwright install`). Playwright
// gives every launch a fresh, empty profile directory.

import { chromium } from 'playwright-core';

export const PHONE = {
  viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true,
};
export const DESKTOP = { viewport: { width: 1280, height: 800 } };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.PAYDESK_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

// The page's starter (see `document` in edge/src/page.rs) starts the widget after the first
// frame, with a 1 s timer in case no frame comes. For a page opened with its clock installed
// (`page.clock.install()` before `goto`), this lets the first frame come, waits until the widget
// has taken the page over, then runs the fallback timer out as a page left open would, and
// returns once whatever that timer began has finished: it imports the widget and awaits its
// init after the timer did, so the same queues settle the timer's work first.
export async function outlastTheStarter(page) {
  await page.clock.runFor(50);
  await page.locator('#paydesk-root[data-paydesk-ready]').waitFor({ state: 'attached' });
  await page.clock.runFor(2000);
  const js = await page.locator('link[rel=modulepreload]').getAttribute('href');
  const wasm = await page.locator('link[rel=preload][as=fetch]').getAttribute('href');
  await page.evaluate(async ([j, m]) => {
    const w = await import(j);
    await w.default({ module_or_path: m });
  }, [js, wasm]);
}

/**
 * A page in a new phone context whose wasm is held back until `release()`, so the payer can use
 * the server-rendered form first; `remembered` is the method this browser last paid with, if any.
 */
export async function withWasmHeld(browser, { remembered } = {}) {
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  if (remembered) await ctx.addInitScript((m) => localStorage.setItem('paydesk:last_method', m), remembered);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let release;
  const gate = new Promise((r) => { release = r; });
  await page.route(/\.wasm$/, async (route) => { await gate; await route.continue(); });
  return { ctx, page, errors, release };
}
