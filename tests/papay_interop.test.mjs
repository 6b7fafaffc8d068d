// The papay (withhold contract) family of the v2 XML dialect through wechatpy's WeChatWithhold
// (PyPI, unmodified but for its base URL; tests/interop/wechatpy_client.py): the signing link,
// the payer signing on the contract page, the signed ADD/DELETE contract notifications,
// querycontract, pappayapply with its payment notification, paporderquery (ACCEPT, PAY_FAIL),
// deletecontract (refused without its remark, as WeChat does), and refusals in the protocol's words.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startWorker, ROOT } from './support/worker.mjs';
import { startReceiver } from './support/receiver.mjs';
import { call, newMerchant, advance, otn } from './support/api.mjs';

const ACK = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
const APPID = 'wx2421b1c4370ec43b';

let w;
let rx;
before(async () => {
  w = await startWorker();
  rx = await startReceiver({ answer: () => ({ body: ACK }) });
});
after(async () => {
  await rx?.close();
  await w?.stop();
});

function startWechatpy(merchant) {
  const py = spawn(join(ROOT, 'target/pyenv/bin/python'), [join(ROOT, 'tests/interop/wechatpy_client.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: py.stdout });
  const waiting = [];
  let exited = null;
  lines.on('line', (l) => waiting.shift()?.res(JSON.parse(l)));
  py.on('exit', (code) => {
    exited = new Error(`the wechatpy driver exited with ${code}`);
    for (const x of waiting.splice(0)) x.rej(exited);
  });
  py.stdin.write(JSON.stringify({ appid: APPID, api_key: merchant.api_key, mch_id: merchant.merchant_id, base_url: w.url }) + '\n');
  const send = (cmd) => new Promise((res, rej) => {
    if (exited) return rej(exited);
    waiting.push({ res, rej });
    py.stdin.write(JSON.stringify(cmd) + '\n');
  });
  return {
    call: (op, kwargs) => send({ op, kwargs }),
    send,
    close: () => new Promise((res) => { if (exited) return res(); py.on('exit', res); py.stdin.end(); }),
  };
}

const fields = (xml) => Object.fromEntries([...xml.matchAll(/<(\w+)><!\[CDATA\[([\s\S]*?)\]\]><\/\1>/g)].map(([, k, v]) => [k, v]));

async function plan(m, extra = {}) {
  const r = await call(w, m, 'POST', '/v1/contract_plans', {
    plan_id: String(Date.now()) + String(randomBytes(2).readUInt16BE()), name: 'Cloud storage 云存储',
    max_amount_per_deduction: 3000, period: 'month', max_deductions_per_period: 2, ...extra,
  });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** The payer follows the merchant's signing link and signs on the contract page. */
async function followAndSign(url, form = { method: 'balance', wallet: 'wallet_ok', consent: 'yes' }) {
  const hop = await fetch(url, { redirect: 'manual' });
  assert.equal(hop.status, 303, await hop.text());
  const page = new URL(hop.headers.get('location'), w.url).href;
  assert.match(page, /\/contract\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const opened = await (await fetch(page)).text();
  assert.match(opened, /data-contract-status="PENDING"/);
  const signed = await fetch(page, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(),
  });
  assert.match(await signed.text(), /data-contract-status="ACTIVE"/);
  return page;
}

const contractNotice = (code, change) => rx.waitFor(
  (d) => d.some((x) => x.body.includes(`<contract_code><![CDATA[${code}]]>`) && x.body.includes(`<change_type><![CDATA[${change}]]>`)),
  `${change} notification of ${code}`,
).then((d) => d.find((x) => x.body.includes(`<contract_code><![CDATA[${code}]]>`) && x.body.includes(`<change_type><![CDATA[${change}]]>`)));

test('wechatpy WeChatWithhold: sign, query, deduct, query the deduction, cancel', async () => {
  const m = await newMerchant(w);
  const sdk = startWechatpy(m);
  try {
    const p = await plan(m);
    const code = otn('PC');
    const link = await sdk.call('apply_signing', { plan_id: p.plan_id, contract_code: code, contract_display_account: '张三 alice', notify_url: rx.url });
    assert.ok(link.ok, JSON.stringify(link));
    assert.ok(link.ok.url.startsWith(`${w.url}/papay/entrustweb?`), link.ok.url);
    assert.match(String(link.ok.data.request_serial), /^\d{13}$/, 'wechatpy sends a 13-digit request_serial');
    // A link whose parameters were changed after signing opens nothing.
    const tampered = link.ok.url.replace(/contract_display_account=[^&]+/, 'contract_display_account=mallory');
    const bad = await fetch(tampered, { redirect: 'manual' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /data-paydesk-problem/);
    assert.equal((await call(w, m, 'GET', `/v1/contracts/${code}`)).status, 404);

    await followAndSign(link.ok.url);
    // Following the same link again opens the same contract (now signed).
    const again = await fetch(link.ok.url, { redirect: 'manual' });
    assert.equal(again.status, 303);
    assert.match(await (await fetch(new URL(again.headers.get('location'), w.url))).text(), /data-contract-status="ACTIVE"/);

    const add = await contractNotice(code, 'ADD');
    const checked = await sdk.send({ op: 'check_signed', xml: add.body });
    assert.ok(checked.ok, 'wechatpy verifies the ADD notification');
    assert.equal(checked.ok.plan_id, p.plan_id);
    assert.equal(checked.ok.request_serial, String(link.ok.data.request_serial));
    const contractId = checked.ok.contract_id;
    assert.match(contractId, /^\d{18}$/);

    let q = await sdk.call('query_signing', { plan_id: p.plan_id, contract_code: code });
    assert.ok(q.ok, JSON.stringify(q));
    assert.equal(q.ok.contract_state, '0');
    assert.equal(q.ok.contract_id, contractId);
    assert.equal(q.ok.contract_display_account, '张三 alice');
    assert.match(q.ok.contract_signed_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    q = await sdk.call('query_signing', { contract_id: contractId });
    assert.equal(q.ok.contract_code, code);

    const no = otn('PAP');
    const d = await sdk.call('apply_deduct', { body: '12月 云存储', total_fee: 1500, contract_id: contractId, notify_url: rx.url, out_trade_no: no, attach: 'inv=12' });
    assert.ok(d.ok, JSON.stringify(d));
    assert.equal(d.ok.result_code, 'SUCCESS');
    const paid = await rx.waitFor((x) => x.some((e) => e.body.includes(`<out_trade_no><![CDATA[${no}]]>`)), 'the deduction\'s payment notification');
    const parsed = await sdk.send({ op: 'parse_notification', xml: paid.find((e) => e.body.includes(no)).body });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.equal(parsed.ok.result_code, 'SUCCESS');
    assert.equal(parsed.ok.trade_type, 'PAP');
    assert.equal(parsed.ok.total_fee, 1500, 'wechatpy reads the amount as a number');
    // The papay family's deduction result names its contract and its state.
    assert.deepEqual([parsed.ok.contract_id, parsed.ok.trade_state], [contractId, 'SUCCESS']);
    const oq = await sdk.call('withhold_query_order', { out_trade_no: no });
    assert.equal(oq.ok.trade_state, 'SUCCESS');
    assert.equal(oq.ok.contract_id, contractId);
    // The same deduction in the JSON API: an ordinary PAP order.
    const j = (await call(w, m, 'GET', `/v1/orders/${no}`)).json;
    assert.equal(j.trade_type, 'PAP');
    assert.equal(j.contract_code, code);

    // Over the plan's amount: refused in the protocol's words.
    const over = await sdk.call('apply_deduct', { body: 'too much', total_fee: 3001, contract_id: contractId, notify_url: rx.url, out_trade_no: otn('PAP') });
    assert.equal(over.error?.errcode, 'RULELIMIT', JSON.stringify(over));

    // Without a remark the request is refused, as WeChat refuses it: wechatpy sends no nonce_str
    // here, so it would be the very bytes of a signed querycontract, and anyone holding one
    // could replay it to end the payer's contract.
    const bare = await sdk.call('apply_cancel_signing', { plan_id: p.plan_id, contract_code: code });
    assert.equal(bare.error?.errcode, 'PARAM_ERROR', JSON.stringify(bare));
    assert.equal((await sdk.call('query_signing', { contract_id: contractId })).ok.contract_state, '0', 'still in force');
    const cancel = await sdk.call('apply_cancel_signing', { plan_id: p.plan_id, contract_code: code, contract_termination_remark: 'customer left' });
    assert.ok(cancel.ok, JSON.stringify(cancel));
    assert.equal(cancel.ok.contract_id, contractId);
    const del = await contractNotice(code, 'DELETE');
    const delFields = await sdk.send({ op: 'check_signed', xml: del.body });
    assert.ok(delFields.ok, 'wechatpy verifies the DELETE notification');
    assert.equal(delFields.ok.contract_termination_mode, '3');
    // The ADD notice, read back after the ending, is still the bytes first delivered (a retry
    // sends what the record shows).
    const signedEvents = (await call(w, m, 'GET', '/v1/notifications?type=contract.signed&limit=100')).json.notifications;
    const bodies = await Promise.all(signedEvents.map(async (n) => (await call(w, m, 'GET', `/v1/notifications/${n.id}`)).json.body));
    assert.deepEqual(bodies.filter((b) => b.includes(`<contract_code><![CDATA[${code}]]>`)), [add.body]);
    q = await sdk.call('query_signing', { contract_id: contractId });
    assert.equal(q.ok.contract_state, '1');
    assert.equal(q.ok.contract_termination_mode, '3');
    const after = await sdk.call('apply_deduct', { body: 'after', total_fee: 100, contract_id: contractId, notify_url: rx.url, out_trade_no: otn('PAP') });
    assert.equal(after.error?.errcode, 'CONTRACT_NOT_EXIST', JSON.stringify(after));
    const again2 = await sdk.call('apply_cancel_signing', { contract_id: contractId, contract_termination_remark: 'twice' });
    assert.equal(again2.error?.errcode, 'CONTRACT_NOT_EXIST');
  } finally {
    await sdk.close();
  }
});

test('wechatpy WeChatWithhold: a declined deduction reads PAY_FAIL, an announced one ACCEPT', async () => {
  const m = await newMerchant(w);
  const sdk = startWechatpy(m);
  try {
    const declining = await plan(m);
    const code = otn('PD');
    const link = await sdk.call('apply_signing', { plan_id: declining.plan_id, contract_code: code, contract_display_account: 'bob', notify_url: rx.url });
    await followAndSign(link.ok.url, { method: 'bank_card', card_number: '4000 0000 0000 0002', card_exp: '12/35', card_cvc: '123', consent: 'yes' });
    const id = (await sdk.call('query_signing', { plan_id: declining.plan_id, contract_code: code })).ok.contract_id;
    const no = otn('PAP');
    const d = await sdk.call('apply_deduct', { body: 'declined', total_fee: 100, contract_id: id, notify_url: rx.url, out_trade_no: no });
    assert.equal(d.ok?.result_code, 'SUCCESS', JSON.stringify(d));
    const q = await sdk.call('withhold_query_order', { out_trade_no: no });
    assert.equal(q.ok.trade_state, 'PAY_FAIL');
    // The same request again is no new SUCCESS the merchant would wait on: it was declined.
    const again = await sdk.call('apply_deduct', { body: 'declined', total_fee: 100, contract_id: id, notify_url: rx.url, out_trade_no: no });
    assert.equal(again.error?.errcode, 'OUT_TRADE_NO_USED', JSON.stringify(again));

    const noticed = await plan(m, { pre_deduction_notice: true });
    const code2 = otn('PN');
    const link2 = await sdk.call('apply_signing', { plan_id: noticed.plan_id, contract_code: code2, contract_display_account: 'carol', notify_url: rx.url });
    await followAndSign(link2.ok.url);
    const id2 = (await sdk.call('query_signing', { plan_id: noticed.plan_id, contract_code: code2 })).ok.contract_id;
    await advance(w, m, 13 * 3600);
    const no2 = otn('PAP');
    await sdk.call('apply_deduct', { body: 'announced', total_fee: 100, contract_id: id2, notify_url: rx.url, out_trade_no: no2 });
    assert.equal((await sdk.call('withhold_query_order', { out_trade_no: no2 })).ok.trade_state, 'ACCEPT');
    const repeated = await sdk.call('apply_deduct', { body: 'announced', total_fee: 100, contract_id: id2, notify_url: rx.url, out_trade_no: no2 });
    assert.equal(repeated.ok?.result_code, 'SUCCESS', 'still to be charged: accepted again');
    await advance(w, m, 24 * 3600);
    assert.equal((await sdk.call('withhold_query_order', { out_trade_no: no2 })).ok.trade_state, 'SUCCESS');
    const paidAgain = await sdk.call('apply_deduct', { body: 'announced', total_fee: 100, contract_id: id2, notify_url: rx.url, out_trade_no: no2 });
    assert.equal(paidAgain.error?.errcode, 'ORDERPAID', JSON.stringify(paidAgain));
  } finally {
    await sdk.close();
  }
});
