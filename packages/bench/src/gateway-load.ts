import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { pinned } from "./gateway-setup.js";

/**
 * One load run: a fixed number of connections for a fixed time, every request the same. It
 * fails when any answer is not 2xx (a target that refuses is not fast, it is broken). While it
 * runs, the RSS of `pid` is sampled, and its peak is reported, and the CPU time `pid` spent is
 * divided by the requests answered: unlike requests/s, that does not move when other tenants
 * of the machine take the cores.
 *
 * The load comes from wrk (Debian's `wrk`) when it is installed, else from autocannon. wrk is
 * C and takes a fraction of the CPU autocannon does on a machine the targets share, and its
 * latencies are not stretched by a JavaScript event loop and garbage collector of its own: the
 * tail figures are the target's. The generator used is printed with the figures.
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

export type LoadGenerator = "wrk" | "autocannon";

/** wrk when it runs here, else autocannon (`BENCH_LOAD=autocannon` forces it). */
export function loadGenerator(): LoadGenerator {
  if (process.env.BENCH_LOAD === "autocannon") return "autocannon";
  return spawnSync("wrk", ["--version"]).error ? "autocannon" : "wrk";
}

interface Counted {
  requests: number;
  failed: number;
  /** Latencies in ms. */
  p50: number;
  p99: number;
  failure: string;
}

async function withAutocannon(spec: LoadSpec): Promise<Counted> {
  const result = await autocannon({
    url: spec.url,
    method: "POST",
    connections: spec.connections,
    duration: spec.seconds,
    headers: spec.headers,
    body: spec.body,
  });
  return {
    requests: result.requests.total,
    failed: result.non2xx + result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failure: `${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
  };
}

/** A wrk latency (`812.00us`, `3.41ms`, `1.02s`) in ms. */
function wrkMs(output: string, percentile: string): number {
  const found = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(output);
  if (!found) throw new Error(`wrk printed no ${percentile}% latency:\n${output}`);
  const value = Number(found[1]);
  return found[2] === "us" ? value / 1000 : found[2] === "s" ? value * 1000 : value;
}

async function withWrk(spec: LoadSpec): Promise<Counted> {
  const dir = mkdtempSync(join(tmpdir(), "bench-wrk-"));
  try {
    // The request as a Lua script: wrk's own way to send a body and headers.
    const script = join(dir, "request.lua");
    const lines = [
      `wrk.method = "POST"`,
      `wrk.body = ${JSON.stringify(spec.body)}`,
      ...Object.entries(spec.headers).map(
        ([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`,
      ),
    ];
    writeFileSync(script, `${lines.join("\n")}\n`);
    const args = ["-t1", `-c${spec.connections}`, `-d${spec.seconds}s`, "--latency"];
    const [command = "wrk", ...prefix] = [...pinned("driver"), "wrk"];
    const output = await new Promise<string>((resolve, reject) =>
      execFile(command, [...prefix, ...args, "-s", script, spec.url], (error, stdout, stderr) =>
        error ? reject(new Error(`wrk failed: ${stderr || error.message}`)) : resolve(stdout),
      ),
    );
    const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? 0);
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
    const errors = /Socket errors: (.*)/.exec(output)?.[1];
    return {
      requests,
      failed: non2xx + (errors ? 1 : 0),
      p50: wrkMs(output, "50"),
      p99: wrkMs(output, "99"),
      failure: `${non2xx} non-2xx${errors ? `, socket errors: ${errors}` : ""}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function load(spec: LoadSpec, generator: LoadGenerator): Promise<LoadResult> {
  let peak: number | undefined;
  const cpuBefore = spec.pid === undefined ? undefined : cpuMs(spec.pid);
  const sample = () => {
    const now = spec.pid === undefined ? undefined : rssMiB(spec.pid);
    if (now !== undefined) peak = Math.max(peak ?? 0, now);
  };
  const sampler = setInterval(sample, 100);
  try {
    const result = generator === "wrk" ? await withWrk(spec) : await withAutocannon(spec);
    sample();
    const cpuAfter = spec.pid === undefined ? undefined : cpuMs(spec.pid);
    if (result.failed > 0 || result.requests === 0) {
      throw new Error(`${spec.url}: ${result.failure} of ${result.requests}`);
    }
    return {
      reqPerSec: result.requests / spec.seconds,
      p50: result.p50,
      p99: result.p99,
      requests: result.requests,
      peakRssMiB: peak,
      cpuMsPerRequest:
        cpuBefore === undefined || cpuAfter === undefined
          ? undefined
          : (cpuAfter - cpuBefore) / result.requests,
    };
  } finally {
    clearInterval(sampler);
  }
}
