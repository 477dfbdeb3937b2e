import { type CliHarness, eventually } from "./harness.js";

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

/** A port nothing listens on (bound, then released): the testkit's one definition. */
export { freePort } from "@vymalo/testkit";

/** A browser login through the built CLI, the test browser playing the user at the IdP. */
export async function browserLogin(h: CliHarness): Promise<void> {
  const running = h.start(["login", "corp"]);
  const url = await eventually(async () => (await h.openedUrls())[0]);
  await h.browser.authorize(url, { followCallback: true });
  const result = await running.done;
  if (result.code !== 0) throw new Error(`login failed (${result.code}): ${result.stderr}`);
}
