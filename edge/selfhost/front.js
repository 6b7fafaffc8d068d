// The self-hosted server's front door (`cargo xtask serve`, docs/self-host.md): what Cloudflare's
// static assets layer does in front of the worker, for workerd on the merchant's own machine.
//
// A GET or HEAD for a file of the staged `www/` is answered from the `WWW` disk directory, with
// its Content-Type and the headers that `www/_headers` gives its path (the same file Cloudflare
// reads); `/` and `/dir/` are their `index.html`. Everything else, and every other method, goes to
// the paydesk worker (`PAYDESK`), as on Cloudflare, where assets come first.
//
// Text and wasm go out compressed, brotli or gzip as the client accepts, as Cloudflare's edge
// does: workerd compresses a body whose response names a Content-Encoding. The pages'
// content-hashed JS and wasm (`/a/`) also exist as brotli at quality 11 (`<file>.br`, written by
// `cargo xtask build`): a client that takes br gets those bytes as they are, 10% smaller than
// workerd's own brotli of the pay page's wasm.

const TYPES = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  wasm: 'application/wasm',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  ico: 'image/x-icon',
  txt: 'text/plain; charset=utf-8',
  woff2: 'font/woff2',
  webmanifest: 'application/manifest+json',
};

/** `www/_headers` as rules: `{ pattern: RegExp, set: [[name, value]], detach: [name] }`. */
export function parseHeaders(text) {
  const rules = [];
  let rule = null;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      const glob = line.trim().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
      rule = { pattern: new RegExp(`^${glob}$`), set: [], detach: [] };
      rules.push(rule);
    } else if (rule && line.trim().startsWith('!')) {
      rule.detach.push(line.trim().slice(1).trim().toLowerCase());
    } else if (rule) {
      const at = line.indexOf(':');
      if (at > 0) rule.set.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
    }
  }
  return rules;
}

/** The headers `rules` give `path`: later rules add to earlier ones; `!` removes a header. */
export function headersFor(rules, path) {
  const out = new Map();
  for (const r of rules) {
    if (!r.pattern.test(path)) continue;
    for (const name of r.detach) out.delete(name);
    for (const [name, value] of r.set) {
      const key = name.toLowerCase();
      out.set(key, out.has(key) ? `${out.get(key)}, ${value}` : value);
    }
  }
  return out;
}

/** The file a path names in `www/`, or null when it cannot name one. */
export function fileOf(pathname) {
  let path;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (path.endsWith('/')) path += 'index.html';
  const parts = path.split('/').slice(1);
  if (parts.some((p) => p === '' || p.startsWith('.') || p.includes('\\'))) return null;
  if (path === '/_headers') return null;
  return path;
}

const COMPRESSIBLE = /^(text\/|application\/(javascript|json|wasm|manifest\+json|xml)|image\/svg\+xml)/;

/** `br` or `gzip`, the first the client accepts (a q of 0 refuses), or null. */
export function encodingFor(acceptEncoding) {
  const accepted = new Set();
  for (const part of (acceptEncoding ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';').map((x) => x.trim());
    const q = params.find((x) => x.startsWith('q='));
    if (name && !(q && Number(q.slice(2)) === 0)) accepted.add(name);
  }
  return ['br', 'gzip'].find((e) => accepted.has(e)) ?? null;
}

/** `response` compressed for `request` when it is worth it and not already encoded. */
export function compressed(request, response) {
  const type = response.headers.get('content-type') ?? '';
  const encoding = encodingFor(request.headers.get('accept-encoding'));
  if (response.status === 101 || !response.body || request.method === 'HEAD') return response;
  if (!encoding || !COMPRESSIBLE.test(type) || response.headers.has('content-encoding')) return response;
  const headers = new Headers(response.headers);
  headers.set('content-encoding', encoding);
  headers.delete('content-length');
  headers.append('vary', 'Accept-Encoding');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

let rules = null;

async function headerRules(env) {
  if (rules === null) {
    const r = await env.WWW.fetch('http://www/_headers');
    rules = r.ok ? parseHeaders(await r.text()) : [];
  }
  return rules;
}

async function asset(request, env) {
  const url = new URL(request.url);
  const file = fileOf(url.pathname);
  if (file === null) return null;
  const found = await env.WWW.fetch(`http://www${encodeURI(file)}`, { method: request.method });
  // A directory answers a JSON listing: it is not a file to serve.
  if (found.status !== 200 || found.headers.get('content-type') === 'application/json') {
    await found.body?.cancel();
    return null;
  }
  const headers = new Headers();
  const ext = file.slice(file.lastIndexOf('.') + 1).toLowerCase();
  headers.set('content-type', TYPES[ext] ?? 'application/octet-stream');
  for (const [name, value] of headersFor(await headerRules(env), url.pathname)) {
    headers.set(name, value);
  }
  const br = await precompressed(request, env, file);
  if (br) {
    await found.body?.cancel();
    headers.set('content-encoding', 'br');
    headers.append('vary', 'Accept-Encoding');
    return new Response(br, { status: 200, headers, encodeBody: 'manual' });
  }
  const length = found.headers.get('content-length');
  if (length) headers.set('content-length', length);
  return new Response(request.method === 'HEAD' ? null : found.body, { status: 200, headers });
}

/** The body of `file`'s brotli-11 copy, for a GET under `/a/` that takes br; null otherwise. */
async function precompressed(request, env, file) {
  const wanted = request.method === 'GET' && file.startsWith('/a/') && !file.endsWith('.br');
  if (!wanted || encodingFor(request.headers.get('accept-encoding')) !== 'br') return null;
  const br = await env.WWW.fetch(`http://www${encodeURI(file)}.br`);
  if (br.status === 200) return br.body;
  await br.body?.cancel();
  return null;
}

export default {
  async fetch(request, env) {
    if (request.method === 'GET' || request.method === 'HEAD') {
      const hit = await asset(request, env);
      if (hit) return compressed(request, hit);
    }
    return compressed(request, await env.PAYDESK.fetch(request));
  },
};
