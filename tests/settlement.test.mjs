// Settlement, balance, profit sharing and the fund pool through the real worker on the test
// clock (docs/openapi.json: /v1/settlements, /v1/balance, /v1/receivers, /v1/pool): each merchant
// day closes at 24:00 UTC+8 into one batch; at every moment held + releasable + settled + shared
// = paid − refunded − fees, to the fen, over a randomised month, with refunds racing releases
// and a crash in the middle of a day's close; receivers' shares are booked on release and clawed
// back pro rata; members' settlements sweep into their group's pool exactly once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { startWorker, crashWorker, devVars } from './support/worker.mjs';
import { call, newMerchant, createOrder, pay, advance, otn, CARD } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const DAY = 86_400;
const get = async (m, no) => (await call(w, m, 'GET', `/v1/orders/${no}`)).json;
async function paid(m, total, fields = {}) {
  const o = await createOrder(w, m, { amount: { total, currency: 'CNY' }, ...fields });
  assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  return get(m, o.out_trade_no);
}
const refund = (m, no, amount) => call(w, m, 'POST', '/v1/refunds', { out_trade_no: no, out_refund_no: otn('R'), amount });
const fulfil = (m, no) => call(w, m, 'POST', `/v1/orders/${no}/fulfil`);
const balanceOf = async (m) => {
  const r = await call(w, m, 'GET', '/v1/balance');
  assert.equal(r.status, 200, r.text);
  return r.json;
};
const settlementsOf = async (m) => (await call(w, m, 'GET', '/v1/settlements')).json.settlements;

/** The invariant, and that the settlements listed add up to `settled`. */
async function reconciles(m, why) {
  const b = await balanceOf(m);
  assert.equal(b.held + b.releasable + b.settled + b.shared, b.paid - b.refunded - b.fees,
    `${why}: held ${b.held} + releasable ${b.releasable} + settled ${b.settled} + shared ${b.shared} = paid ${b.paid} − refunded ${b.refunded} − fees ${b.fees}`);
  const s = await settlementsOf(m);
  assert.equal(s.reduce((n, x) => n + x.net, 0), b.settled, `${why}: the settlements add up`);
  assert.equal(new Set(s.map((x) => x.date)).size, s.length, `${why}: one settlement a day`);
  return b;
}

/** Seconds from the merchant's business time to just after its next 24:00 in UTC+8. */
async function toNextClose(m, after = 60) {
  const { business_time: now } = await balanceOf(m);
  const ms = Date.parse(now) + 8 * 3_600_000;
  const next = (Math.floor(ms / 86_400_000) + 1) * 86_400_000;
  return Math.ceil((next - ms) / 1000) + after;
}

