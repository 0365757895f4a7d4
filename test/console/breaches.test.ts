// Breach discovery in the console (real app, PGlite): the suspected breaches a real scan opened,
// each with its evidence and charts; a lead confirms one (confidence confirmed, audited, scoring
// sees it at once) or dismisses it (retracted: its cards are no longer stepped up); analysts may
// look, not review; CSRF, 404 for what is not a suspected breach, 409 for a second review; the list
// paged as the queue is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintWith } from '../../services/core/card.ts';
import { CPP_ISSUER, CPP_SOURCE, elementMask, entrySlot, type CompromiseEvent } from '../../services/core/watchlist.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { newCard } from '../webhooks/support.ts';
import { loggedIn } from './client.ts';

const DAY = 86_400_000;
const T0 = Date.now() - 60 * DAY;
let t: TestApp;
let event: CompromiseEvent;
/** 400 cards: 30 used at shop-x on day 10, 10 of those charged back on day 40. */
const cards = Array.from({ length: 400 }, () => newCard());
const fp = (pan: string) => fingerprintWith(t.runtime.keyring.primary, pan);
let txSeq = 0;

async function score(pan: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
    payload: {
      transactionId: `breach-console-${++txSeq}`,
      amount: 3000,
      currency: 'EUR',
      channel: 'ecommerce',
      occurredAt: new Date(T0 + 42 * DAY).toISOString(),
      card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
    },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { decision: string; reasons: { code: string }[] };
}

beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
  const breach = t.runtime.breach!;
  await breach.history.recordVisits(
    cards.flatMap((pan, i) => [
      { card: fp(pan), bin: '411111', merchantId: `shop-${i % 11}`, at: T0 + (i % 30) * DAY },
      { card: fp(pan), bin: '411111', merchantId: `shop-${(i * 7) % 11}`, at: T0 + ((i * 3) % 30) * DAY },
      ...(i < 30 ? [{ card: fp(pan), bin: '411111', merchantId: 'shop-x', at: T0 + 10 * DAY }] : []),
    ]),
  );
  await breach.history.recordFrauds(
    cards.slice(0, 10).map((pan) => ({ card: fp(pan), at: T0 + 40 * DAY, source: 'chargeback' as const })),
  );
  const report = await breach.scan(T0 + 41 * DAY);
  expect(report.findings.map((f) => f.point.merchantId)).toEqual(['shop-x']);
  event = report.findings[0]!.event;
}, 60_000);
afterAll(() => t?.close());

