// Which part of the pay page costs its first paint, beside its static snapshot? Not part of
// `cargo xtask bench`: a tool for looking into the page-load section's first-content ratio.
//
// It takes one pay page from the real worker (the document as served, its CSP and Link headers,
// and its rendered DOM for the static snapshot), stops the worker, and serves variants of that
// one document from a small Node server (gzip, the widget's built files under /a/), so that the
// variants differ only in the document and its headers, never in the server. Each variant is
// loaded by the bench's throttled phone (bench/lib/page_load.mjs: the same network, CPU slowdown
// and fresh browser context per load), alternating the order, and the median first content of
// each is printed beside the first variant named.
//
// After `cargo xtask build` (node_modules/.bin first on PATH):
//   node bench/page_variants.mjs [loads per variant, 100] [variant,variant,...]
// Variants: static (the bench's baseline, the same CSP), pay (as served), nolink (no Link
// header), late (the preloads at the end of the body instead of the head and the Link header),
// nojson (no inline data), nostarter (no starter script), bare (the served markup without any
// script or preload).

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { startReceiver } from '../tests/support/receiver.mjs';
import { devVars, ROOT, startWorker } from '../tests/support/worker.mjs';
import { launch } from '../tests/support/browser.mjs';
import { benchMerchant } from './lib/edge_load.mjs';
import { createSigned } from './lib/orders.mjs';
import { discoverPayPage, phonePage, staticSnapshot } from './lib/page_load.mjs';
import { summary } from './lib/stats.mjs';

const runs = Number(process.argv[2] ?? 100);

/** The pay page of a new order: the document as served, its two headers, its rendered DOM. */
async function capture() {
  const rx = await startReceiver();
  const w = await startWorker({ vars: devVars() });
  try {
    const m = await benchMerchant(w, rx.url, 'Bench Tea House');
    const fields = { amount: { total: 12800, currency: 'CNY' }, description: 'Oolong tea, 250 g tin' };
    const o = await createSigned(w, m, `PAGE${Date.now().toString(36)}`, fields);
    const path = new URL(o.order.checkout_url).pathname;
    const r = await fetch(`${w.url}${path}`, { headers: { 'accept-language': 'zh-CN' } });
    const html = await r.text();
    const rendered = (await discoverPayPage({ worker: w, checkoutUrl: `${w.url}${path}` })).html;
    return { html, csp: r.headers.get('content-security-policy'), link: r.headers.get('link'), rendered };
  } finally {
    await w.stop();
    await rx.close();
  }
}

function variants({ html, csp, link, rendered }) {
  const PRELOAD = /<link rel="(?:modulepreload|preload)"[^>]*>\n?/g;
  const preloads = (html.match(PRELOAD) ?? []).join('');
  const noPreloads = html.replace(PRELOAD, '');
  const both = { 'content-security-policy': csp, link };
  const cspOnly = { 'content-security-policy': csp };
  return {
    static: { html: staticSnapshot(rendered.replace(/^<!DOCTYPE html>\s*/i, '')).html, headers: cspOnly },
    pay: { html, headers: both },
    nolink: { html, headers: cspOnly },
    late: { html: noPreloads.replace('</body>', `${preloads}</body>`), headers: cspOnly },
    nojson: { html: html.replace(/<script id="paydesk-data"[\s\S]*?<\/script>/, ''), headers: both },
    nostarter: { html: html.replace(/<script nonce[\s\S]*?<\/script>/, ''), headers: both },
    bare: { html: noPreloads.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, ''), headers: cspOnly },
  };
}

function serve(all) {
  const srv = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const send = (body, type, headers = {}) => {
      res.writeHead(200, { 'content-type': type, 'content-encoding': 'gzip', ...headers });
      res.end(gzipSync(body));
    };
    if (path.startsWith('/a/') || path.startsWith('/demo/')) {
      const type = path.endsWith('.wasm') ? 'application/wasm' : path.endsWith('.svg') ? 'image/svg+xml' : 'text/javascript';
      try { return send(readFileSync(join(ROOT, 'www', path)), type); } catch { /* answered below */ }
    }
    const v = all[path.slice(1)];
    if (!v) { res.writeHead(404); return res.end(); }
    send(v.html, 'text/html; charset=utf-8', v.headers);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

/** One throttled load: first content, and when the document's last byte came. */
async function load(browser, url) {
  const { ctx, page } = await phonePage(browser);
  try {
    await page.goto(url, { waitUntil: 'commit', timeout: 60_000 });
    return await page.evaluate(() => new Promise((resolve) => {
      new PerformanceObserver((list) => {
        const fcp = list.getEntries().find((e) => e.name === 'first-contentful-paint');
        if (fcp) resolve({ fcp: fcp.startTime, end: performance.getEntriesByType('navigation')[0].responseEnd });
      }).observe({ type: 'paint', buffered: true });
    }));
  } finally {
    await ctx.close();
  }
}

const all = variants(await capture());
const names = process.argv[3] ? process.argv[3].split(',') : Object.keys(all);
for (const n of names) if (!all[n]) throw new Error(`unknown variant ${n}; one of ${Object.keys(all).join(', ')}`);
const srv = await serve(all);
const base = `http://127.0.0.1:${srv.address().port}`;
const browser = await launch();
const samples = Object.fromEntries(names.map((n) => [n, []]));
try {
  for (let i = 0; i < runs; i++) {
    for (const n of i % 2 ? [...names].reverse() : names) samples[n].push(await load(browser, `${base}/${n}`));
  }
} finally {
  await browser.close();
  srv.close();
}
const median = (xs) => summary(xs).median;
const first = median(samples[names[0]].map((s) => s.fcp));
for (const n of names) {
  const fcp = median(samples[n].map((s) => s.fcp));
  const end = median(samples[n].map((s) => s.end));
  const gz = gzipSync(all[n].html).length;
  console.log(`${n.padEnd(10)} first content ${fcp.toFixed(0)} ms (${(fcp / first).toFixed(3)}x ${names[0]}), document's last byte ${end.toFixed(0)} ms, ${gz} B gzip`);
}
process.exit(0);