test('a_day_closes_into_one_batch_and_refunds_of_released_money_settle_the_day_they_happen', async () => {
  const m = await newMerchant(w, { release_days: 2 });
  const a = await paid(m, 10_000);
  const b = await paid(m, 20_000);
  assert.deepEqual([a.fee, b.fee], [60, 120]);
  assert.equal((await fulfil(m, a.out_trade_no)).status, 200);
  // A refund of held money comes out of the held funds: no settlement ever sees it.
  assert.equal((await refund(m, b.out_trade_no, 5_000)).status, 201);
  let bal = await reconciles(m, 'before the close');
  assert.deepEqual([bal.held, bal.releasable, bal.settled], [15_000 - 90, 10_000 - 60, 0]);

  await advance(w, m, await toNextClose(m));
  const [first] = await settlementsOf(m);
  assert.deepEqual([first.gross, first.refunds, first.fees, first.splits, first.net, first.order_count],
    [10_000, 0, 60, 0, 9_940, 1]);
  const events = (await call(w, m, 'GET', '/v1/notifications?type=settlement.created')).json.notifications;
  assert.equal(events.length, 1);
  const { statement, ...data } = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${events[0].id}`)).json.body).data;
  assert.deepEqual(data, first);
  const fetched = (await call(w, m, 'GET', `/v1/settlements/${first.settlement_id}/statement`)).json;
  assert.deepEqual(statement, fetched, 'the signed statement goes out with the event');
  const [created] = (await call(w, m, 'GET', '/v1/audit?kind=settlement')).json.entries;
  assert.deepEqual([created.target, created.changes], [first.settlement_id, [{ field: 'net', before: '', after: '9940' }]]);

  // A refund of released money: the next batch takes it, with the fee it gives back.
  assert.equal((await refund(m, a.out_trade_no, 10_000)).status, 201);
  bal = await reconciles(m, 'after a refund of released money');
  assert.equal(bal.releasable, -10_000 + 60);
  // b is released by its days (what is left of it), then the day closes.
  await advance(w, m, 2 * DAY);
  const all = await settlementsOf(m);
  assert.equal(all.length, 3, JSON.stringify(all));
  assert.deepEqual(all.map((s) => s.net), [15_000 - 90, -10_000 + 60, 9_940]);
  bal = await reconciles(m, 'after everything settled');
  assert.deepEqual([bal.held, bal.releasable, bal.settled], [0, 0, 9_940 - 9_940 + 15_000 - 90]);
  const csv = await call(w, m, 'GET', '/v1/settlements', undefined, { headers: { Accept: 'text/csv' } });
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  const csvLines = csv.text.trim().split('\r\n').map((l) => l.split(','));
  assert.equal(csvLines[0].join(','), 'settlement_id,date,gross,refunds,fees,splits,net,order_count,created_at,group_id,swept_at');
  assert.deepEqual(csvLines.slice(1, -1).map((l) => Number(l[6])), all.map((s) => s.net));
  assert.deepEqual([csvLines.at(-1)[0], Number(csvLines.at(-1)[6])], ['TOTAL', bal.settled]);
  const bad = await call(w, m, 'GET', '/v1/settlements?from=2026-13-01');
  assert.deepEqual([bad.status, bad.json.param], [400, 'from']);
});

/** A deterministic pseudo-random sequence (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

test('a_randomised_month_reconciles_to_the_fen_every_day', async (t) => {
  const seed = Number(process.env.PAYDESK_SEED ?? 20261204);
  t.diagnostic(`seed ${seed} (PAYDESK_SEED to replay)`);
  const rand = rng(seed);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const m = await newMerchant(w, { release_days: 3, industry: 'services', rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  for (const id of ['rcv-a', 'rcv-b']) {
    assert.equal((await call(w, m, 'POST', '/v1/receivers', { receiver_id: id, name: `Partner ${id}`, relation: 'partner' })).status, 201);
  }
  const orders = [];
  let paidTotal = 0;
  let refundedTotal = 0;
  for (let day = 0; day < 30; day++) {
    for (let i = Math.floor(rand() * 4); i > 0; i--) {
      const total = 100 + Math.floor(rand() * 500_000);
      const split = rand() < 0.4 ? { splits: [{ receiver_id: pick(['rcv-a', 'rcv-b']), amount: Math.floor(total * rand() * 0.5) + 1 }] } : {};
      const o = await paid(m, total, split);
      orders.push({ no: o.out_trade_no, total, refunded: 0 });
      paidTotal += total;
    }
    for (let i = Math.floor(rand() * 3); i > 0 && orders.length; i--) {
      const o = pick(orders);
      if (o.refunded === o.total) continue;
      const amount = rand() < 0.3 ? o.total - o.refunded : 1 + Math.floor(rand() * (o.total - o.refunded));
      const r = await refund(m, o.no, amount);
      assert.equal(r.status, 201, r.text);
      o.refunded += amount;
      refundedTotal += amount;
      await advance(w, m, 61); // refunds of one order are a minute apart
    }
    for (let i = Math.floor(rand() * 3); i > 0 && orders.length; i--) {
      assert.equal((await fulfil(m, pick(orders).no)).status, 200);
    }
    await reconciles(m, `day ${day}, before the close`);
    await advance(w, m, Math.floor(DAY * (0.5 + rand())));
    const b = await reconciles(m, `day ${day}`);
    assert.deepEqual([b.paid, b.refunded], [paidTotal, refundedTotal], `day ${day}: every payment and refund counted once`);
  }
  // Everything released and every day closed: what was paid is settled, shared or charged.
  await advance(w, m, 5 * DAY);
  const b = await reconciles(m, 'the month settled');
  assert.deepEqual([b.held, b.releasable], [0, 0]);
  assert.equal(b.settled + b.shared, paidTotal - refundedTotal - b.fees);
  const receivers = (await call(w, m, 'GET', '/v1/receivers')).json.receivers;
  assert.equal(receivers.reduce((n, r) => n + r.balance, 0), b.shared);
  t.diagnostic(`${orders.length} orders, ${(await settlementsOf(m)).length} settlements, settled ${b.settled}, shared ${b.shared}, fees ${b.fees}`);
});

test('refunds_racing_releases_never_move_the_same_money_twice', async () => {
  const m = await newMerchant(w, { release_days: 1, rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  const orders = [];
  for (let i = 0; i < 12; i++) orders.push(await paid(m, 3_000 + i));
  // Fulfilment and a full refund of each order at once, all orders together.
  const answers = await Promise.all(orders.flatMap((o) => [fulfil(m, o.out_trade_no), refund(m, o.out_trade_no, o.amount.total)]));
  assert.ok(answers.every((r) => r.status === 200 || r.status === 201), answers.map((r) => r.text).join('\n'));
  await reconciles(m, 'right after the race');
  await advance(w, m, await toNextClose(m));
  const b = await reconciles(m, 'after the close');
  // Every order was refunded in full: nothing was paid, nothing is left, whatever won.
  assert.deepEqual([b.held, b.releasable, b.settled, b.fees, b.refunded], [0, 0, 0, 0, b.paid]);
});

test('splits_are_checked_booked_on_release_and_clawed_back_pro_rata', async () => {
  const m = await newMerchant(w, { industry: 'services' });
  const reg = (body) => call(w, m, 'POST', '/v1/receivers', body);
  const store = { receiver_id: 'store-sh-01', name: '上海一店', relation: 'store' };
  assert.equal((await reg(store)).status, 201);
  assert.equal((await reg(store)).status, 200, 'the same registration again');
  const clash = await reg({ ...store, relation: 'staff' });
  assert.deepEqual([clash.status, clash.json.code, clash.json.param], [400, 'PARAM_ERROR', 'receiver_id']);
  assert.equal((await reg({ receiver_id: 'x y', name: 'n', relation: 'store' })).json.param, 'receiver_id');
  assert.equal((await reg({ receiver_id: 'x', name: 'n', relation: 'friend' })).json.param, 'relation');
  // ¥100.00 at 1.0 %: at most ¥99.00 may be shared; an unregistered receiver is refused.
  for (const splits of [[{ receiver_id: 'store-sh-01', amount: 9_901 }], [{ receiver_id: 'nobody', amount: 1 }]]) {
    const r = await call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 10_000, currency: 'CNY' }, description: 'x', splits });
    assert.deepEqual([r.status, r.json.code, r.json.param], [400, 'PARAM_ERROR', 'splits']);
  }
  const o = await paid(m, 10_000, { splits: [{ receiver_id: 'store-sh-01', amount: 3_000 }] });
  assert.deepEqual(o.splits, [{ receiver_id: 'store-sh-01', amount: 3_000 }]);
  // ¥25.00 refunded while held: the share shrinks with it (3000 × 7500 / 10000 = 2250).
  assert.equal((await refund(m, o.out_trade_no, 2_500)).status, 201);
  await advance(w, m, 61);
  let [r] = (await call(w, m, 'GET', '/v1/receivers')).json.receivers;
  assert.equal(r.balance, 0, 'nothing is booked before the release');
  await fulfil(m, o.out_trade_no);
  [r] = (await call(w, m, 'GET', '/v1/receivers')).json.receivers;
  assert.deepEqual([r.booked, r.clawed_back, r.balance], [2_250, 0, 2_250]);
  const [rel] = (await call(w, m, 'GET', `/v1/notifications?out_trade_no=${o.out_trade_no}&type=order.released`)).json.notifications;
  const relData = JSON.parse((await call(w, m, 'GET', `/v1/notifications/${rel.id}`)).json.body).data;
  assert.deepEqual([relData.released_amount, relData.fee_amount, relData.shared_amount], [7_500, 75, 2_250]);
  // Refunds of released money claw back pro rata, in pieces that add up to the share.
  for (const amount of [3_333, 4_167]) {
    assert.equal((await refund(m, o.out_trade_no, amount)).status, 201);
    await advance(w, m, 61);
  }
  [r] = (await call(w, m, 'GET', '/v1/receivers')).json.receivers;
  assert.deepEqual([r.booked, r.clawed_back, r.balance], [2_250, 2_250, 0]);
  const b = await reconciles(m, 'all refunded');
  assert.deepEqual([b.shared, b.fees, b.paid - b.refunded], [0, 0, 0]);
});

test('members_settlements_sweep_into_their_groups_pool_exactly_once', async () => {
  const group = await newMerchant(w, { name: 'Group HQ' });
  const bad = await newMerchant(w, { group_id: 'mch_0000000000000000' }).catch((e) => e.message);
  assert.match(bad, /400.*group_id/);
  const live = await newMerchant(w, { group_id: group.merchant_id, sandbox: false }).catch((e) => e.message);
  assert.match(live, /400.*group_id/, 'a live member cannot join a sandbox pool');
  const a = await newMerchant(w, { group_id: group.merchant_id, release_days: 1 });
  const b = await newMerchant(w, { group_id: group.merchant_id, release_days: 1 });
  for (const [m, total] of [[a, 10_000], [b, 25_000]]) {
    const o = await paid(m, total);
    await fulfil(m, o.out_trade_no);
  }
  await advance(w, a, await toNextClose(a));
  await advance(w, b, await toNextClose(b));
  // The members' alarms send their settlements; wait until the group has both.
  let pool;
  const deadline = Date.now() + 60_000;
  do {
    pool = (await call(w, group, 'GET', '/v1/pool')).json;
    if (pool.sweeps?.length === 2) break;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  assert.equal(pool.sweeps.length, 2, JSON.stringify(pool));
  const [sa] = await settlementsOf(a);
  const [sb] = await settlementsOf(b);
  assert.deepEqual([sa.net, sb.net], [10_000 - 60, 25_000 - 150]);
  assert.equal(sa.group_id, group.merchant_id);
  assert.ok(sa.swept_at && sb.swept_at, 'each member recorded the sweep');
  const swept = (await call(w, a, 'GET', '/v1/notifications?type=settlement.swept')).json.notifications;
  assert.equal(swept.length, 1, 'one settlement.swept event');
  const sweptData = JSON.parse((await call(w, a, 'GET', `/v1/notifications/${swept[0].id}`)).json.body).data;
  assert.deepEqual([sweptData.settlement_id, sweptData.swept_at], [sa.settlement_id, sa.swept_at]);
  assert.equal(pool.total, sa.net + sb.net);
  assert.deepEqual(pool.members.map((x) => [x.merchant_id, x.settlements, x.swept]).sort(),
    [[a.merchant_id, 1, sa.net], [b.merchant_id, 1, sb.net]].sort());
  // Each member's own books still reconcile on their own.
  await reconciles(a, 'member a');
  await reconciles(b, 'member b');
  const summary = (await call(w, group, 'GET', '/v1/balance')).json;
  assert.equal(summary.paid, 0, 'the group collected nothing itself');
});

/** Posts an admin request and kills the worker the moment the request is on the wire. */
function sentThenCrash(worker, path, body) {
  return new Promise((resolve) => {
    const req = httpRequest(`${worker.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${worker.env.ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    }, (res) => { res.resume(); res.on('end', () => resolve(`answered ${res.statusCode} before the crash`)); });
    req.on('error', () => resolve('cut by the crash'));
    req.on('finish', () => { crashWorker(worker).then(() => resolve('cut by the crash')); });
    req.end(JSON.stringify(body));
  });
}

