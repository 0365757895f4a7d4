// POST /v1/cards/lookup through the real HTTP stack, on the embedded stores and on a real Redis:
// an issuer learns which of its own live events list a card (never that another issuer's do), an
// admin sees every event, a card is named by number or fingerprint, and during a card-key rotation
// a number is looked up under both keys.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';
import { RedisServer } from '../support/redis-server.ts';
import { declareEvent, listCards, setBinRanges } from '../support/issuer-api.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.stop());

const subjects = [
  { name: 'embedded', env: (): Record<string, string> => ({}) },
  { name: 'redis', env: (): Record<string, string> => ({ REDIS_URL: redis.url }) },
];

interface LookupCard {
  index: number;
  card: string | null;
  fingerprint: string | null;
  listed: boolean;
  events: { id: string; externalId: string; issuerId: string; dataElements: string[]; status: string }[];
  leakedElements: string[];
  firstListedAt: string | null;
  refused?: string;
}

// Cards of their own for every test (and every subject: a Redis outlives an app).
let serial = 200000 + Math.floor(Math.random() * 100000) * 10;
const card = (bin = '411111') => luhnComplete(`${bin}${String(serial++).padStart(15 - bin.length, '0')}`);

describe.each(subjects)('POST /v1/cards/lookup: $name', (subject) => {
  let t: TestApp;
  let issuer2: string;
  beforeAll(async () => {
    t = await buildTestApp(subject.env());
    issuer2 = (await createApiKey(t.runtime.apiKeys, { role: 'issuer', issuerId: 'i2' })).key;
    await setBinRanges(t, { i1: [{ from: '411111', to: '411199' }], i2: [{ from: '401288', to: '401288' }] });
  });
  afterAll(() => t.close());

  /** An event of an issuer, declared by an admin (who may then list any card in it). */
  const event = (issuerId: string, dataElements: string[]) => declareEvent(t, dataElements, { issuerId });
  async function list(eventId: string, ...pans: string[]) {
    expect(await listCards(t, eventId, pans.join('\n'))).toMatchObject({ accepted: pans.length, rejected: 0 });
  }
  const lookup = (key: string, cards: unknown) =>
    t.app.inject({ method: 'POST', url: '/v1/cards/lookup', headers: bearer(key), payload: { cards } });
  async function looked(key: string, cards: unknown): Promise<LookupCard[]> {
    const res = await lookup(key, cards);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().cards;
  }

  it("shows an issuer its own events only: another issuer's listing is not even hinted at", async () => {
    const [both, othersOnly, never] = [card(), card(), card()];
    const own = await event('i1', ['pan']);
    const theirs = await event('i2', ['pan', 'expiry', 'cvv']);
    await list(theirs.id, both, othersOnly);
    await list(own.id, both);

    const [a, b, c] = await looked(t.keys.issuer, [{ pan: both }, { pan: othersOnly }, { pan: never }]);
    expect(a).toMatchObject({ index: 0, card: `${both.slice(0, 6)}******${both.slice(-4)}`, listed: true });
    expect(a!.events.map((e) => [e.id, e.externalId, e.issuerId, e.dataElements, e.status])).toEqual([
      [own.id, own.externalId, 'i1', ['pan'], 'open'],
    ]);
    // What leaked is what its own events say: the other issuer's security code is not told.
    expect(a!.leakedElements).toEqual(['pan']);
    expect(a!.firstListedAt).toBeNull();
    // A card only another issuer lists answers as a card nobody lists, field for field.
    const { index: _b, card: _bc, fingerprint: fb, ...restB } = b!;
    const { index: _c, card: _cc, fingerprint: fc, ...restC } = c!;
    expect(restB).toEqual(restC);
    expect(restB).toEqual({ listed: false, events: [], leakedElements: [], firstListedAt: null });
    expect([fb, fc]).toEqual([
      expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    ]);
    // Nor by fingerprint.
    const [byFingerprint] = await looked(t.keys.issuer, [{ fingerprint: fb }]);
    expect(byFingerprint).toMatchObject({ card: null, fingerprint: fb, listed: false, events: [] });

    // The other issuer: a number outside its BIN ranges is refused (no fingerprint made of it); by
    // fingerprint, its own event only.
    const [refused, viaFp] = await looked(issuer2, [{ pan: both }, { fingerprint: a!.fingerprint }]);
    expect(refused).toMatchObject({
      listed: false,
      fingerprint: null,
      refused: expect.stringMatching(/^BIN_NOT_OWNED/),
    });
    expect(viaFp!.events.map((e) => e.id)).toEqual([theirs.id]);
    expect(viaFp!.leakedElements).toEqual(['pan', 'expiry', 'cvv']);
  });

  it('shows an admin every live event, what any of them leaked and when the card was first listed', async () => {
    const pan = card();
    const first = await event('i2', ['pan', 'cvv']);
    const second = await event('i1', ['pan', 'expiry']);
    const before = Date.now();
    await list(first.id, pan);
    await list(second.id, pan);
    const [result] = await looked(t.keys.admin, [{ pan }]);
    expect(result!.listed).toBe(true);
    expect(result!.events.map((e) => [e.id, e.issuerId])).toEqual([
      [first.id, 'i2'],
      [second.id, 'i1'],
    ]);
    expect(result!.leakedElements).toEqual(['pan', 'expiry', 'cvv']);
    expect(Date.parse(result!.firstListedAt!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(result!.firstListedAt!)).toBeLessThanOrEqual(Date.now());
  });

  it('answers a fingerprint as its card number, and the fingerprint given removes the card', async () => {
    const pan = card();
    const own = await event('i1', ['pan', 'expiry']);
    await list(own.id, pan);
    const [byNumber] = await looked(t.keys.issuer, [{ pan }]);
    const [byFingerprint] = await looked(t.keys.issuer, [{ fingerprint: byNumber!.fingerprint }]);
    expect(byFingerprint).toEqual({ ...byNumber, card: null });
    // The point of the fingerprint: removal without the number.
    const removed = await t.app.inject({
      method: 'DELETE',
      url: '/v1/cards',
      headers: bearer(t.keys.issuer),
      payload: { cards: [{ fingerprint: byNumber!.fingerprint }] },
    });
    expect(removed.json()).toMatchObject({ removed: 1, rejected: [] });
    expect((await looked(t.keys.issuer, [{ pan }]))[0]).toMatchObject({ listed: false, events: [] });
  });

  it('never shows a retracted event, and answers each card in order, a card named twice twice', async () => {
    const [kept, gone, unlisted] = [card(), card(), card()];
    const retracted = await event('i1', ['pan', 'cvv']);
    const live = await event('i1', ['pan']);
    await list(retracted.id, kept, gone);
    await list(live.id, kept);
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/compromise-events/${retracted.id}/retract`,
      headers: bearer(t.keys.issuer),
    });
    expect(res.statusCode).toBe(200);
    for (const key of [t.keys.issuer, t.keys.admin]) {
      const results = await looked(key, [{ pan: gone }, { pan: kept }, { pan: unlisted }, { pan: kept }]);
      expect(results.map((r) => [r.index, r.listed, r.events.map((e) => e.id)])).toEqual([
        [0, false, []],
        [1, true, [live.id]],
        [2, false, []],
        [3, true, [live.id]],
      ]);
      expect(results[1]!.leakedElements).toEqual(['pan']);
    }
  });

  it('refuses a malformed request with 400 on the field, never repeating the card number', async () => {
    const pan = card();
    const bad = `${pan.slice(0, -1)}${(Number(pan.slice(-1)) + 1) % 10}`;
    const cases: [unknown, string][] = [
      [[], 'cards'],
      [Array.from({ length: 1001 }, () => ({ pan })), 'cards'],
      [[{ pan }, { pan: bad }], 'cards.1.pan'],
      [[{ pan: `${pan} ` }], 'cards.0.pan'],
      [[{ pan, fingerprint: 'x'.repeat(43) }], 'cards.0'],
      [[{ fingerprint: bad }], 'cards.0.fingerprint'],
      [[{ card: pan }], 'cards.0'],
      [[{ [pan]: true }], 'cards.0'],
    ];
    for (const [cards, path] of cases) {
      const res = await lookup(t.keys.issuer, cards);
      expect(res.statusCode, `${path}: ${res.body}`).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
      expect(res.json().details.map((d: { path: string }) => d.path)).toContain(path);
      expect(res.body).not.toContain(bad);
      expect(res.body).not.toContain(pan);
      expect(res.body).not.toContain(pan.slice(6, -4));
    }
    const unknown = await lookup(t.keys.issuer, [{ pan }]).then((r) => r.json());
    expect(unknown.cards[0].listed).toBe(false);
    const noBody = await t.app.inject({ method: 'POST', url: '/v1/cards/lookup', headers: bearer(t.keys.issuer) });
    expect(noBody.statusCode).toBe(400);
    // 1,000 fingerprints, pretty-printed, are taken whatever the default body limit.
    const many = Array.from({ length: 1000 }, () => ({ fingerprint: 'A'.repeat(43) }));
    const big = await t.app.inject({
      method: 'POST',
      url: '/v1/cards/lookup',
      headers: { ...bearer(t.keys.admin), 'content-type': 'application/json' },
      payload: JSON.stringify({ cards: many }, null, 4),
    });
    expect(big.statusCode, big.body.slice(0, 200)).toBe(200);
    expect(big.json().cards).toHaveLength(1000);
  });

  it('reads a number grouped as uploads take it, here and in removal; a misnamed card says what is expected', async () => {
    const pan = card();
    const own = await event('i1', ['pan']);
    await list(own.id, pan);
    const [spaced, dashed] = [' ', '-'].map((separator) => pan.match(/.{4}/g)!.join(separator));
    const masked = `${pan.slice(0, 6)}******${pan.slice(-4)}`;
    const results = await looked(t.keys.issuer, [{ pan: spaced }, { pan: dashed }, { pan }]);
    expect(results.map((r) => [r.listed, r.card, r.fingerprint])).toEqual(
      Array.from({ length: 3 }, () => [true, masked, results[2]!.fingerprint]),
    );
    // A field of another name (`number`): what a card is named by, the number never repeated.
    const misnamed = await lookup(t.keys.issuer, [{ number: pan }]);
    expect([misnamed.statusCode, misnamed.json().details]).toEqual([
      400,
      [
        {
          path: 'cards.0',
          message: 'expected pan or fingerprint: {"pan": "<card number>"} or {"fingerprint": "<its fingerprint>"}',
        },
      ],
    ]);
    // Digits in groups an upload refuses too: the groupings expected, on the field.
    const odd = await lookup(t.keys.issuer, [{ pan: `${pan.slice(0, 14)} ${pan.slice(14)}` }]);
    expect(odd.json().details).toEqual([
      { path: 'cards.0.pan', message: expect.stringContaining('in groups of 4 digits') },
    ]);
    for (const res of [misnamed, odd]) expect(res.body).not.toContain(pan.slice(6, -4));
    const remove = (cards: unknown) =>
      t.app.inject({ method: 'DELETE', url: '/v1/cards', headers: bearer(t.keys.issuer), payload: { cards } });
    const removedMisnamed = await remove([{ number: pan }]);
    expect([removedMisnamed.statusCode, removedMisnamed.json().details?.[0]?.message]).toEqual([
      400,
      expect.stringMatching(/^expected pan or fingerprint/),
    ]);
    expect((await remove([{ pan: dashed }])).json()).toEqual({ removed: 1, notListed: 0, rejected: [] });
    expect((await looked(t.keys.issuer, [{ pan: spaced }]))[0]).toMatchObject({ listed: false });
  });

  it('is for issuer and admin keys: a merchant key is 403, none 401', async () => {
    const cards = [{ pan: card() }];
    const merchant = await lookup(t.keys.merchant, cards);
    expect([merchant.statusCode, merchant.json().code]).toEqual([403, 'FORBIDDEN']);
    const none = await t.app.inject({ method: 'POST', url: '/v1/cards/lookup', payload: { cards } });
    expect(none.statusCode).toBe(401);
  });
});

describe.each(subjects)('POST /v1/cards/lookup across a card-key rotation: $name', (subject) => {
  it('finds a card listed under the previous key, and gives its fingerprint under the new one', async () => {
    const env = { LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-lookup-')), ...subject.env() };
    const pan = card();
    const declare = async (t: TestApp, dataElements: string[]) => {
      const { id } = await declareEvent(t, dataElements, { issuerId: 'i1' });
      expect((await listCards(t, id, pan)).accepted).toBe(1);
      return id;
    };
    const lookupAs = async (t: TestApp) =>
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/cards/lookup',
          headers: bearer(t.keys.admin),
          payload: { cards: [{ pan }] },
        })
      ).json().cards[0] as LookupCard;

    const before = await buildTestApp({ ...env, LEAKGUARD_CARD_KEY: 'a'.repeat(64) });
    let old: string, oldFingerprint: string;
    try {
      old = await declare(before, ['pan', 'cvv']);
      oldFingerprint = (await lookupAs(before)).fingerprint!;
    } finally {
      await before.close();
    }
    const after = await buildTestApp({
      ...env,
      LEAKGUARD_CARD_KEY: 'b'.repeat(64),
      LEAKGUARD_PREVIOUS_CARD_KEY: 'a'.repeat(64),
    });
    try {
      const listedUnderOld = await lookupAs(after);
      expect(listedUnderOld.events.map((e) => e.id)).toEqual([old]);
      expect(listedUnderOld.fingerprint).not.toBe(oldFingerprint);
      const fresh = await declare(after, ['pan']);
      const merged = await lookupAs(after);
      expect(merged.events.map((e) => e.id)).toEqual([old, fresh]);
      expect(merged.leakedElements).toEqual(['pan', 'cvv']);
      // By fingerprint: that entry alone (a fingerprint names one key's).
      const [byNew] = (
        await after.app.inject({
          method: 'POST',
          url: '/v1/cards/lookup',
          headers: bearer(after.keys.admin),
          payload: { cards: [{ fingerprint: merged.fingerprint }, { fingerprint: oldFingerprint }] },
        })
      ).json().cards as LookupCard[];
      expect(byNew!.events.map((e) => e.id)).toEqual([fresh]);
    } finally {
      await after.close();
    }
  });
});
