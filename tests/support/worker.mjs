// Starts the real worker under `wrangler dev` (workerd) for black-box tests, on a free port,
// with its own dev keys and its own persisted Durable Object state, and stops it again.
//
// Each worker runs in its own process group; stop() kills the group, and so does process exit,
// so no wrangler or workerd outlives the test run, on failure too.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A fenced block of the README, found by the marker comment (`<!-- marker -->`) just before it. */
export function readmeBlock(marker) {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = text.indexOf(`<!-- ${marker} -->`);
  if (at < 0) throw new Error(`README has no <!-- ${marker} -->`);
  return /```\w*\n([\s\S]*?)```/.exec(text.slice(at))[1];
}
export const ARTIFACTS = join(ROOT, 'target', 'test-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const live = new Set();
const killAll = () => {
  for (const w of live) {
    try { process.kill(-w.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
};
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killAll(); process.exit(130); });
}

/** Waits (polling every 100 ms, never a fixed sleep) until `pred()` answers something truthy. */
export async function waitUntil(pred, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Puts another server (tests/support/selfhost.mjs) under the same stop and exit handling. */
export function track(worker) {
  live.add(worker);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Fresh dev-only keys, as `cargo xtask dev` would write them to .dev.vars. */
export function devVars(overrides = {}) {
  return {
    PAYDESK_ENV: 'dev',
    ADMIN_TOKEN: `test_admin_${randomBytes(16).toString('hex')}`,
    CHECKOUT_TOKEN_KEY: `test_checkout_${randomBytes(24).toString('hex')}`,
    DEMO_MERCHANT_ID: `mch_${randomBytes(8).toString('hex')}`,
    DEMO_API_KEY: `test_key_${randomBytes(16).toString('hex')}`,
    DEMO_WEBHOOK_SECRET: `whsec_test_${randomBytes(16).toString('hex')}`,
    RECEIPT_SIGNING_KEYS: `test-1:${randomBytes(32).toString('hex')}`,
    DATA_KEYS: `test-1:${randomBytes(32).toString('hex')}`,
    ...overrides,
  };
}

/**
 * Starts a worker. `persistTo` keeps Durable Object state across restarts (a fresh temporary
 * folder by default); `vars` are its environment (see devVars); `logLevel: 'info'` keeps what
 * wrangler's simulated send_email binding logs of each email (see sentEmails); `config` is
 * another wrangler configuration than edge/wrangler.toml (the staged production one).
 */
export async function startWorker({ persistTo, vars, logLevel = 'warn', config } = {}) {
  // A port found free can be taken by another test's server before wrangler binds it: that
  // start fails at once, and is tried again on fresh ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ persistTo, vars, logLevel, config });
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/.test(e.message)) throw e;
    }
  }
}

async function startOnce({ persistTo, vars, logLevel, config }) {
  const dir = mkdtempSync(join(tmpdir(), 'paydesk-test-'));
  const state = persistTo ?? join(dir, 'state');
  const env = vars ?? devVars();
  const envFile = join(dir, 'test.env');
  writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const port = await freePort();
  const inspector = await freePort();
  const args = [
    'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector),
    '--persist-to', state, '--env-file', envFile, '--show-interactive-dev-session=false',
    '--log-level', logLevel,
    ...(config ? ['--config', config] : []),
  ];
  const spawnedAt = performance.now();
  const child = spawn('wrangler', args, {
    cwd: join(ROOT, 'edge'),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // X_LOCAL_OBSERVABILITY=false: wrangler's local trace collector (on by default in
    // `wrangler dev`, never part of the deployed or self-hosted worker) runs in the same workerd
    // thread as the worker and writes a trace of every invocation to its own SQLite database,
    // one fsync per commit. An order create is two invocations (the worker and the merchant's
    // object), `GET /api/live` one: with it, tests and benches measured wrangler's tracing as
    // much as the worker (create 270 vs 420 req/s at 8 connections on a 2-core machine).
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', X_LOCAL_OBSERVABILITY: 'false' },
  });
  const worker = { pid: child.pid, child, port, url: `http://127.0.0.1:${port}`, env, state, log: '' };
  live.add(worker);
  child.stdout.on('data', (d) => { worker.log += d; });
  child.stderr.on('data', (d) => { worker.log += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  worker.exited = exited;
  worker.stop = () => stopWorker(worker);

  // Wait for the condition (health answers), never a fixed sleep; give up after 3 minutes
  // (a cold build may run inside wrangler's [build] step).
  const deadline = Date.now() + 180_000;
  let early = null;
  exited.then((x) => { early = x; });
  while (true) {
    if (early) {
      live.delete(worker);
      throw new Error(`wrangler exited early (${JSON.stringify(early)}):\n${worker.log}`);
    }
    try {
      const r = await fetch(`${worker.url}/api/health`);
      if (r.status === 200) {
        // The bench reports it as the worker's start: wrangler, workerd and the wasm's compile.
        worker.ready_ms = performance.now() - spawnedAt;
        break;
      }
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stopWorker(worker);
      throw new Error(`worker did not become healthy:\n${worker.log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return worker;
}

/**
 * The emails the worker sent, as `wrangler dev` simulates the send_email binding: it logs each
 * one (from, to, subject) and writes its text to a file. Needs `logLevel: 'info'`.
 */
export function sentEmails(worker) {
  // eslint-disable-next-line no-control-regex
  const log = worker.log.replace(/\x1b\[[0-9;]*m/g, '');
  const re = /send_email binding called with MessageBuilder:\nFrom: (.*)\nTo: (.*)\nSubject: (.*)\n\nText: (\S+)/g;
  return [...log.matchAll(re)].map(([, from, to, subject, file]) => ({ from, to, subject, text: readFileSync(file, 'utf8') }));
}

/** Waits (polling, no fixed sleeps) until `pred(sentEmails(worker))` holds. */
export async function waitForEmails(worker, pred, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sent = sentEmails(worker);
    if (pred(sent)) return sent;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; sent: ${JSON.stringify(sent.map((e) => [e.to, e.subject]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A crash: SIGKILL to the whole group at once, no chance to flush anything. */
export async function crashWorker(worker) {
  if (!live.has(worker)) return;
  live.delete(worker);
  try { process.kill(-worker.pid, 'SIGKILL'); } catch { return; }
  await worker.exited;
}

/** SIGTERM to the whole group, then SIGKILL if it has not gone within 10 s. */
export async function stopWorker(worker) {
  if (!live.has(worker)) return;
  live.delete(worker);
  try { process.kill(-worker.pid, 'SIGTERM'); } catch { return; }
  const killer = setTimeout(() => {
    try { process.kill(-worker.pid, 'SIGKILL'); } catch { /* gone */ }
  }, 10_000);
  await worker.exited;
  clearTimeout(killer);
  // workerd may outlive wrangler briefly; make sure the group is gone.
  try { process.kill(-worker.pid, 'SIGKILL'); } catch { /* gone */ }
}

/** A demo order through the dev-only route. */
export async function demoOrder(worker, body = {}) {
  const r = await fetch(`${worker.url}/dev/demo-order`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`demo order: ${r.status} ${await r.text()}`);
  return r.json();
}

/** The SQLite files under a persisted state folder (one per Durable Object). */
export function sqliteFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sqliteFiles(p));
    else if (name.endsWith('.sqlite')) out.push(p);
  }
  return out;
}
