// private_key_jwt (RFC 7523 §2.2) against the real oidc-provider: the client is registered with
// `token_endpoint_auth_method: private_key_jwt` and only the public half of a key this test
// generates; the engine signs with the private half read from a PEM or JWK file.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyJwtClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { OAuth2Error } from "../src/errors.js";
import { peekJwtClaims } from "../src/flows/token-response.js";
import { eventsNamed, type Harness, harness, oauth2ErrorOf } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.close());

type KeyType = "rsa" | "ec";

function keyPair(type: KeyType, kid?: string) {
  const { privateKey, publicKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicJwk = { ...publicKey.export({ format: "jwk" }), ...(kid ? { kid } : {}) };
  return {
    pem: privateKey.export({ format: "pem", type: "pkcs8" }) as string,
    privateJwk: { ...privateKey.export({ format: "jwk" }), ...(kid ? { kid } : {}) },
    publicJwk,
  };
}

/** Records each client_assertion sent to the token endpoint (to read its header and claims). */
function assertionRecorder() {
  const sent: string[] = [];
  const fetchImpl = async (url: string, init?: RequestInit) => {
    const body = init?.body instanceof URLSearchParams ? init.body : undefined;
    const assertion = body?.get("client_assertion");
    if (assertion) sent.push(assertion);
    return fetch(url, init);
  };
  const header = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split(".")[0] as string, "base64url").toString("utf8"));
  return { sent, fetch: fetchImpl, header };
}

const headless = (keyFile: string, extra: Record<string, unknown> = {}) => ({
  clientId: "ci-key",
  authFlow: "client_credentials",
  clientAssertion: { keyFile, ...((extra.clientAssertion as object) ?? {}) },
  ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "clientAssertion")),
});

