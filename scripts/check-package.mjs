#!/usr/bin/env node
// Checks the published package in the current directory as users get it: packs it once with
// `pnpm pack` (what `pnpm publish` uploads, `workspace:*` replaced by versions), then
// - the tarball holds README.md, LICENSE, package.json and dist's bundles and declarations only;
// - publint (--strict: its warnings fail too) checks package.json against the files;
// - are-the-types-wrong checks that every entry's types resolve, with the esm-only profile: these
//   packages are ESM only (`"type": "module"`, `exports` without a `require` condition; opencode
//   imports plugins, and `require()` of ESM is not in our Node floor, 20.11), so attw's node10 and
//   node16-from-CommonJS resolutions are expected to fail and are not checked. node16 from ESM
//   and bundler resolution must pass.
// Runs in `pnpm test` (turbo's `check:package` task, after the build). Exit code 1 on any problem.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const bin = (name) => join(import.meta.dirname, "..", "node_modules", ".bin", name);
const problems = [];

const out = mkdtempSync(join(tmpdir(), "check-package-"));
try {
  const pack = spawnSync("pnpm", ["pack", "--json", "--pack-destination", out], {
    encoding: "utf8",
  });
  if (pack.status !== 0) throw new Error(`pnpm pack failed:\n${pack.stderr}`);
  const packed = JSON.parse(pack.stdout);
  const files = packed.files.map((file) => file.path);

  const shipped = /^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts))$/;
  for (const file of files.filter((f) => !shipped.test(f))) {
    problems.push(`${file} is in the tarball: only README.md, LICENSE and dist's .js/.d.ts ship`);
  }
  for (const required of ["README.md", "LICENSE"]) {
    if (!files.includes(required)) problems.push(`${required} is missing from the tarball`);
  }

  for (const [tool, args] of [
    ["publint", ["run", packed.filename, "--strict"]],
    ["attw", [packed.filename, "--profile", "esm-only", "--format", "table-flipped"]],
  ]) {
    const run = spawnSync(bin(tool), args, { stdio: "inherit" });
    if (run.status !== 0) problems.push(`${tool} found problems (above)`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`check-package: ${pkg.name}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(`check-package: ${pkg.name}: tarball, publint and attw ok`);
