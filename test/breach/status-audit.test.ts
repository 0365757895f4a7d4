// An admin's close or retract of Leakguard's own events through the API (POST
// /v1/compromise-events/:id/close, /retract) is in the audit log as the console's reviews are: who
// (the key's id and label), what (closed, retracted), which event, in the same hash chain. Without
// an audit log to write to (the case database not open) the change is refused, not made unaudited.
// An issuer's own events are not breach discovery's: their changes are not audited here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { chainHash, GENESIS_HASH } from '../../services/cases/audit.ts';
import { CPP_ISSUER, CPP_SOURCE, type CompromiseEvent } from '../../services/core/watchlist.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
let bare: TestApp;

async function suspected(app: TestApp, merchantId: string): Promise<CompromiseEvent> {
  const store = app.runtime.watchlist;
  const { event } = await store.createEvent(
    {
      externalId: `cpp:${merchantId}`,
      source: CPP_SOURCE,
      description: 'test',
      exposureStart: '2026-10-01T00:00:00Z',
      exposureEnd: '2026-11-01T00:00:00Z',
      discoveredAt: '2026-11-20T06:00:00Z',
      dataElements: ['pan'],
      confidence: 'suspected',
    },
    CPP_ISSUER,
    new Date(),
  );
  return (await store.updateEvent(
    event.seq,
    {
      evidence: {
        merchantId,
        fraudCards: 12,
        weightedFraudCards: 12,
        expected: 0.4,
        log10PValue: -12,
        exposedCards: 3,
        exposedByBin: { '411111': 3 },
        firstFrauds: [Date.parse('2026-11-05T00:00:00Z')],
        scannedAt: '2026-11-20T06:00:00Z',
      },
    },
    new Date(),
  ))!;
}

const post = (app: TestApp, key: string, url: string) => app.app.inject({ method: 'POST', url, headers: bearer(key) });

beforeAll(async () => {
  [t, bare] = await Promise.all([
    buildTestApp({ LEAKGUARD_CPP: 'on', LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true }),
    buildTestApp({ LEAKGUARD_CPP: 'on' }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.allSettled([t?.close(), bare?.close()]);
});

describe("an admin's status change of a suspected breach through the API", () => {
  it('is audited: closed, then retracted, each with the key, the event and the merchant, in the chain', async () => {
    const { key, record } = await createApiKey(t.runtime.apiKeys, { role: 'admin', label: 'ops desk' });
    const keyId = record.id;
    const event = await suspected(t, 'audited-shop');
    const audit = t.runtime.cases!.audit;

    const closed = await post(t, key, `/v1/compromise-events/${event.id}/close`);
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json()).toMatchObject({ id: event.id, status: 'closed' });
    const retracted = await post(t, key, `/v1/compromise-events/${event.id}/retract`);
    expect(retracted.statusCode, retracted.body).toBe(200);

    const entries = (await audit.list({ limit: 10, action: 'breach_status' })).filter(
      (e) => e.target === `event:${event.id}`,
    );
    // Newest first.
    expect(entries.map((e) => e.detail.status)).toEqual(['retracted', 'closed']);
    for (const e of entries)
      expect(e).toMatchObject({
        actor: `api-key:${keyId}`,
        action: 'breach_status',
        target: `event:${event.id}`,
        detail: { merchantId: 'audited-shop', keyLabel: 'ops desk' },
      });
    expect(entries[1]!.detail.from).toBe('open');
    expect(entries[0]!.detail.from).toBe('closed');
    // The same tamper evidence as every entry: linked into the hash chain, which still verifies.
    for (const e of entries) {
      expect(e.hash).toBe(chainHash(e.prevHash, e));
      const [previous] = await audit.list({ beforeSeq: e.seq, limit: 1 });
      expect(e.prevHash).toBe(previous?.hash ?? GENESIS_HASH);
    }
    expect((await audit.verify()).ok).toBe(true);
  });

  it("leaves an issuer's own events to the issuer: a close of one is not a breach_status entry", async () => {
    const { event } = await t.runtime.watchlist.createEvent(
      {
        externalId: 'bank-breach-audit',
        source: 'network alert',
        description: '',
        exposureStart: '2026-10-01T00:00:00Z',
        exposureEnd: '2026-11-01T00:00:00Z',
        discoveredAt: '2026-11-20T06:00:00Z',
        dataElements: ['pan'],
        confidence: 'confirmed',
      },
      'i1',
      new Date(),
    );
    const res = await post(t, t.keys.admin, `/v1/compromise-events/${event.id}/close`);
    expect(res.statusCode, res.body).toBe(200);
    const entries = await t.runtime.cases!.audit.list({ limit: 100, action: 'breach_status' });
    expect(entries.map((e) => e.target)).not.toContain(`event:${event.id}`);
  });

  it('is refused (503, the event unchanged) while there is no audit log to write it to', async () => {
    expect(bare.runtime.cases).toBeUndefined();
    const event = await suspected(bare, 'unaudited-shop');
    for (const action of ['close', 'retract']) {
      const res = await post(bare, bare.keys.admin, `/v1/compromise-events/${event.id}/${action}`);
      expect(res.statusCode, action).toBe(503);
      expect(res.json().code).toBe('UNAVAILABLE');
      expect((await bare.runtime.watchlist.getEvent(event.seq))!.status).toBe('open');
    }
  });
});
