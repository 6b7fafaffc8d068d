// Edge throughput and latency through `wrangler dev` (workerd) on loopback, with autocannon as
// the load generator (bench/lib/load_child.mjs, one process per run). At each concurrency level:
// signed order create, signed order query, the checkout API GET, the pay page GET and a full pay
// call (each order paid once), each between two runs of GET /api/live (the runtime's own floor).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { admin, sqlMeter } from '../../tests/support/api.mjs';
import { ROOT } from '../../tests/support/worker.mjs';
import { signedCreate } from './orders.mjs';
import { workerdCpuMs } from './proc_cpu.mjs';
import { ratio, roundsMedian } from './stats.mjs';

const CHILD = join(ROOT, 'bench', 'lib', 'load_child.mjs');

export const SCENARIOS = [
  { id: 'write', label: 'one-INSERT object write (dev-only POST /dev/merchants/{id}/bench-write)' },
  { id: 'create', label: 'order create (signed POST /v1/orders)' },
  { id: 'query', label: 'order query (signed GET /v1/orders/{no})' },
  { id: 'checkout', label: 'checkout GET (/api/checkout/{token})' },
  { id: 'page', label: 'pay page GET (/pay/{token})' },
  { id: 'pay', label: 'full pay call (POST /api/checkout/{token}/pay, card)' },
];

/** Runs one load-generator process and returns its result line. */
export function loadRun(spec) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator (${spec.scenario}) exited ${code}: ${err}`));
      try { resolve(JSON.parse(out.trim().split('\n').at(-1))); } catch (e) { reject(new Error(`load generator output: ${out}\n${err}`)); }
    });
  });
}

/**
 * One load run, with the CPU the runtime spent per answered request (`cpu_ms`): workerd's
 * processes in the process group `pgid`, read from /proc before and after; `null` where /proc
 * cannot be read or nothing was answered.
 */
export async function loadRunWithCpu(spec, pgid) {
  const before = workerdCpuMs(pgid);
  const run = await loadRun(spec);
  const after = workerdCpuMs(pgid);
  return { ...run, cpu_ms: before != null && after != null && run.ok > 0 ? (after - before) / run.ok : null };
}

/**
 * A bench-only merchant: an ordinary sandbox merchant created through the admin API, with its
 * per-minute limits raised to the maximum the admin API accepts. No code path is switched off.
 */
export async function benchMerchant(worker, notifyUrl, name) {
  const r = await admin(worker, 'POST', '/admin/merchants', {
    name,
    tier: 'enterprise',
    sandbox: true,
    branding: { display_name: name, theme_color: '#0f766e', logo_url: '/demo/logo.svg' },
    notify_url: notifyUrl,
    rate_limits: { create: 100_000, query: 100_000, refund: 100_000 },
  });
  if (r.status !== 201) throw new Error(`bench merchant: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** Orders created (not measured) by a signed client with 8 in flight: numbers and tokens. */
const prefill = (worker, merchant, n) => signedCreate(worker, merchant, n, 8);

/** Statements and rows per request between two meter readings (the later reading counts itself). */
export function perRequest(a, b) {
  const n = b.runs - a.runs - 1;
  const per = (k) => (n > 0 ? (b[k] - a[k]) / n : null);
  return { requests: n, statements: per('statements'), rows_read: per('rows_read'), rows_written: per('rows_written') };
}

/** After a run with no answer at all: is the worker still there? If not, say what it said. */
async function stillServing(worker, what) {
  const r = await fetch(`${worker.url}/api/health`).catch((e) => ({ status: e.cause?.code ?? String(e) }));
  if (r.status !== 200) {
    throw new Error(`the worker stopped answering during ${what} (${r.status}); its log ends:\n${worker.log.slice(-4000)}`);
  }
}

/**
 * `dev`: the worker has the dev-only routes (the one-INSERT write, the SQL meter); a production
 * server (`cargo xtask serve`) has not, and is measured without them.
 */
