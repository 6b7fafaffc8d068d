// Reconciliation bills through the real worker (docs/openapi.json, GET /v1/bills): a closed
// day's transactions as CSV, a column per tag key, a TOTAL line equal to that day's settlement
// to the fen; by type; grouped by a tag; streamed a page at a time (a day larger than a page);
// the errors for a day without a bill or not closed yet.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, newMerchant, createOrder, pay, advance, otn, CARD } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

async function paid(m, total, fields = {}) {
  const o = await createOrder(w, m, { amount: { total, currency: 'CNY' }, ...fields });
  assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  return o;
}
const refund = (m, no, amount) => call(w, m, 'POST', '/v1/refunds', { out_trade_no: no, out_refund_no: otn('R'), amount });

/** Seconds from the merchant's business time to just after its next 24:00 in UTC+8. */
async function toNextClose(m) {
  const { business_time: now } = (await call(w, m, 'GET', '/v1/balance')).json;
  const ms = Date.parse(now) + 8 * 3_600_000;
  return Math.ceil(((Math.floor(ms / 86_400_000) + 1) * 86_400_000 - ms) / 1000) + 60;
}

/** RFC 4180 lines of cells (quoted cells may hold commas and quotes). */
function parseCsv(text) {
  assert.ok(text.endsWith('\r\n'), 'every line ends with CRLF');
  return text.slice(0, -2).split('\r\n').map((line) => {
    // Each cell is quoted or plain and ends at a comma or the line's end (an empty first cell
    // included: a global regex would skip it).
    const cells = [];
    const cell = /"((?:[^"]|"")*)"|([^,]*)/y;
    for (let at = 0; ; at++) {
      cell.lastIndex = at;
      const [whole, quoted, plain] = cell.exec(line);
      cells.push(quoted !== undefined ? quoted.replace(/""/g, '"') : plain);
      at += whole.length;
      if (at >= line.length) break;
    }
    return cells;
  });
}

async function bill(m, query) {
  return call(w, m, 'GET', query ? `/v1/bills?${query}` : '/v1/bills');
}

