// `cargo xtask bench` runs this after building everything and running the criterion benches:
// it measures the pay page, the edge, notifications and storage against the real worker, and
// writes target/bench/report.json and report.md (and a copy in target/bench/history/).
//
// By hand, after `cargo xtask build` (node_modules/.bin first on PATH):
//   node bench/run.mjs [--only size,page,edge,ledger,micro,notify,storage,bill,risk] [--runs 10]
//                      [--seconds 4] [--levels 1,8,32] [--edge-rounds 8] [--orders 300] [--pay-orders 300]
//                      [--bill-orders 10000] [--ledger-orders 100000]
//                      [--quick] [--save-worker DIR] [--against DIR] [--ab-rounds 8] [--ab-connections 8]
//
// A/B of two builds: `--save-worker DIR` keeps the worker as built now in DIR; after a change,
// `--only ab --against DIR` runs the new build and the saved one side by side
// (bench/lib/worker_ab.mjs).

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startReceiver } from '../tests/support/receiver.mjs';
import { devVars, ROOT, startWorker } from '../tests/support/worker.mjs';
import { startServe } from '../tests/support/selfhost.mjs';
import { benchMerchant, measureEdge } from './lib/edge_load.mjs';
import { readCriterion } from './lib/micro.mjs';
import { createSigned } from './lib/orders.mjs';
import { discoverPayPage, measurePageLoad, removeStaticBaseline, writeStaticBaseline } from './lib/page_load.mjs';
import { checkTargets, previousReport, renderMarkdown } from './lib/report.mjs';
import { measureSizes } from './lib/sizes.mjs';
import { call } from '../tests/support/api.mjs';

const SECTIONS = ['size', 'page', 'edge', 'ledger', 'micro', 'notify', 'storage', 'bill', 'risk'];
/** Run only when asked for: the A/B needs a saved build (`--against`). */
const ON_REQUEST = ['ab'];
const { values: a } = parseArgs({
  options: {
    only: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'target', 'bench') },
    runs: { type: 'string' },
    seconds: { type: 'string' },
    levels: { type: 'string' },
    'edge-rounds': { type: 'string' },
    orders: { type: 'string' },
    'pay-orders': { type: 'string' },
    'bill-orders': { type: 'string' },
    'ledger-orders': { type: 'string' },
    'criterion-since': { type: 'string', default: '0' },
    command: { type: 'string', default: 'node bench/run.mjs' },
    quick: { type: 'boolean', default: false },
    'save-worker': { type: 'string' },
    against: { type: 'string' },
    'ab-rounds': { type: 'string' },
    'ab-connections': { type: 'string' },
  },
});
const only = new Set(a.only ? a.only.split(',') : [...SECTIONS, ...(a.against ? ['ab'] : [])]);
for (const s of only) if (![...SECTIONS, ...ON_REQUEST].includes(s)) throw new Error(`unknown section ${s}; one of ${[...SECTIONS, ...ON_REQUEST].join(', ')}`);
if (only.has('ab') && !a.against) throw new Error('--only ab compares with a saved build: give it --against DIR (saved by --save-worker DIR)');
const q = a.quick;
const runs = Number(a.runs ?? (q ? 3 : 10));
const seconds = Number(a.seconds ?? (q ? 1 : 4));
const levels = (a.levels ?? (q ? '8' : '1,8,32')).split(',').map(Number);
const edgeRounds = Number(a['edge-rounds'] ?? (q ? 2 : 8));
const orders = Number(a.orders ?? (q ? 30 : 300));
const payOrders = Number(a['pay-orders'] ?? (q ? 50 : 300));
const billOrders = Number(a['bill-orders'] ?? (q ? 1000 : 10_000));
const ledgerOrders = Number(a['ledger-orders'] ?? (q ? 2_000 : 100_000));
const abRounds = Number(a['ab-rounds'] ?? (q ? 2 : 8));
const abConnections = Number(a['ab-connections'] ?? 8);

