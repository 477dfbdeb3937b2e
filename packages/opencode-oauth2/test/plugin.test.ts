// The plugin's `config` and `auth` hooks, built through the same factory opencode's entry uses
// (createOAuth2Plugin), with a fake plugin input, a real engine over a temp cache dir and the
// testkit's real IdP. The e2e suite runs the same hooks inside the real opencode.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuthHook, Config, Hooks, PluginInput, PluginOptions } from "@opencode-ai/plugin";
import { isOAuth2Error, type LogRecord, TokenEngine } from "@vymalo/oauth2-core";
import {
  confidentialClient,
  publicNativeClient,
  startIdp,
  TestBrowser,
  type TestIdp,
} from "@vymalo/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PLACEHOLDER_API_KEY } from "../src/constants.js";
import { createOAuth2Plugin, type OAuth2PluginDeps } from "../src/plugin.js";
import { events, providerFor, startResourceServer } from "./helpers.js";

type OAuthMethod = Extract<AuthHook["methods"][number], { type: "oauth" }>;
type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

let idp: TestIdp;
beforeAll(async () => {
  idp = await startIdp({
    clients: [
      publicNativeClient("cli"),
      publicNativeClient("other-cli"),
      confidentialClient("svc", "s3cret"),
    ],
  });
});
afterAll(() => idp?.close());

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const headless = () => ({
  issuer: idp.issuer,
  clientId: "svc",
  clientSecret: "s3cret",
  authFlow: "client_credentials",
});
const browser = (clientId = "cli") => ({ issuer: idp.issuer, clientId });
const device = () => ({ issuer: idp.issuer, clientId: "cli", authFlow: "device_code" });

/** opencode's config with each provider managed through `provider.<id>.options.oauth2`. */
function configWith(providers: Record<string, Record<string, unknown>>): Config {
  return {
    provider: Object.fromEntries(
      Object.entries(providers).map(([id, oauth2]) => [
        id,
        { options: { baseURL: "http://127.0.0.1:1/v1", oauth2 } },
      ]),
    ),
  } as Config;
}

/** The plugin as opencode runs it: built, called with its input and options, config hook run. */
async function startPlugin(
  config: Config,
  options?: PluginOptions,
  deps: Partial<OAuth2PluginDeps> = {},
) {
  const cacheDir = await mkdtemp(join(tmpdir(), "oauth2-plugin-"));
  cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
  const records: LogRecord[] = [];
  let engine: TokenEngine | undefined;
  const plugin = createOAuth2Plugin({
    sink: (record) => records.push(record),
    logLevel: "debug",
    // The config a test hands the hook is the user's own, as if read from their files.
    localConfig: (handed) => handed,
    engine: (logger) => {
      engine = new TokenEngine({
        cacheDir,
        logger,
        openBrowser: async () => {
          throw new Error("the plugin must never open a browser itself");
        },
      });
      return engine;
    },
    ...deps,
  });
  // Only `directory` is read, and only when no localConfig is given.
  const hooks: Hooks = await plugin({ directory: cacheDir } as unknown as PluginInput, options);
  await hooks.config?.(config);
  const auth = hooks.auth;
  if (!auth || !engine) throw new Error("the plugin has no auth hook or built no engine");
  const method = (flow: "browser" | "device"): OAuthMethod => {
    const found = auth.methods.filter((m): m is OAuthMethod => m.type === "oauth");
    const picked = found.find((m) => m.label.toLowerCase().includes(flow));
    if (!picked) throw new Error(`no ${flow} method among ${found.map((m) => m.label)}`);
    return picked;
  };
  const loader = async () => {
    const loaded = await auth.loader?.(async () => ({ type: "api", key: PLACEHOLDER_API_KEY }), {
      id: auth.provider,
    } as never);
    return (loaded ?? {}) as { apiKey?: string; fetch?: Fetch };
  };
  return { hooks, auth, engine, records, method, loader };
}

const bearerOf = (headers: { authorization?: string | undefined }) =>
  headers.authorization?.replace(/^Bearer /, "") ?? "";

