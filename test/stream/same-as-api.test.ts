// The stream and POST /v1/score are one engine: the same inputs, scored by a processor on a real
// Kafka broker and Redis and, afresh and one at a time, by the HTTP API on a Redis of its own with
// the processor's model, get the same answers, field for field. One partition: features shared by
// several cards (a device, an IP, an e-mail) read what was counted before, and across partitions the
// processor's order is not the input's (docs/stream-messages.md, "Order").
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STARTER_MODEL_PATH } from '../../services/model/starter.ts';
import { bearer, buildTestApp } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';
import { createHarness, generateTransactions, waitFor, type Harness, type OutputReader } from './support.ts';

let h: Harness;
let reader: OutputReader;
beforeAll(async () => {
  h = await createHarness('same-as-api', { partitions: 1 });
  await h.startInProcess();
  reader = await h.reader();
}, 180_000);
afterAll(async () => {
  await h?.close();
}, 60_000);

it('publishes for each transaction the answer the API gives the same input, scored afresh in input order', async () => {
  const txs = generateTransactions(180, { prefix: 'same' });
  await h.produceTransactions(txs);
  await waitFor('every decision', () => reader.decisions.length >= txs.length, 90_000);
  const published = new Map(reader.decisions.map((d) => [d.value.transactionId, d.value]));

  const fresh = await RedisServer.start({ durable: false });
  const api = await buildTestApp({ REDIS_URL: fresh.url, LOG_LEVEL: 'warn', LEAKGUARD_MODEL: STARTER_MODEL_PATH });
  try {
    const flagged = new Set<string>();
    for (const tx of txs) {
      const { merchantId, ...body } = tx.input;
      const res = await api.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(merchantId === 'm1' ? api.keys.merchant : api.keys.otherMerchant),
        payload: body,
      });
      expect(res.statusCode).toBe(200);
      const decision = published.get(tx.input.transactionId)!;
      expect({ ...decision, merchantId }, tx.input.transactionId).toMatchObject(res.json());
      expect(decision).toMatchObject({ merchantId, degraded: false, replayed: false });
      expect(decision.checks).toMatchObject({ velocity: 'evaluated', model: 'evaluated' });
      if (decision.decision !== 'approve') flagged.add(decision.decision);
      for (const r of decision.reasons)
        if (r.code.startsWith('DEVICE_') || r.code.startsWith('IP_')) flagged.add(r.code);
    }
    // Not vacuous: the generator's card testing and CVV mismatches flag orders, and features shared
    // across cards (devices, IPs) fire.
    expect(flagged.size).toBeGreaterThan(2);
  } finally {
    await api.close();
    await fresh.stop();
  }
}, 180_000);
