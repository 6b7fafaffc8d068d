// The ledger section: does an order create cost the same on a merchant with a long history as on
// an empty one? Two bench merchants in one worker: one is filled with N orders through the signed
// API (autocannon, 8 connections), then both take order creates at 8 connections in alternating
// runs, each run between readings of the object's SQL meter (statements and rows per create).
// Both rate windows are emptied first, so the two start alike apart from their history: a
// minute of each merchant's test clock, then a second of creates on each, whose entries forget
// the ones that left the minute (one new entry in 16 does: edge/src/domain/limits.rs,
// RATE_PRUNE_EVERY; the clock's walk itself does not).

import { advance, sqlMeter } from '../../tests/support/api.mjs';
import { benchMerchant, loadRun, perRequest } from './edge_load.mjs';
import { ratio } from './stats.mjs';

/** `runs` create runs of `seconds` on `m`, each metered; their pooled rate and worst p99. */
function pool(xs) {
  const ok = xs.reduce((a, x) => a + x.ok, 0);
  const secs = xs.reduce((a, x) => a + x.seconds, 0);
  const sql = xs.map((x) => x.sql_per_request);
  const mean = (k) => sql.reduce((a, s) => a + s[k], 0) / sql.length;
  return {
    req_per_s: ok / secs,
    p50_ms: xs.map((x) => x.p50_ms).sort((a, b) => a - b)[Math.floor(xs.length / 2)],
    p99_ms: Math.max(...xs.map((x) => x.p99_ms)),
    non2xx: xs.reduce((a, x) => a + x.non2xx + x.errors, 0),
    statements_per_create: mean('statements'),
    rows_read_per_create: mean('rows_read'),
    rows_written_per_create: mean('rows_written'),
  };
}

export async function measureLedger({ worker, notifyUrl, orders, seconds, runs = 3, log = () => {} }) {
  const url = worker.url;
  const empty = await benchMerchant(worker, notifyUrl, 'Ledger bench, empty');
  const full = await benchMerchant(worker, notifyUrl, 'Ledger bench, long history');
  log(`ledger: filling a merchant with ${orders} orders`);
  const fill = await loadRun({ url, scenario: 'create', connections: 8, amount: orders, merchant: full });
  log(`ledger: filled at ${fill.req_per_s.toFixed(0)} req/s (${fill.ok} acknowledged)`);
  // Warm both objects, then start both rate windows empty.
  await loadRun({ url, scenario: 'create', connections: 8, duration: 1, merchant: empty });
  for (const m of [empty, full]) await advance(worker, m, 61);
  for (const m of [empty, full]) await loadRun({ url, scenario: 'create', connections: 8, duration: 1, merchant: m });
  const one = async (m) => {
    const a = await sqlMeter(worker, m);
    const x = await loadRun({ url, scenario: 'create', connections: 8, duration: seconds, merchant: m });
    x.sql_per_request = perRequest(a, await sqlMeter(worker, m));
    return x;
  };
  const e = [];
  const f = [];
  for (let i = 0; i < runs; i++) {
    e.push(await one(empty));
    f.push(await one(full));
  }
  const out = { orders: fill.ok, fill_req_per_s: fill.req_per_s, runs, seconds_per_run: seconds, empty: pool(e), full: pool(f) };
  out.ratio_req_per_s = ratio(out.full.req_per_s, out.empty.req_per_s);
  out.ratio_p99 = ratio(out.full.p99_ms, out.empty.p99_ms);
  // Each pair of runs back to back (empty, then full): how far the ratio moves from pair to pair.
  const rate = (x) => x.ok / x.seconds;
  out.pair_ratios_req_per_s = e.map((x, i) => ratio(rate(f[i]), rate(x)));
  log(`ledger: create ${out.empty.req_per_s.toFixed(0)} req/s empty, ${out.full.req_per_s.toFixed(0)} with ${out.orders} orders (${out.ratio_req_per_s?.toFixed(2)}x); p99 ${out.empty.p99_ms} -> ${out.full.p99_ms} ms; rows read per create ${out.empty.rows_read_per_create.toFixed(1)} -> ${out.full.rows_read_per_create.toFixed(1)}`);
  return out;
}
