import { hash } from "node:crypto";

/**
 * The key a token is remembered under: its SHA-256, base64url. A cache keyed by it holds no
 * token a heap dump could leak, and each key is 43 characters whatever the token's length (up
 * to 16 KiB), so a bounded cache is bounded in bytes too. Hashing costs a few microseconds,
 * nothing next to a request.
 */
export const tokenKey = (token: string): string => hash("sha256", token, "base64url");
