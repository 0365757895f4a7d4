// Card data handling: the lesson of the breach. A PAN exists only inside this module's
// functions; what leaves is a keyed fingerprint, the BIN (first 6) and the last 4.
import { keyedHmac } from './hmac.ts';
import { maskDigits, scrubCardNumbers } from './scrub.ts';

export interface CardKey {
  /** Short public identifier of the key, so that fingerprints can name the key that made them. */
  id: string;
  secret: Buffer;
}

/** The fingerprint keys: the primary signs new data; the previous one (during rotation) is only read. */
export interface CardKeyring {
  primary: CardKey;
  previous?: CardKey;
}

/** What remains of a card number after arrival. Never holds the PAN. */
export interface CardIdentity {
  /** Fingerprints under the primary key first, then the previous key. */
  fingerprints: string[];
  keyId: string;
  bin: string;
  last4: string;
}

const DIGITS = /^[0-9]{12,19}$/;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Why a string is not an acceptable card number, or null when it is. Never includes the input. */
export function panProblem(value: string): string | null {
  if (!DIGITS.test(value)) return 'must be 12 to 19 digits, nothing else';
  if (!luhnValid(value)) return 'fails the Luhn check';
  return null;
}

/** The card's 32-byte HMAC-SHA-256 under one key (the fingerprint's bytes). */
export function fingerprintBytes(key: CardKey, pan: string): Buffer {
  return keyedHmac(key.secret).digest(pan);
}

export function fingerprintWith(key: CardKey, pan: string): string {
  // 32-byte HMAC-SHA-256, base64url: 43 characters.
  return fingerprintBytes(key, pan).toString('base64url');
}

export function identifyCard(keyring: CardKeyring, pan: string): CardIdentity {
  const fingerprints = [fingerprintWith(keyring.primary, pan)];
  if (keyring.previous) fingerprints.push(fingerprintWith(keyring.previous, pan));
  return { fingerprints, keyId: keyring.primary.id, bin: pan.slice(0, 6), last4: pan.slice(-4) };
}

/**
 * Display form within PCI DSS 3.4.1 (at most the first 6 and the last 4 digits), and never fewer
 * than 6 digits hidden: a number shorter than 16 digits shows fewer last digits (15: 6 and 3, 13:
 * 6 and 1, 12: the first 6 only), since 6 and 4 of 12 or 13 digits with the Luhn check digit leave
 * next to nothing to guess. Fewer than 12 digits are no card number (a mistyped one, in an
 * upload's error report): all hidden. The scrubber's mask (maskDigits), the same rule.
 */
export function maskPan(pan: string): string {
  return maskDigits(pan);
}

export function maskedCard(card: Pick<CardIdentity, 'bin' | 'last4'>): string {
  return `${card.bin}******${card.last4}`;
}

/** Masks every card number in free text: the one scrubber (scrub.ts), kept under its old name. */
export function redactPans(text: string): string {
  return scrubCardNumbers(text);
}
