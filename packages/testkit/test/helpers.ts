import * as client from "openid-client";
import type { TestIdp } from "../src/index.js";

export const PUBLIC_ID = "cli";
export const CONFIDENTIAL_ID = "svc";
export const SECRET = "s3cret-value";
export const REDIRECT_URI = "http://127.0.0.1:49152/callback";

const insecure = { execute: [client.allowInsecureRequests] };

/** openid-client configuration of the public native client (no client authentication). */
export function publicConfig(idp: TestIdp, clientId = PUBLIC_ID): Promise<client.Configuration> {
  return client.discovery(new URL(idp.issuer), clientId, undefined, client.None(), insecure);
}

/** openid-client configuration authenticating with client_secret_basic. */
export function basicConfig(
  idp: TestIdp,
  clientId = CONFIDENTIAL_ID,
  secret = SECRET,
): Promise<client.Configuration> {
  return client.discovery(
    new URL(idp.issuer),
    clientId,
    undefined,
    client.ClientSecretBasic(secret),
    insecure,
  );
}

/** Builds a code + S256 PKCE authorization URL; returns it with the verifier. */
export async function pkceAuthorizationUrl(
  config: client.Configuration,
  extra: Record<string, string> = {},
): Promise<{ url: string; verifier: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid api:read",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...extra,
  });
  return { url: url.href, verifier };
}

/** Resolves with the OAuth error code a rejected openid-client call carried. */
export async function oauthErrorOf(promise: Promise<unknown>): Promise<{
  error: string | undefined;
  description: string | undefined;
  status: number | undefined;
}> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof client.ResponseBodyError) {
      return { error: error.error, description: error.error_description, status: error.status };
    }
    throw error;
  }
  throw new Error("expected the request to fail");
}

/** POSTs a form to a URL, optionally with HTTP Basic credentials; returns status and JSON. */
export async function postForm(
  url: string,
  form: Record<string, string>,
  basic?: { id: string; secret: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (basic) {
    const encode = (value: string) => encodeURIComponent(value);
    const credentials = `${encode(basic.id)}:${encode(basic.secret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  }
  const response = await fetch(url, { method: "POST", headers, body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** What came back, as is: status, content type and the body text. */
export interface RawAnswer {
  status: number;
  contentType: string | null;
  wwwAuthenticate: string | null;
  text: string;
}

/** POSTs a form (Basic credentials as given, not encoded) and returns the raw answer. */
export async function postRaw(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const response = await fetch(url, { method: "POST", headers, body: new URLSearchParams(form) });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    wwwAuthenticate: response.headers.get("www-authenticate"),
    text: await response.text(),
  };
}

/** An `Authorization: Basic` header with id and secret exactly as given. */
export const basicHeader = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`,
});
