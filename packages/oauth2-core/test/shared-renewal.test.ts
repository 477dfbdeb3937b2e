// opencode runs the oauth2 and the models-info plugins' config hooks one after the other, each
// with its own engine over the same cache. A renewal one engine has pending is joined by the
// others, so a slow or hanging IdP is asked (and waited for) once per start, not once per plugin.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { confidentialClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { OAuth2Error } from "../src/errors.js";
import { type Harness, harness } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.close());

const headless = {
  clientId: "svc",
  clientSecret: "svc-secret",
  authFlow: "client_credentials",
  httpTimeoutMs: 1000,
};

describe("renewals shared by the engines of one process", () => {
  it("engines over different caches, or with a different config, do not share", async () => {
    h = await harness({ clients: [confidentialClient("svc", "svc-secret")], tokenDelayMs: 300 });
    const otherCache = await mkdtemp(join(tmpdir(), "oauth2-core-other-"));
    try {
      const results = await Promise.all([
        h.engine().ensureAccessToken(h.provider(headless)),
        h.engine({ cacheDir: otherCache }).ensureAccessToken(h.provider(headless)),
        h.engine().ensureAccessToken(h.provider({ ...headless, scopes: "api" })),
      ]);
      expect(results.map((r) => r.status)).toEqual(["ok", "ok", "ok"]);
      expect(h.idp.tokenRequests).toHaveLength(3);
    } finally {
      await rm(otherCache, { recursive: true, force: true });
    }
  });

  it("with a hanging IdP, an engine that asks later gets the first one's failure", async () => {
    h = await harness({ clients: [confidentialClient("svc", "svc-secret")] });
    const provider = h.provider(headless);
    await h.engine().ensureAccessToken(h.provider(headless, "warm-up")); // discovery, while healthy
    h.idp.setFailure("hang");
    const requestsBefore = h.idp.tokenRequests.length;
    const first = h
      .engine()
      .ensureAccessToken(provider)
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = h
      .engine()
      .ensureAccessToken(provider)
      .catch((e: unknown) => e);
    const [e1, e2] = await Promise.all([first, second]);
    expect(e1).toBeInstanceOf(OAuth2Error);
    expect(e2).toBe(e1);
    expect((e1 as OAuth2Error).code).toBe("idp_unreachable");
    expect(h.idp.tokenRequests.length - requestsBefore).toBe(1);
    h.idp.setFailure(null);
  });
});
