import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunningChild } from "@vymalo/testkit";
import { startBenchIssuer } from "./gateway-issuer.js";
import { type LoadGenerator, type LoadResult, load, loadGenerator } from "./gateway-load.js";
import { BODY, gatewaySetup, pinned, placement, startWorker, UPSTREAM } from "./gateway-setup.js";
import { median } from "./stats.js";
import type { Figure } from "./table.js";

/**
 * The gateway under load, side by side with the same fast upstream called directly and through
 * the plainest `node:http` reverse proxy (gateway-passthrough.ts), non-streaming and streaming:
 * requests/s, p50 and p99 to the last byte, and the gateway's peak RSS; then the gateway and the
 * pass-through loaded at the same time, for their CPU per request side by side. Each target is its own
 * process; the gateway is the built bin, logging at its default level as users run it. Every
 * request carries a valid RS256 token (the same one: a user's token is reused for its lifetime).
 */

/** The gateway's bin: the workspace build, or another build to compare (`BENCH_GATEWAY_BIN`). */
const GATEWAY_BIN =
  process.env.BENCH_GATEWAY_BIN ??
  fileURLToPath(new URL("./main.js", import.meta.resolve("@vymalo/opencode-gateway")));
const PASSTHROUGH = fileURLToPath(new URL("./gateway-passthrough.js", import.meta.url));

interface Target {
  name: "gateway" | "pass-through" | "direct";
  url: string;
  pid: number | undefined;
}

