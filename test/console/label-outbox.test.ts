// The label outbox with several engines on one case database: every engine's feedback worker
// flushes it, and one of them at a time publishes (a lease in the database), so that a label goes
// to `leakguard.labels` once per publication, not once per engine, and a label's withdrawal never
// overtakes the label it withdraws. Real PostgreSQL and PGlite; the sink stands for Kafka (its
// real path: test/stream/labels.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCaseStore } from '../../services/adapters/postgres/case-store.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import type { AuditLog } from '../../services/cases/audit.ts';
import { Feedback, type LabelSink } from '../../services/cases/feedback.ts';
import type { NegativeListStore } from '../../services/cases/negative-lists.ts';
import { flagged, pgliteDriver, postgresDriver, TEST_DATA_CIPHER, type Driver } from './fixtures.ts';

/** What reached the topic, in order: case id, label, withdrawn. */
type Published = { caseId: number; label: string; withdrawn: boolean };

/** A sink that records into `topic`, each send held until `gate` (if any) opens. */
function sink(topic: Published[], options: { gate?: Promise<void>; fail?: boolean } = {}) {
  const calls = { count: 0 };
  const s: LabelSink = {
    async send(messages) {
      calls.count++;
      if (options.gate) await options.gate;
      if (options.fail) throw new Error('broker not reachable');
      for (const m of messages) {
        const v = JSON.parse(m.value) as { caseId: number; label: string; withdrawn?: boolean };
        topic.push({ caseId: v.caseId, label: v.label, withdrawn: v.withdrawn === true });
      }
    },
    close: async () => {},
  };
  return Object.assign(s, { calls });
}

/** A gate the test opens: `gate` resolves once `open` is called. */
function opened() {
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  return { gate, open };
}

for (const makeDriver of [pgliteDriver, postgresDriver]) {
  describe.sequential(
    `label outbox, two engines (${makeDriver === pgliteDriver ? 'PGlite' : 'PostgreSQL server'})`,
    () => {
      let driver: Driver;
      let sql: SqlClient;
      let store: PostgresCaseStore;
      const errors: unknown[] = [];
      const engine = (labels: LabelSink) =>
        new Feedback({
          store,
          labels,
          // Only the labels' path runs here.
          negativeLists: {} as NegativeListStore,
          audit: {} as AuditLog,
          negativeListTtlMs: 86_400_000,
          allowListMaxDays: 0,
          onError: (e) => errors.push(e),
        });
      /** Publishes whatever waits from earlier tests, so that each test sees its own labels. */
      const drain = () => engine(sink([])).flushLabels();
      const fraudCase = async (merchantId: string) => {
        const c = await store.createFromFlagged(flagged({ merchantId }));
        await store.decide(c.id, 'mark_fraud', 'alice');
        return c.id;
      };

      beforeAll(async () => {
        driver = await makeDriver();
        sql = await driver.open();
        store = new PostgresCaseStore(sql, TEST_DATA_CIPHER);
      });
      afterAll(async () => {
        await sql?.close();
        await driver?.stop();
      });

      it('publishes each label once when two engines flush at the same time', async () => {
        await drain();
        const ids = [await fraudCase('two-1'), await fraudCase('two-2'), await fraudCase('two-3')];
        const topic: Published[] = [];
        const { gate, open } = opened();
        const a = sink(topic, { gate });
        const b = sink(topic, { gate });
        const flushes = [engine(a).flushLabels(), engine(b).flushLabels()];
        // Both are under way (one sending, the other done or waiting) before the broker answers.
        await new Promise((resolve) => setTimeout(resolve, 200));
        open();
        await Promise.all(flushes);
        expect(topic.map((p) => p.caseId).sort()).toEqual([...ids].sort());
        expect(a.calls.count + b.calls.count).toBe(1);
        expect(await store.unpublishedLabels(100)).toEqual([]);
        expect(errors).toEqual([]);
      });

      it("never lets a label's withdrawal overtake the label on its way", async () => {
        await drain();
        const id = await fraudCase('overtake');
        const topic: Published[] = [];
        const { gate, open } = opened();
        // Engine A reads "fraud" and is held sending it; meanwhile the decision is reversed and
        // engine B, whose broker answers at once, flushes.
        const held = sink(topic, { gate });
        const sending = engine(held).flushLabels();
        await expect.poll(() => held.calls.count).toBe(1);
        await store.reverse(id, 'lead1', 'wrong card', { leaseMs: 60_000 });
        await engine(sink(topic)).flushLabels();
        open();
        await sending;
        // Whoever publishes next sends the withdrawal, after the label.
        await engine(sink(topic)).flushLabels();
        expect(topic).toEqual([
          { caseId: id, label: 'fraud', withdrawn: false },
          { caseId: id, label: 'fraud', withdrawn: true },
        ]);
        expect(await store.unpublishedLabels(100)).toEqual([]);
      });

      it('lets another engine publish once the one holding the outbox fails or is gone', async () => {
        await drain();
        const id = await fraudCase('failing');
        const topic: Published[] = [];
        // A send that fails gives the outbox up at once: the next engine's flush publishes.
        await engine(sink(topic, { fail: true })).flushLabels();
        expect(errors.splice(0).map((e) => (e as Error).message)).toEqual(['broker not reachable']);
        await engine(sink(topic)).flushLabels();
        expect(topic).toEqual([{ caseId: id, label: 'fraud', withdrawn: false }]);

        // An engine that stopped while holding it (killed mid-send): its lease runs out.
        const other = await fraudCase('gone');
        expect(await store.holdLabelOutbox('killed-engine', 300)).toBe(true);
        const waiting = sink(topic);
        await engine(waiting).flushLabels();
        expect(waiting.calls.count).toBe(0);
        await new Promise((resolve) => setTimeout(resolve, 400));
        await engine(waiting).flushLabels();
        expect(topic.at(-1)).toEqual({ caseId: other, label: 'fraud', withdrawn: false });
      });

      it('holds the outbox for one owner at a time: renewed by it, released by it alone', async () => {
        expect(await store.holdLabelOutbox('engine-a', 60_000)).toBe(true);
        expect(await store.holdLabelOutbox('engine-b', 60_000)).toBe(false);
        expect(await store.holdLabelOutbox('engine-a', 60_000)).toBe(true);
        await store.releaseLabelOutbox('engine-b');
        expect(await store.holdLabelOutbox('engine-b', 60_000)).toBe(false);
        await store.releaseLabelOutbox('engine-a');
        expect(await store.holdLabelOutbox('engine-b', 60_000)).toBe(true);
        await store.releaseLabelOutbox('engine-b');
      });
    },
  );
}
