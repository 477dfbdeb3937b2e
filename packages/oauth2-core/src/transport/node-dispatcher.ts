import { readFile } from "node:fs/promises";
import { rootCertificates } from "node:tls";
import type { Dispatcher } from "undici";
import { memoizeUntilRejected } from "../shared-promises.js";
import type { TlsMaterial } from "./tls-material.js";

/**
 * Node's fetch honours neither the proxy variables nor per-request TLS options; an undici
 * dispatcher passed as `dispatcher` does both. undici is imported on first need only: a start
 * or a `token` call with a fresh cached token makes no request and loads none of it.
 */
type Undici = Pick<typeof import("undici"), "Agent" | "ProxyAgent" | "fetch">;
let undici: Promise<Undici> | undefined;
const loadUndici = (): Promise<Undici> => {
  undici ??= import("undici");
  return undici;
};

/** NODE_EXTRA_CA_CERTS, read as Node reads it at start (a missing file is ignored there too). */
let extraCa: Promise<string | undefined> | undefined;
function nodeExtraCa(): Promise<string | undefined> {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  extraCa ??= file ? readFile(file, "utf8").catch(() => undefined) : Promise.resolve(undefined);
  return extraCa;
}

export interface ConnectOptions {
  ca?: string[];
  cert?: string;
  key?: string;
}

/**
 * The TLS options for connections to the server. Node replaces its trust store with `ca` when
 * one is given, so a caFile is added to Node's bundled roots and NODE_EXTRA_CA_CERTS here, as
 * it is added to the defaults everywhere else.
 */
export async function connectOptions(material: TlsMaterial): Promise<ConnectOptions> {
  const options: ConnectOptions = {};
  if (material.ca) {
    const extra = await nodeExtraCa();
    options.ca = [...rootCertificates, ...(extra ? [extra] : []), material.ca];
  }
  if (material.cert) options.cert = material.cert;
  if (material.key) options.key = material.key;
  return options;
}

/**
 * A request that carries one of our dispatchers is sent with the fetch of the same undici.
 * Node's global fetch is another undici, the one each Node line bundles (6 on Node 20 and 22, 7
 * on 24, 8 on 26), and it drives a dispatcher with its own handler API: Node 26's fetch hands
 * ours handlers it refuses ("invalid onError method"), so every proxied or TLS-file request
 * failed there. One undici for both halves works on every Node line.
 */
export async function undiciFetch(url: string, init: RequestInit): Promise<Response> {
  const { fetch } = await loadUndici();
  // A web Response of undici's own class, not the global one: code that must recognise it
  // checks its tag (idp-answer's isResponse). The types differ only by package.
  return (await fetch(url, init as never)) as unknown as Response;
}

const dispatchers = new Map<string, Promise<Dispatcher>>();

/**
 * One dispatcher (a connection pool) per proxy and TLS material, kept for the process: every
 * request of a provider reuses its connections. Without a proxy, a plain `Agent` carries the TLS
 * options; with one, a `ProxyAgent` tunnels with CONNECT (credentials in the proxy URL become
 * `Proxy-Authorization: Basic`) and applies them to the server's TLS inside the tunnel.
 */
export function nodeDispatcher(
  proxy: string | undefined,
  material: TlsMaterial,
): Promise<Dispatcher> {
  const key = JSON.stringify([proxy, material.ca, material.cert, material.key]);
  return memoizeUntilRejected(dispatchers, key, async () => {
    const { Agent, ProxyAgent } = await loadUndici();
    const connect = await connectOptions(material);
    if (!proxy) return new Agent({ connect });
    // The proxy itself may sit behind the organisation's CA too (an https:// proxy URL).
    const proxyTls = connect.ca ? { ca: connect.ca } : {};
    return new ProxyAgent({ uri: proxy, requestTls: connect, proxyTls });
  });
}
