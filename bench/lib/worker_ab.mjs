// Two builds of the worker side by side: the one `cargo xtask bench` just built and one saved
// earlier with `--save-worker DIR`. Whether a change made the order create cheaper is a
// difference of a few percent, and one bench run against another cannot show it: the same build
// has measured 3.20 and 3.61 ms of CPU per create an hour apart on this shared VM. Run at once,
// in alternating turns, the two builds see the same machine, and each round compares them
// seconds apart.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../../tests/support/worker.mjs';
import { benchMerchant, loadRun, loadRunWithCpu } from './edge_load.mjs';
import { ratio, roundsMedian } from './stats.mjs';

/** What each round runs on each build: the order create and the one-`INSERT` write. */
export const AB_SCENARIOS = ['create', 'write'];

/** The first line of a saved build's config: what tells a folder `--save-worker` may replace. */
const SAVED_MARK = '# A build saved by `cargo xtask bench --save-worker`';

/**
 * The wrangler config of a saved build, from edge/wrangler.toml: without its `[build]` step (a
 * saved build is run as it is, never rebuilt from the checkout's sources) and with its static
 * assets read from `www`, since the config no longer sits beside them.
 */
export function savedConfig(toml, www) {
  const out = [];
  let inBuild = false;
  let assets = 0;
  for (const line of toml.split('\n')) {
    if (/^\s*\[/.test(line)) inBuild = /^\s*\[build\]\s*$/.test(line);
    if (inBuild) continue;
    const moved = line.replace(/^directory\s*=\s*"\.\.\/www"\s*$/, () => {
      assets += 1;
      return `directory = ${JSON.stringify(www)}`;
    });
    out.push(moved);
  }
  if (assets !== 1) throw new Error('edge/wrangler.toml: expected one `directory = "../www"` line for the static assets');
  return `${SAVED_MARK} (bench/lib/worker_ab.mjs): run as it is,\n# with no build step.\n${out.join('\n')}`;
}

/** Copies the worker as built now (edge/build) into `dir`, with its config; returns its label. */
export function saveWorker(dir) {
  const build = join(ROOT, 'edge', 'build');
  if (!existsSync(join(build, 'index_bg.wasm'))) throw new Error('no worker build in edge/build: run `cargo xtask bench` (it builds first)');
  const to = emptySaveFolder(dir);
  cpSync(build, join(to, 'build'), { recursive: true });
  writeFileSync(join(to, 'wrangler.toml'), savedConfig(readFileSync(join(ROOT, 'edge', 'wrangler.toml'), 'utf8'), join(ROOT, 'www')));
  return savedLabel(to);
}

/**
 * `dir`, made ready to hold a saved build: created if new, emptied if it holds an earlier saved
 * build. A folder that holds anything else is refused, never deleted.
 */
export function emptySaveFolder(dir) {
  const to = resolve(dir);
  if (existsSync(to) && readdirSync(to).length > 0) {
    let config = '';
    try { config = readFileSync(join(to, 'wrangler.toml'), 'utf8'); } catch { /* not a saved build */ }
    if (!config.startsWith(SAVED_MARK)) throw new Error(`--save-worker ${dir}: the folder holds something other than a saved build; give a new or empty one`);
    rmSync(to, { recursive: true });
  }
  mkdirSync(to, { recursive: true });
  return to;
}

/** The config of the build saved in `dir`, for `startWorker({ config })`. */
export function savedWorkerConfig(dir) {
  const config = join(resolve(dir), 'wrangler.toml');
  if (!existsSync(config) || !existsSync(join(resolve(dir), 'build', 'index_bg.wasm'))) {
    throw new Error(`${dir} holds no saved worker: save one with --save-worker ${dir}`);
  }
  return config;
}

/** The commit a saved build came from (the build stamps it), or its folder's path. */
export function savedLabel(dir) {
  try {
    return readFileSync(join(resolve(dir), 'build', '.paydesk-commit'), 'utf8').trim() || dir;
  } catch {
    return dir;
  }
}

/**
 * `rounds` rounds at `connections`: in each, both builds run each scenario for `seconds`, one
 * build right after the other. Every run reads the CPU the build's runtime spent per answered
 * request (its workerd processes, from /proc). `sides`: `[{ name, worker }]`, the build under
 * test first.
 */
export async function measureAb({ sides, notifyUrl, rounds, seconds, connections, log = () => {} }) {
  const ready = [];
  for (const { name, worker } of sides) {
    const merchant = await benchMerchant(worker, notifyUrl, `Bench A/B ${name}`);
    // Warm-up, not reported: the wasm's compile and the merchant's object opening.
    for (const scenario of AB_SCENARIOS) await loadRun({ url: worker.url, scenario, connections, duration: 1, merchant });
    ready.push({ name, worker, merchant });
  }
  const per = [];
  for (let i = 0; i < rounds; i++) {
    // Each endpoint on both builds back to back, the builds in A B B A order within the round
    // (a machine slowing down through the round weighs on both alike) and every order turned
    // round from one round to the next.
    const builds = i % 2 ? [...ready].reverse() : ready;
    const scenarios = i % 2 ? [...AB_SCENARIOS].reverse() : AB_SCENARIOS;
    const round = Object.fromEntries(ready.map((s) => [s.name, {}]));
    for (const [k, scenario] of scenarios.entries()) {
      for (const s of k % 2 ? [...builds].reverse() : builds) round[s.name][scenario] = await measuredRun(s, scenario, connections, seconds);
    }
    per.push(round);
    log(`A/B round ${i + 1}/${rounds}: ${ready.map((s) => `${s.name} create ${round[s.name].create.cpu_ms?.toFixed(2)} ms, write ${round[s.name].write.cpu_ms?.toFixed(2)} ms`).join('; ')}`);
  }
  return { connections, rounds, seconds_per_run: seconds, ...summarizeAb(per, ready.map((s) => s.name)) };
}

/** One run of `scenario` on one build: its rate and the runtime's CPU per answered request. */
async function measuredRun({ name, worker, merchant }, scenario, connections, seconds) {
  const run = await loadRunWithCpu({ url: worker.url, scenario, connections, duration: seconds, merchant }, worker.pid);
  // A build that refuses requests is not measured beside one that answers them.
  if (run.ok === 0 || run.non2xx > 0 || run.errors > 0) {
    throw new Error(`A/B: ${name} ${scenario} answered ${run.ok} of its requests (${run.non2xx} non-2xx, ${run.errors} errors); its log ends:\n${worker.log.slice(-2000)}`);
  }
  return { req_per_s: run.req_per_s, cpu_ms: run.cpu_ms };
}

/**
 * The rounds summed up: for each build, the medians of its CPU per request and rates with their
 * create / write ratios; then, round by round, the first build over the second. Each figure is a
 * median of per-round values with its 95% bootstrap interval and the rounds' range.
 */
export function summarizeAb(per, [first, second]) {
  const of = (pick) => roundsMedian(per.map(pick));
  const build = (name) => ({
    cpu_ms: Object.fromEntries(AB_SCENARIOS.map((k) => [k, of((r) => r[name][k].cpu_ms)])),
    req_per_s: Object.fromEntries(AB_SCENARIOS.map((k) => [k, of((r) => r[name][k].req_per_s)])),
    cpu_create_to_write: of((r) => ratio(r[name].create.cpu_ms, r[name].write.cpu_ms)),
    create_to_write: of((r) => ratio(r[name].create.req_per_s, r[name].write.req_per_s)),
  });
  const across = (field) => Object.fromEntries(AB_SCENARIOS.map((k) => [k, of((r) => ratio(r[first][k][field], r[second][k][field]))]));
  return {
    names: [first, second],
    builds: { [first]: build(first), [second]: build(second) },
    first_over_second: { cpu_ms: across('cpu_ms'), req_per_s: across('req_per_s') },
    per_round: per,
  };
}
