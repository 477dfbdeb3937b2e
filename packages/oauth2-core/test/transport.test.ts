// The one outbound transport, against real parts: the testkit IdP over https with a CA made for
// the test (trusted only through tls.caFile), a real tinyproxy between us and it, and client
// certificates the IdP asks for. The engine runs in this Node process, so the proxy variables
// are stubbed on process.env (the transport's default) for each test.
import { X509Certificate } from "node:crypto";
import {
  confidentialClient,
  createTestCa,
  type ForwardProxy,
  startForwardProxy,
  type TestCa,
  thumbprint,
} from "@vymalo/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parseProviderConfig } from "../src/config/parse.js";
import { clearDiscoveryCache } from "../src/oidc/configuration.js";
import { eventsNamed, type Harness, harness, oauth2ErrorOf } from "./helpers.js";

let ca: TestCa;
let h: Harness | undefined;
let proxy: ForwardProxy | undefined;

beforeAll(async () => {
  ca = await createTestCa();
});
afterAll(async () => ca?.cleanup());
afterEach(async () => {
  vi.unstubAllEnvs();
  clearDiscoveryCache();
  await proxy?.close();
  proxy = undefined;
  await h?.close();
  h = undefined;
});

/** No proxy from the machine, whatever it sets: each test sets its own. */
function proxyEnv(vars: Record<string, string>) {
  for (const name of [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
  ]) {
    vi.stubEnv(name, vars[name] ?? "");
  }
}

const svc = () => confidentialClient("svc", "svc-secret", { grant_types: ["client_credentials"] });
const headless = { clientId: "svc", clientSecret: "svc-secret", authFlow: "client_credentials" };

