import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startBenchIssuer } from "./gateway-issuer.js";
import { load, loadGenerator } from "./gateway-load.js";
import { BODY, gatewaySetup, startWorker, UPSTREAM } from "./gateway-setup.js";
import { median } from "./stats.js";

/**
 * What the gateway's resident memory is made of, and how builds or settings compare
 * (docs/performance.md, "Memory"). Not part of `pnpm bench`: a tool for a before/after.
 *
 *   node dist/gateway-memory.js [--rounds 3] [--seconds 3] [name=/path/to/main.js[,ENV=value]...]
 *
 * Each variant (default: the workspace build) is the gateway's bin with the bench's config,
 * token and upstream (gateway-figure.ts), in a fresh process per run, measured idle 1 s after
 * it listens, after its first `/v1` call (discovery and JWKS), after one own route, and at its
 * peak under load; variants interleaved, the order alternating each round. Linux only (/proc).
 */

const WORKSPACE_BIN = fileURLToPath(
  new URL("./main.js", import.meta.resolve("@vymalo/opencode-gateway")),
);
const PROBE = fileURLToPath(new URL("./gateway-memory-probe.js", import.meta.url));

interface Variant {
  name: string;
  bin: string;
  env: Record<string, string>;
}

/** `name=/path/main.js,ENV=value` */
function variantOf(arg: string): Variant {
  const [name = "", rest = ""] = arg.split(/=(.*)/s);
  const [bin = "", ...env] = rest.split(",");
  if (!name || !bin) throw new Error(`expected name=/path/to/main.js[,ENV=value], got ${arg}`);
  return { name, bin, env: Object.fromEntries(env.map((e) => e.split(/=(.*)/s))) };
}

const statusRss = async (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

/** RSS by mapping: the node binary's pages, anonymous memory, malloc's heap, other files. */
async function mappings(pid: number): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  let kind = "";
  for (const line of (await readFile(`/proc/${pid}/smaps`, "utf8")).split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const file = head[1] ?? "";
      kind =
        file === ""
          ? "anon"
          : file === process.execPath
            ? "node binary"
            : file.startsWith("[")
              ? file
              : "other files";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)?.[1];
    if (rss) sums[kind] = (sums[kind] ?? 0) + Number(rss) / 1024;
  }
  return sums;
}

const { values, positionals } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, seconds: { type: "string", default: "3" } },
  allowPositionals: true,
});
const variants = positionals.length
  ? positionals.map(variantOf)
  : [{ name: "workspace", bin: WORKSPACE_BIN, env: {} }];
const dir = await mkdtemp(join(tmpdir(), "bench-gateway-memory-"));
const issuer = await startBenchIssuer();
const upstream = startWorker([UPSTREAM]);
try {
  const upstreamOrigin = `http://127.0.0.1:${await upstream.port}`;
  const { config, headers } = await gatewaySetup(dir, issuer, upstreamOrigin);
  const body = BODY(false);
  const generator = loadGenerator();
  console.log(`load: ${generator}, 32 connections, ${values.seconds} s per run`);
  const rows = new Map<string, Record<string, number>[]>();
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const variant of round % 2 ? [...variants].reverse() : variants) {
      const report = join(dir, `${variant.name}-${round}.json`);
      const gateway = startWorker(
        ["--expose-gc", "--import", PROBE, variant.bin, "--config", config],
        {
          PATH: process.env.PATH ?? "",
          GATEWAY_MEMORY_REPORT: report,
          ...variant.env,
        },
      );
      try {
        const base = `http://127.0.0.1:${await gateway.port}`;
        const pid = gateway.child.child.pid as number;
        const probe = async () => {
          process.kill(pid, "SIGUSR2");
          await sleep(500);
          return JSON.parse(await readFile(report, "utf8")) as Record<string, unknown>;
        };
        await sleep(1000);
        const idle = await statusRss(pid);
        const idleHeap = await probe();
        const idleMaps = await mappings(pid);
        const first = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers, body });
        await first.text();
        if (first.status !== 200) throw new Error(`${variant.name}: /v1 answered ${first.status}`);
        await sleep(500);
        const afterV1 = await statusRss(pid);
        await (await fetch(`${base}/.well-known/opencode`)).text();
        await sleep(500);
        const afterOwn = await statusRss(pid);
        const run = await load(
          {
            url: `${base}/v1/chat/completions`,
            connections: 32,
            seconds: Number(values.seconds),
            headers,
            body,
            pid,
          },
          generator,
        );
        const loadedHeap = await probe();
        const loadedMaps = await mappings(pid);
        const row = {
          idle,
          afterV1,
          afterOwn,
          peak: run.peakRssMiB ?? 0,
          reqPerSec: run.reqPerSec,
        };
        rows.set(variant.name, [...(rows.get(variant.name) ?? []), row]);
        const maps = (m: Record<string, number>) =>
          Object.entries(m)
            .filter(([, v]) => v >= 0.1)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `${k} ${v.toFixed(1)}`)
            .join(", ");
        console.log(
          `${variant.name} round ${round + 1}: ${JSON.stringify(row, (_, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))}`,
        );
        console.log(`  idle:   ${JSON.stringify(idleHeap)}; ${maps(idleMaps)}`);
        console.log(`  loaded: ${JSON.stringify(loadedHeap)}; ${maps(loadedMaps)}`);
      } finally {
        gateway.child.kill("SIGKILL");
        await gateway.child.done.catch(() => undefined);
      }
    }
  }
  console.log("\nmedians, MiB (RSS):");
  for (const [name, list] of rows) {
    const m = (key: string) => median(list.map((r) => r[key] ?? 0)).toFixed(1);
    console.log(
      `${name}: idle ${m("idle")}, after the first /v1 call ${m("afterV1")}, after an own route ${m("afterOwn")}, peak under load ${m("peak")} (${m("reqPerSec")} req/s)`,
    );
  }
} finally {
  upstream.child.kill("SIGTERM");
  await upstream.child.done.catch(() => undefined);
  await issuer.close();
  await rm(dir, { recursive: true, force: true });
}
