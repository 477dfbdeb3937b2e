import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type IdpOptions, startIdp, TestBrowser, type TestIdp } from "@vymalo/testkit";
import { parseProviderConfig } from "../src/config/collect.js";
import type { ProviderConfig } from "../src/config/schema.js";
import { type EngineOptions, TokenEngine } from "../src/engine.js";
import { OAuth2Error } from "../src/errors.js";
import { createLogger, type LogRecord } from "../src/log.js";

/** Everything a protocol test needs, all real and all torn down by `close()`. */
export interface Harness {
  idp: TestIdp;
  cacheDir: string;
  records: LogRecord[];
  browser: TestBrowser;
  engine(options?: Partial<EngineOptions>): TokenEngine;
  provider(raw: Record<string, unknown>, id?: string): ProviderConfig;
  close(): Promise<void>;
}

export async function harness(options: IdpOptions = {}): Promise<Harness> {
  const idp = await startIdp(options);
  const cacheDir = await mkdtemp(join(tmpdir(), "oauth2-core-"));
  const records: LogRecord[] = [];
  const browser = new TestBrowser();
  return {
    idp,
    cacheDir,
    records,
    browser,
    engine: (extra = {}) =>
      new TokenEngine({
        cacheDir,
        logger: createLogger({ sink: (r) => records.push(r), level: "debug" }),
        // The test browser plays the user: it logs in, consents and follows the redirect to
        // the engine's loopback listener.
        openBrowser: async (url) => {
          void browser.authorize(url, { followCallback: true }).catch(() => {});
          return true;
        },
        ...extra,
      }),
    provider: (raw, id = "corp") => {
      const parsed = parseProviderConfig(id, { issuer: idp.issuer, ...raw });
      if (!("config" in parsed)) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
      return parsed.config;
    },
    close: async () => {
      await idp.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

/** Events of a given name, in order. */
export const eventsNamed = (records: LogRecord[], event: string) =>
  records.filter((r) => r.event === event);

/** Awaits `promise`, which must reject with an OAuth2Error, and returns that error. */
export async function oauth2ErrorOf(promise: Promise<unknown>): Promise<OAuth2Error> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (err) {
    if (err instanceof OAuth2Error) return err;
    throw err;
  }
  throw new Error(`expected an OAuth2Error, got ${JSON.stringify(outcome)}`);
}
