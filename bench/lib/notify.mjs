// Notification latency (the pay call returned → the merchant's receiver holds the signed
// `order.paid` delivery) over a few hundred orders paid one after another, and then the storage
// those orders cost once their whole life is on the books (paid, fulfilled so the money is
// released, the day closed into a settlement): bytes of the merchant's Durable Object SQLite
// database per order, with its events, audit entries, delivery attempts and money movements,
// against an empty merchant in the same worker; and the bytes per order of that day's export.

import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startReceiver } from '../../tests/support/receiver.mjs';
import { startWorker } from '../../tests/support/worker.mjs';
import { call, admin } from '../../tests/support/api.mjs';
import { benchMerchant } from './edge_load.mjs';
import { createSigned } from './orders.mjs';
import { summary } from './stats.mjs';

/** A realistic order for storage: an amount with a fee, three tag dimensions, an attach. */
const ORDER = { amount: { total: 8_800, currency: 'CNY' }, tags: { region: 'east', store: 'sh-01', channel: 'app' }, attach: 'bench' };

const PAY = { method: 'credit_card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2035, cvc: '123' } };

/** Tables whose rows are forgotten on their own: nonces after 10 minutes, rate windows after 1. */
const TRANSIENT = new Set(['nonces', 'rate_events']);

export async function measureNotifyAndStorage({ orders, log = () => {} }) {
  const dir = mkdtempSync(join(tmpdir(), 'paydesk-bench-'));
  const state = join(dir, 'state');
  const w = await startWorker({ persistTo: state });
  const rx = await startReceiver();
  let latency;
  let ids;
  let exportBytes;
  try {
    const empty = await benchMerchant(w, rx.url, 'Bench storage baseline');
    const m = await benchMerchant(w, rx.url, 'Bench notifications');
    ids = { empty: empty.merchant_id, busy: m.merchant_id };
    const samples = [];
    const fromStart = [];
    const nos = [];
    const paid = (otn) => (d) => d.event?.type === 'order.paid' && d.event?.data?.out_trade_no === otn;
    for (let i = 0; i < orders; i++) {
      const o = await createSigned(w, m, `N${Date.now().toString(36)}_${i}`, ORDER);
      nos.push(o.out_trade_no);
      const sent = performance.now();
      const r = await fetch(`${w.url}/api/checkout/${o.token}/pay`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(PAY),
      });
      const body = await r.json();
      const returned = performance.now();
      if (r.status !== 200 || body.status !== 'SUCCESS') throw new Error(`pay: ${r.status} ${JSON.stringify(body)}`);
      const ds = await rx.waitFor((all) => all.some(paid(o.out_trade_no)), `order.paid of ${o.out_trade_no}`);
      // The receiver (in this process) stamps each delivery with performance.now() when it
      // arrives; polling granularity does not matter. Negative: the delivery beat the answer.
      const at = ds.find(paid(o.out_trade_no)).hr;
      samples.push(at - returned);
      fromStart.push(at - sent);
      if ((i + 1) % 100 === 0) log(`notifications: ${i + 1}/${orders}`);
    }
    latency = { orders, ...summary(samples), from_call_start: summary(fromStart), deliveries: rx.deliveries.length, samples };
    exportBytes = await settleAndExport(w, m, nos, log);
  } finally {
    await rx.close();
    await w.stop(); // a clean stop, so the databases on disk are complete
  }
  try {
    const storage = storagePerOrder(state, ids, orders);
    return { latency, storage: { ...storage, export_bytes_per_order: exportBytes / orders } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Fulfils every order (its money is released and booked), moves the test clock past the
 * merchant's 24:00 (the day closes into a settlement), and answers the size of that day's export.
 */
async function settleAndExport(w, m, list, log) {
  for (const no of list) {
    const r = await call(w, m, 'POST', `/v1/orders/${no}/fulfil`);
    if (r.status !== 200) throw new Error(`fulfil: ${r.status} ${r.text}`);
  }
  const { business_time: now } = (await call(w, m, 'GET', '/v1/balance')).json;
  const day = new Date(Date.parse(now) + 8 * 3_600_000).toISOString().slice(0, 10);
  const ms = Date.parse(now) + 8 * 3_600_000;
  const seconds = Math.ceil(((Math.floor(ms / 86_400_000) + 1) * 86_400_000 - ms) / 1000) + 60;
  const moved = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/clock/advance`, { seconds });
  if (moved.status !== 200) throw new Error(`advance: ${moved.status} ${JSON.stringify(moved.json)}`);
  const settled = (await call(w, m, 'GET', '/v1/settlements')).json.settlements;
  if (settled.length !== 1 || settled[0].order_count !== list.length) throw new Error(`settlement: ${JSON.stringify(settled)}`);
  const ex = await call(w, m, 'GET', `/v1/exports?from=${day}&to=${day}`);
  if (ex.status !== 200) throw new Error(`export: ${ex.status} ${ex.text.slice(0, 200)}`);
  log(`storage: ${list.length} orders released and settled; the day's export is ${ex.text.length} characters`);
  return Buffer.byteLength(ex.text);
}

function sqliteFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sqliteFiles(p));
    else if (e.name.endsWith('.sqlite')) out.push(p);
  }
  return out;
}

