// The README's walk-through of collection on a schedule (docs/recipes/collection.sh, carried in
// the README verbatim) run as a reader would, with curl and openssl against the real worker:
// education (a course's validity), SaaS (a subscription with usage deducted from a contract) and
// instalments (deposit, then the balance paid through its link).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, ROOT } from './support/worker.mjs';

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

test('the_readme_walkthrough_runs_and_says_what_happened', () => {
  const script = join(ROOT, 'docs', 'recipes', 'collection.sh');
  const r = spawnSync('bash', [script], {
    env: { ...process.env, BASE: w.url, ADMIN_TOKEN: w.env.ADMIN_TOKEN },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^education: student-42 until \d{4}-\d\d-\d\dT/);
  assert.equal(lines[1], 'saas: active, first period paid: SUCCESS');
  assert.equal(lines[2], 'saas: second invoice 32300 fen', 'the price plus 1,200 calls at 2 fen, reported twice under one key');
  assert.equal(lines[3], 'instalments: COMPLETED');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(readFileSync(script, 'utf8').trim()), 'README carries docs/recipes/collection.sh verbatim');
});
