// Stream scoring end to end on a real Kafka broker and a real Redis: 200 inputs (some poison) in,
// exactly 200 transactions out across decisions and dead-letter (each decision the answer POST
// /v1/score gives the same input: test/stream/same-as-api.test.ts), keyed by the card's
// fingerprint, never carrying a card number; flagged holds exactly the non-approve decisions; one
// card's decisions keep the input order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { HISTORY_KEYS } from '../../services/adapters/redis/keys.ts';
import { maskPan } from '../../services/core/card.ts';
import {
  createHarness,
  fingerprint,
  generateTransactions,
  kafkaClient,
  longDigitRuns,
  waitFor,
  type GeneratedTx,
  type Harness,
  type InProcess,
  type OutputReader,
} from './support.ts';

let h: Harness;
let processor: InProcess;
let reader: OutputReader;
let valid: GeneratedTx[];
const N = 200;

beforeAll(async () => {
  h = await createHarness('e2e');
  processor = await h.startInProcess();
  reader = await h.reader();
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('stream scoring end to end', () => {
  it('turns N inputs, poison among them, into exactly N transactions across decisions and dead-letter', async () => {
    valid = generateTransactions(180, { prefix: 'e2e' });
    const poison = [
      // Not JSON (a card number inside).
      ...Array.from({ length: 5 }, (_, i) => ({
        key: null,
        value: `{"transactionId":"e2e-badjson-${i}","merchantId":"m1","card":{"number":"4111111111111111"`,
      })),
      // Schema violations (negative amount, card number that fails Luhn) with a card number inside.
      ...Array.from({ length: 5 }, (_, i) => ({
        key: maskPan('5555555555554444'),
        value: JSON.stringify({
          ...valid[i]!.input,
          transactionId: `e2e-schema-${i}`,
          amount: -5,
          card: { number: '5555555555554445', expiryMonth: 1, expiryYear: 2031 },
        }),
      })),
      // Unknown merchant.
      ...Array.from({ length: 10 }, (_, i) => ({
        key: maskPan(valid[i]!.pan),
        value: JSON.stringify({ ...valid[i]!.input, transactionId: `e2e-unknown-${i}`, merchantId: 'nobody' }),
      })),
    ];
    // Interleave: poison in the middle of the stream, not only at the end.
    await h.produceTransactions(valid.slice(0, 90));
    await h.produce(poison);
    await h.produceTransactions(valid.slice(90));

    await waitFor('every input to have an output', () => reader.covered().size >= N, 90_000);
    await waitFor(
      'the flagged topic to catch up',
      () => reader.flagged.length >= reader.decisions.filter((d) => d.value.decision !== 'approve').length,
      10_000,
    );

    const ids = new Set([
      ...reader.decisions.map((d) => d.value.transactionId),
      ...reader.deadLetters.map(
        (d) => d.value.transactionId ?? /"transactionId":"([^"]+)"/.exec(String(d.value.payload))?.[1],
      ),
    ]);
    expect(ids.size).toBe(N);
    expect(reader.covered().size).toBe(N);
    // A clean run publishes each outcome once.
    expect(reader.decisions).toHaveLength(180);
    expect(reader.deadLetters).toHaveLength(20);
    expect(new Set(reader.decisions.map((d) => d.value.transactionId))).toEqual(
      new Set(valid.map((v) => v.input.transactionId)),
    );

    const reasons = reader.deadLetters.map((d) => d.value.reason).sort();
    expect(reasons.filter((r) => r === 'invalid_json')).toHaveLength(5);
    expect(reasons.filter((r) => r === 'schema_violation')).toHaveLength(5);
    expect(reasons.filter((r) => r === 'unknown_merchant')).toHaveLength(10);
    // Committed offsets reach the end of every partition.
    await waitFor(
      'offsets committed to the end',
      async () => {
        const [committed, ends] = await Promise.all([h.committedOffsets(), h.endOffsets()]);
        return [...ends].every(([p, end]) => (committed.get(p) ?? -1n) === end);
      },
      15_000,
    );
  });

  it('records each scored card at its merchant for breach discovery (card histories: fingerprints, never a PAN)', async () => {
    const redis = new Redis(h.redis.url);
    try {
      const expected = new Map<string, Set<string>>();
      for (const tx of valid) {
        const key = HISTORY_KEYS.cardMerchants(fingerprint(tx.pan));
        expected.set(key, (expected.get(key) ?? new Set()).add(tx.input.merchantId));
      }
      // Written off the scoring path, in batches every 500 ms; by the processor alone (nothing else
      // has scored these cards).
      await waitFor('card histories written', async () => {
        for (const [key, merchants] of expected)
          if ((await redis.zrange(key, 0, -1)).sort().join() !== [...merchants].sort().join()) return false;
        return true;
      });
      const stored = (await Promise.all([...expected.keys()].map((k) => redis.zrange(k, 0, -1)))).join(' ');
      expect(longDigitRuns(stored)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('keys decisions by card fingerprint and names the card by BIN and last 4 only', () => {
    const panOf = new Map(valid.map((v) => [v.input.transactionId, v.pan]));
    for (const d of reader.decisions) {
      const pan = panOf.get(d.value.transactionId)!;
      expect(d.key).toBe(fingerprint(pan));
      expect(d.value.card).toEqual({
        bin: pan.slice(0, 6),
        last4: pan.slice(-4),
        fingerprint: fingerprint(pan),
        keyId: expect.any(String),
      });
    }
    const pans = new Set([...valid.map((v) => v.pan), '4111111111111111', '5555555555554445']);
    for (const out of [...reader.decisions, ...reader.flagged, ...reader.deadLetters]) {
      expect(longDigitRuns(out.raw)).toEqual([]);
      expect(longDigitRuns(out.key ?? '')).toEqual([]);
      for (const pan of pans) expect(out.raw).not.toContain(pan);
    }
    // Dead letters keep the payload, masked.
    const schema = reader.deadLetters.find((d) => d.value.reason === 'schema_violation')!;
    expect(schema.value.payload).toMatchObject({ card: { number: '555555******4445' }, amount: -5 });
    expect(schema.value.details).toEqual(
      expect.arrayContaining([
        { path: 'amount', message: expect.any(String) },
        { path: 'card.number', message: 'fails the Luhn check' },
      ]),
    );
    const bad = reader.deadLetters.find((d) => d.value.reason === 'invalid_json')!;
    expect(bad.value.payload).toContain('411111******1111');
  });

  it('publishes exactly the decisions other than approve on the flagged topic', () => {
    const flagged = reader.flagged.map((f) => f.value.transactionId).sort();
    const expected = reader.decisions
      .filter((d) => d.value.decision !== 'approve')
      .map((d) => d.value.transactionId)
      .sort();
    expect(flagged).toEqual(expected);
    expect(flagged.length).toBeGreaterThan(0);
    for (const f of reader.flagged) expect(f.key).toBe(f.value.card.fingerprint);
  });

  it("keeps one card's decisions in input order", () => {
    // Inputs are keyed by masked card, so one card's transactions share an input partition, and
    // its decisions (keyed by fingerprint) share an output partition: offsets must rise together.
    const byCard = new Map<string, { source: bigint; out: bigint }[]>();
    for (const d of reader.decisions) {
      const list = byCard.get(d.value.card.fingerprint) ?? [];
      list.push({ source: BigInt(d.value.source.offset), out: BigInt(d.offset) });
      byCard.set(d.value.card.fingerprint, list);
    }
    expect(byCard.size).toBe(25);
    for (const list of byCard.values()) {
      const byOut = [...list].sort((a, b) => (a.out < b.out ? -1 : 1));
      const sources = byOut.map((x) => x.source);
      expect(sources).toEqual([...sources].sort((a, b) => (a < b ? -1 : 1)));
    }
  });

  it('counts what it did in its metrics', async () => {
    const metrics = await processor.service.metrics.registry.getMetricsAsJSON();
    const value = (name: string, labels: Record<string, string> = {}) =>
      (metrics.find((m) => m.name === name)?.values as { value: number; labels: Record<string, string> }[] | undefined)
        ?.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((s, v) => s + v.value, 0);
    expect(value('leakguard_stream_messages_total', { outcome: 'decision' })).toBe(180);
    expect(value('leakguard_stream_messages_total', { outcome: 'dead_letter' })).toBe(20);
    expect(value('leakguard_stream_dead_letters_total', { reason: 'unknown_merchant' })).toBe(10);
    expect(value('leakguard_stream_pauses_total'), processor.logs.filter((l) => l.includes('paused')).join('\n')).toBe(
      0,
    );
    const batches = metrics.find((m) => m.name === 'leakguard_stream_batch_size')!.values as {
      value: number;
      metricName?: string;
    }[];
    expect(batches.find((v) => v.metricName === 'leakguard_stream_batch_size_sum')?.value).toBe(200);
    await waitFor(
      'lag to read zero',
      async () => {
        const lag = (await processor.service.metrics.lag.get()).values;
        return lag.length === 4 && lag.every((v) => v.value === 0);
      },
      10_000,
    );
  });
});

describe('inputs from a transactional producer', () => {
  it('commits past the transaction marker once all are decided: committed at the end, lag zero', async () => {
    const pan = generateTransactions(1)[0]!.pan;
    const producer = kafkaClient(h.bootstrap, 'e2e-transactional').producer({
      transactionalId: `e2e-${h.groupId}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const transaction = await producer.transaction();
      await transaction.send({
        topic: h.topics.input,
        messages: generateTransactions(3, { prefix: 'e2e-txn', cards: [pan], merchants: ['m1'] }).map((t) => ({
          key: maskPan(t.pan),
          partition: 0,
          value: JSON.stringify(t.input),
        })),
      });
      await transaction.commit();
    } finally {
      await producer.disconnect();
    }
    await waitFor(
      'the three decisions',
      () => reader.decisions.filter((d) => d.value.transactionId.startsWith('e2e-txn-')).length === 3,
      15_000,
    );
    // The transaction's commit marker follows its last message: the partition's end is one past it.
    await waitFor(
      'partition 0 committed to its end (past the marker)',
      async () => (await h.committedOffsets()).get(0) === (await h.endOffsets()).get(0),
      5_000,
    );
    await waitFor(
      'lag to read zero',
      async () => {
        const lag = (await processor.service.metrics.lag.get()).values;
        return lag.length === 4 && lag.every((v) => v.value === 0);
      },
      5_000,
    );
  });
});
