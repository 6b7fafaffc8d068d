// The smoke layer (tests/support/smoke.mjs) against `wrangler dev`, the development server.
// tests/selfhost.test.mjs runs the same tests against `cargo xtask serve`.

import { before, after } from 'node:test';
import { startWorker } from './support/worker.mjs';
import { startReceiver } from './support/receiver.mjs';
import { smokeTests } from './support/smoke.mjs';

const ctx = {};
before(async () => {
  ctx.rx = await startReceiver();
  ctx.notifyUrl = ctx.rx.url;
  ctx.w = await startWorker();
});
after(async () => {
  await ctx.w?.stop();
  await ctx.rx?.close();
});

smokeTests(ctx);
