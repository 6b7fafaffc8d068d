// Reads criterion's results (target/criterion/<group>/<function>/new/{benchmark,estimates}.json)
// written by this run's `cargo bench`: each group's operation beside SHA-256 of the same bytes.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ratio } from './stats.mjs';

/** Groups measured since `sinceMs` (older result folders belong to earlier runs or old benches). */
export function readCriterion(dir, sinceMs = 0) {
  const groups = new Map();
  if (!existsSync(dir)) return [];
  for (const g of readdirSync(dir, { withFileTypes: true })) {
    if (!g.isDirectory()) continue;
    for (const f of readdirSync(join(dir, g.name), { withFileTypes: true })) {
      const base = join(dir, g.name, f.name, 'new');
      const est = join(base, 'estimates.json');
      if (!f.isDirectory() || !existsSync(est) || statSync(est).mtimeMs < sinceMs) continue;
      const meta = JSON.parse(readFileSync(join(base, 'benchmark.json'), 'utf8'));
      const e = JSON.parse(readFileSync(est, 'utf8'));
      const entry = groups.get(meta.group_id) ?? { group: meta.group_id, bytes: meta.throughput?.Bytes ?? null };
      entry[meta.function_id] = {
        median_ns: e.median.point_estimate,
        ci95_ns: [e.median.confidence_interval.lower_bound, e.median.confidence_interval.upper_bound],
        mad_ns: e.median_abs_dev.point_estimate,
      };
      groups.set(meta.group_id, entry);
    }
  }
  return [...groups.values()]
    .map((g) => ({
      group: g.group,
      bytes: g.bytes,
      op_ns: g.paydesk?.median_ns ?? null,
      op_ci95_ns: g.paydesk?.ci95_ns ?? null,
      sha256_ns: g.sha256_same_bytes?.median_ns ?? null,
      ratio_to_sha256: ratio(g.paydesk?.median_ns, g.sha256_same_bytes?.median_ns),
    }))
    .sort((a, b) => a.group.localeCompare(b.group));
}
