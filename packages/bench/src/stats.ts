/** The median of a sample (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Milliseconds since `start` (a `performance.now()` reading), as a float. */
export const since = (start: number): number => performance.now() - start;

/** `ms` for people: 4210 ms, 512 ms, 0.61 ms. */
export function formatMs(ms: number): string {
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/**
 * Runs every variant once per round, `runs` rounds (A B A B …, or A B C B C A … for three),
 * rotating which goes first so none always follows another's warm caches. Returns the timings
 * per variant, in the order given.
 */
export async function interleave(
  runs: number,
  variants: ReadonlyArray<() => Promise<number>>,
): Promise<number[][]> {
  const out = variants.map(() => [] as number[]);
  for (let round = 0; round < runs; round += 1) {
    for (let i = 0; i < variants.length; i += 1) {
      const which = (round + i) % variants.length;
      out[which]?.push(await (variants[which] as () => Promise<number>)());
    }
  }
  return out;
}

/** A small seeded PRNG (mulberry32), so a bootstrap over the same samples gives the same CI. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The median of the per-round ratios a[i] / b[i] (the two variants of one round run back to
 * back), with a percentile bootstrap interval over rounds. A slow drift of the machine during a
 * run (other tenants, thermal, caches) moves both starts of a round alike, so it cancels in each
 * ratio; in a ratio of whole-sample medians it does not.
 */
export function pairedRatio(
  a: readonly number[],
  b: readonly number[],
  options: { level?: number; iterations?: number; seed?: number } = {},
): { ratio: number; low: number; high: number } {
  if (a.length !== b.length || a.length === 0) throw new Error("paired samples of equal length");
  const { level = 0.9, iterations = 4000, seed = 1 } = options;
  const ratios = a.map((x, i) => x / (b[i] as number));
  const random = seeded(seed);
  const medians: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    medians.push(median(ratios.map(() => ratios[Math.floor(random() * ratios.length)] as number)));
  }
  medians.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  const at = (q: number) => medians[Math.min(medians.length - 1, Math.floor(q * medians.length))];
  return { ratio: median(ratios), low: at(tail) as number, high: at(1 - tail) as number };
}
