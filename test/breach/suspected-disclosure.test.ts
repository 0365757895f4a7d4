// An issuer learns which merchant breach discovery suspects only once an analyst confirmed the
// suspicion: GET /v1/issuer/suspected-events lists an unreviewed event with its id, window, state
// and the exposed cards of the issuer's BINs, and nothing that names the merchant (no merchantId;
// the description and externalId, which do, are not in the answer). Confirmed, it names the
// merchant. Admins see everything throughout. (The compromise.suspected webhook's payload follows
// the same rule: test/webhooks/dispatcher.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPP_ISSUER, CPP_SOURCE, type CompromiseEvent } from '../../services/core/watchlist.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';
import { listCards } from '../support/issuer-api.ts';

const MERCHANT = 'quiet-shop-4217';
let t: TestApp;
let event: CompromiseEvent;

beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_CPP: 'on' });
  const store = t.runtime.watchlist;
  await store.setBinRanges('i1', [{ from: '411111', to: '411199' }]);
  const now = new Date('2026-11-20T06:00:00Z');
  ({ event } = await store.createEvent(
    {
      externalId: `cpp:${MERCHANT}`,
      source: CPP_SOURCE,
      description: `12 cards that later turned fraudulent were used at merchant ${MERCHANT} before their first fraud`,
      exposureStart: '2026-10-01T00:00:00.000Z',
      exposureEnd: '2026-11-01T00:00:00.000Z',
      discoveredAt: now.toISOString(),
      dataElements: ['pan'],
      confidence: 'suspected',
    },
    CPP_ISSUER,
    now,
  ));
  event = (await store.updateEvent(
    event.seq,
    {
      evidence: {
        merchantId: MERCHANT,
        fraudCards: 12,
        weightedFraudCards: 10,
        expected: 0.5,
        log10PValue: -12,
        exposedCards: 70,
        exposedByBin: { '411111': 40, '555555': 30 },
        firstFrauds: [],
        scannedAt: now.toISOString(),
      },
    },
    now,
  ))!;
});
afterAll(() => t.close());

const issuerView = () =>
  t.app.inject({ method: 'GET', url: '/v1/issuer/suspected-events', headers: bearer(t.keys.issuer) });
const adminView = async () =>
  (
    await t.app.inject({ method: 'GET', url: `/v1/compromise-events/${event.id}`, headers: bearer(t.keys.admin) })
  ).json() as CompromiseEvent;

describe('the suspected merchant, as issuers see it', () => {
  it('is not named while the suspicion is unreviewed: the event is listed without it', async () => {
    const res = await issuerView();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().events).toEqual([
      {
        id: event.id,
        status: 'open',
        confidence: 'suspected',
        exposureStart: '2026-10-01T00:00:00.000Z',
        exposureEnd: '2026-11-01T00:00:00.000Z',
        discoveredAt: '2026-11-20T06:00:00.000Z',
        exposedCards: 40,
      },
    ]);
    // Nowhere in the answer: no field carries it (description, externalId, evidence are not there).
    expect(res.body).not.toContain(MERCHANT);
    // Admins see everything.
    const admin = await adminView();
    expect(admin).toMatchObject({ externalId: `cpp:${MERCHANT}`, evidence: { merchantId: MERCHANT } });
  });

  it('is not named after an admin closed the event unreviewed, nor after an analyst dismissed it', async () => {
    const store = t.runtime.watchlist;
    const { event: other } = await store.createEvent(
      {
        externalId: 'cpp:dismissed-shop-99',
        source: CPP_SOURCE,
        description: 'dismissed-shop-99',
        exposureStart: '2026-10-01T00:00:00.000Z',
        exposureEnd: '2026-11-01T00:00:00.000Z',
        discoveredAt: '2026-11-20T06:00:00.000Z',
        dataElements: ['pan'],
        confidence: 'suspected',
      },
      CPP_ISSUER,
      new Date(),
    );
    await store.updateEvent(
      other.seq,
      { evidence: { ...event.evidence!, merchantId: 'dismissed-shop-99' }, status: 'closed' },
      new Date(),
    );
    const closed = await issuerView();
    expect(closed.json().events.map((e: { id: string }) => e.id)).toContain(other.id);
    expect(closed.body).not.toContain('dismissed-shop-99');
    await store.updateEvent(
      other.seq,
      (current) => ({
        evidence: {
          ...current.evidence!,
          review: { decision: 'dismissed', by: 'lead-1', at: new Date().toISOString() },
        },
      }),
      new Date(),
    );
    expect((await issuerView()).body).not.toContain('dismissed-shop-99');
  });

  it('is named once an analyst confirmed the event', async () => {
    // What the console's confirmation writes (services/console/plugins/breaches.ts).
    await t.runtime.watchlist.updateEvent(
      event.seq,
      (current) => ({
        evidence: {
          ...current.evidence!,
          review: { decision: 'confirmed', by: 'lead-1', at: new Date().toISOString() },
        },
        confidence: 'confirmed',
      }),
      new Date(),
    );
    const res = await issuerView();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().events).toContainEqual(
      expect.objectContaining({ id: event.id, merchantId: MERCHANT, confidence: 'confirmed', exposedCards: 40 }),
    );
    expect((await adminView()).evidence).toMatchObject({ merchantId: MERCHANT, review: { decision: 'confirmed' } });
  });
});

