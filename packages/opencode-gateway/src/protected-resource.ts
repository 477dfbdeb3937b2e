import { etagOf } from "./etag.js";

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells a standard OAuth
 * client which authorization server issues tokens for this gateway, and the URL every
 * `WWW-Authenticate` challenge points at (`resource_metadata`), so a client that got a 401
 * can find the IdP without being told.
 */

const WELL_KNOWN = "/.well-known/oauth-protected-resource";

/**
 * RFC 9728 §3.1: the well-known suffix goes between the host and the resource's path, so
 * `https://h/llm` has its metadata at `https://h/.well-known/oauth-protected-resource/llm`.
 */
export function protectedResourceMetadataUrl(publicUrl: string): string {
  const url = new URL(publicUrl);
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.origin}${WELL_KNOWN}${path}`;
}

/**
 * The paths the gateway answers the document on: the root one, and the one with the public
 * URL's path (for a load balancer that routes the RFC 9728 URL to the gateway unchanged).
 */
export function protectedResourcePaths(publicUrl: string): string[] {
  const path = new URL(publicUrl).pathname.replace(/\/+$/, "");
  return path ? [WELL_KNOWN, `${WELL_KNOWN}${path}`] : [WELL_KNOWN];
}

export interface ProtectedResourceInput {
  publicUrl: string;
  issuer: string;
  providerName: string;
  /** Scopes a client may need here (required ones, and those the access table names). */
  scopes: readonly string[];
}

export interface ProtectedResourceDocument {
  body: string;
  etag: string;
}

export function buildProtectedResourceMetadata(
  input: ProtectedResourceInput,
): ProtectedResourceDocument {
  const scopes = [...new Set(input.scopes)];
  const body = JSON.stringify({
    resource: input.publicUrl,
    authorization_servers: [input.issuer],
    // Tokens are read from the Authorization header only (RFC 6750 §2.1), never a form or query.
    bearer_methods_supported: ["header"],
    ...(scopes.length > 0 ? { scopes_supported: scopes } : {}),
    resource_name: input.providerName,
  });
  return { body, etag: etagOf(body) };
}
