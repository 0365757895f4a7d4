// A scoring that fails unexpectedly (an engine fault, not the stores being down) dead-letters its
// transactions as engine_error (docs/stream-messages.md) and the partition goes on: it must not
// fail the whole fetched batch, which kafkajs deems not retriable (the consumer rebuilt every 5 s,
// on the same offsets, for ever). A stand-in engine on a real broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterMessage } from '../../streams/messages.ts';
import { loadStreamConfig } from '../../streams/config.ts';
import { standInApproval, type ScoringEngine } from '../../streams/processor/processor.ts';
import { createHarness, generateTransactions, waitFor, standInProcessor, type Harness } from './support.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness('engine-failures', { partitions: 1 });
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('a batch whose scoring fails', () => {
  it('dead-letters its transactions as engine_error, commits them, and goes on scoring', async () => {
    const failing = generateTransactions(3, { prefix: 'ef-fail' });
    const later = generateTransactions(3, { prefix: 'ef-later' });
    const failure = new Error('the engine failed (caused by the test)');
    const engine: ScoringEngine = {
      async scoreBatch(items) {
        if (items.some(({ request }) => request.transactionId.startsWith('ef-fail'))) throw failure;
        return items.map(({ request }) => standInApproval(request.transactionId, 'engine-failures'));
      },
    };
    const processor = standInProcessor(loadStreamConfig(h.env), engine, 'engine-failures-test');
    const reader = await h.reader();
    try {
      await processor.start();
      await h.produceTransactions(failing);
      await waitFor('the three dead letters', () => reader.deadLetters.length === 3, 15_000);
      await h.produceTransactions(later);
      await waitFor('the later decisions', () => reader.decisions.length === 3, 15_000);
      const letters = reader.deadLetters.map((d) => d.value as DeadLetterMessage);
      expect(letters.map((l) => [l.reason, l.transactionId])).toEqual(
        failing.map((t) => ['engine_error', t.input.transactionId]),
      );
      // The payload is kept (masked): the transaction can be sent again once the fault is fixed.
      expect(letters.every((l) => (l.payload as { amount?: number }).amount !== undefined)).toBe(true);
      expect(reader.decisions.map((d) => d.value.transactionId)).toEqual(later.map((t) => t.input.transactionId));
      await waitFor('the input committed to its end', async () => (await h.commitProgress()).atEnd, 10_000);
      expect(processor.health()).toMatchObject({ consumer: 'running', paused: false });
    } finally {
      await processor.stop();
    }
  }, 60_000);
});
