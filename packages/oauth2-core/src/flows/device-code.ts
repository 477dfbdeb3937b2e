import * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { loginCommand, OAuth2Error } from "../errors.js";
import { clientOf, toOAuth2Error } from "../oidc/protocol-errors.js";
import { grantParams } from "./grant-params.js";

export interface DeviceLogin {
  verificationUri: string;
  verificationUriComplete?: string | undefined;
  userCode: string;
  /** Epoch ms after which the user code no longer works. */
  expiresAt: number;
  /** Settles when the user approved (tokens), declined or the code expired (error). */
  result: Promise<client.TokenEndpointResponse>;
  cancel(): void;
}

/**
 * Device authorization grant (RFC 8628). Sends PKCE by default — a code_challenge on the device
 * request and the verifier on each poll — because Keycloak with PKCE enforced rejects a device
 * request without `code_challenge_method`; `pkce: false` turns it off. openid-client's poll
 * honours `interval` and `slow_down` and stops on `expired_token` / `access_denied`.
 */
export async function startDeviceLogin(
  provider: ProviderConfig,
  config: client.Configuration,
  options: { now: () => number; signal?: AbortSignal | undefined },
): Promise<DeviceLogin> {
  if (!config.serverMetadata().device_authorization_endpoint) {
    throw new OAuth2Error({
      code: "config_invalid",
      providerId: provider.id,
      message: "the IdP has no device authorization endpoint.",
      fix: 'enable the device flow for this client at the IdP, set endpoints.deviceAuthorization, or use "authFlow": "authorization_code"',
    });
  }
  const verifier = provider.pkce ? client.randomPKCECodeVerifier() : undefined;
  const params = grantParams(provider);
  if (verifier) {
    params.set("code_challenge", await client.calculatePKCECodeChallenge(verifier));
    params.set("code_challenge_method", "S256");
  }
  let response: client.DeviceAuthorizationResponse;
  try {
    response = await client.initiateDeviceAuthorization(config, params);
  } catch (err) {
    throw toOAuth2Error(err, "device_authorization", provider.id, clientOf(config));
  }
  const controller = new AbortController();
  const expiresAt = options.now() + response.expires_in * 1000;
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // The client's own deadline: an IdP that keeps answering authorization_pending (also past
  // expires_in) must not hold the login, and opencode's login dialog, forever.
  const codeExpires = response.expires_in * 1000 <= provider.loginTimeoutMs;
  const deadlineMs = Math.min(response.expires_in * 1000, provider.loginTimeoutMs);
  let pastDeadline = false;
  const deadline = setTimeout(() => {
    pastDeadline = true;
    controller.abort();
  }, deadlineMs);
  deadline.unref();
  const pollParams: Record<string, string> = verifier ? { code_verifier: verifier } : {};
  const result = client
    .pollDeviceAuthorizationGrant(config, response, pollParams, { signal: controller.signal })
    .catch((err: unknown) => {
      if (pastDeadline) {
        const seconds = Number((deadlineMs / 1000).toFixed(1));
        throw new OAuth2Error({
          code: "login_timeout",
          providerId: provider.id,
          message: codeExpires
            ? `the device login was not completed before the code expired (${seconds} s, the IdP's expires_in).`
            : `the device login was not completed within loginTimeoutMs (${seconds} s).`,
          fix: `start it again (${loginCommand(provider.id)}) and approve it at ${response.verification_uri} in time; if you did approve it, the IdP never finished the login (it kept answering authorization_pending): check the device flow settings of this client at the IdP`,
        });
      }
      if (controller.signal.aborted) {
        throw new OAuth2Error({
          code: "login_aborted",
          providerId: provider.id,
          message: "the device login was cancelled.",
          fix: "start the login again",
        });
      }
      const mapped = toOAuth2Error(err, "device_poll", provider.id, clientOf(config));
      if (mapped.idp?.error === "expired_token" || mapped.idp?.error === "access_denied") {
        throw new OAuth2Error({
          code: "login_aborted",
          providerId: provider.id,
          message:
            mapped.idp.error === "expired_token"
              ? "the device code expired before the login was approved."
              : "the device login was declined.",
          fix: mapped.fix,
          idp: mapped.idp,
        });
      }
      throw mapped;
    })
    .finally(() => {
      clearTimeout(deadline);
      options.signal?.removeEventListener("abort", onAbort);
    });
  result.catch(() => {});
  return {
    verificationUri: response.verification_uri,
    verificationUriComplete: response.verification_uri_complete,
    userCode: response.user_code,
    expiresAt,
    result,
    cancel: () => controller.abort(),
  };
}
