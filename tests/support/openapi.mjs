// Checks real responses against docs/openapi.json, so the document and the worker cannot drift
// apart unnoticed: `await checkResponse('GET', '/v1/orders/{out_trade_no}', r.status, r.json)`
// throws unless the spec documents that status for that operation and the body matches its
// schema. `operations()` lists what the spec documents, for coverage checks.

import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

export const SPEC_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'openapi.json');
const SPEC_KEY = 'https://paydesk.invalid/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let loaded = null;

/** The spec and one Ajv instance that holds it, loaded once. */
function state() {
  if (!loaded) {
    const doc = JSON.parse(readFileSync(SPEC_PATH, 'utf8'));
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    // The whole document is one schema resource, so `#/components/...` refs resolve in it.
    ajv.addSchema(doc, SPEC_KEY);
    loaded = { doc, ajv, validators: new Map() };
  }
  return loaded;
}

/** The parsed docs/openapi.json. */
export function spec() {
  return state().doc;
}

const escapePointer = (s) => s.replaceAll('~', '~0').replaceAll('/', '~1');

function atPointer(doc, pointer) {
  let node = doc;
  for (const part of pointer.replace(/^#\//, '').split('/')) {
    node = node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node;
}

/** Follows `$ref`s (within the document) to the object and the pointer where it lives. */
function resolve(doc, pointer) {
  let node = atPointer(doc, pointer);
  for (let hops = 0; node && typeof node.$ref === 'string'; hops++) {
    if (hops > 20 || !node.$ref.startsWith('#/')) throw new Error(`cannot follow $ref ${node.$ref} at ${pointer}`);
    pointer = node.$ref;
    node = atPointer(doc, pointer);
  }
  return { node, pointer };
}

/** [method, pathTemplate, statuses] for every documented operation, e.g. ['GET', '/api/health', [200, 405]]. */
export function operations() {
  const { doc } = state();
  const out = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const statuses = Object.keys(op.responses ?? {})
        .map((s) => (/^\d{3}$/.test(s) ? Number(s) : s))
        .sort((a, b) => String(a).localeCompare(String(b)));
      out.push([method.toUpperCase(), path, statuses]);
    }
  }
  return out;
}

/** The compiled validator of one response schema (cached by its JSON pointer). */
function validatorAt(pointer) {
  const { ajv, validators } = state();
  let v = validators.get(pointer);
  if (!v) {
    v = ajv.compile({ $ref: `${SPEC_KEY}${pointer}` });
    validators.set(pointer, v);
  }
  return v;
}

/** The media type of a response to check the body against. */
function pickMediaType(content, body, contentType, where) {
  const types = Object.keys(content);
  const isJson = (t) => t === 'application/json' || t.endsWith('+json');
  if (contentType) {
    const want = contentType.split(';')[0].trim().toLowerCase();
    const hit = types.find((t) => t.toLowerCase() === want);
    if (!hit) throw new Error(`${where}: the spec has no ${want} content (it has ${types.join(', ')})`);
    return hit;
  }
  if (typeof body === 'string') {
    const text = types.find((t) => !isJson(t));
    if (text) return text;
  }
  return types.find(isJson) ?? types[0];
}

function headerValue(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

const show = (body) => {
  const s = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  return s !== undefined && s.length > 4000 ? `${s.slice(0, 4000)}...` : s;
};

/**
 * Throws unless `body` is what docs/openapi.json says `method pathTemplate` answers with
 * `status`. `body` is the parsed JSON (or the text for non-JSON media types); for a response
 * without content (204) it must be empty: undefined, null or ''.
 *
 * `opts.contentType` (the response's Content-Type) picks the media type to check against;
 * without it a string body is checked against a non-JSON media type if there is one, anything
 * else against application/json. `opts.headers` (a Headers or a plain object), when given, must
 * carry the headers the spec marks as required (e.g. Retry-After on 429).
 */
export async function checkResponse(method, pathTemplate, status, body, opts = {}) {
  const { doc } = state();
  const m = String(method).toLowerCase();
  const where = `${String(method).toUpperCase()} ${pathTemplate} -> ${status}`;
  const item = doc.paths?.[pathTemplate];
  if (!item) throw new Error(`${where}: the spec has no path ${pathTemplate}`);
  if (!item[m]) throw new Error(`${where}: the spec has no ${m.toUpperCase()} operation on ${pathTemplate}`);
  const base = `#/paths/${escapePointer(pathTemplate)}/${m}/responses`;
  const responses = item[m].responses ?? {};
  const key = [String(status), `${String(status)[0]}XX`].find((k) => k in responses);
  if (!key) {
    throw new Error(`${where}: status ${status} is not documented (documented: ${Object.keys(responses).join(', ')}); body:\n${show(body)}`);
  }
  const { node: response, pointer } = resolve(doc, `${base}/${escapePointer(key)}`);
  if (!response) throw new Error(`${where}: the response object does not resolve`);

  for (const name of Object.keys(response.headers ?? {})) {
    const header = resolve(doc, `${pointer}/headers/${escapePointer(name)}`).node;
    if (opts.headers && header?.required && headerValue(opts.headers, name) === undefined) {
      throw new Error(`${where}: the required header ${name} is missing`);
    }
  }

  const content = response.content;
  if (!content || Object.keys(content).length === 0) {
    if (body === undefined || body === null || body === '') return;
    throw new Error(`${where}: the spec documents no body, but got:\n${show(body)}`);
  }
  const mediaType = pickMediaType(content, body, opts.contentType, where);
  if (!content[mediaType].schema) return;
  const validate = validatorAt(`${pointer}/content/${escapePointer(mediaType)}/schema`);
  if (!validate(body)) {
    const errors = JSON.stringify(validate.errors, null, 2);
    throw new Error(`${where} (${mediaType}): the body does not match docs/openapi.json\nerrors: ${errors}\nbody:\n${show(body)}`);
  }
}

/** Throws unless `value` matches the schema `#/components/schemas/<name>` of docs/openapi.json. */
export function checkSchema(name, value) {
  const validate = validatorAt(`#/components/schemas/${name}`);
  if (!validate(value)) {
    throw new Error(`${name}: does not match docs/openapi.json\nerrors: ${JSON.stringify(validate.errors, null, 2)}\nvalue:\n${show(value)}`);
  }
}
