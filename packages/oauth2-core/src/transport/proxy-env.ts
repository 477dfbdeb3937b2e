/**
 * Which proxy a URL goes through, from the environment, by the rules curl, undici's
 * EnvHttpProxyAgent and Bun share: `https_proxy`/`HTTPS_PROXY` for https (falling back to the
 * http proxy), `http_proxy`/`HTTP_PROXY` for http, lower case first; `no_proxy`/`NO_PROXY` lists
 * hosts that go direct. Node's fetch applies none of it, so the transport routes by this, and
 * `doctor` reports by the same function.
 */

export interface ProxyRoute {
  /** The proxy URL, credentials included: only for the agent, never for output (see {@link redactUrl}). */
  readonly proxy: string | undefined;
  /** The variable the proxy came from (`HTTPS_PROXY`, `http_proxy`…), when one applies. */
  readonly variable: string | undefined;
  /** The NO_PROXY entry that sent the URL direct, when one did. */
  readonly bypassedBy: string | undefined;
}

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

function firstSet(env: NodeJS.ProcessEnv, names: readonly string[]): [string, string] | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return [name, value];
  }
  return undefined;
}

/** The NO_PROXY entry matching host:port, if any: `*`, `host`, `.suffix`, `*.suffix`, `host:port`. */
function noProxyMatch(env: NodeJS.ProcessEnv, host: string, port: number): string | undefined {
  const list = firstSet(env, ["no_proxy", "NO_PROXY"])?.[1];
  if (!list) return undefined;
  for (const raw of list.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return raw;
    // `host:port` and `[v6]:port` carry a port; a bare IPv6 literal's colons are its own.
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (withPort && Number(withPort[2]) !== port) continue;
    const bare = (withPort?.[1] ?? entry).replace(/^\[|\]$/g, "");
    const suffix = bare.replace(/^\*?\./, "");
    // A plain name also covers its subdomains (curl's rule): `example.com` ⇒ `idp.example.com`.
    if (host === suffix || host.endsWith(`.${suffix}`)) return raw;
  }
  return undefined;
}

/** The route a request to `url` takes, by the environment `env`. */
export function proxyFor(url: string | URL, env: NodeJS.ProcessEnv = process.env): ProxyRoute {
  const target = typeof url === "string" ? new URL(url) : url;
  const direct = { proxy: undefined, variable: undefined, bypassedBy: undefined };
  const httpProxy = firstSet(env, ["http_proxy", "HTTP_PROXY"]);
  const chosen =
    target.protocol === "https:"
      ? (firstSet(env, ["https_proxy", "HTTPS_PROXY"]) ?? httpProxy)
      : target.protocol === "http:"
        ? httpProxy
        : undefined;
  if (!chosen) return direct;
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const port = Number(target.port) || DEFAULT_PORTS[target.protocol] || 0;
  const bypassedBy = noProxyMatch(env, host, port);
  if (bypassedBy) return { ...direct, bypassedBy };
  // A proxy given as `host:port` (common in shells) means http://host:port.
  const proxy = /^[a-z][a-z\d+.-]*:\/\//i.test(chosen[1]) ? chosen[1] : `http://${chosen[1]}`;
  return { proxy, variable: chosen[0], bypassedBy: undefined };
}

/**
 * A URL fit for output: credentials replaced by `***`, query and fragment dropped (a proxy's
 * password, a token in a query string never reach a log line or an error message). A string
 * that is no URL is not shown at all.
 */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    const auth = parsed.username || parsed.password ? "***@" : "";
    return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "[not a URL]";
  }
}
