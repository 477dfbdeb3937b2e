import type { JWTHeaderParameters } from "jose";
import { Lru } from "./lru.js";
import { tokenKey } from "./token-key.js";

/**
 * Accepted JWTs, remembered until their `exp`, so a user's token is verified once and not on
 * every request (a signature check is most of what the token check costs). An entry also
 * remembers the key that verified it and the key set it came from: a hit counts at once while
 * the key source still answers from that key set (fresh, not being re-fetched), and otherwise
 * asks the key source for the token's key again and counts only when it is the same key, so a
 * token whose key the IdP has withdrawn fails as soon as the key source has dropped the key, as
 * it would uncached. Keys are hashes ({@link tokenKey}); entries are bounded by an LRU. Refusals are
 * not remembered.
 */

/** A token accepted: its claims, and how they were had (verify-token.ts's `Verdict`). */
export interface Acceptance {
  ok: true;
  claims: Record<string, unknown>;
  via: "jwt" | "introspection";
}

export interface Accepted {
  /** The verdict, claims and all (frozen: every request with the token shares it). */
  verdict: Acceptance;
  header: JWTHeaderParameters;
  /** The key object the signature was checked with. */
  key: unknown;
  /** The key set the key came from, when the key source tells (jwks.ts `keySet`). */
  keySet: object | undefined;
  /** Epoch milliseconds: the token's `exp`. */
  until: number;
}

/** Default 10 000 entries: a few MB of claims. */
export const VERDICT_CACHE_ENTRIES = 10_000;

export class VerdictCache {
  readonly #entries: Lru<string, Accepted>;

  constructor(maxEntries = VERDICT_CACHE_ENTRIES) {
    this.#entries = new Lru(maxEntries);
  }

  /** The remembered acceptance of `token` while it is unexpired at `nowMs`. */
  get(token: string, nowMs: number): Accepted | undefined {
    const key = tokenKey(token);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until > nowMs) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  set(token: string, entry: Accepted): void {
    Object.freeze(entry.verdict.claims);
    Object.freeze(entry.verdict);
    this.#entries.set(tokenKey(token), entry);
  }

  forget(token: string): void {
    this.#entries.delete(tokenKey(token));
  }
}
