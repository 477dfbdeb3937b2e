import { createHash } from "node:crypto";
import type Provider from "oidc-provider";
import { isRoute, type KitMiddleware, presentedClient, readForm } from "./middleware.js";

/** One request that reached the token endpoint (including ones a quirk or failure answered). */
export interface TokenRequestRecord {
  grantType: string | undefined;
  clientId: string | undefined;
  /** sha256 (hex, first 16) of the presented `refresh_token`, to see one spent twice. */
  refreshTokenHash: string | undefined;
  /** {@link tokenHash} of the presented `assertion` (jwt-bearer) or `subject_token` (token
   * exchange), to see which workload token a renewal sent. */
  assertionHash: string | undefined;
  /** `Date.now()` when the request arrived. */
  at: number;
}

/** One error answered by the token endpoint (the OP's `grant.error` event, or a quirk). */
export interface GrantErrorRecord {
  error: string;
  description: string | undefined;
  grantType: string | undefined;
}

/** Token-endpoint bookkeeping shared by the IdP's middlewares and exposed on `TestIdp`. */
export class RequestLog {
  readonly tokenRequests: TokenRequestRecord[] = [];
  /** Every GET of the discovery document, as `Date.now()` on arrival. */
  readonly discoveryRequests: number[] = [];
  readonly grantErrors: GrantErrorRecord[] = [];

  /** How many token requests used this grant type (full URN for device/token exchange). */
  countGrants(grantType: string): number {
    return this.tokenRequests.filter((request) => request.grantType === grantType).length;
  }

  recordError(error: string, description: string | undefined, grantType: string | undefined) {
    this.grantErrors.push({ error, description, grantType });
  }

  /** Outermost middleware: records token requests and discovery before anything answers. */
  middleware(tokenPath: string, discoveryPaths: readonly string[]): KitMiddleware {
    return async (ctx, next) => {
      if (ctx.method === "GET" && discoveryPaths.includes(ctx.path)) {
        this.discoveryRequests.push(Date.now());
      }
      if (isRoute(ctx, "POST", tokenPath)) {
        const form = await readForm(ctx);
        this.tokenRequests.push({
          grantType: form.get("grant_type") ?? undefined,
          clientId: presentedClient(ctx, form).clientId,
          refreshTokenHash: hashOf(form.get("refresh_token")),
          assertionHash: hashOf(form.get("assertion") ?? form.get("subject_token")),
          at: Date.now(),
        });
      }
      await next();
    };
  }

  /** Mirrors the OP's own token-endpoint errors into `grantErrors`. */
  listen(provider: Provider): void {
    provider.on("grant.error", (ctx, err) => {
      const grantType = ctx.oidc?.params?.grant_type;
      this.recordError(
        err.error,
        err.error_description,
        typeof grantType === "string" ? grantType : undefined,
      );
    });
  }
}

function hashOf(secret: string | null): string | undefined {
  return secret ? tokenHash(secret) : undefined;
}

/** How the request log names a token: sha256, hex, first 16. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 16);
}
