// The pure parts of `cargo xtask bench` (bench/lib): statistics, the static baseline snapshot,
// which earlier report sizes are compared with, how targets are judged, and how an A/B of two
// builds is set up and summed up. No worker, no browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianInterval, medianRatioInterval, quantile, summary } from '../bench/lib/stats.mjs';
import { staticSnapshot } from '../bench/lib/page_load.mjs';
import { abSection, checkTargets, pairedLine, previousReport, selfhostPageSection, selfhostSection, verdict } from '../bench/lib/report.mjs';
import { emptySaveFolder, savedConfig, summarizeAb } from '../bench/lib/worker_ab.mjs';

test('quantiles_interpolate_between_ranks', () => {
  assert.equal(quantile([3, 1, 2], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([10], 0.99), 10);
  const s = summary([5, 1, 4, 2, 3]);
  assert.deepEqual([s.n, s.median, s.min, s.max, s.p25, s.p75], [5, 3, 1, 5, 2, 4]);
});

test('a_ratio_interval_holds_the_ratio_narrows_with_agreement_and_repeats', () => {
  // Two wide samples whose medians are 500 and 470: the interval holds 500/470 and is wide.
  const wide = (mid) => Array.from({ length: 31 }, (_, i) => mid + (i - 15) * 12);
  const iv = medianRatioInterval(wide(500), wide(470));
  assert.ok(iv.low < 500 / 470 && 500 / 470 < iv.high, JSON.stringify(iv));
  assert.ok(iv.low < 1.0 && iv.high > 1.1, `a spread of ±180 ms cannot place the ratio closely: ${JSON.stringify(iv)}`);
  // Tight samples: the same medians, a narrow interval.
  const tight = (mid) => Array.from({ length: 31 }, (_, i) => mid + (i - 15) * 0.5);
  const t = medianRatioInterval(tight(500), tight(470));
  assert.ok(t.high - t.low < 0.02 && t.low > 1.05, JSON.stringify(t));
  // Seeded: the same samples, the same interval; nothing to compare, no interval.
  assert.deepEqual(medianRatioInterval(wide(500), wide(470)), iv);
  assert.equal(medianRatioInterval([], [1]), null);
});

test('static_snapshot_keeps_the_markup_and_drops_every_script', () => {
  const html = `<html><head><link rel="stylesheet" href="/pay.css"><link rel="modulepreload" href="/pkg/w.js">
<link rel="preload" href="/pkg/w.wasm" as="fetch" type="application/wasm" crossorigin></head>
<body style="--brand:#123456"><main id="paydesk-root" data-paydesk-ready=""><button data-testid="pay">Pay</button></main>
<noscript><p>enable JS</p></noscript><script id="paydesk-data" type="application/json">{"a":1}</script>
<script type="module" nonce="n">import init from "/pkg/w.js";</script></body></html>`;
  const { html: out, styleAttrs } = staticSnapshot(html);
  assert.match(out, /<link rel="stylesheet" href="\/pay.css">/);
  assert.match(out, /<button data-testid="pay">Pay<\/button>/);
  for (const gone of ['<script', 'modulepreload', 'application/wasm', '<noscript', 'style="']) {
    assert.ok(!out.includes(gone), `${gone} should be gone`);
  }
  assert.equal(styleAttrs, 1);
});

test('sizes_compare_with_the_previous_commit_first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paydesk-history-'));
  const put = (key) => writeFileSync(join(dir, `${key}.json`), JSON.stringify({ commit: { key } }));
  assert.equal(previousReport(dir, { key: 'c', head: 'c', parent: 'b', dirty: false }), null);
  put('a');
  assert.match(previousReport(dir, { key: 'c', head: 'c', parent: 'b', dirty: false }).how, /not the previous commit/);
  put('b');
  assert.equal(previousReport(dir, { key: 'c', head: 'c', parent: 'b', dirty: false }).report.commit.key, 'b');
  put('c');
  // With uncommitted changes, the commit they sit on is the previous state.
  assert.equal(previousReport(dir, { key: 'c-dirty', head: 'c', parent: 'b', dirty: true }).report.commit.key, 'c');
});

