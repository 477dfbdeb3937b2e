// An IdP that encrypts the id_token (a JWE, e.g. an Authentik provider with an Encryption Key
// set) to a key this client never registered: the login cannot be completed, and the error must
// say so — with the fix — instead of blaming an HTML page or a 5xx, and must not carry the
// encrypted token around in its cause.
import {
  constants,
  createCipheriv,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { OAuth2Error } from "../../src/errors.js";
import { eventsNamed, type Harness, harness } from "../helpers.js";

let h: Harness;
afterEach(async () => h?.close());

const b64u = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** RSA-OAEP-256 + A256GCM compact JWE of `plaintext`, to a key nobody else has. */
function encryptToStranger(plaintext: string): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const header = b64u(JSON.stringify({ alg: "RSA-OAEP-256", enc: "A256GCM", cty: "JWT" }));
  const cek = randomBytes(32);
  const encryptedKey = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
    cek,
  );
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", cek, iv);
  cipher.setAAD(Buffer.from(header));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [header, b64u(encryptedKey), b64u(iv), b64u(ciphertext), b64u(cipher.getAuthTag())].join(
    ".",
  );
}

describe("an IdP that encrypts the id_token", () => {
  it("fails the login with a named error that says what to turn off at the IdP", async () => {
    h = await harness({ clients: [publicNativeClient("cli")] });
    let jwe: string | undefined;
    // The IdP's real token response, with its id_token encrypted on the way (as the IdP would).
    const engine = h.engine({
      fetch: async (url, init) => {
        const response = await fetch(url, init);
        if (!url.endsWith("/token") || response.status !== 200) return response;
        const body = (await response.json()) as Record<string, unknown>;
        jwe = encryptToStranger(String(body.id_token));
        return new Response(JSON.stringify({ ...body, id_token: jwe }), {
          status: 200,
          headers: { "content-type": "application/json", "cache-control": "no-store" },
        });
      },
    });
    const provider = h.provider({ clientId: "cli", scopes: "openid offline_access" });
    const err = await engine.login(provider).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OAuth2Error);
    const error = err as OAuth2Error;
    expect(jwe?.split(".")).toHaveLength(5);
    expect(error.code).toBe("idp_bad_response");
    expect(error.message).toMatch(/encrypted id_token \(JWE\)/);
    expect(error.fix).toMatch(/Encryption Key/);
    // The encrypted token is nowhere in the error, not even in a cause.
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify(error.toLogFields()) + error.message + error.stack).not.toContain(
      jwe as string,
    );
    expect(eventsNamed(h.records, "oauth2_login_failed")[0]).toMatchObject({
      provider: "corp",
      error_code: "idp_bad_response",
      fix: error.fix,
    });
    // Nothing was cached: no half-login.
    expect((await engine.cached(provider)).kind).toBe("absent");
  });
});
