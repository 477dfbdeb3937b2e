import { createHash } from "node:crypto";

/**
 * Strong validators for the documents the gateway serves. They are derived from the body only,
 * so every instance built from the same config answers the same ETag: revalidation works behind
 * a load balancer.
 */
export function etagOf(body: string): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

/** Whether an `If-None-Match` header matches `etag` (RFC 9110 §13.1.2: weak comparison, a list
 * of tags, or `*`). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, "");
  const own = strip(etag);
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || strip(tag) === own);
}
