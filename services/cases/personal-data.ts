// Personal data at rest: an order's customer id, email, phone, addresses, IP, device id and user
// agent are sealed with AES-256-GCM under a key kept outside every store (LEAKGUARD_DATA_KEY,
// data-keys.ts) before they are queued, and stay sealed in the case row. Only the console opens
// them, to render a case for a signed-in analyst. Each value has a fresh random nonce and names its
// key; the case's merchant and transaction are the associated data, so a ciphertext copied into
// another case does not open there.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { LeakguardError, type LeakguardErrorOptions } from '../core/errors.ts';
import { splitPersonalData, type CaseRecord, type FlaggedDecision, type PersonalData } from './model.ts';

export interface DataKey {
  /** Stored with every ciphertext it seals. */
  id: string;
  secret: Buffer;
}

/** The primary key seals; the previous one (during a rotation) still opens what it sealed. */
export interface DataKeyring {
  primary: DataKey;
  previous?: DataKey;
}

/** Sealed form: `pd1.<key id>.<nonce>.<ciphertext and tag>`, base64url (no digit-only runs to speak of, no separators inside). */
const VERSION = 'pd1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
// The operator's key may serve elsewhere in derived form one day: this one is for personal data only.
const HKDF_INFO = 'leakguard personal data v1';

export class PersonalDataUnreadable extends LeakguardError {
  constructor(message: string, options?: LeakguardErrorOptions) {
    super('PERSONAL_DATA_UNREADABLE', message, options);
  }
}

/** What binds a ciphertext to its case: known when the decision is flagged, before the case has an id. */
export function personalDataBinding(merchantId: string, transactionId: string): string {
  return JSON.stringify(['leakguard-case', merchantId, transactionId]);
}

export class PersonalDataCipher {
  private readonly sealing: { id: string; key: Buffer };
  private readonly keys: { id: string; key: Buffer }[];

  constructor(keyring: DataKeyring) {
    const derive = (k: DataKey) => ({
      id: k.id,
      key: Buffer.from(hkdfSync('sha256', k.secret, Buffer.alloc(0), HKDF_INFO, 32)),
    });
    this.sealing = derive(keyring.primary);
    this.keys = [this.sealing, ...(keyring.previous ? [derive(keyring.previous)] : [])];
  }

  get keyId(): string {
    return this.sealing.id;
  }

  /**
   * True for a value sealed under the key that seals now (false: a previous key's, or not sealed).
   * Judged by opening it, not by the key id it names: a new key given the old key's id (the id
   * kept across a rotation) would pass old values as current, never sealed again, and unreadable
   * once the previous key is dropped.
   */
  sealedUnderPrimary(sealed: string, binding: string): boolean {
    if (!sealed.startsWith(`${VERSION}.${this.sealing.id}.`)) return false;
    const [, , nonceText, bodyText] = sealed.split('.');
    const nonce = Buffer.from(nonceText ?? '', 'base64url');
    const body = Buffer.from(bodyText ?? '', 'base64url');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) return false;
    return tryOpen(this.sealing.key, nonce, body, binding) !== undefined;
  }

  seal(data: PersonalData, binding: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealing.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(binding, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${this.sealing.id}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Opens a sealed value for the case `binding` names; throws PersonalDataUnreadable (never with the data) otherwise. */
  open(sealed: string, binding: string): PersonalData {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION)
      throw new PersonalDataUnreadable('not a sealed personal-data value');
    const [, keyId, nonceText, bodyText] = parts as [string, string, string, string];
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES)
      throw new PersonalDataUnreadable('a sealed personal-data value cut short');
    // The named key first; then the others, for a key whose id changed (a development key renamed at rotation).
    const named = this.keys.filter((k) => k.id === keyId);
    for (const k of [...named, ...this.keys.filter((x) => x.id !== keyId)]) {
      const plain = tryOpen(k.key, nonce, body, binding);
      if (plain !== undefined) return JSON.parse(plain) as PersonalData;
    }
    throw new PersonalDataUnreadable(
      named.length > 0
        ? `sealed under key ${keyId} for another case, or altered`
        : `sealed under key ${keyId}, which this engine does not hold (LEAKGUARD_DATA_KEY, LEAKGUARD_PREVIOUS_DATA_KEY)`,
    );
  }
}

function tryOpen(key: Buffer, nonce: Buffer, body: Buffer, binding: string): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(binding, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}

/**
 * A flagged decision with no personal data left in clear: they are sealed into `personal`. A
 * fresh one is built sealed already (flagged.ts); this catches what an older version queued.
 */
export function protectFlagged(f: FlaggedDecision, cipher: PersonalDataCipher): FlaggedDecision {
  const { request, personal } = splitPersonalData(f.request);
  if (!personal) return f;
  // Sealed already and a clear copy too: only a tampered entry holds both; the clear one goes.
  if (f.personal !== undefined) return { ...f, request };
  return { ...f, request, personal: cipher.seal(personal, personalDataBinding(f.merchantId, f.transactionId)) };
}

/** What the case page can show of a case's personal data. */
export type PersonalView =
  | { state: 'readable'; data: PersonalData }
  | { state: 'none' }
  | { state: 'erased'; erasedAt: string; retentionDays: number | null }
  | { state: 'unreadable'; reason: string };

/** Opens a case's personal data for display. Never throws: a value that does not open is "unreadable". */
export function personalView(
  c: Pick<CaseRecord, 'merchantId' | 'transactionId' | 'personalData'>,
  cipher: PersonalDataCipher,
): PersonalView {
  const p = c.personalData;
  if (p.erasedAt) return { state: 'erased', erasedAt: p.erasedAt, retentionDays: p.retentionDays };
  if (!p.sealed) return { state: 'none' };
  try {
    return { state: 'readable', data: cipher.open(p.sealed, personalDataBinding(c.merchantId, c.transactionId)) };
  } catch (error) {
    if (error instanceof PersonalDataUnreadable) return { state: 'unreadable', reason: error.message };
    // JSON that authenticated but does not parse cannot come from seal(): unreadable all the same.
    return { state: 'unreadable', reason: 'sealed value does not hold personal data' };
  }
}
