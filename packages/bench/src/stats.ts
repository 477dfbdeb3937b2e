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
