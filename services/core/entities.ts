// Entities other than the card: normalised so that trivial variations collapse to one key,
// then pseudonymised with a keyed HMAC so that stores never hold emails, addresses or IPs in clear.
import { isIPv4, isIPv6 } from 'node:net';
import type { CardKeyring } from './card.ts';
import { KeyedHmac, keyedHmac } from './hmac.ts';

export type EntityKind = 'card' | 'device' | 'ip' | 'email' | 'shipping' | 'merchant' | 'bin';
/** One letter per kind: in Redis key names, and tagging the distinct members a card's log keeps. */
export const KIND_LETTER: Record<EntityKind, string> = {
  card: 'c',
  device: 'd',
  ip: 'i',
  email: 'e',
  shipping: 's',
  merchant: 'm',
  bin: 'b',
};

export interface Address {
  name?: string | undefined;
  line1?: string | undefined;
  line2?: string | undefined;
  city?: string | undefined;
  region?: string | undefined;
  postalCode?: string | undefined;
  country?: string | undefined;
}

export function normaliseEmail(email: string): string {
  const lower = email.trim().toLowerCase();
  const at = lower.lastIndexOf('@');
  if (at < 1) return lower;
  let local = lower.slice(0, at);
  let domain = lower.slice(at + 1);
  // Sub-addressing ("name+tag@") reaches the same mailbox everywhere that matters.
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  if (domain === 'googlemail.com') domain = 'gmail.com';
  // Gmail ignores dots in the local part: a favourite trick for minting "new" emails.
  if (domain === 'gmail.com') local = local.replaceAll('.', '');
  return `${local}@${domain}`;
}

/** The delivery point, not the recipient: reshippers receive for many names. */
export function normaliseAddress(a: Address): string | null {
  const parts = [a.line1, a.line2, a.postalCode, a.city, a.country]
    .map((p) =>
      (p ?? '')
        .toLowerCase()
        .normalize('NFKC')
        .replace(/[^\p{L}\p{N}]+/gu, ' ')
        .trim(),
    )
    .filter((p) => p.length > 0);
  if (!a.line1 || parts.length === 0) return null;
  return parts.join('|');
}

export function normaliseIp(ip: string): string {
  const trimmed = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(trimmed);
  if (mapped?.[1] && isIPv4(mapped[1])) return mapped[1];
  return trimmed;
}

export function isIp(ip: string): boolean {
  return isIPv4(ip) || isIPv6(ip);
}

/**
 * Pseudonymises entity values. Keys are derived from the card keyring so that one secret
 * governs all of them and rotates with them: primary identity first, previous second.
 */
export class EntityHasher {
  private readonly keys: KeyedHmac[];
  constructor(keyring: CardKeyring) {
    const derive = (secret: Buffer) => new KeyedHmac(keyedHmac(secret).digest('leakguard/entity-pseudonyms/v1'));
    this.keys = [derive(keyring.primary.secret)];
    if (keyring.previous) this.keys.push(derive(keyring.previous.secret));
  }

  identities(kind: EntityKind, normalised: string): string[] {
    return this.keys.map((k) => k.digest(`${kind}\u0000${normalised}`).toString('base64url').slice(0, 22));
  }
}
