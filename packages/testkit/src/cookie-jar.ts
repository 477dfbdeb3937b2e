interface StoredCookie {
  name: string;
  value: string;
  hostname: string;
  path: string;
  /** ms since epoch; undefined for session cookies. */
  expiresAt: number | undefined;
}

/** RFC 6265 §5.1.4 default-path: the request path up to (not including) its last "/". */
function defaultPath(url: URL): string {
  const { pathname } = url;
  const slash = pathname.lastIndexOf("/");
  return slash <= 0 ? "/" : pathname.slice(0, slash);
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath.charAt(cookiePath.length) === "/";
}

/**
 * A small cookie jar for one test browser: host-only cookies (Domain is ignored), honouring
 * Path, Expires and Max-Age. Secure/SameSite are not enforced (everything is 127.0.0.1).
 */
export class CookieJar {
  #cookies: StoredCookie[] = [];

  /** Stores the `Set-Cookie` headers of a response to `url`. */
  store(url: URL, setCookies: readonly string[], now = Date.now()): void {
    for (const header of setCookies) {
      const [pair = "", ...attributeParts] = header.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const cookie: StoredCookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        hostname: url.hostname,
        path: defaultPath(url),
        expiresAt: undefined,
      };
      let maxAge: number | undefined;
      for (const part of attributeParts) {
        const [rawKey = "", ...rest] = part.split("=");
        const key = rawKey.trim().toLowerCase();
        const value = rest.join("=").trim();
        if (key === "path" && value.startsWith("/")) cookie.path = value;
        if (key === "expires") {
          const at = Date.parse(value);
          if (!Number.isNaN(at)) cookie.expiresAt = at;
        }
        if (key === "max-age" && /^-?\d+$/.test(value)) maxAge = Number(value);
      }
      // Max-Age wins over Expires (RFC 6265 §5.3 step 3).
      if (maxAge !== undefined) cookie.expiresAt = now + maxAge * 1000;
      this.#cookies = this.#cookies.filter(
        (other) =>
          !(
            other.name === cookie.name &&
            other.path === cookie.path &&
            other.hostname === cookie.hostname
          ),
      );
      if (cookie.expiresAt === undefined || cookie.expiresAt > now) this.#cookies.push(cookie);
    }
  }

  /** The `Cookie` header for a request to `url`, or undefined when nothing matches. */
  header(url: URL, now = Date.now()): string | undefined {
    this.#cookies = this.#cookies.filter((c) => c.expiresAt === undefined || c.expiresAt > now);
    const matching = this.#cookies
      .filter((c) => c.hostname === url.hostname && pathMatches(url.pathname, c.path))
      // Longer paths first (RFC 6265 §5.4 step 2).
      .sort((a, b) => b.path.length - a.path.length);
    if (matching.length === 0) return undefined;
    return matching.map((c) => `${c.name}=${c.value}`).join("; ");
  }

  /** Names of the cookies currently held (for debugging and tests). */
  names(): string[] {
    return this.#cookies.map((c) => c.name);
  }

  clear(): void {
    this.#cookies = [];
  }
}
