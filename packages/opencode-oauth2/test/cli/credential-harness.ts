import { headlessClient, headlessOAuth2, publicNativeClient } from "@vymalo/testkit";
import { type CliHarness, cliHarness, providerConfig } from "./harness.js";

/**
 * A CLI harness with the two kinds of provider a credential helper meets: `corp` mints tokens
 * headlessly (client credentials, so a test needs no browser), `user` needs a browser login
 * and has none (so every call that needs its token must say "login required").
 */
export async function credentialHarness(): Promise<CliHarness> {
  const h = await cliHarness({
    clients: [headlessClient(), publicNativeClient("cli")],
  });
  await h.writeGlobalConfig({
    provider: {
      ...providerConfig("corp", headlessOAuth2(h.idp.issuer)).provider,
      ...providerConfig("user", { issuer: h.idp.issuer, clientId: "cli", scopes: "openid" })
        .provider,
    },
  });
  return h;
}
