// Run by opencode's embedded Bun (BUN_BE_BUN=1): saves a token with the built core's store under
// $STORAGE and reads it back, as the plugins do inside opencode. Prints where it landed and the
// log events, never the token.
import { createLogger, parseProviderConfig, TokenStore } from "@vymalo/oauth2-core";

const events = [];
const logger = createLogger({ sink: (r) => events.push(r), level: "debug" });
const parsed = parseProviderConfig("corp", {
  issuer: "https://idp.example.com",
  clientId: "cli",
  storage: process.env.STORAGE,
});
if (!("config" in parsed)) throw new Error("invalid config");
const provider = parsed.config;
const store = new TokenStore({ dir: process.env.CACHE_DIR, logger });
const token = {
  version: 1,
  providerId: "corp",
  binding: { issuer: provider.issuer, clientId: "cli", scopes: ["openid"] },
  flow: "authorization_code",
  accessToken: process.env.ACCESS_TOKEN,
  tokenType: "Bearer",
  expiresAt: Date.now() + 600_000,
  obtainedAt: Date.now(),
};
const saved = await store.write(token, provider.storage);
await store.write(token, provider.storage);
const read = await store.read(provider);
process.stdout.write(
  `${JSON.stringify({
    runtime: typeof Bun === "undefined" ? "node" : "bun",
    saved,
    read: read.kind === "ok" ? read.location : read.kind,
    same: read.kind === "ok" && read.token.accessToken === token.accessToken,
    events: events.filter((e) => e.event.startsWith("oauth2_keyring")),
  })}\n`,
);
