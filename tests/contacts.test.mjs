// A payer's contact is personal data (docs/openapi.json: Contact): given on an order, it is
// checked (a malformed phone or email is PARAM_ERROR and creates nothing), sealed at rest under
// DATA_KEYS (the bytes on disk never hold it, nor the audit chain or the order's fingerprint),
// and every answer shows it masked.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from './support/worker.mjs';
import { call, admin, newMerchant, createOrder, pay, otn, CARD } from './support/api.mjs';

const state = join(mkdtempSync(join(tmpdir(), 'paydesk-contacts-')), 'state');
let w;
before(async () => { w = await startWorker({ persistTo: state }); });
after(async () => { await w?.stop(); });

function bytesOnDisk(dir) {
  return Buffer.concat(readdirSync(dir).map((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? bytesOnDisk(p) : readFileSync(p);
  }));
}

test('a_contact_is_checked_sealed_and_only_ever_shown_masked', async () => {
  const m = await newMerchant(w);
  const create = (contact) => call(w, m, 'POST', '/v1/orders', { out_trade_no: otn(), amount: { total: 500, currency: 'CNY' }, description: 'x', contact });
  for (const [contact, param] of [
    [{ phone: '12345' }, 'contact.phone'],
    [{ phone: '13812345678', email: 'alice@' }, 'contact.email'],
    [{}, 'contact'],
  ]) {
    const r = await create(contact);
    assert.deepEqual([r.status, r.json.code, r.json.param], [400, 'PARAM_ERROR', param], JSON.stringify(contact));
  }
  assert.equal((await create({ phone: '13812345678', fax: '1' })).json.code, 'PARAM_ERROR', 'unknown fields are refused');
  const listed = await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/orders`);
  assert.deepEqual(listed.json.orders, [], 'nothing was created');

  const contact = { phone: '13812345678', email: 'alice.wang@example.com' };
  const o = await createOrder(w, m, { contact });
  assert.deepEqual(o.contact, { phone: '138****5678', email: 'a***@example.com' });
  const again = await call(w, m, 'POST', '/v1/orders', { out_trade_no: o.out_trade_no, amount: { total: 1000, currency: 'CNY' }, description: 'Test order', contact });
  assert.equal(again.status, 200, 'the same request again is the same order');
  const other = await call(w, m, 'POST', '/v1/orders', { out_trade_no: o.out_trade_no, amount: { total: 1000, currency: 'CNY' }, description: 'Test order', contact: { phone: '13900000000' } });
  assert.equal(other.json.code, 'OUT_TRADE_NO_USED', 'another contact is another request');
  assert.equal((await pay(w, o, CARD('4242424242424242'))).json.status, 'SUCCESS');
  const shown = (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
  assert.deepEqual(shown.contact, { phone: '138****5678', email: 'a***@example.com' });

  const disk = bytesOnDisk(state);
  for (const clear of ['13812345678', 'alice.wang@example.com']) {
    assert.equal(disk.indexOf(Buffer.from(clear)), -1, `${clear} is not on disk in clear`);
  }
  assert.notEqual(disk.indexOf(Buffer.from('138****5678')), -1);
  const everything = JSON.stringify([(await call(w, m, 'GET', '/v1/audit')).json, (await call(w, m, 'GET', '/v1/notifications')).json]);
  assert.doesNotMatch(everything, /13812345678|alice\.wang/);
});
