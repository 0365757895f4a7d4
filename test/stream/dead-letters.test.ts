// Dead letters built as the processor builds them (prepare), without a broker: nothing in the
// letter or in its Kafka key is a card number or a security code, however the input was written
// and wherever the 64 KiB payload and 512-character key limits cut it.
import { describe, expect, it } from 'vitest';
import type { ConsumedMessage } from '../../services/adapters/kafka/client.ts';
import { maskPan } from '../../services/core/card.ts';
import { prepare } from '../../streams/processor/outcomes.ts';
import {
  DEAD_LETTER_DETAILS_CHARS,
  DEAD_LETTER_DETAILS_LIMIT,
  DEAD_LETTER_KEY_LIMIT,
  DEAD_LETTER_PAYLOAD_LIMIT,
  deadLetterMessage,
} from '../../streams/messages.ts';
import { longDigitRuns } from './support.ts';

const PAN = '4111111111111111';
const EXPIRY = '1230';

const message = (value: string, key: string | null = 'k'): ConsumedMessage => ({
  offset: '5',
  timestamp: '0',
  key: key === null ? null : Buffer.from(key),
  value: Buffer.from(value),
});

/** The dead letter for one input, as published: its value (JSON text) and its Kafka key. */
function deadLetter(value: string, key: string | null = 'k') {
  const prepared = prepare('leakguard.transactions', 0, message(value, key));
  if (prepared.kind !== 'dead' || prepared.outcome.kind !== 'dead') throw new Error('expected a dead letter');
  const { value: raw, key: outKey } = prepared.outcome;
  return { raw, key: outKey, letter: JSON.parse(raw) as { payload: unknown; payloadTruncated?: boolean } };
}

describe('dead letters cut at their limits', () => {
  it('never leave a card number at the cut, in the payload or the key', () => {
    // A card number run together with its expiry is 20 digits, too long for a card number; the cut
    // leaves 12 to 19 of them, the card number itself at 16.
    for (let kept = 12; kept <= 19; kept++) {
      const raw = 'x'.repeat(DEAD_LETTER_PAYLOAD_LIMIT - kept) + PAN + EXPIRY + ' trailing';
      const key = 'k'.repeat(DEAD_LETTER_KEY_LIMIT - kept) + PAN + EXPIRY;
      const { raw: out, key: outKey, letter } = deadLetter(raw, key);
      expect(letter.payloadTruncated, `${kept}`).toBe(true);
      expect((letter.payload as string).length, `${kept}`).toBeLessThanOrEqual(DEAD_LETTER_PAYLOAD_LIMIT);
      expect(outKey!.length, `${kept}`).toBeLessThanOrEqual(DEAD_LETTER_KEY_LIMIT);
      for (const text of [out, outKey!]) {
        expect(text.includes(PAN), `${kept}`).toBe(false);
        expect(longDigitRuns(text), `${kept}`).toEqual([]);
      }
    }
  });

  it('keeps the masked run at the cut (exactly the limit: 16 digits before it)', () => {
    const { letter, key } = deadLetter(
      'x'.repeat(DEAD_LETTER_PAYLOAD_LIMIT - 16) + PAN + EXPIRY,
      'k'.repeat(DEAD_LETTER_KEY_LIMIT - 16) + PAN + EXPIRY,
    );
    // The whole run masked (its first 6 and last 4 digits), then cut.
    const masked = maskPan(PAN + EXPIRY).slice(0, 16);
    expect((letter.payload as string).slice(-16)).toBe(masked);
    expect(key!.slice(-16)).toBe(masked);
  });
});

describe('dead letters and their details', () => {
  const source = { topic: 'leakguard.transactions', partition: 0, offset: '5' };
  const letterWith = (details: { path: string; message: string }[]) =>
    deadLetterMessage({ reason: 'schema_violation', details, source, key: null, timestamp: '0', raw: '' });

  it('keep at most 100 details and say how many were left out', () => {
    const details = Array.from({ length: 9500 }, (_, i) => ({
      path: `cvv${i}`,
      message: 'security codes are never accepted',
    }));
    const letter = letterWith(details);
    expect(letter.details).toEqual(details.slice(0, DEAD_LETTER_DETAILS_LIMIT));
    expect(letter.detailsOmitted).toBe(9500 - DEAD_LETTER_DETAILS_LIMIT);
    expect(letterWith(details.slice(0, 3))).not.toHaveProperty('detailsOmitted');
  });

  it('keep at most 16 KiB of them, each path and message cut at 256 characters', () => {
    const long = 'x'.repeat(10_000);
    const letter = letterWith(Array.from({ length: 90 }, () => ({ path: `cvv${long}`, message: long })));
    const chars = letter.details.reduce((n, d) => n + d.path.length + d.message.length, 0);
    expect(chars).toBeLessThanOrEqual(DEAD_LETTER_DETAILS_CHARS);
    expect(letter.details.every((d) => d.path.length <= 256 && d.message.length <= 256)).toBe(true);
    expect(letter.details.length + letter.detailsOmitted!).toBe(90);
  });
});