test('a_missed_target_says_by_how_much', () => {
  const targets = checkTargets({
    size: { first_load: { total: { gzip: 105 * 1024 } } },
    micro: [
      { group: 'request signature verify', op_ns: 500, sha256_ns: 200, ratio_to_sha256: 2.5 },
      { group: 'checkout token verify', op_ns: 300, sha256_ns: 200, ratio_to_sha256: 1.5 },
      { group: 'order state machine step', op_ns: 1, sha256_ns: null, ratio_to_sha256: null },
    ],
  });
  const size = targets.find((t) => t.name === 'first load gzip');
  assert.equal(size.met, false);
  assert.match(size.miss, /35,840 B over \(50%\)/);
  assert.equal(targets.find((t) => t.name.startsWith('request')).met, false);
  assert.match(targets.find((t) => t.name.startsWith('request')).miss, /100 ns\/op more than 2x/);
  assert.equal(targets.find((t) => t.name.startsWith('checkout')).met, true);
  assert.equal(targets.length, 3, 'the state machine has no SHA-256 floor and no target');
});

test('a_verdict_says_when_the_interval_crosses_the_goal', () => {
  const at = (measured, low, high) => ({
    measured, goal: 1.05, met: measured <= 1.05, miss: measured <= 1.05 ? null : 'over', interval: { level: 0.95, low, high },
  });
  assert.equal(verdict(at(1.01, 0.95, 1.04), false), 'met');
  assert.equal(verdict(at(1.01, 0.93, 1.08), false), 'met (its 95% interval crosses the goal)');
  assert.equal(verdict(at(1.17, 1.08, 1.24), false), '**missed**: over');
  assert.equal(verdict(at(1.08, 0.99, 1.22), false), '**missed**: over (its 95% interval crosses the goal)');
  // An at-least goal (create / health) crosses the other way; no interval, no remark.
  const least = { measured: 0.52, goal: 0.5, met: true, miss: null, interval: { level: 0.95, low: 0.47, high: 0.58 } };
  assert.equal(verdict(least, true), 'met (its 95% interval crosses the goal)');
  assert.equal(verdict({ ...least, interval: null }, true), 'met');
});

test('the_edge_goals_are_judged_by_the_paired_rounds_median_when_there_are_rounds', () => {
  // One run each says create / health 0.44x (missed) and create / write 0.95x (met); eight
  // paired rounds say 0.55x and 0.85x: the rounds decide, with their interval beside them.
  const create = { req_per_s: 132, health_req_per_s: 300, ratio_to_health: 0.44, ratio_to_write: 0.95 };
  const spread = (mid) => [-0.06, -0.04, -0.02, -0.01, 0.01, 0.02, 0.04, 0.06].map((d) => mid + d);
  const of = (xs) => ({ median: quantile(xs, 0.5), min: Math.min(...xs), max: Math.max(...xs), interval: medianInterval(xs) });
  const paired = { rounds: 8, seconds_per_run: 2, create_to_health: of(spread(0.55)), create_to_write: of(spread(0.85)) };
  const judged = (level) => checkTargets({ edge: { levels: [level] } });
  const single = judged({ connections: 1, runs: { create } });
  assert.deepEqual(single.map((t) => [t.name, t.met, t.interval]), [
    ['order create / health throughput at c=1', false, null],
    ['order create / one-INSERT write at c=1', true, null],
  ]);
  assert.match(single[0].miss, /6% of the health rate short \(132 req\/s, goal 150\)/);
  const rounds = judged({ connections: 1, runs: { create }, paired });
  assert.deepEqual(rounds.map((t) => [t.name, round3(t.measured), t.met]), [
    ['order create / health throughput at c=1, median of 8 paired rounds', 0.55, true],
    ['order create / one-INSERT write at c=1, median of 8 paired rounds', 0.85, false],
  ]);
  const iv = rounds[1].interval;
  assert.ok(iv.low < 0.85 && 0.85 < iv.high && iv.high < 0.9, JSON.stringify(iv));
  assert.match(rounds[1].miss, /5% of the write rate short/);
  // The interval of a median: seeded, inside the sample's range, nothing for no samples.
  assert.deepEqual(medianInterval(spread(0.55)), paired.create_to_health.interval);
  assert.ok(iv.low >= 0.79 && iv.high <= 0.91);
  assert.equal(medianInterval([]), null);
  // The report's line: both ratios with their intervals; the runtime's CPU when /proc was read.
  assert.match(pairedLine(paired), /create \/ health \*\*0\.55x\*\* \(95%: [0-9.]+–[0-9.]+x\), rounds 0\.49–0\.61x; create \/ write \*\*0\.85x\*\*/);
  assert.doesNotMatch(pairedLine(paired), /CPU/);
  const cpu = { health: of([1.8, 1.9]), create: of([3.6, 3.7]), write: of([3.0, 3.1]) };
  const withCpu = pairedLine({ ...paired, cpu_ms: cpu, cpu_create_to_write: of([1.19, 1.2, 1.21]) });
  assert.match(withCpu, /live 1\.85 ms, create 3\.65 ms, write 3\.05 ms; create \/ write \*\*1\.2x\*\*/);
  assert.doesNotMatch(withCpu, /load generator/);
  const client = { health: of([0.2, 0.2]), create: of([0.34, 0.36]), write: of([0.23, 0.25]) };
  const withClient = pairedLine({ ...paired, cpu_ms: cpu, client_cpu_ms: client, cpu_create_to_write: of([1.19, 1.2, 1.21]) });
  assert.match(withClient, /load generator, on the same cores, spent live 0\.2 ms, create 0\.35 ms, write 0\.24 ms/);
});

