// Order statistics for the bench report. Every figure is computed from the raw samples of this
// run; nothing is averaged across runs or machines.

/** The q-quantile (0..1) of `xs` by linear interpolation between closest ranks. */
export function quantile(xs, q) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Median, spread and extremes of a sample. */
export function summary(xs) {
  if (xs.length === 0) return { n: 0 };
  return {
    n: xs.length,
    median: quantile(xs, 0.5),
    p25: quantile(xs, 0.25),
    p75: quantile(xs, 0.75),
    p99: quantile(xs, 0.99),
    min: Math.min(...xs),
    max: Math.max(...xs),
  };
}

/** `a / b`, or null when either is missing or b is zero. */
export const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);

/** Rounds for display and JSON: 3 significant digits, integers as they are. */
export function round(x, digits = 3) {
  if (x == null || !Number.isFinite(x)) return x;
  if (Number.isInteger(x) || Math.abs(x) >= 10 ** digits) return Math.round(x);
  return Number(x.toPrecision(digits));
}

/** A small seeded generator (mulberry32), so the same samples always give the same interval. */
function seeded(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The central `level` share of `statistic` over `iterations` bootstrap resamples: `statistic`
 * gets `resample`, which draws a sample again with replacement, and answers a value or null
 * (left out). Seeded, so the same samples always give the same interval.
 */
function bootstrapInterval(statistic, { level = 0.95, iterations = 2000, seed = 1 } = {}) {
  const next = seeded(seed);
  const resample = (xs) => Array.from(xs, () => xs[Math.floor(next() * xs.length)]);
  const values = [];
  for (let i = 0; i < iterations; i++) {
    const v = statistic(resample);
    if (v != null) values.push(v);
  }
  const tail = (1 - level) / 2;
  return { level, low: quantile(values, tail), high: quantile(values, 1 - tail) };
}

/**
 * How far the ratio of two medians could move by chance: the central `level` share of
 * median(a') / median(b') over `iterations` bootstrap resamples (each sample drawn again with
 * replacement). A ratio whose interval straddles its goal is not told apart from it by this run.
 */
export function medianRatioInterval(a, b, options) {
  if (a.length === 0 || b.length === 0) return null;
  return bootstrapInterval((resample) => {
    const below = quantile(resample(b), 0.5);
    return below > 0 ? quantile(resample(a), 0.5) / below : null;
  }, options);
}

/**
 * How far the median of `xs` could move by chance: the central `level` share of the medians of
 * `iterations` bootstrap resamples. For the edge's paired rounds, whose per-round ratios are the
 * samples.
 */
export function medianInterval(xs, options) {
  if (xs.length === 0) return null;
  return bootstrapInterval((resample) => quantile(resample(xs), 0.5), options);
}

/**
 * Per-round values summed up (the edge's paired rounds, the A/B's rounds): their median with its
 * bootstrap interval and the rounds' range, rounds without a value (`null`) left out; `null`
 * when no round has one.
 */
export function roundsMedian(values) {
  const xs = values.filter((x) => x != null);
  if (xs.length === 0) return null;
  const { median, min, max } = summary(xs);
  return { median, min, max, interval: medianInterval(xs) };
}
