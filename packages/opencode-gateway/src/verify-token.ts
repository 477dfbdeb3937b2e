import {
  errors,
  type FlattenedJWSInput,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import type { GatewayConfig } from "./config.js";
import { KeySourceUnavailable } from "./jwks.js";
import { checkIssuedAt, checkNotIdToken, checkTokenType } from "./token-checks.js";
import { type Acceptance, VerdictCache } from "./verdict-cache.js";

export type { Acceptance };

/**
 * Bearer token validation: a pure function of the policy (from the config), a key source and,
 * for opaque tokens, an introspection function. Nothing here does I/O of its own.
 *
 * A JWT (three dot-separated parts) is checked for: an allowed asymmetric algorithm, a valid
 * signature by one of the issuer's keys, `iss`, `exp` (required), `nbf` and `iat` within the
 * clock tolerance, an `aud` in the audiences allow-list, that it is an access token (`typ`, no
 * ID token marks: token-checks.ts), the client (`azp`, else `client_id`) in the clients
 * allow-list, then the required scopes and groups. Any other token goes to RFC 7662
 * introspection when it is configured (the answer must be `active`, then the same checks), and
 * is refused when it is not.
 */

export interface TokenPolicy {
  issuer: string;
  audiences: readonly string[];
  /** Accepted client ids (`azp` / `client_id`). */
  clients: readonly string[];
  /** Claims naming the client; the first one present is checked. */
  clientClaims: readonly string[];
  algorithms: readonly string[];
  clockToleranceSec: number;
  /** All of these must be granted. */
  requiredScopes: readonly string[];
  /** At least one of these must be held (none listed: no group check). */
  requiredGroups: readonly string[];
  groupsClaim: string;
  /** Accept only `typ: at+jwt` (RFC 9068) JWTs. */
  requireAtJwt?: boolean;
  /** Skip the ID-token check (IdPs whose access tokens look like ID tokens: authentik). */
  allowIdTokenShapedAccessTokens?: boolean;
}

export function policyFromConfig(config: GatewayConfig): TokenPolicy {
  return {
    issuer: config.issuer,
    audiences: config.audiences,
    clients: config.acceptedClients,
    clientClaims: config.clientClaims,
    algorithms: config.algorithms,
    clockToleranceSec: config.clockToleranceSec,
    requiredScopes: config.requiredScopes,
    requiredGroups: config.requiredGroups,
    groupsClaim: config.groupsClaim,
    requireAtJwt: config.requireAtJwt,
    allowIdTokenShapedAccessTokens: config.allowIdTokenShapedAccessTokens,
  };
}

export type Claims = Record<string, unknown>;

/** A refusal: `status`, the RFC 6750 `error` (absent when no credentials were sent) and why. */
export interface Rejection {
  status: 401 | 403 | 503;
  error?: "invalid_token" | "insufficient_scope" | "temporarily_unavailable";
  description: string;
  /** A stable code for logs and tests. */
  reason: string;
  /** For insufficient_scope: the scopes the request needs. */
  scope?: string;
  /** For the log only (never sent to the client): what went wrong on the gateway's side. */
  detail?: string;
}

/**
 * Accepted, or refused. A valid token refused for what it may do (a scope, a group: 403) keeps
 * its `claims`, so that its certificate binding can still be checked first (auth.ts).
 */
export type Verdict = Acceptance | { ok: false; rejection: Rejection; claims?: Claims };

/** Resolves with the RFC 7662 answer for `token`; rejects when the endpoint cannot be used. */
export type Introspect = (token: string) => Promise<Claims>;

export interface VerifierDeps {
  /** The issuer's keys; with `keySet` (jwks.ts), a remembered verdict skips the key lookup. */
  keys: JWTVerifyGetKey & { keySet?: () => object | undefined };
  introspect?: Introspect | undefined;
  now?: () => Date;
  /** How many accepted JWTs are remembered until their `exp` (verdict-cache.ts); 0: none. */
  cacheEntries?: number;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A refusal; 403 is always `insufficient_scope`, 503 `temporarily_unavailable`. */
export function rejection(
  status: Rejection["status"],
  reason: string,
  description: string,
  extra: Partial<Rejection> = {},
): Rejection {
  const error =
    status === 403
      ? "insufficient_scope"
      : status === 503
        ? "temporarily_unavailable"
        : "invalid_token";
  return { status, error, reason, description, ...extra };
}

const reject = (...args: Parameters<typeof rejection>): Verdict => ({
  ok: false,
  rejection: rejection(...args),
});

/** The function that judges a bearer token under `policy`. */
export interface TokenVerifier {
  (token: string): Promise<Verdict>;
  /**
   * The acceptance remembered for `token`, when it holds as it is: unexpired, and the key source
   * still answers from the key set the token was verified against. Answered at once, with
   * nothing looked up (the request path's common case); otherwise undefined, and the token is
   * judged by calling the verifier.
   */
  recall(token: string): Verdict | undefined;
}

export function createTokenVerifier(policy: TokenPolicy, deps: VerifierDeps): TokenVerifier {
  const now = deps.now ?? (() => new Date());
  const nowMs = deps.now ? () => now().getTime() : Date.now;
  const cache = deps.cacheEntries === 0 ? undefined : new VerdictCache(deps.cacheEntries);

  const recall = (token: string): Verdict | undefined => {
    const hit = cache?.get(token, nowMs());
    if (!hit) return undefined;
    const current = deps.keys.keySet?.();
    return current !== undefined && hit.keySet === current ? hit.verdict : undefined;
  };

  /**
   * A remembered acceptance, while the key that verified it is still the token's key: at once
   * when the key source still answers from the key set the token was verified against, else by
   * asking the key source for the token's key again.
   */
  const remembered = async (token: string): Promise<Verdict | undefined> => {
    const hit = cache?.get(token, nowMs());
    if (!hit) return undefined;
    // Taken before the lookup: a key set replaced meanwhile makes the next hit look again.
    const current = deps.keys.keySet?.();
    if (current !== undefined && hit.keySet === current) return hit.verdict;
    const [header = "", payload = "", signature = ""] = token.split(".");
    try {
      const key = await deps.keys(hit.header, { protected: header, payload, signature });
      if (key === hit.key) {
        hit.keySet = current;
        return hit.verdict;
      }
    } catch {
      // the key is gone, or cannot be had now: verify as if it had never been seen
    }
    cache?.forget(token);
    return undefined;
  };

  const verifyJwt = async (token: string): Promise<Verdict> => {
    const known = await remembered(token);
    if (known) return known;
    let payload: JWTPayload;
    let typ: unknown;
    let header: JWTHeaderParameters;
    let usedKey: unknown;
    // Taken before the lookup: a key set replaced meanwhile makes the next hit look again.
    const keySet = deps.keys.keySet?.();
    const keys = async (protectedHeader: JWTHeaderParameters, input: FlattenedJWSInput) => {
      usedKey = await deps.keys(protectedHeader, input);
      return usedKey as Awaited<ReturnType<JWTVerifyGetKey>>;
    };
    try {
      let protectedHeader: JWTHeaderParameters;
      ({ payload, protectedHeader } = await jwtVerify(token, keys, {
        issuer: policy.issuer,
        audience: [...policy.audiences],
        algorithms: [...policy.algorithms],
        clockTolerance: policy.clockToleranceSec,
        requiredClaims: ["exp"],
        currentDate: now(),
      }));
      typ = protectedHeader.typ;
      header = protectedHeader;
    } catch (error) {
      return joseRejection(error);
    }
    const problem =
      checkIssuedAt(payload.iat, now().getTime() / 1000, policy.clockToleranceSec) ??
      checkTokenType(typ, policy.requireAtJwt ?? false) ??
      (policy.allowIdTokenShapedAccessTokens
        ? null
        : checkNotIdToken(payload, policy.clientClaims));
    if (problem) return reject(401, problem.reason, problem.description);
    const verdict = checkGrants(policy, payload, "jwt");
    if (verdict.ok && cache && typeof payload.exp === "number") {
      cache.set(token, {
        verdict,
        header,
        key: usedKey,
        keySet,
        until: payload.exp * 1000,
      });
    }
    return verdict;
  };

  const verifyOpaque = async (token: string): Promise<Verdict> => {
    if (!deps.introspect) {
      return reject(
        401,
        "not_a_jwt",
        "the token is not a JWT and this gateway has no introspection",
      );
    }
    let answer: Claims;
    try {
      answer = await deps.introspect(token);
    } catch (error) {
      return reject(503, "introspection_unavailable", "token introspection is unavailable", {
        detail: String(error),
      });
    }
    const problem = checkIntrospected(policy, answer, now().getTime() / 1000);
    return problem ?? checkGrants(policy, answer, "introspection");
  };

  const verify = (token: string) =>
    JWT_SHAPE.test(token) ? verifyJwt(token) : verifyOpaque(token);
  return Object.assign(verify, { recall });
}

function joseRejection(error: unknown): Verdict {
  if (error instanceof KeySourceUnavailable) {
    return reject(
      503,
      "keys_unavailable",
      "the issuer's signing keys cannot be fetched right now",
      {
        detail: error.message,
      },
    );
  }
  if (error instanceof errors.JWTExpired) return reject(401, "expired", "the token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "iss":
        return reject(401, "wrong_issuer", "the token was issued by another issuer");
      case "aud":
        return reject(401, "wrong_audience", "the token is not meant for this gateway (aud)");
      case "nbf":
        return reject(401, "not_yet_valid", "the token is not valid yet (nbf)");
      case "exp":
        return reject(401, "no_expiry", "the token has no expiry (exp)");
      default:
        return reject(401, `bad_${error.claim}`, `the token's ${error.claim} claim is invalid`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return reject(401, "alg_not_allowed", "the token's signing algorithm is not accepted");
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return reject(401, "unknown_key", "no signing key of the issuer matches the token (kid)");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return reject(401, "bad_signature", "the token's signature is invalid");
  }
  return reject(401, "malformed", "the token is malformed");
}

const asList = (value: unknown): string[] =>
  typeof value === "string"
    ? [value]
    : Array.isArray(value)
      ? value.filter((v): v is string => typeof v === "string")
      : [];

/** RFC 7662 specifics: `active`, the token type, and iss/exp/nbf when the answer has them. */
function checkIntrospected(policy: TokenPolicy, answer: Claims, nowSec: number): Verdict | null {
  const tolerance = policy.clockToleranceSec;
  if (answer.active !== true) return reject(401, "inactive", "the token is not active");
  const type = answer.token_type;
  if (typeof type === "string" && !/^(bearer|access_token)$/i.test(type)) {
    return reject(401, "not_an_access_token", "the token is not an access token");
  }
  if (answer.iss !== undefined && answer.iss !== policy.issuer) {
    return reject(401, "wrong_issuer", "the token was issued by another issuer");
  }
  if (typeof answer.exp === "number" && answer.exp + tolerance <= nowSec) {
    return reject(401, "expired", "the token has expired");
  }
  if (typeof answer.nbf === "number" && answer.nbf - tolerance > nowSec) {
    return reject(401, "not_yet_valid", "the token is not valid yet (nbf)");
  }
  const future = checkIssuedAt(answer.iat, nowSec, tolerance);
  if (future) return reject(401, future.reason, future.description);
  if (!asList(answer.aud).some((aud) => policy.audiences.includes(aud))) {
    return reject(401, "wrong_audience", "the token is not meant for this gateway (aud)");
  }
  return null;
}

/** The checks shared by JWTs and introspection answers: client, scopes, groups. */
function checkGrants(policy: TokenPolicy, claims: Claims, via: "jwt" | "introspection"): Verdict {
  const claim = policy.clientClaims.find((name) => typeof claims[name] === "string");
  const client = claim ? (claims[claim] as string) : undefined;
  if (!client) {
    return reject(401, "no_client", `the token names no client (${policy.clientClaims.join("/")})`);
  }
  if (!policy.clients.includes(client)) {
    return reject(
      401,
      "client_not_allowed",
      `tokens issued to client "${client}" are not accepted`,
    );
  }
  // A 403 keeps the claims: the token is valid, its binding is still checked first (auth.ts).
  const forbidden = (...args: Parameters<typeof rejection>): Verdict => ({
    ...reject(...args),
    claims,
  });
  const granted = new Set(scopesOf(claims));
  const missing = policy.requiredScopes.filter((scope) => !granted.has(scope));
  if (missing.length > 0) {
    return forbidden(403, "missing_scope", `the token lacks the scope ${missing.join(" ")}`, {
      scope: policy.requiredScopes.join(" "),
    });
  }
  if (policy.requiredGroups.length > 0) {
    const groups = groupsOf(claims, policy.groupsClaim);
    if (!groups.some((group) => policy.requiredGroups.includes(group))) {
      return forbidden(403, "group_not_allowed", "the user is in none of the groups allowed here");
    }
  }
  return { ok: true, claims, via };
}

/** `scope` (space-separated string, RFC 8693/9068) or `scp` (array or string, Azure/Okta). */
export function scopesOf(claims: Claims): string[] {
  const scope = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
  const scp = typeof claims.scp === "string" ? claims.scp.split(" ") : asList(claims.scp);
  return [...scope, ...scp].filter(Boolean);
}

/** The groups `claims` hold in `groupsClaim` (a string or an array of strings). */
export const groupsOf = (claims: Claims, groupsClaim: string): string[] =>
  asList(claimAt(claims, groupsClaim));

/** A claim by name, or by dotted path into nested objects (`realm_access.roles`). A claim whose
 * own name contains dots (Auth0's namespaced `https://example.com/groups`) wins. */
export function claimAt(claims: Claims, path: string): unknown {
  if (path in claims) return claims[path];
  let node: unknown = claims;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