describe('dead letters mask every 12-19 digit run, Luhn or not, outside the payload too', () => {
  const MISTYPED = '4111111111111112'; // fails Luhn: the payload masks it, so must the rest of the letter

  it('in the ids and in the paths of the details', () => {
    const { raw, letter } = deadLetter(
      JSON.stringify({
        merchantId: MISTYPED,
        transactionId: MISTYPED,
        amount: -1,
        extra: { [MISTYPED]: { cvv: '123' } },
        items: [{ [PAN]: { pin: '1' } }],
      }),
    );
    const masked = maskPan(MISTYPED);
    const full = letter as unknown as { merchantId: string; transactionId: string; details: { path: string }[] };
    expect(full.merchantId).toBe(masked);
    expect(full.transactionId).toBe(masked);
    const paths = full.details.map((d) => d.path);
    expect(paths).toContain(`extra.${masked}.cvv`);
    // The item's index stays apart from the masked key.
    expect(paths).toContain(`items.0.${maskPan(PAN)}.pin`);
    expect(raw).not.toContain(MISTYPED);
    // A number split over nested keys, one piece long enough to be masked alone (found by a review):
    // masked piece by piece it showed 14 of its 16 digits (extra.411111**1111.1111.cvv).
    const split = deadLetter(
      JSON.stringify({
        merchantId: 'm1',
        amount: -1,
        extra: { [MISTYPED.slice(0, 12)]: { [MISTYPED.slice(12)]: { cvv: '1' } } },
      }),
    ).letter as unknown as { details: { path: string }[] };
    const splitPath = split.details.map((d) => d.path).find((p) => p.startsWith('extra.'))!;
    expect(splitPath.replace(/\D/g, '').length).toBeLessThanOrEqual(10);
    expect(longDigitRuns(raw)).toEqual([]);
  });
});

describe('dead letters and runs of more than 19 digits', () => {
  // The scrubber leaves such a run alone (no card number is that long); dead letters mask one when
  // some 12 to 19 of its digits pass Luhn, as a card number run together with its expiry does.
  const FULL_WIDTH = [...(PAN + EXPIRY)].map((d) => String.fromCodePoint(0xff10 + Number(d))).join('');

  it('masks one that holds a card number, in raw text, parsed values and keys, whole or cut', () => {
    const runs = [PAN + EXPIRY, `0042${PAN}`, `${PAN}${EXPIRY}123`, FULL_WIDTH];
    for (const run of runs) {
      const inputs = [
        `not json ${run} trailing`,
        JSON.stringify({ merchantId: 'm1', note: run, [`k${run}`]: 1 }),
        'x'.repeat(DEAD_LETTER_PAYLOAD_LIMIT - 20) + run + ' trailing',
      ];
      for (const input of inputs) {
        const { raw, key } = deadLetter(input, `key ${run}`);
        const flat = (text: string) =>
          text.replace(/[\uff10-\uff19]/g, (d) => String((d.codePointAt(0) ?? 0) - 0xff10)).replace(/[kx]{20,}/g, '');
        for (const text of [flat(raw), flat(key!)]) {
          expect(text.includes(PAN), run).toBe(false);
          expect(text, run).toMatch(/\d{6}\*{10,}\d{4}/);
        }
      }
    }
  });

  it('keeps one in which no 12 to 19 digits pass Luhn (no card number can be in it)', () => {
    // Runs of ones: every stretch of 12 to 19 sums to 18, 19, 21, 22, 24, 25, 27 or 28.
    const run = '1'.repeat(25);
    const { letter, key } = deadLetter(`not json ${run}`, run);
    expect(letter.payload).toBe(`not json ${run}`);
    expect(key).toBe(run);
  });
});