describe("the auth hook's provider (the one `opencode auth login` offers the logins for)", () => {
  it("is the first provider with an interactive flow, not simply the first one", async () => {
    const { auth } = await startPlugin(
      configWith({ svc: headless(), human: browser(), dev: device() }),
    );
    expect(auth.provider).toBe("human");
  });

  it("is the provider the loginProvider option names", async () => {
    const config = configWith({ svc: headless(), human: browser(), dev: device() });
    const { auth } = await startPlugin(config, { loginProvider: "dev" });
    expect(auth.provider).toBe("dev");
  });

  it("falls back to the first interactive provider when loginProvider names no managed one", async () => {
    const config = configWith({ svc: headless(), human: browser() });
    const { auth } = await startPlugin(config, { loginProvider: "typo" });
    expect(auth.provider).toBe("human");
  });

  it("is the first provider when none is interactive, and the loader's fetch carries its token", async () => {
    const server = await startResourceServer();
    cleanups.push(() => server.close());
    const { auth, loader } = await startPlugin(
      configWith({ first: headless(), second: { ...headless(), scopes: "other" } }),
    );
    expect(auth.provider).toBe("first");

    const loaded = await loader();
    expect(loaded.apiKey).toBe(PLACEHOLDER_API_KEY);
    if (!loaded.fetch) throw new Error("the loader returned no fetch");
    const response = await loaded.fetch(server.url, { method: "POST", body: "{}" });
    expect(response.status).toBe(200);
    const claims = await idp.verifyAccessToken(bearerOf(server.seen[0] ?? {}));
    expect(claims.client_id).toBe("svc");
    expect(claims.scope ?? "").not.toContain("other");
  });

  it("reads providers from the plugin's own options too (the second config shape)", async () => {
    const { auth } = await startPlugin({} as Config, {
      providers: { team: browser("other-cli") },
    });
    expect(auth.provider).toBe("team");
  });

  it("with no managed provider: a placeholder id, an empty loader, and logins that fail with the fix", async () => {
    const { auth, loader, method, records } = await startPlugin(
      configWith({}) as Config,
      undefined,
    );
    expect(auth.provider).toBe("opencode-oauth2");
    expect(await loader()).toEqual({});

    const started = await method("browser").authorize();
    if (started.method !== "auto") throw new Error(`unexpected method ${started.method}`);
    expect(started.instructions).toContain("docs/configuration.md");
    expect(await started.callback()).toEqual({ type: "failed" });
    expect(events(records, "oauth2_login_failed")).toHaveLength(1);
  });
});

