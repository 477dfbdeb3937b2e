import { generateKeyPair, type JsonWebKey } from "node:crypto";

let cached: Promise<{ keys: JsonWebKey[] }> | undefined;

/**
 * A private signing JWKS for the test IdP: one RSA key (RS256 is the default ID Token and
 * JWT access token algorithm). Generated once per process (~50–150 ms) and shared by every
 * IdP the process starts; without it oidc-provider falls back to its published dev keys and
 * prints a warning.
 */
export function signingJwks(): Promise<{ keys: JsonWebKey[] }> {
  cached ??= new Promise((resolve, reject) => {
    generateKeyPair("rsa", { modulusLength: 2048 }, (error, _publicKey, privateKey) => {
      if (error) {
        reject(error);
        return;
      }
      const jwk = privateKey.export({ format: "jwk" });
      resolve({ keys: [{ ...jwk, kid: "testkit-rs256", use: "sig", alg: "RS256" }] });
    });
  });
  return cached;
}
