#!/usr/bin/env node
import { holdBackIdpNotices } from "./idp-notices.js";

// Before anything imports oidc-provider: it warns about the Node version on import.
const heldBack = holdBackIdpNotices();
const { runDemo } = await import("./demo.js");

const finish = (code: number) => {
  process.exitCode = code;
  const held = heldBack();
  if (held > 0) {
    process.stdout.write(
      `\n(${held} development-mode notices of the embedded IdP held back; DEMO_VERBOSE=1 shows them.)\n`,
    );
  }
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