describe("a suspected breach's window, as issuers see it", () => {
  it("is whole UTC days while unreviewed (its ends are fraudulent cards' visits: an instant names the merchant), exact once confirmed", async () => {
    const store = t.runtime.watchlist;
    const shop = 'window-shop-31';
    const [exposureStart, exposureEnd] = ['2026-10-03T09:12:34.567Z', '2026-10-05T17:45:01.250Z'];
    const { event: suspicion } = await store.createEvent(
      {
        externalId: `cpp:${shop}`,
        source: CPP_SOURCE,
        description: `cards used at merchant ${shop} before their first fraud`,
        exposureStart,
        exposureEnd,
        discoveredAt: '2026-11-20T06:00:00.000Z',
        dataElements: ['pan'],
        confidence: 'suspected',
      },
      CPP_ISSUER,
      new Date(),
    );
    await store.updateEvent(suspicion.seq, { evidence: { ...event.evidence!, merchantId: shop } }, new Date());
    const seen = async () =>
      ((await issuerView()).json().events as { id: string }[]).find((e) => e.id === suspicion.id);
    expect(await seen()).toMatchObject({
      exposureStart: '2026-10-03T00:00:00.000Z',
      exposureEnd: '2026-10-06T00:00:00.000Z',
    });
    // Admins see it as it is.
    const admin = await t.app.inject({
      method: 'GET',
      url: `/v1/compromise-events/${suspicion.id}`,
      headers: bearer(t.keys.admin),
    });
    expect(admin.json()).toMatchObject({ exposureStart, exposureEnd });
    await store.updateEvent(
      suspicion.seq,
      (current) => ({
        evidence: {
          ...current.evidence!,
          review: { decision: 'confirmed', by: 'lead-1', at: new Date().toISOString() },
        },
        confidence: 'confirmed',
      }),
      new Date(),
    );
    expect(await seen()).toMatchObject({ merchantId: shop, exposureStart, exposureEnd });
  });
});

describe("an issuer's own cards on a suspected breach (POST /v1/cards/lookup)", () => {
  it('are shown listed by the suspicion once an analyst confirmed it, not before', async () => {
    const store = t.runtime.watchlist;
    const shop = 'lookup-shop-5150';
    const { event: suspicion } = await store.createEvent(
      {
        externalId: `cpp:${shop}`,
        source: CPP_SOURCE,
        description: `cards used at merchant ${shop} before their first fraud`,
        exposureStart: '2026-10-01T00:00:00.000Z',
        exposureEnd: '2026-11-01T00:00:00.000Z',
        discoveredAt: '2026-11-20T06:00:00.000Z',
        dataElements: ['pan', 'expiry', 'cvv'],
        confidence: 'suspected',
      },
      CPP_ISSUER,
      new Date(),
    );
    await store.updateEvent(suspicion.seq, { evidence: { ...event.evidence!, merchantId: shop } }, new Date());
    const own = luhnComplete('411111000012345');
    const othersCard = luhnComplete('555555000012345');
    expect(await listCards(t, suspicion.id, `${own}\n${othersCard}`)).toMatchObject({ accepted: 2, rejected: 0 });
    const lookup = async (cards: unknown) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/cards/lookup',
        headers: bearer(t.keys.issuer),
        payload: { cards },
      });
      expect(res.statusCode, res.body).toBe(200);
      return res;
    };

    // Unreviewed: not shown (a few of the issuer's cards listed by one event would name its merchant).
    const unreviewed = await lookup([{ pan: own }]);
    expect(unreviewed.json().cards[0]).toMatchObject({ listed: false, events: [], leakedElements: [] });
    expect(unreviewed.body).not.toContain(shop);
    const fingerprint = unreviewed.json().cards[0].fingerprint;

    await store.updateEvent(
      suspicion.seq,
      (current) => ({
        evidence: {
          ...current.evidence!,
          review: { decision: 'confirmed', by: 'lead-1', at: new Date().toISOString() },
        },
        confidence: 'confirmed',
      }),
      new Date(),
    );
    const confirmed = await lookup([{ pan: own }]);
    expect(confirmed.json().cards[0]).toMatchObject({
      listed: true,
      leakedElements: ['pan', 'expiry', 'cvv'],
      events: [
        {
          id: suspicion.id,
          externalId: `cpp:${shop}`,
          issuerId: CPP_ISSUER,
          source: CPP_SOURCE,
          confidence: 'confirmed',
        },
      ],
    });
    // A fingerprint proves no ownership: the suspicion is not shown by it; nor another issuer's card.
    const [byFingerprint] = (await lookup([{ fingerprint }])).json().cards;
    expect(byFingerprint).toMatchObject({ listed: false, events: [] });
    expect((await lookup([{ pan: othersCard }])).json().cards[0]).toMatchObject({
      listed: false,
      refused: expect.stringMatching(/^BIN_NOT_OWNED/),
    });
    // An admin sees it, external id included.
    const admin = await t.app.inject({
      method: 'POST',
      url: '/v1/cards/lookup',
      headers: bearer(t.keys.admin),
      payload: { cards: [{ pan: othersCard }] },
    });
    expect(admin.json().cards[0].events).toEqual([expect.objectContaining({ externalId: `cpp:${shop}` })]);
  });
});
