// Who is on the other end of a request, for rate limiting: the TCP peer, or — when that peer
// is a trusted proxy (TRUSTED_PROXIES) — the nearest address in `X-Forwarded-For` that is not
// itself a trusted proxy (proxy-addr, Express's implementation). An untrusted peer's
// X-Forwarded-For is ignored, so a client cannot pick its own key by writing the header.
// IPv6 clients are keyed by their /64: one host usually holds a whole /64, and per-address
// keys there would hand it billions of budgets.
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyAddr from 'proxy-addr';

export type TrustProxy = (address: string, hop: number) => boolean;

/** Nothing is trusted: the TCP peer is the client. */
export const TRUST_NONE: TrustProxy = () => false;

/**
 * Compiles a TRUSTED_PROXIES list: addresses, CIDR ranges, or proxy-addr's names `loopback`,
 * `linklocal`, `uniquelocal`. Throws (with proxy-addr's message) on an invalid entry.
 */
export function compileTrustedProxies(list: readonly string[]): TrustProxy {
  return list.length === 0 ? TRUST_NONE : proxyAddr.compile([...list]);
}

/** The client's address as a rate-limit key: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 by /64 prefix. */
export function addressKey(address: string): string {
  // The common cases without parsing: IPv4, and IPv4-mapped IPv6 (dual-stack sockets).
  if (!address.includes(':')) return address;
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}

/** The request's client address (see the module header), keyed by addressKey. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  if (!req.socket.remoteAddress) return 'unknown';
  return addressKey(trust === TRUST_NONE ? req.socket.remoteAddress : proxyAddr(req, trust));
}