test('a_crash_in_the_middle_of_closing_days_settles_each_day_once', async (t) => {
  const persistTo = join(mkdtempSync(join(tmpdir(), 'paydesk-close-')), 'state');
  const vars = devVars();
  let cw = await startWorker({ persistTo, vars });
  const call2 = (m, method, path, body) => call(cw, m, method, path, body);
  const m = await newMerchant(cw, { release_days: 1, rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  try {
    // Forty orders paid the same day, all released by the same advance, then the day closes.
    for (let i = 0; i < 40; i++) {
      const o = await createOrder(cw, m, { amount: { total: 1_000 + i, currency: 'CNY' } });
      assert.equal((await pay(cw, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
    }
    // Crash as soon as the advance (which releases all forty and closes the day, in one
    // transaction) has been handed to the worker.
    const moving = sentThenCrash(cw, `/admin/merchants/${m.merchant_id}/clock/advance`, { seconds: 3 * DAY });
    t.diagnostic(`the advance was ${await moving}`);
    cw = await startWorker({ persistTo, vars });
    // All of it happened, or none of it: never some orders released without their day.
    const mid = (await call2(m, 'GET', '/v1/balance')).json;
    t.diagnostic(`after the restart: held ${mid.held}, releasable ${mid.releasable}, settled ${mid.settled}`);
    assert.equal(mid.held + mid.releasable + mid.settled, mid.paid - mid.refunded - mid.fees);
    assert.ok(mid.held === 0 || mid.held === mid.paid - mid.fees, 'the releases were not cut in half');
    await advance(cw, m, 3 * DAY);
    const s = (await call2(m, 'GET', '/v1/settlements')).json.settlements;
    assert.equal(new Set(s.map((x) => x.date)).size, s.length, 'one settlement a day');
    const b = (await call2(m, 'GET', '/v1/balance')).json;
    assert.deepEqual([b.held, b.releasable], [0, 0]);
    assert.equal(b.settled, b.paid - b.refunded - b.fees);
    assert.equal(s.reduce((n, x) => n + x.net, 0), b.settled);
    assert.equal(s.reduce((n, x) => n + x.order_count, 0), 40, 'each release settled once');
  } finally {
    await cw.stop();
  }
});
