import { UsageError } from "../errors.js";
import { execCredential, requestedApiVersion } from "./exec-credential.js";
import {
  checkGitRequest,
  gitAction,
  gitCredential,
  gitUsername,
  readGitRequest,
} from "./git-credential.js";
import type { IssuedToken } from "./issued-token.js";
import { envName, exportLine } from "./shell-env.js";

export const TOKEN_FORMATS = [
  "raw",
  "json",
  "header",
  "env",
  "exec-credential",
  "git-credential",
] as const;
export type TokenFormatName = (typeof TOKEN_FORMATS)[number];

/** What a format may read before a token is fetched. */
export interface FormatRequest {
  /** `--env`, `--username`. */
  options: { env?: string | boolean | undefined; username?: string | boolean | undefined };
  /** Arguments after the provider (git's action). */
  extra: string[];
  env: NodeJS.ProcessEnv;
  stdin: AsyncIterable<Buffer | string>;
}

/** Prints a token as the format's consumer reads it (without the final newline). */
export type Printer = (token: IssuedToken) => string;

interface TokenFormat {
  /** The options besides --format that only this format takes. */
  options?: ReadonlyArray<keyof FormatRequest["options"]>;
  /** Whether an argument follows the provider (git's action). */
  takesAction?: boolean;
  /**
   * Reads and checks the request, before any token is fetched (so a bad request costs no
   * network call and no refresh); null when the request needs no token at all.
   */
  prepare(request: FormatRequest): Promise<Printer | null> | Printer | null;
}

const FORMATS: Record<TokenFormatName, TokenFormat> = {
  raw: { prepare: () => (token) => token.accessToken },
  json: {
    // Never the refresh token: what a script needs to use the access token, and when it ends.
    prepare: () => (token) =>
      JSON.stringify(
        {
          access_token: token.accessToken,
          token_type: token.tokenType,
          expires_at: token.expiresAt === undefined ? null : Math.floor(token.expiresAt / 1000),
        },
        null,
        2,
      ),
  },
  // The plugin sends `Bearer` whatever case the IdP wrote token_type in; so does this line.
  header: { prepare: () => (token) => `Authorization: Bearer ${token.accessToken}` },
  env: {
    options: ["env"],
    prepare: ({ options }) => {
      const name = envName(options.env);
      return (token) => exportLine(name, token.accessToken);
    },
  },
  "exec-credential": {
    prepare: ({ env }) => {
      const apiVersion = requestedApiVersion(env);
      return (token) => execCredential(apiVersion, token);
    },
  },
  "git-credential": {
    options: ["username"],
    takesAction: true,
    prepare: async ({ extra, options, stdin }) => {
      const action = gitAction(extra[0]);
      const username = gitUsername(options.username);
      const request = await readGitRequest(stdin);
      if (action !== "get") return null;
      checkGitRequest(request);
      return (token) => gitCredential(username, token);
    },
  },
};

const OPTION_FOR: Record<keyof FormatRequest["options"], TokenFormatName> = {
  env: "env",
  username: "git-credential",
};

const isFormat = (value: unknown): value is TokenFormatName =>
  (TOKEN_FORMATS as readonly unknown[]).includes(value);

/**
 * The `--format` value and its options, checked (a usage error says what goes with what), and
 * the request read: how to print the token, or null when there is nothing to print.
 */
export async function prepareFormat(
  value: string | boolean | undefined,
  request: FormatRequest,
): Promise<Printer | null> {
  const name = value ?? "raw";
  if (!isFormat(name)) {
    throw new UsageError(
      `--format must be one of ${TOKEN_FORMATS.join(", ")}, not "${String(value)}"`,
    );
  }
  const format = FORMATS[name];
  for (const option of Object.keys(OPTION_FOR) as Array<keyof typeof OPTION_FOR>) {
    if (request.options[option] !== undefined && !format.options?.includes(option)) {
      throw new UsageError(`--${option} goes with --format ${OPTION_FOR[option]} only`);
    }
  }
  if (!format.takesAction && request.extra.length > 0) {
    throw new UsageError(`unexpected argument "${request.extra[0]}"`);
  }
  return format.prepare(request);
}
