#!/usr/bin/env node
// Bundles the `exports` entries of the package in the current directory over the files tsc
// wrote (dist/<entry>.js from src/<entry>.ts); tsc still writes the types and the CLI.
//
// Why: opencode imports every plugin at every start, so that import is on the start path. In
// Bun, loading a few files costs far less than loading ~300 small modules, most of them zod's.
// - Each package's own modules become one file per entry, plus chunks for what loads later (the
//   token engine's renewal and login parts), imported on first use.
// - zod is bundled into @vymalo/oauth2-core alone, tree-shaken to the zod/mini functions the
//   plugins use. The plugins take them from `@vymalo/oauth2-core/zod`, so a process holds one
//   copy of zod and one of the core, whichever plugins it loads.
// - Every other dependency stays an import, resolved and deduplicated by the package manager.
import { readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

const BUNDLED = new Set(["zod"]);

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const entryPoints = Object.values(pkg.exports).map((target) => {
  const file = typeof target === "string" ? target : target.default;
  const match = /^\.\/dist\/(.+)\.js$/.exec(file);
  if (!match) throw new Error(`bundle-entries: ${pkg.name}: cannot map export ${file} to src/`);
  return { in: `src/${match[1]}.ts`, out: match[1] };
});
const external = Object.keys(pkg.dependencies ?? {})
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);

// Chunk names carry a content hash: drop the previous build's chunks.
rmSync("dist/chunks", { recursive: true, force: true });

const result = await build({
  entryPoints,
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  external,
  allowOverwrite: true,
  metafile: true,
  logLevel: "warning",
});

const files = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".js"));
const kB = files.reduce((sum, [, out]) => sum + out.bytes, 0) / 1024;
console.log(
  `bundle-entries: ${pkg.name}: ${entryPoints.length} entries, ${files.length} files, ${kB.toFixed(0)} kB`,
);
