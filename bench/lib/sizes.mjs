// Size: every file of the pay page's first load, the embed loader and the worker's wasm, raw,
// gzip -9 and brotli q11 (node's zlib), and what the worker actually sent over the wire.

import { readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** Raw, gzip (level 9) and brotli (quality 11) byte counts of `buf`. */
export function compressedSizes(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
    }).length,
  };
}

/** GET `url` asking for compression as a browser does; the body as sent and its encoding. */
function fetchWire(url) {
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'Accept-Encoding': 'gzip, deflate, br, zstd' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode,
        encoding: res.headers['content-encoding'] ?? 'identity',
        type: res.headers['content-type'] ?? '',
        bytes: Buffer.concat(chunks).length,
      }));
    }).on('error', reject);
  });
}

/** The body of `url`, uncompressed. */
async function fetchRaw(url) {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`size: GET ${url} answered ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

function kind(path, type) {
  if (type.includes('html') || path.startsWith('/pay/') || path.startsWith('/contract/')) return 'html';
  if (path.endsWith('.css') || type.includes('css')) return 'css';
  if (path.endsWith('.wasm') || type.includes('wasm')) return 'wasm';
  if (path.endsWith('.js') || type.includes('javascript')) return 'js';
  return 'other';
}

/**
 * `firstLoad`: the same-origin paths the browser fetched for the pay page (the document first),
 * fetched again here from `base`. Token-bearing paths are shown as `/pay/<token>`.
 */
export async function measureSizes({ base, firstLoad, workerWasm, workerJs }) {
  const files = [];
  for (const path of firstLoad) {
    const url = `${base}${path}`;
    const wire = await fetchWire(url);
    const body = await fetchRaw(url);
    files.push({
      // Content hashes change with every build; the file is the same one across commits.
      file: path.startsWith('/pay/') ? '/pay/<token>' : path.startsWith('/contract/') ? '/contract/<token>' : path.replace(/\.[0-9a-f]{12}\./, '.<hash>.'),
      kind: kind(path, wire.type),
      ...compressedSizes(body),
      served: wire.bytes,
      served_encoding: wire.encoding,
    });
  }
  const total = { raw: 0, gzip: 0, brotli: 0, served: 0 };
  for (const f of files) for (const k of Object.keys(total)) total[k] += f[k];
  // The critical path paints the page and makes its form work (HTML + CSS); JS and wasm enhance it.
  const part = (kinds) => {
    const t = { raw: 0, gzip: 0, brotli: 0, served: 0 };
    for (const f of files.filter((x) => kinds.includes(x.kind))) for (const k of Object.keys(t)) t[k] += f[k];
    return t;
  };
  const embed = await fetchRaw(`${base}/embed.js`);
  const out = {
    first_load: { files, total, critical_path: part(['html', 'css']), enhancement: part(['js', 'wasm']) },
    embed_loader: { file: '/embed.js', ...compressedSizes(embed) },
    worker: {},
  };
  for (const [name, path] of [['wasm', workerWasm], ['js', workerJs]]) {
    try {
      statSync(path);
      out.worker[name] = { file: path.replace(/^.*\/edge\//, 'edge/'), ...compressedSizes(readFileSync(path)) };
    } catch { /* not built */ }
  }
  return out;
}
