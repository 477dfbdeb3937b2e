#!/usr/bin/env node
// Builds the published package in the current directory. dist/ holds what the tarball ships and
// nothing else: esbuild bundles of the `exports` and `bin` entries, and tsc's declarations of
// what those entries expose (`stripInternal`). It is emptied first, so no file of an older build
// (a renamed module, a chunk of another hash) is ever packed.
//
// Usage: node ../../scripts/build-package.mjs [--inline <dependency>]...
//
// Why bundles: opencode imports every plugin at every start, so that import is on the start path.
// In Bun, loading a few files costs far less than loading ~300 small modules, most of them zod's.
// - Each package's own modules become one file per entry. A module the package imports lazily
//   (`await import("./x.js")`: the CLI's commands, the token engine's renewal and login parts)
//   is an entry of its own, dist/<path>.js, so it still loads only on first use, and a trace of
//   what a process loaded names it. Code two files share goes to dist/chunks/.
// - `--inline zod` (the core only): zod is bundled into @vymalo/oauth2-core, tree-shaken to the
//   zod/mini functions the plugins use. The plugins take them from `@vymalo/oauth2-core/zod`, so
//   a process holds one copy of zod and one of the core, whichever plugins it loads. zod stays
//   a dependency there for the declarations, which name its types.
// - Every other dependency stays an import, resolved and deduplicated by the package manager:
//   native or heavy ones (openid-client, proper-lockfile) load only where a lazy entry needs them.
// - A package.json imported for its version (the gateway's manifest, the CLI's --version) is
//   inlined as its name and version only.
// - `--standalone-bin <specifier>` (the CLI): each bin is one file of its own, with everything it
//   imports up front inlined, the named dependency entry too (`@vymalo/oauth2-core/warm`); what
//   it imports lazily stays the split build's entry. `opencode-oauth2 token` is called once per
//   request by other tools, and its warm path then loads one module instead of six (each costs
//   Node's ESM loader a resolve, a read and a link: a tenth of the call, measured by pnpm bench).
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const { values: args } = parseArgs({
  options: {
    inline: { type: "string", multiple: true, default: [] },
    "standalone-bin": { type: "string", multiple: true },
  },
});
const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const fail = (message) => {
  console.error(`build-package: ${pkg.name}: ${message}`);
  process.exit(1);
};

// Built aside and swapped in at the end: whoever shares this checkout (a test run, another
// build) never sees a half-written dist/.
const staging = join("node_modules", ".build-package", String(process.pid));
rmSync(staging, { recursive: true, force: true });
const staged = (file) => file.replace(/^\.\/dist\//, `${staging}/`);
function swapIn() {
  const previous = `${staging}.previous`;
  if (existsSync("dist")) renameSync("dist", previous);
  renameSync(staging, "dist");
  rmSync(previous, { recursive: true, force: true });
}

/** `./dist/cli/main.js` -> `{ in: "src/cli/main.ts", out: "cli/main" }`. */
function entryOf(file) {
  const match = /^\.\/dist\/(.+)\.js$/.exec(file);
  if (!match) fail(`cannot map ${file} to a file in src/`);
  return { in: `src/${match[1]}.ts`, out: match[1] };
}
const exportTargets = Object.values(pkg.exports).filter((target) => typeof target !== "string");
const entries = new Map();
for (const target of exportTargets) entries.set(target.default, entryOf(target.default));
for (const file of Object.values(pkg.bin ?? {})) entries.set(file, entryOf(file));

const inline = new Set(args.inline);
const external = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })
  .filter((name) => !inline.has(name))
  .flatMap((name) => [name, `${name}/*`]);

const versionOnly = {
  name: "package-json-version-only",
  setup(b) {
    b.onLoad({ filter: /[\\/]package\.json$/ }, ({ path }) => {
      const { name, version } = JSON.parse(readFileSync(path, "utf8"));
      return { contents: JSON.stringify({ name, version }), loader: "json" };
    });
  },
};

const options = {
  outdir: staging,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external,
  plugins: [versionOnly],
  logLevel: "warning",
};

// A first pass finds the package's own modules that are imported lazily; each becomes an entry.
const scan = await build({
  ...options,
  entryPoints: [...entries.values()],
  write: false,
  metafile: true,
});
for (const input of Object.values(scan.metafile.inputs)) {
  for (const imported of input.imports) {
    if (imported.kind !== "dynamic-import" || !imported.path.startsWith("src/")) continue;
    const out = imported.path.replace(/^src\//, "").replace(/\.ts$/, "");
    entries.set(`./dist/${out}.js`, { in: imported.path, out });
  }
}

const standalone = args["standalone-bin"];
const binFiles = new Set(Object.values(pkg.bin ?? {}));
const split = [...entries].filter(([file]) => !(standalone && binFiles.has(file)));
const result = await build({ ...options, entryPoints: split.map(([, e]) => e), metafile: true });
const bundles = Object.keys(result.metafile.outputs);
if (standalone) {
  const own = new Set(standalone);
  const bins = await build({
    ...options,
    splitting: false,
    entryPoints: [...binFiles].map(entryOf),
    metafile: true,
    plugins: [
      ...options.plugins,
      {
        name: "standalone-bin",
        setup(b) {
          // The named dependency entries are inlined rather than left to the package manager.
          b.onResolve({ filter: /.*/ }, ({ path, kind, resolveDir }) => {
            if (own.has(path)) {
              return { path: createRequire(join(resolveDir, "x.js")).resolve(path) };
            }
            // A lazy import of the package's own module loads the split build's entry for it
            // (dist/ mirrors src/, so the relative path is the same).
            if (kind === "dynamic-import" && path.startsWith(".")) return { path, external: true };
            return undefined;
          });
        },
      },
    ],
  });
  bundles.push(...Object.keys(bins.metafile.outputs));
}
for (const file of binFiles) chmodSync(staged(file), 0o755);
const kB = bundles.reduce((sum, file) => sum + statSync(file).size, 0) / 1024;

// Declarations only: the JavaScript is esbuild's. Written after the bundles, so that a type
// error fails the build but leaves runnable bundles for whoever shares this checkout.
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const typescript = spawnSync(
  process.execPath,
  [tsc, "-p", "tsconfig.build.json", "--outDir", staging],
  { stdio: "inherit" },
);
if (typescript.status !== 0) {
  swapIn();
  fail("tsc failed");
}

// Declarations of modules no entry's declarations reach (the CLI's, for one) are not shipped.
const reached = new Set();
const visit = (file) => {
  if (reached.has(file)) return;
  if (!existsSync(file)) fail(`declarations reach ${file}, which tsc did not write`);
  reached.add(file);
  const text = readFileSync(file, "utf8");
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    visit(resolve(dirname(file), spec.replace(/\.js$/, ".d.ts")));
  }
};
for (const target of exportTargets) visit(resolve(staged(target.types)));
const written = readdirSync(staging, { recursive: true }).map((file) => join(staging, file));
for (const file of written.filter((f) => f.endsWith(".d.ts") && !reached.has(resolve(f)))) {
  rmSync(file);
}
// Deepest first, so a folder emptied of its declarations goes with its emptied subfolders.
for (const dir of written
  .filter((f) => statSync(f, { throwIfNoEntry: false })?.isDirectory())
  .sort((a, b) => b.length - a.length)) {
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}
swapIn();

console.log(
  `build-package: ${pkg.name}: ${entries.size} entries, ${bundles.length} bundles (${kB.toFixed(0)} kB), ${reached.size} declaration files`,
);
