// A dead letter must fit the broker's message size, or the broker refuses it, the batch fails, the
// consumer crashes and restarts on the same message for good: the transactions behind it on the
// partition are never decided. Once, 9,500 refused security-code fields made a 1.1 MB dead letter
// (one `details` entry each) that stalled its partition so. Now `details` are capped, and a dead
// letter the broker still refuses for its size (a topic with a lower limit) is replaced by a
// minimal one: the partition moves on.
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskPan } from '../../services/core/card.ts';
import type { TransactionMessageInput } from '../../streams/messages.ts';
import { cardNumber, createHarness, waitFor, type Harness, type InProcess, type OutputReader } from './support.ts';

let h: Harness;
let processor: InProcess;
let reader: OutputReader;
const PAN = cardNumber('4', 16);

const tx = (transactionId: string, over: Record<string, unknown> = {}): TransactionMessageInput => ({
  merchantId: 'm1',
  transactionId,
  amount: 2500,
  currency: 'EUR',
  channel: 'ecommerce',
  card: { number: PAN, expiryMonth: 4, expiryYear: 2031, cvvResult: 'match' },
  ...over,
});

const crashes = async () =>
  (await processor.service.metrics.registry.getMetricsAsJSON())
    .find((m) => m.name === 'leakguard_stream_consumer_crashes_total')
    ?.values.reduce((n, v) => n + v.value, 0) ?? 0;

beforeAll(async () => {
  h = await createHarness('oversized');
  processor = await h.startInProcess();
  reader = await h.reader();
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('a dead letter too large for the broker', () => {
  it('is cut to fit: 9,500 refused security codes do not stall the partition', async () => {
    const poison: Record<string, unknown> = { ...tx('big-cvv') };
    for (let i = 0; i < 9500; i++) poison[`cvv${i}`] = 1;
    const value = JSON.stringify(poison);
    expect(value.length).toBeGreaterThan(100_000);
    await h.produce([
      { key: maskPan(PAN), value, partition: 0 },
      { key: maskPan(PAN), value: JSON.stringify(tx('after-big-cvv')), partition: 0 },
    ]);
    await waitFor(
      'the poison message dead-lettered and the transaction behind it decided',
      () =>
        reader.decisions.some((d) => d.value.transactionId === 'after-big-cvv') &&
        reader.deadLetters.some((d) => d.value.transactionId === 'big-cvv'),
      30_000,
    );
    const dead = reader.deadLetters.find((d) => d.value.transactionId === 'big-cvv')!;
    expect(dead.value.reason).toBe('schema_violation');
    expect(dead.value.details.length).toBeLessThanOrEqual(100);
    expect(dead.value.details[0]).toEqual({ path: 'cvv0', message: expect.stringContaining('security codes') });
    expect(dead.value.detailsOmitted).toBe(9500 - dead.value.details.length);
    expect(Buffer.byteLength(dead.raw)).toBeLessThan(200_000);
    expect(await crashes()).toBe(0);
  }, 60_000);

  it('is replaced by a minimal one when the topic refuses it for its size', async () => {
    // The dead-letter topic now takes 4 KB at most: a dead letter keeping a 20 KB payload is refused.
    await h.admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: h.topics.deadLetter,
          configEntries: [{ name: 'max.message.bytes', value: '4096' }],
        },
      ],
    });
    // The broker applies a topic's new configuration a moment after the controller took it: until it
    // refuses a message over the limit, the processor's dead letter could still be taken whole.
    // The probe names no source the test reads.
    const probe = JSON.stringify({ transactionId: 'size-probe', source: { partition: -1 }, pad: 'p'.repeat(5_000) });
    await waitFor('the topic refusing messages over 4 KB', () =>
      h.producer.send({ topic: h.topics.deadLetter, acks: -1, messages: [{ value: probe }] }).then(
        () => false,
        () => true,
      ),
    );
    await h.produce([
      {
        key: maskPan(PAN),
        value: JSON.stringify(tx('big-note', { amount: -1, note: 'x'.repeat(20_000) })),
        partition: 1,
      },
      { key: maskPan(PAN), value: JSON.stringify(tx('after-big-note')), partition: 1 },
    ]);
    await waitFor(
      'the refused dead letter replaced and the transaction behind it decided',
      () =>
        reader.decisions.some((d) => d.value.transactionId === 'after-big-note') &&
        reader.deadLetters.some((d) => d.value.transactionId === 'big-note'),
      30_000,
    );
    const dead = reader.deadLetters.filter((d) => d.value.source.partition === 1 && d.value.source.offset === '0');
    expect(dead).toHaveLength(1);
    expect(dead[0]!.value).toMatchObject({
      reason: 'schema_violation',
      merchantId: 'm1',
      transactionId: 'big-note',
      details: [{ path: '(root)', message: expect.stringContaining('too large') }],
      source: { topic: h.topics.input, partition: 1, offset: '0', key: maskPan(PAN) },
      payload: null,
      payloadTruncated: true,
    });
    expect(Buffer.byteLength(dead[0]!.raw)).toBeLessThan(4096);
    expect(processor.service.processor.health()).toMatchObject({ consumer: 'running' });
  }, 60_000);
});
