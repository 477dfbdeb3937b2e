import * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { startCallbackServer } from "../loopback/callback-server.js";
import { clientOf, toOAuth2Error } from "../oidc/protocol-errors.js";
import { authorizationRequestParams } from "./grant-params.js";

export interface BrowserLogin {
  /** The authorization URL to open (always shown to the user too). */
  url: string;
  redirectUri: string;
  /** Settles when the callback arrived and the code was exchanged (or on error/timeout). */
  result: Promise<client.TokenEndpointResponse>;
  cancel(): void;
}

/**
 * Authorization code + PKCE (S256) + state + nonce on a loopback listener (RFC 8252).
 * Returns as soon as the listener is up, so the caller can show and open the URL; `result`
 * validates the callback (state, RFC 9207 `iss` when the IdP sends it, the IdP's
 * `error`/`error_description`) and the id_token, then exchanges the code.
 */
export async function startBrowserLogin(
  provider: ProviderConfig,
  config: client.Configuration,
  options: {
    signal?: AbortSignal | undefined;
    onCallbackIgnored?: ((info: { stateSent: boolean }) => void) | undefined;
  } = {},
): Promise<BrowserLogin> {
  const state = client.randomState();
  const listener = await startCallbackServer({
    providerId: provider.id,
    port: provider.redirectPort,
    path: provider.redirectPath,
    timeoutMs: provider.loginTimeoutMs,
    state,
    signal: options.signal,
    onIgnored: options.onCallbackIgnored,
  });
  const wantsIdToken = provider.scopes.includes("openid");
  const nonce = wantsIdToken ? client.randomNonce() : undefined;
  const verifier = provider.pkce ? client.randomPKCECodeVerifier() : undefined;

  const params = authorizationRequestParams(provider, {
    redirectUri: listener.redirectUri,
    state,
    ...(nonce ? { nonce } : {}),
    ...(verifier ? { codeChallenge: await client.calculatePKCECodeChallenge(verifier) } : {}),
  });
  let url: URL;
  try {
    url = client.buildAuthorizationUrl(config, params);
  } catch (err) {
    listener.close();
    throw toOAuth2Error(err, "authorization", provider.id);
  }

  const result = listener.callback.then(async (callbackUrl) => {
    try {
      return await client.authorizationCodeGrant(config, callbackUrl, {
        expectedState: state,
        ...(nonce ? { expectedNonce: nonce } : {}),
        ...(verifier ? { pkceCodeVerifier: verifier } : {}),
        idTokenExpected: wantsIdToken,
      });
    } catch (err) {
      const step = callbackUrl.searchParams.has("error") ? "authorization" : "code_exchange";
      throw toOAuth2Error(err, step, provider.id, clientOf(config));
    }
  });
  result.catch(() => {});
  return {
    url: url.href,
    redirectUri: listener.redirectUri,
    result,
    cancel: () => listener.close(),
  };
}
