// Notification latency alone: `node bench/notify_latency.mjs [N]` after `cargo xtask build`
// (node_modules/.bin on PATH). The same measurement `cargo xtask bench` reports (bench/lib/notify.mjs),
// printed as one JSON line.

import { measureNotifyAndStorage } from './lib/notify.mjs';

const n = Number(process.argv[2] ?? 200);
const { latency, storage } = await measureNotifyAndStorage({ orders: n });
const r = (x) => +x.toFixed(2);
console.log(JSON.stringify({
  orders: n,
  p50_ms: r(latency.median),
  p99_ms: r(latency.p99),
  max_ms: r(latency.max),
  from_call_start_p50_ms: r(latency.from_call_start.median),
  storage_bytes_per_order: Math.round(storage.bytes_per_order),
}));
