import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

/**
 * The built gateway's log when nothing reads it: a log collector that stalls must not make the
 * gateway hold every line it could not write (its memory would grow with each request until
 * the process dies), and the lines it gives up must be counted where the operator looks.
 */

let idp: IssuerStub;
let upstream: Upstream;
let gw: BuiltGateway;

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startUpstream();
  gw = await startBuiltGateway(testConfig(idp.issuer, { baseURL: upstream.baseURL }), {
    OPENCODE_GATEWAY_LOG_LEVEL: "info",
  });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await idp?.close();
});

/** What the gateway's backlog may hold (docs/log-events.md, `gateway_log_dropped`). */
const MAX_BACKLOG = 4 * 1024 * 1024;

describe("a log reader that stalls", () => {
  it("holds at most the backlog's bound, drops the rest, and says how many lines it dropped", async () => {
    // Each request without a token is refused (401) and logs two records that carry its path:
    // gateway_auth_rejected and gateway_request, ~12 KB each; 400 of them are ~9.6 MB of log.
    const marker = "m".repeat(12_000);
    const requests = 400;
    const stderr = gw.child.stderr;
    if (!stderr) throw new Error("the gateway's stderr is not a pipe");
    const before = gw.stderr().length;
    stderr.pause();
    for (let sent = 0; sent < requests; sent += 10) {
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(`${gw.url}/v1/models/${marker}`).then(async (response) => {
            await response.arrayBuffer();
            return response.status;
          }),
        ),
      );
      expect(statuses.every((status) => status === 401)).toBe(true);
    }
    stderr.resume();

    const [dropped] = await gw.logged("gateway_log_dropped");
    const written = gw.stderr().slice(before);
    const lines = written.split("\n").filter((line) => line.includes(marker));
    // Some lines were dropped, and every line is either written or counted.
    expect(dropped).toMatchObject({ level: "warn", maxBacklogBytes: MAX_BACKLOG });
    expect(dropped?.lines).toBeGreaterThan(0);
    expect(lines.length + Number(dropped?.lines)).toBe(2 * requests);
    // What waited for the reader was bounded (all of it would be ~9.6 MB): the backlog, one
    // batch written just under the bound (64 KiB and a line), the pipe's buffer (64 KiB on
    // Linux) and what this side had read before it paused.
    expect(written.length).toBeLessThan(MAX_BACKLOG + 512 * 1024);
    // The gateway still answers, and its lines are written again.
    const after = await fetch(`${gw.url}/v1/models/after-the-stall`);
    expect(after.status).toBe(401);
    await expect.poll(() => gw.stderr().includes("after-the-stall"), { timeout: 5000 }).toBe(true);
  });
});
