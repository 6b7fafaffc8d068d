// Pay page load on a phone: headless Chromium through CDP at 390x844, CPU throttled 4x, network
// shaped to a slow mobile profile: first content, the pay button working (a real form, before the
// wasm), and the page hydrated (the widget's `performance.mark('paydesk:interactive')`). Beside it, in the same run and served by
// the same worker: a static HTML+CSS snapshot of the same page, with no JS and no wasm.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, PHONE } from '../../tests/support/browser.mjs';
import { ROOT } from '../../tests/support/worker.mjs';
import { summary, ratio, medianRatioInterval } from './stats.mjs';

/** Slow mobile: Lighthouse's "slow 4G" figures (1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT). */
export const NETWORK = { latency_ms: 150, down_kbit: 1600, up_kbit: 750 };
export const CPU_SLOWDOWN = 4;

/** Where the static baseline is written for the worker's static assets to serve, during the run. */
export const STATIC_DIR = join(ROOT, 'www', 'bench-static');

/**
 * The static baseline from the widget's rendered DOM: one document, the same markup and inline
 * stylesheet, with every script, module preload and wasm preload removed. Inline `style`
 * attributes are dropped too, as they were when the static assets' CSP forbade them
 * (www/_headers now allows inline styles under /bench-static/ only, for the `<style>` element).
 */
export function staticSnapshot(html) {
  let styleAttrs = 0;
  const out = html
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '')
    .replace(/<noscript\b[^>]*>[\s\S]*?<\/noscript>/gi, '')
    .replace(/<link\b[^>]*\brel="(?:modulepreload|preload)"[^>]*>/gi, '')
    .replace(/\sstyle="[^"]*"/gi, () => { styleAttrs += 1; return ''; });
  return { html: `<!doctype html>\n${out}\n`, styleAttrs };
}

/** Resolves in the page to the timings of this load, once the page is interactive. */
function pageMetrics([variant, buttonSelector]) {
  const entry = (type, name) => new Promise((resolve) => {
    const po = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.name === name) { po.disconnect(); resolve(e.startTime); }
      }
    });
    po.observe({ type, buffered: true });
  });
  const loaded = () => (document.readyState === 'loading'
    ? new Promise((r) => document.addEventListener('DOMContentLoaded', r, { once: true }))
    : Promise.resolve());
  return (async () => {
    const fcp = await entry('paint', 'first-contentful-paint');
    await loaded();
    const nav = performance.getEntriesByType('navigation')[0];
    // The pay button works once it is painted and the document is parsed: it submits a real HTML
    // form (the worker renders the page), on both pages. The widget's page is hydrated, with
    // live status and formatting, at its mark (set when the wasm has taken over).
    const working = Math.max(fcp, nav.domContentLoadedEventEnd);
    const mark = variant === 'widget' ? await entry('mark', 'paydesk:interactive') : null;
    const hydrated = Math.max(fcp, mark ?? nav.domContentLoadedEventEnd);
    const bytes = performance.getEntriesByType('resource').reduce((a, r) => a + r.transferSize, nav.transferSize);
    const button = document.querySelector(buttonSelector);
    // Attributes, not `form.method`: the form's own "method" radio inputs shadow that property.
    const form = button?.form;
    return {
      fcp, mark, working, interactive: hydrated, ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd, bytes,
      button: !!button && !button.disabled, form_posts: !!form && form.getAttribute('method') === 'post' && !!form.getAttribute('action'),
    };
  })();
}

/**
 * A page in a fresh browser context (close the context when done), on the phone: its viewport,
 * no cache, the slow mobile network and the CPU slowdown.
 */
export async function phonePage(browser) {
  const ctx = await browser.newContext({ ...PHONE, locale: 'zh-CN' });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: NETWORK.latency_ms,
    downloadThroughput: (NETWORK.down_kbit * 1000) / 8,
    uploadThroughput: (NETWORK.up_kbit * 1000) / 8,
    connectionType: 'cellular4g',
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  return { ctx, page };
}

