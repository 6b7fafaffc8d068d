// Self-hosting on workerd (docs/self-host.md): `cargo xtask serve` runs the worker in production
// mode on the merchant's own machine. The smoke layer (tests/support/smoke.mjs) runs against it
// as against `wrangler dev`; a stop in the middle of a run loses no acknowledged order or
// notification; the env file must be private, outside the repository and complete; the front
// door serves the production www/ with www/_headers and nothing dev-only.
//
// Production delivers only over https to public hosts, so the merchant's notify_url here is
// https://shop.example/..., and the server's egress goes to the test's receiver in plain HTTP
// (`--egress-gateway`), as it would to an egress gateway that originates TLS.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { ROOT, crashWorker, waitUntil } from './support/worker.mjs';
import { startServe, serveVars, envFile } from './support/selfhost.mjs';
import { startReceiver } from './support/receiver.mjs';
import { smokeTests } from './support/smoke.mjs';
import { parseHeaders, headersFor, fileOf, encodingFor } from '../edge/selfhost/front.js';
import { call, newMerchant, createOrder, pay, advance, CARD, otn, sign, nonce } from './support/api.mjs';
import { request as httpRequest } from 'node:http';

const NOTIFY = 'https://shop.example/paydesk/notify';
const RELAY = 'https://mail-relay.shop.example/send';
const gatewayOf = (rx) => new URL(rx.url).host;

const ctx = {};
before(async () => {
  ctx.rx = await startReceiver();
  ctx.notifyUrl = NOTIFY;
  const vars = { ...serveVars(), EMAIL_FROM: 'notifications@shop.example', EMAIL_RELAY_URL: RELAY, EMAIL_RELAY_TOKEN: 'relay-token-123' };
  ctx.w = await startServe({ vars, gateway: gatewayOf(ctx.rx) });
});
after(async () => {
  await ctx.w?.stop();
  await ctx.rx?.close();
});

smokeTests(ctx);

test('serve_is_production_no_demo_shop_no_dev_routes_no_listings', async () => {
  for (const path of ['/shop/', '/shop/index.html', '/demo/logo.svg', '/bench-static/', '/a/', '/pkg/', '/_headers', '/..%2f_headers']) {
    const r = await fetch(ctx.w.url + path);
    assert.equal(r.status, 404, path);
    await r.arrayBuffer();
  }
  const demo = await fetch(`${ctx.w.url}/dev/demo-order`, { method: 'POST' });
  assert.equal(demo.status, 404);
  await demo.arrayBuffer();
  // The pay page's content-hashed files are served immutable, as www/_headers says.
  const page = await (await fetch((await createOrder(ctx.w, await newMerchant(ctx.w))).checkout_url)).text();
  const asset = page.match(/\/a\/[\w.-]+\.(?:js|wasm)/)?.[0];
  assert.ok(asset, 'the pay page names its hashed assets');
  const r = await fetch(ctx.w.url + asset, { method: 'HEAD' });
  assert.equal(r.status, 200, asset);
  assert.match(r.headers.get('cache-control'), /immutable/);
  assert.match(r.headers.get('content-type'), /javascript|wasm/);
  // Compressed as the client accepts, as Cloudflare's edge does: files and the worker's answers.
  for (const [path, accept, want] of [[asset, 'br, gzip', 'br'], [asset, 'gzip', 'gzip'], ['/pay.css', 'gzip, br;q=0', 'gzip'], [asset, 'identity', null]]) {
    const got = await rawGet(ctx.w.url + path, accept);
    assert.equal(got.headers['content-encoding'], want ?? undefined, `${path} for ${accept}`);
    if (want) assert.match(got.headers.vary, /Accept-Encoding/i);
  }
  const html = await rawGet(ctx.w.url + new URL((await createOrder(ctx.w, await newMerchant(ctx.w))).checkout_url).pathname, 'br');
  assert.equal(html.headers['content-encoding'], 'br', 'the pay page itself');
  const raw = await rawGet(ctx.w.url + asset, 'identity');
  const br = await rawGet(ctx.w.url + asset, 'br');
  assert.ok(br.bytes < raw.bytes / 2, `${asset}: ${br.bytes} B brotli of ${raw.bytes} B`);
  // The hashed assets go out as the build's brotli-11 copies, byte for byte, and decode to the file.
  const wasm = page.match(/\/a\/[\w.-]+\.wasm/)[0];
  const sent = await rawGet(ctx.w.url + wasm, 'gzip, deflate, br, zstd', true);
  assert.equal(sent.headers['content-encoding'], 'br');
  assert.deepEqual(sent.body, readFileSync(join(ROOT, 'www', `${wasm}.br`)));
  assert.deepEqual(brotliDecompressSync(sent.body), readFileSync(join(ROOT, 'www', wasm)));
  const embed = await fetch(`${ctx.w.url}/embed.js`);
  assert.equal(embed.headers.get('access-control-allow-origin'), '*');
  await embed.arrayBuffer();
});

