import { createPrivateKey, type JsonWebKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import * as client from "openid-client";
import type { AssertionAlg, ClientAssertionOptions } from "../config/credentials.js";
import { OAuth2Error } from "../errors.js";
import { certificateThumbprint } from "../transport/tls-material.js";
import { readWorkloadToken, type TokenSourceContext } from "./token-source.js";

/**
 * private_key_jwt (RFC 7523 §2.2): the client proves itself with an assertion signed by its own
 * key, through openid-client's `PrivateKeyJwt()`. The key file is read here, when a token is
 * requested (never on the path that finds a fresh token in the cache), so a key replaced on
 * disk is picked up at the next renewal. Nothing of the key reaches a log or an error message.
 */

type Fail = (message: string, fix: string, cause?: unknown) => OAuth2Error;

/** An assertion signed with a key file (the schema allows keyFile or token, never both). */
type KeyAssertion = ClientAssertionOptions & { keyFile: string };

/** The WebCrypto import parameters of each algorithm, and the key it needs. */
const ALG_KEY: Record<AssertionAlg, { kty: string; crv?: string; params: object }> = {
  RS256: { kty: "RSA", params: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } },
  RS384: { kty: "RSA", params: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" } },
  RS512: { kty: "RSA", params: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" } },
  PS256: { kty: "RSA", params: { name: "RSA-PSS", hash: "SHA-256" } },
  PS384: { kty: "RSA", params: { name: "RSA-PSS", hash: "SHA-384" } },
  PS512: { kty: "RSA", params: { name: "RSA-PSS", hash: "SHA-512" } },
  ES256: { kty: "EC", crv: "P-256", params: { name: "ECDSA", namedCurve: "P-256" } },
  ES384: { kty: "EC", crv: "P-384", params: { name: "ECDSA", namedCurve: "P-384" } },
  ES512: { kty: "EC", crv: "P-521", params: { name: "ECDSA", namedCurve: "P-521" } },
  EdDSA: { kty: "OKP", crv: "Ed25519", params: { name: "Ed25519" } },
  Ed25519: { kty: "OKP", crv: "Ed25519", params: { name: "Ed25519" } },
};

/** The algorithm a key signs with when neither the config nor the JWK names one. */
function defaultAlg(jwk: JsonWebKey): AssertionAlg | undefined {
  if (jwk.kty === "RSA") return "RS256";
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  const byCurve: Record<string, AssertionAlg> = {
    "P-256": "ES256",
    "P-384": "ES384",
    "P-521": "ES512",
  };
  return jwk.kty === "EC" && jwk.crv ? byCurve[jwk.crv] : undefined;
}

const describeKey = (jwk: JsonWebKey) => (jwk.crv ? `${jwk.kty} ${jwk.crv}` : `${jwk.kty}`);

interface LoadedKey {
  jwk: JsonWebKey;
  /** A certificate found next to the key in a combined PEM file. */
  certificatePem?: string | undefined;
}

const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** The one private JWK of a JWK or JWKS file, chosen by `kid` when it holds several. */
function privateJwkOf(
  json: unknown,
  kid: string | undefined,
  file: string,
  fail: Fail,
): JsonWebKey {
  const keys = (
    typeof json === "object" && json !== null && Array.isArray((json as { keys?: unknown }).keys)
      ? (json as { keys: unknown[] }).keys
      : [json]
  ).filter(
    (k): k is JsonWebKey & { kid?: string } => typeof k === "object" && k !== null && "d" in k,
  );
  const matching = kid ? keys.filter((k) => k.kid === kid) : keys;
  if (matching.length === 1) return matching[0] as JsonWebKey;
  if (matching.length === 0) {
    throw fail(
      `${file} holds no private JWK${kid ? ` with kid "${kid}"` : ""}.`,
      kid
        ? "set clientAssertion.kid to the kid of the private key in the file, or remove it"
        : 'keyFile must hold the private key (a JWK with "d"), not only the public one',
    );
  }
  throw fail(
    `${file} holds ${matching.length} private keys.`,
    "name the one to sign with: set clientAssertion.kid",
  );
}

async function loadKey(options: KeyAssertion, fail: Fail): Promise<LoadedKey> {
  const file = options.keyFile;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw fail(
      `could not read the private key file ${file} (${code}).`,
      "check clientAssertion.keyFile: the file must exist and be readable by you",
    );
  }
  if (text.trimStart().startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw fail(
        `${file} starts like JSON but does not parse.`,
        "keyFile must be a PEM private key, or a JWK/JWKS JSON file",
      );
    }
    const jwk = privateJwkOf(json, options.kid, file, fail);
    try {
      // Through KeyObject, so that a malformed JWK is refused here with the file's name.
      createPrivateKey({ key: jwk, format: "jwk" });
    } catch {
      throw fail(
        `${file} holds a JWK that is not a valid private key.`,
        'export the key again (a private JWK has "d")',
      );
    }
    return { jwk };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(text);
    throw fail(
      encrypted
        ? `${file} holds an encrypted private key.`
        : `${file} holds no private key that can be read (PEM: PKCS#8, PKCS#1 or SEC1; or a JWK).`,
      encrypted
        ? `decrypt it into a file only you can read, e.g. openssl pkey -in <encrypted> -out ${file}`
        : "check clientAssertion.keyFile points at the private key, not the certificate or the public key",
      err,
    );
  }
  return { jwk: key.export({ format: "jwk" }), certificatePem: CERTIFICATE_PEM.exec(text)?.[0] };
}

