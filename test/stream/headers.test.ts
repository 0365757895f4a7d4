// An input's correlation headers (x-correlation-id, x-request-id, traceparent, tracestate) are
// copied to its decision and to its dead letter, masked as dead letters are; other headers are not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskPan } from '../../services/core/card.ts';
import {
  cardNumber,
  createHarness,
  longDigitRuns,
  waitFor,
  type Harness,
  type InProcess,
  type OutputReader,
} from './support.ts';

let h: Harness;
let processor: InProcess;
let reader: OutputReader;
const PAN = cardNumber('4', 16);
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

beforeAll(async () => {
  h = await createHarness('headers');
  processor = await h.startInProcess();
  reader = await h.reader();
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('correlation headers', () => {
  it('go from an input to its decision and to its dead letter, masked; others stay behind', async () => {
    const tx = {
      merchantId: 'm1',
      transactionId: 'hd-1',
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: PAN, expiryMonth: 4, expiryYear: 2031, cvvResult: 'match' },
    };
    await h.produce([
      {
        key: maskPan(PAN),
        value: JSON.stringify(tx),
        headers: { 'X-Correlation-Id': 'order-1001', traceparent: TRACEPARENT, 'x-internal': 'secret' },
      },
      {
        key: maskPan(PAN),
        value: JSON.stringify({ ...tx, transactionId: 'hd-2', amount: -1 }),
        headers: { 'x-request-id': `req for ${PAN}` },
      },
    ]);
    await waitFor(
      'the decision and the dead letter',
      () =>
        reader.decisions.some((d) => d.value.transactionId === 'hd-1') &&
        reader.deadLetters.some((d) => d.value.transactionId === 'hd-2'),
      30_000,
    );
    const decision = reader.decisions.find((d) => d.value.transactionId === 'hd-1')!;
    expect(decision.headers).toEqual({
      'X-Correlation-Id': 'order-1001',
      traceparent: TRACEPARENT,
      'leakguard-message-type': 'decision',
    });
    const dead = reader.deadLetters.find((d) => d.value.transactionId === 'hd-2')!;
    expect(dead.headers).toEqual({
      'x-request-id': `req for ${maskPan(PAN)}`,
      'leakguard-message-type': 'dead-letter',
    });
    expect(longDigitRuns(JSON.stringify(dead.headers))).toEqual([]);
    expect(processor.logs.join('\n')).not.toContain(PAN);
  });

  it('a card number written as a list of quoted groups (json.dumps) is masked in headers, keys and dead letters (found by a review)', async () => {
    // Python's json.dumps and a list's printout put ", " between quoted items: 4 characters in the gap.
    const quoted = (pan: string, q = '"') => {
      const groups = pan.length === 15 ? [pan.slice(0, 4), pan.slice(4, 10), pan.slice(10)] : pan.match(/.{1,4}/g)!;
      return `[${groups.map((g) => `${q}${g}${q}`).join(', ')}]`;
    };
    const AMEX = cardNumber('37', 15);
    const MC = cardNumber('55', 16);
    const tx = {
      merchantId: 'm1',
      transactionId: 'hq-1',
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: PAN, expiryMonth: 4, expiryYear: 2031, cvvResult: 'mismatch' },
      // A failed authentication and a wrong code: not approved, so the decision goes to flagged too.
      threeDS: { status: 'N' },
    };
    await h.produce([
      // Python's json.dumps of a NaN amount: not JSON to JSON.parse, dead-lettered as raw text.
      { key: quoted(PAN), value: `{"merchantId": "m1", "amount": NaN, "card": {"number": ${quoted(PAN)}}}` },
      { key: maskPan(PAN), value: JSON.stringify(tx), headers: { 'x-request-id': quoted(MC) } },
      // Valid JSON that fails the schema, the card in a string of it, in single quotes (a list's repr).
      {
        key: maskPan(PAN),
        value: JSON.stringify({ ...tx, transactionId: 'hq-2', amount: -1, note: `card ${quoted(AMEX, "'")}` }),
        headers: { 'x-correlation-id': quoted(AMEX, "'") },
      },
    ]);
    const invalid = () => reader.deadLetters.find((d) => d.value.reason === 'invalid_json');
    await waitFor(
      'the decision, its flagged copy and the two dead letters',
      () =>
        invalid() !== undefined &&
        reader.decisions.some((d) => d.value.transactionId === 'hq-1') &&
        reader.flagged.some((d) => d.value.transactionId === 'hq-1') &&
        reader.deadLetters.some((d) => d.value.transactionId === 'hq-2'),
      30_000,
    );
    const dead = invalid()!;
    expect(dead.value.payload).toBe(`{"merchantId": "m1", "amount": NaN, "card": {"number": ["${maskPan(PAN)}"]}}`);
    expect(dead.value.source.key).toBe(`["${maskPan(PAN)}"]`);
    for (const out of [reader.decisions, reader.flagged].map((o) => o.find((d) => d.value.transactionId === 'hq-1')!))
      expect(out.headers).toMatchObject({ 'x-request-id': `["${maskPan(MC)}"]` });
    const schema = reader.deadLetters.find((d) => d.value.transactionId === 'hq-2')!;
    expect(schema.headers).toMatchObject({ 'x-correlation-id': `['${maskPan(AMEX)}']` });
    expect(schema.value.payload).toMatchObject({ note: `card ['${maskPan(AMEX)}']` });
    // Nowhere in any output, nor in the processor's logs.
    const everything = [...reader.decisions, ...reader.flagged, ...reader.deadLetters]
      .map((o) => `${o.key} ${JSON.stringify(o.headers)} ${o.raw}`)
      .concat(processor.logs);
    for (const text of everything)
      for (const pan of [PAN, MC, AMEX]) expect(text.replace(/\D/g, '')).not.toContain(pan);
  });

  it('a correlation header without a value (null on the wire) is not carried, and holds nothing up', async () => {
    const tx = (transactionId: string) =>
      JSON.stringify({
        merchantId: 'm1',
        transactionId,
        amount: 2500,
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number: PAN, expiryMonth: 4, expiryYear: 2031, cvvResult: 'match' },
      });
    // A header value may be null on the wire (length -1: the Java client and librdkafka send it for
    // a header without a value); kafkajs's consumer gives it as null. Its producer would write one
    // (writeVarIntBytes(null)) but sizes it with Buffer.byteLength first, which throws on null: for
    // this one send, null is sized as the empty value it takes the place of (one varint either way).
    const byteLength = Buffer.byteLength;
    Buffer.byteLength = ((value: Parameters<typeof byteLength>[0], encoding?: BufferEncoding) =>
      value === null ? 0 : byteLength(value, encoding)) as typeof byteLength;
    try {
      await h.produce([
        { key: maskPan(PAN), value: tx('hn-1'), partition: 0 },
        {
          key: maskPan(PAN),
          value: tx('hn-2'),
          partition: 0,
          headers: { traceparent: null as unknown as string, 'x-correlation-id': 'order-2002' },
        },
        { key: maskPan(PAN), value: tx('hn-3'), partition: 0 },
      ]);
    } finally {
      Buffer.byteLength = byteLength;
    }
    await waitFor(
      'the three decisions',
      () => ['hn-1', 'hn-2', 'hn-3'].every((id) => reader.decisions.some((d) => d.value.transactionId === id)),
      15_000,
    );
    const decision = reader.decisions.find((d) => d.value.transactionId === 'hn-2')!;
    expect(decision.headers).toEqual({ 'x-correlation-id': 'order-2002', 'leakguard-message-type': 'decision' });
    await waitFor('the input committed to its end', async () => (await h.commitProgress()).atEnd, 15_000);
    // A fresh broker may still be loading its group coordinator when the consumer first joins: that
    // retriable crash (restarted at once) is the broker's start, not the header's doing.
    const crashes = processor.logs
      .filter((l) => l.includes('consumer crashed'))
      .filter((l) => !/coordinator is (loading|not available)|not the correct coordinator/i.test(l));
    expect(crashes).toEqual([]);
  });
});
