import { fileURLToPath } from "node:url";
import { startChild } from "@vymalo/testkit";
import { describe, expect, it } from "vitest";

const DEMO = fileURLToPath(new URL("../../demo/dist/main.js", import.meta.url));

/**
 * The README's main job, as a user runs it: an embedded IdP, the gateway, and the real opencode
 * logging in through .well-known/opencode, listing models with models-info metadata and getting
 * an answer through the gateway.
 */
describe("pnpm demo", () => {
  it("runs every step, prints what each shows, exits 0 and leaves nothing running", async () => {
    const { code, stdout, stderr } = await startChild(process.execPath, [DEMO]).done;
    expect(code, `${stdout}\n${stderr}`).toBe(0);

    const url = stdout.match(/\[4\] opencode auth login (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    expect(url).toBeDefined();
    expect(stdout).toMatch(/device code \S+ at http:\/\/127\.0\.0\.1:\d+\/device/);
    expect(stdout).toMatch(/Logged into http:\/\/127\.0\.0\.1:\d+/);
    // models-info: limits and per-million prices from the gateway's own config.
    expect(stdout).toContain('limit: {"context":131072,"output":8192}');
    expect(stdout).toMatch(/cost \(USD per million tokens\): \{"input":2,"output":6/);
    // The demo model's deterministic answer came back through the gateway.
    expect(stdout).toContain('You said: "What is OAuth2?"');
    // Nothing left listening on the gateway's port.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    // The embedded IdP's development-mode notices are held back, and counted.
    expect(`${stdout}${stderr}`).not.toMatch(/oidc-provider (NOTICE|WARNING)/);
    expect(stdout).toMatch(
      /\(\d+ development-mode notices of the embedded IdP held back; DEMO_VERBOSE=1/,
    );
    // No token in anything the demo printed.
    expect(`${stdout}${stderr}`).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\./);
  });
});
