// Cursor pagination of the API's lists (GET /v1/issuer/hits, GET /v1/compromise-events), through
// the client generated from the OpenAPI document: pages walk the whole filtered set with no gap or
// repeat, a filter that matches rarely still fills its pages (filters come before the limit),
// has_more is false at the end, and a cursor that is not one is a 400 VALIDATION_FAILED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { MemoryWatchlistStore } from '../../services/adapters/memory/watchlist-store.ts';
import type { HitRecord } from '../../services/core/velocity.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
let issuer: ApiClient;
let issuer2: ApiClient;
let admin: ApiClient;
const T0 = Date.parse('2026-11-20T00:00:00Z');
const N = 60;
/** Hit i: every 11th on the second event (rare), every 4th on a card outside i1's BIN ranges. */
const rare = (i: number) => i % 11 === 5;
const foreign = (i: number) => i % 4 === 2;

beforeAll(async () => {
  t = await buildTestApp();
  issuer = apiClient(t.app, t.keys.issuer);
  admin = apiClient(t.app, t.keys.admin);
  issuer2 = apiClient(t.app, (await createApiKey(t.runtime.apiKeys, { role: 'issuer', issuerId: 'i2' })).key);
  const ranges = await admin.PUT('/v1/issuers/{issuerId}/bin-ranges', {
    params: { path: { issuerId: 'i1' } },
    body: [{ from: '411111', to: '411199' }],
  });
  expect(ranges.response.status).toBe(200);
  // Events of i1 and i2, interleaved: ce_1, ce_3, ce_5, ... are i1's.
  for (let i = 1; i <= 12; i++) {
    const { response } = await (i % 2 === 1 ? issuer : issuer2).POST('/v1/compromise-events', {
      body: {
        externalId: `paging-${i}`,
        source: 'card network alert',
        exposureStart: '2026-05-01T00:00:00Z',
        exposureEnd: '2026-10-31T00:00:00Z',
        discoveredAt: '2026-11-10T00:00:00Z',
        dataElements: ['pan'],
      },
    });
    expect(response.status).toBe(201);
  }
  // Hits are recorded by scoring; here written straight into the embedded store, at known times.
  const store = t.runtime.watchlist as MemoryWatchlistStore;
  for (let i = 0; i < N; i++) {
    const hit: HitRecord = {
      at: new Date(T0 + i * 60_000).toISOString(),
      merchantId: 'm1',
      transactionId: `tx-${i}`,
      amount: 1000 + i,
      currency: 'EUR',
      decision: 'challenge',
      score: 60,
      card: foreign(i) ? '401288******1881' : '411111******1111',
      bin: foreign(i) ? '401288' : '411111',
      eventIds: [rare(i) ? 'ce_3' : 'ce_1'],
      eventSeqs: [rare(i) ? 3 : 1],
      issuerIds: ['i1'],
    };
    store.recordHit(hit, T0 + i * 60_000);
  }
});
afterAll(() => t.close());

type HitsQuery = { eventId?: string; from?: string; to?: string; limit?: number };

async function walkHits(query: HitsQuery) {
  const pages: { ids: string[]; has_more: boolean }[] = [];
  let starting_after: string | undefined;
  for (let guard = 0; guard < 200; guard++) {
    const { data, response } = await issuer.GET('/v1/issuer/hits', {
      params: { query: { ...query, ...(starting_after ? { starting_after } : {}) } },
    });
    expect(response.status).toBe(200);
    pages.push({ ids: data!.hits.map((h) => h.transactionId), has_more: data!.has_more });
    if (!data!.has_more) {
      expect(data!.next).toBeNull();
      return pages;
    }
    starting_after = data!.next!;
  }
  throw new Error('the pages never end');
}

const newestFirst = (keep: (i: number) => boolean) =>
  Array.from({ length: N }, (_, k) => N - 1 - k)
    .filter(keep)
    .map((i) => `tx-${i}`);

