import { createHmac, timingSafeEqual } from 'node:crypto';

/** Checks a paydesk delivery; returns the event, or throws. `rawBody` is the body exactly as
 * received (a Buffer or string), before any JSON parsing. */
export function verifyPaydesk(secret, header, rawBody, toleranceSecs = 300) {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v);
  if (!t || !/^\d+$/.test(t) || signatures.length === 0) throw new Error('not a paydesk signature header');
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
  const ok = signatures.some((s) => s.length === expected.length && timingSafeEqual(Buffer.from(s), Buffer.from(expected)));
  if (!ok) throw new Error('signature mismatch: check the webhook secret and use the raw body');
  if (Math.abs(Date.now() / 1000 - Number(t)) > toleranceSecs) throw new Error('timestamp outside the tolerance: check the clock, or this is a replay');
  return JSON.parse(rawBody.toString());
}

// Usage: node verify_webhook.mjs DELIVERY.json (see verify_webhook.py).
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync } = await import('node:fs');
  const d = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const event = verifyPaydesk(d.secret, d.signature, d.body);
  console.log(event.id, event.type);
}