describe("private_key_jwt", () => {
  it("gets a token with a PEM key: no secret sent, aud the token endpoint, the key never logged", async () => {
    const key = keyPair("rsa");
    h = await harness({ clients: [privateKeyJwtClient("ci-key", { keys: [key.publicJwk] })] });
    const keyFile = join(h.cacheDir, "ci.key.pem");
    await writeFile(keyFile, key.pem, { mode: 0o600 });
    const recorder = assertionRecorder();
    const provider = h.provider(headless(keyFile));
    expect(provider.client).toMatchObject({ type: "confidential", authMethod: "private_key_jwt" });

    const result = await h.engine({ fetch: recorder.fetch }).ensureAccessToken(provider);
    expect(result).toMatchObject({ status: "ok", source: "headless" });
    if (result.status !== "ok") return;
    expect((await h.idp.verifyAccessToken(result.accessToken)).client_id).toBe("ci-key");
    expect(recorder.sent).toHaveLength(1);
    const claims = peekJwtClaims(recorder.sent[0]);
    expect(claims).toMatchObject({ iss: "ci-key", sub: "ci-key", aud: h.idp.tokenEndpoint });
    expect(recorder.header(recorder.sent[0] as string)).toMatchObject({ alg: "RS256" });

    const logged = JSON.stringify(h.records);
    expect(logged).not.toContain(key.privateJwk.d as string);
    expect(logged).not.toContain(recorder.sent[0]);
  });

  it("takes kid and alg from a JWK file (EC → ES256) and the aud from audience: issuer", async () => {
    const old = keyPair("ec", "2025");
    const current = keyPair("ec", "2026");
    h = await harness({
      clients: [privateKeyJwtClient("ci-key", { keys: [old.publicJwk, current.publicJwk] })],
    });
    const keyFile = join(h.cacheDir, "ci.jwk.json");
    await writeFile(keyFile, JSON.stringify(current.privateJwk));
    const recorder = assertionRecorder();
    const result = await h
      .engine({ fetch: recorder.fetch })
      .ensureAccessToken(
        h.provider(headless(keyFile, { clientAssertion: { audience: "issuer" } })),
      );
    expect(result.status).toBe("ok");
    expect(recorder.header(recorder.sent[0] as string)).toMatchObject({
      alg: "ES256",
      kid: "2026",
    });
    expect(peekJwtClaims(recorder.sent[0])?.aud).toBe(h.idp.issuer);
  });

  it("sends the certificate's x5t and x5t#S256, as Entra ID wants", async () => {
    const dir = await mkdtemp(join(tmpdir(), "x5t-"));
    const keyFile = join(dir, "ci.key.pem");
    const certFile = join(dir, "ci.crt.pem");
    // openssl's own self-signed certificate: what an admin uploads to Entra ID.
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        keyFile,
        "-out",
        certFile,
      ].concat(["-subj", "/CN=ci-key", "-days", "1"]),
      { stdio: "ignore" },
    );
    const certificate = new X509Certificate(await readFile(certFile));
    const publicJwk = certificate.publicKey.export({ format: "jwk" });
    h = await harness({ clients: [privateKeyJwtClient("ci-key", { keys: [publicJwk] })] });
    const recorder = assertionRecorder();
    const result = await h
      .engine({ fetch: recorder.fetch })
      .ensureAccessToken(
        h.provider(headless(keyFile, { clientAssertion: { certFile, alg: "PS256" } })),
      );
    await rm(dir, { recursive: true, force: true });
    expect(result.status).toBe("ok");
    const thumb = (hex: string) =>
      Buffer.from(hex.replaceAll(":", ""), "hex").toString("base64url");
    expect(recorder.header(recorder.sent[0] as string)).toMatchObject({
      alg: "PS256",
      x5t: thumb(certificate.fingerprint),
      "x5t#S256": thumb(certificate.fingerprint256),
    });
  });

  it("reads the key only to get a token: a cached token is used after the key file is gone", async () => {
    const key = keyPair("rsa");
    h = await harness({ clients: [privateKeyJwtClient("ci-key", { keys: [key.publicJwk] })] });
    const keyFile = join(h.cacheDir, "ci.key.pem");
    await writeFile(keyFile, key.pem);
    const provider = h.provider(headless(keyFile));
    const first = await h.engine().ensureAccessToken(provider);
    await rm(keyFile);
    const again = await h.engine().ensureAccessToken(provider);
    expect(again).toMatchObject({ status: "ok", source: "cache" });
    expect(again.status === "ok" && first.status === "ok" && again.accessToken).toBe(
      first.status === "ok" && first.accessToken,
    );
  });

  it("names an unreadable key file, and a key that does not fit the algorithm", async () => {
    const key = keyPair("ec");
    h = await harness({ clients: [privateKeyJwtClient("ci-key", { keys: [key.publicJwk] })] });
    const missing = join(h.cacheDir, "nope.pem");
    const gone = await oauth2ErrorOf(h.engine().ensureAccessToken(h.provider(headless(missing))));
    expect(gone.code).toBe("client_key_invalid");
    expect(gone.message).toContain(`could not read the private key file ${missing} (ENOENT)`);
    expect(gone.fix).toMatch(/clientAssertion\.keyFile/);

    const keyFile = join(h.cacheDir, "ec.pem");
    await writeFile(keyFile, key.pem);
    const wrong = await oauth2ErrorOf(
      h
        .engine()
        .ensureAccessToken(h.provider(headless(keyFile, { clientAssertion: { alg: "RS256" } }))),
    );
    expect(wrong.code).toBe("client_key_invalid");
    expect(wrong.message).toContain(`RS256 needs an RSA key, but ${keyFile} holds an EC P-256 key`);
    expect(wrong.fix).toContain("ES256");
    expect(wrong.message).not.toContain(key.privateJwk.d as string);
    expect(h.idp.tokenRequests).toHaveLength(0);
  });

  it("an assertion the IdP refuses shows endpoint, status and the IdP's error, and what to check", async () => {
    const registered = keyPair("rsa");
    const other = keyPair("rsa");
    h = await harness({
      clients: [privateKeyJwtClient("ci-key", { keys: [registered.publicJwk] })],
    });
    const keyFile = join(h.cacheDir, "other.pem");
    await writeFile(keyFile, other.pem);
    const err = await oauth2ErrorOf(h.engine().ensureAccessToken(h.provider(headless(keyFile))));
    expect(err).toBeInstanceOf(OAuth2Error);
    expect(err.idp?.error).toBe("invalid_client");
    expect(err.answer).toMatchObject({ endpoint: "token", status: 401 });
    expect(err.message).toContain("The token endpoint answered HTTP 401: invalid_client");
    expect(err.fix).toContain("public key of clientAssertion.keyFile");
    expect(eventsNamed(h.records, "oauth2_headless_token_failed")[0]).toMatchObject({
      error: "invalid_client",
      endpoint: "token",
      status: 401,
    });
  });
});
