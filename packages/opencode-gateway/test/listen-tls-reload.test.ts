import { X509Certificate } from "node:crypto";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { createTestCa, type IssuedCertificate, type TestCa } from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { testConfig } from "./fixtures/gateway.js";

/**
 * A renewed listener certificate through the built bin: cert-manager or certbot rewrite the
 * files a running gateway serves, and new connections must get the new certificate without a
 * restart — but never a pair caught halfway through the update.
 */

let ca: TestCa;
let first: IssuedCertificate;
let second: IssuedCertificate;
let dir: string;
let gw: BuiltGateway | undefined;

const files = () => ({ certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") });

/** Writes the pair as a renewal does: each file replaced whole (write aside, rename). */
async function install(cert: string, key: string): Promise<void> {
  const { certFile, keyFile } = files();
  await writeFile(`${certFile}.new`, cert);
  await rename(`${certFile}.new`, certFile);
  await writeFile(`${keyFile}.new`, key);
  await rename(`${keyFile}.new`, keyFile);
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to the gateway gets. */
function served(url: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: Number(port), ca: ca.caCert }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on("error", reject);
  });
}
const fingerprint = (certificate: IssuedCertificate) =>
  new X509Certificate(certificate.cert).fingerprint256;

async function start(reloadSec?: number): Promise<BuiltGateway> {
  return startBuiltGateway(
    testConfig(
      "https://login.example.test/realms/corp",
      { baseURL: "http://vllm.internal:8000/v1" },
      {
        listen: {
          host: "127.0.0.1",
          port: 0,
          tls: { ...files(), ...(reloadSec ? { reloadSec } : {}) },
        },
      },
    ),
  );
}

beforeAll(async () => {
  ca = await createTestCa();
  [first, second] = await Promise.all([ca.issueServer("first"), ca.issueServer("second")]);
  dir = await mkdtemp(join(tmpdir(), "gateway-tls-reload-"));
});
afterAll(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
  await ca?.cleanup();
});

describe("a renewed listener certificate", () => {
  it("is served to new connections after SIGHUP; a pair caught halfway is not, and the old one stays", async () => {
    await install(first.cert, first.key);
    gw = await start();
    expect(await served(gw.url)).toBe(fingerprint(first));

    await install(second.cert, second.key);
    gw.child.kill("SIGHUP");
    const [reloaded] = await gw.logged("gateway_tls_reloaded");
    expect(reloaded).toMatchObject({ certFile: files().certFile });
    expect(String(reloaded?.subject)).toContain("second");
    expect(await served(gw.url)).toBe(fingerprint(second));

    // Halfway through the next renewal: the first certificate, still the second one's key.
    const { certFile } = files();
    await writeFile(`${certFile}.new`, first.cert);
    await rename(`${certFile}.new`, certFile);
    gw.child.kill("SIGHUP");
    const [failed] = await gw.logged("gateway_tls_reload_failed");
    expect(String(failed?.detail)).toContain("cannot be used together");
    expect(await served(gw.url)).toBe(fingerprint(second));
    // The gateway is still up (SIGHUP did not stop it) and answers over TLS.
    expect(gw.child.exitCode).toBeNull();
    await gw.close();
    gw = undefined;
  });

  it("is picked up by the periodic check too, without a signal", async () => {
    await install(first.cert, first.key);
    gw = await start(1);
    expect(await served(gw.url)).toBe(fingerprint(first));
    await install(second.cert, second.key);
    await expect
      .poll(() => served((gw as BuiltGateway).url), { timeout: 5000, interval: 200 })
      .toBe(fingerprint(second));
    expect(await gw.logged("gateway_tls_reloaded")).toHaveLength(1);
    await gw.close();
    gw = undefined;
  });
});
