import {
  inspectNetworkPath,
  type NetworkPath,
  type ProviderConfig,
  redactUrl,
} from "@vymalo/oauth2-core";
import { error, type Finding, ok } from "./finding.js";

const CERT_ALERT = /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE/;

/** Which way the requests go: the proxy (and from which variable) or direct (and why). */
function routeFinding(path: NetworkPath): Finding {
  const { proxy, variable, bypassedBy } = path.route;
  const origin = new URL(path.url).origin;
  if (proxy) return ok("network", `${origin} through the proxy ${redactUrl(proxy)} (${variable})`);
  if (bypassedBy) return ok("network", `${origin} direct: NO_PROXY has "${bypassedBy}"`);
  return ok("network", `${origin} direct (no proxy variable applies)`);
}

/** The server's certificate: verified against what, or why not and the fix. */
function serverFindings(path: NetworkPath, provider: ProviderConfig): Finding[] {
  const seen = path.tls;
  if (!seen) return [];
  const origin = new URL(path.url).origin;
  if (!seen.handshake) {
    return seen.unreachable
      ? [] // the discovery check already says why the IdP cannot be reached
      : [error("tls", `no TLS handshake with ${origin}.`, "check that the issuer URL is https")];
  }
  const chain = seen.chainEnd ? ` (its chain ends at "${seen.chainEnd}")` : "";
  if (seen.verified) {
    return [
      ok(
        "tls",
        `${origin}: the certificate of "${seen.serverSubject}" verifies against ${path.trust}${chain}`,
      ),
    ];
  }
  return [
    error(
      "tls",
      `${origin}: the certificate of "${seen.serverSubject}" does not verify against ${path.trust}: ${seen.verifyError}${chain}.`,
      provider.tls?.caFile
        ? `add the certificate of the CA "${seen.chainEnd}" (PEM) to tls.caFile (${provider.tls.caFile})`
        : `set tls.caFile on the provider to a PEM file holding the CA "${seen.chainEnd}" (your organisation's root CA, or that of a TLS-inspecting proxy), or NODE_EXTRA_CA_CERTS`,
    ),
  ];
}

/** The client certificate: its dates and key, and whether the server took it (or wants one). */
function certificateFindings(path: NetworkPath, provider: ProviderConfig, now: number): Finding[] {
  const cert = path.certificate;
  const seen = path.tls;
  const origin = new URL(path.url).origin;
  const refused = Boolean(seen?.alert) || (seen?.handshake && seen.verified && !seen.answered);
  if (!cert) {
    return seen?.alert && CERT_ALERT.test(seen.alert)
      ? [
          error(
            "client certificate",
            `${origin} requires a TLS client certificate and none is configured (${seen.alert}).`,
            "set tls.certFile and tls.keyFile on the provider to your client certificate and its private key (PEM)",
          ),
        ]
      : [];
  }
  const file = provider.tls?.certFile;
  const described = `"${cert.subject}" issued by "${cert.issuer}"`;
  if (cert.validTo.getTime() < now) {
    return [
      error(
        "client certificate",
        `tls.certFile (${file}) ${described} expired on ${cert.validTo.toISOString()}.`,
        "renew the certificate and point tls.certFile and tls.keyFile at the new files",
      ),
    ];
  }
  if (cert.validFrom.getTime() > now) {
    return [
      error(
        "client certificate",
        `tls.certFile (${file}) ${described} is valid only from ${cert.validFrom.toISOString()}.`,
        "check this machine's clock, or use a certificate valid now",
      ),
    ];
  }
  if (!cert.keyMatches) {
    return [
      error(
        "client certificate",
        `tls.keyFile (${provider.tls?.keyFile}) is not the private key of tls.certFile ${described}.`,
        "point tls.keyFile at the key the certificate was issued for",
      ),
    ];
  }
  if (refused) {
    return [
      error(
        "client certificate",
        `${origin} refused tls.certFile ${described}${seen?.alert ? ` (${seen.alert})` : ""}.`,
        "use a certificate issued by a CA the IdP trusts for clients (ask the IdP's admin which), or have this one registered",
      ),
    ];
  }
  const accepted = seen?.answered ? `; ${origin} accepted it` : "";
  return [
    ok(
      "client certificate",
      `${described}, valid until ${cert.validTo.toISOString().slice(0, 10)}${accepted}`,
    ),
  ];
}

/**
 * The network path to the IdP: which proxy the issuer's URL (and a separately configured token
 * endpoint) goes through, whether TLS verifies and against which CA, and the client certificate,
 * each with its fix.
 */
export async function checkNetworkPath(
  provider: ProviderConfig,
  env: NodeJS.ProcessEnv,
  now: number,
): Promise<Finding[]> {
  const urls = [provider.issuer];
  const token = provider.endpoints?.token;
  if (token && new URL(token).origin !== new URL(provider.issuer).origin) urls.push(token);
  const findings: Finding[] = [];
  for (const url of urls) {
    const path = await inspectNetworkPath(url, { tls: provider.tls, env });
    findings.push(routeFinding(path));
    if (path.filesProblem) {
      findings.push(
        error("tls", path.filesProblem, "point the tls.* field at a readable PEM file"),
      );
      continue;
    }
    findings.push(...serverFindings(path, provider), ...certificateFindings(path, provider, now));
  }
  return findings;
}
