// The model server behind a corporate proxy: the /v1 request path (undici's dispatch, not fetch) honours
// HTTP_PROXY/HTTPS_PROXY/NO_PROXY like the gateway's other outbound calls. A real tinyproxy's own
// log is the witness that the built gateway's upstream requests went through it — or, for a
// NO_PROXY host, did not — and a proxy that refuses or is down is a 502 that names it.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createTestCa,
  type ForwardProxy,
  freePort,
  type IssuedCertificate,
  startForwardProxy,
  type TestCa,
} from "@vymalo/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, runGatewayBin, startBuiltGateway } from "./fixtures/built-gateway.js";
import { cliToken, testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import { startTlsFront, type TlsFront } from "./fixtures/tls-front.js";
import {
  readWhileHeld,
  startUpstream,
  UPSTREAM_ANSWER,
  type Upstream,
} from "./fixtures/upstream.js";

const USER = "gw-user";
const PASSWORD = "Pr0xy-s3cret_pw";

let idp: IssuerStub;
let upstream: Upstream;
let upstreamPort: number;
let open: ForwardProxy;
let guarded: ForwardProxy;
let token: string;
let gw: BuiltGateway | undefined;

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startUpstream();
  upstreamPort = Number(new URL(upstream.baseURL).port);
  // The gateway tunnels plain http with CONNECT too, as the core's transport does.
  [open, guarded] = await Promise.all([
    startForwardProxy({ connectPorts: [upstreamPort] }),
    startForwardProxy({
      connectPorts: [upstreamPort],
      basicAuth: { user: USER, password: PASSWORD },
    }),
  ]);
  token = await cliToken(idp, "grace");
});
closeAfterAll(() => ({ gateways: [open, guarded], upstream, idp }));
forgetUpstreamRequests(() => upstream);
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/** The built gateway with `env`; the IdP (another port on 127.0.0.1) is always reached directly. */
async function gatewayWith(env: Record<string, string>): Promise<BuiltGateway> {
  gw = await startBuiltGateway(testConfig(idp.issuer, { baseURL: upstream.baseURL }), {
    NO_PROXY: `127.0.0.1:${new URL(idp.issuer).port}`,
    ...env,
  });
  return gw;
}

const chat = (gateway: BuiltGateway, stream = false) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "team/coder",
      stream,
      messages: [{ role: "user", content: "hello" }],
    }),
  });

/** The tunnels to the upstream the proxy was asked for, from its own log. */
const connects = async (proxy: ForwardProxy) =>
  (await proxy.requests()).filter((line) => line === `CONNECT 127.0.0.1:${upstreamPort}`);

/** A gateway with `proxyUrl` in HTTP_PROXY answers a completion, and `proxy` logs a new tunnel. */
async function completesThrough(proxy: ForwardProxy, proxyUrl: string): Promise<BuiltGateway> {
  const before = (await connects(proxy)).length;
  const gateway = await gatewayWith({ HTTP_PROXY: proxyUrl });
  const response = await chat(gateway);
  expect(response.status).toBe(200);
  expect(JSON.stringify(await response.json())).toContain(UPSTREAM_ANSWER);
  expect((await connects(proxy)).length).toBeGreaterThan(before);
  expect(upstream.chatRequests()).toHaveLength(1);
  return gateway;
}

describe("the /v1 upstream behind HTTP_PROXY", () => {
  it("sends a completion through the proxy, and says so at start", async () => {
    const gateway = await completesThrough(open, open.url);
    expect(await open.tunnels()).toContain("127.0.0.1");
    const [route] = await gateway.logged("gateway_upstream_route");
    expect(route).toMatchObject({
      upstream: new URL(upstream.baseURL).origin,
      route: "proxy",
      proxy: open.url,
      variable: "HTTP_PROXY",
    });
  });

  it("still streams through the proxy: the first event arrives while the upstream holds the rest", async () => {
    const before = (await connects(open)).length;
    const gateway = await gatewayWith({ http_proxy: open.url });
    const release = upstream.holdAfterFirstWord();
    try {
      const response = await chat(gateway, true);
      expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const { firstWordWhileHeld, text } = await readWhileHeld(upstream, response, release);
      expect(firstWordWhileHeld).toBe(true);
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    } finally {
      release();
    }
    expect((await connects(open)).length).toBeGreaterThan(before);
  });

  it("goes direct for a host NO_PROXY names: the proxy sees nothing", async () => {
    const before = await open.requests();
    const gateway = await gatewayWith({ HTTP_PROXY: open.url, NO_PROXY: "127.0.0.1" });
    expect((await chat(gateway)).status).toBe(200);
    expect(upstream.chatRequests()).toHaveLength(1);
    expect(await open.requests()).toEqual(before);
    const [route] = await gateway.logged("gateway_upstream_route");
    expect(route).toMatchObject({ route: "direct", noProxy: "127.0.0.1" });
    expect(route).not.toHaveProperty("proxy");
  });
});

