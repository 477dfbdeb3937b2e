import { writeFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";

/**
 * Loaded with `--import` into a gateway that gateway-memory.ts measures: on SIGUSR2 it writes the
 * process's memory as V8 sees it to `$GATEWAY_MEMORY_REPORT`, after a full GC when the process
 * runs with `--expose-gc` (so that what is counted is what is kept, not garbage not yet
 * collected), and whether Node's internal undici is loaded.
 */

const MiB = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

process.on("SIGUSR2", () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, MiB(s.space_size)]),
  );
  const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  writeFileSync(
    process.env.GATEWAY_MEMORY_REPORT ?? "",
    JSON.stringify({
      collected: Boolean(gc),
      heapTotal: MiB(usage.heapTotal),
      heapUsed: MiB(usage.heapUsed),
      spaces,
      undici: loaded.some((name) => name.includes("undici")),
    }),
  );
});
