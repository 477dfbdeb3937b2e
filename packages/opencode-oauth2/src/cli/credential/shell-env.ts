import { UsageError } from "../errors.js";

/** The variable `token --format env` exports and `exec` sets unless `--env NAME` says otherwise. */
export const DEFAULT_ENV_NAME = "OPENAI_API_KEY";

// POSIX shells accept no other names in `export NAME=…`; one rule for `token` and `exec` keeps
// a name that works with one working with the other.
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The `--env` value, checked: letters, digits and `_`, not starting with a digit. */
export function envName(value: string | boolean | undefined): string {
  if (value === undefined) return DEFAULT_ENV_NAME;
  if (typeof value !== "string" || !ENV_NAME.test(value)) {
    throw new UsageError(
      `--env must name an environment variable (letters, digits and _, not starting with a digit), not "${String(value)}"`,
    );
  }
  return value;
}

/**
 * `value` as one shell word that no POSIX shell expands: inside single quotes nothing is
 * special, and a single quote itself is closed, escaped and reopened. The token comes from the
 * IdP, so it is quoted as if it could hold anything.
 */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `export NAME='value'`, for `eval "$(opencode-oauth2 token corp --format env)"`. */
export const exportLine = (name: string, value: string): string =>
  `export ${name}=${shellQuote(value)}`;