test('behind_a_tls_proxy_that_keeps_the_host_the_links_are_https', async () => {
  // What Caddy or nginx sends on (docs/self-host.md): the payer's Host, over plain HTTP.
  const m = await newMerchant(ctx.w);
  const body = JSON.stringify({ out_trade_no: otn('P'), amount: { total: 500, currency: 'CNY' }, description: 'proxied' });
  const ts = String(Math.floor(Date.now() / 1000));
  const n = nonce();
  const headers = {
    host: 'pay.shop.example', 'content-type': 'application/json', 'paydesk-merchant': m.merchant_id,
    'paydesk-timestamp': ts, 'paydesk-nonce': n, 'paydesk-signature': sign(m.api_key, 'POST', '/v1/orders', ts, n, body),
  };
  const answer = await new Promise((resolve, reject) => {
    const req = httpRequest(`${ctx.w.url}/v1/orders`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(answer.status, 201, answer.text);
  assert.match(JSON.parse(answer.text).checkout_url, /^https:\/\/pay\.shop\.example\/pay\//);
});

test('emails_go_to_the_operators_mail_relay', async () => {
  const m = await newMerchant(ctx.w, { approval_levels: [{ above: 500, approvers: 1 }] });
  const staff = 'ops.lead@shop.example';
  assert.equal((await call(ctx.w, m, 'PUT', '/v1/messaging', { staff_email: staff, staff_locale: 'en' })).status, 200);
  await createOrder(ctx.w, m); // 10.00 waits for approval: staff are alerted by email
  const [mail] = await ctx.rx.waitFor((ds) => ds.some((d) => d.event?.to?.[0] === staff), 'the alert at the relay')
    .then((ds) => ds.filter((d) => d.event?.to?.[0] === staff));
  assert.equal(mail.headers.authorization, 'Bearer relay-token-123');
  assert.equal(mail.headers.host, 'mail-relay.shop.example');
  assert.match(mail.event.from, /^Test Shop \d+ <notifications@shop\.example>$/);
  assert.match(mail.event.subject, /Alert: Requests wait for approval$/);
  assert.match(mail.event.text, /wait for approval/);
  const sent = await waitUntil(async () => {
    const l = (await call(ctx.w, m, 'GET', '/v1/messages?channel=email')).json.messages;
    return l.length === 1 && l[0].status === 'DELIVERED';
  }, 'the email recorded as delivered');
  assert.ok(sent);
  // The log says what went where, the address masked: it is personal data. The line is written
  // once the relay has answered, which may be after the relay's side saw the request: wait for it.
  const handed = /email to o\*\*\*@shop\.example: ".*Alert: Requests wait for approval" handed to the relay/;
  assert.ok(await waitUntil(async () => handed.test(ctx.w.log), 'the hand-off in the log'));
  assert.doesNotMatch(ctx.w.log, /ops\.lead@shop\.example/);
});

test('the_front_door_reads_www_headers_as_cloudflare_does', () => {
  const rules = parseHeaders(readFileSync(join(ROOT, 'www/_headers'), 'utf8'));
  const at = (path) => Object.fromEntries(headersFor(rules, path));
  assert.equal(at('/pay.css')['x-content-type-options'], 'nosniff');
  assert.equal(at('/a/x.wasm')['cache-control'], 'public, max-age=31536000, immutable');
  // A header set by two rules is joined; `!` detaches what an earlier rule set.
  assert.match(at('/shop/')['content-security-policy'], /frame-ancestors 'none'.*, default-src 'self'/);
  assert.match(at('/bench-static/x.html')['content-security-policy'], /^default-src 'none'; style-src 'unsafe-inline'/);
  assert.deepEqual([fileOf('/'), fileOf('/a/'), fileOf('/x/../_headers'), fileOf('/.git/config'), fileOf('/_headers'), fileOf('/%E0')],
    ['/index.html', '/a/index.html', null, null, null, null]);
  assert.deepEqual(['br;q=1.0, gzip', 'gzip, deflate', 'br;q=0, gzip;q=0', '', 'identity'].map(encodingFor), ['br', 'gzip', null, null, null]);
});

test('the_env_file_must_be_private_outside_the_repository_and_complete', () => {
  const serve = (file) => spawnSync('cargo', ['xtask', 'serve', '--env-file', file, '--data', mkdtempSync(join(tmpdir(), 'paydesk-d-'))], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const shared = serve(envFile(serveVars(), 0o644));
  assert.notEqual(shared.status, 0);
  assert.match(shared.stderr, /others may read it: chmod 600/);
  const { DATA_KEYS, ...rest } = serveVars();
  const partial = serve(envFile(rest));
  assert.notEqual(partial.status, 0);
  assert.match(partial.stderr, /does not set DATA_KEYS/);
  const inside = join(ROOT, 'target', 'paydesk-test.env');
  writeFileSync(inside, 'ADMIN_TOKEN=x\n', { mode: 0o600 });
  const repo = serve(inside);
  assert.notEqual(repo.status, 0);
  assert.match(repo.stderr, /inside the repository/);
  const missing = serve(join(tmpdir(), `absent-${Date.now()}`, 'paydesk.env'));
  assert.match(missing.stderr, /cargo xtask serve --init/);
});

test('a_stop_mid_run_loses_no_acknowledged_order_or_notification', (t) => restartMidRun(t, 'stop'));

test('a_crash_mid_run_loses_no_acknowledged_order_or_notification', (t) => restartMidRun(t, 'crash'));

/** A run of creates, with payments' notifications waiting, cut by a stop signal or a SIGKILL. */
async function restartMidRun(t, how) {
  const rx = await startReceiver();
  rx.down = true; // the merchant's server answers 503: notifications wait in the outbox
  const gateway = gatewayOf(rx);
  const data = join(mkdtempSync(join(tmpdir(), 'paydesk-serve-restart-')), 'data');
  const vars = serveVars();
  let s = await startServe({ data, vars, gateway });
  const m = await newMerchant(s, { notify_url: NOTIFY, rate_limits: { create: 1000, query: 1000, refund: 50 } });
  const paid = [];
  for (let i = 0; i < 3; i++) {
    const o = await createOrder(s, m, { notify_url: NOTIFY });
    assert.equal((await pay(s, o, CARD('4242424242424242'))).status, 200);
    paid.push(o.out_trade_no);
  }
  await waitUntil(async () => {
    const l = (await call(s, m, 'GET', '/v1/notifications?status=PENDING')).json.notifications;
    return l.length === 3 && l.every((n) => n.attempts >= 1);
  }, 'three notifications tried once and waiting', 60_000);

  // Creates in flight, 8 at a time; the server is told to stop when the tenth is acknowledged.
  const bodies = Array.from({ length: 160 }, (_, i) => ({ out_trade_no: otn(`R${i}`), amount: { total: 100 + i, currency: 'CNY' }, description: `restart ${i}` }));
  const acknowledged = [];
  const otherErrors = [];
  let stopping = null;
  let next = 0;
  const one = (b) => call(s, m, 'POST', '/v1/orders', b).then((r) => {
    if (r.status === 201) {
      if (acknowledged.push(b) === 10) stopping = how === 'stop' ? s.stop() : crashWorker(s);
    } else if (r.status < 500) otherErrors.push(`${r.status} ${r.text}`);
  }).catch((e) => {
    if (!/fetch failed|ECONNRESET|ECONNREFUSED|socket|terminated/i.test(`${e} ${e?.cause ?? ''}`)) otherErrors.push(String(e));
  });
  await Promise.allSettled(Array.from({ length: 8 }, async () => {
    while (next < bodies.length && !stopping) await one(bodies[next++]);
  }));
  await stopping;
  assert.deepEqual(otherErrors, []);
  if (how === 'stop') {
    assert.match(s.log, /paydesk stopped/);
    assert.equal((await s.exited).code, 0, 'a stop signal is a clean exit');
    assert.deepEqual(readdirSync(join(data, 'paydesk-MerchantDO')).filter((f) => f.endsWith('-wal')), [], 'SQLite checkpointed on the way out');
  }
  t.diagnostic(`acknowledged before the ${how}: ${acknowledged.length} of ${bodies.length}`);
  // The retries' alarm is on disk, in workerd's alarm table beside the objects.
  const meta = new DatabaseSync(join(data, 'paydesk-MerchantDO', 'metadata.sqlite'), { readOnly: true });
  const [{ n: alarms }] = meta.prepare('SELECT count(*) AS n FROM _cf_ALARM WHERE scheduled_time > 0').all();
  meta.close();
  assert.ok(alarms >= 1, 'an alarm is stored for the merchant waiting to retry');

  s = await startServe({ data, vars, gateway });
  try {
    for (const b of acknowledged) {
      const r = await call(s, m, 'GET', `/v1/orders/${b.out_trade_no}`);
      assert.equal(r.status, 200, `acknowledged ${b.out_trade_no} survived`);
      assert.equal(r.json.amount.total, b.amount.total);
    }
    // What was not acknowledged is retried safely: it exists once, or is created now.
    for (const b of bodies.slice(0, next)) {
      const r = await call(s, m, 'POST', '/v1/orders', b);
      assert.ok([200, 201].includes(r.status), `${b.out_trade_no}: ${r.status} ${r.text}`);
    }
    // The merchant's server is back: every waiting notification arrives, each once.
    const from = rx.deliveries.length;
    rx.down = false;
    await advance(s, m, 17);
    const after = () => rx.deliveries.slice(from).filter((d) => d.event?.type === 'order.paid');
    await rx.waitFor(() => paid.every((o) => after().some((d) => d.event.data.out_trade_no === o)), 'the waiting notifications');
    const ids = after().map((d) => d.event.id);
    assert.equal(new Set(ids).size, ids.length, 'each notification delivered once');
    assert.equal((await call(s, m, 'GET', '/v1/audit/verify')).json.intact, true);
  } finally {
    await s.stop();
    await rx.close();
  }
}

test('a_backup_taken_while_orders_are_written_restores_every_object_consistent', async (t) => {
  const vars = serveVars();
  const s = await startServe({ vars });
  const m = await newMerchant(s, { rate_limits: { create: 1000, query: 1000, refund: 50 } });
  const before = [];
  for (let i = 0; i < 10; i++) before.push(await createOrder(s, m));
  // Requests naming merchant ids nobody created (anyone can send them) leave no tables behind
  // (workerd keeps an empty 4 KB file per object it opened; a merchant's tables alone are half a
  // megabyte): the backup below, which skips empty objects, still finds three files.
  for (let i = 0; i < 4; i++) {
    const nobody = { merchant_id: `mch_${randomBytes(8).toString('hex')}`, api_key: randomBytes(16).toString('hex') };
    assert.equal((await call(s, nobody, 'GET', '/v1/orders/X1')).json.code, 'MERCHANT_NOT_EXIST');
    const signIn = await fetch(`${s.url}/console/api/sign-in`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ merchant_id: nobody.merchant_id, email: 'a@shop.example', password: 'x'.repeat(12) }) });
    assert.equal(signIn.status, 401);
  }
  const objects = join(s.state, 'paydesk-MerchantDO');
  const tables = readdirSync(objects).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite').map((f) => {
    const db = new DatabaseSync(join(objects, f), { readOnly: true });
    try { return db.prepare('SELECT COUNT(*) AS n FROM sqlite_master').get().n; } finally { db.close(); }
  });
  assert.equal(tables.filter((n) => n > 0).length, 2, `the merchant and the storage probe: ${tables}`);
  assert.equal(tables.length, 6, 'and four empty objects');
  // Creates keep coming, 4 at a time, for as long as the backup runs.
  let writing = true;
  const written = [];
  const writers = Array.from({ length: 4 }, async () => {
    while (writing) written.push(await createOrder(s, m));
  });
  const backups = mkdtempSync(join(tmpdir(), 'paydesk-backups-'));
  const to = join(backups, 'b1');
  const taken = await xtask(['backup', '--data', s.state, '--to', to]);
  writing = false;
  await Promise.all(writers);
  assert.equal(taken.code, 0, taken.out);
  assert.match(taken.out, /backed up 3 SQLite files/, 'the merchant, the storage probe and the alarms');
  assert.equal(statSync(to).mode & 0o077, 0, 'the backup is its owner\'s alone');
  assert.equal(statSync(s.state).mode & 0o077, 0, 'so is the data directory');
  t.diagnostic(`orders written while the backup ran: ${written.length}`);
  const manifest = JSON.parse(readFileSync(join(to, 'paydesk-backup.json'), 'utf8'));
  assert.ok(manifest.files.some((f) => f.path.endsWith('metadata.sqlite')));

  // Never over a data directory that holds anything; never from a damaged backup.
  assert.match((await xtask(['restore', '--from', to, '--data', s.state])).out, /is not empty/);
  const data = join(backups, 'restored');
  const restored = await xtask(['restore', '--from', to, '--data', data]);
  assert.equal(restored.code, 0, restored.out);
  await s.stop();
  const r = await startServe({ data, vars });
  try {
    for (const o of before) {
      assert.equal((await call(r, m, 'GET', `/v1/orders/${o.out_trade_no}`)).status, 200, o.out_trade_no);
    }
    assert.equal((await call(r, m, 'GET', '/v1/audit/verify')).json.intact, true, 'the copy is not torn');
    const o = await createOrder(r, m);
    assert.equal((await pay(r, o, CARD('4242424242424242'))).status, 200, 'the restored server takes payments');
  } finally {
    await r.stop();
  }
  const damaged = manifest.files.find((f) => !f.path.endsWith('metadata.sqlite')).path;
  writeFileSync(join(to, damaged), 'not what was backed up');
  const refused = await xtask(['restore', '--from', to, '--data', join(backups, 'again')]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.out, /the backup is damaged/);
});

