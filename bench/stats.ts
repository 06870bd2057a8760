/** Summary statistics of one subject's measured runs, in milliseconds. */
export interface Stats {
  runs: number;
  min: number;
  median: number;
  max: number;
  mean: number;
  /** Sample standard deviation (0 for a single run). */
  stddev: number;
}

export function summarize(samples: readonly number[]): Stats {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const mean = sorted.reduce((s, x) => s + x, 0) / n;
  const variance = n > 1 ? sorted.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  return {
    runs: n,
    min: sorted[0]!,
    median,
    max: sorted[n - 1]!,
    mean,
    stddev: Math.sqrt(variance),
  };
}

/**
 * The order in which `subjects` subjects run `rounds` times each: round by round, every
 * subject once per round, and each round starting one subject later than the one before,
 * so machine noise (a neighbour's build, a cache turning cold) falls evenly on all of them
 * and no subject always runs right after the same other one.
 */
export function interleave(subjects: number, rounds: number): number[] {
  const order: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < subjects; i++) order.push((r + i) % subjects);
  }
  return order;
}
