// A merchant's server as the tests play it: an independent implementation of the request
// signature of DESIGN.md §3.1, and the admin API.

import { createHmac, randomBytes } from 'node:crypto';

export const nonce = () => randomBytes(12).toString('hex');

export function sign(key, method, pathAndQuery, timestamp, nonceValue, body) {
  return createHmac('sha256', key)
    .update(`${method}\n${pathAndQuery}\n${timestamp}\n${nonceValue}\n${body}\n`)
    .digest('hex');
}

/** A signed merchant API call. `opts` overrides any part (for negative tests). */
export async function call(worker, merchant, method, pathAndQuery, bodyObj, opts = {}) {
  const body = opts.rawBody ?? (bodyObj === undefined ? '' : JSON.stringify(bodyObj));
  const ts = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
  const n = opts.nonce ?? nonce();
  const sig = opts.signature ?? sign(opts.key ?? merchant.api_key, method, pathAndQuery, ts, n, body);
  const headers = {
    'Paydesk-Merchant': opts.merchantId ?? merchant.merchant_id,
    'Paydesk-Timestamp': ts,
    'Paydesk-Nonce': n,
    'Paydesk-Signature': sig,
    ...(body ? { 'Content-Type': 'application/json' } : {}),
    ...(opts.headers ?? {}),
  };
  const r = await fetch(`${worker.url}${pathAndQuery}`, { method, headers, body: body || undefined });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* XML or empty */ }
  return { status: r.status, json, text, headers: r.headers };
}

export async function admin(worker, method, path, bodyObj, token) {
  const r = await fetch(`${worker.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token ?? worker.env.ADMIN_TOKEN}`,
      ...(bodyObj === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: bodyObj === undefined ? undefined : JSON.stringify(bodyObj),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null, headers: r.headers };
}

let seq = 0;
/** A fresh merchant through the admin API (sandbox, enterprise unless overridden). */
export async function newMerchant(worker, overrides = {}) {
  const r = await admin(worker, 'POST', '/admin/merchants', {
    name: `Test Shop ${++seq}`,
    tier: 'enterprise',
    sandbox: true,
    branding: { display_name: `Test Shop ${seq}`, theme_color: '#336699' },
    ...overrides,
  });
  if (r.status !== 201) throw new Error(`new merchant: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

export const otn = (prefix = 'T') => `${prefix}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`.slice(0, 32);

export async function createOrder(worker, merchant, fields = {}) {
  const body = { out_trade_no: otn(), amount: { total: 1000, currency: 'CNY' }, description: 'Test order', ...fields };
  const r = await call(worker, merchant, 'POST', '/v1/orders', body);
  if (r.status !== 201) throw new Error(`create order: ${r.status} ${r.text}`);
  return r.json;
}

export const tokenOf = (order) => new URL(order.checkout_url).pathname.split('/').pop();

export async function pay(worker, order, payBody) {
  const r = await fetch(`${worker.url}/api/checkout/${tokenOf(order)}/pay`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payBody),
  });
  return { status: r.status, json: await r.json() };
}

export const CARD = (number) => ({ method: 'credit_card', card: { number, exp_month: 12, exp_year: 2035, cvc: '123' } });

export async function advance(worker, merchant, seconds) {
  const r = await admin(worker, 'POST', `/admin/merchants/${merchant.merchant_id}/clock/advance`, { seconds });
  if (r.status !== 200) throw new Error(`advance: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}
