import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { OpencodeHome } from "./opencode-home.js";

/** Concatenates the log files under `$XDG_DATA_HOME/opencode/log/` (oldest first). */
export async function readOpencodeLog(home: OpencodeHome): Promise<string> {
  let names: string[];
  try {
    names = await readdir(home.logDir);
  } catch {
    return "";
  }
  const files = await Promise.all(
    names.map(async (name) => {
      const path = join(home.logDir, name);
      const info = await stat(path);
      return { path, mtime: info.mtimeMs, isFile: info.isFile() };
    }),
  );
  const sorted = files
    .filter((f) => f.isFile)
    .sort((a, b) => a.mtime - b.mtime || a.path.localeCompare(b.path));
  const contents = await Promise.all(sorted.map((f) => readFile(f.path, "utf8")));
  return contents.join("\n");
}

/** Parses the JSON lines of `opencode run --format json` (other lines are skipped). */
export function parseJsonl(stdout: string): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  for (const line of stdout.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) continue;
    try {
      const value = JSON.parse(trimmed) as unknown;
      if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        events.push(value as Record<string, unknown>);
      }
    } catch {
      // not a JSON line (e.g. a plugin's console.log)
    }
  }
  return events;
}

/** The assistant text of `opencode run --format json` output: `part.text` of `type: "text"` lines. */
export function jsonlText(stdout: string): string {
  return parseJsonl(stdout)
    .filter((event) => event.type === "text")
    .map((event) => {
      const part = event.part as { text?: unknown } | undefined;
      return typeof part?.text === "string" ? part.text : "";
    })
    .join("");
}
