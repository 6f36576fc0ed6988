import { BlockList, isIP } from 'node:net';

/**
 * Addresses no outgoing request of the service goes to, against SSRF: oidc-provider's dispatcher refuses
 * them for back-channel logout tokens, and the withdrawal-notice sender (shared/adapters/http/
 * notice-sender.ts) refuses them for notices. Loopback, private (RFC 1918, RFC 4193), carrier-grade NAT,
 * link-local (the cloud metadata address among them), unspecified, multicast and reserved; and every IPv6
 * range that carries an IPv4 address inside it (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo), since
 * any of them may lead to a private IPv4 address (`[::127.0.0.1]` is `::7f00:1`, `2002:7f00:1::` 6to4's
 * loopback). Two lists: a `BlockList` holding `::ffff:0:0/96` matches every IPv4
 * address against it, which refused every public IPv4 address written in a URL.
 */
const unreachableV4 = new BlockList();
const unreachableV6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  unreachableV4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible (deprecated)
  ['::ffff:0:0', 96], // IPv4-mapped
  ['::ffff:0:0:0', 96], // IPv4-translated (SIIT)
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48], // NAT64, local use
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo
  ['2002::', 16], // 6to4
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local (deprecated, still routed inside some networks)
  ['ff00::', 8],
] as const) {
  unreachableV6.addSubnet(network, prefix, 'ipv6');
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * Whether an IP address (v4 or v6, no brackets) is one of the special-use ranges above; anything that is
 * not an IP address counts as one (fail closed).
 *
 * @example
 * ```ts
 * isUnreachableAddress('10.0.0.7'); // true
 * isUnreachableAddress('203.0.113.9'); // false (a documentation range, but public as far as routing goes)
 * ```
 */
export function isUnreachableAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? unreachableV4.check(address, 'ipv4') : unreachableV6.check(address, 'ipv6');
}

/** Whether an IP address is a loopback one (127.0.0.0/8, ::1). */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && loopback.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A URL's host without IPv6 brackets, lower case. */
export const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/** Whether a URL names this machine: `localhost`, `*.localhost` (RFC 6761) or a loopback address. */
export function isLoopbackHost(url: URL): boolean {
  const host = bareHost(url);
  return host === 'localhost' || host.endsWith('.localhost') || isLoopbackAddress(host);
}

/**
 * Whether a URL's host is a name or address the service will never deliver to: `localhost` (and
 * `*.localhost`) or an address in the special-use ranges. A public name that resolves to such an address
 * is refused at delivery time; this check can only see the URL.
 */
export function onUnreachableHost(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false; // reported by the URL check already
  }
  const host = bareHost(url);
  if (isLoopbackHost(url)) return true;
  return isIP(host) !== 0 && isUnreachableAddress(host);
}
