// The case store, audit log and user store contract, run against PGlite (embedded) and a real
// PostgreSQL server started by this file: same migrations, same queries, same answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAuditLog } from '../../services/adapters/postgres/audit-log.ts';
import { PostgresCaseStore } from '../../services/adapters/postgres/case-store.ts';
import { loadMigrations, migrate } from '../../services/adapters/postgres/migrate.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import { PostgresUserStore } from '../../services/adapters/postgres/user-store.ts';
import { CaseConflict, CaseForbidden, caseQuerySchema } from '../../services/cases/model.ts';
import { UserExists } from '../../services/cases/users.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileApiKeyStore } from '../../services/adapters/files/api-key-file-store.ts';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { auditKeyChanges } from '../../services/cases/key-audit.ts';
import {
  flagged,
  INJECTION_PAYLOADS,
  pgliteDriver,
  postgresDriver,
  TEST_DATA_CIPHER,
  type Driver,
} from './fixtures.ts';

for (const makeDriver of [pgliteDriver, postgresDriver]) {
  describe.sequential(`case store contract (${makeDriver === pgliteDriver ? 'PGlite' : 'PostgreSQL server'})`, () => {
    let driver: Driver;
    let sql: SqlClient;
    let store: PostgresCaseStore;
    const q = (over: Record<string, unknown> = {}) => caseQuerySchema.parse(over);

    beforeAll(async () => {
      driver = await makeDriver();
      sql = await driver.open();
      store = new PostgresCaseStore(sql, TEST_DATA_CIPHER);
    });
    afterAll(async () => {
      await sql?.close();
      await driver?.stop();
    });

    it('applies migrations once, in order, and refuses an edited one', async () => {
      expect(await migrate(sql)).toEqual([]);
      const applied = await sql.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(applied.rows.map((r) => Number(r.version))).toEqual(loadMigrations().map((m) => m.version));
      const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'x' } : m));
      await expect(migrate(sql, edited)).rejects.toThrow(/changed after it was applied/);
    });

    it('creates a case once per (merchant, transaction), even concurrently', async () => {
      const f = flagged({ merchantId: 'idem' });
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => store.createFromFlagged(f)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      // The same transaction id at another merchant is another case.
      const other = await store.createFromFlagged({ ...f, merchantId: 'idem-2' });
      expect(other.created).toBe(true);
      const record = await store.getByTransaction('idem', f.transactionId);
      expect(record).toMatchObject({
        status: 'open',
        decision: 'review',
        score: 70,
        card: { bin: '411111', last4: '1111' },
        reasonCodes: ['CARD_HIGH_VELOCITY_1H'],
      });
      expect(record!.transaction.card.masked).toBe('411111******1111');
      expect(JSON.stringify(record)).not.toMatch(/4111111111111111/);
      expect((await store.history(record!.id)).map((e) => e.kind)).toEqual(['created']);
    });

    it('creates a batch in one call: answers in its order, each transaction once, the known ones found', async () => {
      const m = 'batch-m';
      const known = await store.createFromFlagged(flagged({ merchantId: m, transactionId: 'b-known' }));
      const fresh = ['b-1', 'b-2', 'b-3'].map((id, i) => flagged({ merchantId: m, transactionId: id, score: 60 + i }));
      const batch = [fresh[0]!, flagged({ merchantId: m, transactionId: 'b-known' }), fresh[1]!, fresh[0]!, fresh[2]!];
      const before = await store.count();
      const results = await store.createManyFromFlagged(batch);
      expect(results.map((r) => r.created)).toEqual([true, false, true, false, true]);
      expect(results[1]!.id).toBe(known.id);
      // A redelivery inside the batch is the same case as its first copy.
      expect(results[3]!.id).toBe(results[0]!.id);
      expect(new Set(results.map((r) => r.id)).size).toBe(4);
      expect(await store.count()).toBe(before + 3);
      for (const [i, f] of fresh.entries()) {
        const record = await store.getByTransaction(m, f.transactionId);
        expect(record).toMatchObject({ id: results[[0, 2, 4][i]!]!.id, score: 60 + i, status: 'open' });
        expect((await store.history(record!.id)).map((e) => e.kind)).toEqual(['created']);
      }
      expect((await store.history(known.id)).map((e) => e.kind)).toEqual(['created']);
      // Again, whole: nothing new.
      const again = await store.createManyFromFlagged(batch);
      expect(again.map((r) => r.id)).toEqual(results.map((r) => r.id));
      expect(again.every((r) => !r.created)).toBe(true);
      expect(await store.createManyFromFlagged([])).toEqual([]);
    });

    it('lists pending cases by risk then age, with filters and paging', async () => {
      const m = 'queue-m';
      const t0 = Date.now();
      for (const [i, score] of [40, 90, 90, 10].entries()) {
        await store.createFromFlagged(
          flagged({
            merchantId: m,
            score,
            decision: score > 50 ? 'decline' : 'review',
            codes: score > 50 ? ['A_CODE', 'B_CODE'] : ['B_CODE'],
            events: i === 1 ? ['ce_7'] : [],
            flaggedAt: new Date(t0 + i).toISOString(),
          }),
        );
      }
      const all = await store.list(q({ merchant: m }));
      expect(all.total).toBe(4);
      expect(all.items.map((c) => c.score)).toEqual([90, 90, 40, 10]);
      expect(all.items[0]!.createdAt <= all.items[1]!.createdAt).toBe(true);
      expect((await store.list(q({ merchant: m, sort: 'age' }))).items.map((c) => c.score)).toEqual([40, 90, 90, 10]);
      expect((await store.list(q({ merchant: m, decision: 'decline' }))).total).toBe(2);
      expect((await store.list(q({ merchant: m, reasonCode: 'A_CODE' }))).total).toBe(2);
      expect((await store.list(q({ merchant: m, watchlistEvent: 'ce_7' }))).total).toBe(1);
      const today = new Date().toISOString().slice(0, 10);
      expect((await store.list(q({ merchant: m, from: today, to: today }))).total).toBe(4);
      expect((await store.list(q({ merchant: m, to: '2000-01-01' }))).total).toBe(0);
      const page2 = await store.list(q({ merchant: m, pageSize: 3, page: 2 }));
      expect(page2).toMatchObject({ total: 4 });
      expect(page2.items.map((c) => c.score)).toEqual([10]);
      expect((await store.list(q({ merchant: m, assignee: '-' }))).total).toBe(4);
    });

    it('treats injection payloads in every filter as plain values', async () => {
      const before = await store.count();
      for (const payload of INJECTION_PAYLOADS.filter((p) => !p.includes('\u0000'))) {
        for (const field of ['merchant', 'reasonCode', 'watchlistEvent', 'assignee']) {
          const result = await store.list(q({ [field]: payload }));
          expect(result.total).toBe(0);
        }
        for (const field of ['decision', 'status', 'sort', 'from', 'to', 'page', 'pageSize']) {
          expect(caseQuerySchema.safeParse({ [field]: payload }).success).toBe(false);
        }
      }
      expect(await store.count()).toBe(before);
      const tables = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('cases', 'audit_log', 'console_users')`,
      );
      expect(Number(tables.rows[0]!.n)).toBe(3);
    });

    it('takes the next case for one analyst at a time', async () => {
      const m = 'take-m';
      await store.createFromFlagged(flagged({ merchantId: m, score: 99 }));
      await store.createFromFlagged(flagged({ merchantId: m, score: 98 }));
      const [a, b] = await Promise.all([store.takeNext('alice'), store.takeNext('bob')]);
      expect(a && b).toBeTruthy();
      expect(a!.id).not.toBe(b!.id);
      expect([a!.score, b!.score].sort()).toEqual([98, 99]);
      expect(a!.status).toBe('in_review');
      expect(a!.assignee).toBe('alice');
      expect((await store.list(q({ assignee: 'alice' }))).items.map((c) => c.id)).toContain(a!.id);
    });

    it('decides cases: labels for fraud and legitimate, escalation, no second decision', async () => {
      const m = 'decide-m';
      const fraud = await store.createFromFlagged(flagged({ merchantId: m }));
      const legit = await store.createFromFlagged(flagged({ merchantId: m }));
      const esc = await store.createFromFlagged(flagged({ merchantId: m }));
      const r1 = await store.decide(fraud.id, 'mark_fraud', 'alice', 'card holder confirmed');
      expect(r1).toMatchObject({
        label: 'fraud',
        previousStatus: 'open',
        case: { status: 'fraud', decidedBy: 'alice' },
      });
      await expect(store.decide(fraud.id, 'mark_legitimate', 'bob')).rejects.toBeInstanceOf(CaseConflict);
      expect((await store.decide(legit.id, 'mark_legitimate', 'alice')).label).toBe('legitimate');
      const e = await store.decide(esc.id, 'escalate', 'alice');
      expect(e).toMatchObject({ label: null, case: { status: 'escalated' } });
      await expect(store.decide(esc.id, 'escalate', 'alice')).rejects.toBeInstanceOf(CaseConflict);
      // Only a lead decides an escalated case, checked under the row lock (an analyst's page may predate the escalation).
      await expect(store.decide(esc.id, 'mark_legitimate', 'analyst2')).rejects.toBeInstanceOf(CaseForbidden);
      expect((await store.get(esc.id))?.status).toBe('escalated');
      expect(
        (
          await store.decide(esc.id, 'mark_fraud', 'lead1', undefined, {
            mayDecideEscalated: true,
            mayDecideOthers: true,
          })
        ).case.status,
      ).toBe('fraud');
      const labels = (await store.labelledCases()).filter((l) => l.merchantId === m);
      expect(labels.map((l) => [l.caseId, l.label])).toEqual([
        [fraud.id, 'fraud'],
        [legit.id, 'legitimate'],
        [esc.id, 'fraud'],
      ]);
      const history = await store.history(fraud.id);
      expect(history.map((h) => h.kind)).toEqual(['created', 'status', 'note']);
      expect(history[2]!.detail).toEqual({ text: 'card holder confirmed' });
      const unpublished = await store.unpublishedLabels(1000);
      await store.markLabelsPublished(unpublished);
      expect(await store.unpublishedLabels(1000)).toEqual([]);
    });

    it('keeps a label withdrawn while it was being published to publish again, withdrawn (found by a review)', async () => {
      const c = await store.createFromFlagged(flagged({ merchantId: 'withdrawn-in-flight' }));
      await store.decide(c.id, 'mark_fraud', 'alice');
      const read = (await store.unpublishedLabels(1000)).filter((l) => l.caseId === c.id);
      expect(read.map((l) => [l.label, l.withdrawnAt])).toEqual([['fraud', null]]);
      // Reversed while "fraud" is on its way to Kafka: marking what was sent must not mark the withdrawal.
      await store.reverse(c.id, 'lead1', 'wrong card', { leaseMs: 60_000 });
      await store.markLabelsPublished(read);
      const again = (await store.unpublishedLabels(1000)).filter((l) => l.caseId === c.id);
      expect(again).toHaveLength(1);
      expect(again[0]!.withdrawnAt).not.toBeNull();
      await store.markLabelsPublished(again);
      expect((await store.unpublishedLabels(1000)).filter((l) => l.caseId === c.id)).toEqual([]);
    });

    it('decides an assigned case only for its assignee, or with mayDecideOthers (a lead), under the row lock', async () => {
      const c = await store.createFromFlagged(flagged({ merchantId: 'assigned-m' }));
      await store.assign(c.id, 'alice', 'alice');
      for (const action of ['mark_fraud', 'mark_legitimate', 'escalate'] as const)
        await expect(store.decide(c.id, action, 'bob')).rejects.toBeInstanceOf(CaseForbidden);
      expect(await store.get(c.id)).toMatchObject({ status: 'in_review', assignee: 'alice', decidedBy: null });
      expect((await store.decide(c.id, 'escalate', 'alice')).case.status).toBe('escalated');
      const d = await store.decide(c.id, 'mark_fraud', 'lead1', undefined, {
        mayDecideEscalated: true,
        mayDecideOthers: true,
      });
      expect(d.case).toMatchObject({ status: 'fraud', assignee: 'alice', decidedBy: 'lead1' });
    });

    it("hands cases over: a lead assigns to active users only, unassigns, takes escalated cases; a disabled user's cases return", async () => {
      const users = new PostgresUserStore(sql);
      for (const [username, role] of [
        ['ho-ann', 'analyst'],
        ['ho-ben', 'analyst'],
        ['ho-lee', 'lead'],
      ] as const)
        await users.create({ username, role, passwordHash: 'h', totpSecret: 'S' });
      await users.create({ username: 'ho-new', role: 'analyst', passwordHash: '', totpSecret: '' });
      const m = 'handover-m';
      const a = await store.createFromFlagged(flagged({ merchantId: m, score: 10 }));
      const e = await store.createFromFlagged(flagged({ merchantId: m, score: 5 }));
      await store.assign(a.id, 'ho-ann', 'ho-ann');
      await expect(store.assign(a.id, 'ho-ben', 'ho-ann')).rejects.toBeInstanceOf(CaseForbidden);
      for (const who of ['ho-new', 'ho-nobody'])
        await expect(store.assign(a.id, who, 'ho-lee', { lead: true })).rejects.toBeInstanceOf(CaseConflict);
      expect((await store.assign(a.id, 'ho-ben', 'ho-lee', { lead: true })).assignee).toBe('ho-ben');
      expect(await store.unassign(a.id, 'ho-lee')).toMatchObject({ status: 'open', assignee: null });
      await expect(store.unassign(a.id, 'ho-lee')).rejects.toBeInstanceOf(CaseConflict);
      expect((await store.history(a.id)).at(-1)).toMatchObject({
        kind: 'assigned',
        actor: 'ho-lee',
        detail: { assignee: null, from: 'ho-ben' },
      });
      // Escalated (and so assigned to the analyst who escalated it): only a lead's take next offers it, first.
      await store.assign(e.id, 'ho-ann', 'ho-ann');
      await store.decide(e.id, 'escalate', 'ho-ann');
      await store.assign(a.id, 'ho-ann', 'ho-ann');
      expect(await store.releaseAssigned('ho-ann', 'ho-admin')).toEqual([
        expect.objectContaining({ id: a.id, status: 'open', assignee: null }),
        expect.objectContaining({ id: e.id, status: 'escalated', assignee: null }),
      ]);
      expect(await store.releaseAssigned('ho-ann', 'ho-admin')).toEqual([]);
      // Not handed to an analyst, who could not decide it: it waits for a lead's take next.
      await expect(store.assign(e.id, 'ho-ben', 'ho-lee', { lead: true })).rejects.toBeInstanceOf(CaseForbidden);
      expect((await store.get(e.id))!.assignee).toBeNull();
      const offered: number[] = [];
      for (
        let next = await store.takeNext('ho-lee', { lead: true });
        next;
        next = await store.takeNext('ho-lee', { lead: true })
      ) {
        offered.push(next.id);
        if (next.status !== 'escalated') break;
      }
      expect(offered).toContain(e.id);
      expect((await store.get(e.id))!.assignee).toBe('ho-lee');
      // Held by an active lead: not offered again, to that lead or another.
      await users.create({ username: 'ho-lea', role: 'lead', passwordHash: 'h', totpSecret: 'S' });
      for (
        let next = await store.takeNext('ho-lea', { lead: true });
        next;
        next = await store.takeNext('ho-lea', { lead: true })
      ) {
        expect(next.id).not.toBe(e.id);
        if (next.status !== 'escalated') break;
      }
    });

    it('reopens a reversed decision in review for an active assignee only; a disabled or unenrolled one loses it (found by a review)', async () => {
      const users = new PostgresUserStore(sql);
      for (const username of ['rv-amy', 'rv-bo', 'rv-cy'])
        await users.create({ username, role: 'analyst', passwordHash: 'h', totpSecret: 'S' });
      const m = 'reverse-assignee-m';
      const [kept, gone, reset] = [
        await store.createFromFlagged(flagged({ merchantId: m })),
        await store.createFromFlagged(flagged({ merchantId: m })),
        await store.createFromFlagged(flagged({ merchantId: m })),
      ];
      for (const [c, who] of [
        [kept, 'rv-amy'],
        [gone, 'rv-bo'],
        [reset, 'rv-cy'],
      ] as const) {
        await store.assign(c.id, who, who);
        await store.decide(c.id, 'mark_legitimate', who);
      }
      // A disable returns open cases only: the decided one keeps its assignee...
      await users.update('rv-bo', { disabled: true });
      expect(await store.releaseAssigned('rv-bo', 'rv-admin')).toEqual([]);
      expect(await store.get(gone.id)).toMatchObject({ status: 'legitimate', assignee: 'rv-bo' });
      // ...and a reset leaves an enrolment pending (no password: nobody signs in as rv-cy).
      await users.issueEnrolment('rv-cy', 'code-hash', 60_000);

      const stays = await store.reverse(kept.id, 'rv-lead', 'mis-click');
      expect(stays.case).toMatchObject({ status: 'in_review', assignee: 'rv-amy' });
      expect(stays.returnedFrom).toBeUndefined();
      for (const [c, who] of [
        [gone, 'rv-bo'],
        [reset, 'rv-cy'],
      ] as const) {
        const reversed = await store.reverse(c.id, 'rv-lead', 'mis-click');
        expect(reversed.case, who).toMatchObject({ status: 'open', assignee: null, decidedBy: null });
        expect(reversed.returnedFrom).toBe(who);
        expect(await store.get(c.id)).toMatchObject({ status: 'open', assignee: null });
        expect((await store.history(c.id)).slice(-3)).toEqual([
          expect.objectContaining({ kind: 'status', detail: { from: 'legitimate', to: 'open', reversed: true } }),
          expect.objectContaining({ kind: 'assigned', actor: 'rv-lead', detail: { assignee: null, from: who } }),
          expect.objectContaining({ kind: 'note', detail: { text: 'Decision reversed: mis-click' } }),
        ]);
        // Back in the queue: another analyst may take it.
        expect((await store.assign(c.id, 'rv-amy', 'rv-amy')).assignee).toBe('rv-amy');
      }
    });

    it('stores notes as data and links cases by card, device, IP, email and address', async () => {
      const a = await store.createFromFlagged(
        flagged({ merchantId: 'link-1', fingerprint: 'fp-shared', device: 'dev-1', email: 'em-1' }),
      );
      const b = await store.createFromFlagged(
        flagged({ merchantId: 'link-2', fingerprint: 'fp-shared', device: 'dev-2' }),
      );
      const c = await store.createFromFlagged(
        flagged({ merchantId: 'link-3', device: 'dev-1', email: 'em-1', ip: 'ip-9' }),
      );
      await store.createFromFlagged(flagged({ merchantId: 'link-4', ip: 'ip-9' }));
      const linked = await store.linked(a.id);
      // The same card first, however old: then device, email, IP, address.
      expect(linked.cases.map((l) => [l.id, l.via.sort()])).toEqual([
        [b.id, ['card']],
        [c.id, ['device', 'email']],
      ]);
      expect(linked.total).toBe(2);
      const note = await store.addNote(a.id, 'alice', "<script>alert(1)</script>'; DROP TABLE cases; --");
      expect(note.detail.text).toBe("<script>alert(1)</script>'; DROP TABLE cases; --");
      await expect(store.addNote(999_999, 'alice', 'x')).rejects.toThrow(/not found/);
    });

    it("links cases through each other's aliases (a key rotation, an address's previous normalisation), both ways", async () => {
      // Made before a rotation, and before the address normalisation: its identities then.
      const before = await store.createFromFlagged(
        flagged({ merchantId: 'alias', fingerprint: 'fp-k0', device: 'dev-k0', shipping: 'ship-legacy-k0' }),
      );
      // The same card, device and address after both: new identities, the old ones as aliases.
      const after = await store.createFromFlagged({
        ...flagged({ merchantId: 'alias', fingerprint: 'fp-k1', device: 'dev-k1', shipping: 'ship-k1' }),
        linkAliases: ['card:fp-k0', 'device:dev-k0', 'shipping:ship-k0', 'shipping:ship-legacy-k0'],
      });
      // Another case of the rotation's window: it shares only an alias with `after`.
      const during = await store.createFromFlagged({
        ...flagged({ merchantId: 'alias', fingerprint: 'fp-other-k1' }),
        linkAliases: ['card:fp-k0'],
      });
      // An identity of one kind never links as another.
      await store.createFromFlagged(flagged({ merchantId: 'alias', device: 'fp-k0', ip: 'ship-k1' }));
      const fromAfter = await store.linked(after.id);
      expect(fromAfter.cases.map((l) => [l.id, l.via.sort()])).toEqual([
        [during.id, ['card']],
        [before.id, ['card', 'device', 'shipping']],
      ]);
      const fromBefore = await store.linked(before.id);
      expect(fromBefore.cases.map((l) => [l.id, l.via.sort()])).toEqual([
        [during.id, ['card']],
        [after.id, ['card', 'device', 'shipping']],
      ]);
      expect(fromBefore.total).toBe(2);
    });

    it("ranks linked cases by link strength, so a shared address cannot hide the card's own, and counts them all", async () => {
      const me = await store.createFromFlagged(
        flagged({ merchantId: 'rank', fingerprint: 'fp-rank', device: 'dev-rank', shipping: 'ship-reshipper' }),
      );
      const sameCard = await store.createFromFlagged(flagged({ merchantId: 'rank', fingerprint: 'fp-rank' }));
      const sameDevice = await store.createFromFlagged(flagged({ merchantId: 'rank', device: 'dev-rank' }));
      // A reshipper's address, newer than both, shared by many cases.
      const reshipped = [];
      for (let i = 0; i < 6; i++)
        reshipped.push((await store.createFromFlagged(flagged({ merchantId: 'rank', shipping: 'ship-reshipper' }))).id);
      const linked = await store.linked(me.id, 4);
      expect(linked.total).toBe(8);
      expect(linked.cases.map((l) => l.id)).toEqual([sameCard.id, sameDevice.id, reshipped[5], reshipped[4]]);
    });

    it("takes next within the queue's filters, an analyst's and a lead's", async () => {
      const low = await store.createFromFlagged(flagged({ merchantId: 'tn-f1', score: 11 }));
      const esc = await store.createFromFlagged(flagged({ merchantId: 'tn-f2', score: 12 }));
      await store.decide(esc.id, 'escalate', 'alice');
      await store.createFromFlagged(flagged({ merchantId: 'tn-f3', score: 99 }));
      expect((await store.takeNext('tn-ann', { filters: { merchant: 'tn-f1' } }))?.id).toBe(low.id);
      expect(await store.takeNext('tn-ann', { filters: { merchant: 'tn-f1' } })).toBeUndefined();
      expect((await store.takeNext('tn-lee', { lead: true, filters: { merchant: 'tn-f2' } }))?.id).toBe(esc.id);
      expect(
        await store.takeNext('tn-lee', { lead: true, filters: { merchant: 'tn-f2', from: '2000-01-01' } }),
      ).toBeUndefined();
    });

    it('computes dashboard statistics', async () => {
      await store.createFromFlagged(
        flagged({ merchantId: 'stats', score: 95, codes: ['LEAKED_CARD'], events: ['ce_1', 'ce_2'] }),
      );
      const s = await store.stats(30);
      expect(s.flaggedByDay.length).toBeGreaterThan(0);
      expect(s.scoreBuckets.find((b) => b.bucket === 9)!.count).toBeGreaterThan(0);
      expect(s.eventHits.map((e) => e.eventId)).toEqual(expect.arrayContaining(['ce_1', 'ce_2']));
      expect(s.topReasons.map((r) => r.code)).toContain('LEAKED_CARD');
      expect(s.decisionsByDay.map((d) => d.label)).toEqual(
        expect.arrayContaining(['fraud', 'legitimate', 'escalated']),
      );
    });

    it('does not count a decision a lead reversed in the decisions per day, and counts the reversal', async () => {
      const count = async (label: string) =>
        (await store.stats(30)).decisionsByDay.filter((d) => d.label === label).reduce((n, d) => n + d.count, 0);
      const before = {
        fraud: await count('fraud'),
        legitimate: await count('legitimate'),
        reversed: await count('reversed'),
      };
      const kept = await store.createFromFlagged(flagged({ merchantId: 'stats-rev' }));
      const wrong = await store.createFromFlagged(flagged({ merchantId: 'stats-rev' }));
      await store.decide(kept.id, 'mark_fraud', 'alice');
      await store.decide(wrong.id, 'mark_fraud', 'alice');
      await store.reverse(wrong.id, 'lead-1', 'mis-click');
      expect(await count('fraud')).toBe(before.fraud + 1);
      expect(await count('reversed')).toBe(before.reversed + 1);
      // Decided anew, reversed again, decided a third time: only the decision in force counts.
      await store.decide(wrong.id, 'mark_legitimate', 'alice');
      await store.reverse(wrong.id, 'lead-1', 'still wrong');
      await store.decide(wrong.id, 'mark_fraud', 'alice');
      expect(await count('fraud')).toBe(before.fraud + 2);
      expect(await count('legitimate')).toBe(before.legitimate);
      expect(await count('reversed')).toBe(before.reversed + 2);
    });

    it('chains the audit log, refuses updates and finds the first tampered entry', async () => {
      const audit = new PostgresAuditLog(sql);
      for (let i = 0; i < 5; i++)
        await audit.append({
          actor: 'alice',
          action: 'case_view',
          target: `case:${i}`,
          detail: { i, nested: { b: 1, a: [1, 'x'] } },
        });
      expect(await audit.verify()).toEqual({ ok: true, checked: 5 });
      await expect(sql.query(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`)).rejects.toThrow(/append-only/);
      await expect(sql.query('DELETE FROM audit_log WHERE seq = 2')).rejects.toThrow(/append-only/);
      // An attacker with owner rights disables the guard and edits entry 3.
      await sql.exec(
        `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; UPDATE audit_log SET detail = '{"i": 99}' WHERE seq = 3; ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;`,
      );
      expect(await audit.verify()).toMatchObject({ ok: false, brokenAt: 3, reason: expect.stringMatching(/changed/) });
      expect((await audit.list({ limit: 2 })).map((e) => e.seq)).toEqual([5, 4]);
    });

    it('stores users, locks after repeated failures, refuses TOTP replay and expires idle sessions', async () => {
      const users = new PostgresUserStore(sql);
      await users.create({ username: 'carol', role: 'analyst', passwordHash: 'h', totpSecret: 'S' });
      await expect(
        users.create({ username: 'carol', role: 'admin', passwordHash: 'h', totpSecret: 'S' }),
      ).rejects.toBeInstanceOf(UserExists);
      for (let i = 1; i < 10; i++)
        expect(await users.recordFailure('carol', '10.0.0.1', 10, 30 * 60_000)).toEqual({ locked: false, attempts: i });
      expect(await users.recordFailure('carol', '10.0.0.1', 10, 30 * 60_000)).toEqual({ locked: true, attempts: 10 });
      const locked = await users.find('carol');
      expect(Date.parse(locked!.lockedUntil!) - Date.now()).toBeGreaterThan(29 * 60_000);
      // Locked for the failing address only.
      expect(Date.parse((await users.loginLock('carol', '10.0.0.1'))!) - Date.now()).toBeGreaterThan(29 * 60_000);
      expect(await users.loginLock('carol', '10.0.0.2')).toBeNull();
      expect(await users.recordFailure('carol', '10.0.0.2', 10, 30 * 60_000)).toEqual({ locked: false, attempts: 1 });
      expect((await users.find('carol'))!.failedAttempts).toBe(11);
      expect(await users.recordFailure('nobody', '10.0.0.2', 10, 30 * 60_000)).toEqual({ locked: false, attempts: 0 });
      expect(await users.recordSuccess('carol', 100, '10.0.0.2')).toBe('ok');
      expect(await users.recordSuccess('carol', 100, '10.0.0.2')).toBe('reused');
      expect((await users.find('carol'))!.failedAttempts).toBe(10);
      await users.update('carol', { unlock: true });
      expect(await users.loginLock('carol', '10.0.0.1')).toBeNull();
      expect((await users.find('carol'))!).toMatchObject({ failedAttempts: 0, lockedUntil: null });
      await users.createSession('tok', 'carol', 'csrf');
      const DAY = 86_400_000;
      expect(await users.touchSession('tok', 60_000, DAY)).toEqual({
        username: 'carol',
        role: 'analyst',
        csrfToken: 'csrf',
      });
      await users.createSession('tok-old', 'carol', 'csrf');
      await new Promise((r) => setTimeout(r, 30));
      expect(await users.touchSession('tok', 10, DAY)).toBe('expired');
      expect(await users.touchSession('tok', 60_000, DAY)).toBeUndefined();
      // Active (seen within the idle timeout) but older than its lifetime: ended, and removed.
      expect(await users.touchSession('tok-old', 60_000, 10)).toBe('max_age');
      expect(await users.touchSession('tok-old', 60_000, DAY)).toBeUndefined();
      await users.createSession('tok2', 'carol', 'csrf');
      await users.update('carol', { disabled: true });
      expect(await users.touchSession('tok2', 60_000, DAY)).not.toMatchObject({ username: 'carol' });
    });

    it('refuses a right code while the second factor is locked, and a session for credentials changed since they were checked (found by a review)', async () => {
      const users = new PostgresUserStore(sql);
      await users.create({ username: 'fay', role: 'admin', passwordHash: 'h1', totpSecret: 'S' });
      // Ten wrong codes lock the second factor: a right one checked meanwhile records nothing.
      for (let i = 0; i < 10; i++) await users.recordCodeFailure('fay', 10, 60_000);
      expect(await users.recordSuccess('fay', 50, '10.0.0.1')).toBe('locked');
      expect((await users.find('fay'))!.lastTotpStep).toBe(0);
      await users.update('fay', { unlock: true });
      expect(await users.recordSuccess('fay', 50, '10.0.0.1')).toBe('ok');
      // A sign-in checked password h1; the account was reset, or its password changed, or it was
      // disabled before the session was made: none is made.
      expect(await users.createSession('fay-1', 'fay', 'csrf', { passwordHash: 'h1' })).toBe(true);
      await users.update('fay', { passwordHash: 'h2' });
      expect(await users.createSession('fay-2', 'fay', 'csrf', { passwordHash: 'h1' })).toBe(false);
      expect(await users.touchSession('fay-2', 60_000, 86_400_000)).toBeUndefined();
      await users.issueEnrolment('fay', 'enrol', 60_000);
      expect(await users.createSession('fay-3', 'fay', 'csrf', { passwordHash: 'h2' })).toBe(false);
      await users.update('fay', { passwordHash: 'h3' });
      await users.update('fay', { disabled: true });
      expect(await users.createSession('fay-4', 'fay', 'csrf', { passwordHash: 'h3' })).toBe(false);
      expect(await users.createSession('fay-5', 'nobody', 'csrf')).toBe(false);
    });

    it('keeps an admin who can sign in: a pending enrolment does not count, and of two admins demoting each other one is refused (found by a review)', async () => {
      const users = new PostgresUserStore(sql);
      for (const u of await users.list())
        if (u.role === 'admin' && !u.disabled) await users.update(u.username, { disabled: true });
      await users.create({ username: 'la-ann', role: 'admin', passwordHash: 'h', totpSecret: 'S' });
      // Created by an admin, never enrolled (its code lost or expired): nobody signs in as it.
      await users.create({ username: 'la-pen', role: 'admin', passwordHash: '', totpSecret: '' });
      expect(await users.countAdmins()).toBe(1);
      expect(await users.updateKeepingAnAdmin('la-ann', { role: 'lead' })).toBe('last_admin');
      expect(await users.updateKeepingAnAdmin('la-ann', { disabled: true })).toBe('last_admin');
      expect(await users.find('la-ann')).toMatchObject({ role: 'admin', disabled: false });
      // The pending one takes no admin away; nor does a change that keeps the role.
      expect(await users.updateKeepingAnAdmin('la-pen', { role: 'analyst' })).toMatchObject({ role: 'analyst' });
      expect(await users.updateKeepingAnAdmin('la-ann', { role: 'admin' })).toMatchObject({ role: 'admin' });
      expect(await users.updateKeepingAnAdmin('la-nobody', { role: 'lead' })).toBeUndefined();
      // Two admins demoting (or disabling) each other at once: the count is taken under the admins'
      // row locks in the change's transaction, so the second sees the first's change and is refused.
      for (const [a, b] of [
        ['la-bob', 'la-cat'],
        ['la-dan', 'la-eve'],
      ]) {
        for (const username of [a!, b!])
          await users.create({ username, role: 'admin', passwordHash: 'h', totpSecret: 'S' });
        expect(await users.countAdmins()).toBe(3);
        const both = await Promise.all([
          users.updateKeepingAnAdmin(a!, { role: 'analyst' }),
          users.updateKeepingAnAdmin(b!, { disabled: true }),
          users.updateKeepingAnAdmin('la-ann', { role: 'lead' }),
        ]);
        expect(both.filter((r) => r === 'last_admin')).toHaveLength(1);
        expect(await users.countAdmins()).toBe(1);
        // Back to one admin, la-ann, for the next round.
        for (const username of [a!, b!]) await users.update(username, { disabled: true });
        await users.update('la-ann', { role: 'admin', disabled: false });
      }
    });

    it("keeps a session's draft for pages that read it again, until it is replaced or cleared", async () => {
      const users = new PostgresUserStore(sql);
      await users.create({ username: 'dora', role: 'analyst', passwordHash: 'h', totpSecret: 'S' });
      await users.createSession('dora-tok', 'dora', 'csrf');
      expect(await users.readSessionDraft('dora-tok')).toBeUndefined();
      await users.keepSessionDraft('dora-tok', { caseId: 1, note: 'a' });
      expect(await users.readSessionDraft('dora-tok')).toEqual({ caseId: 1, note: 'a' });
      expect(await users.readSessionDraft('dora-tok')).toEqual({ caseId: 1, note: 'a' });
      await users.keepSessionDraft('dora-tok', { caseId: 2, note: 'b' });
      expect(await users.takeSessionDraft('dora-tok')).toEqual({ caseId: 2, note: 'b' });
      await users.keepSessionDraft('dora-tok', { caseId: 3, note: 'c' });
      await users.keepSessionDraft('dora-tok', null);
      await users.keepSessionDraft('dora-tok', null);
      expect(await users.readSessionDraft('dora-tok')).toBeUndefined();
      expect(await users.readSessionDraft('no-such-token')).toBeUndefined();
    });

    it('issues an enrolment that voids the credentials and is used once, even by two requests at a time', async () => {
      const users = new PostgresUserStore(sql);
      await users.create({ username: 'erin', role: 'analyst', passwordHash: 'h', totpSecret: 'S' });
      await users.recordFailure('erin', '10.0.0.1', 1, 60_000);
      await users.createSession('erin-tok', 'erin', 'csrf');
      const issued = await users.issueEnrolment('erin', 'hash-1', 60_000);
      expect(issued).toMatchObject({ enrolmentPending: true, lockedUntil: null, failedAttempts: 0 });
      expect(Date.parse(issued!.enrolmentExpiresAt!) - Date.now()).toBeGreaterThan(50_000);
      expect(await users.find('erin')).toMatchObject({ passwordHash: '', totpSecret: '', enrolmentHash: 'hash-1' });
      expect(await users.issueEnrolment('nobody', 'hash-x', 60_000)).toBeUndefined();
      const change = { passwordHash: 'mine', totpSecret: 'MINE', totpStep: 7 };
      expect(await users.completeEnrolment('erin', 'hash-other', change)).toBe(false);
      const both = await Promise.all([
        users.completeEnrolment('erin', 'hash-1', change),
        users.completeEnrolment('erin', 'hash-1', { ...change, passwordHash: 'theirs' }),
      ]);
      expect(both.filter(Boolean)).toHaveLength(1);
      const done = (await users.find('erin'))!;
      expect(done).toMatchObject({
        enrolmentPending: false,
        enrolmentHash: null,
        enrolmentExpiresAt: null,
        lastTotpStep: 7,
      });
      expect(['mine', 'theirs']).toContain(done.passwordHash);
      // The step that confirmed the authenticator does not sign in again.
      expect(await users.recordSuccess('erin', 7, '10.0.0.1')).toBe('reused');
      // Expired, or the account disabled meanwhile: not used.
      await users.issueEnrolment('erin', 'hash-2', 1);
      await new Promise((r) => setTimeout(r, 20));
      expect((await users.find('erin'))!.enrolmentExpiresAt).toBeNull();
      expect(await users.completeEnrolment('erin', 'hash-2', change)).toBe(false);
      await users.issueEnrolment('erin', 'hash-3', 60_000);
      await users.update('erin', { disabled: true });
      expect(await users.completeEnrolment('erin', 'hash-3', change)).toBe(false);
      // A password set from outside (npm start's demo analyst) ends a pending enrolment.
      await users.update('erin', { passwordHash: 'demo', totpSecret: 'DEMO', disabled: false });
      expect(await users.find('erin')).toMatchObject({ enrolmentPending: false, enrolmentHash: null });
      expect(await users.completeEnrolment('erin', 'hash-3', change)).toBe(false);
    });

    it('carries API key changes into the audit log once, with who made them and never the key hash', async () => {
      const audit = new PostgresAuditLog(sql);
      const keys = new FileApiKeyStore(join(mkdtempSync(join(tmpdir(), 'lg-keys-')), 'api-keys.json'));
      const { record } = await createApiKey(keys, {
        role: 'merchant',
        merchantId: 'shop-a',
        label: 'checkout',
        actor: 'cli:ops',
      });
      await createApiKey(keys, { role: 'admin' });
      expect(await auditKeyChanges(keys, audit)).toBe(2);
      expect(await auditKeyChanges(keys, audit)).toBe(0);
      await keys.revoke(record.id, new Date().toISOString(), 'cli:ops2');
      // Two engines catching up at once still append the revocation once.
      expect(
        (await Promise.all([auditKeyChanges(keys, audit), auditKeyChanges(keys, audit)])).reduce((a, b) => a + b),
      ).toBe(1);
      const entries = (await audit.list({ limit: 10 })).filter((e) => e.action.startsWith('key_'));
      expect(entries.map((e) => [e.action, e.actor])).toEqual([
        ['key_revoke', 'cli:ops2'],
        ['key_create', 'unknown'],
        ['key_create', 'cli:ops'],
      ]);
      expect(entries[2]).toMatchObject({
        target: record.id,
        detail: { role: 'merchant', merchantId: 'shop-a', label: 'checkout', at: record.createdAt },
      });
      expect(JSON.stringify(entries)).not.toContain(record.hash);
    });
  });
}
