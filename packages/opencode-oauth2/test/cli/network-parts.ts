import { confidentialClient, createTestCa, type ForwardProxy, type TestCa } from "@vymalo/testkit";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type CliHarness, cliHarness, providerConfig } from "./harness.js";

/**
 * The parts of a network test file: one test CA for the file, and the CLI harness and forward
 * proxy a test starts, closed after it.
 */
export interface NetworkParts {
  ca: TestCa;
  h: CliHarness | undefined;
  proxy: ForwardProxy | undefined;
}

/** Registers the file's hooks; the returned object holds the parts as the tests set them. */
export function useNetworkParts(): NetworkParts {
  const parts = { h: undefined, proxy: undefined } as unknown as NetworkParts;
  beforeAll(async () => {
    parts.ca = await createTestCa();
  });
  afterAll(async () => parts.ca?.cleanup());
  afterEach(async () => {
    await parts.proxy?.close();
    parts.proxy = undefined;
    await parts.h?.close();
    parts.h = undefined;
  });
  return parts;
}

/** The `ci` provider: client credentials of "svc" at the harness's IdP, with these tls files. */
export const ciProvider = (h: CliHarness, tls: Record<string, string>) =>
  providerConfig("ci", {
    issuer: h.idp.issuer,
    clientId: "svc",
    clientSecret: "svc-secret",
    authFlow: "client_credentials",
    tls,
  });

/** A CLI harness whose https IdP (the file's CA) knows "svc", configured as {@link ciProvider}. */
export async function startHeadless(
  parts: NetworkParts,
  tls: Record<string, string>,
  clientCertificate?: "required",
): Promise<CliHarness> {
  const h = await cliHarness({
    https: { ca: parts.ca, ...(clientCertificate ? { clientCertificate } : {}) },
    clients: [confidentialClient("svc", "svc-secret", { grant_types: ["client_credentials"] })],
  });
  parts.h = h;
  await h.writeGlobalConfig(ciProvider(h, tls));
  return h;
}