describe("a proxy that wants credentials", () => {
  it("works with the credentials in the proxy URL, and no log line shows them", async () => {
    const gateway = await completesThrough(guarded, guarded.urlWithCredentials);
    const [route] = await gateway.logged("gateway_upstream_route");
    expect(route).toMatchObject({ route: "proxy", proxy: `http://***@127.0.0.1:${guarded.port}` });
    await gateway.logged("gateway_request");
    expect(gateway.stderr()).not.toContain(PASSWORD);
    expect(gateway.stderr()).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"));
  });

  it("without them: a 502 with the 407 (the proxy named in the log only), never the proxy's own answer", async () => {
    const gateway = await gatewayWith({ HTTP_PROXY: guarded.url });
    const response = await chat(gateway);
    expect(response.status).toBe(502);
    expect(response.headers.get("proxy-authenticate")).toBeNull();
    const { error } = (await response.json()) as { error: { message: string; code: string } };
    expect(error.code).toBe("upstream_proxy_failed");
    expect(error.message).toContain("HTTP 407");
    expect(error.message).not.toContain(String(guarded.port));
    expect(upstream.chatRequests()).toHaveLength(0);
    const [record] = await gateway.logged("gateway_upstream_proxy_failed");
    expect(record?.detail).toContain(`the proxy ${guarded.url} (HTTP_PROXY) refused`);
    expect(record).toMatchObject({
      level: "error",
      kind: "proxy_refused",
      proxy: guarded.url,
      cause_code: "HTTP 407",
      fix: expect.stringContaining("http://user:password@proxy-host:port"),
    });
  });

  it("with wrong ones: a 502, and the wrong password is in no log line or answer", async () => {
    const wrong = `http://${USER}:not-the-${PASSWORD}@127.0.0.1:${guarded.port}`;
    const gateway = await gatewayWith({ HTTPS_PROXY: wrong, HTTP_PROXY: wrong });
    const response = await chat(gateway);
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(text).toMatch(/HTTP 40[17]/);
    expect(text).not.toContain(PASSWORD);
    const [record] = await gateway.logged("gateway_upstream_proxy_failed");
    expect(record?.proxy).toBe(`http://***@127.0.0.1:${guarded.port}`);
    expect(gateway.stderr()).not.toContain(PASSWORD);
  });
});

