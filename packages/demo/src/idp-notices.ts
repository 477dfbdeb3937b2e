/** The prefix of oidc-provider's notices, after the colour code it adds on a terminal. */
const NOTICE = /^(?:\S*m)?oidc-provider (?:NOTICE|WARNING): /;

/**
 * The embedded IdP is oidc-provider in development mode, and it says so on the console: an
 * unsupported Node version, dev login pages, default device-flow pages. True, expected here, and
 * not what the demo is showing, so they are held back and counted. DEMO_VERBOSE=1 lets them
 * through.
 */
export function holdBackIdpNotices(env: NodeJS.ProcessEnv = process.env): () => number {
  if (env.DEMO_VERBOSE === "1") return () => 0;
  let held = 0;
  for (const method of ["info", "warn"] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      if (typeof args[0] === "string" && NOTICE.test(args[0])) {
        held += 1;
        return;
      }
      original(...args);
    };
  }
  return () => held;
}
