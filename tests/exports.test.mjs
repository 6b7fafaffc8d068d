// Exports of a merchant's records through the real worker (docs/openapi.json: /v1/exports): the
// orders, refunds and settlements of a range, each with the audit-chain entry that last changed
// it, the chain's entries of the range, and a signed seal over every byte; read a page at a time
// (a range larger than a page); the README's offline verifier, run as written, accepts the
// export and refuses a changed, dropped or re-signed line; ranges that are malformed or older
// than the 7 years records are kept are refused.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, readmeBlock, ROOT } from './support/worker.mjs';
import { call, admin, newMerchant, createOrder, pay, advance, otn, CARD } from './support/api.mjs';
import { checkSchema } from './support/openapi.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

/** Seconds from the merchant's business time to just after its next 24:00 in UTC+8. */
async function toNextClose(m) {
  const { business_time: now } = (await call(w, m, 'GET', '/v1/balance')).json;
  const ms = Date.parse(now) + 8 * 3_600_000;
  return Math.ceil(((Math.floor(ms / 86_400_000) + 1) * 86_400_000 - ms) / 1000) + 60;
}

/** The merchant's calendar date (UTC+8) of a business time, shifted by `days`. */
const merchantDate = (iso, days = 0) => new Date(Date.parse(iso) + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);

const lines = (text) => text.trimEnd().split('\n').map((l) => JSON.parse(l));