describe("a proxy that refuses or is down", () => {
  it("a proxy that does not allow the upstream's port: a 502 with its answer, the proxy named in the log only", async () => {
    const strict = await startForwardProxy({ connectPorts: [upstreamPort + 1] });
    try {
      const gateway = await gatewayWith({ HTTP_PROXY: strict.url });
      const response = await chat(gateway);
      expect(response.status).toBe(502);
      const { error } = (await response.json()) as { error: { message: string; code: string } };
      expect(error.code).toBe("upstream_proxy_failed");
      expect(error.message).toMatch(/HTTP 403/);
      expect(error.message).not.toContain(String(strict.port));
      const [record] = await gateway.logged("gateway_upstream_proxy_failed");
      expect(record?.detail).toContain(
        `the proxy ${strict.url} (HTTP_PROXY) did not open a tunnel`,
      );
      expect(upstream.chatRequests()).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });

  it("a model server that is down behind a working proxy: a 502 saying the proxy could not reach it", async () => {
    const down = await freePort();
    const relaying = await startForwardProxy({ connectPorts: [down] });
    try {
      gw = await startBuiltGateway(
        testConfig(idp.issuer, { baseURL: `http://127.0.0.1:${down}/v1` }),
        {
          HTTP_PROXY: relaying.url,
          NO_PROXY: `127.0.0.1:${new URL(idp.issuer).port}`,
        },
      );
      const response = await chat(gw);
      expect(response.status).toBe(502);
      const { error } = (await response.json()) as { error: { message: string; code: string } };
      expect(error.code).toBe("upstream_proxy_failed");
      expect(error.message).toMatch(/HTTP 5\d\d/);
      expect(error.message).not.toContain(String(relaying.port));
      const [record] = await gw.logged("gateway_upstream_proxy_failed");
      expect(record?.detail).toContain(
        `the proxy ${relaying.url} (HTTP_PROXY) could not reach http://127.0.0.1:${down}/v1`,
      );
      expect(record).toMatchObject({
        kind: "proxy_refused",
        cause_code: expect.stringMatching(/^HTTP 5\d\d$/),
        fix: expect.stringContaining("check that 127.0.0.1 is up"),
      });
      expect(await relaying.requests()).toEqual([`CONNECT 127.0.0.1:${down}`]);
    } finally {
      await relaying.close();
    }
  });

  it("a proxy that is not running: a 502 with the connection error, the proxy named in the log only", async () => {
    const port = await freePort();
    const gateway = await gatewayWith({ HTTP_PROXY: `http://127.0.0.1:${port}` });
    const response = await chat(gateway);
    expect(response.status).toBe(502);
    const { error } = (await response.json()) as { error: { message: string; code: string } };
    expect(error.code).toBe("upstream_proxy_failed");
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).not.toContain(String(port));
    const [record] = await gateway.logged("gateway_upstream_proxy_failed");
    expect(record?.detail).toContain(`could not reach the proxy http://127.0.0.1:${port}`);
    expect(record).toMatchObject({
      kind: "proxy_unreachable",
      cause_code: "ECONNREFUSED",
      upstream: new URL(upstream.baseURL).origin,
    });
    const events = gateway.logs().map((r) => r.event);
    expect(events).not.toContain("gateway_upstream_unreachable");
  });
  it("a proxy that takes the connection and never answers: a 504 after upstream.headersTimeoutMs", async () => {
    const silent = createServer((socket) => socket.on("error", () => {}));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as { port: number };
      gw = await startBuiltGateway(
        testConfig(idp.issuer, { baseURL: upstream.baseURL, headersTimeoutMs: 1000 }),
        {
          HTTP_PROXY: `http://127.0.0.1:${port}`,
          NO_PROXY: `127.0.0.1:${new URL(idp.issuer).port}`,
        },
      );
      const response = await chat(gw);
      expect(response.status).toBe(504);
      const { error } = (await response.json()) as { error: { code: string } };
      expect(error.code).toBe("upstream_timeout");
      expect(await gw.logged("gateway_upstream_timeout")).toMatchObject([{ timeoutMs: 1000 }]);
      expect(upstream.chatRequests()).toHaveLength(0);
    } finally {
      silent.close();
    }
  });

  it("a proxy variable that is no http URL stops the start (exit 2), naming it, its password unshown", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gateway-proxy-"));
    const file = join(dir, "gateway.json");
    await writeFile(file, JSON.stringify(testConfig(idp.issuer, { baseURL: upstream.baseURL })));
    const socks = await runGatewayBin(["--config", file], {
      HTTP_PROXY: `socks5://${USER}:${PASSWORD}@127.0.0.1:1080`,
    }).done;
    expect(socks.code).toBe(2);
    expect(socks.stderr).toContain("HTTP_PROXY names a socks5 proxy (socks5://***@127.0.0.1:1080)");
    expect(socks.stderr).not.toContain(PASSWORD);
    expect(socks.stderr).not.toContain('"event":"gateway_listening"');
    const garbled = await runGatewayBin(["--config", file], {
      HTTP_PROXY: `http://${USER}:${PASSWORD}@[not-a-host`,
    }).done;
    expect(garbled.code).toBe(2);
    expect(garbled.stderr).toContain("HTTP_PROXY is not a URL");
    expect(garbled.stderr).not.toContain(PASSWORD);
    // --check reads what the start reads: the same variable fails it the same way.
    const checked = await runGatewayBin(["--config", file, "--check"], {
      HTTP_PROXY: `socks5://${USER}:${PASSWORD}@127.0.0.1:1080`,
    }).done;
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain(
      "HTTP_PROXY names a socks5 proxy (socks5://***@127.0.0.1:1080)",
    );
    expect(checked.stdout).not.toContain("config ok");
    await rm(dir, { recursive: true, force: true });
  });
});

