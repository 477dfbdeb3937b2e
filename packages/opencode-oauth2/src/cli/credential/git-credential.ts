import { CliFailure, UsageError } from "../errors.js";
import type { IssuedToken } from "./issued-token.js";

/**
 * git's credential-helper protocol (gitcredentials(7), git-credential(1)): git runs the helper
 * with an action — `get`, `store` or `erase` — as its last argument and writes `key=value`
 * lines, ended by a blank line or end of input, to its stdin. For `get` the helper answers with
 * `username=` and `password=` lines; git sends them as HTTP Basic credentials. `store` and
 * `erase` are git telling helpers that keep passwords what worked or failed: the token cache is
 * this helper's store, so it ignores both, as git asks helpers to ignore actions they do not use.
 */

/** GitLab's documented user name for OAuth2 tokens; GitHub, Gitea and most proxies ignore it. */
export const DEFAULT_GIT_USERNAME = "oauth2";

/** git sends a few short lines; anything larger is not git. */
const MAX_INPUT_BYTES = 64 * 1024;

export type GitAction = "get" | "ignore";

export function gitAction(value: string | undefined): GitAction {
  if (value === undefined) {
    throw new UsageError(
      "--format git-credential takes git's action (get, store or erase) after the provider; git passes it when the command is its credential.helper",
    );
  }
  return value === "get" ? "get" : "ignore";
}

/** The `--username` value: one line, as the protocol needs. */
export function gitUsername(value: string | boolean | undefined): string {
  if (value === undefined) return DEFAULT_GIT_USERNAME;
  if (typeof value !== "string" || value === "" || /[\r\n\0]/.test(value)) {
    throw new UsageError("--username must be a non-empty name on one line");
  }
  return value;
}

/** Reads git's attributes: up to the blank line or the end of input, bounded. */
export async function readGitRequest(input: AsyncIterable<Buffer | string>) {
  let text = "";
  for await (const chunk of input) {
    text += chunk.toString();
    if (text.length > MAX_INPUT_BYTES) {
      throw new CliFailure(
        "the credential request on stdin is larger than git ever sends (64 KiB)",
      );
    }
    const lines = text.replaceAll("\r\n", "\n");
    if (lines.startsWith("\n") || lines.includes("\n\n")) break;
  }
  const attributes = new Map<string, string>();
  for (const line of text.replaceAll("\r\n", "\n").split("\n")) {
    if (line === "") break;
    const at = line.indexOf("=");
    if (at > 0) attributes.set(line.slice(0, at), line.slice(at + 1));
  }
  return attributes;
}

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * Refuses to answer for a plain-http remote other than loopback: git would send the token as a
 * Basic password in clear text to whatever is on the path.
 */
export function checkGitRequest(attributes: Map<string, string>): void {
  const protocol = attributes.get("protocol");
  const host = attributes.get("host") ?? "";
  if (protocol === "http" && !LOOPBACK_HOST.test(host)) {
    throw new CliFailure(
      `git asks for a credential for http://${host}, which is not encrypted: refusing to send the token there. Fix: use an https:// remote.`,
    );
  }
}

/** The answer to `get`. `password_expiry_utc` (git 2.41+) tells git when to ask again. */
export function gitCredential(username: string, token: IssuedToken): string {
  const lines = [`username=${username}`, `password=${token.accessToken}`];
  if (token.expiresAt !== undefined) {
    lines.push(`password_expiry_utc=${Math.floor(token.expiresAt / 1000)}`);
  }
  return lines.join("\n");
}