test('a_closed_days_bill_adds_up_to_its_settlement_by_type_and_by_tag', async () => {
  const m = await newMerchant(w, { release_days: 1, rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  assert.equal((await call(w, m, 'POST', '/v1/receivers', { receiver_id: 'shop-2', name: 'Shop 2', relation: 'store' })).status, 201);
  const a = await paid(m, 10_000, { tags: { region: 'east', channel: 'app' }, description: '=SUM(A1), "tea"' });
  const b = await paid(m, 20_000, { tags: { region: 'west' }, splits: [{ receiver_id: 'shop-2', amount: 5_000 }] });
  const c = await paid(m, 30_000);
  for (const o of [a, b]) assert.equal((await call(w, m, 'POST', `/v1/orders/${o.out_trade_no}/fulfil`)).status, 200);
  // A refund of released money the same day, and one of held money (never on a bill).
  assert.equal((await refund(m, a.out_trade_no, 4_000)).status, 201);
  assert.equal((await refund(m, c.out_trade_no, 1_000)).status, 201);
  const notReady = await bill(m, `date=${(await call(w, m, 'GET', '/v1/balance')).json.business_time.slice(0, 10)}`);
  // (UTC's date may be the merchant's yesterday, which has closed with nothing moving.)
  assert.ok([409, 404].includes(notReady.status), notReady.text);
  await advance(w, m, await toNextClose(m));
  const [s] = (await call(w, m, 'GET', '/v1/settlements')).json.settlements;
  const today = await bill(m, `date=${s.date}`);
  assert.equal(today.status, 200, today.text);
  assert.match(today.headers.get('content-type'), /^text\/csv/);
  const rows = parseCsv(today.text);
  assert.deepEqual(rows[0], ['time', 'type', 'out_trade_no', 'transaction_id', 'out_refund_no', 'refund_id', 'amount', 'fee', 'shared', 'net', 'fee_rate_bp', 'description', 'channel', 'region']);
  const lines = rows.slice(1, -1);
  assert.deepEqual(lines.map((l) => [l[1], l[2], l[6], l[7], l[8], l[9]]), [
    ['SUCCESS', a.out_trade_no, '10000', '60', '0', '9940'],
    ['SUCCESS', b.out_trade_no, '20000', '120', '5000', '14880'],
    ['REFUND', a.out_trade_no, '-4000', '-24', '0', '-3976'],
  ]);
  assert.equal(lines[0][11], `'=SUM(A1), "tea"`, 'a formula is neutralised and quoting survives');
  assert.deepEqual([lines[0][12], lines[0][13], lines[1][13]], ['app', 'east', 'west']);
  assert.match(lines[0][0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
  const total = rows.at(-1);
  assert.deepEqual([total[0], total[1], total[9]], ['TOTAL', '3', String(s.net)], 'the bill adds up to the settlement');
  assert.deepEqual([Number(total[6]), Number(total[7]), Number(total[8])], [s.gross - s.refunds, s.fees, s.splits]);

  const success = parseCsv((await bill(m, `date=${s.date}&type=SUCCESS`)).text);
  assert.deepEqual(success.slice(1, -1).map((l) => l[1]), ['SUCCESS', 'SUCCESS']);
  const refunds = parseCsv((await bill(m, `date=${s.date}&type=REFUND`)).text);
  assert.deepEqual([refunds.length, refunds.at(-1)[9]], [3, '-3976']);
  const grouped = parseCsv((await bill(m, `date=${s.date}&group_by=region`)).text);
  assert.deepEqual(grouped, [
    ['region', 'transactions', 'amount', 'fee', 'shared', 'net'],
    ['east', '2', '6000', '36', '0', '5964'],
    ['west', '1', '20000', '120', '5000', '14880'],
    ['TOTAL', '3', '26000', '156', '5000', String(s.net)],
  ]);

  // Errors: a bad date or type, a closed day without money moving, a day not closed yet.
  for (const [q, param] of [['date=2026-02-30', 'date'], ['', 'date'], [`date=${s.date}&type=PAID`, 'type'], [`date=${s.date}&group_by=a%20b`, 'group_by'], [`date=${s.date}&x=1`, 'query']]) {
    const r = await bill(m, q);
    assert.deepEqual([r.status, r.json.code, r.json.param], [400, 'PARAM_ERROR', param], q);
  }
  const empty = await bill(m, 'date=2026-01-01');
  assert.deepEqual([empty.status, empty.json.code], [404, 'BILL_NOT_EXIST']);
  const future = await bill(m, 'date=2999-01-01');
  assert.deepEqual([future.status, future.json.code], [409, 'BILL_NOT_READY']);
});

test('orders_without_the_tag_and_with_it_empty_are_one_line_of_a_grouped_bill', async () => {
  const m = await newMerchant(w, { release_days: 1 });
  const orders = [await paid(m, 1_000, { tags: { region: '' } }), await paid(m, 2_000), await paid(m, 4_000, { tags: { region: 'east' } })];
  for (const o of orders) assert.equal((await call(w, m, 'POST', `/v1/orders/${o.out_trade_no}/fulfil`)).status, 200);
  await advance(w, m, await toNextClose(m));
  const [s] = (await call(w, m, 'GET', '/v1/settlements')).json.settlements;
  const grouped = parseCsv((await bill(m, `date=${s.date}&group_by=region`)).text);
  assert.deepEqual(grouped.map((l) => l.slice(0, 3)), [['region', 'transactions', 'amount'], ['', '2', '3000'], ['east', '1', '4000'], ['TOTAL', '3', '7000']]);
});

test('a_day_larger_than_a_page_streams_every_line_once', async () => {
  const m = await newMerchant(w, { release_days: 1, rate_limits: { create: 5000, query: 5000, refund: 1000 } });
  // 520 orders released together: 1,040 money movements, more than one page of 1,000.
  const all = [];
  for (let batch = 0; batch < 26; batch++) {
    all.push(...await Promise.all(Array.from({ length: 20 }, (_, i) => paid(m, 100 + batch * 20 + i))));
  }
  await advance(w, m, 86_400);
  await advance(w, m, await toNextClose(m));
  const s = (await call(w, m, 'GET', '/v1/settlements')).json.settlements.find((x) => x.order_count === 520);
  assert.ok(s, 'one day released all 520');
  const r = await bill(m, `date=${s.date}`);
  assert.equal(r.status, 200);
  const rows = parseCsv(r.text);
  const lines = rows.slice(1, -1);
  assert.equal(lines.length, 520);
  assert.equal(new Set(lines.map((l) => l[2])).size, 520, 'no line twice, none split across pages');
  assert.deepEqual(new Set(lines.map((l) => l[2])), new Set(all.map((o) => o.out_trade_no)));
  assert.deepEqual([rows.at(-1)[1], rows.at(-1)[9]], ['520', String(s.net)]);
});
