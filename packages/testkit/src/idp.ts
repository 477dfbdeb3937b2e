// Importing oidc-provider v9 on Node 20 prints, once per process and at import time,
// "oidc-provider WARNING: Unsupported runtime. Use Node.js v22.x LTS, or a later LTS release."
// (console.warn from its index.js, checked against process.release.lts). There is no env flag
// to silence it; it is harmless here, the kit's tests pass on Node 20.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLocalJWKSet, createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import Provider from "oidc-provider";
import {
  assertionRefusalDescribed,
  basicCredentialsNotDecoded,
  publicClientRevocationRefused,
} from "./client-auth-quirks.js";
import {
  buildConfiguration,
  DEFAULT_AUDIENCE,
  type IdpOptions,
  resourceServerInfo,
} from "./config.js";
import { defaultScope } from "./default-scope.js";
import { deviceInterval } from "./device-interval.js";
import { emptyErrorBodies } from "./empty-error-bodies.js";
import { exactRedirectUris } from "./exact-redirect-uris.js";
import { type FailureMode, type FailureOptions, FailureSwitch } from "./failures.js";
import { federatedClientAssertions } from "./federated-client-auth.js";
import { createIdpServer } from "./idp-tls.js";
import { registerJwtBearer } from "./jwt-bearer.js";
import { signingJwks } from "./keys.js";
import type { KitMiddleware } from "./middleware.js";
import {
  deviceRequiresPkce,
  endlessAuthorizationPending,
  type QuirkPaths,
  refusedClientAsUnauthorizedClient,
  rejectPkce,
  rejectSecretForPublicExchange,
} from "./quirks.js";
import { type GrantErrorRecord, RequestLog, type TokenRequestRecord } from "./request-log.js";
import { registerTokenExchange } from "./token-exchange.js";

export {
  certificateBoundClient,
  clientSecretJwtClient,
  confidentialClient,
  DEVICE_CODE_GRANT,
  JWT_BEARER_GRANT,
  LOOPBACK_REDIRECT_URI,
  privateKeyJwtClient,
  publicNativeClient,
  TOKEN_EXCHANGE_GRANT,
} from "./clients.js";
export type { IdpOptions } from "./config.js";
export type { FailureMode, FailureOptions } from "./failures.js";
export type { IdpQuirks } from "./quirks.js";
export type { GrantErrorRecord, TokenRequestRecord } from "./request-log.js";

