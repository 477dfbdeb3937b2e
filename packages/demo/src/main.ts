#!/usr/bin/env node
import { runDemo } from "./demo.js";

const finish = (code: number) => {
  process.exitCode = code;
  // Everything the demo started is stopped by now; if a stray handle (a keep-alive socket)
  // would hold the process, do not let it: the demo must leave nothing running.
  setTimeout(() => process.exit(code), 2000).unref();
};

runDemo().then(finish, (error: unknown) => {
  process.stderr.write(
    `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  finish(1);
});
