// The models document behind a proxy: the plugin's fetches (and the token the engine gets for
// them) go through the core's transport, so HTTP_PROXY applies on Node too. A real tinyproxy's
// log shows both went through it.
import { type ForwardProxy, startForwardProxy } from "@vymalo/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Harness, harness } from "./harness.js";

let h: Harness | undefined;
let proxy: ForwardProxy | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await proxy?.close();
  await h?.close();
});

describe("models-info behind HTTP_PROXY", () => {
  it("fetches the document and the token through the proxy", async () => {
    h = await harness();
    const modelsPort = Number(new URL(h.server.baseURL).port);
    proxy = await startForwardProxy({ connectPorts: [h.idp.port, modelsPort] });
    for (const name of ["http_proxy", "NO_PROXY", "no_proxy"]) vi.stubEnv(name, "");
    vi.stubEnv("HTTP_PROXY", proxy.url);
    const config = await h.run({
      provider: { corp: h.provider({ models: { "team/coder": {} } }) },
    });
    expect(config.provider.corp.models?.["team/coder"]).toMatchObject({ name: "Team Coder" });
    const requests = await proxy.requests();
    expect(requests).toContain(`CONNECT 127.0.0.1:${modelsPort}`);
    expect(requests).toContain(`CONNECT 127.0.0.1:${h.idp.port}`);
    expect(h.server.requests[0]?.status).toBe(200);
  });
});