describe('GET /v1/issuer/hits', () => {
  it('walks every hit on your BINs, newest first, in full pages, and says when it is done', async () => {
    const expected = newestFirst((i) => !foreign(i));
    const pages = await walkHits({ limit: 8 });
    const ids = pages.flatMap((p) => p.ids);
    expect(ids).toEqual(expected);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages.slice(0, -1).every((p) => p.ids.length === 8 && p.has_more)).toBe(true);
    expect(pages.at(-1)!.has_more).toBe(false);
    // One page for everything: has_more false straight away.
    const { data } = await issuer.GET('/v1/issuer/hits', { params: { query: { limit: 1000 } } });
    expect(data).toMatchObject({ has_more: false, next: null });
    expect(data!.hits.map((h) => h.transactionId)).toEqual(expected);
  });

  it('fills pages with a filter that matches rarely: the event filter and the BIN ranges come before the limit', async () => {
    const expected = newestFirst((i) => rare(i) && !foreign(i));
    expect(expected.length).toBeGreaterThanOrEqual(4);
    const pages = await walkHits({ eventId: 'ce_3', limit: 2 });
    expect(pages.flatMap((p) => p.ids)).toEqual(expected);
    expect(pages.slice(0, -1).every((p) => p.ids.length === 2)).toBe(true);
  });

  it('pages within a time range', async () => {
    const from = new Date(T0 + 10 * 60_000).toISOString();
    const to = new Date(T0 + 40 * 60_000).toISOString();
    const expected = newestFirst((i) => i >= 10 && i <= 40 && !foreign(i) && !rare(i));
    const pages = await walkHits({ eventId: 'ce_1', from, to, limit: 5 });
    expect(pages.flatMap((p) => p.ids)).toEqual(expected);
  });

  it('refuses a cursor it did not give, and a list’s cursor on another list, as VALIDATION_FAILED', async () => {
    const events = await issuer.GET('/v1/compromise-events', { params: { query: { limit: 1 } } });
    const eventsCursor = events.data!.next!;
    const hitsCursor = (await issuer.GET('/v1/issuer/hits', { params: { query: { limit: 1 } } })).data!.next!;
    // A card number pasted by mistake is 16 characters of the cursor alphabet: refused, never repeated.
    const pan = '4111500000010006';
    for (const starting_after of ['nonsense', 'AZryMrIAAAAAAAA', 'AZryMrIAAAAAAAAA!', 'AAAAAAAF', pan, eventsCursor]) {
      const { error, response } = await issuer.GET('/v1/issuer/hits', { params: { query: { starting_after } } });
      expect(response.status, starting_after).toBe(400);
      expect(error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ path: 'querystring.starting_after' }],
      });
      expect(JSON.stringify(error)).not.toContain(pan);
    }
    // Each list takes its own cursors only: the hits' is refused by the events list.
    const other = await issuer.GET('/v1/compromise-events', { params: { query: { starting_after: hitsCursor } } });
    expect(other.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'querystring.starting_after' }] });
    expect(
      (await issuer.GET('/v1/compromise-events', { params: { query: { starting_after: eventsCursor } } })).response
        .status,
    ).toBe(200);
  });
});

describe('GET /v1/compromise-events', () => {
  it("walks an issuer's own events, oldest first, in full pages", async () => {
    const ids: string[] = [];
    let starting_after: string | undefined;
    let pages = 0;
    for (;;) {
      const { data, response } = await issuer.GET('/v1/compromise-events', {
        params: { query: { limit: 2, ...(starting_after ? { starting_after } : {}) } },
      });
      expect(response.status).toBe(200);
      pages++;
      if (data!.has_more) expect(data!.events).toHaveLength(2);
      ids.push(...data!.events.map((e) => e.id));
      if (!data!.has_more) {
        expect(data!.next).toBeNull();
        break;
      }
      starting_after = data!.next!;
    }
    expect(ids).toEqual(['ce_1', 'ce_3', 'ce_5', 'ce_7', 'ce_9', 'ce_11']);
    expect(pages).toBe(3);
  });

  it("lists every issuer's events to an admin, and all of them in one page by default", async () => {
    const { data } = await admin.GET('/v1/compromise-events');
    expect(data!.events.map((e) => e.id)).toEqual(Array.from({ length: 12 }, (_, i) => `ce_${i + 1}`));
    expect(data).toMatchObject({ has_more: false, next: null });
    const first = await admin.GET('/v1/compromise-events', { params: { query: { limit: 5 } } });
    expect(first.data).toMatchObject({ has_more: true });
    const second = await admin.GET('/v1/compromise-events', {
      params: { query: { limit: 5, starting_after: first.data!.next! } },
    });
    expect(second.data!.events.map((e) => e.id)).toEqual(['ce_6', 'ce_7', 'ce_8', 'ce_9', 'ce_10']);
  });

  it('finds an event by its externalId, and keeps one status', async () => {
    const { data } = await issuer.GET('/v1/compromise-events', { params: { query: { externalId: 'paging-5' } } });
    expect(data!.events.map((e) => e.id)).toEqual(['ce_5']);
    // Another issuer's externalId: not found, as any event the key may not see.
    const theirs = await issuer.GET('/v1/compromise-events', { params: { query: { externalId: 'paging-6' } } });
    expect(theirs.data!.events).toEqual([]);
    const open = await admin.GET('/v1/compromise-events', { params: { query: { status: 'open', limit: 3 } } });
    expect(open.data!.events.map((e) => e.status)).toEqual(['open', 'open', 'open']);
    const retracted = await admin.GET('/v1/compromise-events', { params: { query: { status: 'retracted' } } });
    expect(retracted.data!.events.every((e) => e.status === 'retracted')).toBe(true);
    const bad = await admin.GET('/v1/compromise-events', {
      params: { query: { status: 'gone' as never, colour: 'red' } as never },
    });
    expect(bad.response.status).toBe(400);
    expect(bad.error!.details!.map((d) => d.path).sort()).toEqual(['querystring', 'querystring.status']);
  });

  it('refuses a cursor that is not one, and the limit out of range', async () => {
    const bad = await issuer.GET('/v1/compromise-events', { params: { query: { starting_after: 'ce_1' } } });
    expect(bad.response.status).toBe(400);
    expect(bad.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'querystring.starting_after' }] });
    const limit = await issuer.GET('/v1/compromise-events', { params: { query: { limit: 0 } } });
    expect(limit.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'querystring.limit' }] });
  });
});
