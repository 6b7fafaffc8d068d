// Creating many orders quickly for the bench: signed POST /v1/orders with a few in flight, the
// same request a merchant server sends (tests/support/api.mjs signs it; no OpenAPI check here).

import { randomBytes } from 'node:crypto';
import { nonce, sign, tokenOf } from '../../tests/support/api.mjs';

let batch = 0;

export async function createSigned(worker, merchant, outTradeNo, fields = {}) {
  const body = JSON.stringify({ out_trade_no: outTradeNo, amount: { total: 1, currency: 'CNY' }, description: 'Bench order', ...fields });
  const ts = String(Math.floor(Date.now() / 1000));
  const n = nonce();
  const r = await fetch(`${worker.url}/v1/orders`, {
    method: 'POST',
    headers: {
      'Paydesk-Merchant': merchant.merchant_id,
      'Paydesk-Timestamp': ts,
      'Paydesk-Nonce': n,
      'Paydesk-Signature': sign(merchant.api_key, 'POST', '/v1/orders', ts, n, body),
      'Content-Type': 'application/json',
    },
    body,
  });
  const json = await r.json();
  if (r.status !== 201) throw new Error(`create order: ${r.status} ${JSON.stringify(json)}`);
  return { out_trade_no: json.out_trade_no, token: tokenOf(json), order: json };
}

/** `n` new orders, `inFlight` at a time. */
export async function signedCreate(worker, merchant, n, inFlight = 8) {
  const prefix = `P${randomBytes(3).toString('hex')}${(batch++).toString(36)}`;
  const out = new Array(n);
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await createSigned(worker, merchant, `${prefix}_${i}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
  return out;
}
