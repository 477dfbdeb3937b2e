import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startChild, startRegistry, type TestRegistry } from "../src/index.js";

/**
 * The kit's verdaccio: what is published is served; names of its own scopes never come from
 * the uplink (here `@types`, which the uplink has); other names are proxied from it — reached as
 * npm reaches it, also without `NODE_EXTRA_CA_CERTS`, which turbo does not pass to tests.
 */

let registry: TestRegistry;
let dir: string;

beforeAll(async () => {
  vi.stubEnv("NODE_EXTRA_CA_CERTS", undefined);
  registry = await startRegistry({ ownScopes: ["@vymalo", "@types"] });
  vi.unstubAllEnvs();
  dir = await mkdtemp(join(tmpdir(), "registry-test-"));
});
afterAll(async () => {
  await registry?.close();
  await rm(dir, { recursive: true, force: true });
});

/** npm in a temp home; `cache` apart for packing, or the install would take the tarball from it. */
const npm = (args: string[], cwd: string, cache = "npm-cache") =>
  startChild("npm", args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: join(dir, "home"),
      npm_config_cache: join(dir, cache),
      ...registry.npmEnv,
    },
    timeoutMs: 60_000,
  }).done;

describe("startRegistry", () => {
  it("serves what was published, proxies other names, and never proxies its own scopes", async () => {
    const source = join(dir, "probe");
    await mkdir(source, { recursive: true });
    const manifest = {
      name: "@vymalo/testkit-registry-probe",
      version: "1.2.3",
      main: "index.js",
      dependencies: { ms: "2.1.3" },
    };
    await writeFile(join(source, "package.json"), JSON.stringify(manifest));
    await writeFile(join(source, "index.js"), "module.exports = 'probe';\n");
    const pack = await npm(["pack", "--pack-destination", dir], source, "pack-cache");
    expect(pack.code, pack.stderr).toBe(0);

    const published = await registry.publish(join(dir, pack.stdout.trim()));
    expect(published).toEqual({ name: manifest.name, version: "1.2.3" });

    expect((await fetch(`${registry.url}@types%2fnode`)).status).toBe(404);
    const proxied = await fetch(`${registry.url}ms`);
    expect(proxied.status).toBe(200);
    expect(((await proxied.json()) as { name: string }).name).toBe("ms");

    // A user's install in an empty folder, pointed here by the environment alone.
    const project = join(dir, "project");
    await mkdir(project, { recursive: true });
    const install = await npm(["install", "--no-save", `${manifest.name}@1.2.3`], project);
    expect(install.code, install.stderr).toBe(0);
    const installed = JSON.parse(
      await readFile(join(project, "node_modules", manifest.name, "package.json"), "utf8"),
    ) as { version: string };
    expect(installed.version).toBe("1.2.3");
    expect(new Set(registry.tarballsServed())).toEqual(
      new Set([
        "/@vymalo/testkit-registry-probe/-/testkit-registry-probe-1.2.3.tgz",
        "/ms/-/ms-2.1.3.tgz",
      ]),
    );
    expect(registry.requests().some((r) => r.method === "PUT" && r.user !== null)).toBe(true);
  });
});
