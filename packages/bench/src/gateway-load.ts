import { readFileSync } from "node:fs";
import autocannon from "autocannon";

/**
 * One load run with autocannon: a fixed number of connections for a fixed time, every request
 * the same. It fails when any answer is not 2xx (a target that refuses is not fast, it is
 * broken). While it runs, the RSS of `pid` is sampled, and its peak is reported.
 */

export interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  /** Peak resident set of the watched process during the run, in MiB. */
  peakRssMiB: number | undefined;
}

export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  body: string;
  /** A process whose RSS is sampled during the run. */
  pid?: number | undefined;
}

/** VmRSS of a Linux process in MiB (undefined where /proc is not there). */
function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function load(spec: LoadSpec): Promise<LoadResult> {
  let peak: number | undefined;
  const sample = () => {
    const now = spec.pid === undefined ? undefined : rssMiB(spec.pid);
    if (now !== undefined) peak = Math.max(peak ?? 0, now);
  };
  const sampler = setInterval(sample, 100);
  try {
    const result = await autocannon({
      url: spec.url,
      method: "POST",
      connections: spec.connections,
      duration: spec.seconds,
      headers: spec.headers,
      body: spec.body,
    });
    sample();
    const failed = result.non2xx + result.errors + result.timeouts;
    if (failed > 0 || result.requests.total === 0) {
      throw new Error(
        `${spec.url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total}`,
      );
    }
    return {
      reqPerSec: result.requests.total / spec.seconds,
      p50: result.latency.p50,
      p99: result.latency.p99,
      requests: result.requests.total,
      peakRssMiB: peak,
    };
  } finally {
    clearInterval(sampler);
  }
}
