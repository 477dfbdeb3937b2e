import { readFileSync } from "node:fs";
import autocannon from "autocannon";

/**
 * One load run with autocannon: a fixed number of connections for a fixed time, every request
 * the same. It fails when any answer is not 2xx (a target that refuses is not fast, it is
 * broken). While it runs, the RSS of `pid` is sampled, and its peak is reported, and the CPU
 * time `pid` spent is divided by the requests answered: unlike requests/s, that does not move
 * when other tenants of the machine take the cores.
 */

export interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  /** Peak resident set of the watched process during the run, in MiB. */
  peakRssMiB: number | undefined;
  /** CPU time (user + system) of the watched process per request, in ms. */
  cpuMsPerRequest: number | undefined;
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

/** User + system CPU time of a Linux process so far, in ms (undefined without /proc). */
function cpuMs(pid: number): number | undefined {
  try {
    // The fields after the command name (which may hold spaces) start after its `)`.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SEC;
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const TICKS_PER_SEC = 100;

export async function load(spec: LoadSpec): Promise<LoadResult> {
  let peak: number | undefined;
  const cpuBefore = spec.pid === undefined ? undefined : cpuMs(spec.pid);
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
    const cpuAfter = spec.pid === undefined ? undefined : cpuMs(spec.pid);
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
      cpuMsPerRequest:
        cpuBefore === undefined || cpuAfter === undefined
          ? undefined
          : (cpuAfter - cpuBefore) / result.requests.total,
    };
  } finally {
    clearInterval(sampler);
  }
}