describe("the auth hook's logins", () => {
  it("logs in by browser for the login provider; the login returns the placeholder, the loader a fetch with the real token", async () => {
    const server = await startResourceServer();
    cleanups.push(() => server.close());
    const { engine, method, loader, records } = await startPlugin(
      configWith({ svc: headless(), human: browser("other-cli") }),
    );

    const started = await method("browser").authorize();
    if (started.method !== "auto") throw new Error(`unexpected method ${started.method}`);
    const url = new URL(started.url);
    expect(url.origin).toBe(idp.issuer);
    expect(url.searchParams.get("client_id")).toBe("other-cli");
    await new TestBrowser().authorize(started.url, { followCallback: true });
    const result = await started.callback();
    expect(result).toEqual({ type: "success", key: PLACEHOLDER_API_KEY });
    expect(events(records, "oauth2_login_succeeded")).toHaveLength(1);

    const cached = await engine.cached(providerFor("human", browser("other-cli")));
    if (cached.kind !== "ok") throw new Error(`no cached token: ${cached.kind}`);
    // What opencode stores in auth.json is the placeholder, never the token.
    expect(JSON.stringify(result)).not.toContain(cached.token.accessToken);

    const loaded = await loader();
    if (!loaded.fetch) throw new Error("the loader returned no fetch");
    await loaded.fetch(server.url, { method: "POST", body: "{}" });
    const sent = bearerOf(server.seen[0] ?? {});
    expect(sent).toBe(cached.token.accessToken);
    expect((await idp.verifyAccessToken(sent)).client_id).toBe("other-cli");
  });

  it("a login the user denies at the IdP ends as failed, logged with the IdP's error, and caches nothing", async () => {
    const { engine, method, loader, records } = await startPlugin(configWith({ human: browser() }));
    const started = await method("browser").authorize();
    if (started.method !== "auto") throw new Error(`unexpected method ${started.method}`);
    await new TestBrowser().authorize(started.url, { deny: true, followCallback: true });

    expect(await started.callback()).toEqual({ type: "failed" });
    const failed = events(records, "oauth2_login_failed");
    expect(failed).toHaveLength(1);
    expect(JSON.stringify(failed[0])).toContain("access_denied");
    expect((await engine.cached(providerFor("human", browser()))).kind).not.toBe("ok");

    // Without a token, a request fails with the command that fixes it instead of going out bare.
    const loaded = await loader();
    if (!loaded.fetch) throw new Error("the loader returned no fetch");
    const error = await loaded.fetch("http://127.0.0.1:1/v1/chat/completions").catch((e) => e);
    expect(isOAuth2Error(error) && error.code).toBe("login_required");
    expect(String(error.fix)).toContain("opencode-oauth2 login human");
  });

  it("a login whose IdP is down fails at authorize with the endpoint that failed, logged", async () => {
    const down = await startIdp({ clients: [publicNativeClient("cli")] });
    await down.close();
    const { method, records } = await startPlugin(
      configWith({ human: { issuer: down.issuer, clientId: "cli" } }),
    );
    const error = await method("device")
      .authorize()
      .catch((e) => e);
    expect(isOAuth2Error(error)).toBe(true);
    expect(error.code).toBe("idp_unreachable");
    expect(error.message).toContain(down.issuer);
    const failed = events(records, "oauth2_login_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ provider: "human", flow: "device_code" });
  });
});

describe("the config hook", () => {
  it("gets every token at config time and gives opencode only a placeholder key and a fetch: no token in the config (issue 13)", async () => {
    const config = configWith({ svc: headless(), human: browser() });
    const grants = idp.countGrants("client_credentials");
    const { engine, records } = await startPlugin(config);

    // The headless token was fetched now, so the first request finds it in the cache.
    expect(idp.countGrants("client_credentials")).toBe(grants + 1);
    const cached = await engine.cached(providerFor("svc", headless()));
    if (cached.kind !== "ok") throw new Error(`no cached token: ${cached.kind}`);
    expect((await idp.verifyAccessToken(cached.token.accessToken)).client_id).toBe("svc");

    const providers = config.provider as Record<string, { options: Record<string, unknown> }>;
    for (const id of ["svc", "human"]) {
      const options = providers[id]?.options ?? {};
      expect(options.apiKey).toBe(PLACEHOLDER_API_KEY);
      expect(typeof options.fetch).toBe("function");
      expect(options.headers).toBeUndefined();
    }
    // `opencode serve` hands the provider options to whoever asks: the token is nowhere in them,
    // nor in a log record.
    expect(JSON.stringify(config)).not.toContain(cached.token.accessToken);
    expect(JSON.stringify(records)).not.toContain(cached.token.accessToken);
    expect(events(records, "oauth2_plugin_loaded")[0]).toMatchObject({
      providers: ["svc", "human"],
    });
    expect(events(records, "oauth2_bearer_propagated")).toHaveLength(1);
    expect(events(records, "oauth2_bearer_propagation_skipped_login_required")).toHaveLength(1);
  });

  it("logs an invalid oauth2 block with its field and fix and manages the rest", async () => {
    const config = configWith({ broken: { issuer: idp.issuer }, human: browser() });
    const { auth, records } = await startPlugin(config);
    const invalid = events(records, "oauth2_config_invalid");
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({ provider: "broken", field: "clientId" });
    expect(String(invalid[0]?.fix)).not.toBe("");
    expect(auth.provider).toBe("human");
    const providers = config.provider as Record<string, { options: Record<string, unknown> }>;
    expect(providers.broken?.options.fetch).toBeUndefined();
  });

  it("refuses a secret that only a remote layer set, like a .well-known manifest", async () => {
    const config = configWith({ svc: headless() });
    // Nothing of it is in the machine's own config files.
    const { records, auth } = await startPlugin(config, undefined, { localConfig: () => ({}) });
    const invalid = events(records, "oauth2_config_invalid");
    expect(invalid.map((r) => r.provider)).toContain("svc");
    expect(auth.provider).toBe("opencode-oauth2");
    const providers = config.provider as Record<string, { options: Record<string, unknown> }>;
    expect(providers.svc?.options.fetch).toBeUndefined();
  });
});

describe("the plugin entry", () => {
  it("exports functions only: opencode skips a plugin module with any other export", async () => {
    const entry: Record<string, unknown> = await import("../src/index.js");
    const kinds = Object.entries(entry).map(([name, value]) => [name, typeof value]);
    expect(kinds).toEqual([["OAuth2Plugin", "function"]]);
  });
});
