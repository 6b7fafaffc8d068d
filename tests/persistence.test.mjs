// Durable Object state survives a wrangler restart (SQLite persisted with --persist-to).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, demoOrder, devVars } from './support/worker.mjs';

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
