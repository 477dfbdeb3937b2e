import { confidentialClient, publicNativeClient, startIdp } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { PLACEHOLDER_API_KEY } from "../src/constants.js";
import { propagateBearers } from "../src/propagate.js";
import { events, providerFor, tempEngine } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe("config-time propagation", () => {
  it("ensures every token at once, skips with the reason, and never waits past httpTimeoutMs", async () => {
    const healthy = await startIdp({
      clients: [confidentialClient("svc", "s"), publicNativeClient("cli")],
    });
    const slow = await startIdp({ clients: [confidentialClient("svc", "s")] });
    const down = await startIdp({ clients: [confidentialClient("svc", "s")] });
    await down.close();
    const env = await tempEngine();
    cleanups.push(
      () => healthy.close(),
      () => slow.close(),
      env.cleanup,
    );
    slow.setTokenDelay(5_000);
    const headless = {
      clientId: "svc",
      clientSecret: "s",
      authFlow: "client_credentials",
      httpTimeoutMs: 800,
    };
    const providers = {
      ok: providerFor("ok", { issuer: healthy.issuer, ...headless }),
      human: providerFor("human", { issuer: healthy.issuer, clientId: "cli", httpTimeoutMs: 800 }),
      slow: providerFor("slow", { issuer: slow.issuer, ...headless }),
      down: providerFor("down", { issuer: down.issuer, ...headless }),
      mine: providerFor("mine", { issuer: healthy.issuer, ...headless }),
    };
    const config = {
      provider: {
        ok: { options: { baseURL: "http://127.0.0.1:1/v1" } },
        mine: { options: { headers: { authorization: "Bearer my-own" } } },
      },
    };
    const started = Date.now();
    const outcomes = await propagateBearers({
      config,
      providers,
      engine: env.engine,
      logger: env.logger,
    });
    const elapsed = Date.now() - started;

    expect(outcomes).toEqual({
      ok: "propagated",
      human: "skipped_login_required",
      slow: "skipped_timeout",
      down: "skipped_idp_unreachable",
      mine: "skipped_header_present",
    });
    // All at once: bounded by one timeout, not the sum of them.
    expect(elapsed).toBeLessThan(2_500);
    const ok = config.provider.ok.options as Record<string, unknown>;
    // The token was fetched at config time: the first request finds it in the cache.
    const grants = healthy.countGrants("client_credentials");
    const warmed = await env.engine.ensureAccessToken(providers.ok, { interactive: false });
    expect(healthy.countGrants("client_credentials")).toBe(grants);
    if (warmed.status !== "ok") throw new Error(`no token for "ok": ${warmed.status}`);
    expect((await healthy.verifyAccessToken(warmed.accessToken)).client_id).toBe("svc");
    // …and it is nowhere in the config, which `opencode serve` hands to anyone who asks.
    expect(JSON.stringify(config)).not.toContain(warmed.accessToken);
    expect(ok.headers).toBeUndefined();
    expect(ok.apiKey).toBe(PLACEHOLDER_API_KEY);
    expect(typeof ok.fetch).toBe("function");
    expect(ok.baseURL).toBe("http://127.0.0.1:1/v1");
    // Providers only named in plugin options get an entry too.
    const human = (config.provider as Record<string, { options: Record<string, unknown> }>).human;
    expect(human?.options.apiKey).toBe(PLACEHOLDER_API_KEY);
    // The user's own header is left exactly as written.
    expect(config.provider.mine.options.headers).toEqual({ authorization: "Bearer my-own" });
    expect(
      events(env.records, "oauth2_bearer_propagation_skipped_login_required")[0],
    ).toMatchObject({
      provider: "human",
      command: "opencode-oauth2 login human",
    });
    expect(events(env.records, "oauth2_bearer_propagation_skipped_timeout")[0]).toMatchObject({
      provider: "slow",
      timeoutMs: 800,
    });
    expect(
      events(env.records, "oauth2_bearer_propagation_skipped_idp_unreachable")[0],
    ).toMatchObject({ provider: "down" });
  });
});