test('an_export_holds_the_ranges_records_and_chain_sealed_and_the_readme_verifier_checks_it', async () => {
  const m = await newMerchant(w, { release_days: 1, rate_limits: { create: 1000, query: 1000, refund: 1000 } });
  const { business_time: start } = (await call(w, m, 'GET', '/v1/balance')).json;
  const a = await createOrder(w, m, { amount: { total: 12_000, currency: 'CNY' }, tags: { region: 'east' }, description: '龙井 "tea" \\ 50%' });
  assert.equal((await pay(w, a, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  assert.equal((await call(w, m, 'POST', `/v1/orders/${a.out_trade_no}/fulfil`)).status, 200);
  const refundNo = otn('R');
  assert.equal((await call(w, m, 'POST', '/v1/refunds', { out_trade_no: a.out_trade_no, out_refund_no: refundNo, amount: 2_000 })).status, 201);
  // More orders than a page (200 records), so the export is read in several pages.
  const unpaid = [];
  for (let i = 0; i < 21; i++) {
    unpaid.push(...await Promise.all(Array.from({ length: 10 }, () => createOrder(w, m))));
  }
  await advance(w, m, await toNextClose(m));
  const [settlement] = (await call(w, m, 'GET', '/v1/settlements')).json.settlements;
  assert.ok(settlement, 'the day closed with a settlement');
  const statement = (await call(w, m, 'GET', `/v1/settlements/${settlement.settlement_id}/statement`)).json;

  const from = merchantDate(start);
  const to = merchantDate(start, 1);
  const r = await call(w, m, 'GET', `/v1/exports?from=${from}&to=${to}`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /^application\/x-ndjson/);
  assert.equal(r.headers.get('content-disposition'), `attachment; filename="paydesk-export-${from}-${to}.jsonl"`, 'named by the merchant\'s days');
  const all = lines(r.text);
  for (const l of all) checkSchema('ExportLine', l);
  const [head, ...rest] = all;
  const seal = rest.pop();
  assert.deepEqual([head.type, head.merchant_id, head.version, seal.type], ['export', m.merchant_id, 1, 'seal']);
  // The parts in order: orders, refunds, settlements, then the chain.
  const kinds = rest.map((l) => l.type);
  assert.deepEqual([...new Set(kinds)], ['order', 'refund', 'settlement', 'audit']);
  const orders = rest.filter((l) => l.type === 'order');
  assert.equal(orders.length, 1 + unpaid.length);
  assert.equal(new Set(orders.map((l) => l.record.out_trade_no)).size, orders.length, 'no order twice across pages');
  const paid = orders.find((l) => l.record.out_trade_no === a.out_trade_no).record;
  assert.deepEqual([paid.status, paid.refunded_total, paid.tags, paid.description, paid.checkout_url], ['REFUND', 2_000, { region: 'east' }, '龙井 "tea" \\ 50%', undefined]);
  assert.deepEqual(rest.filter((l) => l.type === 'refund').map((l) => [l.record.out_refund_no, l.record.amount]), [[refundNo, 2_000]]);
  assert.deepEqual(rest.filter((l) => l.type === 'settlement').map((l) => l.record), [settlement]);

  // The chain's entries are the audit log's of the range, and each record names its last entry.
  const log = [];
  for (let after = 0; ;) {
    const page = (await call(w, m, 'GET', `/v1/audit?from=${encodeURIComponent(head.from)}&to=${encodeURIComponent(head.to)}&after=${after}`)).json;
    log.push(...page.entries);
    if (page.next_after === undefined) break;
    after = page.next_after;
  }
  const chain = rest.filter((l) => l.type === 'audit').map((l) => l.entry);
  assert.deepEqual(chain.map((e) => [e.seq, e.hash]), log.map((e) => [e.seq, e.hash]));
  const bySeq = new Map(chain.map((e) => [e.seq, e]));
  for (const l of rest.filter((x) => x.audit !== undefined)) {
    const e = bySeq.get(l.audit.seq);
    const id = l.record.out_trade_no && l.type === 'order' ? l.record.out_trade_no : l.record.out_refund_no ?? l.record.settlement_id;
    assert.deepEqual([e?.hash, e?.target, e?.action.split('.')[0]], [l.audit.hash, id, l.type], `${l.type} ${id}`);
  }
  const lastOfPaid = log.filter((e) => e.target === a.out_trade_no && e.action.startsWith('order.')).pop();
  assert.equal(orders.find((l) => l.record.out_trade_no === a.out_trade_no).audit.seq, lastOfPaid.seq);
  // The day's signed statement anchors a chain entry that the export holds, unchanged.
  const anchored = JSON.parse(statement.payload);
  assert.equal(bySeq.get(anchored.audit_seq)?.hash, anchored.audit_hash);

  // The seal: every byte before it, the line count, the chain's head.
  const facts = JSON.parse(seal.seal.payload);
  assert.deepEqual([facts.kind, facts.lines, facts.merchant_id, facts.from, facts.to], ['export', all.length - 1, m.merchant_id, head.from, head.to]);
  assert.ok(facts.audit_seq >= chain.at(-1).seq);

  // The README's verifier, as written, accepts the export and refuses any change.
  const dir = mkdtempSync(join(tmpdir(), 'paydesk-export-'));
  const keys = await (await fetch(`${w.url}/.well-known/paydesk-receipt-keys`)).json();
  writeFileSync(join(dir, 'keys.json'), JSON.stringify(keys));
  writeFileSync(join(dir, 'verify_export.py'), readmeBlock('export-verifier-python'));
  const python = join(ROOT, 'target/pyenv/bin/python');
  const verifies = (text) => {
    writeFileSync(join(dir, 'export.jsonl'), text);
    try {
      return execFileSync(python, [join(dir, 'verify_export.py'), join(dir, 'export.jsonl'), join(dir, 'keys.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      return null;
    }
  };
  assert.match(verifies(r.text) ?? 'refused', /^genuine: /);
  const raw = r.text.split('\n');
  const at = raw.findIndex((l) => l.includes(`"out_trade_no":"${a.out_trade_no}"`) && l.startsWith('{"audit"'));
  const changed = [...raw];
  changed[at] = changed[at].replace('"refunded_total":2000', '"refunded_total":200');
  assert.notEqual(changed[at], raw[at]);
  const dropped = raw.filter((_, i) => i !== 2);
  const resealed = [...raw];
  const sealAt = raw.length - 2;
  resealed[sealAt] = resealed[sealAt].replace(/\\"lines\\":\d+/, '\\"lines\\":1');
  assert.notEqual(resealed[sealAt], raw[sealAt]);
  for (const text of [changed.join('\n'), dropped.join('\n'), resealed.join('\n')]) assert.equal(verifies(text), null);

  // An empty range: the head and the seal.
  const later = await call(w, m, 'GET', `/v1/exports?from=${merchantDate(start, 5)}&to=${merchantDate(start, 6)}`);
  assert.deepEqual(lines(later.text).map((l) => l.type), ['export', 'seal']);
  assert.equal(JSON.parse(lines(later.text)[1].seal.payload).lines, 1);
});

test('an_export_range_is_whole_ordered_and_within_the_seven_years_kept', async () => {
  const m = await newMerchant(w);
  const refused = async (query, status, code, param) => {
    const r = await call(w, m, 'GET', `/v1/exports${query}`);
    assert.deepEqual([r.status, r.json?.code, r.json?.param], [status, code, param], `${query}: ${r.text}`);
  };
  await refused('', 400, 'PARAM_ERROR', 'from');
  await refused('?from=2026-12-01', 400, 'PARAM_ERROR', 'from');
  await refused('?from=2026-12-01&to=yesterday', 400, 'PARAM_ERROR', 'to');
  await refused('?from=2026-12-02&to=2026-12-01', 400, 'PARAM_ERROR', 'to');
  await refused('?from=2026-12-01&to=2026-12-31&format=csv', 400, 'PARAM_ERROR', 'query');
  const { business_time: now } = (await call(w, m, 'GET', '/v1/balance')).json;
  const yearsAgo = (n, days) => {
    const d = new Date(Date.parse(now) + 8 * 3_600_000);
    d.setUTCFullYear(d.getUTCFullYear() - n);
    return new Date(d.getTime() + days * 86_400_000).toISOString().slice(0, 10);
  };
  await refused(`?from=${yearsAgo(7, -1)}&to=${yearsAgo(0, 0)}`, 410, 'RECORDS_EXPIRED', undefined);
  const kept = await call(w, m, 'GET', `/v1/exports?from=${yearsAgo(7, 0)}&to=${yearsAgo(0, 0)}`);
  assert.equal(kept.status, 200, kept.text);
  assert.equal(lines(kept.text)[0].kept_since, lines(kept.text)[0].from);
});

/** Advances the merchant's clock to `targetMs` of business time, at most 400 days a call. */
async function advanceTo(m, targetMs) {
  for (;;) {
    const { business_time: now } = (await call(w, m, 'GET', '/v1/balance')).json;
    const left = Math.ceil((targetMs - Date.parse(now)) / 1000);
    if (left <= 0) return;
    await advance(w, m, Math.min(left, 400 * 86_400));
  }
}

test('records_are_kept_seven_years_then_let_go_with_the_books_and_the_chain_still_whole', async () => {
  const m = await newMerchant(w, { release_days: 1, refund_approval_above: 20_000 });
  assert.equal((await call(w, m, 'POST', '/v1/receivers', { receiver_id: 'shop-2', name: 'Shop 2', relation: 'store' })).status, 201);
  const { business_time: start } = (await call(w, m, 'GET', '/v1/balance')).json;
  const a = await createOrder(w, m, { amount: { total: 50_000, currency: 'CNY' }, splits: [{ receiver_id: 'shop-2', amount: 10_000 }] });
  assert.equal((await pay(w, a, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  assert.equal((await call(w, m, 'POST', `/v1/orders/${a.out_trade_no}/fulfil`)).status, 200);
  const unpaid = await createOrder(w, m);
  const c = await createOrder(w, m, { amount: { total: 8_000, currency: 'CNY' } });
  assert.equal((await pay(w, c, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  assert.equal((await call(w, m, 'POST', `/v1/orders/${c.out_trade_no}/fulfil`)).status, 200);
  // `d`'s refund waits for an approver, for ever as far as the horizon goes: still changing, so
  // kept, whatever its age.
  const d = await createOrder(w, m, { amount: { total: 30_000, currency: 'CNY' } });
  assert.equal((await pay(w, d, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  assert.equal((await call(w, m, 'POST', `/v1/orders/${d.out_trade_no}/fulfil`)).status, 200);
  const waiting = await call(w, m, 'POST', '/v1/refunds', { out_trade_no: d.out_trade_no, out_refund_no: otn('R'), amount: 25_000 });
  assert.deepEqual([waiting.status, waiting.json.status], [201, 'PROCESSING']);
  await advance(w, m, await toNextClose(m));
  // A refund of released money on the next day: the share is clawed back, a second settlement.
  const refund = (o, amount) => call(w, m, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: otn('R'), amount });
  assert.equal((await refund(a, 5_000)).status, 201);
  await advance(w, m, await toNextClose(m));
  // Four days after it was made, a refund of `c`: its day is still kept when `a`'s are not.
  await advance(w, m, 2 * 86_400);
  assert.equal((await refund(c, 1_000)).status, 201);
  await advance(w, m, await toNextClose(m));
  const books = (await call(w, m, 'GET', '/v1/balance')).json;
  const receivers = (await call(w, m, 'GET', '/v1/receivers')).json;
  assert.equal((await call(w, m, 'GET', '/v1/settlements')).json.settlements.length, 3);
  const day = merchantDate(start);
  const dayStart = Date.parse(`${day}T00:00:00+08:00`);
  const sevenYearsOn = new Date(dayStart);
  sevenYearsOn.setUTCFullYear(sevenYearsOn.getUTCFullYear() + 7);

  // The last day of the seventh year: everything is still there and exports.
  await advanceTo(m, sevenYearsOn.getTime() - 12 * 3_600_000);
  const lastDay = await call(w, m, 'GET', `/v1/exports?from=${day}&to=${merchantDate(start, 1)}`);
  assert.equal(lastDay.status, 200, lastDay.text);
  assert.deepEqual(lines(lastDay.text).filter((l) => l.type === 'order').map((l) => l.record.out_trade_no).sort(), [a.out_trade_no, unpaid.out_trade_no, c.out_trade_no, d.out_trade_no].sort());
  assert.equal((await call(w, m, 'GET', `/v1/orders/${a.out_trade_no}`)).status, 200);

  // Three days later, the first days are past the horizon: let go.
  await advanceTo(m, sevenYearsOn.getTime() + 2 * 86_400_000 + 12 * 3_600_000);
  const gone = await call(w, m, 'GET', `/v1/orders/${a.out_trade_no}`);
  assert.deepEqual([gone.status, gone.json.code], [404, 'ORDER_NOT_EXIST']);
  const expired = await call(w, m, 'GET', `/v1/exports?from=${day}&to=${merchantDate(start, 1)}`);
  assert.deepEqual([expired.status, expired.json.code], [410, 'RECORDS_EXPIRED']);
  // `c` stays: its refund and that refund's movements are on a day still kept, whose bill must
  // still add up to its settlement.
  const kept = await call(w, m, 'GET', `/v1/orders/${c.out_trade_no}`);
  assert.deepEqual([kept.status, kept.json.refunded_total], [200, 1_000]);
  const [lastSettlement] = (await call(w, m, 'GET', '/v1/settlements')).json.settlements;
  assert.equal((await call(w, m, 'GET', '/v1/settlements')).json.settlements.length, 1);
  const bill = await call(w, m, 'GET', `/v1/bills?date=${lastSettlement.date}`);
  assert.equal(bill.status, 200, bill.text);
  assert.ok(bill.text.includes(c.out_trade_no), "the kept day's bill still has its line");
  // The books still add up to the same lifetime totals, the receiver's share included.
  const after = (await call(w, m, 'GET', '/v1/balance')).json;
  const totals = (b) => [b.held, b.releasable, b.settled, b.shared, b.paid, b.refunded, b.fees];
  assert.deepEqual(totals(after), totals(books));
  assert.deepEqual((await call(w, m, 'GET', '/v1/receivers')).json, receivers);

  // The chain goes on from the last entry let go, and still verifies.
  const reactivated = await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/reactivate`, { document_ref: 'KYC-7Y' });
  assert.equal(reactivated.status, 200, JSON.stringify(reactivated.json));
  const b = await createOrder(w, m, { amount: { total: 3_000, currency: 'CNY' } });
  assert.equal((await pay(w, b, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  const verified = (await call(w, m, 'GET', '/v1/audit/verify')).json;
  assert.equal(verified.intact, true, JSON.stringify(verified));
  const { business_time: now } = (await call(w, m, 'GET', '/v1/balance')).json;
  const recent = await call(w, m, 'GET', `/v1/exports?from=${merchantDate(now, -3)}&to=${merchantDate(now)}`);
  const [head, ...rest] = lines(recent.text);
  assert.deepEqual([head.let_go.orders, head.let_go.before], [2, head.kept_since]);
  const [first] = (await call(w, m, 'GET', '/v1/audit')).json.entries;
  assert.equal(first.seq, head.let_go.audit_seq + 1, 'the kept chain starts right after what was let go');
  assert.equal(first.prev_hash, head.let_go.audit_hash);
  assert.ok(Date.parse(first.at) >= Date.parse(head.kept_since), 'nothing older than the horizon is kept');
  assert.ok(rest.some((l) => l.type === 'order' && l.record.out_trade_no === b.out_trade_no));
  // The waiting refund and its order were kept, and the approver can still decide it.
  assert.equal((await call(w, m, 'GET', `/v1/refunds/${waiting.json.out_refund_no}`)).json.status, 'PROCESSING');
  const approved = await admin(w, 'POST', `/admin/approvals/${waiting.json.approval_id}/approve`, { approver: 'finance-lead' });
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  assert.equal((await call(w, m, 'GET', `/v1/refunds/${waiting.json.out_refund_no}`)).json.status, 'SUCCESS');
  assert.equal((await call(w, m, 'GET', `/v1/orders/${d.out_trade_no}`)).json.refunded_total, 25_000);
});
