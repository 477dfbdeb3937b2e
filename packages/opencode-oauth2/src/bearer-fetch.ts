import {
  loginHint,
  OAuth2Error,
  outboundFetch,
  type ProviderConfig,
  type TokenEngine,
} from "@vymalo/oauth2-core";
import type { PluginLogger } from "./events.js";

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Bodies that can be sent twice (what the AI SDK sends: JSON strings). */
function replayable(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === "string" ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob
  );
}

async function currentToken(
  engine: TokenEngine,
  provider: ProviderConfig,
  logger: PluginLogger,
): Promise<string> {
  const result = await engine.ensureAccessToken(provider, { interactive: false });
  if (result.status === "ok") return result.accessToken;
  logger.emit("oauth2_request_token_unavailable", {
    provider: provider.id,
    reason: result.reason,
    command: result.command,
  });
  throw new OAuth2Error({
    code: "login_required",
    providerId: provider.id,
    message: "no valid access token, and opencode cannot log in while sending a request.",
    fix: loginHint(provider.id),
  });
}

/**
 * With a client certificate (`tls.certFile`) the provider's own requests present it too: an IdP
 * that binds tokens to it (RFC 8705 §3, `cnf.x5t#S256`) issues tokens that work only with it,
 * and `tls.caFile` is trusted for the provider's host as for the IdP's.
 */
function providerTransport(provider: ProviderConfig): Fetch | undefined {
  if (!provider.tls?.certFile) return undefined;
  const send = outboundFetch({ tls: provider.tls, providerId: provider.id });
  return async (input, init) => {
    if (!(input instanceof Request)) return send(String(input), init);
    const body = input.body ? await input.arrayBuffer() : undefined;
    const { method, headers, signal } = input;
    return send(input.url, { method, headers, signal, ...(body ? { body } : {}), ...init });
  };
}

/**
 * A fetch for one managed provider: every request carries an access token that is valid when it
 * is sent (from the shared cache, refreshed when close to expiry). A 401 drops that token,
 * refreshes once and retries the request once; the retried answer is what opencode sees.
 */
export function bearerFetch(options: {
  engine: TokenEngine;
  provider: ProviderConfig;
  logger: PluginLogger;
  base?: Fetch | undefined;
}): Fetch {
  const { engine, provider, logger } = options;
  const base: Fetch = options.base ?? providerTransport(provider) ?? ((i, init) => fetch(i, init));
  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const retryable = request ? !request.bodyUsed : replayable(init?.body);
    const spare = request && retryable ? request.clone() : undefined;
    const send = async (token: string, target: string | URL | Request) => {
      const headers = new Headers(
        init?.headers ?? (target instanceof Request ? target.headers : undefined),
      );
      headers.set("authorization", `Bearer ${token}`);
      return base(target, { ...init, headers });
    };
    const token = await currentToken(engine, provider, logger);
    const response = await send(token, input);
    if (response.status !== 401 || !retryable) return response;

    logger.emit("oauth2_request_unauthorized_retrying", { provider: provider.id });
    await engine.invalidate(provider, token);
    const fresh = await currentToken(engine, provider, logger);
    await response.body?.cancel().catch(() => {});
    return send(fresh, spare ?? input);
  };
}
