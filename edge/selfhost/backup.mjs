// Backup and restore of a self-hosted data directory (`cargo xtask backup`, `cargo xtask
// restore`; docs/self-host.md), while the server runs.
//
// Each SQLite file of the data directory (one per Durable Object, and workerd's metadata.sqlite,
// which holds every object's next alarm) is copied with `VACUUM INTO` from a read transaction of
// its own: a consistent snapshot of that object, taken while workerd keeps writing (SQLite's WAL
// lets a reader in another process see the last committed state, never a torn one). Objects are
// copied one after another, so each is consistent in itself and the backup is as of the moment
// each was copied; what one object owes another (a sweep into a pool) is in its outbox and is
// sent again after a restore. The backup has a manifest of every file's size and SHA-256, and
// each copy passes `PRAGMA integrity_check` before the backup says it is done.
//
// A restore checks the manifest and copies the files into a data directory that is new or
// empty, never over one a server may be using; the server is then started on it.
//
//   node backup.mjs backup <data dir> <backup dir>
//   node backup.mjs restore <backup dir> <data dir>

import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const MANIFEST = 'paydesk-backup.json';

/** Every `.sqlite` file under `dir`, as paths relative to it, sorted. */
export function sqliteFiles(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sqliteFiles(p, base));
    else if (name.endsWith('.sqlite')) out.push(relative(base, p));
  }
  return out.sort();
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

function emptyOrAbsent(dir, what) {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new Error(`${dir} is not empty: ${what} goes to a new or empty folder`);
  }
  // The objects hold merchants' API keys in clear: the folder is its owner's alone.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

function checkIntegrity(path) {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const [row] = db.prepare('PRAGMA integrity_check').all();
    if (row.integrity_check !== 'ok') throw new Error(`${path}: ${row.integrity_check}`);
  } finally {
    db.close();
  }
}

export function backup(data, to) {
  if (!existsSync(data)) throw new Error(`${data}: no such data directory`);
  emptyOrAbsent(to, 'a backup');
  const files = [];
  for (const rel of sqliteFiles(data)) {
    const dest = join(to, rel);
    // The server may hold the file open and keep writing: this connection only reads.
    const db = new DatabaseSync(join(data, rel), { readOnly: true, timeout: 10_000 });
    try {
      // An object that holds nothing (a request named a merchant id nobody created, and the
      // object let its tables go again): nothing to keep.
      if (db.prepare('SELECT COUNT(*) AS n FROM sqlite_master').get().n === 0) continue;
      mkdirSync(dirname(dest), { recursive: true });
      db.prepare('VACUUM INTO ?').run(dest);
    } finally {
      db.close();
    }
    checkIntegrity(dest);
    files.push({ path: rel, bytes: statSync(dest).size, sha256: sha256(dest) });
  }
  const manifest = { format: 1, taken_at: new Date().toISOString(), files };
  writeFileSync(join(to, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export function restore(from, data) {
  const path = join(from, MANIFEST);
  if (!existsSync(path)) throw new Error(`${from} has no ${MANIFEST}: not a paydesk backup`);
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  for (const f of manifest.files) {
    const src = join(from, f.path);
    if (!existsSync(src) || sha256(src) !== f.sha256) {
      throw new Error(`${src} is missing or differs from the manifest: the backup is damaged`);
    }
  }
  emptyOrAbsent(data, 'a restore');
  for (const f of manifest.files) {
    const dest = join(data, f.path);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(join(from, f.path), dest);
  }
  return manifest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [op, a, b] = process.argv.slice(2);
  try {
    if (op === 'backup' && a && b) {
      const m = backup(a, b);
      const bytes = m.files.reduce((n, f) => n + f.bytes, 0);
      console.log(`backed up ${m.files.length} SQLite files (${bytes} bytes) from ${a} to ${b} at ${m.taken_at}`);
    } else if (op === 'restore' && a && b) {
      const m = restore(a, b);
      console.log(`restored ${m.files.length} SQLite files of the backup taken at ${m.taken_at} into ${b}`);
    } else {
      console.error('usage: node backup.mjs backup <data dir> <backup dir> | restore <backup dir> <data dir>');
      process.exit(2);
    }
  } catch (e) {
    console.error(`paydesk: ${e.message}`);
    process.exit(1);
  }
}
