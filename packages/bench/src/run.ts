#!/usr/bin/env node
// `pnpm bench`: every figure is a ratio (or a count) measured side by side in this one run, with
// its goal beside it. These machines are noisy: no absolute time is a result.
import { cpus, platform, release } from "node:os";
import { parseArgs } from "node:util";
import { bearerCost } from "./bearer-cost.js";
import { gatewayFigures } from "./gateway-figure.js";
import { propagation } from "./propagation.js";
import { singleFlight } from "./single-flight.js";
import { startTime } from "./start-time.js";
import { type Figure, renderTable, verdict } from "./table.js";
import { tokenTime } from "./token-time.js";

const SECTIONS: Record<string, () => Promise<Figure[]>> = {
  start: () => startTime(40, 7),
  propagation: () => propagation(7),
  "single-flight": () => singleFlight(5),
  bearer: () => bearerCost(300),
  token: () => tokenTime(40),
  gateway: () => gatewayFigures({ seconds: 3, rounds: 3, connections: 32 }),
};

const { values } = parseArgs({
  options: { only: { type: "string" }, help: { type: "boolean", short: "h" } },
});
if (values.help) {
  console.log(`usage: node dist/run.js [--only ${Object.keys(SECTIONS).join(",")}]`);
  process.exit(0);
}
const chosen = values.only ? values.only.split(",").map((s) => s.trim()) : Object.keys(SECTIONS);
for (const name of chosen) {
  if (!SECTIONS[name]) {
    console.error(`unknown section "${name}" (known: ${Object.keys(SECTIONS).join(", ")})`);
    process.exit(64);
  }
}

const cpu = cpus();
console.log(
  `opencode-oauth2 benchmarks — node ${process.version}, ${platform()} ${release()}, ${cpu.length} CPU (${cpu[0]?.model.trim() ?? "unknown"})`,
);
const figures: Figure[] = [];
for (const name of chosen) {
  const started = performance.now();
  process.stderr.write(`running ${name}…\n`);
  figures.push(...(await (SECTIONS[name] as () => Promise<Figure[]>)()));
  process.stderr.write(
    `  ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}
console.log("");
console.log(renderTable(figures));
const missed = figures.filter((f) => verdict(f) === "MISSED");
console.log("");
console.log(
  missed.length
    ? `${missed.length} figure(s) missed the goal on this run: re-run on a quiet machine before drawing conclusions.`
    : "Every figure with a goal met it on this run.",
);
