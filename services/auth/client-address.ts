// The client address as every per-address defence counts it: the console's sign-in limits, the
// API's failed-authentication limit and the API's rate limit on routes without a key.
import { isIPv6 } from 'node:net';

/**
 * An IPv4 address (IPv4-mapped IPv6 unwrapped), or an IPv6 /64, since one host commonly holds a
 * whole /64 and could otherwise change address per try.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