describe("a model server that requires a client certificate (mutual TLS)", () => {
  let ca: TestCa;
  let front: TlsFront;
  let client: IssuedCertificate;
  beforeAll(async () => {
    ca = await createTestCa();
    client = await ca.issueClient("llm-gateway");
    front = await startTlsFront(await ca.issueServer(), ca.caCert, upstreamPort, ca.caCert);
  });
  afterAll(async () => {
    await gw?.close();
    gw = undefined;
    await front?.close();
    await ca?.cleanup();
  });
  const mtls = (tls: Record<string, string>) => ({
    baseURL: `https://127.0.0.1:${front.port}/v1`,
    tls,
  });

  it("presents upstream.tls.certFile: the model server sees the gateway's certificate and answers", async () => {
    gw = await startBuiltGateway(
      testConfig(
        idp.issuer,
        mtls({ caFile: ca.caFile, certFile: client.certFile, keyFile: client.keyFile }),
      ),
    );
    const response = await chat(gw);
    expect(response.status).toBe(200);
    expect(JSON.stringify(await response.json())).toContain(UPSTREAM_ANSWER);
    expect(front.clients).toContain("llm-gateway");
    expect(upstream.chatRequests()).toHaveLength(1);
    await gw.close();
    gw = undefined;
  });

  it("without a client certificate the model server refuses the connection: 502, and it got no request", async () => {
    gw = await startBuiltGateway(testConfig(idp.issuer, mtls({ caFile: ca.caFile })));
    const presented = front.clients.length;
    const response = await chat(gw);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "upstream_unreachable" } });
    // TLS 1.3: the server's alert comes after the client's side of the handshake is done, so
    // what the relay sees is the connection closing under its request; one probe names it.
    const [record] = await gw.logged("gateway_upstream_unreachable");
    expect(record).toMatchObject({ upstream: `https://127.0.0.1:${front.port}` });
    expect(record?.fix).toBe(
      "set upstream.tls.certFile and upstream.tls.keyFile in the gateway's config to your client certificate and its private key (PEM)",
    );
    expect(front.clients).toHaveLength(presented);
    expect(upstream.chatRequests()).toHaveLength(0);
    await gw.close();
    gw = undefined;
  });

  it("a certFile without keyFile, or a keyFile that is no key, stops the start naming the field", async () => {
    const halves = join(ca.dir, "mtls-half.json");
    await writeFile(
      halves,
      JSON.stringify(testConfig(idp.issuer, mtls({ certFile: client.certFile }))),
    );
    const half = await runGatewayBin(["--config", halves, "--check"]).done;
    expect(half.code).toBe(2);
    expect(half.stderr).toContain("upstream.tls.keyFile");
    expect(half.stderr).toContain("set upstream.tls.keyFile to the private key of certFile");

    const wrongKey = join(ca.dir, "mtls-wrong-key.json");
    await writeFile(
      wrongKey,
      JSON.stringify(
        testConfig(idp.issuer, mtls({ certFile: client.certFile, keyFile: client.certFile })),
      ),
    );
    const started = await runGatewayBin(["--config", wrongKey]).done;
    expect(started.code).toBe(2);
    expect(started.stderr).toContain(
      `upstream.tls.keyFile ${client.certFile} holds no PEM private key`,
    );
    expect(started.stderr).not.toContain('"event":"gateway_listening"');

    // A key, but another certificate's: both fields named, before anything listens.
    const other = await ca.issueClient("someone-else");
    const mismatched = join(ca.dir, "mtls-mismatched.json");
    await writeFile(
      mismatched,
      JSON.stringify(
        testConfig(idp.issuer, mtls({ certFile: client.certFile, keyFile: other.keyFile })),
      ),
    );
    const paired = await runGatewayBin(["--config", mismatched, "--check"]).done;
    expect(paired.code).toBe(2);
    expect(paired.stderr).toContain(
      `upstream.tls.certFile ${client.certFile} and upstream.tls.keyFile ${other.keyFile} cannot be used together`,
    );
    expect(paired.stdout).not.toContain("config ok");
  });
});

