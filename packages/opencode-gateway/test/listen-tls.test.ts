import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTestCa, type TestCa } from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayConfigInput, parseConfig } from "../src/index.js";
import { runGatewayBin } from "./fixtures/built-gateway.js";
import { configErrorOf, startGateway, testConfig } from "./fixtures/gateway.js";
import { clientFetch } from "./fixtures/mtls.js";

/**
 * `listen.tls` and `certificateBinding`: what the config refuses (naming the fields and the
 * fix), what a wrong certificate or key file does to a start of the built bin, and the URLs a
 * gateway on TLS gives out.
 */

const ISSUER = "https://login.example.test/realms/corp";
let ca: TestCa;
let tls: { certFile: string; keyFile: string; caFile: string };

beforeAll(async () => {
  ca = await createTestCa();
  const server = await ca.issueServer();
  tls = { certFile: server.certFile, keyFile: server.keyFile, caFile: ca.caFile };
});
afterAll(() => ca?.cleanup());

const valid = (extra: Partial<GatewayConfigInput> = {}) =>
  testConfig(ISSUER, { baseURL: "http://vllm.internal:8000/v1" }, extra);
const withTls = (
  listenTls: Record<string, unknown>,
  extra: Partial<GatewayConfigInput> = {},
): GatewayConfigInput =>
  valid({
    listen: { host: "127.0.0.1", port: 0, tls: listenTls } as GatewayConfigInput["listen"],
    ...extra,
  });

describe("the config", () => {
  it("defaults certificateBinding to when-bound only where client certificates are asked for", () => {
    expect(parseConfig(valid()).certificateBinding).toBe("off");
    expect(parseConfig(withTls(tls)).certificateBinding).toBe("off");
    expect(parseConfig(withTls({ ...tls, clientCertificate: "request" })).certificateBinding).toBe(
      "when-bound",
    );
    expect(
      parseConfig(
        withTls({ ...tls, clientCertificate: "require" }, { certificateBinding: "require" }),
      ),
    ).toMatchObject({ certificateBinding: "require", listen: { tls: { ...tls } } });
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      "certificateBinding require without listen.tls",
      () => valid({ certificateBinding: "require" }),
      /- certificateBinding: "require" compares .* listen\.tls is not set: set listen\.tls with clientCertificate "request" or "require"/,
    ],
    [
      "certificateBinding when-bound where no client certificate is asked for",
      () => withTls(tls, { certificateBinding: "when-bound" }),
      /- certificateBinding: "when-bound" .* listen\.tls\.clientCertificate is "none"/,
    ],
    [
      "clientCertificate require without caFile",
      () => withTls({ certFile: tls.certFile, keyFile: tls.keyFile, clientCertificate: "require" }),
      /- listen\.tls\.caFile: clientCertificate "require" verifies client certificates against caFile/,
    ],
    [
      "an unknown clientCertificate",
      () => withTls({ ...tls, clientCertificate: "optional" }),
      /- listen\.tls\.clientCertificate: expected one of "none", "request", "require"\. .*Example: "request"/,
    ],
    [
      "no keyFile",
      () => withTls({ certFile: tls.certFile }),
      /- listen\.tls\.keyFile: .*private key .*Example: "\/etc\/opencode-gateway\/tls\.key"/,
    ],
    [
      "an unknown certificateBinding",
      () => valid({ certificateBinding: "strict" as never }),
      /- certificateBinding: expected one of "off", "when-bound", "require"/,
    ],
    [
      "an http publicUrl on a TLS listener",
      () => withTls(tls, { publicUrl: "http://127.0.0.1:8443" }),
      /- publicUrl: the gateway serves https \(listen\.tls is set\).*"https:\/\/127\.0\.0\.1:8443"/,
    ],
  ])("refuses %s, naming the fields and the fix", (_name, input, message) => {
    // The table is read before beforeAll has made the files: inputs are built in the test.
    expect(configErrorOf(input()).message).toMatch(message);
  });
});

describe("a gateway on TLS", () => {
  it("gives out its https URL, and serves the manifest and the RFC 9728 metadata there", async () => {
    const gw = await startGateway(withTls(tls));
    try {
      expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const fetchTls = clientFetch(ca);
      const metadata = await fetchTls(`${gw.url}/.well-known/oauth-protected-resource`);
      expect(await metadata.json()).toMatchObject({ resource: "https://llm.example.test" });
      const manifest = await fetchTls(`${gw.url}/.well-known/opencode`);
      expect(JSON.stringify(await manifest.json())).not.toContain("http://");
      // Plain http on the TLS port gets no answer from the gateway's routes.
      await expect(fetch(`${gw.url.replace("https:", "http:")}/healthz`)).rejects.toThrow();
    } finally {
      await gw.close();
    }
  });
});

describe("the built bin with a wrong TLS file", () => {
  const startWith = async (
    name: string,
    listenTls: Record<string, unknown>,
    args: string[] = [],
  ) => {
    const file = join(ca.dir, name);
    await writeFile(file, JSON.stringify(withTls(listenTls)));
    return runGatewayBin(["--config", file, ...args]).done;
  };

  it("exits 2 naming a missing certificate file, before listening", async () => {
    const missing = join(ca.dir, "nope.crt");
    const result = await startWith("missing.json", { ...tls, certFile: missing });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`listen.tls.certFile ${missing} cannot be read (ENOENT)`);
    expect(result.stderr).toContain("Fix: point listen.tls.certFile at a readable file");
    expect(result.stderr).not.toContain('"event":"gateway_listening"');
  });

  it("exits 2 for a key file that holds a certificate, also with --check", async () => {
    const result = await startWith("not-a-key.json", { ...tls, keyFile: tls.certFile }, [
      "--check",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`listen.tls.keyFile ${tls.certFile} holds no PEM private key`);
    expect(result.stdout).not.toContain("config ok");
  });

  it("exits 2 for a key that is not the certificate's, naming both files", async () => {
    const other = await ca.issueClient("someone-else");
    const result = await startWith("mismatch.json", { ...tls, keyFile: other.keyFile });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `listen.tls.certFile ${tls.certFile} and listen.tls.keyFile ${other.keyFile} cannot be used together`,
    );
    expect(result.stderr).toContain(
      "Fix: point keyFile at the private key of certFile's certificate",
    );
  });
});
