// A merchant's server as the tests play it: an independent implementation of the request
// signature documented in docs/openapi.json, and the admin API.

import { createHmac, randomBytes } from 'node:crypto';
import { checkResponse } from './openapi.mjs';

/** The documented path template of a concrete path (docs/openapi.json). */
export function templateOf(path) {
  const p = path.split('?')[0];
  const rules = [
    [/^\/v1\/orders$/, '/v1/orders'],
    [/^\/v1\/orders\/[^/]+\/close$/, '/v1/orders/{out_trade_no}/close'],
    [/^\/v1\/orders\/[^/]+$/, '/v1/orders/{out_trade_no}'],
    [/^\/v1\/refunds$/, '/v1/refunds'],
    [/^\/v1\/refunds\/[^/]+$/, '/v1/refunds/{out_refund_no}'],
    [/^\/v1\/audit\/verify$/, '/v1/audit/verify'],
    [/^\/v1\/notifications$/, '/v1/notifications'],
    [/^\/v1\/notifications\/[^/]+\/resend$/, '/v1/notifications/{id}/resend'],
    [/^\/v1\/notifications\/[^/]+$/, '/v1/notifications/{id}'],
    [/^\/v1\/alerts$/, '/v1/alerts'],
    [/^\/v1\/messaging$/, '/v1/messaging'],
    [/^\/v1\/inbox$/, '/v1/inbox'],
    [/^\/v1\/inbox\/[^/]+\/(read|unread)$/, '/v1/inbox/{id}/{action}'],
    [/^\/v1\/messages$/, '/v1/messages'],
    [/^\/v1\/contract_plans$/, '/v1/contract_plans'],
    [/^\/v1\/contract_plans\/[^/]+$/, '/v1/contract_plans/{plan_id}'],
    [/^\/v1\/contracts$/, '/v1/contracts'],
    [/^\/v1\/contracts\/[^/]+\/(terminate|deductions)$/, (m) => `/v1/contracts/{contract_code}/${m[1]}`],
    [/^\/v1\/contracts\/[^/]+$/, '/v1/contracts/{contract_code}'],
    [/^\/v1\/(subscriptions|installment_plans)$/, (m) => `/v1/${m[1]}`],
    [/^\/v1\/reports\/(daily|fees)$/, (m) => `/v1/reports/${m[1]}`],
    [/^\/admin\/merchants$/, '/admin/merchants'],
    [/^\/admin\/merchants\/[^/]+$/, '/admin/merchants/{id}'],
    [/^\/admin\/merchants\/[^/]+\/(rotate-key|rotate-webhook-secret|reactivate|orders)$/, (m) => `/admin/merchants/{id}/${m[1]}`],
    [/^\/admin\/merchants\/[^/]+\/clock\/advance$/, '/admin/merchants/{id}/clock/advance'],
    [/^\/admin\/merchants\/[^/]+\/audit\/verify$/, '/admin/merchants/{id}/audit/verify'],
    [/^\/admin\/approvals\/[^/]+\/[^/]+$/, '/admin/approvals/{id}/{decision}'],
    [/^\/api\/checkout\/[^/]+\/pay$/, '/api/checkout/{token}/pay'],
    [/^\/api\/checkout\/[^/]+$/, '/api/checkout/{token}'],
  ];
  for (const [re, t] of rules) {
    const m = p.match(re);
    if (m) return typeof t === 'function' ? t(m) : t;
  }
  return null;
}

/** Every response the tests see is checked against the OpenAPI document. */
async function conforms(method, path, status, body, headers) {
  const template = templateOf(path);
  // A wrong method is answered by the router before any operation: not an operation's response.
  if (!template || status === 405) return;
  const contentType = headers.get('content-type') ?? undefined;
  await checkResponse(method, template, status, status === 204 ? undefined : body, { contentType, headers });
}

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
  // `rawBytes`: a body sent as these bytes (signed as `body`); `chunked`: with no declared length.
  let sent = opts.rawBytes ?? (body || undefined);
  if (opts.chunked) {
    const bytes = typeof sent === 'string' ? new TextEncoder().encode(sent) : sent;
    sent = new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } });
  }
  const r = await fetch(`${worker.url}${pathAndQuery}`, { method, headers, body: sent, ...(opts.chunked ? { duplex: 'half' } : {}) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* XML or empty */ }
  await conforms(method, pathAndQuery, r.status, json ?? (text || undefined), r.headers);
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
  const json = text ? JSON.parse(text) : null;
  await conforms(method, path, r.status, json ?? undefined, r.headers);
  return { status: r.status, json, headers: r.headers };
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
  const json = await r.json();
  await conforms('POST', `/api/checkout/${tokenOf(order)}/pay`, r.status, json, r.headers);
  return { status: r.status, json };
}

export const CARD = (number) => ({ method: 'credit_card', card: { number, exp_month: 12, exp_year: 2035, cvc: '123' } });

/** A merchant object's SQL tallies for requests (dev-only route; edge/src/merchant/sql_meter.rs). */
export async function sqlMeter(worker, merchant) {
  const r = await fetch(`${worker.url}/dev/merchants/${merchant.merchant_id}/sql-meter`);
  if (r.status !== 200) throw new Error(`sql meter: ${r.status} ${await r.text()}`);
  return (await r.json()).requests;
}

/** When the merchant object's alarm is set (real ms), or null: the runtime's own answer. */
export async function alarmAt(worker, merchant) {
  const r = await fetch(`${worker.url}/dev/merchants/${merchant.merchant_id}/sql-meter`);
  if (r.status !== 200) throw new Error(`sql meter: ${r.status} ${await r.text()}`);
  return (await r.json()).alarm_ms ?? null;
}

export async function advance(worker, merchant, seconds) {
  const r = await admin(worker, 'POST', `/admin/merchants/${merchant.merchant_id}/clock/advance`, { seconds });
  if (r.status !== 200) throw new Error(`advance: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** A complete enterprise application (the licence number is GB 32100-2015's own example). */
export const APPLICATION = {
  tier: 'enterprise',
  business_name: '上海示例科技有限公司',
  licence_number: '91350100M000100Y43',
  legal_person: '张三丰',
  corporate_account: { bank: '招商银行上海分行', account_name: '上海示例科技有限公司', account_number: '6225880212345678' },
};

/** A live merchant applies and the operator approves it, so it may take orders. */
export async function approveLive(worker, merchant, application = APPLICATION) {
  const a = await call(worker, merchant, 'POST', '/v1/application', application);
  if (a.status !== 201) throw new Error(`apply: ${a.status} ${a.text}`);
  const r = await admin(worker, 'POST', `/admin/merchants/${merchant.merchant_id}/application/approve`, { application_id: a.json.application_id, reason: 'documents checked' });
  if (r.status !== 200) throw new Error(`approve: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}