const log = (m) => console.error(`bench: ${m}`);
const sh = (cmd, args) => { try { return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; } };
const pkgVersion = (name) => { try { return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { return null; } };

const started = Date.now();
const head = sh('git', ['rev-parse', 'HEAD']);
const dirty = (sh('git', ['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
const commit = { head, parent: sh('git', ['rev-parse', 'HEAD~1']), dirty, key: `${head?.slice(0, 12) ?? 'unknown'}${dirty ? '-dirty' : ''}` };
const report = {
  commit,
  date: new Date().toISOString(),
  command: a.command,
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model?.replace(/\s+/g, ' ').trim(),
    memory_gb: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    chromium: sh(process.env.PAYDESK_CHROMIUM ?? '/usr/bin/chromium', ['--version'])?.replace(/^Chromium\s*/, '').split(' ')[0],
    wrangler: pkgVersion('wrangler'),
    workerd: pkgVersion('workerd'),
    autocannon: pkgVersion('autocannon'),
    rustc: sh('rustc', ['--version']),
  },
  settings: { runs, seconds, levels, edge_rounds: edgeRounds, ab_rounds: only.has('ab') ? abRounds : undefined, orders, pay_orders: payOrders, bill_orders: billOrders, ledger_orders: ledgerOrders, quick: q },
  skipped: SECTIONS.filter((s) => !only.has(s)),
  errors: [],
};

if (a['save-worker']) {
  const { saveWorker } = await import('./lib/worker_ab.mjs');
  log(`saved the worker as built now (${saveWorker(a['save-worker'])}) in ${a['save-worker']}`);
}

/** A new order's pay page for `m` (its path, with the token): the page the page sections load. */
async function payPagePath(w, m) {
  const o = await createSigned(w, m, `PAGE${Date.now().toString(36)}`, { amount: { total: 12800, currency: 'CNY' }, description: 'Oolong tea, 250 g tin' });
  return new URL(o.order.checkout_url).pathname;
}

/** A pending contract's signing page for `m` (its path, with the token). */
async function contractPage(w, m) {
  const plan = await call(w, m, 'POST', '/v1/contract_plans', {
    plan_id: String(Date.now()), name: 'Tea club membership', max_amount_per_deduction: 9900,
    period: 'month', max_deductions_per_period: 1, contract_days: 365,
  });
  if (plan.status !== 201) throw new Error(`bench plan: ${plan.status} ${plan.text}`);
  const c = await call(w, m, 'POST', '/v1/contracts', {
    plan_id: plan.json.plan_id, contract_code: `BENCH${Date.now().toString(36)}`, display_account: 'alice@example.com',
  });
  if (c.status !== 201) throw new Error(`bench contract: ${c.status} ${c.text}`);
  return { path: new URL(c.json.sign_url).pathname };
}

/** Runs one measurement; a failure is recorded in the report (and fails the run) but does not
 * lose the other sections' figures. */
async function section(names, fn) {
  try {
    await fn();
  } catch (e) {
    log(`${names} failed: ${e.stack ?? e}`);
    report.errors.push({ sections: names, message: String(e.message ?? e).slice(0, 4000) });
  }
}

if (only.has('size') || only.has('page') || only.has('edge')) await section('size, page, edge', async () => {
  // One worker state and one set of keys for two starts: the static baseline is a snapshot of the
  // rendered pay page, and wrangler dev serves new static files only from its next start.
  const dir = mkdtempSync(join(tmpdir(), 'paydesk-bench-'));
  const vars = devVars();
  const rx = await startReceiver();
  let w = await startWorker({ persistTo: join(dir, 'state'), vars });
  try {
    const t0 = performance.now();
    const m = await benchMerchant(w, rx.url, 'Bench Tea House');
    const firstObject = performance.now() - t0;
    const t1 = performance.now();
    await benchMerchant(w, rx.url, 'Bench second merchant');
    report.start = { ready_ms: w.ready_ms, first_merchant_ms: firstObject, second_merchant_ms: performance.now() - t1 };
    const payPath = await payPagePath(w, m);
    let firstLoad = null;
    let contractFirstLoad = null;
    if (only.has('size') || only.has('page')) {
      log('pay page: first-load discovery');
      const found = await discoverPayPage({ worker: w, checkoutUrl: `${w.url}${payPath}` });
      firstLoad = found.paths;
      log('contract page: first-load discovery');
      const contract = await contractPage(w, m);
      const foundContract = await discoverPayPage({ worker: w, checkoutUrl: `${w.url}${contract.path}` });
      contractFirstLoad = foundContract.paths;
      if (only.has('page')) {
        const baseline = writeStaticBaseline(found.html);
        const contractBaseline = writeStaticBaseline(foundContract.html, 'contract');
        await w.stop();
        w = await startWorker({ persistTo: join(dir, 'state'), vars });
        await section('page', async () => {
          log(`pay page load: ${runs} throttled loads of each page`);
          report.page_load = await measurePageLoad({ worker: w, payPath, baseline, runs, log });
          report.page_load.first_load_paths = firstLoad;
          report.page_load.first_load_encodings = found.encodings;
        });
        await section('page (contract)', async () => {
          log(`contract page load: ${runs} throttled loads of each page`);
          report.contract_page_load = await measurePageLoad({
            worker: w, payPath: contract.path, baseline: contractBaseline, runs, log, button: 'sign',
          });
          report.contract_page_load.first_load_paths = contractFirstLoad;
          report.contract_page_load.first_load_encodings = foundContract.encodings;
        });
      }
    }
    if (only.has('size')) {
      await section('size', async () => {
        log('sizes');
        report.size = await measureSizes({
          base: w.url,
          firstLoad,
          workerWasm: join(ROOT, 'edge', 'build', 'index_bg.wasm'),
          workerJs: join(ROOT, 'edge', 'build', 'index.js'),
        });
        // The contract page's own first load (its own build of the widget, the same stylesheet).
        report.size.contract_first_load = (await measureSizes({ base: w.url, firstLoad: contractFirstLoad })).first_load;
        // The merchant console's first load: its page, stylesheet, loader and wasm.
        const consoleFiles = ['/console', '/console.css', '/console.js', '/pkg/paydesk_console.js', '/pkg/paydesk_console_bg.wasm'];
        report.size.console_first_load = (await measureSizes({ base: w.url, firstLoad: consoleFiles })).first_load;
      });
    }
    if (only.has('edge')) {
      await section('edge', async () => {
        log(`edge load: concurrency ${levels.join(', ')}, ${seconds} s per run`);
        report.edge = await measureEdge({ worker: w, notifyUrl: rx.url, levels, seconds, payOrders, rounds: edgeRounds, log });
      });
    }
  } finally {
    removeStaticBaseline();
    await rx.close();
    await w.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

if (only.has('page')) await section('page (self-hosted)', async () => {
  // The pay page as `cargo xtask serve` serves it: workerd alone behind its front door
  // (edge/selfhost/front.js), which answers Chromium in brotli as Cloudflare's edge does, where
  // wrangler dev answers in gzip (the first coding in Chromium's Accept-Encoding that it takes).
  // The production stage leaves the bench's files out: its static baseline and the demo logo the
  // bench merchant shows go into the served folder once it runs. Loading a page pays nothing, so
  // no notification goes out and no receiver is needed.
  const s = await startServe();
  try {
    mkdirSync(join(s.www, 'demo'), { recursive: true });
    copyFileSync(join(ROOT, 'www', 'demo', 'logo.svg'), join(s.www, 'demo', 'logo.svg'));
    const m = await benchMerchant(s, 'https://bench-receiver.example/notify', 'Bench Tea House');
    const payPath = await payPagePath(s, m);
    log('self-hosted pay page: first-load discovery');
    const found = await discoverPayPage({ worker: s, checkoutUrl: `${s.url}${payPath}` });
    const baseline = writeStaticBaseline(found.html, 'pay', s.www);
    log(`self-hosted pay page load: ${runs} throttled loads of each page`);
    report.page_load_selfhost = await measurePageLoad({ worker: s, payPath, baseline, runs, log });
    report.page_load_selfhost.first_load_paths = found.paths;
    report.page_load_selfhost.first_load_encodings = found.encodings;
  } finally {
    await s.stop();
  }
});

if (only.has('edge')) await section('edge (self-hosted)', async () => {
  // The same loads against `cargo xtask serve` (workerd in production mode), after the wrangler
  // dev worker has stopped. Production delivers only over https to public hosts: the bench
  // merchants' notifications go through the egress gateway to the local receiver.
  const rx = await startReceiver();
  const s = await startServe({ gateway: new URL(rx.url).host });
  try {
    const t0 = performance.now();
    await benchMerchant(s, 'https://bench-receiver.example/notify', 'Bench self-hosted first merchant');
    report.selfhost_start = { ready_ms: s.ready_ms, first_merchant_ms: performance.now() - t0 };
    log(`self-hosted edge load: concurrency ${levels.join(', ')}, ${seconds} s per run`);
    report.edge_selfhost = await measureEdge({
      worker: s, notifyUrl: 'https://bench-receiver.example/notify', levels, seconds, payOrders, log, dev: false,
    });
  } finally {
    await s.stop();
    await rx.close();
  }
});

if (only.has('ledger')) await section('ledger', async () => {
  const { measureLedger } = await import('./lib/ledger.mjs');
  const rx = await startReceiver();
  const w = await startWorker();
  try {
    report.ledger = await measureLedger({ worker: w, notifyUrl: rx.url, orders: ledgerOrders, seconds, runs: q ? 1 : 5, log });
  } finally {
    await rx.close();
    await w.stop();
  }
});

if (only.has('ab')) await section('ab', async () => {
  // The build under test and the saved one, both under `wrangler dev` at once: a create and a
  // write on each in turn, at `--ab-connections` (8), `seconds` per run (2 s runs moved by ±13%
  // A/A). At one connection a rate is bound by latency, which the CPU figures do not show.
  const { measureAb, savedLabel, savedWorkerConfig } = await import('./lib/worker_ab.mjs');
  const config = savedWorkerConfig(a.against);
  const rx = await startReceiver();
  const workers = [];
  try {
    workers.push(await startWorker());
    workers.push(await startWorker({ config }));
    const sides = [{ name: 'this build', worker: workers[0] }, { name: 'saved build', worker: workers[1] }];
    log(`A/B against ${a.against}: ${abRounds} rounds`);
    report.ab = { saved: savedLabel(a.against), ...await measureAb({ sides, notifyUrl: rx.url, rounds: abRounds, seconds, connections: abConnections, log }) };
  } finally {
    for (const w of workers) await w.stop();
    await rx.close();
  }
});

if (only.has('micro')) {
  report.micro = readCriterion(join(ROOT, 'target', 'criterion'), Number(a['criterion-since']));
  if (report.micro.length === 0) log('no criterion results: run `cargo bench -p paydesk-shared -p paydesk-edge` first');
}

if (only.has('notify') || only.has('storage')) await section('notify, storage', async () => {
  log(`notification latency over ${orders} orders`);
  // node:sqlite (still marked experimental in Node 22) is loaded only when needed.
  const { measureNotifyAndStorage } = await import('./lib/notify.mjs');
  const ns = await measureNotifyAndStorage({ orders, log });
  if (only.has('notify')) report.notify = ns.latency;
  if (only.has('storage')) report.storage = ns.storage;
});

if (only.has('bill')) await section('bill', async () => {
  const { measureBill } = await import('./lib/bill.mjs');
  const { admin } = await import('../tests/support/api.mjs');
  const w = await startWorker();
  try {
    let k = 0;
    const newMerchant = async (fields) => {
      const r = await admin(w, 'POST', '/admin/merchants', { name: `Bench bill ${++k}`, tier: 'enterprise', sandbox: true, branding: { display_name: 'Bench' }, ...fields });
      if (r.status !== 201) throw new Error(`bench merchant: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    };
    const advance = async (m, seconds) => {
      const r = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/clock/advance`, { seconds });
      if (r.status !== 200) throw new Error(`bench advance: ${r.status} ${JSON.stringify(r.json)}`);
    };
    report.bill = await measureBill({ worker: w, newMerchant, advance, orders: billOrders, runs: Math.max(3, Math.round(runs / 2)), log });
  } finally {
    await w.stop();
  }
});

if (only.has('risk')) await section('risk', async () => {
  const { measureRiskBurst } = await import('./lib/risk.mjs');
  const w = await startWorker();
  try {
    report.risk = await measureRiskBurst({ worker: w, burst: q ? 200 : 1_000, calm: q ? 20 : 60, spreadMs: q ? 12_000 : 60_000, log });
  } finally {
    await w.stop();
  }
});

report.seconds = (Date.now() - started) / 1000;
report.targets = checkTargets(report);
const historyDir = join(a.out, 'history');
mkdirSync(historyDir, { recursive: true });
const prev = previousReport(historyDir, { key: commit.key, head: commit.head?.slice(0, 12), parent: commit.parent?.slice(0, 12), dirty });
if (prev) report.compared_with = { commit: prev.report.commit.key, how: prev.how };
const md = renderMarkdown(report, prev);
writeFileSync(join(a.out, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
writeFileSync(join(a.out, 'report.md'), `${md}\n`);
// Only complete reports become history: a partial run should not hide the last full one.
if (report.skipped.length === 0 && report.errors.length === 0 && !q) copyFileSync(join(a.out, 'report.json'), join(historyDir, `${commit.key}.json`));
console.log(md);
log(`wrote ${join(a.out, 'report.md')} and report.json in ${Math.round(report.seconds)} s`);
if (report.errors.length) process.exitCode = 1;
