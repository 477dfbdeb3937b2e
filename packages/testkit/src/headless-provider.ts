import type { ClientMetadata } from "oidc-provider";
import { confidentialClient } from "./clients.js";

const ID = "svc";
const SECRET = "svc-secret";

/** The IdP side of a provider that needs no user: a confidential client. */
export const headlessClient = (): ClientMetadata => confidentialClient(ID, SECRET);

/** The provider's `oauth2` block: tokens minted with client credentials by `headlessClient()`. */
export const headlessOAuth2 = (issuer: string) => ({
  issuer,
  clientId: ID,
  clientSecret: SECRET,
  authFlow: "client_credentials",
});

/**
 * An opencode config with one such provider (`provider.<id>.options.oauth2`): what a test of a
 * headless path (the CLI's `token` as a credential helper, a cached start) writes, so no
 * browser and no user are needed to get a token.
 */
export const headlessProviderConfig = (issuer: string, id = "corp") => ({
  provider: { [id]: { options: { oauth2: headlessOAuth2(issuer) } } },
});