describe('suspected breaches in the console', () => {
  it('lists them for analysts, with the evidence, and no card number', async () => {
    const { client } = await loggedIn(t, 'analyst');
    const list = await client.get('/console/breaches');
    expect(list.status).toBe(200);
    expect(list.body).toContain(`href="/console/breaches/${event.id}"`);
    expect(list.body).toContain('shop-x');
    expect(list.body).toContain('to review');
    const page = await client.get(`/console/breaches/${event.id}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="breach-merchant">shop-x<');
    expect(page.body).toMatch(/id="breach-fraud-cards">\s*10 \(trust-weighted 10\.0\)/);
    expect(page.body).toContain('id="breach-exposed">30<');
    // Visits on day 10, frauds 30 days later, scanned on day 41: the breach may still run.
    const scanned = new Date(T0 + 41 * DAY).toISOString().slice(0, 10);
    expect(page.body).toMatch(
      new RegExp(`id="breach-listing">\\s*listed as they come: the breach may still run \\(listed up to ${scanned}\\)`),
    );
    expect(page.body).toContain('aria-label="First frauds per day"');
    expect(page.body).toContain('aria-label="Exposed cards by BIN"');
    // Analysts look; leads review.
    expect(page.body).not.toContain('id="confirm-breach"');
    for (const pan of cards) expect(page.body + list.body).not.toContain(pan);
    // ?done= names a notice of the page's own, never a property every object has.
    for (const done of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const odd = await client.get(`/console/breaches/${event.id}?done=${done}`);
      expect(odd.status, done).toBe(200);
      expect(odd.body, done).not.toContain('id="notice"');
      expect(odd.body, done).not.toMatch(/function|\[native code\]/);
    }
    const post = await client.post(`/console/breaches/${event.id}/review`, { decision: 'confirm' });
    expect(post.status).toBe(403);
  });

  it('lets a lead confirm one: confidence confirmed, audited, scoring sees it at once; a second review is refused', async () => {
    const { client, user } = await loggedIn(t, 'lead');
    const page = await client.get(`/console/breaches/${event.id}`);
    expect(page.body).toContain('id="confirm-breach"');
    expect(
      (await client.post(`/console/breaches/${event.id}/review`, { decision: 'confirm' }, { csrf: false })).status,
    ).toBe(403);
    const res = await client.post(`/console/breaches/${event.id}/review`, { decision: 'confirm' });
    expect(res.status).toBe(303);
    expect(res.location).toBe(`/console/breaches/${event.id}?done=confirmed`);
    const after = await client.get(res.location!);
    expect(after.body).toContain('Confirmed: the breach is treated as real.');
    expect(after.body).toContain(`confirmed by ${user.username}`);
    expect(after.body).not.toContain('id="confirm-breach"');
    const stored = (await t.runtime.watchlist.getEvent(event.seq))!;
    expect(stored).toMatchObject({
      confidence: 'confirmed',
      status: 'open',
      evidence: { review: { decision: 'confirmed', by: user.username } },
    });
    expect(t.runtime.watchlistRegistry.events.get(event.seq)?.confirmed).toBe(true);
    const audit = await t.runtime.cases!.audit.list({ limit: 10, action: 'breach_review' });
    expect(audit[0]).toMatchObject({
      actor: user.username,
      target: `event:${event.id}`,
      detail: { decision: 'confirmed', merchantId: 'shop-x' },
    });
    // Still stepped up: an exposed card that was never charged back.
    expect((await score(cards[20]!)).decision).toBe('challenge');
    const again = await client.post(`/console/breaches/${event.id}/review`, { decision: 'dismiss' });
    expect(again.status).toBe(409);
  });

  it('lets a lead dismiss one: retracted, so its cards are no longer stepped up', async () => {
    const pan = newCard();
    const { event: other } = await t.runtime.watchlist.createEvent(
      {
        externalId: 'cpp:shop-y',
        source: CPP_SOURCE,
        description: 'test',
        exposureStart: new Date(T0).toISOString(),
        exposureEnd: new Date(T0 + DAY).toISOString(),
        discoveredAt: new Date(T0 + 2 * DAY).toISOString(),
        dataElements: ['pan'],
        confidence: 'suspected',
      },
      CPP_ISSUER,
      new Date(),
    );
    await t.runtime.watchlist.addCards(
      other.seq,
      elementMask(['pan']),
      [{ slot: entrySlot(fp(pan)), expiryTag: 0 }],
      1,
    );
    const evidence = { ...event.evidence!, merchantId: 'shop-y', exposedCards: 1, exposedByBin: { '411111': 1 } };
    delete evidence.review;
    await t.runtime.watchlist.updateEvent(other.seq, { evidence }, new Date());
    await t.runtime.watchlistRegistry.refresh();
    expect((await score(pan)).decision).toBe('challenge');

    const { client } = await loggedIn(t, 'lead');
    const res = await client.post(`/console/breaches/${other.id}/review`, { decision: 'dismiss' });
    expect(res.status).toBe(303);
    const after = await client.get(res.location!);
    expect(after.body).toContain('Dismissed: its cards are no longer stepped up.');
    expect((await t.runtime.watchlist.getEvent(other.seq))!.status).toBe('retracted');
    expect((await score(pan)).decision).toBe('approve');
  });

  it('tells when a breach is presumed over: its new customers are no longer listed', async () => {
    // As a scan writes it once no compromising visit was seen for twice its cards' delay (test/breach/suspicion-end.test.ts).
    const current = (await t.runtime.watchlist.getEvent(event.seq))!;
    await t.runtime.watchlist.updateEvent(
      event.seq,
      { evidence: { ...current.evidence!, presumedOver: true, listedUntil: new Date(T0 + 10 * DAY).toISOString() } },
      new Date(),
    );
    const { client } = await loggedIn(t, 'analyst');
    const page = await client.get(`/console/breaches/${event.id}`);
    const since = new Date(T0 + 10 * DAY).toISOString().slice(0, 10);
    expect(page.body).toMatch(
      new RegExp(
        `id="breach-listing">\\s*no longer listed: the breach is presumed over \\(no compromising visit seen since\\s+${since}`,
      ),
    );
  });

  it('answers 404 for what is not a suspected breach (unknown, or an issuer event)', async () => {
    const { event: issuers } = await t.runtime.watchlist.createEvent(
      {
        externalId: 'bank-breach',
        source: 'network alert',
        description: '',
        exposureStart: new Date(T0).toISOString(),
        exposureEnd: new Date(T0 + DAY).toISOString(),
        discoveredAt: new Date(T0 + DAY).toISOString(),
        dataElements: ['pan'],
        confidence: 'confirmed',
      },
      'i1',
      new Date(),
    );
    const { client } = await loggedIn(t, 'lead');
    for (const id of ['ce_999', issuers.id]) {
      expect((await client.get(`/console/breaches/${id}`)).status).toBe(404);
      expect((await client.post(`/console/breaches/${id}/review`, { decision: 'confirm' })).status).toBe(404);
    }
    expect((await client.get('/console/breaches/not-an-id')).status).toBe(400);
  });

  it('pages the list as the queue pages: 25 by default, newest first, Previous and Next, past the end the last page', async () => {
    // Enough suspected breaches for two pages, each a second apart (the list is newest first).
    for (let i = 0; i < 26; i++) {
      const { event: e } = await t.runtime.watchlist.createEvent(
        {
          externalId: `cpp:paged-${i}`,
          source: CPP_SOURCE,
          description: 'test',
          exposureStart: new Date(T0).toISOString(),
          exposureEnd: new Date(T0 + DAY).toISOString(),
          discoveredAt: new Date(T0 + 2 * DAY).toISOString(),
          dataElements: ['pan'],
          confidence: 'suspected',
        },
        CPP_ISSUER,
        new Date(Date.now() + (i + 1) * 1000),
      );
      const evidence = { ...event.evidence!, merchantId: `paged-${i}` };
      delete evidence.review;
      await t.runtime.watchlist.updateEvent(e.seq, { evidence }, new Date());
    }
    const all = (await t.runtime.watchlist.listEvents(CPP_ISSUER))
      .filter((e) => e.evidence)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.seq - a.seq))
      .map((e) => e.id);
    expect(all.length).toBeGreaterThan(25);
    expect(all.length).toBeLessThanOrEqual(50);
    const rows = (body: string) => [...body.matchAll(/<tr data-event="(ce_\d+)">/g)].map((m) => m[1]);
    // The link as a browser follows it (the page escapes = and & in attributes).
    const href = (body: string, id: string) =>
      new RegExp(`id="${id}" href="([^"]+)"`)
        .exec(body)?.[1]
        ?.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
        .replaceAll('&amp;', '&');

    const { client } = await loggedIn(t, 'analyst');
    const first = await client.get('/console/breaches');
    expect(first.status).toBe(200);
    expect(rows(first.body)).toEqual(all.slice(0, 25));
    expect(first.body).toContain(`Page 1 of 2`);
    expect(first.body).not.toContain('id="prev-page"');
    expect(href(first.body, 'next-page')).toBe('/console/breaches?page=2');
    const second = await client.get(href(first.body, 'next-page')!);
    expect(rows(second.body)).toEqual(all.slice(25));
    expect(second.body).toContain('Page 2 of 2');
    expect(second.body).not.toContain('id="next-page"');
    expect(href(second.body, 'prev-page')).toBe('/console/breaches?page=1');

    // pageSize as the queue's: kept in the links, 1 to 200.
    const small = await client.get('/console/breaches?pageSize=10&page=2');
    expect(rows(small.body)).toEqual(all.slice(10, 20));
    expect(href(small.body, 'next-page')).toBe('/console/breaches?pageSize=10&page=3');
    expect(href(small.body, 'prev-page')).toBe('/console/breaches?pageSize=10&page=1');
    // Past the last page: the last page (a page number kept while events were dismissed elsewhere).
    const beyond = await client.get('/console/breaches?pageSize=1&page=100000');
    expect(beyond.status).toBe(200);
    expect(rows(beyond.body)).toEqual([all.at(-1)]);
    expect(beyond.body).toContain(`Page ${all.length} of ${all.length}`);
    for (const bad of ['pageSize=0', 'pageSize=201', 'page=0', 'page=abc', 'page=100001']) {
      const res = await client.get(`/console/breaches?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body, bad).toContain('Invalid page');
    }
  });
});
