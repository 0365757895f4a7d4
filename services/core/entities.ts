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

/**
 * Dash look-alikes (after NFKC): hyphens, dashes, minus signs, and the long-vowel mark ー that
 * Japanese input methods type for a dash ("1ー2ー3", "150ー0002"; NFKC turns the half-width ｰ into
 * it). After kana ー lengthens a vowel ("センター") and stays a letter.
 */
const DASHES = /[\u2010-\u2015\u2212\u2043\ufe58\ufe63\uff0d]|(?<![\p{sc=Hiragana}\p{sc=Katakana}ー])ー/gu;
const folded = (p: string | undefined) => (p ?? '').toLowerCase().normalize('NFKC');

/**
 * The delivery point, not the recipient: reshippers receive for many names. Punctuation folds to
 * one space in the lines ("1-2-3" and "1 2 3" match; not "123": in Japan 1-23 and 12-3 are other
 * blocks); a postcode keeps only its letters and digits ("150-0002", "1500002"; "SW1A 1AA", "SW1A1AA").
 */
export function normaliseAddress(a: Address): string | null {
  const line = (p: string | undefined) =>
    folded(p)
      .replace(DASHES, '-')
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
  const postcode = (p: string | undefined) =>
    folded(p)
      .replace(DASHES, '-')
      .replace(/[^\p{L}\p{N}]+/gu, '');
  const parts = [line(a.line1), line(a.line2), postcode(a.postalCode), line(a.city), line(a.country)].filter(
    (p) => p.length > 0,
  );
  if (!a.line1 || parts.length === 0) return null;
  return parts.join('|');
}

/**
 * The normalisation before 2026-12-07 (postcode spaces kept, ー a letter): the pseudonyms it gave
 * still key counters and the analysts' negative list, so an address is also read under it
 * (EntityHasher.addressIdentities) until they have aged out.
 */
export function legacyNormaliseAddress(a: Address): string | null {
  const parts = [a.line1, a.line2, a.postalCode, a.city, a.country]
    .map((p) =>
      folded(p)
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

  /**
   * A shipping address's identities: today's normalisation first (the one written), then the
   * previous normalisation's when it differs, read only (counters and negative-list look-ups), as
   * a previous key's are during a rotation. Null when the address has no delivery point.
   */
  addressIdentities(a: Address): string[] | null {
    const normalised = normaliseAddress(a);
    if (!normalised) return null;
    const ids = this.identities('shipping', normalised);
    const legacy = legacyNormaliseAddress(a);
    if (legacy && legacy !== normalised) ids.push(...this.identities('shipping', legacy));
    return ids;
  }
}

/**
 * The identity versions before 2026-12-07 wrote where an address is written now: the previous
 * normalisation's pseudonym under the primary key, when it differs. In addressIdentities' order
 * (today's per key, then the previous normalisation's per key), so it follows the `keyCount` first
 * (a recorded scoring's identities keep that order).
 */
export function formerAddressIdentity(identities: readonly string[], keyCount: number): string | undefined {
  return identities.length > keyCount ? identities[keyCount] : undefined;
}
