// Notification latency: from the pay call returning to the merchant's receiver holding the
// signed notification, over N orders paid one after another, through the real worker.
// Run with `node bench/notify_latency.mjs [N]` after `cargo xtask build` (node_modules/.bin on
// PATH). It will become part of `cargo xtask bench`.

import { startWorker } from '../tests/support/worker.mjs';
import { startReceiver } from '../tests/support/receiver.mjs';
import { newMerchant, createOrder, pay, CARD } from '../tests/support/api.mjs';

const n = Number(process.argv[2] ?? 200);
const w = await startWorker();
const rx = await startReceiver();
try {
  const m = await newMerchant(w, { notify_url: rx.url, rate_limits: { create: 100000, query: 100000, refund: 50 } });
  const latencies = [];
  for (let i = 0; i < n; i++) {
    const o = await createOrder(w, m);
    const before = rx.deliveries.length;
    const r = await pay(w, o, CARD('4242424242424242'));
    if (r.status !== 200) throw new Error(`pay: ${r.status}`);
    const returned = Date.now();
    const ds = await rx.waitFor((d) => d.length > before, 'delivery');
    // The receiver stamps each delivery on arrival; polling granularity does not matter.
    latencies.push(ds[before].at - returned);
  }
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  console.log(JSON.stringify({ orders: n, p50_ms: +q(0.5).toFixed(2), p99_ms: +q(0.99).toFixed(2), max_ms: +latencies.at(-1).toFixed(2) }));
} finally {
  await rx.close();
  await w.stop();
}
