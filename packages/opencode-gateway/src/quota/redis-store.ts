import type { Redis } from "ioredis";
import { describeError } from "../error-cause.js";
import { ADD, TAKE } from "./scripts.js";
import type { QuotaStore } from "./store.js";

/**
 * Counters in a Redis that every replica shares, changed only by the atomic scripts in
 * scripts.ts. A call never waits for a Redis that is down: commands are not queued while the
 * connection is lost (they fail at once and the quota's failMode decides), each one is bounded
 * by `timeoutMs`, and the client reconnects in the background. It connects when the gateway
 * starts (`open`; a gateway that only checks its config opens no connection), and only that
 * first connection is waited for (up to its connect timeout), so the first calls are counted.
 */

export class QuotaStoreUnavailable extends Error {
  readonly error_code: string | undefined;
  constructor(detail: string, code?: string) {
    super(detail);
    this.name = "QuotaStoreUnavailable";
    this.error_code = code;
  }
}

type Script = (...args: Array<string | number>) => Promise<unknown>;

export function redisQuotaStore(options: {
  url: string;
  prefix: string;
  timeoutMs: number;
}): QuotaStore {
  let client: Redis | undefined;
  let lastError: { error_code?: string; detail: string } | undefined;
  let firstConnection: Promise<void> | undefined;
  const connectTimeout = Math.max(options.timeoutMs, 1000);
  // ioredis is loaded with the first call: a gateway without quota.redis never loads it.
  const connected = () => {
    firstConnection ??= import("ioredis").then(
      ({ Redis }) =>
        new Promise<void>((resolve) => {
          const created = new Redis(options.url, {
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            commandTimeout: options.timeoutMs,
            connectTimeout,
            // Reconnect for ever, at most every 2 s: the gateway outlives a Redis restart.
            retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
            lazyConnect: true,
          });
          // Without a listener, ioredis prints every connection error to the console.
          created.on("error", (error: unknown) => {
            lastError = describeError(error);
          });
          created.on("ready", () => {
            lastError = undefined;
          });
          created.defineCommand("quotaTake", { lua: TAKE });
          created.defineCommand("quotaAdd", { lua: ADD });
          client = created;
          setTimeout(resolve, connectTimeout).unref();
          // Settles on ready or on the first failure; the client keeps retrying either way.
          created.connect().then(resolve, resolve);
        }),
    );
    return firstConnection;
  };
  const key = (name: string) => `${options.prefix}${name}`;

  const run = async (
    script: "quotaTake" | "quotaAdd",
    args: Array<string | number>,
  ): Promise<unknown> => {
    await connected();
    if (client?.status !== "ready") {
      throw new QuotaStoreUnavailable(
        `redis is ${client?.status ?? "not loaded"}${lastError ? `: ${lastError.detail}` : ""}`,
        lastError?.error_code,
      );
    }
    const scripts = client as unknown as Record<typeof script, Script>;
    try {
      return await scripts[script](...args);
    } catch (error) {
      const { detail, error_code } = describeError(error);
      throw new QuotaStoreUnavailable(detail, error_code);
    }
  };

  return {
    async take(counters) {
      const reply = (await run("quotaTake", [
        counters.length,
        ...counters.map((c) => key(c.key)),
        ...counters.flatMap((c) => [c.limit, c.windowMs, c.cost]),
      ])) as number[];
      return {
        admitted: reply[0] === 1,
        states: counters.map((_, i) => ({
          used: Number(reply[1 + 2 * i]),
          resetMs: Number(reply[2 + 2 * i]),
        })),
      };
    },
    async add(entries) {
      if (entries.length === 0) return;
      await run("quotaAdd", [
        entries.length,
        ...entries.map((e) => key(e.key)),
        ...entries.flatMap((e) => [e.amount, e.windowMs]),
      ]);
    },
    open: connected,
    async close() {
      client?.disconnect();
    },
  };
}
