// Durable Object state survives a wrangler restart (SQLite persisted with --persist-to).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, demoOrder, devVars } from './support/worker.mjs';
import { call, newMerchant, nonce, otn } from './support/api.mjs';

test('orders_written_before_a_restart_are_there_after_it', async () => {
  const persistTo = join(mkdtempSync(join(tmpdir(), 'paydesk-persist-')), 'state');
  const vars = devVars();
  let w = await startWorker({ persistTo, vars });
  const orders = [];
  try {
    for (let i = 0; i < 3; i++) orders.push(await demoOrder(w, { amount: 100 + i }));
  } finally {
    await w.stop();
  }
  w = await startWorker({ persistTo, vars });
  try {
    for (const [i, o] of orders.entries()) {
      const url = o.checkout_url.replace(/^http:\/\/127\.0\.0\.1:\d+/, w.url);
      const r = await fetch(url);
      assert.equal(r.status, 200, `order ${o.out_trade_no} after restart`);
      const html = await r.text();
      assert.match(html, new RegExp(`"out_trade_no":"${o.out_trade_no}"`));
      assert.match(html, new RegExp(`"total":${100 + i},`));
    }
  } finally {
    await w.stop();
  }
});

// The replay window lives in the merchant object's memory (edge/src/domain/replay_window.rs) and
// is read back from the nonce log when the object starts: a restart forgets no nonce.
test('a_nonce_used_before_a_restart_is_refused_after_it', async () => {
  const persistTo = join(mkdtempSync(join(tmpdir(), 'paydesk-persist-')), 'state');
  const vars = devVars();
  const order = () => ({ out_trade_no: otn(), amount: { total: 100, currency: 'CNY' }, description: 'replay after restart' });
  const used = [nonce(), nonce(), nonce()];
  let w = await startWorker({ persistTo, vars });
  let m;
  try {
    m = await newMerchant(w);
    for (const n of used) assert.equal((await call(w, m, 'POST', '/v1/orders', order(), { nonce: n })).status, 201);
  } finally {
    await w.stop();
  }
  w = await startWorker({ persistTo, vars });
  try {
    for (const n of used) {
      const r = await call(w, m, 'POST', '/v1/orders', order(), { nonce: n });
      assert.equal(r.json.code, 'NONCE_REUSED', `nonce ${n} after restart: ${r.text}`);
    }
    const fresh = await call(w, m, 'POST', '/v1/orders', order(), { nonce: nonce() });
    assert.equal(fresh.status, 201, fresh.text);
    const again = await call(w, m, 'POST', '/v1/orders', order(), { nonce: used[0] });
    assert.equal(again.json.code, 'NONCE_REUSED');
  } finally {
    await w.stop();
  }
});
