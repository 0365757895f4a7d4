// GET /v1/issuer/suspected-events is paged like the API's other lists (`?limit=&starting_after=`,
// answered with `has_more` and `next`): the pages walk every suspected event exposing the issuer's
// cards, oldest first, no gap or repeat, the filters applied before the limit; a bad or unknown
// query parameter is a 400 naming it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPP_ISSUER, exposedInRanges } from '../../services/core/watchlist.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
/** The events exposing i1's cards, in order. */
const mine: string[] = [];

beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_CPP: 'on' });
  const store = t.runtime.watchlist;
  await store.setBinRanges('i1', [{ from: '411111', to: '411199' }]);
  const now = new Date('2026-11-20T06:00:00Z');
  for (let i = 0; i < 25; i++) {
    // Every third exposes other issuers' cards only; every fifth is dismissed (retracted).
    const bin = i % 3 === 2 ? '555555' : '411111';
    const { event } = await store.createEvent(
      {
        externalId: `cpp:shop-${i}`,
        source: 'leakguard-cpp',
        description: 'test',
        exposureStart: '2026-10-01T00:00:00Z',
        exposureEnd: '2026-11-01T00:00:00Z',
        discoveredAt: now.toISOString(),
        dataElements: ['pan'],
        confidence: 'suspected',
      },
      CPP_ISSUER,
      now,
    );
    await store.updateEvent(
      event.seq,
      {
        evidence: {
          merchantId: `shop-${i}`,
          fraudCards: 12,
          weightedFraudCards: 10,
          expected: 0.5,
          log10PValue: -12,
          exposedCards: 40,
          exposedByBin: { [bin]: 40 },
          firstFrauds: [],
          scannedAt: now.toISOString(),
        },
        ...(i % 5 === 4 ? { status: 'retracted' as const } : {}),
      },
      now,
    );
    if (bin === '411111' && i % 5 !== 4) mine.push(event.id);
  }
});
afterAll(() => t.close());

const get = (query: string) =>
  t.app.inject({ method: 'GET', url: `/v1/issuer/suspected-events${query}`, headers: bearer(t.keys.issuer) });

describe('GET /v1/issuer/suspected-events pages', () => {
  it('walks every matching event, oldest first, in full pages until has_more is false', async () => {
    expect(mine.length).toBeGreaterThan(10);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`?limit=4${cursor ? `&starting_after=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { events: { id: string }[]; has_more: boolean; next: string | null };
      seen.push(...page.events.map((e) => e.id));
      if (page.has_more) expect(page.events).toHaveLength(4);
      expect(page.next === null).toBe(!page.has_more);
      cursor = page.next;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toEqual(mine);
    expect(pages).toBe(Math.ceil(mine.length / 4));
  });

  it('answers the first 100 by default, with has_more false and next null at the end', async () => {
    const res = await get('');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ has_more: false, next: null });
    expect(res.json().events.map((e: { id: string }) => e.id)).toEqual(mine);
  });

  it('refuses a bad limit, a bad cursor and unknown parameters with 400, naming them', async () => {
    for (const [query, path] of [
      ['?limit=abc', 'limit'],
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?starting_after=nope', 'starting_after'],
    ] as const) {
      const res = await get(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(res.json().details), query).toContain(path);
    }
    const unknown = await get('?limit=5&page=2&status=open');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(unknown.json())).toMatch(/page, status/);
  });

  it('shows an issuer of 8-digit BIN ranges the events exposing the 6-digit BINs its ranges meet', async () => {
    // The histories record 6-digit BINs: 411111 is 41111100..41111199 at 8 digits.
    await t.runtime.watchlist.setBinRanges('i1', [{ from: '41111150', to: '41111160' }]);
    const res = await get('');
    expect(res.statusCode, res.body).toBe(200);
    const events = res.json().events as { id: string; exposedCards: number }[];
    expect(events.map((e) => e.id)).toEqual(mine);
    // Counted per 6-digit BIN: the BIN's whole count, whatever share of it the range holds.
    expect(events.every((e) => e.exposedCards === 40)).toBe(true);
    await t.runtime.watchlist.setBinRanges('i1', [{ from: '41111200', to: '41111299' }]);
    expect((await get('')).json().events).toEqual([]);
    await t.runtime.watchlist.setBinRanges('i1', [{ from: '411111', to: '411199' }]);
  });

  it('counts the exposed cards of a 6-digit BIN in a range of 8 digits that meets it, and in 6-digit ranges as before', () => {
    const event = { evidence: { exposedByBin: { '411111': 50, '555555': 7 } } } as unknown as Parameters<
      typeof exposedInRanges
    >[0];
    const count = (...ranges: [string, string][]) =>
      exposedInRanges(
        event,
        ranges.map(([from, to]) => ({ from, to })),
      );
    expect(count(['41111100', '41111199'])).toBe(50);
    expect(count(['41111150', '41111150'])).toBe(50);
    expect(count(['41111050', '41111100'])).toBe(50);
    expect(count(['41111199', '41111300'])).toBe(50);
    expect(count(['41111000', '41111099'])).toBe(0);
    expect(count(['41111200', '55555500'])).toBe(7);
    expect(count(['41111100', '41111199'], ['55555512', '55555512'])).toBe(57);
    expect(count(['411111', '411111'])).toBe(50);
    expect(count(['400000', '499999'])).toBe(50);
    expect(count(['411112', '499999'])).toBe(0);
  });
});
