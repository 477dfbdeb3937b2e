import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type RunningChild, startChild } from "./child.js";
import { startOnFreePort } from "./free-port.js";
import { runProcess } from "./process-group.js";
import {
  parseRequests,
  type RegistryRequest,
  registryConfig,
  type Uplink,
} from "./registry-config.js";

export type { RegistryRequest } from "./registry-config.js";

/**
 * A private npm registry on loopback: a real verdaccio (6.8.0; on Node 20 it needs the root
 * `pnpm.overrides` pin of node-fetch) in a child process, its storage in a temp dir.
 *
 * Names in `ownScopes` (`@vymalo`) are served only from what `publish` put there; every other
 * name is proxied from the uplink — by default the registry this machine's npm uses — and kept
 * in storage, so a second install in the same run is served locally.
 *
 * Clients are pointed at it through the environment only (`npmEnv`): npm and npx read
 * `npm_config_registry`, and so does opencode. opencode (1.18) installs each npm plugin spec with
 * its embedded npm (@npmcli/arborist, scripts off) into
 * `$XDG_CACHE_HOME/opencode/packages/<spec>/node_modules/` — one tree per plugin, so two plugins
 * get two copies of a shared dependency — and imports the package's `main` (or its
 * `exports["./server"]`) from there. Its other install, `@opencode-ai/plugin` in each config dir,
 * is skipped in a kit home (`seedOpencodeConfigDir`); elsewhere the uplink serves that package.
 */

export interface RegistryOptions {
  /**
   * Where other names come from. Default: `npm config get registry`. `null`: nowhere (offline).
   * Either way it is reached with npm's `cafile` and proxy settings.
   */
  uplink?: string | null;
  /** Scopes never proxied: served only from what was published here. Default `["@vymalo"]`. */
  ownScopes?: string[];
  /** How long verdaccio may take to answer its first ping. Default 30 000 ms. */
  startTimeoutMs?: number;
}

export interface PublishedPackage {
  name: string;
  version: string;
}

export interface TestRegistry {
  /** `http://127.0.0.1:<port>/` (npm wants the trailing slash). */
  readonly url: string;
  readonly port: number;
  /** The uplink, or undefined when offline. */
  readonly uplink: string | undefined;
  /** verdaccio's package storage (published and proxied tarballs). */
  readonly storageDir: string;
  /**
   * What points an npm client (npm, npx, opencode's embedded npm) at this registry and keeps it
   * quiet. Add `npm_config_cache` (a temp dir) yourself.
   */
  readonly npmEnv: Readonly<Record<string, string>>;
  /** `npm publish <tarball>` as a logged-in user of this registry. */
  publish(tarball: string): Promise<PublishedPackage>;
  /** Every request a client made, in order (from verdaccio's log). */
  requests(): RegistryRequest[];
  /** The paths of the tarballs it sent (GET `…/-/….tgz`, 200 with a body), each once, in order. */
  tarballsServed(): string[];
  /** verdaccio's output so far, for failure messages. */
  output(): string;
  /** Stops verdaccio and removes its directory. */
  close(): Promise<void>;
}

const START_ATTEMPTS = 3;
const PUBLISHER = { name: "testkit-publisher", password: "testkit-publisher-password" };

/** Quiet, non-interactive npm: no update check, audit or funding requests to the registry. */
const QUIET_NPM = {
  npm_config_update_notifier: "false",
  npm_config_audit: "false",
  npm_config_fund: "false",
};

function verdaccioBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("verdaccio/package.json")), "bin", "verdaccio");
}

/**
 * The uplink as this machine's npm reaches it: its `registry`, and the `cafile` and proxy it uses
 * for that. Taken from npm's config, not from the environment: turbo passes tasks only a few
 * variables, so `NODE_EXTRA_CA_CERTS` is gone under `pnpm test` (here a TLS-inspecting egress
 * proxy needs it), while npm's global npmrc still names the CA file.
 */