const round3 = (x) => Math.round(x * 1000) / 1000;

test('the_self_hosted_edge_sits_beside_wrangler_dev_level_by_level', () => {
  const run = (req_per_s, extra = {}) => ({ req_per_s, p50_ms: 2, p99_ms: 9, non2xx: 0, ...extra });
  const level = (c, live, create) => ({
    connections: c,
    health: run(live),
    runs: { create: run(create, { ratio_to_health: create / live }) },
  });
  const scenarios = [{ id: 'create', label: 'order create' }];
  const lines = selfhostSection({
    machine: { workerd: '1.2' },
    selfhost_start: { ready_ms: 400, first_merchant_ms: 90 },
    edge: { levels: [level(8, 600, 200)], scenarios },
    edge_selfhost: { levels: [level(8, 900, 300)], scenarios },
  }).join('\n');
  assert.match(lines, /\| order create \| 200 \| 300 \| 1\.5x \| 0\.333x \|/);
  assert.match(lines, /\| GET \/api\/live \(baseline\) \| 600 \| 900 \| 1\.5x \| 1x \|/);
  assert.match(lines, /readiness line.*400/);
});

test('the_self_hosted_pay_page_has_its_own_targets_and_says_how_it_was_encoded', () => {
  const t = (median) => ({ median, p25: median, p75: median, min: median, max: median });
  const load = (fcp, hydrated, encoding) => ({
    runs: 10, network: { down_kbit: 1600, up_kbit: 750, latency_ms: 150 }, cpu_slowdown: 4,
    viewport: { width: 390, height: 844 }, static_page: { path: '/bench-static/pay.html' },
    widget: { first_contentful_paint_ms: t(fcp), working_button_ms: t(fcp), interactive_ms: t(hydrated), transferred_bytes: t(42_000) },
    static: { first_contentful_paint_ms: t(400), working_button_ms: t(400), interactive_ms: t(400), transferred_bytes: t(4_500) },
    ratio_fcp: fcp / 400, ratio_working: fcp / 400, ratio_interactive: hydrated / 400,
    first_load_paths: ['/pay/tok', '/a/w.js', '/a/w_bg.wasm'], first_load_encodings: [encoding, encoding, encoding],
  });
  const r = { machine: {}, page_load: load(420, 640, 'gzip'), page_load_selfhost: load(410, 580, 'br') };
  const targets = checkTargets(r);
  const hydrated = targets.filter((x) => x.name.startsWith('time to interactive'));
  assert.deepEqual(hydrated.map((x) => [x.name, x.met]), [
    ['time to interactive (hydrated) / static page', false],
    ['time to interactive (hydrated) / static page, self-hosted (brotli)', true],
  ]);
  assert.match(hydrated[0].miss, /40 ms slower than 1.5x/);
  assert.equal(targets.length, 6, 'three page targets for each runtime');
  const lines = selfhostPageSection(r).join('\n');
  assert.match(lines, /^## 2c\. Pay page load, self-hosted/);
  assert.match(lines, /served by the same front door at `\/bench-static\/pay\.html`/);
  assert.match(lines, /hydrated \*\*1\.45x\*\*/);
  assert.match(lines, /Chromium got its first load as: the page br, `\/a\/w\.js` br, `\/a\/w_bg\.wasm` br\./);
});

test('a_saved_build_runs_as_it_is_with_the_checkouts_assets', () => {
  const toml = readFileSync(join(import.meta.dirname, '..', 'edge', 'wrangler.toml'), 'utf8');
  const saved = savedConfig(toml, '/src/paydesk/www');
  // The build step would rebuild from the checkout's sources: gone, and only it.
  assert.match(toml, /^\[build\]$/m);
  assert.doesNotMatch(saved, /^\[build\]|^command\s*=|^watch_dir\s*=/m);
  assert.match(saved, /^directory = "\/src\/paydesk\/www"$/m);
  for (const kept of ['main = "build/index.js"', '[[durable_objects.bindings]]', 'new_sqlite_classes = ["MerchantDO"]', '[[send_email]]', '[observability]']) {
    assert.ok(saved.includes(kept), kept);
  }
  assert.throws(() => savedConfig('name = "x"\n', '/www'), /directory = "\.\.\/www"/);
});

test('saving_a_build_replaces_only_an_earlier_saved_build', () => {
  const root = mkdtempSync(join(tmpdir(), 'paydesk-save-'));
  // New, then empty: made ready.
  assert.equal(emptySaveFolder(join(root, 'new')), join(root, 'new'));
  assert.equal(emptySaveFolder(join(root, 'new')), join(root, 'new'));
  // An earlier saved build: emptied.
  const saved = join(root, 'saved');
  mkdirSync(join(saved, 'build'), { recursive: true });
  writeFileSync(join(saved, 'wrangler.toml'), savedConfig('[assets]\ndirectory = "../www"\n', '/www'));
  writeFileSync(join(saved, 'build', 'index_bg.wasm'), 'old');
  emptySaveFolder(saved);
  assert.deepEqual(readdirSync(saved), []);
  // Anything else: refused, and left as it was.
  const other = join(root, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'notes.txt'), 'keep me');
  assert.throws(() => emptySaveFolder(other), /holds something other than a saved build/);
  assert.equal(readFileSync(join(other, 'notes.txt'), 'utf8'), 'keep me');
});

