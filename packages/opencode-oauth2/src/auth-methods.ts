import type { AuthHook, AuthOAuthResult } from "@opencode-ai/plugin";
import type {
  CoreEvent,
  InteractiveFlow,
  Logger,
  ProviderConfig,
  TokenEngine,
} from "@vymalo/oauth2-core";
import { PLACEHOLDER_API_KEY } from "./constants.js";

type OAuthMethod = Extract<AuthHook["methods"][number], { type: "oauth" }>;

export const BROWSER_METHOD_LABEL = "Browser login (OAuth2 authorization code + PKCE)";
export const DEVICE_METHOD_LABEL = "Device code login (for machines without a browser)";

/**
 * opencode's `auth login` methods for a managed provider. Both run in the background
 * (`method: "auto"`): the token lands in the shared cache — where every opencode process, the
 * models-info plugin and the CLI find it — and opencode stores only a placeholder key.
 */
export function authMethods(
  resolve: () => ProviderConfig | undefined,
  engine: TokenEngine,
  logger: Logger<CoreEvent>,
): OAuthMethod[] {
  const start = async (flow: InteractiveFlow): Promise<AuthOAuthResult> => {
    const provider = resolve();
    if (!provider) {
      logger.emit("oauth2_login_failed", { detail: "no managed provider is configured", flow });
      return {
        url: "",
        instructions: "No provider with an oauth2 block is configured; see docs/configuration.md.",
        method: "auto",
        callback: async () => ({ type: "failed" }),
      };
    }
    const pending = await engine.startLogin(provider, { flow });
    const callback = async () => {
      try {
        await pending.complete();
        return { type: "success" as const, key: PLACEHOLDER_API_KEY };
      } catch {
        // The failure, with the IdP's error and the fix, is already logged as oauth2_login_failed.
        return { type: "failed" as const };
      }
    };
    if (pending.kind === "device") {
      const url = pending.verificationUriComplete ?? pending.verificationUri;
      const minutes = Math.max(1, Math.round((pending.expiresAt - Date.now()) / 60_000));
      return {
        url,
        instructions: `Open ${pending.verificationUri} and enter the code ${pending.userCode} (valid ${minutes} min).`,
        method: "auto",
        callback,
      };
    }
    return {
      url: pending.url,
      instructions: `Log in to ${provider.issuer} in the browser; this window continues when you are done.`,
      method: "auto",
      callback,
    };
  };
  return [
    { type: "oauth", label: BROWSER_METHOD_LABEL, authorize: () => start("authorization_code") },
    { type: "oauth", label: DEVICE_METHOD_LABEL, authorize: () => start("device_code") },
  ];
}