/** Page-level accounting of one Durable Object database, read from a copy. */
function measureDb(file) {
  const tmp = mkdtempSync(join(tmpdir(), 'paydesk-db-'));
  try {
    const copy = join(tmp, 'db.sqlite');
    copyFileSync(file, copy);
    for (const ext of ['-wal', '-shm']) if (existsSync(file + ext)) copyFileSync(file + ext, copy + ext);
    const db = new DatabaseSync(copy);
    try {
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      const one = (sql) => Object.values(db.prepare(sql).get())[0];
      let merchantId = null;
      try { merchantId = one('SELECT merchant_id FROM merchant LIMIT 1'); } catch { /* not a merchant */ }
      const pageSize = one('PRAGMA page_size');
      const used = (one('PRAGMA page_count') - one('PRAGMA freelist_count')) * pageSize;
      const owner = Object.fromEntries(db.prepare("SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table','index')").all().map((r) => [r.name, r.tbl_name]));
      const tables = {};
      for (const r of db.prepare('SELECT name, SUM(pgsize) AS bytes, SUM(payload) AS payload FROM dbstat GROUP BY name').all()) {
        const t = owner[r.name] ?? r.name;
        tables[t] ??= { bytes: 0, payload: 0, rows: 0 };
        tables[t].bytes += r.bytes;
        tables[t].payload += r.payload;
      }
      for (const t of Object.keys(tables)) {
        if (owner[t] === t) tables[t].rows = one(`SELECT COUNT(*) FROM "${t.replaceAll('"', '""')}"`);
      }
      return { merchantId, pageSize, used, tables };
    } finally {
      db.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function storagePerOrder(state, ids, orders) {
  const dbs = sqliteFiles(state).map(measureDb);
  const busy = dbs.find((d) => d.merchantId === ids.busy);
  const empty = dbs.find((d) => d.merchantId === ids.empty);
  if (!busy || !empty) throw new Error(`storage: merchant databases not found under ${state}`);
  const names = [...new Set([...Object.keys(busy.tables), ...Object.keys(empty.tables)])].sort();
  const tables = names.map((t) => {
    const b = busy.tables[t] ?? { bytes: 0, payload: 0, rows: 0 };
    const e = empty.tables[t] ?? { bytes: 0, payload: 0, rows: 0 };
    return {
      table: t,
      transient: TRANSIENT.has(t),
      bytes_per_order: (b.bytes - e.bytes) / orders,
      payload_per_order: (b.payload - e.payload) / orders,
      rows_per_order: (b.rows - e.rows) / orders,
    };
  }).filter((t) => t.bytes_per_order !== 0 || t.rows_per_order !== 0);
  const sum = (xs, k) => xs.reduce((a, x) => a + x[k], 0);
  const durable = tables.filter((t) => !t.transient);
  return {
    orders,
    page_size: busy.pageSize,
    empty_merchant_bytes: empty.used,
    busy_merchant_bytes: busy.used,
    bytes_per_order: (busy.used - empty.used) / orders,
    durable_bytes_per_order: sum(durable, 'bytes_per_order'),
    durable_payload_per_order: sum(durable, 'payload_per_order'),
    tables,
  };
}