async function machineUplink(url: string | undefined): Promise<Uplink> {
  const keys = ["registry", "cafile", "https-proxy", "proxy", "noproxy"];
  const result = await runProcess("npm", ["config", "get", ...keys], {
    cwd: process.cwd(),
    env: process.env as Record<string, string>,
    timeoutMs: 30_000,
  });
  // `npm config get a b` prints `a=value` lines; an unset key prints `null` or nothing.
  const values = new Map<string, string>();
  for (const line of result.stdout.split("\n")) {
    const at = line.indexOf("=");
    const value = line.slice(at + 1).trim();
    if (at > 0 && value && value !== "null" && value !== "undefined") {
      values.set(line.slice(0, at).trim(), value);
    }
  }
  const registry = url ?? values.get("registry");
  if (result.code !== 0 || !registry || !/^https?:\/\//.test(registry)) {
    throw new Error(
      `startRegistry: \`npm config get registry\` gave no registry URL (exit ${result.code}): ${result.stderr || result.stdout}; pass options.uplink`,
    );
  }
  const cafile = values.get("cafile");
  const proxy = registry.startsWith("https:")
    ? (values.get("https-proxy") ?? values.get("proxy"))
    : values.get("proxy");
  const noProxy = values.get("noproxy");
  return {
    url: registry,
    ...(cafile ? { ca: await readFile(cafile, "utf8") } : {}),
    ...(proxy ? { proxy } : {}),
    ...(noProxy ? { noProxy } : {}),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts verdaccio on `port` and resolves once it said it listens there and answers a ping
 * (both: a ping alone could come from whatever took the port first). Rejects when it exits.
 */
async function launch(config: string, port: number, timeoutMs: number): Promise<RunningChild> {
  const running = startChild(
    process.execPath,
    [verdaccioBin(), "--config", config, "--listen", `127.0.0.1:${port}`],
    { env: process.env, processGroup: true },
  );
  running.done.catch(() => undefined);
  const { child } = running;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const listening = `http address - http://127.0.0.1:${port}/`;
  const deadline = Date.now() + timeoutMs;
  while (!exited() && Date.now() < deadline) {
    if (running.output().stdout.includes(listening)) {
      const ping = await fetch(`http://127.0.0.1:${port}/-/ping`, {
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
      if (ping?.ok) return running;
    }
    await sleep(100);
  }
  running.kill("SIGKILL");
  await running.done.catch(() => undefined);
  const { all } = running.output();
  throw new Error(
    `verdaccio ${exited() ? "exited" : `did not answer within ${timeoutMs} ms`} on port ${port}:\n${all.slice(-3000)}`,
  );
}

/** Creates the publishing user; verdaccio answers with its token. */
async function addPublisher(url: string): Promise<string> {
  const response = await fetch(`${url}-/user/org.couchdb.user:${PUBLISHER.name}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(PUBLISHER),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: string };
  if (!response.ok || !body.token) {
    throw new Error(`verdaccio refused to add the publishing user: HTTP ${response.status}`);
  }
  return body.token;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const uplink = options.uplink === null ? undefined : await machineUplink(options.uplink);
  const root = await mkdtemp(join(tmpdir(), "testkit-registry-"));
  try {
    const configFile = join(root, "config.yaml");
    const config = registryConfig({ root, uplink, ownScopes: options.ownScopes ?? ["@vymalo"] });
    await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);

    const { port, started: running } = await startOnFreePort(
      (candidate) => launch(configFile, candidate, options.startTimeoutMs ?? 30_000),
      START_ATTEMPTS,
    );
    const server = running;
    const url = `http://127.0.0.1:${port}/`;

    // npm publish reads its credentials from a user config; this one lives in the temp dir.
    const publishHome = join(root, "publisher");
    await mkdir(publishHome, { recursive: true });
    const npmrc = join(publishHome, ".npmrc");
    const token = await addPublisher(url);
    await writeFile(npmrc, `//127.0.0.1:${port}/:_authToken=${token}\n`, { mode: 0o600 });

    const requests = () => parseRequests(server.output().stdout);
    return {
      url,
      port,
      uplink: uplink?.url,
      storageDir: config.storage,
      npmEnv: Object.freeze({ npm_config_registry: url, ...QUIET_NPM }),
      async publish(tarball) {
        const result = await runProcess(
          "npm",
          ["publish", resolve(tarball), "--json", "--access", "public", "--userconfig", npmrc],
          {
            cwd: publishHome,
            env: {
              PATH: process.env.PATH ?? "",
              HOME: publishHome,
              npm_config_cache: join(root, "publish-cache"),
              npm_config_registry: url,
              ...QUIET_NPM,
            },
            timeoutMs: 60_000,
          },
        );
        if (result.code !== 0) {
          throw new Error(`npm publish ${tarball} failed (exit ${result.code}):\n${result.stderr}`);
        }
        // npm 11 keys the summary by package name; npm 10 printed it bare.
        const summary = JSON.parse(result.stdout) as
          | PublishedPackage
          | Record<string, PublishedPackage>;
        const published = (
          "version" in summary ? summary : Object.values(summary)[0]
        ) as PublishedPackage;
        return { name: published.name, version: published.version };
      },
      requests,
      tarballsServed: () => [
        ...new Set(
          requests()
            .filter((r) => r.method === "GET" && r.status === 200 && r.bytesOut > 0)
            .map((r) => r.url)
            .filter((url) => /\/-\/[^/]+\.tgz$/.test(url)),
        ),
      ],
      output: () => server.output().all,
      async close() {
        server.kill("SIGTERM");
        const hard = setTimeout(() => server.kill("SIGKILL"), 5_000);
        await server.done.catch(() => undefined);
        clearTimeout(hard);
        await rm(root, { recursive: true, force: true, maxRetries: 3 });
      },
    };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}
