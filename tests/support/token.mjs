// An independent implementation of the checkout token format of docs/architecture.md / shared's
// sign::token, so the tests check the contract rather than reuse the code under test.

import { createHmac } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function checkoutToken(key, { merchantId, outTradeNo, expiresAt }) {
  const p64 = b64url(`${expiresAt}.${merchantId}.${outTradeNo}`);
  const mac = createHmac('sha256', key).update(`paydesk-checkout-v1.${p64}`).digest();
  return `${p64}.${b64url(mac)}`;
}