/** A running oidc-provider on 127.0.0.1 with the kit's helpers. */
export interface TestIdp {
  /** `http://127.0.0.1:<port>`, exactly as the OP's discovery document spells it. */
  readonly issuer: string;
  readonly port: number;
  /** The underlying oidc-provider instance. */
  readonly provider: Provider;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  readonly deviceAuthorizationEndpoint: string;
  readonly revocationEndpoint: string;
  /** `aud` of every access token the IdP issues. */
  readonly audience: string;
  /** Every request to the token endpoint, in arrival order. */
  readonly tokenRequests: readonly TokenRequestRecord[];
  /** When each request for the discovery document arrived (`Date.now()`), in order. */
  readonly discoveryRequests: readonly number[];
  /** Every error the token endpoint answered (OP errors and quirk rejections). */
  readonly grantErrors: readonly GrantErrorRecord[];
  countGrants(grantType: string): number;
  /** Break the token endpoint (and discovery with `{ discovery: true }`); null restores it. */
  setFailure(mode: FailureMode | null, options?: FailureOptions): void;
  /** Delay every token endpoint response by `ms` from now on. */
  setTokenDelay(ms: number): void;
  /** Verifies a JWT access token against the OP's JWKS, issuer and audience. */
  verifyAccessToken(token: string): Promise<JWTPayload>;
  /** Destroys a refresh token server-side; false when the OP did not know it. */
  revokeRefreshToken(token: string): Promise<boolean>;
  /** Stops listening (drops open connections); state and port are kept for `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()`. */
  start(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function pathOf(provider: Provider, route: string): string {
  return new URL(provider.urlFor(route)).pathname;
}

/**
 * Starts a real oidc-provider v9 on 127.0.0.1 (random port) with JWT access tokens, device
 * flow, revocation, introspection, token exchange, dev login/consent pages and optional
 * quirks of other IdPs emulated in front of it.
 */
export async function startIdp(options: IdpOptions = {}): Promise<TestIdp> {
  const server = await createIdpServer(options.https);
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;
  const issuer = `${options.https ? "https" : "http"}://127.0.0.1:${port}`;
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  let provider: Provider;
  try {
    provider = new Provider(issuer, await buildConfiguration(options));
  } catch (error) {
    await shutdown(server);
    throw error;
  }

  registerTokenExchange(provider, {
    acceptedSubjectTokens: options.acceptedSubjectTokens ?? [],
    trustedIssuers: options.trustedIssuers ?? [],
    audience,
    resourceServer: resourceServerInfo(options),
  });
  registerJwtBearer(provider, {
    trustedIssuers: options.trustedIssuers ?? [],
    audience,
    resourceServer: resourceServerInfo(options),
  });

  const paths: QuirkPaths = {
    authorization: pathOf(provider, "authorization"),
    deviceAuthorization: pathOf(provider, "device_authorization"),
    token: pathOf(provider, "token"),
    revocation: pathOf(provider, "revocation"),
  };
  const discoveryPaths = [
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
  ];
  const log = new RequestLog();
  log.listen(provider);
  const failures = new FailureSwitch(options.tokenDelayMs ?? 0);
  const quirks = options.quirks ?? {};
  const jwksUri = provider.urlFor("jwks");
  // Over https the kit's own fetch would not trust the test CA: verify with the public keys.
  const jwks = options.https
    ? createLocalJWKSet({
        keys: (await signingJwks()).keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub),
      } as Parameters<typeof createLocalJWKSet>[0])
    : createRemoteJWKSet(new URL(jwksUri));
  const verifyAccessToken = async (token: string): Promise<JWTPayload> => {
    const { payload } = await jwtVerify(token, jwks, { issuer, audience, typ: "at+jwt" });
    return payload;
  };

  // provider.use inserts in front of the OP's router, in call order (first = outermost).
  const middlewares: KitMiddleware[] = [
    log.middleware(paths.token, discoveryPaths),
    failures.middleware(paths.token, discoveryPaths),
  ];
  if (options.federatedCredentials?.length) {
    middlewares.push(federatedClientAssertions(paths.token, options.federatedCredentials, log));
  }
  // Outside the other quirks, so that their refusals lose their bodies too.
  if (quirks.emptyErrorBodies) middlewares.push(emptyErrorBodies(paths));
  if (quirks.basicCredentialsNotDecoded) middlewares.push(basicCredentialsNotDecoded());
  if (quirks.exactRedirectUris) {
    middlewares.push(exactRedirectUris(paths.authorization, options.clients ?? []));
  }
  if (quirks.publicClientRevocationRefused) {
    middlewares.push(
      publicClientRevocationRefused({
        revocationPath: paths.revocation,
        provider,
        verifyAccessToken,
        bearerScope: quirks.revocationBearerScope,
      }),
    );
  }
  if (quirks.endlessAuthorizationPending) middlewares.push(endlessAuthorizationPending(paths));
  if (quirks.refusedClientAsUnauthorizedClient) {
    middlewares.push(refusedClientAsUnauthorizedClient(paths));
  }
  if (quirks.assertionRefusalDescribed) middlewares.push(assertionRefusalDescribed(paths.token));
  if (quirks.rejectPkce) middlewares.push(rejectPkce(paths));
  if (quirks.deviceRequiresPkce) middlewares.push(deviceRequiresPkce(paths, log));
  if (quirks.rejectSecretForPublicExchange) {
    middlewares.push(rejectSecretForPublicExchange(paths, options.clients ?? [], log));
  }
  middlewares.push(deviceInterval(paths.deviceAuthorization, options.deviceInterval ?? 1));
  if (options.defaultScope !== null) {
    middlewares.push(defaultScope(paths, options.defaultScope ?? "openid"));
  }
  for (const middleware of middlewares) provider.use(middleware);

  server.on("request", provider.callback());

  let closed = false;

  return {
    issuer,
    port,
    provider,
    jwksUri,
    tokenEndpoint: provider.urlFor("token"),
    deviceAuthorizationEndpoint: provider.urlFor("device_authorization"),
    revocationEndpoint: provider.urlFor("revocation"),
    audience,
    tokenRequests: log.tokenRequests,
    discoveryRequests: log.discoveryRequests,
    grantErrors: log.grantErrors,
    countGrants: (grantType) => log.countGrants(grantType),
    setFailure: (mode, failureOptions) => failures.set(mode, failureOptions),
    setTokenDelay: (ms) => {
      failures.tokenDelayMs = ms;
    },
    verifyAccessToken,
    async revokeRefreshToken(token) {
      const refreshToken = await provider.RefreshToken.find(token);
      if (!refreshToken) return false;
      await refreshToken.destroy();
      return true;
    },
    stop: () => shutdown(server),
    async start() {
      if (closed) throw new Error("the IdP was closed; start a new one");
      if (!server.listening) await listen(server, port);
    },
    async close() {
      closed = true;
      await shutdown(server);
    },
  };
}
