// Certificate-bound tokens (RFC 8705 §3): the testkit IdP over https authenticates the client by
// its certificate (tls_client_auth) and binds the token to it (cnf.x5t#S256); a resource server
// that checks the binding accepts the token only with that certificate presented. The bearer
// fetch must send provider requests with the provider's tls.certFile.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  certificateBoundClient,
  createTestCa,
  type IssuedCertificate,
  startIdp,
  type TestCa,
  type TestIdp,
  thumbprint,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerFetch } from "../src/bearer-fetch.js";
import { providerFor, tempEngine } from "./helpers.js";

let ca: TestCa;
let bot: IssuedCertificate;
let idp: TestIdp;
let server: Server;
let url: string;

beforeAll(async () => {
  ca = await createTestCa();
  bot = await ca.issueClient("bound-bot");
  idp = await startIdp({
    https: { ca },
    clients: [certificateBoundClient("bound-bot", bot.subject)],
  });
  // A resource server that checks the binding: 200 only when the presented certificate is the
  // one the token is bound to.
  const cert = await ca.issueServer();
  server = createServer(
    { key: cert.key, cert: cert.cert, ca: ca.caCert, requestCert: true, rejectUnauthorized: false },
    async (req, res) => {
      const token = req.headers.authorization?.replace(/^Bearer /, "") ?? "";
      const peer = (req.socket as TLSSocket).getPeerX509Certificate?.();
      const claims = await idp.verifyAccessToken(token).catch(() => undefined);
      const bound = (claims?.cnf as Record<string, string> | undefined)?.["x5t#S256"];
      const ok = Boolean(peer && bound && bound === thumbprint(peer.raw));
      res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok, presented: peer ? peer.subject : null }));
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await idp?.close();
  await ca?.cleanup();
});

describe("the bearer fetch with a client certificate", () => {
  it("presents tls.certFile to the provider, so a certificate-bound token works", async () => {
    const env = await tempEngine();
    try {
      const provider = providerFor("corp", {
        issuer: idp.issuer,
        clientId: "bound-bot",
        clientAuthMethod: "tls_client_auth",
        authFlow: "client_credentials",
        tls: { caFile: ca.caFile, certFile: bot.certFile, keyFile: bot.keyFile },
      });
      const doFetch = bearerFetch({ engine: env.engine, provider, logger: env.logger });
      const response = await doFetch(url, { method: "POST", body: "{}" });
      expect(await response.json()).toEqual({ ok: true, presented: "CN=bound-bot" });
      expect(response.status).toBe(200);
      // The token is bound: its cnf names the certificate of tls.certFile.
      const token = await env.engine.ensureAccessToken(provider);
      if (token.status !== "ok") throw new Error(token.status);
      const claims = await idp.verifyAccessToken(token.accessToken);
      expect(claims.cnf).toEqual({ "x5t#S256": thumbprint(bot.cert) });

      // A Request object is sent the same way.
      const viaRequest = await doFetch(new Request(url, { method: "POST", body: "{}" }));
      expect(viaRequest.status).toBe(200);
    } finally {
      await env.cleanup();
    }
  });
});
