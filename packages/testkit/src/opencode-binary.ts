import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

/** An opencode config object (`opencode.json`). */
export type OpencodeConfig = Record<string, unknown>;

interface OpencodePackage {
  dir: string;
  version: string;
  bin: string;
}

let cachedPackage: OpencodePackage | undefined;

function opencodePackage(): OpencodePackage {
  if (cachedPackage) return cachedPackage;
  const require = createRequire(import.meta.url);
  const pkgJsonPath = require.resolve("opencode-ai/package.json");
  const dir = dirname(pkgJsonPath);
  const pkg = JSON.parse(readFileSync(pkgJsonPath, "utf8")) as {
    version?: string;
    bin?: string | Record<string, string>;
  };
  const relBin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.opencode;
  let bin = relBin ? resolve(dir, relBin) : "";
  if (!bin || !existsSync(bin)) {
    // The postinstall script links the platform binary to bin/opencode.exe; when it did not run,
    // use the platform package (an optional dependency of opencode-ai) directly.
    const platform = process.platform === "win32" ? "windows" : process.platform;
    const exe = process.platform === "win32" ? "opencode.exe" : "opencode";
    const fromOpencode = createRequire(pkgJsonPath);
    const candidates = [
      `opencode-${platform}-${process.arch}`,
      `opencode-${platform}-${process.arch}-baseline`,
      `opencode-${platform}-${process.arch}-musl`,
      `opencode-${platform}-${process.arch}-baseline-musl`,
    ];
    const found = candidates
      .map((name) => {
        try {
          return join(dirname(fromOpencode.resolve(`${name}/package.json`)), "bin", exe);
        } catch {
          return undefined;
        }
      })
      .find((p): p is string => p !== undefined && existsSync(p));
    if (!found) {
      throw new Error(
        `opencode binary not found: neither ${bin || "<bin>"} nor a platform package (${candidates.join(", ")}) is installed`,
      );
    }
    bin = found;
  }
  cachedPackage = { dir, version: pkg.version ?? "unknown", bin };
  return cachedPackage;
}

/**
 * Absolute path of the real opencode binary from the `opencode-ai` dependency
 * (`OPENCODE_TESTKIT_BIN` overrides it).
 */
export function opencodeBinPath(): string {
  const override = process.env.OPENCODE_TESTKIT_BIN;
  if (override) return override;
  return opencodePackage().bin;
}

/** Version of the installed `opencode-ai` package (e.g. `1.18.33`). */
export function opencodeVersion(): string {
  return opencodePackage().version;
}
