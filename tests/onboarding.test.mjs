// Trust in merchants through the real worker (docs/openapi.json: /v1/application,
// /admin/merchants/{id}/application): a live merchant takes no order until the platform
// approved its application; the application's licence number, legal person and account are
// sealed at rest (AES-GCM under DATA_KEYS: the bytes on disk never hold them) and shown masked;
// an operator's reveal opens them, audited, also after the key was rotated; the tier follows
// the review and caps the daily limit; malformed applications change nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startWorker, devVars } from './support/worker.mjs';
import { call, admin, newMerchant, createOrder, APPLICATION } from './support/api.mjs';
import { checkSchema } from './support/openapi.mjs';

const state = join(mkdtempSync(join(tmpdir(), 'paydesk-onboarding-')), 'state');
const oldKey = `old-1:${randomBytes(32).toString('hex')}`;
const vars = devVars({ DATA_KEYS: oldKey });
let w;
before(async () => { w = await startWorker({ persistTo: state, vars }); });
after(async () => { await w?.stop(); });

/** Every byte the worker keeps on disk, as one buffer (SQLite files and their journals). */
function bytesOnDisk(dir) {
  const parts = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) parts.push(bytesOnDisk(p));
    else parts.push(readFileSync(p));
  }
  return Buffer.concat(parts);
}

const application = (m) => admin(w, 'GET', `/admin/merchants/${m.merchant_id}/application`);
const decide = (m, decision, body) => admin(w, 'POST', `/admin/merchants/${m.merchant_id}/application/${decision}`, body);

test('a_live_merchant_collects_only_after_its_application_is_approved_and_its_documents_stay_sealed', async () => {
  const m = await newMerchant(w, { sandbox: false, daily_limit: 900_000_000 });
  const refused = await call(w, m, 'POST', '/v1/orders', { out_trade_no: 'LIVE1', amount: { total: 100, currency: 'CNY' }, description: 'x' });
  assert.deepEqual([refused.status, refused.json.code], [403, 'ACCOUNT_NOT_ALLOWED']);
  assert.match(refused.json.message, /application/);
  assert.deepEqual([(await call(w, m, 'GET', '/v1/application')).status], [404]);

  // Malformed: refused with the field named, and nothing is kept.
  const badCheck = await call(w, m, 'POST', '/v1/application', { ...APPLICATION, licence_number: '91350100M000100Y44' });
  assert.deepEqual([badCheck.status, badCheck.json.code, badCheck.json.param], [400, 'PARAM_ERROR', 'licence_number']);
  const wrongHolder = await call(w, m, 'POST', '/v1/application', { ...APPLICATION, corporate_account: { ...APPLICATION.corporate_account, account_name: '张三丰' } });
  assert.equal(wrongHolder.json.param, 'corporate_account.account_name');
  const extra = await call(w, m, 'POST', '/v1/application', { ...APPLICATION, id_card: '110101199003070000' });
  assert.equal(extra.json.code, 'PARAM_ERROR');
  assert.equal((await call(w, m, 'GET', '/v1/application')).status, 404, 'nothing was kept');

  const applied = await call(w, m, 'POST', '/v1/application', APPLICATION);
  assert.equal(applied.status, 201);
  checkSchema('Application', applied.json);
  assert.deepEqual(
    [applied.json.status, applied.json.tier, applied.json.supported_tier, applied.json.may_collect],
    ['submitted', 'enterprise', 'enterprise', false],
  );
  assert.deepEqual(applied.json.documents, {
    business_name: '上海示例科技有限公司',
    licence_number: '91************0Y43',
    legal_person: '张**',
    corporate_account: { bank: '招商银行上海分行', account_name: '上海示例科技有限公司', account_number: '************5678' },
  });
  assert.equal((await call(w, m, 'POST', '/v1/orders', { out_trade_no: 'LIVE2', amount: { total: 100, currency: 'CNY' }, description: 'x' })).status, 403, 'still waiting');

  // At rest: the sealed values only, never the clear ones.
  const disk = bytesOnDisk(state);
  for (const clear of ['91350100M000100Y43', '6225880212345678', '张三丰']) {
    assert.equal(disk.indexOf(Buffer.from(clear)), -1, `${clear} is not on disk in clear`);
  }
  assert.notEqual(disk.indexOf(Buffer.from('91************0Y43')), -1, 'the masked form is');
  assert.deepEqual((await application(m)).json.documents, applied.json.documents, 'the operator sees it masked too');

  // The operator decides: a rejection needs a reason; the tier can be lower than applied for
  // but never above the licence; the tier caps the daily limit.
  assert.equal((await decide(m, 'reject', {})).json.param, 'reason');
  assert.equal((await decide(m, 'approve', { tier: 'personal', reason: 'x' })).json.param, 'tier');
  const approved = await decide(m, 'approve', { tier: 'individual_business', reason: 'licence and account checked' });
  assert.equal(approved.status, 200);
  assert.deepEqual(
    [approved.json.status, approved.json.approved_tier, approved.json.merchant_tier, approved.json.may_collect],
    ['approved', 'individual_business', 'individual_business', true],
  );
  const summary = (await admin(w, 'GET', `/admin/merchants/${m.merchant_id}`)).json;
  assert.deepEqual([summary.tier, summary.daily_limit], ['individual_business', 10_000_000], 'the tier caps the daily limit');
  assert.equal((await decide(m, 'approve', { reason: 'again' })).status, 200, 'the same decision again');
  const other = await decide(m, 'reject', { reason: 'changed my mind' });
  assert.deepEqual([other.status, other.json.code], [409, 'REVIEW_DECIDED']);
  const order = await createOrder(w, m);
  assert.equal(order.status, 'NOTPAY', 'an approved live merchant takes orders');
  // But no contract: nothing could ever be deducted without a channel that deducts, so the
  // payer is never asked to sign one.
  assert.equal((await call(w, m, 'POST', '/v1/contract_plans', { plan_id: '90001', name: 'Monthly', max_amount_per_deduction: 10_000, period: 'month', max_deductions_per_period: 1 })).status, 201);
  const contract = await call(w, m, 'POST', '/v1/contracts', { plan_id: '90001', contract_code: 'LIVE-C1', display_account: 'bob' });
  assert.deepEqual([contract.status, contract.json.code], [403, 'CHANNEL_NOT_CONFIGURED']);
  assert.equal((await call(w, m, 'GET', '/v1/contracts/LIVE-C1')).json.code, 'CONTRACT_NOT_EXIST', 'nothing was kept');

  const audit = (await call(w, m, 'GET', '/v1/audit?kind=application.decide')).json.entries;
  assert.equal(audit.length, 1);
  assert.match(audit[0].after, /approved licence and account checked/);
  assert.doesNotMatch(JSON.stringify((await call(w, m, 'GET', '/v1/audit')).json), /91350100M000100Y43|6225880212345678/, 'the audit chain never holds them');
});

