import { createSign, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The identity side of the gateway figure: an RSA key made here, its public half served as a
 * JWKS behind an OpenID discovery document on loopback, and RS256 access tokens signed with it
 * the way an IdP signs them (`typ: at+jwt`, iss, aud, azp, sub, scope, iat, exp).
 */

export interface BenchIssuer {
  readonly issuer: string;
  /** An access token for `audience`, issued to `client`, valid for an hour. */
  token(claims: { audience: string; client: string; sub: string }): string;
  close(): Promise<void>;
}

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

function signJwt(key: KeyObject, kid: string, payload: object): string {
  const input = `${b64url({ alg: "RS256", kid, typ: "at+jwt" })}.${b64url(payload)}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(key, "base64url")}`;
}

export async function startBenchIssuer(): Promise<BenchIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = "bench-rs256";
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }],
  });
  let issuer = "";
  const server: Server = createServer((req, res) => {
    const body =
      req.url === "/.well-known/openid-configuration"
        ? JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` })
        : req.url === "/jwks"
          ? jwks
          : undefined;
    res.writeHead(body ? 200 : 404, { "content-type": "application/json" });
    res.end(body ?? "{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    token: ({ audience, client, sub }) => {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(privateKey, kid, {
        iss: issuer,
        aud: audience,
        azp: client,
        sub,
        scope: "openid",
        iat: now,
        exp: now + 3600,
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
