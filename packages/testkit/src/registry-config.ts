/**
 * What the kit's verdaccio is told, and what it says back. Kept apart from the process handling
 * in registry.ts: the rules (which names are served from where) and the log format are the
 * parts a reader checks.
 */

/**
 * One request a client made to the registry, as verdaccio logged it. verdaccio logs a request
 * when its response ends and again when the request stream closes; the second can come first,
 * before the answer exists (status 200, 0 bytes out). So a request may appear twice, and only
 * an entry with bytes out is sure to be an answer.
 */
export interface RegistryRequest {
  method: string;
  /** The path as requested, decoded (`/@vymalo/opencode-oauth2/-/opencode-oauth2-0.1.0.tgz`). */
  url: string;
  status: number;
  /** The authenticated user, or null for an anonymous request. */
  user: string | null;
  /** Bytes of the answer written so far. */
  bytesOut: number;
}

/** The registry everything else comes from, reached the way this machine's npm reaches it. */
export interface Uplink {
  url: string;
  /** PEM certificates to trust instead of Node's own (npm's `cafile`). */
  ca?: string;
  /** npm's `https-proxy` (or `proxy`), and `noproxy`. */
  proxy?: string;
  noProxy?: string;
}

export interface RegistryConfigInput {
  root: string;
  /** Everything not in `ownScopes` is fetched from here (and kept in storage); none: offline. */
  uplink: Uplink | undefined;
  /** Scopes served only from what was published to this registry (`@vymalo`). */
  ownScopes: readonly string[];
}

/**
 * The verdaccio config. YAML is a superset of JSON, so the object is written as JSON.
 *
 * Order matters: verdaccio applies the first `packages` pattern that matches, so the own scopes
 * come first and have no `proxy` — a name in them that was not published here is a 404, never
 * the uplink's package of that name.
 */
export function registryConfig({ root, uplink, ownScopes }: RegistryConfigInput) {
  const own = Object.fromEntries(
    ownScopes.map((scope) => [
      `${scope}/*`,
      { access: "$all", publish: "$authenticated", unpublish: "$authenticated" },
    ]),
  );
  return {
    storage: `${root}/storage`,
    auth: { htpasswd: { file: `${root}/htpasswd`, max_users: 10 } },
    ...(uplink ? { uplinks: { upstream: uplinkConfig(uplink) } } : {}),
    packages: {
      ...own,
      "**": {
        access: "$all",
        publish: "$authenticated",
        ...(uplink ? { proxy: "upstream" } : {}),
      },
    },
    // No web UI: it is never used and it slows the start.
    web: { enable: false },
    max_body_size: "50mb",
    server: { keepAliveTimeout: 60 },
    // JSON lines on stdout, down to `http`: one line per request, read back by `parseRequests`.
    log: { type: "stdout", format: "json", level: "http" },
  };
}

function uplinkConfig({ url, ca, proxy, noProxy }: Uplink) {
  const proxyKey = url.startsWith("https:") ? "https_proxy" : "http_proxy";
  return {
    url,
    timeout: "30s",
    cache: true,
    ...(ca ? { ca } : {}),
    ...(proxy ? { [proxyKey]: proxy } : {}),
    ...(noProxy ? { no_proxy: noProxy } : {}),
  };
}

interface HttpLogLine {
  level?: number;
  sub?: string;
  request?: { method?: string; url?: string };
  status?: number;
  user?: string | null;
  bytes?: { out?: number };
}

/** verdaccio's `http` level (pino level 25): one line per answered request. */
const HTTP_LEVEL = 25;

/** The client requests in verdaccio's stdout (its own requests to the uplink are left out). */
export function parseRequests(stdout: string): RegistryRequest[] {
  const requests: RegistryRequest[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: HttpLogLine;
    try {
      entry = JSON.parse(line) as HttpLogLine;
    } catch {
      continue;
    }
    const { request } = entry;
    if (entry.level !== HTTP_LEVEL || entry.sub !== "in" || !request?.url || !request.method) {
      continue;
    }
    requests.push({
      method: request.method,
      url: decodePath(request.url),
      status: entry.status ?? 0,
      user: entry.user ?? null,
      bytesOut: entry.bytes?.out ?? 0,
    });
  }
  return requests;
}

function decodePath(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}
