import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLogger,
  type LogRecord,
  type ProviderConfig,
  parseProviderConfig,
  TokenEngine,
} from "@vymalo/oauth2-core";
import { startFakeLlm } from "@vymalo/testkit";
import { PLUGIN_EVENTS } from "../src/events.js";

export async function tempEngine(
  options: { openBrowser?: (url: string) => Promise<boolean> } = {},
) {
  const cacheDir = await mkdtemp(join(tmpdir(), "plugin-"));
  const records: LogRecord[] = [];
  const logger = createLogger({
    sink: (r) => records.push(r),
    level: "debug",
    events: PLUGIN_EVENTS,
  });
  const engine = new TokenEngine({
    cacheDir,
    logger,
    openBrowser:
      options.openBrowser ??
      (async () => {
        throw new Error("propagation must never open a browser");
      }),
  });
  return {
    engine,
    logger,
    records,
    cacheDir,
    cleanup: () => rm(cacheDir, { recursive: true, force: true }),
  };
}

export function providerFor(id: string, raw: Record<string, unknown>): ProviderConfig {
  const parsed = parseProviderConfig(id, raw);
  if (!("config" in parsed)) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
  return parsed.config;
}

/**
 * The model server a provider's requests go to: the testkit's fake LLM, open to any token (it
 * records the Authorization header the bearer fetch set), answering 401 on demand.
 */
export async function startResourceServer() {
  const llm = await startFakeLlm({ models: ["m"] });
  return {
    url: `${llm.baseURL}/chat/completions`,
    get seen() {
      return llm.requests.map((r) => r.headers);
    },
    get bodies() {
      return llm.requests.map((r) => r.rawBody);
    },
    failNext: (n: number) => llm.failNextWith401(n),
    close: () => llm.close(),
  };
}

export const events = (records: LogRecord[], name: string) =>
  records.filter((r) => r.event === name);