export async function measureEdge({ worker, notifyUrl, levels, seconds, payOrders, rounds = 0, log = () => {}, dev = true }) {
  const base = { url: worker.url };
  const scenarios = SCENARIOS.filter((s) => dev || s.id !== 'write');
  const results = [];
  // Warm-up, not reported: the first requests compile the wasm and open the merchant's object.
  const warm = await benchMerchant(worker, notifyUrl, 'Bench warm-up');
  await loadRun({ ...base, scenario: 'health', connections: 8, duration: 1 });
  await loadRun({ ...base, scenario: 'create', connections: 8, duration: 1, merchant: warm });

  for (const c of levels) {
    // A fresh merchant (its own Durable Object) per level, so each level starts from the same
    // state: empty nonce and rate-window tables.
    const m = await benchMerchant(worker, notifyUrl, `Bench merchant c${c}`);
    const pool = await prefill(worker, m, 200);
    const toPay = await prefill(worker, m, payOrders);
    const spec = { ...base, connections: c, merchant: m };
    const health = () => loadRun({ ...spec, scenario: 'health', duration: seconds / 2 });
    const level = { connections: c, runs: {}, health_runs: [] };
    // Each run sits between two half-length health runs: on a shared machine the load from
    // elsewhere changes by the minute, and the ratio compares like with like.
    let before = await health();
    level.health_runs.push(before);
    for (const s of scenarios) {
      const run = s.id === 'pay'
        ? { ...spec, scenario: 'pay', tokens: toPay.map((o) => o.token), amount: toPay.length }
        : { ...spec, scenario: s.id, duration: seconds, otns: pool.map((o) => o.out_trade_no), tokens: pool.map((o) => o.token) };
      const metered = dev && s.id === 'create' ? await sqlMeter(worker, m) : null;
      const x = await loadRun(run);
      if (x.ok === 0) await stillServing(worker, `${s.id} at c=${c}`);
      if (metered) x.sql_per_request = perRequest(metered, await sqlMeter(worker, m));
      const after = await health();
      level.health_runs.push(after);
      x.health_req_per_s = (before.req_per_s + after.req_per_s) / 2;
      x.ratio_to_health = ratio(x.req_per_s, x.health_req_per_s);
      level.runs[s.id] = x;
      log(`edge c=${c} ${s.id}: ${x.req_per_s.toFixed(0)} req/s (health beside it ${x.health_req_per_s.toFixed(0)}), p50 ${x.p50_ms?.toFixed(2)} ms, p99 ${x.p99_ms?.toFixed(2)} ms, non-2xx ${x.non2xx}`);
      before = after;
    }
    if (dev) level.runs.create.ratio_to_write = ratio(level.runs.create.req_per_s, level.runs.write.req_per_s);
    if (dev && rounds > 0) level.paired = await pairedRounds({ spec, rounds, seconds: seconds / 2, pgid: worker.pid, log });
    const hs = level.health_runs;
    const mean = (k) => hs.reduce((a, h) => a + h[k], 0) / hs.length;
    level.health = {
      req_per_s: mean('req_per_s'),
      min_req_per_s: Math.min(...hs.map((h) => h.req_per_s)),
      max_req_per_s: Math.max(...hs.map((h) => h.req_per_s)),
      p50_ms: mean('p50_ms'),
      p99_ms: Math.max(...hs.map((h) => h.p99_ms)),
      non2xx: hs.reduce((a, h) => a + h.non2xx + h.errors, 0),
    };
    results.push(level);
  }
  return { seconds_per_run: seconds, pay_orders_per_level: payOrders, rounds, levels: results, scenarios };
}

/**
 * The two goal ratios again, from `rounds` short rounds of health, create and write run back to
 * back, each round in another order (the three rotate, so none always runs first or after the
 * same one). One run per endpoint, as above, is one draw: on a shared 2-core machine the load
 * from elsewhere moves a run's rate by 10-20% from one run to the next. Each round's ratio
 * compares runs seconds apart; their median, with its bootstrap interval, is what the goal is
 * judged by. Each run also reads the CPU the runtime spent per answered request (workerd's
 * processes in the group `pgid`): what a create costs beside a write, measured directly rather
 * than through throughput (at one connection, latency bounds throughput, not CPU). The load
 * generator's own CPU per answered request is kept beside it: it runs on the same cores.
 */
async function pairedRounds({ spec, rounds, seconds, pgid, log }) {
  const order = ['health', 'create', 'write'];
  const per = [];
  for (let i = 0; i < rounds; i++) {
    const turn = [...order.slice(i % 3), ...order.slice(0, i % 3)];
    const rps = {};
    const cpu = {};
    const client = {};
    for (const scenario of turn) {
      const run = await loadRunWithCpu({ ...spec, scenario, duration: seconds }, pgid);
      rps[scenario] = run.req_per_s;
      cpu[scenario] = run.cpu_ms;
      client[scenario] = run.client_cpu_ms;
    }
    per.push({
      ...rps,
      cpu_ms: cpu,
      client_cpu_ms: client,
      create_to_health: ratio(rps.create, rps.health),
      create_to_write: ratio(rps.create, rps.write),
      cpu_create_to_write: ratio(cpu.create, cpu.write),
    });
    log(`edge c=${spec.connections} round ${i + 1}/${rounds}: create / health ${per.at(-1).create_to_health?.toFixed(3)}x, create / write ${per.at(-1).create_to_write?.toFixed(3)}x (CPU ${per.at(-1).cpu_create_to_write?.toFixed(3)}x)`);
  }
  const of = (pick) => roundsMedian(per.map(pick));
  return {
    rounds,
    seconds_per_run: seconds,
    create_to_health: of((r) => r.create_to_health),
    create_to_write: of((r) => r.create_to_write),
    cpu_ms: Object.fromEntries(order.map((k) => [k, of((r) => r.cpu_ms[k])])),
    client_cpu_ms: Object.fromEntries(order.map((k) => [k, of((r) => r.client_cpu_ms[k])])),
    cpu_create_to_write: of((r) => r.cpu_create_to_write),
    per_round: per,
  };
}
