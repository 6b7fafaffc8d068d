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
