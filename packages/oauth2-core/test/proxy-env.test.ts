// Which proxy a URL takes: the rules users know from curl (and that Bun applies inside
// opencode), decided once for the transport and for doctor.
import { describe, expect, it } from "vitest";
import { proxyFor, redactUrl } from "../src/transport/proxy-env.js";

const P = "http://proxy.corp:3128";

describe("proxyFor", () => {
  it.each([
    ["https://idp.corp/x", { HTTPS_PROXY: P }, P, "HTTPS_PROXY"],
    ["https://idp.corp/x", { https_proxy: P, HTTPS_PROXY: "http://other:1" }, P, "https_proxy"],
    ["https://idp.corp/x", { HTTP_PROXY: P }, P, "HTTP_PROXY"],
    ["http://idp.corp/x", { HTTPS_PROXY: P }, undefined, undefined],
    ["http://idp.corp/x", { http_proxy: P }, P, "http_proxy"],
    ["https://idp.corp/x", { HTTPS_PROXY: "proxy.corp:3128" }, P, "HTTPS_PROXY"],
    ["https://idp.corp/x", { HTTPS_PROXY: "  " }, undefined, undefined],
  ])("%s with %o goes through %s", (url, env, proxy, variable) => {
    expect(proxyFor(url, env)).toMatchObject({ proxy, variable });
  });

  it.each([
    ["idp.corp", "https://idp.corp/x", "idp.corp"],
    ["corp", "https://login.idp.corp/x", "corp"],
    [".corp", "https://idp.corp/x", ".corp"],
    ["*.corp", "https://idp.corp/x", "*.corp"],
    ["other.example, idp.corp", "https://idp.corp/x", "idp.corp"],
    ["idp.corp:8443", "https://idp.corp:8443/x", "idp.corp:8443"],
    ["127.0.0.1", "https://127.0.0.1:9443/x", "127.0.0.1"],
    ["[::1]:8443", "https://[::1]:8443/x", "[::1]:8443"],
    ["::1", "https://[::1]:8443/x", "::1"],
    ["*", "https://anything/x", "*"],
    ["IDP.CORP", "https://idp.corp/x", "IDP.CORP"],
  ])("NO_PROXY=%s sends %s direct", (noProxy, url, entry) => {
    expect(proxyFor(url, { HTTPS_PROXY: P, NO_PROXY: noProxy })).toEqual({
      proxy: undefined,
      variable: undefined,
      bypassedBy: entry,
    });
  });

  it.each([
    ["idp.corp:8443", "https://idp.corp/x"],
    ["notidp.corp", "https://idp.corp/x"],
    ["dp.corp", "https://idp.corp/x"],
    ["127.0.0.2", "https://127.0.0.1/x"],
  ])("NO_PROXY=%s still proxies %s", (noProxy, url) => {
    expect(proxyFor(url, { HTTPS_PROXY: P, NO_PROXY: noProxy }).proxy).toBe(P);
  });
});

describe("redactUrl", () => {
  it("never shows credentials, a query or a fragment", () => {
    expect(redactUrl("http://alice:s3cret@proxy.corp:3128")).toBe("http://***@proxy.corp:3128");
    expect(redactUrl("https://idp.corp/token?code=abc#x")).toBe("https://idp.corp/token");
    expect(redactUrl("not a url s3cret")).toBe("[not a URL]");
  });
});
