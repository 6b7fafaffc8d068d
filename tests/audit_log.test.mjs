// The audit log, readable and anchored, through the real worker (docs/openapi.json: /v1/audit,
// /v1/settlements/{id}/statement): who acted (the API key's id, the payer, the rule that fired),
// when, and what changed field by field; a day's signed statement anchors the chain's head
// outside the merchant's object, so a rewrite of history made afterwards is caught by whoever
// holds the statement even when the rewrite keeps the chain internally consistent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startWorker, devVars, sqliteFiles } from './support/worker.mjs';
import { call, newMerchant, createOrder, pay, advance, CARD } from './support/api.mjs';

/** The chain's hash of an entry (edge/src/domain/audit.rs): SHA-256 over length-prefixed fields. */
function entryHash(prev, e) {
  const parts = [prev, String(e.seq), String(e.at_ms), e.actor, e.action, e.target, e.before, e.after];
  const h = createHash('sha256');
  for (const p of parts) {
    const b = Buffer.from(p, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(b.length));
    h.update(len).update(b);
  }
  return h.digest('hex');
}

async function toNextClose(w, m) {
  const { business_time: now } = (await call(w, m, 'GET', '/v1/balance')).json;
  const ms = Date.parse(now) + 8 * 3_600_000;
  return Math.ceil(((Math.floor(ms / 86_400_000) + 1) * 86_400_000 - ms) / 1000) + 60;
}

test('the_audit_log_says_who_did_what_when_and_a_signed_statement_catches_a_rewrite', async () => {
  const persistTo = join(mkdtempSync(join(tmpdir(), 'paydesk-anchor-')), 'state');
  const vars = devVars();
  let w = await startWorker({ persistTo, vars });
  const m = await newMerchant(w, { release_days: 1 });
  let statement;
  try {
    const o = await createOrder(w, m, { amount: { total: 5_000, currency: 'CNY' } });
    assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
    assert.equal((await call(w, m, 'POST', `/v1/orders/${o.out_trade_no}/fulfil`)).status, 200);
    await advance(w, m, await toNextClose(w, m));

    const log = await call(w, m, 'GET', '/v1/audit');
    assert.equal(log.status, 200, log.text);
    const keyId = `api_key:key_${createHash('sha256').update(m.api_key).digest('hex').slice(0, 8)}`;
    const create = log.json.entries.find((e) => e.action === 'order.create');
    assert.deepEqual([create.actor, create.target, create.changes], [keyId, o.out_trade_no, [{ field: 'status', before: '', after: 'NOTPAY' }]]);
    const actors = new Set(log.json.entries.map((e) => e.actor));
    for (const who of ['admin', keyId, 'system:settlement']) assert.ok(actors.has(who), `${who} in ${[...actors]}`);
    const release = log.json.entries.find((e) => e.action === 'order.release');
    assert.deepEqual(release.changes.map((c) => [c.field, c.before]), [['funds', 'held']]);
    const orders = (await call(w, m, 'GET', '/v1/audit?kind=order')).json.entries;
    assert.ok(orders.length >= 3 && orders.every((e) => e.action.startsWith('order.')));
    const later = (await call(w, m, 'GET', `/v1/audit?after=${create.seq}&kind=order.create`)).json.entries;
    assert.deepEqual(later, [], 'after the cursor');
    for (const [q, param] of [['from=yesterday', 'from'], ['after=x', 'after'], ['who=me', 'query']]) {
      const r = await call(w, m, 'GET', `/v1/audit?${q}`);
      assert.deepEqual([r.status, r.json.param], [400, param], q);
    }

    // The day's statement: signed, naming the chain's head when the day closed.
    const [s] = (await call(w, m, 'GET', '/v1/settlements')).json.settlements;
    const st = await call(w, m, 'GET', `/v1/settlements/${s.settlement_id}/statement`);
    assert.equal(st.status, 200, st.text);
    statement = st.json;
    const keys = await (await fetch(`${w.url}/.well-known/paydesk-receipt-keys`)).json();
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: keys.keys[0].x }, format: 'jwk' });
    assert.ok(verify(null, Buffer.from(statement.payload), pub, Buffer.from(statement.signature, 'base64url')));
    const p = JSON.parse(statement.payload);
    assert.deepEqual([p.kind, p.settlement_id, p.net], ['statement', s.settlement_id, s.net]);
    const anchored = log.json.entries.find((e) => e.seq === p.audit_seq);
    assert.equal(anchored.hash, p.audit_hash, 'the statement names the chain as it stood');
    const missing = await call(w, m, 'GET', '/v1/settlements/stl_20000101_000000000000/statement');
    assert.equal(missing.status, 404);
  } finally {
    await w.stop();
  }

  // Someone with the disk rewrites the payment's entry and recomputes every hash after it, so
  // the chain is consistent again.
  let rewritten = 0;
  for (const file of sqliteFiles(persistTo)) {
    const db = new DatabaseSync(file);
    try {
      const owner = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'merchant'").get()
        && db.prepare('SELECT merchant_id FROM merchant').get();
      if (owner?.merchant_id !== m.merchant_id) continue;
      const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all();
      let prev = '0'.repeat(64);
      for (const e of rows) {
        if (e.action === 'order.create') e.after = 'CLOSED';
        const hash = entryHash(prev, e);
        db.prepare('UPDATE audit SET after = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(e.after, prev, hash, e.seq);
        prev = hash;
        rewritten++;
      }
    } finally {
      db.close();
    }
  }
  assert.ok(rewritten > 0, 'found the merchant to rewrite');

  w = await startWorker({ persistTo, vars });
  try {
    const internal = await call(w, m, 'GET', '/v1/audit/verify');
    assert.equal(internal.json.intact, true, 'a consistent rewrite passes the chain check on its own');
    const p = JSON.parse(statement.payload);
    const entries = (await call(w, m, 'GET', '/v1/audit')).json.entries;
    const now = entries.find((e) => e.seq === p.audit_seq);
    assert.notEqual(now.hash, p.audit_hash, 'the statement held outside catches it');
  } finally {
    await w.stop();
  }
});
