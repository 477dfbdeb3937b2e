import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CookieJar,
  parseForms,
  publicNativeClient,
  readOpenedUrls,
  startIdp,
  TestBrowser,
  type TestIdp,
  writeBrowserScript,
} from "../src/index.js";
import { PUBLIC_ID, pkceAuthorizationUrl, publicConfig } from "./helpers.js";

describe("CookieJar", () => {
  const base = new URL("http://127.0.0.1:3000/interaction/abc");

  it("scopes cookies by path and host", () => {
    const jar = new CookieJar();
    jar.store(base, ["a=1; path=/interaction/abc; httponly", "b=2; path=/", "c=3"]);
    expect(jar.header(base)).toBe("a=1; c=3; b=2");
    // c has the default path "/interaction"; a's path does not match /interaction/abcdef.
    expect(jar.header(new URL("http://127.0.0.1:3000/interaction/abcdef"))).toBe("c=3; b=2");
    expect(jar.header(new URL("http://127.0.0.1:3000/auth/x"))).toBe("b=2");
    expect(jar.header(new URL("http://localhost:3000/"))).toBeUndefined();
  });

  it("honours expiry and deletion", () => {
    const jar = new CookieJar();
    const now = Date.now();
    jar.store(base, [
      "a=1; path=/; max-age=10",
      "b=2; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT",
    ]);
    expect(jar.header(base, now)).toBe("a=1");
    expect(jar.header(base, now + 11_000)).toBeUndefined();
    jar.store(base, ["a=1; path=/; max-age=10"], now);
    jar.store(base, ["a=; path=/; max-age=0"], now);
    expect(jar.names()).toEqual([]);
  });
});

describe("parseForms", () => {
  it("reads actions, ids and named inputs with entities decoded", () => {
    const html = `<form id="f1" method="post" action="/device?a=1&amp;b=2">
      <input type="hidden" name="xsrf" value="x&quot;y"/>
      <input
        type="text" name="user_code" autofocus></input></form>
      <form action='/other'><input name="q" value='1'></form>`;
    expect(parseForms(html)).toEqual([
      {
        id: "f1",
        action: "/device?a=1&b=2",
        method: "POST",
        fields: { xsrf: 'x"y', user_code: "" },
      },
      { id: undefined, action: "/other", method: "GET", fields: { q: "1" } },
    ]);
  });
});

describe("writeBrowserScript", () => {
  it("logs each URL it is asked to open and exits 0", async () => {
    const dir = await mkdtemp(join(tmpdir(), "testkit-browser-"));
    try {
      const log = join(dir, "opened's.log");
      const script = await writeBrowserScript(dir, log);
      const url = "http://127.0.0.1:1/auth?a=1&b='2' $HOME";
      await promisify(execFile)(script, [url]);
      await promisify(execFile)(script, ["http://second"]);
      expect(await readOpenedUrls(log)).toEqual([url, "http://second"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("TestBrowser against the IdP", () => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await startIdp({ clients: [publicNativeClient(PUBLIC_ID)] });
  });
  afterAll(() => idp.close());

  it("follows the callback to a loopback listener", async () => {
    const hits: string[] = [];
    const listener = createServer((req, res) => {
      hits.push(req.url ?? "");
      res.end("done");
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const { port } = listener.address() as AddressInfo;
    try {
      const config = await publicConfig(idp);
      const { url } = await pkceAuthorizationUrl(config, {
        redirect_uri: `http://127.0.0.1:${port}/callback`,
      });
      const result = await new TestBrowser().authorize(url, { followCallback: true });
      expect(result.callbackResponse?.status).toBe(200);
      expect(await result.callbackResponse?.text()).toBe("done");
      expect(hits).toHaveLength(1);
      expect(hits[0]).toMatch(/^\/callback\?code=/);
    } finally {
      listener.closeAllConnections();
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it("keeps the session: a second authorization skips the login page", async () => {
    const config = await publicConfig(idp);
    const browser = new TestBrowser();
    await browser.authorize((await pkceAuthorizationUrl(config)).url, { login: "carol" });
    expect(browser.cookies.names()).toContain("_session");
    const { url, verifier } = await pkceAuthorizationUrl(config);
    // A different login is ignored: the session's account is reused.
    const { callbackUrl } = await browser.authorize(url, { login: "dave" });
    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: verifier,
    });
    expect(tokens.claims()?.sub).toBe("carol");
  });

  it("reports a wrong user code", async () => {
    const config = await publicConfig(idp);
    const device = await client.initiateDeviceAuthorization(config, {});
    await expect(
      new TestBrowser().approveDevice(device.verification_uri, "WRONG-CODE"),
    ).rejects.toThrow(/code you entered is incorrect/);
  });
});
