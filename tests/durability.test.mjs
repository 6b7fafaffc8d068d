// What survives what: acknowledged orders survive a crash of the worker, and the audit chain
// reveals a row edited behind the ledger's back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startWorker, crashWorker, devVars, sqliteFiles } from './support/worker.mjs';
import { call, newMerchant, createOrder, pay, CARD, otn } from './support/api.mjs';

const freshState = () => join(mkdtempSync(join(tmpdir(), 'paydesk-durable-')), 'state');

test('a_crash_mid_run_loses_no_acknowledged_order', async (t) => {
  const persistTo = freshState();
  const vars = devVars();
  let w = await startWorker({ persistTo, vars });
  const m = await newMerchant(w, { rate_limits: { create: 1000, query: 1000, refund: 50 } });
  const bodies = Array.from({ length: 240 }, (_, i) => ({ out_trade_no: otn(`K${i}`), amount: { total: 100 + i, currency: 'CNY' }, description: `crash ${i}` }));
  const acknowledged = [];
  const otherErrors = [];
  // The crash comes the moment the tenth create is acknowledged, from that answer's own
  // callback, with 16 creates in flight at any time: firing all 240 at once let a fast worker
  // answer every one before the client had read the tenth answer.
  let crashed = null;
  let next = 0;
  // Only the crash may break a request: a refusal or any other error fails the test.
  const one = (b) =>
    call(w, m, 'POST', '/v1/orders', b).then((r) => {
      if (r.status === 201) {
        if (acknowledged.push(b) === 10) crashed = crashWorker(w);
      // wrangler answers 5xx for requests the dying workerd dropped; a refusal is a failure.
      } else if (r.status < 500) otherErrors.push(`${r.status} ${r.text}`);
    }).catch((e) => {
      if (!/fetch failed|ECONNRESET|ECONNREFUSED|socket|terminated/i.test(`${e} ${e?.cause ?? ''}`)) otherErrors.push(String(e));
    });
  const lane = async () => {
    while (next < bodies.length) await one(bodies[next++]);
  };
  const inflight = Array.from({ length: 16 }, lane);
  await Promise.allSettled(inflight);
  await crashed;
  assert.ok(acknowledged.length >= 10);
  assert.deepEqual(otherErrors, []);
  assert.ok(acknowledged.length < bodies.length, 'the crash came while creates were in flight');
  t.diagnostic(`acknowledged before the crash: ${acknowledged.length} of ${bodies.length}`);

  w = await startWorker({ persistTo, vars });
  try {
    for (const b of acknowledged) {
      const r = await call(w, m, 'GET', `/v1/orders/${b.out_trade_no}`);
      assert.equal(r.status, 200, `acknowledged ${b.out_trade_no} survived`);
      assert.equal(r.json.amount.total, b.amount.total);
    }
    // Whatever was not acknowledged can be retried safely: it exists once, or is created now.
    for (const b of bodies) {
      const r = await call(w, m, 'POST', '/v1/orders', b);
      assert.ok([200, 201].includes(r.status), `${b.out_trade_no}: ${r.status} ${r.text}`);
    }
    const audit = await call(w, m, 'GET', '/v1/audit/verify');
    assert.equal(audit.json.intact, true);
  } finally {
    await w.stop();
  }
});

test('an_audit_row_edited_in_storage_is_reported', async () => {
  const persistTo = freshState();
  const vars = devVars();
  let w = await startWorker({ persistTo, vars });
  const m = await newMerchant(w);
  const o = await createOrder(w, m);
  assert.equal((await pay(w, o, CARD('4242424242424242'))).status, 200);
  const intact = await call(w, m, 'GET', '/v1/audit/verify');
  assert.equal(intact.json.intact, true);
  assert.ok(intact.json.entries >= 4, JSON.stringify(intact.json));
  await w.stop();

  // Edit the stored payment entry directly in the object's SQLite file, as an attacker with
  // disk access would: say the order went to SUCCESS at another time.
  let edited = 0;
  for (const file of sqliteFiles(persistTo)) {
    const db = new DatabaseSync(file);
    try {
      const has = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit'").get();
      if (!has) continue;
      const row = db.prepare("SELECT seq FROM audit WHERE action = 'order.paysucceeded'").get();
      if (!row) continue;
      db.prepare('UPDATE audit SET at_ms = at_ms + 1000 WHERE seq = ?').run(row.seq);
      edited = row.seq;
    } finally {
      db.close();
    }
  }
  assert.ok(edited > 0, 'found the payment entry to edit');

  w = await startWorker({ persistTo, vars });
  try {
    const r = await call(w, m, 'GET', '/v1/audit/verify');
    assert.equal(r.status, 200);
    assert.equal(r.json.intact, false);
    assert.equal(r.json.first_broken_seq, edited);
    assert.match(r.json.reason, /hash/);
  } finally {
    await w.stop();
  }
});
