// Fees through the real worker (docs/openapi.json, GET /v1/reports/fees): each paid order's fee
// at its industry's rate, rounded half up to the fen; the lower rate once the month's volume
// passes CNY 1,000,000; refunds give the fee back pro rata in pieces that add up to it; the
// month's report adds up to the orders.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './support/worker.mjs';
import { call, newMerchant, createOrder, pay, otn, advance, CARD } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

async function paid(m, total) {
  const o = await createOrder(w, m, { amount: { total, currency: 'CNY' } });
  assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  return (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
}
const refund = (m, o, amount) => call(w, m, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount });

test('fees_follow_the_industry_round_half_up_and_come_back_with_refunds', async () => {
  const m = await newMerchant(w, { industry: 'services' });
  const a = await paid(m, 999);
  assert.deepEqual([a.fee, a.fee_refunded], [10, 0], '1.0 % of ¥9.99 is 9.99 fen → 10');
  const b = await paid(m, 1000);
  assert.equal(b.fee, 10);
  // Three refunds of ¥10.00 at 1.0 %: 3 + 3 + 4 fen back, exactly the fee.
  for (const [amount, back] of [[333, 3], [333, 7], [334, 10]]) {
    assert.equal((await refund(m, b, amount)).status, 201);
    assert.equal((await call(w, m, 'GET', `/v1/orders/${b.out_trade_no}`)).json.fee_refunded, back);
    await advance(w, m, 61); // refunds of one order are a minute apart
  }
  const retail = await newMerchant(w);
  assert.equal((await paid(retail, 999)).fee, 6, '0.6 % of ¥9.99 is 5.994 fen → 6');
});

test('the_rate_drops_past_a_million_and_the_report_adds_up', async () => {
  const m = await newMerchant(w, { industry: 'education', daily_limit: 300_000_000 });
  const big = await paid(m, 100_000_000); // CNY 1,000,000.00 at 0.6 %
  assert.equal(big.fee, 600_000);
  const next = await paid(m, 100_000); // the month has passed a million: 0.55 %
  assert.equal(next.fee, 550);
  assert.equal((await refund(m, next, 100_000)).status, 201);
  const month = big.paid_at.slice(0, 7);
  const r = await call(w, m, 'GET', `/v1/reports/fees?month=${month}`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.orders, r.json.volume, r.json.fees, r.json.fees_refunded, r.json.net_fees], [2, 100_100_000, 600_550, 550, 600_000]);
  assert.deepEqual(r.json.lines.map((l) => [l.rate_bp, l.orders]), [[60, 1], [55, 1]]);
  const csv = await call(w, m, 'GET', `/v1/reports/fees?month=${month}`, undefined, { headers: { Accept: 'text/csv' } });
  assert.match(csv.headers.get('content-disposition'), new RegExp(`paydesk-fees-${month}\\.csv`));
  assert.deepEqual(csv.text.trim().split('\r\n'), [
    'month,industry,rate_bp,orders,volume,fees,fees_refunded,net_fees',
    `${month},education,60,1,100000000,600000,0,600000`,
    `${month},education,55,1,100000,550,550,0`,
    `TOTAL,education,,2,100100000,600550,550,600000`,
  ]);
  const empty = await call(w, m, 'GET', '/v1/reports/fees?month=2001-01');
  assert.deepEqual([empty.json.orders, empty.json.fees, empty.json.lines], [0, 0, []]);
  for (const month of ['2026-13', '2026-+1', '+026-01']) {
    const bad = await call(w, m, 'GET', `/v1/reports/fees?month=${month}`);
    assert.deepEqual([bad.status, bad.json.param], [400, 'month'], month);
  }
});

test('money_refunded_does_not_count_towards_the_lower_rate', async () => {
  const m = await newMerchant(w, { industry: 'education', daily_limit: 300_000_000 });
  const big = await paid(m, 100_000_000);
  assert.equal((await refund(m, big, 100_000_000)).status, 201);
  // Paid and given back: the month has collected nothing, and the next order pays 0.6 %.
  assert.equal((await paid(m, 100_000)).fee, 600);
});
