// Signed electronic receipts through the real worker (docs/openapi.json:
// /v1/orders/{no}/receipt, /.well-known/paydesk-receipt-keys; the pay page's ?receipt): a paid
// order's and each refund's receipt, signed with the deployment's Ed25519 key, the same bytes
// every time; the payer's printable page from the success state; and the README's offline
// verifiers, in Python and Node, run as written: they accept the receipt and refuse any change.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, readmeBlock, ROOT } from './support/worker.mjs';
import { call, newMerchant, createOrder, pay, otn, CARD, tokenOf, advance } from './support/api.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

test('receipts_are_signed_stable_and_verify_with_the_published_key', async () => {
  const m = await newMerchant(w, { branding: { display_name: '龙井茶馆 Tea & Co' } });
  const o = await createOrder(w, m, { amount: { total: 8_800, currency: 'CNY' }, description: 'Longjing <250g>' });
  const none = await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}/receipt`);
  assert.deepEqual([none.status, none.json.payment, none.json.refunds], [200, undefined, []], 'no receipt before payment');
  assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  const refundNo = otn('R');
  assert.equal((await call(w, m, 'POST', '/v1/refunds', { out_trade_no: o.out_trade_no, out_refund_no: refundNo, amount: 800 })).status, 201);
  const r = await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}/receipt`);
  assert.equal(r.status, 200, r.text);
  const { payment, refunds } = r.json;
  const paid = JSON.parse(payment.payload);
  assert.deepEqual([paid.kind, paid.amount, paid.out_trade_no, paid.merchant_name, paid.currency], ['payment', 8_800, o.out_trade_no, '龙井茶馆 Tea & Co', 'CNY']);
  assert.deepEqual(refunds.map((x) => [JSON.parse(x.payload).kind, JSON.parse(x.payload).amount, JSON.parse(x.payload).out_refund_no]), [['refund', 800, refundNo]]);
  const again = await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}/receipt`);
  assert.deepEqual(again.json, r.json, 'the same bytes and signatures every time');

  const keys = await (await fetch(`${w.url}/.well-known/paydesk-receipt-keys`)).json();
  assert.deepEqual(keys.keys.map((k) => [k.key_id, k.alg, k.current]), [['test-1', 'Ed25519', true]]);
  const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: keys.keys[0].x }, format: 'jwk' });
  for (const doc of [payment, ...refunds]) {
    assert.ok(verify(null, Buffer.from(doc.payload), pub, Buffer.from(doc.signature, 'base64url')));
  }

  // The README's verifiers, as written, accept the receipt and refuse a changed byte.
  const dir = mkdtempSync(join(tmpdir(), 'paydesk-receipt-'));
  writeFileSync(join(dir, 'keys.json'), JSON.stringify(keys));
  writeFileSync(join(dir, 'verify_receipt.py'), readmeBlock('receipt-verifier-python'));
  writeFileSync(join(dir, 'verify_receipt.mjs'), readmeBlock('receipt-verifier-node'));
  const python = join(ROOT, 'target/pyenv/bin/python');
  const run = (doc) => {
    writeFileSync(join(dir, 'receipt.json'), JSON.stringify(doc));
    const out = [];
    for (const [cmd, file] of [[python, 'verify_receipt.py'], [process.execPath, 'verify_receipt.mjs']]) {
      try {
        out.push(execFileSync(cmd, [join(dir, file), join(dir, 'receipt.json'), join(dir, 'keys.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
      } catch {
        out.push(null);
      }
    }
    return out;
  };
  const ok = run(payment);
  assert.ok(ok.every((x) => x?.includes('genuine')), JSON.stringify(ok));
  const tampered = [
    { ...payment, payload: payment.payload.replace('"amount":8800', '"amount":8801') },
    { ...payment, payload: payment.payload.replace('Longjing', 'Longjinh') },
    { ...payment, signature: (payment.signature[0] === 'A' ? 'B' : 'A') + payment.signature.slice(1) },
    { ...payment, key_id: 'other' },
  ];
  for (const doc of tampered) assert.deepEqual(run(doc), [null, null], `refused: ${JSON.stringify(doc).slice(0, 80)}`);
});

test('the_payer_opens_a_printable_receipt_from_the_success_state', async () => {
  const m = await newMerchant(w, { branding: { display_name: 'Tea <House>' } });
  const o = await createOrder(w, m, { amount: { total: 1_234, currency: 'CNY' } });
  const before = await (await fetch(`${w.url}/pay/${tokenOf(o)}?receipt`)).text();
  assert.match(before, /not paid/);
  assert.equal((await pay(w, o, CARD('4242 4242 4242 4242'))).json.status, 'SUCCESS');
  const page = await (await fetch(`${w.url}/pay/${tokenOf(o)}`)).text();
  assert.match(page, /data-testid="receipt"[^>]*href="\?receipt"|href="\?receipt"[^>]*data-testid="receipt"/, 'the success state links to the receipt');
  const res = await fetch(`${w.url}/pay/${tokenOf(o)}?receipt`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-security-policy'), /default-src 'none'/);
  const html = await res.text();
  assert.match(html, /<h1>Tea &lt;House&gt;<\/h1>/);
  assert.match(html, /CNY ¥12\.34/);
  assert.match(html, new RegExp(o.out_trade_no));
  const json = await (await fetch(`${w.url}/pay/${tokenOf(o)}?receipt=json`)).json();
  const merchantView = (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}/receipt`)).json;
  assert.deepEqual(json, [merchantView.payment], 'the payer holds the same signed receipt as the merchant');
  const forged = await fetch(`${w.url}/pay/not-a-token?receipt`);
  assert.equal(forged.status, 404);

  // Days later, the pay link no longer opens the pay page, but its receipt still opens: what it
  // attests does not expire. (A link is checked against real time, and lasts a day past the
  // order's deadline: the one the order answers once the merchant's clock moved three days on
  // expired a day ago.)
  await advance(w, m, 3 * 86_400);
  const old = (await call(w, m, 'GET', `/v1/orders/${o.out_trade_no}`)).json;
  const expired = new URL(old.checkout_url).pathname;
  const closedPage = await fetch(`${w.url}${expired}`);
  assert.equal(closedPage.status, 404);
  assert.match(await closedPage.text(), /If you already paid, check with the merchant before paying again/);
  const kept = await fetch(`${w.url}${expired}?receipt`);
  assert.equal(kept.status, 200);
  assert.match(await kept.text(), /CNY ¥12\.34/);
  assert.deepEqual(await (await fetch(`${w.url}${expired}?receipt=json`)).json(), [merchantView.payment]);
});
