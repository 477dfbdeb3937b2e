#!/usr/bin/env node
// Runs a package's test files again on each Node line users run, after `vitest run` ran them on
// the machine's Node (20):
//
//   node ../../scripts/node-lines.mjs test/transport.test.ts test/relay-connection.test.ts
//
// Each line is an official Node build from the npm registry (`node-<os>-<arch>`, the package
// `npm install node@<version>` fetches), pinned below, checked against the registry's integrity
// hash by `npm pack`, and kept in node_modules/.cache/node-lines. The files run with that node
// first on PATH: vitest, its workers and every bin a test starts with `process.execPath` run on
// it. What differs from line to line is Node's bundled undici (Node 22: 6, 24: 7, 26: 8), which
// drives the global fetch: the files named are those that go through it or through npm undici
// (proxies, TLS files, the gateway's relay).

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The LTS lines in support, newest patch of each when pinned. */
const LINES = ["22.23.5", "24.22.3", "26.10.0"];

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cache = join(root, "node_modules", ".cache", "node-lines");
const pkg = `node-${process.platform}-${process.arch}`;

/** The directory holding `node` of `version`, downloaded once. */
function nodeDir(version) {
  const dir = join(cache, version);
  if (existsSync(join(dir, "node"))) return dir;
  // Unpacked beside it, then moved in whole: two packages' tests run at once never see half a file.
  const work = `${dir}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const pack = spawnSync(
    "npm",
    ["pack", `${pkg}@${version}`, "--pack-destination", work, "--silent"],
    { encoding: "utf8" },
  );
  const tarball = pack.stdout.trim().split("\n").pop();
  if (pack.status !== 0 || !tarball) {
    throw new Error(`npm pack ${pkg}@${version} failed:\n${pack.stderr}`);
  }
  const untar = spawnSync("tar", ["-xzf", join(work, tarball), "-C", work, "package/bin/node"], {
    encoding: "utf8",
  });
  if (untar.status !== 0) throw new Error(`tar could not unpack ${tarball}:\n${untar.stderr}`);
  renameSync(join(work, "package", "bin", "node"), join(work, "node"));
  rmSync(join(work, "package"), { recursive: true, force: true });
  rmSync(join(work, tarball), { force: true });
  if (existsSync(join(dir, "node"))) rmSync(work, { recursive: true, force: true });
  else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  }
  return dir;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node-lines.mjs <test file>...");
  process.exit(2);
}

let failed = 0;
for (const version of LINES) {
  const dir = nodeDir(version);
  console.log(`\nNode ${version}: ${files.join(" ")}`);
  // vitest from PATH: pnpm puts the workspace's bins there for a package script.
  const run = spawnSync("vitest", ["run", ...files], {
    stdio: "inherit",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ""}` },
  });
  if (run.error) throw new Error(`vitest did not start: ${run.error.message}`);
  if (run.status !== 0) failed += 1;
}
if (failed > 0) {
  console.error(`\n${failed} of ${LINES.length} Node lines failed`);
  process.exit(1);
}
