import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProviderConfig, silentLogger, TokenEngine } from "@vymalo/oauth2-core";
import { bearerFetch } from "@vymalo/opencode-oauth2/lib";
import { confidentialClient, startFakeLlm, startIdp } from "@vymalo/testkit";
import { formatMs, since } from "./stats.js";
import { type Figure, medianRatioFigure } from "./table.js";

const BODY = JSON.stringify({
  model: "demo-model",
  messages: [{ role: "user", content: "Say hello" }],
  stream: false,
});

/**
 * The per-request cost of the bearer injection: `bearerFetch` (an ensure on every request — a
 * token-file read while the token is valid) against the same request with a fixed
 * Authorization header, to the same loopback server, interleaved request by request.
 */
export async function bearerCost(requests: number): Promise<Figure[]> {
  const idp = await startIdp({
    clients: [confidentialClient("svc", "svc-secret")],
    accessTokenTtl: 3600,
  });
  const cacheDir = await mkdtemp(join(tmpdir(), "bench-bearer-"));
  // The testkit's fake model server, open (no verifier): both sides pay the same per request.
  const server = await startFakeLlm();
  const url = `${server.baseURL}/chat/completions`;
  try {
    const parsed = parseProviderConfig("corp", {
      issuer: idp.issuer,
      clientId: "svc",
      clientSecret: "svc-secret",
      authFlow: "client_credentials",
    });
    if (!("config" in parsed)) throw new Error("invalid provider config");
    const provider = parsed.config;
    const engine = new TokenEngine({ cacheDir, logger: silentLogger });
    const minted = await engine.ensureAccessToken(provider);
    if (minted.status !== "ok") throw new Error("no token");
    const token = minted.accessToken;
    const withBearer = bearerFetch({ engine, provider, logger: silentLogger });
    const headers = { "content-type": "application/json" };

    const viaBearer = async () => {
      const started = performance.now();
      const res = await withBearer(url, { method: "POST", headers, body: BODY });
      await res.text();
      if (res.status !== 200) throw new Error(`bearerFetch: ${res.status}`);
      return since(started);
    };
    const viaFixed = async () => {
      const started = performance.now();
      const res = await fetch(url, {
        method: "POST",
        headers: { ...headers, authorization: `Bearer ${token}` },
        body: BODY,
      });
      await res.text();
      if (res.status !== 200) throw new Error(`fetch: ${res.status}`);
      return since(started);
    };
    for (let i = 0; i < 30; i += 1) {
      await viaBearer();
      await viaFixed();
    }
    const grants = idp.tokenRequests.length;
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < requests; i += 1) {
      if (i % 2 === 0) {
        a.push(await viaBearer());
        b.push(await viaFixed());
      } else {
        b.push(await viaFixed());
        a.push(await viaBearer());
      }
    }
    if (idp.tokenRequests.length !== grants) throw new Error("the token was re-minted mid-run");
    return [
      medianRatioFigure(
        "per-request cost, bearerFetch (valid cached token) / fixed header",
        { a, b },
        (bearer, fixed) =>
          ` per request (+${formatMs(bearer - fixed)}), ${requests}+${requests} interleaved`,
      ),
    ];
  } finally {
    await server.close();
    await idp.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}
