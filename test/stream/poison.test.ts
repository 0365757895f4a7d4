// Inputs that cannot be scored go to the dead-letter topic with the reason, their original
// partition and offset, and the payload with every card number masked, and the stream goes on.
// Also: a transaction id reused with another payload (conflict), a redelivered duplicate (the
// stored decision again), merchants onboarded or revoked while running, the producer helper.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { maskPan } from '../../services/core/card.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { TransactionProducer, TransactionValidationError } from '../../streams/producer.ts';
import { DEAD_LETTER_PAYLOAD_LIMIT, type TransactionMessageInput } from '../../streams/messages.ts';
import {
  cardNumber,
  createHarness,
  fingerprint,
  generateTransactions,
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
const AMEX = cardNumber('37', 15);

const base = (transactionId: string, over: Record<string, unknown> = {}): TransactionMessageInput => ({
  merchantId: 'm1',
  transactionId,
  amount: 2500,
  currency: 'EUR',
  channel: 'ecommerce',
  card: { number: PAN, expiryMonth: 4, expiryYear: 2031, cvvResult: 'match' },
  ...over,
});

beforeAll(async () => {
  h = await createHarness('poison', { env: { LEAKGUARD_STREAM_MERCHANTS_REFRESH_MS: '500' } });
  processor = await h.startInProcess();
  reader = await h.reader();
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

const deadFor = (partition: number, offset: string) =>
  reader.deadLetters.find((d) => d.value.source.partition === partition && d.value.source.offset === offset);

describe('poison messages', () => {
  it('dead-letters bad JSON, schema violations, unknown merchants and currencies without a rate, with masked cards, and goes on scoring', async () => {
    // Everything on partition 0, in this order, so that positions are known.
    const poison: { value: string | null; key?: string | null; reason: string }[] = [
      { value: null, reason: 'invalid_json' },
      { value: `{"merchantId":"m1","transactionId":"p-trunc","card":{"number":"${PAN}"`, reason: 'invalid_json' },
      {
        value: `card ${PAN.slice(0, 4)} ${PAN.slice(4, 8)} ${PAN.slice(8, 12)} ${PAN.slice(12)} cvv "cvv": 123`,
        key: PAN,
        reason: 'invalid_json',
      },
      {
        value: JSON.stringify(base('p-cvv', { card: { number: PAN, expiryMonth: 4, expiryYear: 2031, cvv: '123' } })),
        reason: 'schema_violation',
      },
      {
        value: JSON.stringify(base('p-number', { card: { number: Number(PAN), expiryMonth: 4, expiryYear: 2031 } })),
        reason: 'schema_violation',
      },
      { value: JSON.stringify(base(PAN)), reason: 'schema_violation' },
      {
        value: JSON.stringify(
          base('p-elsewhere', {
            amount: 0,
            customer: { email: `${AMEX}@example.com`, id: AMEX },
            device: { id: `dev ${PAN}`, userAgent: PAN.replace(/(\d{4})(?!$)/g, '$1.') },
          }),
        ),
        reason: 'schema_violation',
      },
      {
        value: JSON.stringify({
          ...base('p-big'),
          items: Array.from({ length: 3000 }, (_, i) => ({ name: `item ${i} ${PAN}` })),
        }),
        reason: 'schema_violation',
      },
      { value: JSON.stringify([base('p-array')]), reason: 'schema_violation' },
      { value: JSON.stringify(base('p-unknown', { merchantId: 'm-nobody' })), reason: 'unknown_merchant' },
      // ISO 4217 money, but not in the default rate table: never scored as if it were euros.
      { value: JSON.stringify(base('p-clp', { currency: 'CLP', amount: 25_000 })), reason: 'no_exchange_rate' },
      // Nesting thousands deep in a few KB: once a stack overflow that stalled the partition for good.
      { value: `{"merchantId":"m1","x":${'['.repeat(5000)}${']'.repeat(5000)}}`, reason: 'schema_violation' },
      // UTF-16 text read as UTF-8: NULs between the digits, in the value and in the key.
      { value: `card ${PAN.split('').join('\u0000')}`, key: PAN.split('').join('\u0000'), reason: 'invalid_json' },
      // A card number as a fraction, or in parts.
      {
        value: JSON.stringify(
          base('p-parts', { card: { number: PAN.match(/\d{4}/g), expiryMonth: 4, expiryYear: 2031 } }),
        ),
        reason: 'schema_violation',
      },
      {
        value: `{"merchantId":"m1","transactionId":"p-fraction","card":{"number":${PAN}.5},"amount":0.${PAN}}`,
        reason: 'schema_violation',
      },
      // Dated a day ahead: it would age the card's history out of every window.
      {
        value: JSON.stringify(base('p-future', { occurredAt: new Date(Date.now() + 86_400_000).toISOString() })),
        reason: 'schema_violation',
      },
      // A key named twice: JSON.parse would keep the second card and drop the first without a word.
      {
        value:
          JSON.stringify(base('p-repeated-key')).slice(0, -1) +
          `,"card":{"number":"${AMEX}","expiryMonth":4,"expiryYear":2031}}`,
        reason: 'schema_violation',
      },
    ];
    const good = generateTransactions(20, { prefix: 'p-good' });
    await h.produce(
      poison.map((p) => ({ key: p.key === undefined ? maskPan(PAN) : p.key, value: p.value, partition: 0 })),
    );
    await h.produce(good.map((g) => ({ key: maskPan(g.pan), value: JSON.stringify(g.input), partition: 0 })));

    await waitFor(
      `all ${poison.length + good.length} outputs`,
      () => reader.covered().size >= poison.length + good.length,
      60_000,
    );
    expect(reader.decisions.map((d) => d.value.transactionId).sort()).toEqual(
      good.map((g) => g.input.transactionId).sort(),
    );
    expect(reader.deadLetters).toHaveLength(poison.length);

    poison.forEach((p, offset) => {
      const dead = deadFor(0, String(offset));
      expect(dead, `dead letter for offset ${offset}`).toBeDefined();
      expect(dead!.value.reason).toBe(p.reason);
      expect(dead!.value.source).toMatchObject({ topic: h.topics.input, partition: 0, offset: String(offset) });
      expect(dead!.value.details.length).toBeGreaterThan(0);
      // Never a card number, in the message or in its key.
      expect(longDigitRuns(dead!.raw)).toEqual([]);
      expect(dead!.raw).not.toContain(PAN);
      expect(dead!.raw).not.toContain(AMEX);
      expect(longDigitRuns(dead!.key ?? '')).toEqual([]);
      // Nor one written with control characters between its digits (escaped in the JSON).
      expect(longDigitRuns(dead!.raw.replace(/\\u00[01][0-9a-f]/g, ''))).toEqual([]);
      expect(dead!.raw).not.toMatch(/"cvv"\s*:\s*"?123/);
    });

    const at = (offset: number) => deadFor(0, String(offset))!.value;
    expect(at(0).details).toEqual([{ path: '(root)', message: 'the message has no value' }]);
    expect(at(1).payload).toBe(`{"merchantId":"m1","transactionId":"p-trunc","card":{"number":"${maskPan(PAN)}"`);
    expect(at(2).payload).toContain(maskPan(PAN));
    expect(at(2).source.key).toBe(maskPan(PAN));
    expect(at(3)).toMatchObject({
      transactionId: 'p-cvv',
      merchantId: 'm1',
      payload: { card: { number: maskPan(PAN), cvv: '[removed]' } },
    });
    expect(at(3).details).toContainEqual({
      path: 'card.cvv',
      message: expect.stringContaining('security codes are never accepted'),
    });
    expect(at(4).payload).toMatchObject({ card: { number: maskPan(PAN) } });
    // A card number used as transaction id: refused, and not repeated as the dead letter's id.
    expect(at(5).transactionId).toBeUndefined();
    expect(at(5).payload).toMatchObject({ transactionId: maskPan(PAN) });
    expect(at(6).payload).toMatchObject({
      customer: { email: `${maskPan(AMEX)}@example.com`, id: maskPan(AMEX) },
      device: { id: `dev ${maskPan(PAN)}`, userAgent: maskPan(PAN) },
    });
    expect(at(7).payloadTruncated).toBe(true);
    expect(String(at(7).payload).length).toBeLessThanOrEqual(DEAD_LETTER_PAYLOAD_LIMIT);
    expect(at(9)).toMatchObject({
      merchantId: 'm-nobody',
      transactionId: 'p-unknown',
      details: [{ path: 'merchantId', message: expect.any(String) }],
    });
    expect(at(10)).toMatchObject({
      merchantId: 'm1',
      transactionId: 'p-clp',
      details: [{ path: 'currency', message: `no exchange rate for CLP in rate table ${readRatesFile().version}` }],
    });
    expect(JSON.stringify(at(11).payload)).toContain('"[truncated]"');
    expect(at(12).source.key!.replaceAll('\u0000', '')).toBe(maskPan(PAN));
    expect(String(at(12).payload).replaceAll('\u0000', '')).toBe(`card ${maskPan(PAN)}`);
    expect(at(13).payload).toMatchObject({ card: { number: '[removed]' } });
    expect(JSON.stringify(at(14).payload)).not.toContain(PAN.slice(4, 12));
    expect(at(15)).toMatchObject({
      transactionId: 'p-future',
      details: [{ path: 'occurredAt', message: expect.stringContaining('ahead of the engine') }],
    });
    expect(at(16)).toMatchObject({
      transactionId: 'p-repeated-key',
      details: [{ path: 'card', message: 'this key appears more than once in its object' }],
    });
    // Nothing of it was counted.
    const probe = new Redis(h.redis.url);
    try {
      expect(
        (await probe.zrange(`lg:{c:${fingerprint(PAN)}}:l`, 0, -1)).filter((m) => m.startsWith('m1:p-clp|')),
      ).toEqual([]);
    } finally {
      probe.disconnect();
    }

    // Nothing of it reached the processor's logs either.
    expect(processor.logs.join('\n')).not.toContain(PAN);
    expect(processor.service.processor.health()).toMatchObject({ ok: true, consumer: 'running', paused: false });
  }, 90_000);

  it('dead-letters a transaction id reused with another payload, and republishes the stored decision for a duplicate', async () => {
    const first = base('p-dup', { amount: 4200 });
    await h.produce([{ key: maskPan(PAN), value: JSON.stringify(first), partition: 1 }]);
    await waitFor('the first decision', () => reader.decisions.some((d) => d.value.transactionId === 'p-dup'));
    await h.produce([
      { key: maskPan(PAN), value: JSON.stringify(first), partition: 1 },
      { key: maskPan(PAN), value: JSON.stringify({ ...first, amount: 9999 }), partition: 1 },
    ]);
    await waitFor(
      'the duplicate and the conflict',
      () =>
        reader.decisions.filter((d) => d.value.transactionId === 'p-dup').length === 2 &&
        reader.deadLetters.some((d) => d.value.transactionId === 'p-dup'),
    );
    const [a, b] = reader.decisions.filter((d) => d.value.transactionId === 'p-dup').map((d) => d.value);
    expect(b!.replayed).toBe(true);
    expect({ ...b, replayed: false, decidedAt: '', source: null }).toEqual({ ...a, decidedAt: '', source: null });
    const conflict = reader.deadLetters.find((d) => d.value.transactionId === 'p-dup')!.value;
    expect(conflict).toMatchObject({
      reason: 'conflict',
      merchantId: 'm1',
      source: { partition: 1, offset: '2' },
      payload: { amount: 9999 },
    });
    // Counted once: the card's log in Redis holds the transaction once.
    const probe = new Redis(h.redis.url);
    try {
      const members = await probe.zrange(`lg:{c:${fingerprint(PAN)}}:l`, 0, -1);
      expect(members.filter((m) => m.startsWith('m1:p-dup|'))).toHaveLength(1);
    } finally {
      probe.disconnect();
    }
  });

  it('scores for a merchant onboarded while running, and dead-letters one whose key was revoked', async () => {
    const { record } = await createApiKey(h.app.runtime.apiKeys, { role: 'merchant', merchantId: 'm-late' });
    await h.produce([
      { key: maskPan(PAN), value: JSON.stringify(base('p-late', { merchantId: 'm-late' })), partition: 2 },
    ]);
    await waitFor('the late merchant scored', () => reader.decisions.some((d) => d.value.transactionId === 'p-late'));

    await h.app.runtime.apiKeys.revoke(record.id, new Date().toISOString());
    await waitFor(
      'the directory to drop the revoked merchant',
      async () => (await processor.service.merchants.status('m-late')) === 'unknown',
      10_000,
    );
    await h.produce([
      { key: maskPan(PAN), value: JSON.stringify(base('p-revoked', { merchantId: 'm-late' })), partition: 2 },
    ]);
    await waitFor('the revoked merchant dead-lettered', () =>
      reader.deadLetters.some((d) => d.value.transactionId === 'p-revoked'),
    );
    expect(reader.deadLetters.find((d) => d.value.transactionId === 'p-revoked')!.value.reason).toBe(
      'unknown_merchant',
    );
  });
});

describe('the producer helper', () => {
  it('refuses an invalid transaction before sending anything, without repeating the card number', async () => {
    const producer = new TransactionProducer({ kafka: h.kafka, topic: h.topics.input });
    await producer.connect();
    try {
      const before = await h.endOffsets();
      const bad = { ...base('h-bad'), card: { number: PAN, expiryMonth: 13, expiryYear: 2031, cvv: '123' } };
      const error = await producer.send([base('h-ok-1'), bad as never]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransactionValidationError);
      expect((error as TransactionValidationError).details).toEqual(
        expect.arrayContaining([
          { path: '[1].card.expiryMonth', message: expect.any(String) },
          { path: '[1].card.cvv', message: expect.any(String) },
        ]),
      );
      expect((error as Error).message).not.toContain(PAN);
      expect(await h.endOffsets()).toEqual(before);

      const [sent] = await producer.send(base('h-ok-2'));
      expect(sent!.errorCode).toBe(0);
      await waitFor('the helper-produced transaction scored', () =>
        reader.decisions.some((d) => d.value.transactionId === 'h-ok-2'),
      );
      const decision = reader.decisions.find((d) => d.value.transactionId === 'h-ok-2')!;
      expect(decision.value.merchantId).toBe('m1');
    } finally {
      await producer.disconnect();
    }
  });
});
