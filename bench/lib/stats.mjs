// Percentiles by the nearest-rank method over raw samples.

/** Sorts a copy of `samples` ascending. */
export function sorted(samples) {
  return Float64Array.from(samples).sort();
}

/** The p-th percentile (0 < p ≤ 100) of an ascending array, or null when empty. */
export function percentile(ascending, p) {
  if (ascending.length === 0) return null;
  const rank = Math.ceil((p / 100) * ascending.length);
  return ascending[Math.min(ascending.length, Math.max(1, rank)) - 1];
}

/** p50, p99 and max of `samples` (ms), with the sample count. */
export function summarize(samples) {
  const s = sorted(samples);
  return {
    count: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s.length === 0 ? null : s[s.length - 1],
  };
}

export function median(samples) {
  return percentile(sorted(samples), 50);
}
