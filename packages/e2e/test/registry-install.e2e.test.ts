// The path users take, from a registry: the public packages are packed as a release packs them,
// published to a private verdaccio on loopback, and then only installed from there — the gateway
// with `npx`, both plugins by opencode itself (from the gateway's manifest), the CLI with `npx`.
// npm and opencode find the registry through the environment alone (npm_config_registry).
import { existsSync, readFileSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createOpencodeHome,
  type FakeLlm,
  getFreePort,
  jsonlText,
  type OpencodeHome,
  publicNativeClient,
  type RunningChild,
  readOpenedUrls,
  runOpencode,
  startChild,
  startFakeLlm,
  startIdp,
  startRegistry,
  TestBrowser,
  type TestIdp,
  type TestRegistry,
  writeBrowserScript,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runInteractive } from "./fixtures.js";
import {
  CLIENT_ID,
  demoGatewayConfig,
  groupScripts,
  MODEL,
  PROVIDER,
  type PublicPackage,
  packWorkspace,
  serving,
  userEnv,
  WORKSPACE,
  workspaceVersions,
} from "./registry-install-kit.js";

const UPSTREAM_KEY = "upstream-key-of-the-gateway";
const ANSWER = "Answered by the fake model behind the registry-installed gateway.";

let work: string;
let versions: Record<PublicPackage, string>;
let registry: TestRegistry;
let idp: TestIdp;
let llm: FakeLlm;
let gateway: RunningChild;
let gatewayUrl: string;
let home: OpencodeHome;
/** One npm cache for every npm/npx of the run: cold at the start, warm for the later steps. */
let npmCache: string;

const spec = (name: PublicPackage) => `${name}@${versions[name]}`;

beforeAll(async () => {
  versions = workspaceVersions();
  work = await mkdtemp(join(tmpdir(), "registry-install-"));
  npmCache = join(work, "npm-cache");
  for (const dir of ["tarballs", "gateway-folder", "gateway-home"]) {
    await mkdir(join(work, dir), { recursive: true });
  }
  const port = await getFreePort();
  gatewayUrl = `http://127.0.0.1:${port}`;
  // Independent parts, started side by side (each assigned as it comes, for afterAll).
  const [tarballs] = await Promise.all([
    packWorkspace(join(work, "tarballs")),
    startRegistry().then((r) => {
      registry = r;
    }),
    startIdp({ clients: [publicNativeClient(CLIENT_ID)], audience: gatewayUrl }).then((i) => {
      idp = i;
    }),
    // The upstream accepts only the gateway's own key: a user's token must never reach it.
    startFakeLlm({
      answer: ANSWER,
      verify: async (token) => {
        if (token !== UPSTREAM_KEY) throw new Error("not the gateway's upstream key");
        return {};
      },
    }).then((l) => {
      llm = l;
    }),
    createOpencodeHome({ prefix: "registry-install-home-", config: {} }).then((h) => {
      home = h;
    }),
  ]);
  const published = await Promise.all(tarballs.map((tarball) => registry.publish(tarball)));
  expect(published.map((p) => `${p.name}@${p.version}`).sort()).toEqual(
    Object.keys(versions)
      .map((name) => spec(name as PublicPackage))
      .sort(),
  );
  Object.assign(home.env, registry.npmEnv, { npm_config_cache: npmCache });

  const configFile = join(work, "gateway.json");
  const config = demoGatewayConfig({
    publicUrl: gatewayUrl,
    port,
    issuer: idp.issuer,
    upstream: { baseURL: llm.baseURL, apiKey: UPSTREAM_KEY },
  });
  await writeFile(configFile, JSON.stringify(config, null, 2));
  gateway = startChild("npx", ["-y", spec("@vymalo/opencode-gateway"), "--config", configFile], {
    cwd: join(work, "gateway-folder"),
    env: userEnv(registry, { home: join(work, "gateway-home"), npmCache }),
    processGroup: true,
  });
  await serving(gateway, `${gatewayUrl}/.well-known/opencode`, 90_000);
}, 180_000);

afterAll(async () => {
  gateway?.kill("SIGTERM");
  await gateway?.done.catch(() => undefined);
  await Promise.all([home?.cleanup(), idp?.close(), llm?.close(), registry?.close()]);
  if (work) await rm(work, { recursive: true, force: true, maxRetries: 3 });
});

/** The `@vymalo/*` packages in `dir/node_modules`: `name@version`, and whether it is a link. */
async function installedVymalo(dir: string): Promise<{ spec: string; linked: boolean }[]> {
  const scope = join(dir, "node_modules", "@vymalo");
  if (!existsSync(scope)) return [];
  const names = await readdir(scope);
  return Promise.all(
    names.map(async (name) => {
      const pkg = JSON.parse(await readFile(join(scope, name, "package.json"), "utf8")) as {
        version: string;
      };
      const linked = (await lstat(join(scope, name))).isSymbolicLink();
      return { spec: `@vymalo/${name}@${pkg.version}`, linked };
    }),
  );
}

