// One load-generator run with autocannon (npm), in its own process so that nothing else on the
// bench's event loop (the notification receiver) competes with it. Reads a JSON spec from argv[2],
// prints one JSON line of results.
//
// Every signed request is signed afresh (new nonce, current timestamp), and every order create
// uses a new out_trade_no, exactly as a merchant server would send them.

import autocannon from 'autocannon';
import { createHmac, randomBytes } from 'node:crypto';

const spec = JSON.parse(process.argv[2]);
const { url, scenario, connections, duration, merchant, otns = [], tokens = [] } = spec;
const runId = randomBytes(3).toString('hex');
let seq = 0;

const nonce = () => randomBytes(12).toString('hex');
function signed(method, path, body = '') {
  const ts = String(Math.floor(Date.now() / 1000));
  const n = nonce();
  const sig = createHmac('sha256', merchant.api_key)
    .update(`${method}\n${path}\n${ts}\n${n}\n${body}\n`)
    .digest('hex');
  const headers = {
    'Paydesk-Merchant': merchant.merchant_id,
    'Paydesk-Timestamp': ts,
    'Paydesk-Nonce': n,
    'Paydesk-Signature': sig,
  };
  if (body) headers['Content-Type'] = 'application/json';
  return { method, path, headers, body: body || undefined };
}

const PAY = JSON.stringify({ method: 'credit_card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2035, cvc: '123' } });

const builders = {
  health: () => ({ method: 'GET', path: '/api/live' }),
  create: () => {
    const otn = `L${runId}${(seq++).toString(36)}`;
    const body = JSON.stringify({
      out_trade_no: otn,
      amount: { total: 1, currency: 'CNY' },
      description: 'Bench order',
      attach: 'bench',
    });
    return signed('POST', '/v1/orders', body);
  },
  // The floor for a write through the merchant's object: one INSERT (dev-only route).
  write: () => ({ method: 'POST', path: `/dev/merchants/${merchant.merchant_id}/bench-write` }),
  query: () => signed('GET', `/v1/orders/${otns[seq++ % otns.length]}`),
  checkout: () => ({ method: 'GET', path: `/api/checkout/${tokens[seq++ % tokens.length]}` }),
  page: () => ({ method: 'GET', path: `/pay/${tokens[seq++ % tokens.length]}` }),
  // Each order is paid once: `amount` equals the number of tokens.
  pay: () => ({
    method: 'POST',
    path: `/api/checkout/${tokens[Math.min(seq++, tokens.length - 1)]}/pay`,
    headers: { 'Content-Type': 'application/json' },
    body: PAY,
  }),
};
const build = builders[scenario];
if (!build) throw new Error(`unknown scenario ${scenario}`);

const latencies = [];
const opts = {
  url,
  connections,
  pipelining: 1,
  timeout: 30,
  requests: [{ setupRequest: (req) => ({ ...req, ...build() }) }],
};
if (spec.amount) opts.amount = spec.amount;
else opts.duration = duration;

const t0 = performance.now();
// This process's own CPU from here on (not its start-up): the load generator shares the machine's
// cores with the runtime it measures, and a signed create costs it more than the bench's write.
const cpu0 = process.cpuUsage();
const instance = autocannon(opts);
let lastAnswer = 0;
instance.on('response', (_client, status, _bytes, responseTime) => {
  lastAnswer = performance.now();
  if (status >= 200 && status < 300) latencies.push(responseTime);
});
const result = await instance;
// Our own clock, from the start to the last answer: autocannon notices the end of a run only on
// its next one-second tick, too coarse for short `amount` runs.
const seconds = ((lastAnswer || performance.now()) - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
latencies.sort((a, b) => a - b);
const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null);
const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
process.stdout.write(`${JSON.stringify({
  scenario,
  connections,
  seconds,
  ok: latencies.length,
  req_per_s: latencies.length / seconds,
  client_cpu_ms: latencies.length ? (cpu.user + cpu.system) / 1000 / latencies.length : null,
  p50_ms: q(0.5),
  p99_ms: q(0.99),
  max_ms: latencies.at(-1) ?? null,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statuses,
})}\n`);
