import * as z from "zod/mini";
import { AUTH_FLOWS, type ProviderConfig, type ResolvedClient } from "../config/schema.js";
import { bindingKey } from "./binding-key.js";

/**
 * What minted a token. A cached token is only ever used when the provider's current config
 * would mint a token with the same binding, so after a config change an old token is never sent
 * to another IdP, client or audience.
 */
export const TokenBindingSchema = z.object({
  issuer: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()),
  audience: z.optional(z.string()),
  resource: z.optional(z.array(z.string())),
});
export type TokenBinding = z.infer<typeof TokenBindingSchema>;

/** The on-disk shape of one provider's token file. */
export const StoredTokenSchema = z.object({
  version: z.literal(1),
  providerId: z.string(),
  binding: TokenBindingSchema,
  flow: z.enum(AUTH_FLOWS),
  accessToken: z.string().check(z.minLength(1)),
  tokenType: z._default(z.string(), "Bearer"),
  /** Epoch ms; absent when the IdP gave no lifetime (then the token is used until a 401). */
  expiresAt: z.optional(z.number()),
  refreshToken: z.optional(z.string().check(z.minLength(1))),
  idToken: z.optional(z.string()),
  /** Scope granted, as the IdP reported it. */
  scope: z.optional(z.string()),
  /** `sub` of the id_token or access token, for status displays. */
  subject: z.optional(z.string()),
  obtainedAt: z.number(),
});
export type StoredToken = z.infer<typeof StoredTokenSchema>;

/**
 * The token file of a token kept in the OS keyring: what is not secret (binding, expiry,
 * scopes) and where the secrets are. The keyring entry holds the whole {@link StoredToken}, so
 * a writer killed between the keyring and the file leaves a keyring entry that is complete
 * on its own.
 */
export const TokenMetadataSchema = z.extend(
  z.omit(StoredTokenSchema, { accessToken: true, refreshToken: true, idToken: true }),
  {
    hasRefreshToken: z.boolean(),
    keyring: z.object({ service: z.string(), account: z.string() }),
  },
);
export type TokenMetadata = z.infer<typeof TokenMetadataSchema>;

/** Where a provider's tokens are: the 0600 token file itself, or the OS keyring. */
export type TokenLocation = "file" | "keyring";

export function bindingFor(provider: ProviderConfig, client: ResolvedClient): TokenBinding {
  return {
    issuer: provider.issuer,
    clientId: client.clientId,
    scopes: [...provider.scopes].sort(),
    ...(provider.audience ? { audience: provider.audience } : {}),
    ...(provider.resource ? { resource: [...provider.resource].sort() } : {}),
  };
}

export function sameBinding(a: TokenBinding, b: TokenBinding): boolean {
  return bindingKey(a) === bindingKey(b);
}

/** The client of `provider` that minted `token`, or undefined when neither binding matches. */
export function clientForToken(
  provider: ProviderConfig,
  token: StoredToken,
): ResolvedClient | undefined {
  for (const client of [provider.loginClient, provider.client]) {
    if (sameBinding(bindingFor(provider, client), token.binding)) return client;
  }
  return undefined;
}