const USED_BEFORE = 'nonce-used-before-the-upgrade';

test('an_upgrade_migrates_each_merchants_schema_on_first_touch', async () => {
  const vars = serveVars();
  const data = join(mkdtempSync(join(tmpdir(), 'paydesk-upgrade-')), 'data');
  let s = await startServe({ data, vars });
  const merchants = [await newMerchant(s, { refund_approval_above: 100 }), await newMerchant(s)];
  const orders = [];
  for (const m of merchants) orders.push(await createOrder(s, m));
  // A refund waiting for approval: migration 37 counts it on its order when it comes back.
  const waiting = await createOrder(s, merchants[0]);
  assert.equal((await pay(s, waiting, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  const refund = await call(s, merchants[0], 'POST', '/v1/refunds', { out_trade_no: waiting.out_trade_no, out_refund_no: otn('R'), amount: 500 });
  assert.equal(refund.json.status, 'PROCESSING', refund.text);
  await s.stop();
  // Put every object back to the schema of the version before the storage probe (migration 31):
  // its table gone, an order index as it was before migration 32 made it partial, the nonces
  // in the table keyed by nonce that migration 33 turned into a log (with one nonce used a
  // minute ago), held money indexed as before migration 34, the rate window keyed by rowid
  // with its index beside it as before migration 35 (two entries of one instant in it), the
  // refund counting and the paid-to name gone as before migration 37, the columns of 38 gone
  // (money owed to a payer, a user's last failed sign-in, a renewal's charge held after a late
  // reminder), and 31 and every later
  // step unrecorded, so each runs again when the object starts (each step is
  // idempotent: `IF NOT EXISTS`, or a drop before the create).
  const KEPT_KIND = 'upgrade_probe';
  const KEPT_AT = Date.now() + 3_600_000;
  const schema = readFileSync(join(ROOT, 'edge/src/merchant/schema.rs'), 'utf8');
  const latest = Math.max(...[...schema.matchAll(/^ {8}(\d+),$/gm)].map((x) => Number(x[1])));
  const files = readdirSync(join(data, 'paydesk-MerchantDO')).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  assert.equal(files.length, 3, 'two merchants and the storage probe');
  const versions = () => files.map((f) => {
    const db = new DatabaseSync(join(data, 'paydesk-MerchantDO', f), { readOnly: true });
    const [{ v }] = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').all();
    db.close();
    return v;
  });
  assert.deepEqual(versions(), files.map(() => latest));
  for (const f of files) {
    const db = new DatabaseSync(join(data, 'paydesk-MerchantDO', f));
    db.exec(`DROP TABLE storage_probe; DELETE FROM schema_migrations WHERE version >= 31;
      DROP INDEX orders_by_charge; CREATE INDEX orders_by_charge ON orders (status, charge_at_ms);
      DROP TABLE nonce_log; CREATE TABLE nonces (nonce TEXT PRIMARY KEY, seen_at_ms INTEGER NOT NULL);
      CREATE INDEX nonces_by_time ON nonces (seen_at_ms);
      INSERT INTO nonces VALUES ('${USED_BEFORE}', ${Date.now() - 60_000});
      DROP INDEX orders_held; CREATE INDEX orders_held ON orders (released_at_ms, held_until_ms);
      DROP TRIGGER rate_events_counted; DROP TRIGGER rate_events_uncounted;
      DROP TABLE rate_events; CREATE TABLE rate_events (kind TEXT NOT NULL, at_ms INTEGER NOT NULL);
      CREATE INDEX rate_events_by_kind ON rate_events (kind, at_ms);
      DROP TABLE rate_counts; CREATE TABLE rate_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL);
      CREATE TRIGGER rate_events_counted AFTER INSERT ON rate_events BEGIN
        INSERT INTO rate_counts (kind, n) VALUES (NEW.kind, 1) ON CONFLICT (kind) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER rate_events_uncounted AFTER DELETE ON rate_events BEGIN
        UPDATE rate_counts SET n = n - 1 WHERE kind = OLD.kind;
      END;
      INSERT INTO rate_events VALUES ('${KEPT_KIND}', ${KEPT_AT}), ('${KEPT_KIND}', ${KEPT_AT});
      DROP TRIGGER refunds_opened; DROP TRIGGER refunds_ended; DROP TRIGGER refunds_dropped;
      DROP INDEX orders_holding;
      ALTER TABLE orders DROP COLUMN refunding; ALTER TABLE orders DROP COLUMN paid_to;
      ALTER TABLE orders DROP COLUMN refund_owed; ALTER TABLE console_users DROP COLUMN last_failed_ms;
      ALTER TABLE subscriptions DROP COLUMN charge_not_before_ms; ALTER TABLE subscriptions DROP COLUMN resumed_at_ms;
      DROP INDEX upstream_payments_asking; ALTER TABLE upstream_payments DROP COLUMN ask_at_ms; ALTER TABLE refunds DROP COLUMN upstream_accepted_at_ms;
      CREATE INDEX orders_holding ON orders (held_until_ms)
        WHERE status IN ('SUCCESS', 'REFUND') AND released_at_ms IS NULL AND in_review = 0;`);
    db.close();
  }
  assert.deepEqual(versions(), files.map(() => 30));
  s = await startServe({ data, vars });
  try {
    for (const [i, m] of merchants.entries()) {
      const r = await call(s, m, 'GET', `/v1/orders/${orders[i].out_trade_no}`);
      assert.equal(r.status, 200, 'the order is there on the new version');
      // The nonce the old version kept is still refused inside its window.
      const replay = await call(s, m, 'GET', `/v1/orders/${orders[i].out_trade_no}`, undefined, { nonce: USED_BEFORE });
      assert.equal(replay.json?.code, 'NONCE_REUSED', replay.text);
    }
  } finally {
    await s.stop();
  }
  // Each object touched (the merchants by their requests, the probe by the readiness check)
  // ran the missing migrations when it started.
  assert.deepEqual(versions(), files.map(() => latest));
  let refundsCounted = 0;
  for (const f of files) {
    const db = new DatabaseSync(join(data, 'paydesk-MerchantDO', f), { readOnly: true });
    assert.equal(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'storage_probe'").all()[0].n, 1, f);
    // Migration 32 rebuilt the sparse order indexes as partial ones over the existing rows.
    assert.match(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'orders_by_charge'").all()[0].sql, /WHERE charge_at_ms IS NOT NULL/, f);
    assert.equal(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('nonces', 'nonces_by_time')").all()[0].n, 0, f);
    // Migration 34: held money only; 35: the window keyed as it is read, its entries carried.
    assert.match(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'orders_held'").all()[0].sql, /WHERE held_until_ms IS NOT NULL AND released_at_ms IS NULL/, f);
    assert.match(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'rate_events'").all()[0].sql, /WITHOUT ROWID/, f);
    assert.equal(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'rate_events_by_kind'").all()[0].n, 0, f);
    assert.deepEqual(db.prepare('SELECT id FROM rate_events WHERE kind = ? ORDER BY id').all(KEPT_KIND).map((r) => r.id), [1, 2], f);
    assert.deepEqual({ ...db.prepare('SELECT n, seq FROM rate_counts WHERE kind = ?').all(KEPT_KIND)[0] }, { n: 2, seq: 2 }, f);
    // Migration 37: the columns are back (added only where missing), the refund in progress
    // counted, and held money indexed only where a release may run.
    const columns = db.prepare("SELECT name FROM pragma_table_info('orders')").all().map((c) => c.name);
    assert.ok(columns.includes('refunding') && columns.includes('paid_to'), f);
    assert.match(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'orders_holding'").all()[0].sql, /AND refunding = 0 AND refund_owed = 0/, f);
    // Migration 38: its columns are back too.
    const has = (table, column) => db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all().some((c) => c.name === column);
    assert.ok(has('orders', 'refund_owed') && has('console_users', 'last_failed_ms'), f);
    assert.ok(has('subscriptions', 'charge_not_before_ms') && has('subscriptions', 'resumed_at_ms'), f);
    // Migration 39: when to ask the upstream again about a close, indexed where it is waited for.
    assert.ok(has('upstream_payments', 'ask_at_ms') && has('refunds', 'upstream_accepted_at_ms'), f);
    assert.match(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'upstream_payments_asking'").all()[0].sql, /WHERE closed_at_ms IS NULL AND ask_at_ms IS NOT NULL/, f);
    const counted = db.prepare('SELECT SUM(refunding) AS n FROM orders').all()[0].n ?? 0;
    assert.ok([0, 1].includes(counted), f);
    refundsCounted += counted;
    db.close();
  }
  assert.equal(refundsCounted, 1, 'the one refund in progress, on its order');
});

/** A GET with exactly this Accept-Encoding, undecoded: its headers and how many bytes came. */
function rawGet(url, acceptEncoding, keepBody = false) {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      let bytes = 0;
      const chunks = [];
      res.on('data', (d) => { bytes += d.length; if (keepBody) chunks.push(d); });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, body: keepBody ? Buffer.concat(chunks) : undefined }));
    }).on('error', reject).end();
  });
}

/** `cargo xtask ARGS`, without blocking the event loop (the test's writers keep running). */
function xtask(args) {
  return new Promise((resolve) => {
    const child = spawn('cargo', ['xtask', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => resolve({ code, out }));
  });
}
