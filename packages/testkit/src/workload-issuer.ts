import { randomUUID } from "node:crypto";
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from "jose";
import { errors } from "oidc-provider";

/**
 * A workload identity issuer for tests: what GitHub Actions' or a Kubernetes cluster's token
 * issuer is to a real IdP. It signs short-lived JWTs with its own key; the kit's IdP trusts it
 * through `trustedIssuers` (see jwt-bearer.ts), by its public JWKS.
 */
export interface WorkloadIssuer {
  readonly issuer: string;
  /** The public keys an IdP verifies this issuer's tokens with. */
  readonly jwks: { keys: JWK[] };
  /** A signed JWT with `iss`, `iat`, `exp` (`ttlSeconds`, default 300; negative: already
   * expired) and `jti`, plus `claims`. */
  sign(claims: JWTPayload & { sub: string; aud: string }, ttlSeconds?: number): Promise<string>;
}

export async function createWorkloadIssuer(issuer: string): Promise<WorkloadIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const kid = `workload-${randomUUID().slice(0, 8)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  return {
    issuer,
    jwks: { keys: [jwk] },
    sign: (claims, ttlSeconds = 300) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ ...claims, jti: randomUUID() })
        .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
        .setIssuer(issuer)
        .setIssuedAt(ttlSeconds < 0 ? now + ttlSeconds - 60 : now)
        .setExpirationTime(now + ttlSeconds)
        .sign(privateKey);
    },
  };
}

/** An issuer of workload tokens the IdP trusts (GitHub Actions, a Kubernetes cluster…). */
export interface TrustedIssuer {
  issuer: string;
  jwks: { keys: JWK[] };
  /** The `aud` this IdP requires in that issuer's tokens. */
  audience: string;
}

/**
 * Verifies a workload JWT as an IdP with a federation trust does: signature against the
 * trusted issuer's JWKS, `iss`, `aud`, `exp`. Throws oidc-provider's invalid_grant with the
 * reason, as real IdPs word it roughly.
 */
export async function verifyWorkloadJwt(
  token: string,
  trusted: readonly TrustedIssuer[],
): Promise<JWTPayload> {
  let iss: unknown;
  try {
    iss = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")).iss;
  } catch {
    throw new errors.InvalidGrant("the assertion is not a JWT");
  }
  const issuer = trusted.find((t) => t.issuer === iss);
  if (!issuer) throw new errors.InvalidGrant(`the assertion's issuer is not trusted`);
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.jwks), {
      issuer: issuer.issuer,
      audience: issuer.audience,
      requiredClaims: ["exp", "sub"],
    });
    return payload;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) {
      throw new errors.InvalidGrant("the assertion has expired");
    }
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      throw new errors.InvalidGrant(`the assertion's ${err.claim} claim is not accepted`);
    }
    throw new errors.InvalidGrant("the assertion's signature does not verify");
  }
}
