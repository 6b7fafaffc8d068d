// The bill section of the bench: a closed day of N released orders, downloaded as
// GET /v1/bills (streamed a page at a time), timed from outside, with workerd's resident memory
// sampled while it streams. Two days, a tenth of the size and full size, in the same run: the
// time should grow with the lines and the memory should not (nothing holds a whole day).
// The baseline is one signed GET /v1/balance of the same merchant.

import { readFileSync, readdirSync } from 'node:fs';
import { call, nonce, sign, tokenOf } from '../../tests/support/api.mjs';
import { createSigned } from './orders.mjs';
import { summary } from './stats.mjs';

/** workerd's processes in the worker's process group. */
function workerdPids(worker) {
  const out = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (Number(fields[2]) === worker.pid && comm.startsWith('workerd')) out.push(pid);
    } catch { /* gone */ }
  }
  return out;
}

/** Their resident memory, in bytes. */
function rssOf(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) * 1024;
    } catch { /* gone */ }
  }
  return total;
}

async function paidOrders(worker, merchant, n, inFlight = 8) {
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const o = await createSigned(worker, merchant, `B${merchant.merchant_id.slice(-6)}_${i}`, { amount: { total: 100 + (i % 900), currency: 'CNY' } });
      const r = await fetch(`${worker.url}/api/checkout/${tokenOf(o.order)}/pay`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'credit_card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2035, cvc: '123' } }),
      });
      if (r.status !== 200) throw new Error(`bench pay: ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
}

/** The signed GET of a bill, read chunk by chunk while workerd's memory is sampled. */
async function download(worker, merchant, date) {
  const path = `/v1/bills?date=${date}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const n = nonce();
  const pids = workerdPids(worker);
  const before = rssOf(pids);
  let peak = before;
  const t0 = performance.now();
  const r = await fetch(`${worker.url}${path}`, {
    headers: {
      'Paydesk-Merchant': merchant.merchant_id, 'Paydesk-Timestamp': ts, 'Paydesk-Nonce': n,
      'Paydesk-Signature': sign(merchant.api_key, 'GET', path, ts, n, ''),
    },
  });
  if (r.status !== 200) throw new Error(`bench bill: ${r.status} ${await r.text()}`);
  const firstByte = performance.now() - t0;
  let bytes = 0;
  let lines = 0;
  for await (const chunk of r.body) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines++;
    peak = Math.max(peak, rssOf(pids));
  }
  return { ms: performance.now() - t0, first_byte_ms: firstByte, bytes, lines: lines - 2, rss_before: before, rss_peak: peak };
}

async function closedDay(worker, merchant, orders, advance) {
  await paidOrders(worker, merchant, orders);
  await advance(merchant, 86_400);
  const { business_time: now } = (await call(worker, merchant, 'GET', '/v1/balance')).json;
  const ms = Date.parse(now) + 8 * 3_600_000;
  await advance(merchant, Math.ceil(((Math.floor(ms / 86_400_000) + 1) * 86_400_000 - ms) / 1000) + 60);
  const s = (await call(worker, merchant, 'GET', '/v1/settlements')).json.settlements.find((x) => x.order_count === orders);
  if (!s) throw new Error('bench bill: the orders were not released on one day');
  return s.date;
}

export async function measureBill({ worker, newMerchant, advance, orders, runs, log = () => {} }) {
  const out = { sizes: [] };
  for (const n of [Math.max(1, Math.round(orders / 10)), orders]) {
    const m = await newMerchant({ release_days: 1, rate_limits: { create: 100_000, query: 100_000, refund: 1000 } });
    log(`bill: ${n} paid orders released on one day`);
    const date = await closedDay(worker, m, n, advance);
    const base = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await call(worker, m, 'GET', '/v1/balance');
      base.push(performance.now() - t0);
    }
    const got = [];
    for (let i = 0; i < runs; i++) got.push(await download(worker, m, date));
    if (got.some((g) => g.lines !== n)) throw new Error(`bench bill: ${got.map((g) => g.lines)} lines, not ${n}`);
    out.sizes.push({
      orders: n,
      bytes: got[0].bytes,
      ms: summary(got.map((g) => g.ms)),
      first_byte_ms: summary(got.map((g) => g.first_byte_ms)),
      lines_per_s: n / (summary(got.map((g) => g.ms)).median / 1000),
      rss_growth_bytes: Math.max(...got.map((g) => g.rss_peak - g.rss_before)),
      rss_peak_bytes: Math.max(...got.map((g) => g.rss_peak)),
      balance_ms: summary(base),
    });
  }
  return out;
}