/** x5t and x5t#S256 of the certificate (Entra ID finds the key by them), checked against the key. */
async function thumbprints(
  options: KeyAssertion,
  loaded: LoadedKey,
  fail: Fail,
): Promise<Record<string, string>> {
  let pem = loaded.certificatePem;
  const from = options.certFile ?? options.keyFile;
  if (options.certFile) {
    try {
      pem = await readFile(options.certFile, "utf8");
    } catch (err) {
      throw fail(
        `could not read the certificate file ${options.certFile} (${(err as NodeJS.ErrnoException).code ?? "unreadable"}).`,
        "check clientAssertion.certFile, or remove it",
      );
    }
  }
  if (!pem) return {};
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (err) {
    throw fail(
      `${from} holds no X.509 certificate that can be read.`,
      "clientAssertion.certFile must be a PEM certificate",
      err,
    );
  }
  if (!certificate.checkPrivateKey(createPrivateKey({ key: loaded.jwk, format: "jwk" }))) {
    throw fail(
      `the certificate in ${from} is not the one of the key in ${options.keyFile}.`,
      "use the certificate issued for this key (the one registered at the IdP)",
    );
  }
  return {
    x5t: certificateThumbprint(certificate.raw, "sha1"),
    "x5t#S256": certificateThumbprint(certificate.raw),
  };
}

export interface ClientAssertionTarget {
  providerId: string;
  httpTimeoutMs: number;
  /** What the assertion's `aud` names. */
  issuer: string;
  tokenEndpoint: string | undefined;
}

/**
 * openid-client's `PrivateKeyJwt()` for the configured key: `alg` from the config, else the
 * JWK, else the key type; `kid` from the config, else the JWK; `aud` as configured.
 */
async function privateKeyJwtAuth(
  options: KeyAssertion,
  target: ClientAssertionTarget,
): Promise<client.ClientAuth> {
  const fail: Fail = (message, fix, cause) =>
    new OAuth2Error({
      code: "client_key_invalid",
      providerId: target.providerId,
      message,
      fix,
      cause,
    });
  const loaded = await loadKey(options, fail);
  const { jwk } = loaded;
  const alg = options.alg ?? (jwk.alg as AssertionAlg | undefined) ?? defaultAlg(jwk);
  const wanted = alg ? ALG_KEY[alg] : undefined;
  if (!alg || !wanted) {
    throw fail(
      `the key in ${options.keyFile} (${describeKey(jwk)}) has no signing algorithm this client supports.`,
      `use an RSA, EC (P-256, P-384, P-521) or Ed25519 key, or set clientAssertion.alg to one of ${Object.keys(ALG_KEY).join(", ")}`,
    );
  }
  if (wanted.kty !== jwk.kty || (wanted.crv && wanted.crv !== jwk.crv)) {
    throw fail(
      `${alg} needs ${wanted.crv ? `an ${wanted.kty} ${wanted.crv}` : `an ${wanted.kty}`} key, but ${options.keyFile} holds an ${describeKey(jwk)} key.`,
      `set clientAssertion.alg to one that fits the key (${defaultAlg(jwk) ?? "none fits"}), or use a key of the right type`,
    );
  }
  const extra = await thumbprints(options, loaded, fail);
  const {
    alg: _alg,
    use: _use,
    key_ops: _ops,
    kid: _kid,
    ...material
  } = jwk as JsonWebKey & {
    kid?: string;
  };
  let key: client.CryptoKey;
  try {
    key = await crypto.subtle.importKey("jwk", material, wanted.params as never, false, ["sign"]);
  } catch (err) {
    throw fail(
      `the key in ${options.keyFile} cannot sign with ${alg}.`,
      "set clientAssertion.alg to one that fits the key",
      err,
    );
  }
  const kid = options.kid ?? (jwk as { kid?: string }).kid;
  const audience =
    options.audience === "issuer" ? target.issuer : (target.tokenEndpoint ?? target.issuer);
  return client.PrivateKeyJwt(kid ? { key, kid } : key, {
    [client.modifyAssertion]: (header, payload) => {
      // openid-client names an Ed25519 key's alg "Ed25519"; most IdPs know only "EdDSA", the
      // default here. The configured name is what goes out.
      header.alg = alg;
      Object.assign(header, extra);
      payload.aud = audience;
    },
  });
}

const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/**
 * The client's credential for `private_key_jwt`: an assertion signed with `keyFile`, or — with
 * workload identity federation (Entra ID, Keycloak's federated client authentication) — a
 * workload token the IdP trusts for this client, read afresh and sent as it is.
 */
export async function clientAssertionAuth(
  options: ClientAssertionOptions,
  target: ClientAssertionTarget,
  sources: TokenSourceContext,
): Promise<client.ClientAuth> {
  if (options.keyFile) return privateKeyJwtAuth(options as KeyAssertion, target);
  if (!options.token) throw new Error("clientAssertion has neither keyFile nor token");
  const assertion = await readWorkloadToken(
    { id: target.providerId, httpTimeoutMs: target.httpTimeoutMs },
    options.token,
    sources,
  );
  return (_as, metadata, body) => {
    body.set("client_id", metadata.client_id);
    body.set("client_assertion_type", JWT_BEARER_ASSERTION);
    body.set("client_assertion", assertion);
  };
}
