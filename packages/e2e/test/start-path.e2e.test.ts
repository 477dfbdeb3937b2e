// What a start costs is mostly what it loads. With a fresh token and a fresh models document in
// the cache, the plugins' start path must not load the protocol stack (openid-client and its
// oauth4webapi) or the file lock (proper-lockfile): those load on the first refresh, grant or
// login. zod comes bundled inside the core, which both plugins share. Checked on the built
// packages, in fresh Node processes, by recording every module the process resolves; the cold
// start is the control that shows the recorder sees them.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  confidentialClient,
  type ModelsServer,
  routerModel,
  startIdp,
  startModelsServer,
  type TestIdp,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { managedProvider } from "./fixtures.js";
import { runRecorded } from "./start-path/recorded-run.js";

const here = fileURLToPath(new URL("./start-path/", import.meta.url));
const PROTOCOL_PACKAGES = ["openid-client", "oauth4webapi", "proper-lockfile"];

const DOCUMENT = {
  data: [routerModel("demo-model", { name: "Demo", contextLength: 65536, maxOutput: 4096 })],
};

let idp: TestIdp;
let models: ModelsServer;
let dir: string;

beforeAll(async () => {
  idp = await startIdp({ clients: [confidentialClient("svc", "svc-secret")] });
  models = await startModelsServer({ document: DOCUMENT });
  dir = await mkdtemp(join(tmpdir(), "start-path-"));
});

afterAll(async () => {
  await models?.close();
  await idp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One start in a fresh Node process: what the hooks produced and every package it loaded. */
async function start(name: string) {
  const record = join(dir, `${name}.imports`);
  const oauth2 = {
    issuer: idp.issuer,
    clientId: "svc",
    clientSecret: "svc-secret",
    authFlow: "client_credentials",
  };
  const config = {
    provider: {
      corp: managedProvider(models, oauth2, { meta: { modelsInfoUrl: "models-info.json" } }),
    },
  };
  const result = await runRecorded([join(here, "start.mjs")], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      OPENCODE_OAUTH2_CACHE_DIR: join(dir, "cache"),
      START_CONFIG: JSON.stringify(config),
      // The same config as opencode's inline layer: the plugins see it as the user's own.
      OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
    },
    record,
    packages: PROTOCOL_PACKAGES,
  });
  expect(result.code, result.stderr).toBe(0);
  const { loaded, urls } = result;
  return { output: JSON.parse(result.stdout.trim()), loaded, urls };
}

describe("the plugins' start path", () => {
  it("loads the protocol stack only when it has to go to the IdP", async () => {
    const cold = await start("cold");
    // Nothing cached: a client-credentials grant and a document fetch, so everything loads.
    expect(cold.loaded).toEqual(PROTOCOL_PACKAGES);
    expect(idp.tokenRequests).toHaveLength(1);
    expect(cold.output.contextLimit).toBe(65536);
    const cached = JSON.parse(await readFile(join(dir, "cache", "tokens", "corp.json"), "utf8"));
    expect(await idp.verifyAccessToken(cached.accessToken)).toBeTruthy();
    expect(cold.output.tokenInConfig).toBe(false);

    const warm = await start("warm");
    // Fresh token and document in the cache: the same result, no IdP, none of it loaded.
    expect(warm.output).toEqual(cold.output);
    expect(warm.output.fetchInstalled).toBe(true);
    expect(idp.tokenRequests).toHaveLength(1);
    expect(warm.loaded).toEqual([]);
    // The recorder did see the plugins themselves.
    expect(warm.urls.some((u) => u.includes("/opencode-oauth2/dist/index.js"))).toBe(true);
    // zod is bundled into the core (not ~100 modules of its own), and both plugins share one core.
    expect(warm.urls.filter((u) => u.includes("/node_modules/zod/"))).toEqual([]);
    expect(new Set(warm.urls.filter((u) => u.endsWith("/oauth2-core/dist/index.js"))).size).toBe(1);
  });
});
