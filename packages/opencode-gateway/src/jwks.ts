import { type FetchLike, isLoopbackHttp } from "@vymalo/oauth2-core";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JWKSCacheInput,
  type JWTVerifyGetKey,
  jwksCache,
} from "jose";
import { readJsonBounded } from "./bounded-json.js";
import type { Logger } from "./log.js";
import {
  createOutboundBudget,
  KEY_FETCH_LIMITS,
  type OutboundBudget,
  OutboundBudgetExceeded,
} from "./outbound-budget.js";

/**
 * The issuer's signing keys, for verify-token.ts. The JWKS URL is `jwksUri` when configured,
 * else the `jwks_uri` of the issuer's discovery document (fetched once, retried after a
 * failure). Keys come from jose's `createRemoteJWKSet`: cached in memory, re-fetched when a
 * token names a `kid` the cache does not hold (at most every `cooldownMs`) and when the cache is
 * older than `maxAgeMs` — so a key rotation at the IdP is picked up without a restart. When a
 * re-fetch fails, the last good key set is used (stale-if-error) so a short IdP outage does not
 * stop requests carrying still-valid tokens. Every discovery and JWKS fetch spends from the
 * outbound budget: while the IdP fails, tokens naming unknown key ids cost a few fetches, not
 * one each.
 */

export type { FetchLike };

/** The keys cannot be had right now (discovery or JWKS unreachable): the gateway answers 503. */
export class KeySourceUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KeySourceUnavailable";
  }
}

export interface KeySourceOptions {
  issuer: string;
  jwksUri?: string | undefined;
  fetch?: FetchLike | undefined;
  logger?: Logger | undefined;
  timeoutMs?: number;
  cooldownMs?: number;
  maxAgeMs?: number;
  /** Shared with introspection in the gateway; default: one with {@link KEY_FETCH_LIMITS}. */
  budget?: OutboundBudget | undefined;
}

/** Errors jose raises about the token, not about reaching the key set. */
const isTokenError = (error: unknown) =>
  error instanceof errors.JWKSNoMatchingKey ||
  error instanceof errors.JWKSMultipleMatchingKeys ||
  error instanceof errors.JOSENotSupported ||
  error instanceof errors.JOSEAlgNotAllowed;

async function discoverJwksUri(
  issuer: string,
  fetchImpl: FetchLike,
  timeoutMs: number,
): Promise<string> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new KeySourceUnavailable(`discovery at ${url} failed: ${String(cause)}`, { cause });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new KeySourceUnavailable(`discovery at ${url} answered HTTP ${response.status}`);
  }
  let doc: { issuer?: unknown; jwks_uri?: unknown } | null;
  try {
    doc = (await readJsonBounded(response)) as typeof doc;
  } catch (cause) {
    throw new KeySourceUnavailable(`discovery at ${url} failed: ${String(cause)}`, { cause });
  }
  if (doc?.issuer !== issuer) {
    throw new KeySourceUnavailable(
      `discovery at ${url} names issuer ${JSON.stringify(doc?.issuer)}, not ${JSON.stringify(issuer)}: set issuer exactly as the IdP spells it`,
    );
  }
  const jwksUri = doc.jwks_uri;
  if (
    typeof jwksUri !== "string" ||
    !URL.canParse(jwksUri) ||
    !(jwksUri.startsWith("https://") || isLoopbackHttp(jwksUri))
  ) {
    throw new KeySourceUnavailable(`discovery at ${url} has no usable https jwks_uri`);
  }
  return jwksUri;
}

/**
 * A jose key resolver that can also say which key set it answers from: `keySet()` is the key
 * set object while it is fresh (fetched less than `maxAgeMs` ago), and undefined before the
 * first fetch, once it is stale, and while a re-fetch is running or failing. jose replaces the
 * object on every successful fetch, so the same object means the same keys: a remembered
 * verdict whose key set is still the current one needs no key lookup (verdict-cache.ts).
 */
export type KeySource = JWTVerifyGetKey & { keySet(): object | undefined };

/** What jose's remote key set exposes besides being a resolver. */
type RemoteKeySet = JWTVerifyGetKey & { readonly fresh: boolean; readonly reloading: boolean };

/** A jose key resolver for the issuer's keys (see the module comment). */
export function issuerKeySource(options: KeySourceOptions): KeySource {
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const budget = options.budget ?? createOutboundBudget({ limits: KEY_FETCH_LIMITS });
  const discoveryFetch = budget.guard("discovery", fetchImpl);
  const jwksFetch = budget.guard("jwks", fetchImpl);
  const timeoutMs = options.timeoutMs ?? 5000;
  // jose updates this object after every successful fetch: the last good key set.
  const lastGood: JWKSCacheInput = {};
  let remote: Promise<RemoteKeySet> | undefined;
  // The resolved remote set, for keySet(): a hit must not wait for a promise.
  let resolved: RemoteKeySet | undefined;

  const build = async (): Promise<RemoteKeySet> => {
    const uri =
      options.jwksUri ?? (await discoverJwksUri(options.issuer, discoveryFetch, timeoutMs));
    resolved = createRemoteJWKSet(new URL(uri), {
      timeoutDuration: timeoutMs,
      cooldownDuration: options.cooldownMs ?? 30_000,
      cacheMaxAge: options.maxAgeMs ?? 600_000,
      [customFetch]: (url: string, init: RequestInit) => jwksFetch(url, init),
      [jwksCache]: lastGood,
    });
    return resolved;
  };

  const getKeyOf: JWTVerifyGetKey = async (header, token) => {
    remote ??= build();
    let getKey: JWTVerifyGetKey;
    try {
      getKey = await remote;
    } catch (error) {
      remote = undefined; // try discovery again on the next request
      throw error;
    }
    try {
      return await getKey(header, token);
    } catch (error) {
      if (isTokenError(error)) throw error;
      if ("jwks" in lastGood && lastGood.jwks) {
        // Refused by the budget is not news: the budget logged that once already.
        if (!(error instanceof OutboundBudgetExceeded)) {
          options.logger?.emit("gateway_jwks_refresh_failed", {
            detail: String(error),
            using: "last good key set",
          });
        }
        return createLocalJWKSet(lastGood.jwks)(header, token);
      }
      throw new KeySourceUnavailable(`the issuer's JWKS could not be fetched: ${String(error)}`, {
        cause: error,
      });
    }
  };
  const keySet = (): object | undefined =>
    resolved?.fresh && !resolved.reloading ? lastGood.jwks : undefined;
  return Object.assign(getKeyOf, { keySet });
}
