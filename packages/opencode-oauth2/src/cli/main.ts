#!/usr/bin/env node
import { warmCall } from "./credential/warm-call.js";

// `opencode-oauth2 status | head -1`: a reader that goes away early is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

const argv = process.argv.slice(2);
// Tools call `token <provider>` once per request: a fresh token is printed before the rest of
// the CLI (and the core's schemas) loads.
const warm = await warmCall(argv, process.env, process.cwd());
if (warm !== undefined) {
  process.stdout.write(`${warm}\n`);
} else {
  const { runCli } = await import("./run.js");
  // The exit code is set, not forced: stdout (a token, JSON) is flushed before the process ends.
  process.exitCode = await runCli(argv);
}
