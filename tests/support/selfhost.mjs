// Starts the self-hosted server exactly as an operator does, `cargo xtask serve` (workerd in
// production mode, docs/self-host.md), on a free port with its own env file and data folder, and
// gives back the same handle as startWorker (tests/support/worker.mjs), so every helper and the
// smoke suite work against either. `www` is the folder its front door serves files from.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, devVars, freePort, track, stopWorker } from './worker.mjs';

/** Fresh production secrets: what `cargo xtask serve --init` writes (no dev or demo keys). */
export function serveVars() {
  const { ADMIN_TOKEN, CHECKOUT_TOKEN_KEY, RECEIPT_SIGNING_KEYS, DATA_KEYS } = devVars();
  return { ADMIN_TOKEN, CHECKOUT_TOKEN_KEY, RECEIPT_SIGNING_KEYS, DATA_KEYS };
}

/** Writes an env file (mode 600, outside the repository) and answers its path. */
export function envFile(vars, mode = 0o600) {
  const path = join(mkdtempSync(join(tmpdir(), 'paydesk-env-')), 'paydesk.env');
  writeFileSync(path, Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode });
  return path;
}

/**
 * `cargo xtask serve`. `data`: the data folder (fresh by default); `vars`: the env file's
 * secrets; `gateway`: `host:port` that every outbound request goes to (--egress-gateway);
 * `port`: the port to listen on (a free one by default).
 */
export async function startServe({ data, vars = serveVars(), gateway, port } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await serveOnce({ data, vars, gateway, port: port ?? await freePort() });
    } catch (e) {
      if (port || attempt >= 3 || !/Address already in use/.test(e.message)) throw e;
    }
  }
}

async function serveOnce({ data, vars, gateway, port }) {
  const dir = mkdtempSync(join(tmpdir(), 'paydesk-serve-'));
  const state = data ?? join(dir, 'data');
  const args = ['xtask', 'serve', '--listen', `127.0.0.1:${port}`, '--data', state, '--env-file', envFile(vars)];
  if (gateway) args.push('--egress-gateway', gateway);
  const child = spawn('cargo', args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const server = { pid: child.pid, child, port, url: `http://127.0.0.1:${port}`, env: vars, state, log: '' };
  track(server);
  child.stdout.on('data', (d) => { server.log += d; });
  child.stderr.on('data', (d) => { server.log += d; });
  server.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // Its staged files (`target/serve/<listen address>/`) go when it stops, crashed or not.
  const stage = join(ROOT, 'target', 'serve', `127_0_0_1_${port}`);
  server.www = join(stage, 'www');
  server.exited.then(() => rmSync(stage, { recursive: true, force: true }));
  server.stop = () => stopWorker(server);
  let early = null;
  server.exited.then((x) => { early = x; });
  // The readiness line comes once /api/health says storage answers; a cold build may come first.
  const deadline = Date.now() + 600_000;
  const started = performance.now();
  while (!/paydesk ready on /.test(server.log)) {
    if (early) throw new Error(`cargo xtask serve exited early (${JSON.stringify(early)}):\n${server.log}`);
    if (Date.now() > deadline) {
      await stopWorker(server);
      throw new Error(`cargo xtask serve did not become ready:\n${server.log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  server.ready_ms = performance.now() - started;
  return server;
}
