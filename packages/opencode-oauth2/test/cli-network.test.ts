// The built CLI behind a company network: a real tinyproxy between it and the testkit IdP,
// which is served over https with a CA made for the test (trusted only through tls.caFile) and
// may demand a client certificate. The CLI's environment is the harness's own (no
// NODE_EXTRA_CA_CERTS or proxy of this machine), so what it trusts and where it connects is
// only what each test gives it.
import { outboundFetch } from "@vymalo/oauth2-core";
import {
  confidentialClient,
  publicNativeClient,
  startForwardProxy,
  TestBrowser,
} from "@vymalo/testkit";
import { describe, expect, it } from "vitest";
import { cliHarness, eventually, providerConfig } from "./cli/harness.js";
import { ciProvider, startHeadless, useNetworkParts } from "./cli/network-parts.js";

const parts = useNetworkParts();

const clients = () => [
  publicNativeClient("cli"),
  confidentialClient("svc", "svc-secret", { grant_types: ["client_credentials"] }),
];

/** The events the CLI printed with --verbose (one JSON record per line on stderr). */
const eventsIn = (stderr: string) =>
  stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { event: string; [field: string]: unknown });

describe("login and token through a proxy to an https IdP with a private CA", () => {
  it("logs in and hands out the token, every IdP request tunnelled through the proxy", async () => {
    const h = await cliHarness({ clients: clients(), https: { ca: parts.ca } });
    parts.h = h;
    const idp = h.idp;
    const proxy = await startForwardProxy({ connectPorts: [idp.port] });
    parts.proxy = proxy;
    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: idp.issuer,
        clientId: "cli",
        scopes: "openid",
        tls: { caFile: parts.ca.caFile },
      }),
    );
    const env = { HTTPS_PROXY: proxy.url };

    // The user's browser is not ours to route: it reaches the IdP directly, trusting the CA.
    const browser = new TestBrowser(outboundFetch({ tls: { caFile: parts.ca.caFile }, env: {} }));
    const running = h.start(["login", "corp"], { env });
    const url = await eventually(async () => (await h?.openedUrls())?.[0]);
    await browser.authorize(url, { followCallback: true });
    const login = await running.done;
    expect(login.stderr).not.toMatch(/Error/);
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/Logged in to corp as test-user\./);

    const token = await h.run(["token", "corp"], { env });
    expect(token.code).toBe(0);
    expect(await idp.verifyAccessToken(token.stdout.trim())).toBeTruthy();
    // Discovery and the code exchange went through tinyproxy, as CONNECT tunnels to the IdP.
    const requests = await proxy.requests();
    expect(requests.filter((r) => r === `CONNECT 127.0.0.1:${idp.port}`).length).toBeGreaterThan(0);
    expect(requests.every((r) => r.startsWith("CONNECT 127.0.0.1:"))).toBe(true);
  });
});

describe("what the CLI says when the network path fails", () => {
  const headless = (options: { clientCertificate?: "required" } = {}, tls = {}) =>
    startHeadless(parts, tls, options.clientCertificate);

  it("a proxy that is required but unreachable: the proxy, the URL, the variable and the fix", async () => {
    const cli = await headless({}, { caFile: parts.ca.caFile });
    const result = await cli.run(["token", "ci", "--verbose"], {
      env: { https_proxy: "http://127.0.0.1:9" },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `could not reach the proxy http://127.0.0.1:9 (https_proxy) to request ${cli.idp.issuer}/.well-known/openid-configuration (ECONNREFUSED)`,
    );
    expect(result.stderr).toMatch(/Fix: start the proxy or correct https_proxy/);
    expect(eventsIn(result.stderr).map((r) => r.event)).toContain("oauth2_proxy_unreachable");
    expect(cli.idp.discoveryRequests).toHaveLength(0);
  });

  it("a proxy variable that is no http(s) URL: names the variable and the fix, never its password", async () => {
    const cli = await headless({}, { caFile: parts.ca.caFile });
    const socks = await cli.run(["token", "ci"], {
      env: { HTTPS_PROXY: "socks5://proxyuser:Pr0xy-s3cret@127.0.0.1:1080" },
    });
    expect(socks.code).not.toBe(0);
    expect(socks.stderr).toContain(
      "HTTPS_PROXY names a socks5 proxy (socks5://***@127.0.0.1:1080): requests go through http:// and https:// proxies only.",
    );
    expect(socks.stderr).toContain("point HTTPS_PROXY at an http:// proxy");
    expect(socks.stderr).not.toContain("Pr0xy-s3cret");

    const garbled = await cli.run(["token", "ci"], {
      env: { https_proxy: "http://proxyuser:Pr0xy-s3cret@[not-a-host" },
    });
    expect(garbled.code).not.toBe(0);
    expect(garbled.stderr).toContain("https_proxy is not a URL.");
    expect(garbled.stderr).toContain("set it to http://host:port");
    expect(garbled.stderr).not.toContain("Pr0xy-s3cret");
    // Nothing was sent anywhere: the IdP saw no request.
    expect(cli.idp.discoveryRequests).toHaveLength(0);
  });

  it("an IdP's failed answer through the proxy: its endpoint, status, type and text", async () => {
    const cli = await headless({}, { caFile: parts.ca.caFile });
    const proxy = await startForwardProxy({ connectPorts: [cli.idp.port] });
    parts.proxy = proxy;
    cli.idp.setFailure("500");
    const result = await cli.run(["token", "ci"], { env: { HTTPS_PROXY: proxy.url } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'The token endpoint answered HTTP 500 (text/plain): "Internal Server Error".',
    );
    expect(await proxy.requests()).toContain(`CONNECT 127.0.0.1:${cli.idp.port}`);
  });

  it("a self-signed certificate in the chain without tls.caFile: says to set it", async () => {
    const cli = await headless();
    const result = await cli.run(["token", "ci", "--verbose"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `the TLS certificate of ${cli.idp.issuer} is not trusted: self-signed certificate in the chain (SELF_SIGNED_CERT_IN_CHAIN`,
    );
    expect(result.stderr).toMatch(/Fix: set tls\.caFile on the provider/);
    const event = eventsIn(result.stderr).find((r) => r.event === "oauth2_tls_untrusted");
    expect(event).toMatchObject({ provider: "ci", cause_code: "SELF_SIGNED_CERT_IN_CHAIN" });
  });

  it("a client certificate required: says which fields to set, and works once they are", async () => {
    const cli = await headless({ clientCertificate: "required" }, { caFile: parts.ca.caFile });
    const result = await cli.run(["token", "ci", "--verbose"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `${cli.idp.issuer} requires a TLS client certificate and none was sent`,
    );
    expect(result.stderr).toMatch(/Fix: set tls\.certFile and tls\.keyFile on the provider/);
    expect(eventsIn(result.stderr).map((r) => r.event)).toContain(
      "oauth2_tls_client_certificate_required",
    );

    const client = await parts.ca.issueClient("ci-runner");
    await cli.writeGlobalConfig(
      ciProvider(cli, {
        caFile: parts.ca.caFile,
        certFile: client.certFile,
        keyFile: client.keyFile,
      }),
    );
    const fixed = await cli.run(["token", "ci"]);
    expect(fixed.code).toBe(0);
    expect(await cli.idp.verifyAccessToken(fixed.stdout.trim())).toBeTruthy();
  });
});
