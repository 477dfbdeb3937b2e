/** Exit codes of every command (documented in `--help` and docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** Something failed: config, IdP, cache, or a doctor finding that blocks login. */
  error: 1,
  /** No valid token and this command does not log in: run `opencode-oauth2 login <provider>`. */
  loginRequired: 2,
  /** Bad command line: unknown command, option or provider. */
  usage: 64,
  /** Interrupted (Ctrl-C) during a login. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    error (config, IdP, token cache; doctor found an error)
  2    login required (token: no valid token; run \`opencode-oauth2 login <provider>\`)
  64   usage error (unknown command, option or provider)
  130  interrupted`;

/** A command-line mistake: shown with the command's usage, exit code 64. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A failure already phrased for the user (what failed and the fix), with its exit code. */
export class CliFailure extends Error {
  override readonly name = "CliFailure";
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.error,
  ) {
    super(message);
  }
}
