import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningChild, startChild } from "@vymalo/testkit";
import type { BenchIssuer } from "./gateway-issuer.js";

/**
 * What the gateway measurements share (gateway-figure.ts, gateway-memory.ts): the processes
 * they start, the gateway's config, and the request every load run sends.
 */

/** The tiny upstream (gateway-upstream.ts); it prints its port. */
export const UPSTREAM = fileURLToPath(new URL("./gateway-upstream.js", import.meta.url));
const AUDIENCE = "https://llm.bench.test";
const CLIENT = "opencode-cli";

/**
 * Where each process runs. The proxy measured (gateway or pass-through) gets CPU 0 to itself;
 * the upstream and the load generator share CPU 1. Otherwise the three contend for the same
 * cores and the scheduler's time slices, not the proxy, make the tail latencies and move
 * every figure between runs. Pinned with `taskset` (util-linux) where there are two CPUs or
 * more and it runs; else the processes run where the OS puts them, as before.
 */
export type Role = "proxy" | "driver";
const PINNED = availableParallelism() >= 2 && !spawnSync("taskset", ["-c", "0", "true"]).error;
/** The command prefix that pins a process to its role's CPU (empty when not pinned). */
export const pinned = (role: Role): string[] =>
  PINNED ? ["taskset", "-c", role === "proxy" ? "0" : "1"] : [];
/** What the figures say about placement. */
export const placement = (): string =>
  PINNED ? "proxy on CPU 0, upstream and load on CPU 1" : "not pinned";

/** Starts `args` with node and resolves with the port it reports (first line, or the gateway's log). */
export function startWorker(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  role: Role = "driver",
) {
  let resolvePort!: (port: number) => void;
  let found = false;
  const port = new Promise<number>((resolve) => {
    resolvePort = (value) => {
      found = true;
      resolve(value);
    };
  });
  // taskset execs node: the child's pid stays the node process's, for /proc sampling.
  const [command = process.execPath, ...prefix] = [...pinned(role), process.execPath];
  const child: RunningChild = startChild(command, [...prefix, ...args], {
    env,
    onStdout: (out) => {
      if (found) return;
      const line = /^(\d+)\n/.exec(out)?.[1];
      if (line) resolvePort(Number(line));
    },
    onStderr: (err) => {
      // Once listening, the gateway's log (a line per request) is left alone.
      if (found) return;
      const listening = /"event":"gateway_listening"[^\n]*"port":(\d+)/.exec(err)?.[1];
      if (listening) resolvePort(Number(listening));
    },
  });
  const died = child.done.then((r) => {
    throw new Error(`${args.join(" ")} exited (${r.code}) before listening:\n${r.stderr}`);
  });
  return { child, port: Promise.race([port, died]) };
}

/** A chat completion request, as every load run sends it. */
export const BODY = (stream: boolean) =>
  JSON.stringify({
    model: "bench-model",
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Say twenty words." },
    ],
    ...(stream ? { stream: true } : {}),
  });

/**
 * Writes the gateway's config to `dir`/gateway.json (this issuer, this upstream, one model, any
 * free port on loopback) and returns it with the headers of a request carrying a valid token.
 */
export async function gatewaySetup(dir: string, issuer: BenchIssuer, upstreamOrigin: string) {
  const config = join(dir, "gateway.json");
  await writeFile(
    config,
    JSON.stringify({
      publicUrl: "http://127.0.0.1",
      issuer: issuer.issuer,
      audiences: [AUDIENCE],
      upstream: { baseURL: `${upstreamOrigin}/v1` },
      models: [{ id: "bench-model", context_length: 8192 }],
      oauth2: { clientId: CLIENT },
      listen: { host: "127.0.0.1", port: 0 },
    }),
  );
  const headers = {
    authorization: `Bearer ${issuer.token({ audience: AUDIENCE, client: CLIENT, sub: "bench-user" })}`,
    "content-type": "application/json",
  };
  return { config, headers };
}
