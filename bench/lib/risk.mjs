// The risk section of the bench: a burst of payment attempts from one payer (`payer_ref`) against
// a merchant whose rule blocks more than 10 a minute, while other payers of the same merchant pay
// one after another. Baseline: the same other payers' payments with no burst, in the same run and
// worker. What it shows: the rule fires (all but 10 of the burst are blocked before the channel),
// and how much the burst delays everybody else, since one merchant's object serialises them.

import { admin } from '../../tests/support/api.mjs';
import { createSigned } from './orders.mjs';
import { summary } from './stats.mjs';

const CARD = { method: 'credit_card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2035, cvc: '123' } };

async function payOnce(worker, token) {
  const t0 = performance.now();
  const r = await fetch(`${worker.url}/api/checkout/${token}/pay`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(CARD),
  });
  const body = await r.json();
  return { ms: performance.now() - t0, status: body.status, code: body.code };
}

/** `n` orders with their own payer each (`prefix-i`), or all for one payer. */
const run = Date.now().toString(36);

async function orders(worker, m, n, payer, prefix, inFlight = 8) {
  const out = new Array(n);
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const payer_ref = payer ?? `${prefix}-${i}`;
      out[i] = await createSigned(worker, m, `${prefix}_${run}_${i}`, { payer_ref, amount: { total: 1_000, currency: 'CNY' } });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
  return out;
}

/** Other payers paying one after another, alone: their latencies. */
async function calmPayments(worker, list) {
  const ms = [];
  for (const o of list) {
    const r = await payOnce(worker, o.token);
    if (r.status !== 'SUCCESS') throw new Error(`calm payer: ${JSON.stringify(r)}`);
    ms.push(r.ms);
  }
  return ms;
}

/**
 * The burst's attempts, `inFlight` at a time; paced to `spreadMs` in all when given (the
 * issue's "1,000 in a minute"), else as fast as the worker answers (a stress figure).
 */
async function burstOf(worker, list, inFlight, spreadMs) {
  const outcomes = { SUCCESS: 0, RISK_BLOCKED: 0, other: 0 };
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < list.length) {
      const i = next++;
      if (spreadMs) {
        const due = t0 + (i * spreadMs) / list.length;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const x = await payOnce(worker, list[i].token);
      const k = x.status === 'SUCCESS' ? 'SUCCESS' : x.code === 'RISK_BLOCKED' ? 'RISK_BLOCKED' : 'other';
      outcomes[k] += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const ms = performance.now() - t0;
  return { attempts: list.length, outcomes, ms, per_s: list.length / (ms / 1000) };
}

/** Other payers paying one after another while `burst` runs: their latencies. */
async function alongside(worker, calm, burst) {
  let done = false;
  const running = burst.then((r) => { done = true; return r; });
  const ms = [];
  let i = 0;
  while (!done && i < calm.length) {
    const r = await payOnce(worker, calm[i++].token);
    if (r.status !== 'SUCCESS') throw new Error(`calm payer: ${JSON.stringify(r)}`);
    ms.push(r.ms);
  }
  return { burst: await running, others_ms: summary(ms) };
}

async function benchMerchant(worker, name) {
  const r = await admin(worker, 'POST', '/admin/merchants', {
    name, tier: 'enterprise', sandbox: true, branding: { display_name: name },
    rate_limits: { create: 100_000, query: 100_000, refund: 100_000 },
    daily_limit: 1_000_000_000,
    risk: { payer: { max_per_minute: 10, action: 'block' } },
  });
  if (r.status !== 201) throw new Error(`bench merchant: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

export async function measureRiskBurst({ worker, burst, calm, spreadMs, inFlight = 16, log = () => {} }) {
  const m = await benchMerchant(worker, 'Bench risk');
  // The control: the same paced burst against another merchant, so what the machine's load
  // alone does to the other payers is told apart from what the burst does to their merchant.
  const other = await benchMerchant(worker, 'Bench risk (another merchant)');
  log(`risk: creating ${3 * burst} burst orders and ${10 * calm} others`);
  const paced = await orders(worker, m, burst, 'burst-payer-1', 'RB');
  const flat = await orders(worker, m, burst, 'burst-payer-2', 'RF');
  const elsewhere = await orders(worker, other, burst, 'burst-payer-3', 'RE');
  const [base, duringPaced, duringFlat, duringElsewhere] = [
    await orders(worker, m, calm, null, 'RC'),
    await orders(worker, m, calm * 4, null, 'RP'),
    await orders(worker, m, calm, null, 'RD'),
    await orders(worker, m, calm * 4, null, 'RO'),
  ];
  const baseline = summary(await calmPayments(worker, base));
  log(`risk: ${burst} attempts from one payer of another merchant over ${spreadMs / 1000} s`);
  const controlRun = await alongside(worker, duringElsewhere, burstOf(worker, elsewhere, 4, spreadMs));
  log(`risk: ${burst} attempts from one payer over ${spreadMs / 1000} s`);
  const pacedRun = await alongside(worker, duringPaced, burstOf(worker, paced, 4, spreadMs));
  log(`risk: ${burst} attempts from one payer, ${inFlight} in flight`);
  const flatRun = await alongside(worker, duringFlat, burstOf(worker, flat, inFlight, 0));
  return {
    rule: 'payer: more than 10 a minute → block',
    in_flight: inFlight,
    spread_ms: spreadMs,
    others_baseline_ms: baseline,
    paced: pacedRun,
    paced_other_merchant: controlRun,
    flat: flatRun,
  };
}
