import {
  type AuthFlow,
  type InteractiveFlow,
  isInteractiveFlow,
  type ProviderConfig,
  type ResolvedClient,
} from "@vymalo/oauth2-core";
import type { CliContext } from "../context.js";
import { probeAuthorization } from "./authorize-probe.js";
import { type ClientProbe, probeClient } from "./client-probe.js";
import { type Finding, ok } from "./finding.js";
import { checkIdTokenEncryption } from "./id-token-encryption.js";
import {
  checkAuthMethod,
  checkClock,
  checkDiscovery,
  checkEndpoints,
  checkPkce,
} from "./idp-checks.js";
import { checkCachedToken, checkRedirectPort } from "./local-checks.js";
import { checkNetworkPath } from "./network-checks.js";
import { FetchRecorder } from "./recording-fetch.js";
import { probeRevocation } from "./revocation-probe.js";
import { checkSubjectToken } from "./subject-token.js";
import { checkAudience } from "./token-audience.js";

/** The flows to check: the login flow (or `--flow`) and the headless one. */
function flowsOf(provider: ProviderConfig, override: InteractiveFlow | undefined): AuthFlow[] {
  const flows: AuthFlow[] = [];
  const login = override ?? provider.loginFlow;
  if (login) flows.push(login);
  if (provider.headlessFlow) flows.push(provider.headlessFlow);
  return flows;
}

/** The provider's distinct clients, labelled by what uses them. */
function clientsOf(provider: ProviderConfig, flows: AuthFlow[]): [string, ResolvedClient][] {
  const interactive = flows.some(isInteractiveFlow);
  const headless = flows.some((f) => !isInteractiveFlow(f));
  const out: [string, ResolvedClient][] = [];
  if (interactive) out.push(["login", provider.loginClient]);
  if (headless && (!interactive || provider.client !== provider.loginClient)) {
    out.push(["headless", provider.client]);
  }
  return out;
}

/**
 * Every check of one provider, in the order a reader follows: the config and local state, the
 * IdP's metadata, then the probes (client, authorization endpoint, revocation), then the clock
 * as every answer so far showed it.
 */
export async function checkProvider(
  ctx: CliContext,
  provider: ProviderConfig,
  override: InteractiveFlow | undefined,
): Promise<Finding[]> {
  const engine = ctx.engine();
  const flows = flowsOf(provider, override);
  const findings: Finding[] = [ok("config", `valid (${flows.join(" + ")})`)];
  const read = await engine.cached(provider);
  findings.push(...(await checkCachedToken(engine, provider, read, ctx.now())));
  findings.push(...checkAudience(provider, read));
  const browser = flows.includes("authorization_code");
  if (browser) findings.push(...(await checkRedirectPort(provider)));
  findings.push(...(await checkSubjectToken(provider, ctx.env, ctx.now())));

  findings.push(...(await checkNetworkPath(provider, ctx.env, ctx.now())));

  const recorder = new FetchRecorder();
  const discovery = await checkDiscovery(provider, recorder);
  findings.push(...discovery.findings);
  const meta = discovery.meta;
  if (!meta) return findings;
  findings.push(...checkEndpoints(meta, flows));

  const clients = clientsOf(provider, flows);
  const authMethods = discovery.discovered
    ? clients.map(([label, client]) => checkAuthMethod(label, client, meta))
    : [];
  const probes: [string, ClientProbe][] = [];
  if (meta.token_endpoint) {
    for (const [label, client] of clients) {
      probes.push([label, await probeClient(provider, client, label, meta, recorder)]);
    }
  }
  const loginRefused = probes.some(([label, probe]) => label === "login" && probe.refused);

  let authorize: Finding[] = [];
  let pkce: Finding[] = [];
  if (browser && meta.authorization_endpoint) {
    if (loginRefused) {
      authorize = [
        ok("redirect uri", "not probed: the IdP refused the client, see client (login)"),
      ];
    } else {
      const probe = await probeAuthorization(provider, provider.loginClient, meta, recorder);
      authorize = probe.findings;
      if (probe.pkce) pkce = [probe.pkce];
    }
  }
  if (pkce.length === 0 && discovery.discovered && flows.some(isInteractiveFlow)) {
    pkce = checkPkce(provider, meta);
  }
  findings.push(...pkce, ...authMethods, ...probes.map(([, probe]) => probe.finding), ...authorize);

  const login = provider.loginClient;
  if (
    flows.some(isInteractiveFlow) &&
    login.type === "public" &&
    meta.revocation_endpoint &&
    !loginRefused
  ) {
    findings.push(await probeRevocation(provider, login, read, ctx.now(), recorder));
  }
  findings.push(...checkIdTokenEncryption(provider, flows, meta, read));
  findings.push(...checkClock(recorder));
  return findings;
}
