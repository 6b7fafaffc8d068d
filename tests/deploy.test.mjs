// Deploying to Cloudflare (docs/deploy.md): `cargo xtask deploy --dry-run` bundles without an
// account, and what it staged runs under workerd as production: the demo shop, the demo logo and
// the dev routes answer 404, the pay page's files and the API answer, and no secret came from the
// repository.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, devVars, startWorker, stopWorker } from './support/worker.mjs';

const STAGE = join(ROOT, 'target', 'deploy');
let out = '';
let w;

before(async () => {
  const r = spawnSync('cargo', ['xtask', 'deploy', '--dry-run'], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 });
  out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  // Secrets only: the staged configuration itself must say production.
  const { PAYDESK_ENV, DEMO_API_KEY, DEMO_MERCHANT_ID, DEMO_WEBHOOK_SECRET, ...secrets } = devVars();
  w = await startWorker({ vars: secrets, config: join(STAGE, 'wrangler.toml') });
});

after(async () => { if (w) await stopWorker(w); });

test('the_dry_run_bundles_the_worker_and_says_its_size_against_the_limits', () => {
  const bundle = join(STAGE, 'bundle');
  const files = readdirSync(bundle);
  assert.ok(files.some((f) => f.endsWith('.wasm')), files.join(', '));
  assert.ok(files.some((f) => f.endsWith('.js')), files.join(', '));
  const m = out.match(/upload (\d+) KiB gzip: (\d+)% of the Free plan's 3072 KiB, (\d+)% of the Paid plan's 10240 KiB/);
  assert.ok(m, out);
  const wasm = files.filter((f) => f.endsWith('.wasm')).reduce((a, f) => a + statSync(join(bundle, f)).size, 0);
  assert.ok(Number(m[1]) * 1024 < wasm, 'the reported upload is compressed');
  assert.ok(Number(m[1]) < 3072, `${m[1]} KiB fits the Free plan`);
});

test('the_staged_assets_and_config_hold_nothing_dev_only_or_secret', () => {
  const www = readdirSync(join(STAGE, 'www'));
  for (const dev of ['shop', 'demo', 'bench-static']) assert.ok(!www.includes(dev), `${dev} is not deployed`);
  for (const f of ['pay.css', 'embed.js', '_headers', 'a', 'pkg']) assert.ok(www.includes(f), `${f} is deployed`);
  const config = readFileSync(join(STAGE, 'wrangler.toml'), 'utf8');
  assert.doesNotMatch(config, /^\[build\]/m);
  assert.match(config, /^PAYDESK_ENV = "production"$/m);
  for (const secret of ['ADMIN_TOKEN', 'CHECKOUT_TOKEN_KEY', 'RECEIPT_SIGNING_KEYS', 'DATA_KEYS', 'DEMO_API_KEY']) {
    assert.doesNotMatch(config, new RegExp(`^${secret}\\s*=`, 'm'), `${secret} is not in the config`);
  }
  assert.ok(!existsSync(join(STAGE, '.dev.vars')));
});

test('the_staged_worker_answers_404_for_the_demo_shop_and_the_dev_routes', async () => {
  for (const path of ['/shop/', '/shop/index.html', '/demo/logo.svg']) {
    const r = await fetch(w.url + path);
    assert.equal(r.status, 404, path);
    await r.arrayBuffer();
  }
  const demo = await fetch(`${w.url}/dev/demo-order`, { method: 'POST' });
  assert.equal(demo.status, 404);
  await demo.arrayBuffer();
  for (const path of ['/api/health', '/pay.css', '/embed.js', '/']) {
    const r = await fetch(w.url + path);
    assert.equal(r.status, 200, path);
    await r.arrayBuffer();
  }
  // The API works: an operator creates a merchant with the admin token put as a secret.
  const r = await fetch(`${w.url}/admin/merchants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Staged Shop', tier: 'enterprise', branding: { display_name: 'Staged Shop' } }),
  });
  assert.equal(r.status, 201, await r.text());
});
