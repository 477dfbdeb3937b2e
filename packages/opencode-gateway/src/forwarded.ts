import type { IncomingHttpHeaders } from "node:http";
import { BlockList, isIP } from "node:net";

/**
 * Who the client is, as the upstream is told. Headers that claim a client address, scheme,
 * host or identity are the client's word, and the client may say anything: they are all
 * dropped, and the gateway sets X-Forwarded-For/-Proto/-Host from what it saw itself. A proxy
 * in front (a load balancer) is believed only when `listen.trustProxy` names it, the way
 * Express's `trust proxy` does: walking X-Forwarded-For from the right, each address the
 * gateway trusts vouches for the one before it, and the first one it does not trust is the
 * client. Identity (X-Forwarded-User and kin) is never taken from headers: the token says who
 * the user is.
 */

/** A number of proxy hops in front, or the addresses/CIDRs of those proxies. */
export type TrustProxy = number | readonly string[];

/** Header names (lower case) a client may not set on the upstream request. */
const DROPPED = new Set([
  "forwarded",
  "x-real-ip",
  "x-client-ip",
  "true-client-ip",
  "cf-connecting-ip",
  "fastly-client-ip",
  "x-cluster-client-ip",
  "x-original-forwarded-for",
  "x-original-url",
  "x-original-uri",
  "x-rewrite-url",
  "x-remote-user",
  "x-remote-addr",
  "remote-user",
]);
const DROPPED_PREFIXES = ["x-forwarded-", "x-auth-request-"];

/** Whether a header (its name in lower case, as Node gives it) is one of those. */
export const isForwardingHeader = (name: string): boolean => {
  if (DROPPED.has(name)) return true;
  for (const prefix of DROPPED_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
};

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is 10.0.0.1 (only that form starts with ":"). */
const plain = (address: string) =>
  address.charCodeAt(0) === 0x3a
    ? address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1")
    : address;

/** A valid `trustProxy` entry: an IP address, or an address with a prefix length. */
export function isAddressOrCidr(entry: string): boolean {
  const [address = "", prefix, extra] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

/** Whether the address at `hop` (0: the socket's peer) is a proxy the gateway trusts. */
export type Trust = (address: string, hop: number) => boolean;

export function compileTrust(trust: TrustProxy): Trust {
  if (typeof trust === "number") return (_address, hop) => hop < trust;
  const list = new BlockList();
  for (const entry of trust) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
  };
}

export interface ClientView {
  /** Client first, then each trusted proxy, ending with the socket's peer. Empty: no socket. */
  chain: string[];
  proto: string;
  host: string | undefined;
}

/** A header's value; a repeated header counts as its values joined, as Node joins them. */
const one = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join(", ") : value;

/** The last comma-separated value of a header: what the nearest proxy added. */
const last = (value: string | string[] | undefined) =>
  one(value)?.split(",").at(-1)?.trim() || undefined;

/**
 * What the upstream is told about the client, from the socket and what trusted proxies said.
 * `secure`: the client's connection is TLS (the gateway's own listen.tls).
 */
export function clientView(
  peer: string | undefined,
  headers: IncomingHttpHeaders,
  trust: Trust,
  secure = false,
): ClientView {
  const ownHost = headers.host;
  const ownProto = secure ? "https" : "http";
  if (!peer) return { chain: [], proto: ownProto, host: ownHost };
  const nearest = plain(peer);
  // No proxy in front is trusted (the default): the peer is the client, and the forwarding
  // headers are not read at all.
  if (!trust(nearest, 0)) return { chain: [nearest], proto: ownProto, host: ownHost };
  const addresses = [nearest];
  const claimed = (one(headers["x-forwarded-for"]) ?? "").split(",").map((a) => plain(a.trim()));
  while (trust(addresses.at(-1) as string, addresses.length - 1)) {
    const next = claimed.pop();
    if (!next || isIP(next) === 0) break;
    addresses.push(next);
  }
  const peerTrusted = trust(addresses[0] as string, 0);
  const proto = peerTrusted ? last(headers["x-forwarded-proto"])?.toLowerCase() : undefined;
  return {
    chain: addresses.reverse(),
    proto: proto === "https" || proto === "http" ? proto : ownProto,
    host: (peerTrusted ? last(headers["x-forwarded-host"]) : undefined) ?? ownHost,
  };
}

/**
 * Adds the gateway's own forwarding headers to a flat header list (the client's were never
 * copied: see above).
 */
export function setForwarding(headers: string[], view: ClientView): void {
  if (view.chain.length > 0) headers.push("x-forwarded-for", view.chain.join(", "));
  headers.push("x-forwarded-proto", view.proto);
  if (view.host) headers.push("x-forwarded-host", view.host);
}