describe("installed from a registry, as users get it", () => {
  it("npx runs the gateway from the registry, and its manifest names the published plugins", async () => {
    // The process serving the gateway runs the published package out of npx's cache.
    const scripts = groupScripts(gateway.child.pid as number);
    const fromNpx = scripts.filter((script) => script.startsWith(`${npmCache}/_npx/`));
    expect(fromNpx, scripts.join("\n")).toContainEqual(
      expect.stringContaining("/node_modules/@vymalo/opencode-gateway/dist/"),
    );
    expect(scripts.filter((script) => script.startsWith(WORKSPACE))).toEqual([]);
    const manifest = (await (await fetch(`${gatewayUrl}/.well-known/opencode`)).json()) as {
      auth: { command: string[] };
      config: { plugin: string[] };
    };
    expect(manifest.config.plugin).toEqual([
      spec("@vymalo/opencode-oauth2"),
      spec("@vymalo/opencode-models-info"),
    ]);
    expect(manifest.auth.command.slice(0, 3)).toEqual([
      "npx",
      "-y",
      spec("@vymalo/opencode-oauth2"),
    ]);
  });

  it("opencode logs in through the manifest, installs both plugins from the registry, lists and answers", async () => {
    const browser = new TestBrowser();
    let approving: Promise<unknown> | undefined;
    const login = await runInteractive(
      home,
      ["auth", "login", gatewayUrl],
      (output) => {
        const match = output.match(/open\s+(\S+)\s+enter\s+(\S+)/);
        if (match && !approving) {
          approving = browser.approveDevice(match[1] as string, match[2] as string, {
            login: "registry-user",
          });
        }
      },
      90_000,
    );
    await approving;
    expect(login.code, login.output).toBe(0);
    expect(approving).toBeDefined();

    const models = await runOpencode(home, ["models", PROVIDER, "--verbose"], {
      timeoutMs: 90_000,
    });
    expect(models.code, models.stderr).toBe(0);
    // models-info's limits: the plugin ran, with a token the oauth2 plugin got.
    expect(models.stdout).toContain(`${PROVIDER}/${MODEL}`);
    expect(models.stdout).toMatch(/"context":\s*131072/);
    expect(models.stdout).toMatch(/"output":\s*8192/);

    const run = await runOpencode(
      home,
      ["run", "-m", `${PROVIDER}/${MODEL}`, "--format", "json", "Where do you come from?"],
      { timeoutMs: 90_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(jsonlText(run.stdout)).toContain(ANSWER);
    // The gateway accepted the IdP's token for the user the browser approved as.
    const chats = llm.chatRequests();
    expect(chats.length).toBeGreaterThan(0);
    expect(chats.every((r) => r.valid && r.headers["x-user-id"] === "registry-user")).toBe(true);

    // Both plugins, and the core they depend on, were installed by opencode into its cache, as
    // real folders there (a `workspace:` or `file:` dependency would be a link out of it).
    for (const plugin of ["@vymalo/opencode-oauth2", "@vymalo/opencode-models-info"] as const) {
      const installed = await installedVymalo(
        join(home.cacheHome, "opencode", "packages", spec(plugin)),
      );
      expect(installed.map((p) => p.spec)).toEqual(
        expect.arrayContaining([spec(plugin), spec("@vymalo/oauth2-core")]),
      );
      expect(installed.filter((p) => p.linked)).toEqual([]);
    }
  }, 240_000);

  it("npx runs the CLI from the registry: login from an empty folder", async () => {
    const dir = join(work, "cli-user");
    const [folder, userHome, config, cache] = ["folder", "home", "config", "cache"].map((d) =>
      join(dir, d),
    ) as [string, string, string, string];
    for (const d of [folder, userHome, config, cache]) await mkdir(d, { recursive: true });
    const browserLog = join(dir, "browser.log");
    const env = userEnv(
      registry,
      { home: userHome, npmCache },
      {
        XDG_CONFIG_HOME: config,
        XDG_CACHE_HOME: cache,
        BROWSER: await writeBrowserScript(dir, browserLog),
      },
    );
    const cli = startChild(
      "npx",
      [
        "-y",
        spec("@vymalo/opencode-oauth2"),
        "login",
        PROVIDER,
        "--well-known",
        gatewayUrl,
        "--flow",
        "browser",
      ],
      { cwd: folder, env, processGroup: true, timeoutMs: 90_000 },
    );
    // npx installs (from the cache the steps above filled), then the CLI opens the "browser".
    let url: string | undefined;
    while (!url && cli.child.exitCode === null && cli.child.signalCode === null) {
      url = (await readOpenedUrls(browserLog))[0];
      if (!url) await new Promise((r) => setTimeout(r, 100));
    }
    expect(url, cli.output().all).toBeDefined();
    await new TestBrowser().authorize(url as string, { followCallback: true, login: "cli-user" });
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Logged in to ${PROVIDER} as cli-user`));

    // The cached token is the IdP's, and the gateway takes it.
    const cached = JSON.parse(
      readFileSync(join(cache, "opencode-oauth2", "tokens", `${PROVIDER}.json`), "utf8"),
    ) as { accessToken: string };
    expect((await idp.verifyAccessToken(cached.accessToken)).sub).toBe("cli-user");
    const listed = await fetch(`${gatewayUrl}/v1/models`, {
      headers: { authorization: `Bearer ${cached.accessToken}` },
    });
    expect(listed.status).toBe(200);
    expect(await readdir(folder)).toEqual([]);
  }, 120_000);

  it("the registry sent every @vymalo tarball, from what was published", () => {
    const served = registry.tarballsServed();
    for (const name of Object.keys(versions) as PublicPackage[]) {
      const base = name.split("/")[1];
      expect(served).toContain(`/${name}/-/${base}-${versions[name]}.tgz`);
    }
  });
});
