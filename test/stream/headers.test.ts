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
    expect(processor.logs.filter((l) => l.includes('consumer crashed'))).toEqual([]);
  });
});
