#!/usr/bin/env node
import { runCli } from "./run.js";

// `opencode-oauth2 status | head -1`: a reader that goes away early is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

// The exit code is set, not forced: stdout (a token, JSON) is flushed before the process ends.
process.exitCode = await runCli(process.argv.slice(2));