async function throttledLoad(browser, url, variant, buttonSelector) {
  const { ctx, page } = await phonePage(browser);
  try {
    await page.goto(url, { waitUntil: 'commit', timeout: 60_000 });
    let timer;
    const m = await Promise.race([
      page.evaluate(pageMetrics, [variant, buttonSelector]),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${variant} page not interactive within 60 s`)), 60_000); }),
    ]).finally(() => clearTimeout(timer));
    if (!m.button) throw new Error(`${variant} page: no enabled ${buttonSelector}`);
    if (variant === 'widget' && !m.form_posts) throw new Error(`${url}: ${buttonSelector} is not in a posting form`);
    return m;
  } finally {
    await ctx.close();
  }
}

/**
 * Opens the pay page once without throttling: the same-origin paths its first load fetches (the
 * document first), the Content-Encoding Chromium got each in, and its rendered DOM once the
 * widget is interactive.
 */
export async function discoverPayPage({ worker, checkoutUrl }) {
  const browser = await launch();
  try {
    const ctx = await browser.newContext({ ...PHONE, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const origin = new URL(worker.url).origin;
    const paths = [];
    const encodings = {};
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin === origin && !paths.includes(u.pathname) && r.resourceType() !== 'websocket') paths.push(u.pathname);
    });
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.origin === origin) encodings[u.pathname] = r.headers()['content-encoding'] ?? 'identity';
    });
    await page.goto(checkoutUrl);
    await page.locator('[data-paydesk-ready]').waitFor({ state: 'attached', timeout: 60_000 });
    await page.waitForLoadState('load');
    const html = await page.content();
    await ctx.close();
    return { paths, html, encodings: paths.map((p) => encodings[p] ?? null) };
  } finally {
    await browser.close();
  }
}

/**
 * Writes the static baseline into the worker's static assets folder. The worker serves it from
 * its next start (wrangler dev does not pick up new asset files while running). `www`: another
 * served folder instead, such as the self-hosted front door's (edge/selfhost/front.js), which
 * reads its files as they are asked for and, unlike Cloudflare's assets, wants the `.html`.
 */
export function writeStaticBaseline(renderedHtml, name = 'pay', www = null) {
  const snap = staticSnapshot(renderedHtml.replace(/^<!DOCTYPE html>\s*/i, ''));
  const dir = www ? join(www, 'bench-static') : STATIC_DIR;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.html`), snap.html);
  const path = `/bench-static/${name}${www ? '.html' : ''}`;
  return { path, inline_style_attributes_dropped: snap.styleAttrs, bytes: snap.html.length };
}

export const removeStaticBaseline = () => rmSync(STATIC_DIR, { recursive: true, force: true });

/**
 * Loads the pay page at `payPath` and the static baseline `runs` times each, throttled,
 * alternating which goes first.
 */
export async function measurePageLoad({ worker, payPath, baseline, runs, log = () => {}, button = 'pay' }) {
  const payUrl = `${worker.url}${payPath}`;
  const staticUrl = `${worker.url}${baseline.path}`;
  const buttonSelector = `[data-testid=${button}]`;
  const check = await fetch(staticUrl);
  if (check.status !== 200 || !(await check.text()).includes(`data-testid="${button}"`)) {
    throw new Error(`the worker does not serve the static baseline at ${staticUrl} (${check.status})`);
  }
  const browser = await launch();
  try {
    const samples = { widget: [], static: [] };
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? ['static', 'widget'] : ['widget', 'static'];
      for (const v of order) samples[v].push(await throttledLoad(browser, v === 'widget' ? payUrl : staticUrl, v, buttonSelector));
      log(`page load run ${i + 1}/${runs}: widget ${samples.widget.at(-1).interactive.toFixed(0)} ms, static ${samples.static.at(-1).interactive.toFixed(0)} ms`);
    }
    const pick = (xs, k) => xs.map((x) => x[k]);
    const result = {};
    for (const v of ['widget', 'static']) {
      result[v] = {
        interactive_ms: summary(pick(samples[v], 'interactive')),
        working_button_ms: summary(pick(samples[v], 'working')),
        first_contentful_paint_ms: summary(pick(samples[v], 'fcp')),
        mark_ms: v === 'widget' ? summary(pick(samples[v], 'mark')) : null,
        ttfb_ms: summary(pick(samples[v], 'ttfb')),
        transferred_bytes: summary(pick(samples[v], 'bytes')),
        samples: samples[v],
      };
    }
    return {
      runs,
      network: NETWORK,
      cpu_slowdown: CPU_SLOWDOWN,
      viewport: PHONE.viewport,
      static_page: baseline,
      ...result,
      ratio_interactive: ratio(result.widget.interactive_ms.median, result.static.interactive_ms.median),
      ratio_fcp: ratio(result.widget.first_contentful_paint_ms.median, result.static.first_contentful_paint_ms.median),
      ratio_working: ratio(result.widget.working_button_ms.median, result.static.working_button_ms.median),
      // Loads on a shared 2-core machine spread widely: how far each ratio could move by chance.
      interval_interactive: medianRatioInterval(pick(samples.widget, 'interactive'), pick(samples.static, 'interactive')),
      interval_fcp: medianRatioInterval(pick(samples.widget, 'fcp'), pick(samples.static, 'fcp')),
      interval_working: medianRatioInterval(pick(samples.widget, 'working'), pick(samples.static, 'working')),
    };
  } finally {
    await browser.close();
  }
}