describe("a private CA (tls.caFile)", () => {
  it("reaches the https IdP only with the CA, and says which file to set without it", async () => {
    proxyEnv({});
    h = await harness({ clients: [svc()], https: { ca } });
    expect(h.idp.issuer).toMatch(/^https:\/\//);

    const untrusted = await oauth2ErrorOf(h.engine().ensureAccessToken(h.provider(headless)));
    expect(untrusted.code).toBe("transport_failed");
    expect(untrusted.message).toContain(`${h.idp.issuer}/.well-known/openid-configuration`);
    expect(untrusted.message).toMatch(
      /self-signed certificate in the chain \(SELF_SIGNED_CERT_IN_CHAIN/,
    );
    expect(untrusted.fix).toMatch(/set tls\.caFile/);
    const [event] = eventsNamed(h.records, "oauth2_tls_untrusted");
    expect(event).toMatchObject({ provider: "corp", cause_code: "SELF_SIGNED_CERT_IN_CHAIN" });

    const trusted = await h
      .engine()
      .ensureAccessToken(h.provider({ ...headless, tls: { caFile: ca.caFile } }));
    expect(trusted).toMatchObject({ status: "ok", source: "headless" });
    if (trusted.status === "ok")
      expect(await h.idp.verifyAccessToken(trusted.accessToken)).toBeTruthy();
  });

  it("names the caFile when it does not hold the issuing CA", async () => {
    proxyEnv({});
    const other = await createTestCa("another CA");
    try {
      h = await harness({ clients: [svc()], https: { ca } });
      const provider = h.provider({ ...headless, tls: { caFile: other.caFile } });
      const err = await oauth2ErrorOf(h.engine().ensureAccessToken(provider));
      expect(err.code).toBe("transport_failed");
      expect(err.fix).toContain(`tls.caFile (${other.caFile}) does not hold the CA`);
    } finally {
      await other.cleanup();
    }
  });

  it("refuses a caFile that holds no certificate, naming the field and the path", async () => {
    proxyEnv({});
    h = await harness({ clients: [svc()], https: { ca } });
    const server = await ca.issueServer();
    const provider = h.provider({ ...headless, tls: { caFile: server.keyFile } });
    const err = await oauth2ErrorOf(h.engine().ensureAccessToken(provider));
    expect(err.code).toBe("transport_failed");
    expect(err.message).toContain(`tls.caFile ${server.keyFile} holds no PEM certificates`);
    expect(eventsNamed(h.records, "oauth2_tls_files_unreadable")).toHaveLength(1);
  });
});

describe("a forward proxy (HTTPS_PROXY, NO_PROXY)", () => {
  it("sends every IdP request through the proxy, and none for a NO_PROXY host", async () => {
    h = await harness({ clients: [svc()], https: { ca } });
    proxy = await startForwardProxy({ connectPorts: [h.idp.port] });
    proxyEnv({ HTTPS_PROXY: proxy.url });
    const provider = h.provider({ ...headless, tls: { caFile: ca.caFile } });
    const result = await h.engine().ensureAccessToken(provider);
    expect(result).toMatchObject({ status: "ok" });
    // Discovery and the token request, each tunnelled to the IdP by tinyproxy.
    expect(await proxy.requests()).toContain(`CONNECT 127.0.0.1:${h.idp.port}`);
    expect(await proxy.tunnels()).toContain("127.0.0.1");

    clearDiscoveryCache();
    const seen = (await proxy.requests()).length;
    proxyEnv({ HTTPS_PROXY: proxy.url, NO_PROXY: "localhost,127.0.0.1" });
    const other = h.provider({ ...headless, tls: { caFile: ca.caFile } }, "direct");
    expect(await h.engine().ensureAccessToken(other)).toMatchObject({ status: "ok" });
    expect(await proxy.requests()).toHaveLength(seen);
    expect(h.idp.discoveryRequests.length).toBe(2);
  });

  it("shows an IdP's failed answer through the proxy as it does directly: status, type, text", async () => {
    h = await harness({ clients: [svc()], https: { ca } });
    proxy = await startForwardProxy({ connectPorts: [h.idp.port] });
    proxyEnv({ HTTPS_PROXY: proxy.url });
    const provider = h.provider({ ...headless, tls: { caFile: ca.caFile } });
    h.idp.setFailure("500");
    const err = await oauth2ErrorOf(h.engine().ensureAccessToken(provider));
    expect(err.message).toContain(
      'The token endpoint answered HTTP 500 (text/plain): "Internal Server Error".',
    );
    expect(await proxy.requests()).toContain(`CONNECT 127.0.0.1:${h.idp.port}`);
  });

  it("says the proxy is unreachable, naming it, the URL and the variable", async () => {
    h = await harness({ clients: [svc()], https: { ca } });
    proxyEnv({ https_proxy: "http://127.0.0.1:9" });
    const err = await oauth2ErrorOf(
      h.engine().ensureAccessToken(h.provider({ ...headless, tls: { caFile: ca.caFile } })),
    );
    expect(err.code).toBe("transport_failed");
    expect(err.message).toContain("could not reach the proxy http://127.0.0.1:9 (https_proxy)");
    expect(err.message).toContain(h.idp.issuer);
    expect(err.fix).toMatch(/start the proxy or correct https_proxy.*NO_PROXY/);
    expect(eventsNamed(h.records, "oauth2_proxy_unreachable")).toHaveLength(1);
    expect(h.idp.discoveryRequests).toHaveLength(0);
  });

  it("sends the proxy credentials from the URL and never shows them", async () => {
    h = await harness({ clients: [svc()], https: { ca } });
    const password = "Pr0xyPa55word-not-for-logs";
    proxy = await startForwardProxy({
      connectPorts: [h.idp.port],
      basicAuth: { user: "alice", password },
    });
    const provider = h.provider({ ...headless, tls: { caFile: ca.caFile } });

    proxyEnv({ HTTPS_PROXY: proxy.url.replace("//", "//alice:wrong-password@") });
    const refused = await oauth2ErrorOf(h.engine().ensureAccessToken(provider));
    expect(refused.message).toContain(`the proxy http://***@127.0.0.1:${proxy.port} (HTTPS_PROXY)`);
    expect(refused.message).toMatch(/wants other credentials \(HTTP 40[17]/);
    expect(refused.fix).toMatch(/check the user and password in HTTPS_PROXY/);
    expect(eventsNamed(h.records, "oauth2_proxy_refused")).toHaveLength(1);

    proxyEnv({ HTTPS_PROXY: proxy.urlWithCredentials });
    expect(await h.engine().ensureAccessToken(provider)).toMatchObject({ status: "ok" });
    expect(await proxy.tunnels()).toContain("127.0.0.1");
    expect(JSON.stringify(h.records)).not.toContain("wrong-password");
    expect(JSON.stringify(h.records)).not.toContain(password);
    expect(`${refused.message} ${JSON.stringify(refused.toLogFields())}`).not.toContain(
      "wrong-password",
    );
  });
});

describe("client certificates (mTLS)", () => {
  it("says a certificate is required, presents tls.certFile, and names a refused one", async () => {
    proxyEnv({});
    h = await harness({ clients: [svc()], https: { ca, clientCertificate: "required" } });
    const tls = { caFile: ca.caFile };
    const none = await oauth2ErrorOf(
      h.engine().ensureAccessToken(h.provider({ ...headless, tls })),
    );
    expect(none.code).toBe("transport_failed");
    expect(none.message).toContain(
      `${h.idp.issuer} requires a TLS client certificate and none was sent`,
    );
    expect(none.fix).toMatch(/set tls\.certFile and tls\.keyFile/);
    expect(eventsNamed(h.records, "oauth2_tls_client_certificate_required")).toHaveLength(1);

    const client = await ca.issueClient("ci-bot");
    const withCert = h.provider({
      ...headless,
      tls: { ...tls, certFile: client.certFile, keyFile: client.keyFile },
    });
    expect(await h.engine().ensureAccessToken(withCert)).toMatchObject({ status: "ok" });

    const stranger = await createTestCa("a CA the IdP does not know");
    try {
      const foreign = await stranger.issueClient("ci-bot");
      const wrong = h.provider(
        { ...headless, tls: { ...tls, certFile: foreign.certFile, keyFile: foreign.keyFile } },
        "wrong",
      );
      const refused = await oauth2ErrorOf(h.engine().ensureAccessToken(wrong));
      expect(refused.message).toContain(
        `refused the client certificate in tls.certFile (${foreign.certFile})`,
      );
      expect(eventsNamed(h.records, "oauth2_tls_client_certificate_rejected")).toHaveLength(1);
    } finally {
      await stranger.cleanup();
    }
  });
});

describe("RFC 8705 client authentication (tls_client_auth, self_signed_tls_client_auth)", () => {
  const mtlsClient = (clientId: string, extra: Record<string, unknown>) => ({
    client_id: clientId,
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    tls_client_certificate_bound_access_tokens: true,
    ...extra,
  });

  it("authenticates with the certificate alone, and the token is bound to it", async () => {
    proxyEnv({});
    const bot = await ca.issueClient("mtls-bot");
    const selfSigned = await createTestCa("mtls-self");
    try {
      const own = await selfSigned.issueClient("self-bot");
      const jwk = new X509Certificate(own.cert).publicKey.export({ format: "jwk" });
      h = await harness({
        https: { ca },
        clients: [
          mtlsClient("mtls-bot", {
            token_endpoint_auth_method: "tls_client_auth",
            tls_client_auth_subject_dn: bot.subject,
          }),
          mtlsClient("self-bot", {
            token_endpoint_auth_method: "self_signed_tls_client_auth",
            jwks: {
              keys: [{ ...jwk, x5c: [new X509Certificate(own.cert).raw.toString("base64")] }],
            },
          }),
        ] as never,
      });
      const via = (
        clientId: string,
        method: string,
        cert: { certFile: string; keyFile: string },
        id = clientId,
      ) =>
        h?.provider(
          {
            clientId,
            clientAuthMethod: method,
            authFlow: "client_credentials",
            tls: { caFile: ca.caFile, certFile: cert.certFile, keyFile: cert.keyFile },
          },
          id,
        );
      const issued = await h.engine().ensureAccessToken(via("mtls-bot", "tls_client_auth", bot)!);
      expect(issued).toMatchObject({ status: "ok" });
      if (issued.status !== "ok") return;
      const claims = await h.idp.verifyAccessToken(issued.accessToken);
      expect(claims.client_id).toBe("mtls-bot");
      expect(claims.cnf).toEqual({ "x5t#S256": thumbprint(bot.cert) });
      // No secret went with it: only the certificate authenticated the client.
      expect(h.idp.tokenRequests.at(-1)).toMatchObject({ clientId: "mtls-bot" });

      const self = await h
        .engine()
        .ensureAccessToken(via("self-bot", "self_signed_tls_client_auth", own)!);
      expect(self).toMatchObject({ status: "ok" });

      // Another certificate of the same CA, with another subject: refused, and said so.
      const other = await ca.issueClient("someone-else");
      const refused = await oauth2ErrorOf(
        h.engine().ensureAccessToken(via("mtls-bot", "tls_client_auth", other, "other")!),
      );
      expect(refused.idp?.error).toBe("invalid_client");
    } finally {
      await selfSigned.cleanup();
    }
  });

  it("asks for tls.certFile when the method needs a certificate", () => {
    const parsed = parseProviderConfig("corp", {
      issuer: "https://idp.example.com",
      clientId: "x",
      clientAuthMethod: "tls_client_auth",
      authFlow: "client_credentials",
    });
    expect("issues" in parsed && parsed.issues.map((i) => i.message).join("\n")).toContain(
      'clientAuthMethod "tls_client_auth" authenticates with a client certificate: set tls.certFile and tls.keyFile',
    );
  });
});
