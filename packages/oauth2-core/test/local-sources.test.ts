import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { INLINE_CONFIG_SOURCE, loadLocalConfig } from "../src/opencode/local-sources.js";

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function put(path: string, value: unknown) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

const layer = (name: string) => ({ provider: { p: { options: { [name]: true, last: name } } } });

describe("opencode's local config sources", () => {
  it("reads every source opencode reads, in its order, and nothing else", async () => {
    root = await mkdtemp(join(tmpdir(), "local-sources-"));
    const at = (...parts: string[]) => join(root as string, ...parts);
    const project = at("repo", "sub");
    await mkdir(at("repo", ".git"), { recursive: true });
    const env: NodeJS.ProcessEnv = {
      HOME: at("home"),
      XDG_CONFIG_HOME: at("config"),
      OPENCODE_CONFIG: at("custom.json"),
      OPENCODE_CONFIG_DIR: at("pack"),
      OPENCODE_CONFIG_CONTENT: JSON.stringify(layer("inline")),
      OPENCODE_TEST_MANAGED_CONFIG_DIR: at("managed"),
    };
    const files = [
      await put(at("config", "opencode", "config.json"), layer("legacyGlobal")),
      await put(at("config", "opencode", "opencode.json"), layer("global")),
      await put(at("custom.json"), layer("custom")),
      await put(at("repo", "opencode.json"), layer("root")),
      await put(at("repo", "sub", "opencode.jsonc"), `// jsonc\n${JSON.stringify(layer("leaf"))}`),
      await put(at("repo", ".opencode", "opencode.json"), layer("rootPack")),
      await put(at("home", ".opencode", "opencode.json"), layer("homePack")),
      await put(at("pack", "opencode.jsonc"), layer("configDir")),
    ];
    const managed = await put(at("managed", "opencode.json"), layer("managed"));
    // Above the git root: not read.
    await put(at("opencode.json"), layer("outside"));

    const local = await loadLocalConfig({ cwd: project, env, platform: "linux" });
    expect(local.problems).toEqual([]);
    expect(local.sources).toEqual([
      files[0],
      files[1],
      files[2],
      files[4], // every opencode.jsonc before every opencode.json
      files[3],
      files[5],
      files[6],
      files[7],
      INLINE_CONFIG_SOURCE,
      managed,
    ]);
    const options = (local.config.provider as Record<string, { options: Record<string, unknown> }>)
      .p?.options;
    expect(options?.last).toBe("managed");
    expect(options?.outside).toBeUndefined();

    const noProject = await loadLocalConfig({
      cwd: project,
      env: { ...env, OPENCODE_DISABLE_PROJECT_CONFIG: "1" },
    });
    expect(noProject.sources).not.toContain(files[3]);
    expect(noProject.sources).not.toContain(files[5]);
  });

  it("reports a broken inline config by name, and keeps the rest", async () => {
    root = await mkdtemp(join(tmpdir(), "local-sources-"));
    const local = await loadLocalConfig({
      cwd: root,
      env: {
        HOME: root,
        XDG_CONFIG_HOME: root,
        OPENCODE_TEST_MANAGED_CONFIG_DIR: root,
        OPENCODE_CONFIG_CONTENT: "{ nope",
      },
    });
    expect(local.problems).toEqual([
      expect.objectContaining({
        path: INLINE_CONFIG_SOURCE,
        message: expect.stringMatching(/line 1/),
      }),
    ]);
  });
});
