// The self-hosted server's `EMAIL` binding (`cargo xtask serve`, docs/self-host.md): on
// Cloudflare it is the send_email binding; on the merchant's own machine it hands each message to
// the operator's mail relay, an HTTPS endpoint named by `EMAIL_RELAY_URL`:
//
//   POST EMAIL_RELAY_URL
//   Authorization: Bearer EMAIL_RELAY_TOKEN        (when set)
//   {"from": "Shop name <notifications@shop.example>", "to": ["payer@example.com"],
//    "subject": "...", "text": "..."}
//
// Any 2xx is sent. Anything else, or no relay configured, is an error the worker records on the
// message (`last_error`) and tries again on its schedule (docs/messaging.md): nothing is dropped
// silently. Each attempt is logged to stdout: the recipients masked, the subject, never the text.

import { WorkerEntrypoint } from 'cloudflare:workers';

/** `{name, email}` or a bare address, as the worker's send_email call gives it. */
export function address(from) {
  if (typeof from === 'string') return from;
  return from.name ? `${from.name.replace(/[<>"\r\n]/g, '')} <${from.email}>` : from.email;
}

/** `a***@example.com`: addresses are personal data, and logs show them masked. */
export function masked(address) {
  const at = String(address).lastIndexOf('@');
  return at > 0 ? `${address[0]}***${address.slice(at)}` : '***';
}

/** The relay's JSON body for one message. */
export function relayBody(message) {
  const to = Array.isArray(message.to) ? message.to : [message.to];
  return { from: address(message.from), to, subject: message.subject, text: message.text ?? '' };
}

export class Mail extends WorkerEntrypoint {
  async send(message) {
    const body = relayBody(message);
    const url = this.env.EMAIL_RELAY_URL;
    const what = `email to ${body.to.map(masked).join(', ')}: ${JSON.stringify(body.subject)}`;
    if (!url) {
      console.log(`paydesk: ${what} not sent: no EMAIL_RELAY_URL is configured`);
      throw new Error('no EMAIL_RELAY_URL is configured');
    }
    const headers = { 'content-type': 'application/json', 'user-agent': 'paydesk-mail/1' };
    if (this.env.EMAIL_RELAY_TOKEN) headers.authorization = `Bearer ${this.env.EMAIL_RELAY_TOKEN}`;
    const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    await r.body?.cancel();
    if (r.status < 200 || r.status > 299) {
      console.log(`paydesk: ${what} refused by the relay: HTTP ${r.status}`);
      throw new Error(`the mail relay answered HTTP ${r.status}`);
    }
    console.log(`paydesk: ${what} handed to the relay`);
    return { messageId: r.headers.get('x-message-id') ?? '' };
  }
}

export default {
  fetch() {
    return new Response('not found', { status: 404 });
  },
};
