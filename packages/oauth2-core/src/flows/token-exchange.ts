import { readFile } from "node:fs/promises";
import * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { OAuth2Error } from "../errors.js";
import { clientOf, toOAuth2Error } from "../oidc/protocol-errors.js";
import { grantParams } from "./grant-params.js";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";

/** Reads the subject token afresh (a projected service-account token rotates on disk). */
export async function readSubjectToken(
  provider: ProviderConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const source = provider.subjectToken;
  const fail = (message: string, fix: string) =>
    new OAuth2Error({ code: "subject_token_unavailable", providerId: provider.id, message, fix });
  if (!source)
    throw fail(
      "no subjectToken is configured for token_exchange.",
      'set subjectToken { "file": … } or { "env": … }',
    );
  if (source.env) {
    const value = env[source.env]?.trim();
    if (!value)
      throw fail(
        `the environment variable ${source.env} is empty or unset.`,
        `export ${source.env} with the subject token`,
      );
    return value;
  }
  try {
    const value = (await readFile(source.file as string, "utf8")).trim();
    if (!value) throw new Error("empty");
    return value;
  } catch {
    throw fail(
      `could not read the subject token from ${source.file}.`,
      "check the file exists, is readable and not empty",
    );
  }
}

/** OAuth 2.0 Token Exchange (RFC 8693): trade a subject token for an access token. */
export async function tokenExchange(
  provider: ProviderConfig,
  config: client.Configuration,
  env: NodeJS.ProcessEnv = process.env,
): Promise<client.TokenEndpointResponse> {
  const subjectToken = await readSubjectToken(provider, env);
  const params = grantParams(provider, {
    subject_token: subjectToken,
    subject_token_type: provider.subjectToken?.type ?? "urn:ietf:params:oauth:token-type:jwt",
    requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
  });
  try {
    return await client.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, params);
  } catch (err) {
    throw toOAuth2Error(err, "token_exchange", provider.id, clientOf(config));
  }
}
