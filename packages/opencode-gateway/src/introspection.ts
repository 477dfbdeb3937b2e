import { readJsonBounded } from "./bounded-json.js";
import type { FetchLike } from "./jwks.js";
import type { Claims, Introspect } from "./verify-token.js";

/**
 * RFC 7662 token introspection: POSTs the opaque token to the IdP's introspection endpoint,
 * authenticated as the gateway's own confidential client (HTTP Basic, RFC 6749 §2.3.1), and
 * resolves with the JSON answer. What the answer must say is verify-token.ts's business; how
 * long an answer is reused is introspection-cache.ts's.
 */

export interface IntrospectionOptions {
  endpoint: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  fetch?: FetchLike | undefined;
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded. */
const formEncode = (value: string) =>
  encodeURIComponent(value)
    .replace(/%20/g, "+")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function createIntrospector(options: IntrospectionOptions): Introspect {
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const basic = Buffer.from(
    `${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`,
  ).toString("base64");

  return async (token) => {
    const response = await fetchImpl(options.endpoint, {
      method: "POST",
      headers: {
        authorization: `Basic ${basic}`,
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: new URLSearchParams({ token, token_type_hint: "access_token" }).toString(),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new Error(`the introspection endpoint answered HTTP ${response.status}`);
    }
    const body = await readJsonBounded(response);
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new Error("the introspection endpoint did not answer a JSON object");
    }
    return body as Claims;
  };
}
