// The outbound guard for webhook deliveries (issue #15 §2): a receiver's host is resolved and every
// address it resolves to, IPv4 and IPv6, must be public, unless the operator allows private ones.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

// Addresses are judged by ipaddr.js's special-purpose ranges (the IANA registries): only plain
// unicast is public. Private, loopback, link-local, carrier-grade NAT, documentation, benchmarking,
// multicast, reserved and the like are refused, IPv4 and IPv6.
const PUBLIC = 'unicast';
const WELL_KNOWN_NAT64 = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * The IPv4 address an IPv6 address stands for when a translator or tunnel turns it into one:
 * IPv4-mapped and SIIT (`::ffff:a.b.c.d`, `::ffff:0:a.b.c.d`), NAT64's well-known prefix
 * (`64:ff9b::a.b.c.d`, which on an IPv6-only host with NAT64 reaches any IPv4 address, private
 * ones included) and 6to4 (`2002:aabb:ccdd::`). Such an address is as public as the one it carries.
 */
function carriedIpv4(address: ipaddr.IPv6, range: string): ipaddr.IPv4 | undefined {
  const bytes = address.toByteArray();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || (range === 'rfc6052' && address.match(WELL_KNOWN_NAT64)))
    return new ipaddr.IPv4(bytes.slice(12));
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}

/** True for a private, loopback, link-local, multicast, documentation or otherwise non-public address. */
export const isPrivateAddress = (address: string): boolean => {
  if (isIP(address) === 0) return true; // not an address: refuse
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range() !== PUBLIC;
  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  // IPv4-compatible (`::a.b.c.d`, deprecated): no route reaches one; ipaddr.js calls it unicast.
  if (range === PUBLIC) return v6.parts.slice(0, 6).every((part) => part === 0);
  const carried = carriedIpv4(v6, range);
  return carried === undefined || carried.range() !== PUBLIC;
};

export type DestinationCheck =
  | { readonly ok: true; readonly addresses: readonly string[] }
  /** `address`: the refused address a name resolved to, for the operators' log only. */
  | { readonly ok: false; readonly reason: string; readonly address?: string };

export type Resolver = (host: string) => Promise<readonly string[]>;

const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** Why a plain http:// receiver is refused where https is required (the tenant reads it). */
export const HTTPS_REQUIRED =
  'plain http:// receivers are refused: deliveries carry card BINs, last 4 digits, amounts and ids; use an https:// URL';

/**
 * Checks a receiver URL before each request (and each redirect target): http(s) only (https only
 * with `requireHttps`: production, unless LEAKGUARD_WEBHOOK_ALLOW_HTTP), and every address its host
 * resolves to public, unless `allowPrivate` (LEAKGUARD_WEBHOOK_ALLOW_PRIVATE).
 */
export const checkDestination = async (
  url: string,
  options: { readonly allowPrivate: boolean; readonly requireHttps?: boolean; readonly resolve?: Resolver },
): Promise<DestinationCheck> => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, reason: `scheme ${parsed.protocol} is not http or https` };
  }
  if (options.requireHttps && parsed.protocol !== 'https:') return { ok: false, reason: HTTPS_REQUIRED };
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'credentials in the URL are not accepted' };
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: readonly string[];
  try {
    addresses = isIP(host) !== 0 ? [host] : await (options.resolve ?? systemResolver)(host);
  } catch {
    return { ok: false, reason: `host ${host} does not resolve` };
  }
  if (addresses.length === 0) return { ok: false, reason: `host ${host} does not resolve` };
  if (!options.allowPrivate) {
    const refused = addresses.find(isPrivateAddress);
    if (refused !== undefined) {
      // The address stays out of what the tenant sees: it would map the engine's internal names.
      return isIP(host) !== 0
        ? { ok: false, reason: `${host} is not a public address` }
        : { ok: false, reason: `host ${host} resolves to an address that is not public`, address: refused };
    }
  }
  return { ok: true, addresses };
};
