import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningChild, startChild, type TestRegistry } from "@vymalo/testkit";

/**
 * The user's side of the registry install test: what gets packed and published, the shell a
 * user runs `npx` in, and where a running gateway was loaded from.
 */

/** The repository root, with no trailing slash. */
export const WORKSPACE = fileURLToPath(new URL("../../..", import.meta.url)).replace(/\/$/, "");

/** The public packages, by folder, and the names users install them by. */
export const PUBLIC_PACKAGES = {
  "oauth2-core": "@vymalo/oauth2-core",
  "opencode-oauth2": "@vymalo/opencode-oauth2",
  "opencode-models-info": "@vymalo/opencode-models-info",
  "opencode-gateway": "@vymalo/opencode-gateway",
} as const;

export type PublicPackage = (typeof PUBLIC_PACKAGES)[keyof typeof PUBLIC_PACKAGES];

/** Each public package's version, read from its package.json now (the release sets them). */
export function workspaceVersions(): Record<PublicPackage, string> {
  return Object.fromEntries(
    Object.entries(PUBLIC_PACKAGES).map(([folder, name]) => {
      const pkg = JSON.parse(
        readFileSync(join(WORKSPACE, "packages", folder, "package.json"), "utf8"),
      ) as { name: string; version: string };
      if (pkg.name !== name) throw new Error(`packages/${folder} is ${pkg.name}, not ${name}`);
      return [name, pkg.version];
    }),
  ) as Record<PublicPackage, string>;
}

/**
 * `pnpm pack` of every public package into `dir`, in one pnpm run (pnpm takes ~2 s to start):
 * the tarballs a release publishes, `workspace:` specifiers replaced by versions.
 */
export async function packWorkspace(dir: string): Promise<string[]> {
  const filters = Object.values(PUBLIC_PACKAGES).flatMap((name) => ["--filter", name]);
  const pack = await startChild("pnpm", ["-r", ...filters, "pack", "--pack-destination", dir], {
    cwd: WORKSPACE,
    timeoutMs: 60_000,
  }).done;
  if (pack.code !== 0) throw new Error(`pnpm pack failed (${pack.code}):\n${pack.stderr}`);
  const tarballs = readdirSync(dir).filter((file) => file.endsWith(".tgz"));
  if (tarballs.length !== Object.keys(PUBLIC_PACKAGES).length) {
    throw new Error(`pnpm pack made ${tarballs.join(", ")} in ${dir}:\n${pack.stdout}`);
  }
  return tarballs.map((file) => join(dir, file));
}

/** A user's environment: nothing of this machine's npm setup, the registry through variables. */
export function userEnv(
  registry: TestRegistry,
  dirs: { home: string; npmCache: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: dirs.home,
    npm_config_cache: dirs.npmCache,
    ...registry.npmEnv,
    ...extra,
  };
}

/**
 * The script every process of a process group runs (`node <script>`), resolved through
 * symlinks (npx starts a bin through `node_modules/.bin`). Linux: read from /proc.
 */
export function groupScripts(pgid: number): string[] {
  const scripts: string[] = [];
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      // Field 5 of stat is the process group; the command name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const cwd = realpathSync(`/proc/${pid}/cwd`);
      if (!/(^|\/)node$/.test(argv[0] ?? "") || !argv[1]) continue;
      scripts.push(realpathSync(argv[1].startsWith("/") ? argv[1] : join(cwd, argv[1])));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return scripts;
}

export const PROVIDER = "llm";
export const MODEL = "demo-model";
export const CLIENT_ID = "opencode-cli";

/**
 * The demo's gateway config, with the kit's IdP and an upstream model server instead of the
 * built-in demo model. No `manifest` section: users get the default, which names this release.
 */
export function demoGatewayConfig(input: {
  publicUrl: string;
  port: number;
  issuer: string;
  upstream: { baseURL: string; apiKey: string };
}) {
  return {
    publicUrl: input.publicUrl,
    issuer: input.issuer,
    audiences: [input.publicUrl],
    providerId: PROVIDER,
    providerName: "Installed from the registry",
    // The user the token was issued to reaches the upstream as this header.
    upstream: { ...input.upstream, subjectHeader: "x-user-id" },
    oauth2: { clientId: CLIENT_ID, scopes: ["openid", "offline_access"], authFlow: "device_code" },
    models: [
      {
        id: MODEL,
        name: "Demo model",
        context_length: 131072,
        max_completion_tokens: 8192,
        pricing: { prompt: "0.000002", completion: "0.000006" },
      },
    ],
    listen: { host: "127.0.0.1", port: input.port },
  };
}

/** Resolves once `url` answers 2xx; fails early, with its output, when `server` exits. */
export async function serving(server: RunningChild, url: string, timeoutMs: number) {
  server.done.catch(() => undefined);
  const { child } = server;
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  const deadline = Date.now() + timeoutMs;
  while (!ended() && Date.now() < deadline) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `nothing served ${url} (${ended() ? "the server exited" : "timed out"}):\n${server.output().all}`,
  );
}
