// client_secret_jwt (RFC 7523 §2.2, OpenID Connect Core §9) against the real oidc-provider: the
// client is registered with `token_endpoint_auth_method: client_secret_jwt`, and the engine
// proves it knows the secret with an HS256 assertion keyed by it; the secret itself is never
// sent, logged or put in an error.
import { clientSecretJwtClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { parseProviderConfig } from "../src/config/parse.js";
import { peekJwtClaims } from "../src/flows/token-response.js";
import { type Harness, harness, oauth2ErrorOf } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.close());

// HS256 keys should be at least 256 bits (RFC 7518 §3.2).
const SECRET = "hs256-secret-0123456789abcdefghijklmnopqrstuv";

/** What each token request carried: the form and the Authorization header. */
function requestRecorder() {
  const sent: { form: URLSearchParams; authorization: string | null }[] = [];
  const fetchImpl = async (url: string, init?: RequestInit) => {
    if (init?.body instanceof URLSearchParams) {
      sent.push({
        form: new URLSearchParams(init.body),
        authorization: new Headers(init.headers).get("authorization"),
      });
    }
    return fetch(url, init);
  };
  return { sent, fetch: fetchImpl };
}

const headerOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[0] as string, "base64url").toString("utf8"));

const secretJwt = (clientSecret: string) => ({
  clientId: "ci-hs",
  clientSecret,
  clientAuthMethod: "client_secret_jwt",
  authFlow: "client_credentials",
});

describe("client_secret_jwt", () => {
  it("gets a token with an HS256 assertion for the token endpoint; the secret is never sent or logged", async () => {
    h = await harness({ clients: [clientSecretJwtClient("ci-hs", SECRET)] });
    const recorder = requestRecorder();
    const provider = h.provider(secretJwt(SECRET));
    expect(provider.client).toMatchObject({
      type: "confidential",
      authMethod: "client_secret_jwt",
    });

    const result = await h.engine({ fetch: recorder.fetch }).ensureAccessToken(provider);
    expect(result).toMatchObject({ status: "ok", source: "headless" });
    if (result.status !== "ok") return;
    expect((await h.idp.verifyAccessToken(result.accessToken)).client_id).toBe("ci-hs");

    expect(recorder.sent).toHaveLength(1);
    const [request] = recorder.sent;
    expect(request?.authorization).toBeNull();
    expect(request?.form.get("client_secret")).toBeNull();
    expect(request?.form.get("client_assertion_type")).toBe(
      "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    );
    const assertion = request?.form.get("client_assertion") as string;
    expect(headerOf(assertion)).toMatchObject({ alg: "HS256" });
    expect(peekJwtClaims(assertion)).toMatchObject({
      iss: "ci-hs",
      sub: "ci-hs",
      aud: h.idp.tokenEndpoint,
    });
    expect(request?.form.toString()).not.toContain(SECRET);

    const logged = JSON.stringify(h.records);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(assertion);
  });

  it("a wrong secret: the IdP's invalid_client with a fix about the secret, the secret not in the error or the log", async () => {
    h = await harness({ clients: [clientSecretJwtClient("ci-hs", SECRET)] });
    const wrong = "wrong-secret-0123456789abcdefghijklmnopqrstu";
    const err = await oauth2ErrorOf(h.engine().ensureAccessToken(h.provider(secretJwt(wrong))));
    expect(err.idp?.error).toBe("invalid_client");
    expect(err.answer?.endpoint ?? "token").toBe("token");
    expect(err.fix).toContain("clientSecret");
    expect(err.fix).toContain("client_secret_jwt");
    const everything = `${err.message} ${JSON.stringify(err.toLogFields())} ${JSON.stringify(h.records)}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(SECRET);
  });

  it("at an IdP that names the client_assertion in its refusal (Okta), the fix is still about the secret", async () => {
    h = await harness({
      clients: [clientSecretJwtClient("ci-hs", SECRET)],
      quirks: { assertionRefusalDescribed: true },
    });
    const wrong = "wrong-secret-0123456789abcdefghijklmnopqrstu";
    const err = await oauth2ErrorOf(h.engine().ensureAccessToken(h.provider(secretJwt(wrong))));
    expect(err.idp).toMatchObject({
      error: "invalid_client",
      error_description: "The client_assertion signature is invalid.",
    });
    expect(err.fix).toContain("check clientSecret");
    expect(err.fix).not.toContain("public");
  });
});

describe("client_secret_jwt config", () => {
  const issuer = "https://idp.example.com";

  it("without clientSecret: names the field and the fix", () => {
    const parsed = parseProviderConfig("corp", {
      issuer,
      clientId: "ci-hs",
      clientAuthMethod: "client_secret_jwt",
      authFlow: "client_credentials",
    });
    expect("issues" in parsed && parsed.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          message: expect.stringContaining(
            "client_secret_jwt signs its assertion with the client secret: set clientSecret",
          ),
        }),
      ]),
    );
  });

  it("with clientAssertion: the key belongs to private_key_jwt", () => {
    const parsed = parseProviderConfig("corp", {
      issuer,
      clientId: "ci-hs",
      clientSecret: SECRET,
      clientAuthMethod: "client_secret_jwt",
      clientAssertion: { keyFile: "/etc/ci.pem" },
      authFlow: "client_credentials",
    });
    expect("issues" in parsed && parsed.issues.map((i) => i.message).join("\n")).toContain(
      'client_secret_jwt authenticates with the client secret, not a key: remove clientAssertion, or set clientAuthMethod "private_key_jwt"',
    );
  });
});