export async function gatewayFigures(options: {
  seconds: number;
  rounds: number;
  connections: number;
}): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), "bench-gateway-"));
  const issuer = await startBenchIssuer();
  const children: RunningChild[] = [];
  try {
    const upstream = startWorker([UPSTREAM]);
    children.push(upstream.child);
    const upstreamOrigin = `http://127.0.0.1:${await upstream.port}`;
    const passthrough = startWorker([PASSTHROUGH, upstreamOrigin], process.env, "proxy");
    children.push(passthrough.child);
    const { config, headers } = await gatewaySetup(dir, issuer, upstreamOrigin);
    const gateway = startWorker(
      [GATEWAY_BIN, "--config", config],
      { PATH: process.env.PATH ?? "" },
      "proxy",
    );
    children.push(gateway.child);
    const targets: Target[] = [
      {
        name: "gateway",
        url: `http://127.0.0.1:${await gateway.port}`,
        pid: gateway.child.child.pid,
      },
      {
        name: "pass-through",
        url: `http://127.0.0.1:${await passthrough.port}`,
        pid: passthrough.child.child.pid,
      },
      { name: "direct", url: upstreamOrigin, pid: undefined },
    ];
    const refused = await fetch(`${targets[0]?.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...headers, authorization: "Bearer not.a.token" },
      body: BODY(false),
    });
    if (refused.status !== 401)
      throw new Error(`the gateway answered ${refused.status} to a bad token`);

    const figures: Figure[] = [];
    const generator = loadGenerator();
    // This process reads the targets' logs and, with autocannon, makes the load: it belongs
    // with the driver, off the proxy's CPU (all its threads: -a).
    if (pinned("driver").length > 0) spawnSync("taskset", ["-a", "-cp", "1", String(process.pid)]);
    let peakRss = 0;
    let passThroughRss = 0;
    for (const stream of [false, true]) {
      const runs = new Map<Target["name"], LoadResult[]>();
      const spec = (target: Target, seconds: number) => ({
        url: `${target.url}/v1/chat/completions`,
        connections: options.connections,
        seconds,
        headers,
        body: BODY(stream),
        pid: target.pid,
      });
      // Warm up: the gateway's first request fetches the keys; then let the JIT see the path.
      for (const target of targets) {
        for (let i = 0; i < 50; i += 1) {
          const answer = await fetch(spec(target, 0).url, {
            method: "POST",
            headers,
            body: BODY(stream),
          });
          await answer.arrayBuffer();
          if (answer.status !== 200) throw new Error(`${target.name} answered ${answer.status}`);
        }
      }
      for (let round = 0; round < options.rounds; round += 1) {
        for (let i = 0; i < targets.length; i += 1) {
          const target = targets[(round + i) % targets.length] as Target;
          const result = await load(spec(target, options.seconds), generator);
          runs.set(target.name, [...(runs.get(target.name) ?? []), result]);
          const rss = result.peakRssMiB ?? 0;
          if (target.name === "gateway") peakRss = Math.max(peakRss, rss);
          if (target.name === "pass-through") passThroughRss = Math.max(passThroughRss, rss);
        }
      }
      // Side by side: the gateway and the pass-through loaded at the same time, both on the
      // proxy's CPU, so whatever else the host runs meanwhile slows both alike. Their CPU per
      // request then compares within a few percent from run to run, where runs one after the
      // other move by tens of percent on a shared host.
      const gatewayTarget = targets[0] as Target;
      const passTarget = targets[1] as Target;
      const sideBySide: number[] = [];
      for (let round = 0; round < options.rounds; round += 1) {
        const [gw, pt] = await Promise.all([
          load(spec(gatewayTarget, options.seconds), generator),
          load(spec(passTarget, options.seconds), generator),
        ]);
        if (gw.cpuMsPerRequest !== undefined && pt.cpuMsPerRequest !== undefined) {
          sideBySide.push(gw.cpuMsPerRequest / pt.cpuMsPerRequest);
        }
      }
      figures.push(
        ...modeFigures(stream ? "streaming" : "non-streaming", runs, {
          ...options,
          generator,
          sideBySide,
        }),
      );
    }
    figures.push({
      name: "gateway RSS under load, MiB (peak)",
      value: peakRss,
      kind: "count",
      goal: { op: "≤", target: 100 },
      detail: `VmRSS sampled every 100 ms during every run; the pass-through's peak: ${Math.round(passThroughRss)} MiB`,
    });
    return figures;
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => c.done.catch(() => undefined)));
    await issuer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function modeFigures(
  mode: string,
  runs: Map<Target["name"], LoadResult[]>,
  options: {
    seconds: number;
    rounds: number;
    connections: number;
    generator: LoadGenerator;
    /** Gateway / pass-through CPU per request, one ratio per side-by-side round. */
    sideBySide: number[];
  },
): Figure[] {
  const of = (name: Target["name"]) => {
    const list = runs.get(name) ?? [];
    return {
      rps: median(list.map((r) => r.reqPerSec)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      cpu: median(list.map((r) => r.cpuMsPerRequest ?? Number.NaN)),
    };
  };
  const gw = of("gateway");
  const pt = of("pass-through");
  const direct = of("direct");
  const fmt = (t: { rps: number; p50: number; p99: number }) =>
    `${Math.round(t.rps)} req/s, p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms`;
  const samples = `${options.rounds}×${options.seconds} s each, ${options.connections} connections, ${options.generator}, ${placement()}`;
  return [
    {
      name: `gateway / pass-through, req/s, ${mode}`,
      value: gw.rps / pt.rps,
      kind: "ratio",
      goal: { op: "≥", target: 0.9 },
      detail: `gateway ${fmt(gw)}; pass-through ${fmt(pt)}; ${samples}`,
    },
    {
      name: `gateway / pass-through, CPU per request, side by side, ${mode}`,
      value: median(options.sideBySide),
      kind: "ratio",
      goal: { op: "≤", target: 1.11 },
      detail: `both loaded at once on the proxy's CPU, ${options.sideBySide.length}×${options.seconds} s: ${options.sideBySide.map((r) => r.toFixed(2)).join(", ")}`,
    },
    {
      name: `  gateway / pass-through, CPU per request, one after the other, ${mode}`,
      value: gw.cpu / pt.cpu,
      kind: "ratio",
      detail: `${(gw.cpu * 1000).toFixed(0)} µs / ${(pt.cpu * 1000).toFixed(0)} µs of the proxy process's CPU per request, from the runs above`,
    },
    {
      name: `  direct upstream / pass-through, req/s, ${mode}`,
      value: direct.rps / pt.rps,
      kind: "ratio",
      detail: `direct ${fmt(direct)}`,
    },
    {
      name: `gateway p99 / p50, ${mode}`,
      value: gw.p99 / gw.p50,
      kind: "ratio",
      goal: { op: "≤", target: 2 },
      detail: `pass-through: ${(pt.p99 / pt.p50).toFixed(2)}`,
    },
  ];
}
