// The real opencode with both plugins, four providers, each on its own IdP, each IdP broken a
// different way on discovery and on the token endpoint: an HTML page, invalid JSON, a 500, a
// hang. opencode must still start — the hanging IdP never answers, so a start that ends by
// itself was ended by the configured bound, and the log says which — and its log must name
// each provider's reason. The
// models-info plugin asks for the same tokens after the oauth2 plugin (opencode runs their
// config hooks one after the other): it must join the pending attempt, not wait a second time.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  confidentialClient,
  type FailureMode,
  type ModelsServer,
  type OpencodeHome,
  runOpencode,
  startIdp,
  startModelsServer,
  type TestIdp,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { home, MODELS_INFO_PLUGIN, managedProvider, OAUTH2_PLUGIN } from "./fixtures.js";

// Generous for a loaded 2-core machine: a healthy IdP must never reach it (at 1.5 s the first
// start's healthy propagation was cut short under load), the hanging one always does.
const HTTP_TIMEOUT_MS = 8000;
/** Far beyond a start plus the bound; only a start the hanging IdP holds runs into it. */
const RUN_LIMIT_MS = 90_000;
/** Provider id → how its IdP fails, and the propagation outcome the log must name. */
const CASES: Array<{ id: string; mode: FailureMode; events: string[] }> = [
  { id: "html", mode: "html", events: ["oauth2_bearer_propagation_skipped_idp_error"] },
  { id: "badjson", mode: "invalid-json", events: ["oauth2_bearer_propagation_skipped_idp_error"] },
  { id: "err500", mode: "500", events: ["oauth2_bearer_propagation_skipped_idp_error"] },
  {
    id: "hang",
    mode: "hang",
    // Either the IdP request timed out (1 s at the HTTP client) or the start's bound did.
    events: [
      "oauth2_bearer_propagation_skipped_timeout",
      "oauth2_bearer_propagation_skipped_idp_unreachable",
    ],
  },
];

const idps = new Map<string, TestIdp>();
let models: ModelsServer;
let h: OpencodeHome;
let scratch: string;

beforeAll(async () => {
  for (const c of CASES) {
    idps.set(c.id, await startIdp({ clients: [confidentialClient("svc", "svc-secret")] }));
  }
  models = await startModelsServer({ document: { data: [{ id: "demo-model" }] } });
  // The model server is never called by `opencode models`: a closed loopback port will do.
  const llm = { baseURL: "http://127.0.0.1:9/v1" };
  h = await home({
    plugin: [OAUTH2_PLUGIN, MODELS_INFO_PLUGIN],
    provider: Object.fromEntries(
      CASES.map((c) => [
        c.id,
        managedProvider(
          llm,
          {
            issuer: idps.get(c.id)?.issuer,
            clientId: "svc",
            clientSecret: "svc-secret",
            authFlow: "client_credentials",
            httpTimeoutMs: HTTP_TIMEOUT_MS,
          },
          {
            // Another origin than baseURL: "always" makes models-info ask for the token.
            meta: { modelsInfoUrl: `${models.baseURL}/models-info.json`, modelsInfoAuth: "always" },
          },
        ),
      ]),
    ),
  });
  scratch = await mkdtemp(join(tmpdir(), "e2e-faults-"));
});

afterAll(async () => {
  for (const idp of idps.values()) {
    idp.setFailure(null);
    await idp.close();
  }
  await models?.close();
  await h?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** `opencode models html --print-logs` with its own, empty token cache. */
function start(cache: string) {
  return runOpencode(h, ["models", "html", "--print-logs"], {
    timeoutMs: RUN_LIMIT_MS,
    extraEnv: { OPENCODE_OAUTH2_CACHE_DIR: join(scratch, cache) },
  });
}

/** The log lines (stderr, via --print-logs) that carry `event` for `provider`. */
function linesFor(stderr: string, provider: string, events: string[]): string[] {
  return stderr
    .split("\n")
    .filter((line) => events.some((e) => line.includes(e)))
    .filter((line) => new RegExp(`provider[=:"\\s]+"?${provider}\\b`).test(line));
}

describe("opencode starts when every IdP is broken, each in its own way", () => {
  it("starts, bounded by httpTimeoutMs and not by the hanging IdP, and the log names each provider's reason", async () => {
    // Healthy first: every provider gets its token, so what fails below is the IdPs' doing.
    const healthy = await start("healthy");
    expect(healthy.code, healthy.stderr).toBe(0);
    for (const c of CASES) {
      expect(linesFor(healthy.stderr, c.id, ["oauth2_bearer_propagated"]), c.id).toHaveLength(1);
    }

    for (const c of CASES) idps.get(c.id)?.setFailure(c.mode, { discovery: true });
    const hanging = idps.get("hang") as TestIdp;
    const discoveriesBefore = hanging.discoveryRequests.length;
    const broken = await start("broken");
    // It ended by itself (the runner did not kill it): the IdP never answers, so the bound did.
    expect(broken.timedOut, broken.stderr).toBe(false);
    expect(broken.code, broken.stderr).toBe(0);
    expect(broken.stdout).toContain("html/demo-model");
    // Nothing but opencode's own output on stdout.
    expect(broken.stdout).not.toContain("oauth2_");

    for (const c of CASES) {
      const lines = linesFor(broken.stderr, c.id, c.events);
      expect(lines, `${c.id}: ${c.events.join(" or ")}\n${broken.stderr}`).toHaveLength(1);
      // The reason is spelled out, not just an event name.
      if (c.mode !== "hang") expect(lines[0]).toMatch(/discovery|issuer/i);
    }
    // Each broken IdP was really asked, and its answer is in the log, per provider: once by
    // each plugin, as the first attempt had already failed when models-info asked.
    for (const c of CASES.filter((c) => c.mode !== "hang")) {
      expect(linesFor(broken.stderr, c.id, ["oauth2_discovery_failed"]), c.id).toHaveLength(2);
    }

    // The hanging IdP was waited for once: models-info joined the oauth2 plugin's attempt.
    expect(hanging.discoveryRequests.length - discoveriesBefore).toBe(1);
    expect(
      linesFor(broken.stderr, "hang", ["models_info_fetch_failed_no_cache"]),
      broken.stderr,
    ).toHaveLength(1);

    // The bound that fired is the configured one.
    const [hangLine] = linesFor(broken.stderr, "hang", CASES[3]?.events ?? []);
    if (hangLine?.includes("skipped_timeout")) {
      expect(hangLine).toMatch(new RegExp(`timeoutMs[=:"\\s]+${HTTP_TIMEOUT_MS}\\b`));
    }
  }, 240_000); // a start held until RUN_LIMIT_MS must fail on the assertion, not on the test timeout
});
