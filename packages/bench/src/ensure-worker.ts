// One of the processes of the single-flight benchmark: on each "go" line it fires `CALLS`
// concurrent ensures for the same provider and answers how many succeeded and which tokens
// they got (fingerprints only, never a token).
import { createInterface } from "node:readline";
import { fingerprint, parseProviderConfig, TokenEngine } from "@vymalo/oauth2-core";

const calls = Number(process.env.CALLS ?? 25);
const parsed = parseProviderConfig("corp", {
  issuer: process.env.ISSUER,
  clientId: "cli",
  scopes: "openid offline_access",
  tokenExpirySkewMs: 1000,
});
if (!("config" in parsed)) throw new Error("invalid provider config");
const provider = parsed.config;
const engine = new TokenEngine({ cacheDir: process.env.CACHE_DIR });

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const _line of createInterface({ input: process.stdin })) {
  const results = await Promise.all(
    Array.from({ length: calls }, () => engine.ensureAccessToken(provider).catch(() => undefined)),
  );
  const ok = results.filter((r) => r?.status === "ok");
  const tokens = new Set(ok.map((r) => (r?.status === "ok" ? fingerprint(r.accessToken) : "")));
  process.stdout.write(`${JSON.stringify({ ok: ok.length, tokens: [...tokens] })}\n`);
}
