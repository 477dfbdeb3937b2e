import { createServer } from "node:net";
import type { CliHarness } from "./harness.js";

/** One finding of `doctor --json`. */
export interface DoctorFinding {
  provider: string | null;
  level: "ok" | "warn" | "error";
  check: string;
  found: string;
  fix: string | null;
}

export interface DoctorReport {
  errors: number;
  warnings: number;
  findings: DoctorFinding[];
}

/** Runs the built CLI's `doctor … --json` and parses its report. */
export async function runDoctor(h: CliHarness, ...args: string[]) {
  const result = await h.run(["doctor", ...args, "--json"]);
  let report: DoctorReport;
  try {
    report = JSON.parse(result.stdout) as DoctorReport;
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${result.code}):\n${result.stderr}`);
  }
  const find = (check: string) => report.findings.filter((f) => f.check === check);
  return { ...result, report, find };
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
