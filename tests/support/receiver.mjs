// A merchant's notification endpoint on loopback: records every delivery exactly as received,
// answers as told (succeed, fail the first N, be down), and lets tests wait for deliveries.

import { createServer } from 'node:http';

// `answer(n, body)`, when given, decides the reply to delivery n: `{ status, body, type }`, or a
// promise of it (the reply waits for it: a delivery held in flight).
export async function startReceiver({ failFirst = 0, status = 200, answer = null } = {}) {
  const r = { deliveries: [], failFirst, status, down: false, answer };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = r.deliveries.length;
      r.deliveries.push({ at: Date.now(), hr: performance.now(), headers: req.headers, body, event: safeJson(body) });
      if (r.down) { res.writeHead(503); res.end('down for maintenance'); return; }
      if (r.answer) {
        const a = await r.answer(n, body);
        res.writeHead(a.status ?? 200, { 'Content-Type': a.type ?? 'text/xml' });
        res.end(a.body ?? '');
        return;
      }
      const code = n < r.failFirst ? 500 : r.status;
      res.writeHead(code, { 'Content-Type': 'text/plain' });
      res.end(code < 300 ? 'ok' : 'try again later');
    });
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  r.url = `http://127.0.0.1:${server.address().port}/paydesk/notify`;
  r.close = () => new Promise((res) => { server.closeAllConnections?.(); server.close(res); });
  /** Waits (polling, no fixed sleeps) until `pred(deliveries)` holds. */
  r.waitFor = async (pred, what, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pred(r.deliveries)) {
      if (Date.now() > deadline) throw new Error(`receiver: timed out waiting for ${what}; got ${r.deliveries.length}: ${r.deliveries.map((d) => d.event?.type).join(',')}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    return r.deliveries;
  };
  r.ofType = (type) => r.deliveries.filter((d) => d.event?.type === type);
  return r;
}

function safeJson(s) {
  try { return JSON.parse(s); } catch { return null; }
}
