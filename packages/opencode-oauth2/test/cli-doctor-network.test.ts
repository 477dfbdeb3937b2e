// `doctor` on the network path, through the built CLI: which proxy the IdP's URL goes through
// (a real tinyproxy with credentials, or direct by NO_PROXY), whether TLS verifies and against
// which CA (the testkit IdP over https with a CA made for the test), and the client
// certificate: expired, refused, accepted.
import { createTestCa, opensslDate, startForwardProxy } from "@vymalo/testkit";
import { describe, expect, it } from "vitest";
import type { DoctorReport } from "./cli/doctor-report.js";
import type { CliHarness } from "./cli/harness.js";
import { ciProvider, startHeadless, useNetworkParts } from "./cli/network-parts.js";

const parts = useNetworkParts();

const DAY = 24 * 60 * 60 * 1000;

const setup = (tls: Record<string, string>, clientCertificate?: "required") =>
  startHeadless(parts, tls, clientCertificate);

async function doctor(cli: CliHarness, env: NodeJS.ProcessEnv = {}) {
  const result = await cli.run(["doctor", "ci", "--json"], { env });
  const report = JSON.parse(result.stdout) as DoctorReport;
  const find = (check: string) => report.findings.filter((f) => f.check === check);
  return { ...result, report, find };
}

describe("doctor: the network path", () => {
  it("names the proxy (without its password), the CA the certificate verifies against and the accepted client certificate", async () => {
    const client = await parts.ca.issueClient("ci-runner");
    const cli = await setup({
      caFile: parts.ca.caFile,
      certFile: client.certFile,
      keyFile: client.keyFile,
    });
    const password = "Doctor-Pa55word";
    const proxy = await startForwardProxy({
      connectPorts: [cli.idp.port],
      basicAuth: { user: "bob", password },
    });
    parts.proxy = proxy;
    const { code, find, stdout, stderr } = await doctor(cli, {
      HTTPS_PROXY: proxy.urlWithCredentials,
    });
    expect(code, stdout).toBe(0);
    expect(find("network")[0]).toMatchObject({
      level: "ok",
      found: `${cli.idp.issuer} through the proxy http://***@127.0.0.1:${proxy.port} (HTTPS_PROXY)`,
    });
    expect(find("tls")[0]?.level).toBe("ok");
    expect(find("tls")[0]?.found).toContain(`verifies against tls.caFile (${parts.ca.caFile})`);
    expect(find("tls")[0]?.found).toContain('chain ends at "opencode-oauth2 test CA"');
    expect(find("client certificate")[0]).toMatchObject({ level: "ok" });
    expect(find("client certificate")[0]?.found).toMatch(/"CN=ci-runner" issued by .*accepted it/);
    expect(stdout + stderr).not.toContain(password);
    // The handshake went through the proxy too.
    expect(await proxy.tunnels()).toContain("127.0.0.1");

    const direct = await doctor(cli, {
      HTTPS_PROXY: proxy.urlWithCredentials,
      NO_PROXY: "example.com,127.0.0.1",
    });
    expect(direct.find("network")[0]?.found).toBe(
      `${cli.idp.issuer} direct: NO_PROXY has "127.0.0.1"`,
    );
  });

  it("says the certificate does not verify, against what, and which CA to add", async () => {
    const cli = await setup({});
    const { code, find } = await doctor(cli);
    expect(code).not.toBe(0);
    const [tls] = find("tls");
    expect(tls?.level).toBe("error");
    expect(tls?.found).toContain(
      "does not verify against the system's CAs: SELF_SIGNED_CERT_IN_CHAIN",
    );
    expect(tls?.fix).toContain(
      'set tls.caFile on the provider to a PEM file holding the CA "opencode-oauth2 test CA"',
    );
  });

  it("finds an expired client certificate, and one the IdP refuses", async () => {
    const expired = await parts.ca.issueClient("old-runner", {
      notBefore: opensslDate(Date.now() - 10 * DAY),
      notAfter: opensslDate(Date.now() - DAY),
    });
    const cli = await setup(
      { caFile: parts.ca.caFile, certFile: expired.certFile, keyFile: expired.keyFile },
      "required",
    );
    const old = await doctor(cli);
    expect(old.find("client certificate")[0]).toMatchObject({ level: "error" });
    expect(old.find("client certificate")[0]?.found).toMatch(/"CN=old-runner" .* expired on/);
    expect(old.find("client certificate")[0]?.fix).toMatch(/renew the certificate/);

    const stranger = await createTestCa("unknown CA");
    try {
      const foreign = await stranger.issueClient("runner");
      await cli.writeGlobalConfig(
        ciProvider(cli, {
          caFile: parts.ca.caFile,
          certFile: foreign.certFile,
          keyFile: foreign.keyFile,
        }),
      );
      const refused = await doctor(cli);
      expect(refused.find("client certificate")[0]).toMatchObject({ level: "error" });
      expect(refused.find("client certificate")[0]?.found).toContain(
        `${cli.idp.issuer} refused tls.certFile "CN=runner" issued by "CN=unknown CA"`,
      );
    } finally {
      await stranger.cleanup();
    }
  });
});