describe("an https model server behind the proxy", () => {
  let ca: TestCa;
  let front: TlsFront;
  beforeAll(async () => {
    ca = await createTestCa();
    front = await startTlsFront(await ca.issueServer(), ca.caCert, upstreamPort);
  });
  afterAll(async () => {
    await front?.close();
    await ca?.cleanup();
  });
  /** Runs `body` with a tinyproxy that tunnels to the https model server only; closes both after. */
  const throughTunnel = async (body: (tunnel: ForwardProxy) => Promise<void>) => {
    const tunnel = await startForwardProxy({ connectPorts: [front.port] });
    try {
      await body(tunnel);
    } finally {
      await gw?.close();
      gw = undefined;
      await tunnel.close();
    }
  };
  const https = (tls?: { caFile: string }) => ({
    baseURL: `https://127.0.0.1:${front.port}/v1`,
    ...(tls ? { tls } : {}),
  });
  const idpDirect = () => `127.0.0.1:${new URL(idp.issuer).port}`;

  it("tunnels TLS to it with CONNECT, once for requests that follow each other", async () => {
    await throughTunnel(async (tunnel) => {
      gw = await startBuiltGateway(testConfig(idp.issuer, https()), {
        HTTPS_PROXY: tunnel.url,
        NO_PROXY: idpDirect(),
        NODE_EXTRA_CA_CERTS: ca.caFile,
      });
      for (let i = 0; i < 3; i++) {
        const response = await chat(gw);
        expect(response.status).toBe(200);
        expect(JSON.stringify(await response.json())).toContain(UPSTREAM_ANSWER);
      }
      expect(upstream.chatRequests()).toHaveLength(3);
      // The tunnel (and the TLS session in it) is kept alive and reused.
      expect(await tunnel.requests()).toEqual([`CONNECT 127.0.0.1:${front.port}`]);
    });
  });

  it("trusts the model server's private CA from upstream.tls.caFile, direct and through the proxy", async () => {
    gw = await startBuiltGateway(testConfig(idp.issuer, https({ caFile: ca.caFile })));
    expect((await chat(gw)).status).toBe(200);
    expect(await gw.logged("gateway_upstream_route")).toMatchObject([{ route: "direct" }]);
    await gw.close();

    await throughTunnel(async (tunnel) => {
      gw = await startBuiltGateway(testConfig(idp.issuer, https({ caFile: ca.caFile })), {
        HTTPS_PROXY: tunnel.url,
        NO_PROXY: idpDirect(),
      });
      expect((await chat(gw)).status).toBe(200);
      expect(await tunnel.requests()).toEqual([`CONNECT 127.0.0.1:${front.port}`]);
      expect(upstream.chatRequests()).toHaveLength(2);
    });
  });

  it("without the CA, the model server's certificate is refused inside the tunnel (502)", async () => {
    await throughTunnel(async (tunnel) => {
      gw = await startBuiltGateway(testConfig(idp.issuer, https()), {
        HTTPS_PROXY: tunnel.url,
        NO_PROXY: idpDirect(),
      });
      const response = await chat(gw);
      expect(response.status).toBe(502);
      const [record] = await gw.logged("gateway_upstream_unreachable");
      expect(record?.error_code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT/);
      // The fix names the gateway's own field, not a provider's.
      expect(record?.fix).toMatch(
        /^set upstream\.tls\.caFile in the gateway's config to your organisation's CA bundle/,
      );
      expect(await tunnel.requests()).toEqual([`CONNECT 127.0.0.1:${front.port}`]);
      expect(upstream.chatRequests()).toHaveLength(0);
    });
  });

  it("direct and without the CA: 502, and the log says to set upstream.tls.caFile", async () => {
    gw = await startBuiltGateway(testConfig(idp.issuer, https()));
    expect((await chat(gw)).status).toBe(502);
    const [record] = await gw.logged("gateway_upstream_unreachable");
    expect(record?.error_code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT/);
    expect(record?.fix).toMatch(/^set upstream\.tls\.caFile in the gateway's config/);
    await gw.close();
    gw = undefined;
  });

  it("a missing or non-PEM upstream.tls.caFile stops the start (and --check), naming the field", async () => {
    const missing = join(ca.dir, "nope.pem");
    const file = join(ca.dir, "upstream-ca-missing.json");
    await writeFile(file, JSON.stringify(testConfig(idp.issuer, https({ caFile: missing }))));
    const started = await runGatewayBin(["--config", file]).done;
    expect(started.code).toBe(2);
    expect(started.stderr).toContain(`upstream.tls.caFile ${missing} cannot be read (ENOENT)`);
    expect(started.stderr).not.toContain('"event":"gateway_listening"');

    const notPem = join(ca.dir, "upstream-ca-not-pem.json");
    await writeFile(notPem, JSON.stringify(testConfig(idp.issuer, https({ caFile: file }))));
    const checked = await runGatewayBin(["--config", notPem, "--check"]).done;
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain(`upstream.tls.caFile ${file} holds no PEM certificates`);
    expect(checked.stdout).not.toContain("config ok");
  });
});