test('an_operator_reveals_an_application_audited_and_a_rotated_key_still_opens_it', async () => {
  const m = await newMerchant(w, { sandbox: false, approval_levels: [{ above: 500, approvers: 1 }] });
  // Staff contacts are sealed too (docs/messaging.md).
  assert.equal((await call(w, m, 'PUT', '/v1/messaging', { staff_email: 'ops.rotation@shop.example' })).status, 200);
  const firstApplied = await call(w, m, 'POST', '/v1/application', APPLICATION);
  assert.equal(firstApplied.status, 201);
  const reveal = async () => admin(w, 'GET', `/admin/merchants/${m.merchant_id}/application?reveal=true`);
  assert.deepEqual((await reveal()).json.documents, {
    business_name: APPLICATION.business_name,
    licence_number: APPLICATION.licence_number,
    legal_person: APPLICATION.legal_person,
    corporate_account: APPLICATION.corporate_account,
  });
  assert.equal((await admin(w, 'GET', `/admin/merchants/${m.merchant_id}/application?reveal=yes`)).json.code, 'PARAM_ERROR');
  assert.equal((await call(w, m, 'GET', '/v1/audit?kind=application.reveal')).json.entries.length, 1);

  // Rotation: a new key first, the old one still listed; what the old key sealed opens.
  await w.stop();
  const newKey = `new-2:${randomBytes(32).toString('hex')}`;
  w = await startWorker({ persistTo: state, vars: { ...vars, DATA_KEYS: `${newKey},${oldKey}` } });
  assert.equal((await reveal()).json.documents.licence_number, APPLICATION.licence_number);
  // A second application is sealed with the new key, and replaces the waiting one.
  const again = await call(w, m, 'POST', '/v1/application', { ...APPLICATION, legal_person: '李四' });
  assert.equal(again.json.documents.legal_person, '李*');
  assert.equal((await reveal()).json.documents.legal_person, '李四');
  // A decision naming the application the operator read lands only on that one: the one
  // replaced is refused, an id never issued too, and neither changes anything.
  const stale = await decide(m, 'approve', { application_id: firstApplied.json.application_id, reason: 'ok' });
  assert.deepEqual([stale.status, stale.json.code], [409, 'REVIEW_DECIDED']);
  assert.match(stale.json.message, new RegExp(`superseded by application ${again.json.application_id}`));
  const unknown = await decide(m, 'reject', { application_id: again.json.application_id + 1, reason: 'x' });
  assert.deepEqual([unknown.status, unknown.json.code], [404, 'REVIEW_NOT_EXIST']);
  assert.deepEqual([(await application(m)).json.status, (await application(m)).json.may_collect], ['submitted', false]);
  const approved = await decide(m, 'approve', { application_id: again.json.application_id, reason: 'ok' });
  assert.equal(approved.status, 200);
  assert.equal(approved.json.application_id, again.json.application_id);

  // The operator re-seals what the old key sealed, a batch per call, until none remains; then
  // the old key can go, and everything still opens.
  const reseal = async () => (await admin(w, 'POST', `/admin/merchants/${m.merchant_id}/reseal`)).json;
  const first = await reseal();
  checkSchema('Resealed', first);
  assert.equal(first.key_id, 'new-2');
  assert.ok(first.resealed >= 2, JSON.stringify(first));
  assert.equal(first.remaining, 0);
  assert.deepEqual(await reseal(), { key_id: 'new-2', resealed: 0, remaining: 0 });
  assert.equal((await call(w, m, 'GET', '/v1/audit?kind=data.reseal')).json.entries.length, 1);
  await w.stop();
  w = await startWorker({ persistTo: state, vars: { ...vars, DATA_KEYS: newKey } });
  assert.equal((await reveal()).json.documents.legal_person, '李四');
  // An order waiting for approval alerts staff by email: the resealed settings open.
  await createOrder(w, m);
  const sent = async () => (await call(w, m, 'GET', '/v1/messages?channel=email')).json.messages;
  const deadline = Date.now() + 30_000;
  while (!(await sent()).some((x) => x.status === 'DELIVERED')) {
    assert.ok(Date.now() < deadline, JSON.stringify(await sent()));
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await sent())[0].to, 'o***@shop.example');
});
