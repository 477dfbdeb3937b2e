import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type IdpOptions,
  publicNativeClient,
  startIdp,
  TestBrowser,
  type TestIdp,
} from "@vymalo/testkit";
import { parseProviderConfig } from "../src/config/parse.js";
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

export interface LoggedInOptions extends IdpOptions {
  /** Access token lifetime, seconds (default 300). */
  ttl?: number;
  rotate?: boolean;
  /** Extra provider config. */
  provider?: Record<string, unknown>;
  engine?: Partial<EngineOptions>;
}

/**
 * A harness with the public client "cli" logged in (tokenExpirySkewMs 30 s) and an engine whose
 * clock `advance` moves forward.
 */
export async function loggedIn(options: LoggedInOptions = {}) {
  const { ttl, rotate, provider: raw, engine: engineOptions, ...idpOptions } = options;
  const h = await harness({
    clients: [publicNativeClient("cli")],
    accessTokenTtl: ttl ?? 300,
    rotateRefreshToken: rotate ?? true,
    ...idpOptions,
  });
  let clockOffset = 0;
  const engine = h.engine({ now: () => Date.now() + clockOffset, ...engineOptions });
  const provider = h.provider({
    clientId: "cli",
    scopes: "openid offline_access",
    tokenExpirySkewMs: 30_000,
    ...raw,
  });
  const first = await engine.login(provider);
  return {
    h,
    engine,
    provider,
    first,
    advance: (ms: number) => {
      clockOffset += ms;
    },
  };
}