test('an_ab_compares_the_builds_round_by_round', () => {
  // Round by round, this build's create costs 0.9x the saved one's; the machine slows down in
  // the last rounds, both builds alike, which the per-round ratio does not see.
  const slow = [1, 1, 1, 1.3, 1.3];
  const per = slow.map((f, i) => ({
    'this build': { create: { cpu_ms: 3.6 * f, req_per_s: 400 / f }, write: { cpu_ms: 3.0 * f, req_per_s: 500 / f } },
    'saved build': { create: { cpu_ms: 4.0 * f + i * 0.001, req_per_s: 360 / f }, write: { cpu_ms: 3.0 * f, req_per_s: 500 / f } },
  }));
  const x = summarizeAb(per, ['this build', 'saved build']);
  const near = (v, want) => assert.ok(Math.abs(v - want) < 0.002, `${v} vs ${want}`);
  near(x.first_over_second.cpu_ms.create.median, 0.9);
  near(x.first_over_second.cpu_ms.write.median, 1);
  near(x.builds['this build'].cpu_create_to_write.median, 1.2);
  near(x.builds['saved build'].cpu_create_to_write.median, 4.002 / 3);
  assert.equal(x.builds['this build'].cpu_ms.create.median, 3.6);
  assert.ok(x.first_over_second.cpu_ms.create.interval.high < 0.91);
  const md = abSection({ commit: { key: 'abc123' }, ab: { saved: 'def456', connections: 8, rounds: 5, seconds_per_run: 2, ...x } }).join('\n');
  assert.match(md, /This build \(`abc123`\) and the saved build \(`def456`\)/);
  assert.match(md, /\| this build \| 3\.6 ms \([0-9.]+ ms–[0-9.]+ ms\) \| 3 ms /);
  assert.match(md, /\| this build \/ saved build \| 0\.9x /);
});