describe('security codes by any name', () => {
  const VALID_PAN = '4000056655665556';
  const CODE = '987';
  // Names of a security code as payment forms, SDKs and processors spell them.
  const CODE_NAMES = [
    'cvv',
    'CVV2',
    'cvc',
    'Cvc2',
    'cv2',
    'cvvCode',
    'card_cvv',
    'cvv_number',
    'cardCvc',
    'csc',
    'cvn',
    'CVD',
    'cid',
    'CAV2',
    'securityCode',
    'security-code',
    'card_security_code',
    'cardVerificationValue',
    'card.verification.code',
  ];
  // Ordinary names, some holding those letters ("incident" holds "cid"), or naming a check's outcome.
  const ORDINARY_NAMES = [
    'cvvResult',
    'cvv_result',
    'CVVResult',
    'cvcCheck',
    'securityCodeStatus',
    'incident',
    'incidentId',
    'accident',
    'decidedAt',
    'acid',
    'cidr',
    'coincidence',
    'description',
    'discountCode',
    'postalCode',
    'countryCode',
    'authCode',
    'responseCode',
    'verificationMethod',
    'securityLevel',
    'holderName',
    'brand',
  ];
  const transaction = (card: Record<string, unknown>) => ({
    merchantId: 'm1',
    transactionId: 't1',
    amount: 100,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number: VALID_PAN, expiryMonth: 1, expiryYear: 2030, ...card },
  });

  it('refuses a valid message holding one, naming the field, and removes it from the dead letter', () => {
    for (const name of CODE_NAMES) {
      const { letter } = deadLetter(JSON.stringify(transaction({ [name]: CODE })));
      const dead = letter as { reason?: string; details?: { path: string }[]; payload: { card: object } };
      expect(dead.reason, name).toBe('schema_violation');
      expect(dead.details, name).toContainEqual(expect.objectContaining({ path: `card.${name}` }));
      expect(JSON.stringify(dead.payload), name).not.toContain(CODE);
      expect(dead.payload.card, name).toMatchObject({ [name]: '[removed]' });
    }
  });

  it('scores a message whose card has ordinary fields (dropped, as every field the schema does not define)', () => {
    for (const name of ORDINARY_NAMES) {
      const value = name.toLowerCase().startsWith('cvv') ? 'match' : 'x';
      expect(prepare('t', 0, message(JSON.stringify(transaction({ [name]: value })))).kind, name).toBe('input');
    }
  });

  it('keeps ordinary fields in a dead letter', () => {
    const fields = Object.fromEntries(ORDINARY_NAMES.map((name) => [name, `v-${name}`]));
    const { letter } = deadLetter(JSON.stringify({ ...fields, merchantId: 'm1' }));
    expect(letter.payload).toMatchObject(fields);
    const text = ORDINARY_NAMES.map((name) => `${name}=v-${name}`).join('&');
    expect(deadLetter(text).letter.payload).toBe(text);
  });

  it('removes one from text that is not JSON, in the forms it is written', () => {
    const texts = [
      `merchantId=m1&pan=${PAN}&cvv=${CODE}&amount=1`,
      `card%5Bcvv%5D=${CODE}&x=1`,
      `card[cvc]=${CODE}`,
      `{'merchantId': 'm1', 'card': {'number': '${PAN}', 'cvv': '${CODE}'}}`,
      `{"merchantId": "m1", "card": {"card_cvv": ${CODE}, "cv2": "${CODE}"`,
      `{:cvv => "${CODE}"}, {"security_code" => '${CODE}'}`,
      `<tx><pan>${PAN}</pan><cvv>${CODE}</cvv></tx>`,
      `<tx><ns:card_cvv type="n">${CODE}</ns:card_cvv><CVC2><![CDATA[${CODE}]]></CVC2><cvv value="${CODE}"/></tx>`,
      `card declined, cvv: ${CODE}, retry`,
      `note: cvv=${CODE}`,
      `{"card": {"cvv": {"value": "${CODE}"}}`,
    ];
    for (const text of texts) {
      const { letter } = deadLetter(text);
      expect(letter.payload, text).toEqual(expect.stringContaining('[removed]'));
      expect(letter.payload, text).not.toContain(CODE);
    }
    // And from strings in a payload that parsed.
    const { letter } = deadLetter(JSON.stringify({ merchantId: 'm1', note: `cvv=${CODE}`, xml: `<cvv>${CODE}</cvv>` }));
    expect(JSON.stringify(letter.payload)).not.toContain(CODE);
  });
});
