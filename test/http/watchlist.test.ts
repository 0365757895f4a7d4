// Issuers' watchlists through the real HTTP stack on a real Redis: events, uploads and every
// refusal path, scoring effects per data-element combination, removal, retraction, isolation, hits.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { identifyCard } from '../../services/core/card.ts';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';
import { declareEvent, setBinRanges } from '../support/issuer-api.ts';
import { until } from '../support/wait.ts';

let redis: RedisServer;
let t: TestApp;
let issuer2: string;
/** i1's test ranges: the 4111 11.. and 5555 55.. cards. */
const I1_RANGES = [
  { from: '411111', to: '411199' },
  { from: '55555555', to: '55555555' },
];
/** The embedded store and Redis (this file's server), for the tests that run on both. */
const BOTH_STORES = [
  { store: 'memory', env: (): Record<string, string> => ({}) },
  { store: 'redis', env: (): Record<string, string> => ({ REDIS_URL: redis.url }) },
];
beforeAll(async () => {
  redis = await RedisServer.start();
  t = await buildTestApp({ REDIS_URL: redis.url, LEAKGUARD_UPLOAD_LIMIT_BYTES: String(64 * 1024) });
  issuer2 = (await createApiKey(t.runtime.apiKeys, { role: 'issuer', issuerId: 'i2' })).key;
  // i1 owns the 4111 11.. and 5555 55.. test ranges; i2 owns 4012 88.. .
  await setBinRanges(t, { i1: I1_RANGES, i2: [{ from: '401288', to: '401288' }] });
});
afterAll(async () => {
  await t.close();
  await redis.stop();
});

// Luhn-valid cards in i1's ranges, made on demand so that each test has its own.
let serial = 100000;
const card = (bin = '411111') => luhnComplete(`${bin}${String(serial++).padStart(15 - bin.length, '0')}`);

const createEvent = (dataElements: string[], key = t.keys.issuer, extra: Record<string, unknown> = {}) =>
  declareEvent(t, dataElements, { key, ...extra });
const upload = (
  eventId: string,
  body: string | Buffer,
  contentType = 'text/csv',
  key = t.keys.issuer,
  headers: Record<string, string> = {},
) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/compromise-events/${eventId}/cards`,
    headers: { ...bearer(key), 'content-type': contentType, ...headers },
    payload: body,
  });
const score = (pan: string, over: Record<string, unknown> = {}, card2: Record<string, unknown> = {}) =>
  t.app
    .inject({
      method: 'POST',
      url: '/v1/score',
      headers: bearer(t.keys.merchant),
      payload: scoreBody({
        card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match', ...card2 },
        ...over,
      } as never),
    })
    .then((r) => r.json());
const codes = (body: { reasons: { code: string }[] }) => body.reasons.map((r) => r.code);

describe('compromise events', () => {
  it('are created by issuers for themselves, idempotently by external id, and by admins for an issuer', async () => {
    // One declaration of external id dup-1, with what a test changes in it.
    const declare = (over: Record<string, unknown> = {}) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/compromise-events',
        headers: bearer(t.keys.issuer),
        payload: {
          externalId: 'dup-1',
          source: 's',
          exposureStart: '2026-01-01T00:00:00Z',
          exposureEnd: '2026-02-01T00:00:00Z',
          discoveredAt: '2026-03-01T00:00:00Z',
          dataElements: ['pan'],
          ...over,
        },
      });
    const first = await declare();
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      issuerId: 'i1',
      status: 'open',
      confidence: 'confirmed',
      statistics: { cardsListed: 0, cardsRemoved: 0, hits: 0, distinctMerchants: 0, lastHitAt: null },
    });
    const again = await declare();
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    // The same externalId declaring more leaked (the security code) and a later end: not answered the
    // old event as if it had been taken; a retry with another description or source still is.
    const changed = await declare({ dataElements: ['pan', 'cvv'], exposureEnd: '2026-02-15T00:00:00Z' });
    expect(changed.statusCode).toBe(409);
    expect(changed.json()).toMatchObject({
      code: 'EVENT_CONFLICT',
      details: [{ path: 'dataElements' }, { path: 'exposureEnd' }],
    });
    const retried = await declare({
      description: 'from the other system',
      exposureStart: '2026-01-01T00:00:00.000Z',
    });
    expect([retried.statusCode, retried.json().id]).toEqual([200, first.json().id]);
    const forOther = await t.app.inject({
      method: 'POST',
      url: '/v1/compromise-events',
      headers: bearer(t.keys.issuer),
      payload: {
        externalId: 'x',
        source: 's',
        exposureStart: '2026-01-01T00:00:00Z',
        exposureEnd: '2026-02-01T00:00:00Z',
        discoveredAt: '2026-03-01T00:00:00Z',
        dataElements: ['pan'],
        issuerId: 'i2',
      },
    });
    expect(forOther.statusCode).toBe(403);
    const byAdmin = await createEvent(['pan'], t.keys.admin, { issuerId: 'i2' });
    expect(byAdmin).toMatchObject({ issuerId: 'i2' });
    const adminWithout = await t.app.inject({
      method: 'POST',
      url: '/v1/compromise-events',
      headers: bearer(t.keys.admin),
      payload: {
        externalId: 'y',
        source: 's',
        exposureStart: '2026-01-01T00:00:00Z',
        exposureEnd: '2026-02-01T00:00:00Z',
        discoveredAt: '2026-03-01T00:00:00Z',
        dataElements: ['pan'],
      },
    });
    expect(adminWithout.json().details).toEqual([
      { path: 'issuerId', message: 'is required when an admin declares an event' },
    ]);
  });

  it('validates events field by field', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/compromise-events',
      headers: bearer(t.keys.issuer),
      payload: {
        externalId: '',
        source: 's',
        exposureStart: '2026-05-01T00:00:00Z',
        exposureEnd: '2026-01-01T00:00:00Z',
        discoveredAt: 'soon',
        dataElements: ['cvv', 'password'],
        confidence: 'maybe',
      },
    });
    expect(res.statusCode).toBe(400);
    const paths = res.json().details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['externalId', 'discoveredAt', 'dataElements.1', 'confidence']));
    const noPan = await t.app.inject({
      method: 'POST',
      url: '/v1/compromise-events',
      headers: bearer(t.keys.issuer),
      payload: {
        externalId: 'z',
        source: 's',
        exposureStart: '2026-05-01T00:00:00Z',
        exposureEnd: '2026-01-01T00:00:00Z',
        discoveredAt: '2026-06-01T00:00:00Z',
        dataElements: ['cvv'],
      },
    });
    expect(noPan.json().details).toEqual(
      expect.arrayContaining([
        { path: 'exposureEnd', message: 'must not be before exposureStart' },
        { path: 'dataElements', message: 'must include pan: a card list is a list of leaked card numbers' },
      ]),
    );
  });
  it("refuses an admin's event for the reserved breach-discovery issuer, and a hit query whose from is after its to", async () => {
    const reserved = await t.app.inject({
      method: 'POST',
      url: '/v1/compromise-events',
      headers: bearer(t.keys.admin),
      payload: {
        externalId: 'not-ours',
        source: 'card network alert',
        exposureStart: '2026-05-01T00:00:00Z',
        exposureEnd: '2026-10-31T00:00:00Z',
        discoveredAt: '2026-11-10T00:00:00Z',
        dataElements: ['pan'],
        issuerId: 'leakguard',
      },
    });
    expect(reserved.statusCode, reserved.body).toBe(400);
    expect(reserved.json()).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'issuerId' }] });
    const backwards = await t.app.inject({
      url: '/v1/issuer/hits?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z',
      headers: bearer(t.keys.issuer),
    });
    expect(backwards.statusCode, backwards.body).toBe(400);
    expect(backwards.json()).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'querystring.from' }] });
    const sameInstant = await t.app.inject({
      url: '/v1/issuer/hits?from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z',
      headers: bearer(t.keys.issuer),
    });
    expect(sameInstant.statusCode).toBe(200);
  });
});

describe('card list uploads', () => {
  it('keeps valid lines, reports each rejected one by number and reason with the card masked', async () => {
    const ev = await createEvent(['pan', 'expiry']);
    const good = [card(), card(), card()];
    const bad = { luhn: '4111111111111112', foreign: card('401288'), short: '41111' };
    const lines = [
      'pan,expiry_month,expiry_year',
      `${good[0]},12,2029`,
      `${good[1]}`,
      `abc${good[2]}`,
      bad.luhn,
      `${good[2]},13,2029`,
      `${good[2]},12,1990`,
      bad.foreign,
      bad.short,
      `${good[2]},7,29`,
      '',
    ];
    const res = await upload(ev.id, lines.join('\n'));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      accepted: 3,
      duplicates: 0,
      rejected: 6,
      rejectedByCode: { MALFORMED: 1, INVALID_CARD: 2, INVALID_EXPIRY: 2, BIN_NOT_OWNED: 1 },
    });
    expect(body.errors).toEqual([
      { line: 4, code: 'MALFORMED', reason: 'expected pan[,expiry_month,expiry_year]', card: '(unreadable)' },
      { line: 5, code: 'INVALID_CARD', reason: 'card number fails the Luhn check', card: '411111******1112' },
      {
        line: 6,
        code: 'INVALID_EXPIRY',
        reason: 'expiry month must be 1 to 12',
        card: expect.stringMatching(/^411111\*+\d{4}$/),
      },
      {
        line: 7,
        code: 'INVALID_EXPIRY',
        reason: 'implausible expiry year',
        card: expect.stringMatching(/^411111\*+\d{4}$/),
      },
      {
        line: 8,
        code: 'BIN_NOT_OWNED',
        reason: 'card is outside the BIN ranges registered to your issuer',
        card: expect.stringMatching(/^401288\*+\d{4}$/),
      },
      { line: 9, code: 'INVALID_CARD', reason: 'card number must be 12 to 19 digits', card: '(unreadable)' },
    ]);
    for (const pan of [...good, bad.luhn, bad.foreign]) expect(res.body).not.toContain(pan);
    const again = await upload(ev.id, lines.join('\n'));
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 3, rejected: 6 });
    const stats = (await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(t.keys.issuer) })).json()
      .statistics;
    expect(stats.cardsListed).toBe(3);
  });

  it('counts every rejected line by code beyond the first 100 it lists: what a large list got wrong', async () => {
    const ev = await createEvent(['pan']);
    const lines = [
      ...Array.from({ length: 250 }, () => card('401288')), // another issuer's BIN
      ...Array.from({ length: 40 }, () => '4111111111111112'), // fails the Luhn check
      card(),
    ];
    const body = (await upload(ev.id, lines.join('\n'))).json();
    expect(body).toMatchObject({
      accepted: 1,
      rejected: 290,
      rejectedByCode: { BIN_NOT_OWNED: 250, INVALID_CARD: 40 },
    });
    expect(body.errors).toHaveLength(100);
    expect(JSON.stringify(body)).not.toMatch(/401288\d{10}|4111111111111112/);
  });

  it('lists a card whose expiry cells are blank as the card alone: a spreadsheet export of cards without a known expiry', async () => {
    const stats = async (id: string) =>
      (await t.app.inject({ url: `/v1/compromise-events/${id}`, headers: bearer(t.keys.issuer) })).json().statistics;
    const listed = async (pans: string[]) =>
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/cards/lookup',
          headers: bearer(t.keys.issuer),
          payload: { cards: pans.map((pan) => ({ pan })) },
        })
      )
        .json()
        .cards.filter((c: { listed: boolean }) => c.listed).length;
    // pan,expiry_month,expiry_year: one card in ten with its expiry, the others' cells blank, as
    // spreadsheets save them (unquoted, quoted, with ;).
    const blank = [(p: string) => `${p},,`, (p: string) => `"${p}","",""`, (p: string) => `${p};;`];
    const mixed = await createEvent(['pan', 'expiry']);
    const pans = Array.from({ length: 1_500 }, () => card());
    const lines = pans.map((p, i) => (i % 10 === 0 ? `${p},12,2030` : blank[i % 3]!(p)));
    const res = await upload(mixed.id, `pan,expiry_month,expiry_year\r\n${lines.join('\r\n')}\r\n`);
    expect([res.statusCode, res.json()]).toMatchObject([
      200,
      { accepted: 1_500, duplicates: 0, rejected: 0, rejectedByCode: {}, errors: [] },
    ]);
    expect((await stats(mixed.id)).cardsListed).toBe(1_500);
    expect(await listed(pans.slice(0, 1_000))).toBe(1_000);
    // Every expiry blank: the whole list taken, not refused as no card list.
    const none = await createEvent(['pan']);
    const more = Array.from({ length: 1_500 }, () => card());
    const all = await upload(none.id, `pan,expiry_month,expiry_year\r\n${more.map((p) => `${p},,`).join('\r\n')}\r\n`);
    expect([all.statusCode, all.json()]).toMatchObject([200, { accepted: 1_500, duplicates: 0, rejected: 0 }]);
    expect((await stats(none.id)).cardsListed).toBe(1_500);
    // Listed as the card alone: the same cards sent without the blank cells are duplicates.
    const again = await upload(none.id, more.join('\n'));
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 1_500, rejected: 0 });
    // Half an expiry: rejected saying which half is missing, the card masked.
    const half = await upload(none.id, `${card()},12,\n${card()},,2030\n${card()}\n`);
    expect(half.json()).toMatchObject({
      accepted: 1,
      rejected: 2,
      rejectedByCode: { INVALID_EXPIRY: 2 },
      errors: [
        {
          line: 1,
          code: 'INVALID_EXPIRY',
          reason: 'expiry needs both month and year (a month without a year)',
          card: expect.stringMatching(/^411111\*+\d{4}$/),
        },
        { line: 2, code: 'INVALID_EXPIRY', reason: 'expiry needs both month and year (a year without a month)' },
      ],
    });
  });

  it('takes NDJSON lines', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const pan = card();
    const res = await upload(
      ev.id,
      `{"pan":"${pan}","expiryMonth":4,"expiryYear":2028}\n{"pan":"${card()}"}\n{"pan":4111}\nnot json\n`,
      'application/x-ndjson',
    );
    expect(res.json()).toMatchObject({ accepted: 2, rejected: 2 });
    expect(res.json().errors.map((e: { line: number; code: string }) => [e.line, e.code])).toEqual([
      [3, 'MALFORMED'],
      [4, 'MALFORMED'],
    ]);
  });

  it('refuses what is not a card list, before storing anything', async () => {
    const ev = await createEvent(['pan']);
    const pan = card();
    // Refused on its content type before the body is read or parsed: a CSV sent as JSON is not a
    // MALFORMED_BODY (its parse), and every other type gets the route's own message.
    const notACardList = {
      code: 'UNSUPPORTED_MEDIA_TYPE',
      error: 'send the card list as text/csv or application/x-ndjson',
    };
    for (const [body, type] of [
      [JSON.stringify([{ pan }]), 'application/json'],
      [`${pan}\n${pan}`, 'application/json'],
      [pan, 'text/plain'],
      [pan, 'application/jsonl'],
    ] as const) {
      const res = await upload(ev.id, body, type);
      expect([res.statusCode, res.json()], type).toMatchObject([415, notACardList]);
    }
    const multipart = `--b\r\nContent-Disposition: form-data; name="file"; filename="cards.csv"\r\nContent-Type: text/csv\r\n\r\n${pan}\r\n--b--\r\n`;
    expect((await upload(ev.id, multipart, 'multipart/form-data; boundary=b')).statusCode).toBe(415);
    expect(
      (await upload(ev.id, Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.from(pan)]), 'text/csv')).statusCode,
    ).toBe(415);
    expect((await upload(ev.id, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]), 'text/csv')).statusCode).toBe(415);
    expect((await upload(ev.id, Buffer.from(`${pan}\n\u0000\u0001binary`), 'text/csv')).statusCode).toBe(415);
    const gz = await upload(ev.id, pan, 'text/csv', t.keys.issuer, { 'content-encoding': 'gzip' });
    expect(gz.statusCode).toBe(415);
    expect(gz.json().error).toBe('compressed uploads are refused: send the card list as plain text');
    // UTF-8 (or ASCII) only, said before anything is read.
    const utf16 = await upload(ev.id, 'pan\n', 'text/csv; charset=utf-16');
    expect([utf16.statusCode, utf16.json().error]).toEqual([
      415,
      'send the card list in UTF-8 (charset=utf-8, or none)',
    ]);
    expect((await upload(ev.id, 'pan\n', 'text/csv; charset="UTF-8"')).statusCode).toBe(200);
    // "identity" is no encoding, in any case.
    const identity = await upload(ev.id, 'pan\n', 'text/csv', t.keys.issuer, { 'content-encoding': 'Identity' });
    expect(identity.statusCode).toBe(200);
    const huge = await upload(ev.id, `${pan}\n`.repeat(5000), 'text/csv');
    expect(huge.statusCode).toBe(413);
    const stats = (await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(t.keys.issuer) })).json()
      .statistics;
    expect(stats.cardsListed).toBe(0);
  });

  it('a list refused part way says what the lines before did; one whose event closes meanwhile stops there', async () => {
    const ev = await createEvent(['pan']);
    const pans = Array.from({ length: 1500 }, () => card());
    const tooLong = await upload(ev.id, `${pans.join('\n')}\n${'9'.repeat(17_000)}\n${card()}\n`);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({
      code: 'UPLOAD_REFUSED',
      kept: { accepted: 1500, duplicates: 0, rejected: 0 },
    });

    // Closed while its lines stream in: the batch sent before is kept, nothing after.
    const closing = await createEvent(['pan']);
    const body = new PassThrough();
    const answer = t.app.inject({
      method: 'POST',
      url: `/v1/compromise-events/${closing.id}/cards`,
      headers: { ...bearer(t.keys.issuer), 'content-type': 'text/csv' },
      payload: body,
    });
    body.write(Array.from({ length: 1200 }, () => `${card()}\n`).join(''));
    await new Promise((r) => setTimeout(r, 200));
    const closed = await t.app.inject({
      method: 'POST',
      url: `/v1/compromise-events/${closing.id}/close`,
      headers: bearer(t.keys.issuer),
    });
    expect(closed.json().status).toBe('closed');
    body.end(Array.from({ length: 1200 }, () => `${card()}\n`).join(''));
    const res = await answer;
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'EVENT_CONFLICT', kept: { accepted: 1000 } });
    const stats = (
      await t.app.inject({ url: `/v1/compromise-events/${closing.id}`, headers: bearer(t.keys.issuer) })
    ).json().statistics;
    expect(stats.cardsListed).toBe(1000);
  });

  it('keeps the whole lines before the limit of a body over it that declares no length, sent in one chunk', async () => {
    // 64 KiB here: 3,855 lines of 17 bytes fit, the next one is cut by the limit.
    const ev = await createEvent(['pan']);
    const pans = Array.from({ length: 6_000 }, () => card());
    const body = new PassThrough();
    const answer = t.app.inject({
      method: 'POST',
      url: `/v1/compromise-events/${ev.id}/cards`,
      headers: { ...bearer(t.keys.issuer), 'content-type': 'text/csv' },
      payload: body,
    });
    body.end(`${pans.join('\n')}\n`);
    const res = await answer;
    const fit = Math.floor((64 * 1024) / 17);
    expect([res.statusCode, res.json()]).toMatchObject([
      413,
      {
        code: 'UPLOAD_REFUSED',
        error: 'card list larger than the limit of 65536 bytes: split it (the lines before the limit were kept)',
        kept: { accepted: fit, duplicates: 0, rejected: 0 },
      },
    ]);
    const stats = (await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(t.keys.issuer) })).json()
      .statistics;
    expect(stats.cardsListed).toBe(fit);
  });

  it('answers a NUL byte later in the body the same however TCP cuts the body: the lines before it kept', async () => {
    const send = async (body: Buffer, size: number) => {
      const ev = await createEvent(['pan']);
      const stream = new PassThrough();
      const answer = t.app.inject({
        method: 'POST',
        url: `/v1/compromise-events/${ev.id}/cards`,
        headers: { ...bearer(t.keys.issuer), 'content-type': 'text/csv' },
        payload: stream,
      });
      for (let at = 0; at < body.length; at += size) stream.write(body.subarray(at, at + size));
      stream.end();
      const res = await answer;
      const stats = (
        await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(t.keys.issuer) })
      ).json().statistics;
      return { status: res.statusCode, body: res.json(), listed: stats.cardsListed };
    };
    const lines = (n: number) => Array.from({ length: n }, () => `${card()}\n`).join('');
    const body = Buffer.from(`${lines(50)}ab\0cd\n${lines(50)}`);
    const whole = await send(body, body.length);
    expect(whole).toMatchObject({
      status: 415,
      body: {
        code: 'UPLOAD_REFUSED',
        error:
          'binary content refused: upload a text card list (CSV or NDJSON): line 51 holds a NUL byte (the lines before it were kept)',
        kept: { accepted: 50, duplicates: 0, rejected: 0 },
      },
      listed: 50,
    });
    expect(await send(body, 600)).toEqual(whole);
  });

  it('stops a list none of whose first 1,000 lines is a card line, naming the likely cause', async () => {
    const ev = await createEvent(['pan']);
    // Tab-separated: not a form the parser reads. Read no further than the first batches.
    const tabs = await upload(ev.id, Array.from({ length: 2_500 }, () => `${card()}\t12\t2030\n`).join(''));
    expect(tabs.statusCode).toBe(400);
    const refused = tabs.json();
    expect(refused).toMatchObject({
      code: 'UPLOAD_REFUSED',
      error:
        'none of the first 1,000 lines is a card list line: expected pan[,expiry_month,expiry_year] (docs/watchlists.md lists the forms read); line 1: expected pan[,expiry_month,expiry_year] (the list was read no further)',
      kept: { accepted: 0, duplicates: 0, rejected: 1000 },
    });
    expect(refused.kept.errors).toHaveLength(100);
    expect(refused.kept.errors[0]).toEqual({
      line: 1,
      code: 'MALFORMED',
      reason: 'expected pan[,expiry_month,expiry_year]',
      card: '(unreadable)',
    });
    // A short list all of whose lines are rejected: refused the same way, every line reported.
    const short = await upload(ev.id, `pan\n4111111111111112\n${card('401288')}\n\n`);
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({
      code: 'UPLOAD_REFUSED',
      error:
        'none of the 2 lines holds a card that can be listed (rejected: INVALID_CARD 1, BIN_NOT_OWNED 1); line 2: card number fails the Luhn check',
      kept: { accepted: 0, rejected: 2, errors: [{ line: 2 }, { line: 3, code: 'BIN_NOT_OWNED' }] },
    });
    expect(JSON.stringify(short.json())).not.toContain('4111111111111112');
    // One card among them is enough: the list is read to its end.
    const one = await upload(ev.id, `${'x\n'.repeat(999)}${card()}\n${'x\n'.repeat(3000)}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ accepted: 1, rejected: 3999 });
    const stats = (await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(t.keys.issuer) })).json()
      .statistics;
    expect(stats.cardsListed).toBe(1);
  });

  it("refuses uploads to closed events, and to other issuers' events as if they did not exist", async () => {
    const ev = await createEvent(['pan']);
    expect((await upload(ev.id, card(), 'text/csv', issuer2)).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(issuer2) })).statusCode).toBe(
      404,
    );
    expect(
      (await t.app.inject({ url: '/v1/compromise-events', headers: bearer(issuer2) }))
        .json()
        .events.map((e: { id: string }) => e.id),
    ).not.toContain(ev.id);
    expect(
      (await t.app.inject({ method: 'POST', url: `/v1/compromise-events/${ev.id}/close`, headers: bearer(issuer2) }))
        .statusCode,
    ).toBe(404);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/v1/compromise-events/${ev.id}/close`,
          headers: bearer(t.keys.issuer),
        })
      ).json().status,
    ).toBe('closed');
    const closed = await upload(ev.id, card());
    expect(closed.statusCode).toBe(409);
    expect(closed.json().error).toBe('the event is closed: it takes no more uploads');
    expect((await upload('ce_999999', card())).statusCode).toBe(404);
    expect((await upload('../../etc/passwd', card())).statusCode).toBe(404);
  });
});

describe('an upload whose store fails part way', () => {
  it('answers 503 with what the lines before did (kept), and logs it without a card number', async () => {
    // A Redis of its own, durable as a production one: killed between two batches, back after.
    const down = await RedisServer.start({ durable: true });
    const app = await buildTestApp({ REDIS_URL: down.url });
    try {
      await setBinRanges(app, { i1: [{ from: '411111', to: '411199' }] });
      const ev = await declareEvent(app, ['pan'], { key: app.keys.issuer });
      const listed = async () =>
        (await app.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(app.keys.issuer) })).json()
          .statistics?.cardsListed as number | undefined;
      const pans = Array.from({ length: 3_000 }, () => card());
      const body = new PassThrough();
      const answer = app.app.inject({
        method: 'POST',
        url: `/v1/compromise-events/${ev.id}/cards`,
        headers: { ...bearer(app.keys.issuer), 'content-type': 'text/csv' },
        payload: body,
      });
      // Two batches of 1,000 lines, three of them rejected, stored; then Redis goes down.
      const bad = ['4111111111111112', 'x', card('401288')];
      body.write(`${[...bad, ...pans.slice(0, 1_997)].join('\n')}\n`);
      expect(await until(listed, (n) => n === 1_997)).toBe(1_997);
      await down.kill();
      body.end(`${pans.slice(1_997).join('\n')}\n`);
      const res = await answer;
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        code: 'UNAVAILABLE',
        kept: {
          accepted: 1_997,
          duplicates: 0,
          rejected: 3,
          rejectedByCode: { INVALID_CARD: 1, MALFORMED: 1, BIN_NOT_OWNED: 1 },
          errors: [{ line: 1 }, { line: 2 }, { line: 3 }],
        },
      });
      // Logged with the progress, as a refusal part way is; no card number in any log line.
      const logged = app.logs.filter((l) => l.includes('card list upload stopped part way'));
      expect(logged).toHaveLength(1);
      expect(JSON.parse(logged[0]!)).toMatchObject({ event: ev.id, accepted: 1_997, duplicates: 0, rejected: 3 });
      const logs = app.logs.join('\n');
      for (const pan of [bad[0]!, bad[2]!, ...pans]) expect(logs).not.toContain(pan);
      // What it said was kept is what is listed once Redis is back.
      await down.resume();
      expect(
        await until(
          () => listed().catch(() => undefined),
          (n) => n !== undefined,
        ),
      ).toBe(1_997);
    } finally {
      await app.close();
      await down.stop();
    }
  });
});

describe('what a hit does to scoring', () => {
  it('security code leaked: at least a step-up card-not-present, and a matching CVV proves nothing', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const pan = card();
    await upload(ev.id, `${pan},12,2030`);
    const body = await score(pan);
    expect(codes(body)).toEqual(['LEAKED_CARD_CVV_COMPROMISED', 'LEAKED_CARD_RECENT_EXPOSURE']);
    expect(body.decision).toBe('challenge');
    expect(body.checks.watchlist).toBe('evaluated');
    // More step-up evidence (a high amount, another country): still a question 3-D Secure answers (docs/decision-policy.md).
    const heavy = await score(pan, {
      amount: 250_000,
      shippingAddress: { line1: '1 Reship Way', postalCode: '99999', country: 'US' },
      billingAddress: { country: 'JP' },
    });
    expect(heavy.score).toBeGreaterThanOrEqual(80);
    expect(heavy.decision).toBe('challenge');
    // Strong evidence joins: a device several other cards used today (a ring). The whole score decides.
    for (const other of [card(), card(), card()]) await score(other, { device: { id: 'ring-device-1' } });
    const ring = await score(pan, { amount: 250_000, device: { id: 'ring-device-1' } });
    expect(codes(ring)).toEqual(expect.arrayContaining(['DEVICE_MANY_CARDS_24H', 'LEAKED_CARD_CVV_COMPROMISED']));
    expect(ring.decision).toBe('decline');
  });

  it('security code not leaked: a match keeps its weight, a mismatch is a strong signal', async () => {
    const ev = await createEvent(['pan', 'name']);
    const pan = card();
    await upload(ev.id, pan);
    const match = await score(pan);
    expect(codes(match)).toEqual(['LEAKED_CARD', 'LEAKED_CARD_RECENT_EXPOSURE', 'LEAKED_CARD_CVV_MATCH']);
    expect(match.decision).toBe('approve');
    const mismatch = await score(pan, {}, { cvvResult: 'mismatch' });
    expect(codes(mismatch)).toEqual(
      expect.arrayContaining(['CVV_MISMATCH', 'LEAKED_CARD', 'LEAKED_CARD_CVV_MISMATCH']),
    );
    expect(mismatch.decision).toBe('decline');
  });

  it('a new expiry means the card was reissued: the hit loses most of its weight', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const pan = card();
    await upload(ev.id, `${pan},3,2028`);
    const reissued = await score(pan, {}, { expiryMonth: 12, expiryYear: 2031 });
    expect(codes(reissued)).toEqual(['LEAKED_CARD_REISSUED']);
    expect(reissued.decision).toBe('approve');
    const leaked = await score(pan, {}, { expiryMonth: 3, expiryYear: 2028 });
    expect(codes(leaked)[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
  });

  it('a card listed again with another expiry keeps both as leaked: neither counts as a reissue', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const pan = card();
    await upload(ev.id, `${pan},12,2030`);
    // An older list uploaded after the newer one: the report calls the line a duplicate.
    await upload(ev.id, `${pan},1,2027`);
    for (const [expiryMonth, expiryYear] of [
      [12, 2030],
      [1, 2027],
    ] as const) {
      const leaked = await score(pan, {}, { expiryMonth, expiryYear });
      expect(codes(leaked)).not.toContain('LEAKED_CARD_REISSUED');
      expect(codes(leaked)[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
      expect(leaked.decision).toBe('challenge');
    }
  });

  it("an issuer changes its event's confidence and exposure end: used at once, its cards still listed", async () => {
    const patch = (id: string, payload: Record<string, unknown>, key = t.keys.issuer) =>
      t.app.inject({ method: 'PATCH', url: `/v1/compromise-events/${id}`, headers: bearer(key), payload });
    // Suspected, and an exposure that ended long ago: not a recent exposure.
    const ev = await createEvent(['pan'], t.keys.issuer, {
      confidence: 'suspected',
      exposureStart: '2025-01-01T00:00:00Z',
      exposureEnd: '2025-03-01T00:00:00Z',
    });
    const pan = card();
    await upload(ev.id, pan);
    expect(codes(await score(pan))).not.toContain('LEAKED_CARD_RECENT_EXPOSURE');
    // The investigation: confirmed, and the exposure ran until last week.
    const changed = await patch(ev.id, { confidence: 'confirmed', exposureEnd: '2026-11-30T00:00:00Z' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({
      id: ev.id,
      confidence: 'confirmed',
      exposureStart: '2025-01-01T00:00:00Z',
      exposureEnd: '2026-11-30T00:00:00Z',
      statistics: { cardsListed: 1 },
    });
    expect(codes(await score(pan))).toContain('LEAKED_CARD_RECENT_EXPOSURE');
    // Precise refusals: before its start, nothing to change, a field of its own, another issuer's event.
    const early = await patch(ev.id, { exposureEnd: '2024-12-31T00:00:00Z' });
    expect(early.statusCode).toBe(400);
    expect(early.json().details).toEqual([
      { path: 'exposureEnd', message: "must not be before the event's exposureStart (2025-01-01T00:00:00Z)" },
    ]);
    const empty = await patch(ev.id, {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().details).toEqual([{ path: '(root)', message: 'must change confidence, exposureEnd or both' }]);
    const other = await patch(ev.id, { dataElements: ['pan', 'cvv'] });
    expect(other.statusCode).toBe(400);
    expect(other.json().details[0].message).toContain('has fields that are not allowed: dataElements');
    expect((await patch(ev.id, { confidence: 'suspected' }, issuer2)).statusCode).toBe(404);
    // Retracted: 409, unchanged.
    await t.app.inject({
      method: 'POST',
      url: `/v1/compromise-events/${ev.id}/retract`,
      headers: bearer(t.keys.issuer),
    });
    const late = await patch(ev.id, { confidence: 'suspected' });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'EVENT_CONFLICT', error: expect.stringContaining('retracted') });
  });

  it("a retracted event's expiry no longer decides whether the card was reissued", async () => {
    const retract = (id: string) =>
      t.app.inject({ method: 'POST', url: `/v1/compromise-events/${id}/retract`, headers: bearer(t.keys.issuer) });
    // Listed by mistake with an old expiry, retracted; then listed without one by the right event.
    const pan = card();
    const wrong = await createEvent(['pan', 'expiry', 'cvv']);
    await upload(wrong.id, `${pan},1,2027`);
    expect((await retract(wrong.id)).statusCode).toBe(200);
    const right = await createEvent(['pan', 'cvv']);
    await upload(right.id, pan);
    const presented = await score(pan);
    expect(codes(presented)).not.toContain('LEAKED_CARD_REISSUED');
    expect(codes(presented)[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
    // Listed again with its real expiry after a retraction: that one decides, and a reissue is recognised.
    const other = card();
    const wrong2 = await createEvent(['pan', 'expiry', 'cvv']);
    await upload(wrong2.id, `${other},1,2027`);
    expect((await retract(wrong2.id)).statusCode).toBe(200);
    const right2 = await createEvent(['pan', 'expiry', 'cvv']);
    await upload(right2.id, `${other},12,2030`);
    expect(codes(await score(other))[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
    expect(codes(await score(other, {}, { expiryMonth: 3, expiryYear: 2032 }))).toEqual(['LEAKED_CARD_REISSUED']);
  });

  it('a successful 3-D Secure authentication lowers the risk; repeated use since listing raises it', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const pan = card();
    await upload(ev.id, pan);
    const authenticated = await score(pan, { threeDS: { status: 'Y', version: '2.2.0' } });
    expect(codes(authenticated)).toEqual(
      expect.arrayContaining(['LEAKED_CARD_3DS_AUTHENTICATED', 'THREE_DS_AUTHENTICATED']),
    );
    expect(authenticated.decision).toBe('approve');
    await score(pan);
    const third = await score(pan);
    expect(codes(third)).toContain('LEAKED_CARD_REPEATED_USE');
  });

  it('retraction takes the cards off the watchlist unless another live event lists them', async () => {
    const a = await createEvent(['pan', 'cvv']);
    const b = await createEvent(['pan']);
    const both = card();
    const onlyA = card();
    await upload(a.id, `${both}\n${onlyA}`);
    await upload(b.id, both);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/v1/compromise-events/${a.id}/retract`,
          headers: bearer(t.keys.issuer),
        })
      ).json().status,
    ).toBe('retracted');
    expect(codes(await score(onlyA))).toEqual([]);
    expect(codes(await score(both))).toContain('LEAKED_CARD');
    expect(codes(await score(both))).not.toContain('LEAKED_CARD_CVV_COMPROMISED');
    expect((await upload(a.id, card())).statusCode).toBe(409);
  });

  it('removal by card number or fingerprint takes a card off every event; issuers only their own', async () => {
    const ev = await createEvent(['pan', 'cvv']);
    const [p1, p2, p3] = [card(), card(), card()];
    await upload(ev.id, `${p1}\n${p2}\n${p3}`);
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: '/v1/cards',
      headers: bearer(issuer2),
      payload: { cards: [{ pan: p1 }] },
    });
    expect(foreign.json()).toEqual({
      removed: 0,
      notListed: 0,
      rejected: [{ index: 0, reason: 'BIN_NOT_OWNED: card is outside your BIN ranges' }],
    });
    const removed = await t.app.inject({
      method: 'DELETE',
      url: '/v1/cards',
      headers: bearer(t.keys.issuer),
      payload: { cards: [{ pan: p1 }, { pan: '4111111111111112' }] },
    });
    expect(removed.json()).toEqual({
      removed: 1,
      notListed: 0,
      rejected: [{ index: 1, reason: 'pan fails the Luhn check' }],
    });
    expect(removed.body).not.toContain('4111111111111112');
    expect(codes(await score(p1))).toEqual([]);
    // By fingerprint, as Kafka decisions and cases carry it.
    const fingerprintOf = async (pan: string) => {
      const probe = await t.runtime.engine.score('m1', {
        ...scoreBody({ card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' } }),
      } as never);
      return probe.kind === 'scored' ? probe.evidence!.card.fingerprint : '';
    };
    const fingerprint = await fingerprintOf(p2);
    const notMine = await t.app.inject({
      method: 'DELETE',
      url: '/v1/cards',
      headers: bearer(issuer2),
      payload: { cards: [{ fingerprint }] },
    });
    // Listed by i1's events only: to i2 it is a card nobody lists, no hint of another issuer's listing.
    expect(notMine.json()).toEqual({ removed: 0, notListed: 1, rejected: [] });
    const neverListed = await t.app.inject({
      method: 'DELETE',
      url: '/v1/cards',
      headers: bearer(issuer2),
      payload: { cards: [{ fingerprint: 'A'.repeat(43) }] },
    });
    expect(neverListed.json()).toEqual(notMine.json());
    // Named by its number and by its fingerprint: one card.
    const twice = await t.app.inject({
      method: 'DELETE',
      url: '/v1/cards',
      headers: bearer(t.keys.issuer),
      payload: { cards: [{ pan: p3 }, { fingerprint: await fingerprintOf(p3) }] },
    });
    expect(twice.json()).toEqual({ removed: 1, notListed: 0, rejected: [] });
    const mine = await t.app.inject({
      method: 'DELETE',
      url: '/v1/cards',
      headers: bearer(t.keys.issuer),
      payload: { cards: [{ fingerprint }] },
    });
    expect(mine.json()).toMatchObject({ removed: 1 });
    expect(codes(await score(p2))).toEqual([]);
    expect(
      (await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(t.keys.issuer) })).json().statistics,
    ).toMatchObject({ cardsListed: 3, cardsRemoved: 3 });
  });
});

describe("removal takes cards off the remover's events only", () => {
  const remove = (key: string, payload: object) =>
    t.app.inject({ method: 'DELETE', url: '/v1/cards', headers: bearer(key), payload }).then((r) => r.json());
  const statistics = async (id: string) =>
    (await t.app.inject({ url: `/v1/compromise-events/${id}`, headers: bearer(t.keys.admin) })).json().statistics;

  it("an issuer's removal leaves another issuer's and Leakguard's listings of the card in place", async () => {
    const i3 = (await createApiKey(t.runtime.apiKeys, { role: 'issuer', issuerId: 'i3' })).key;
    const own = await createEvent(['pan', 'cvv']);
    const others = await createEvent(['pan', 'expiry'], t.keys.admin, { issuerId: 'i3' });
    const pan = card();
    await upload(own.id, pan);
    await upload(others.id, `${pan},12,2030`, 'text/csv', t.keys.admin);
    // The same card twice in one request: one card.
    expect(await remove(t.keys.issuer, { cards: [{ pan }, { pan }] })).toEqual({
      removed: 1,
      notListed: 0,
      rejected: [],
    });
    expect(await statistics(own.id)).toMatchObject({ cardsListed: 1, cardsRemoved: 1 });
    expect(await statistics(others.id)).toMatchObject({ cardsListed: 1, cardsRemoved: 0 });
    // Still listed by i3's event: its listing (and its expiry) score as before.
    const after = await score(pan);
    expect(codes(after)).toContain('LEAKED_CARD');
    expect(codes(after)).not.toContain('LEAKED_CARD_CVV_COMPROMISED');
    // Nothing of i1's is left on the card: not listed, as far as i1 can tell.
    expect(await remove(t.keys.issuer, { cards: [{ pan }] })).toEqual({ removed: 0, notListed: 1, rejected: [] });
    // An event of another issuer's is not found; i3 may remove from its own.
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: '/v1/cards',
      headers: bearer(t.keys.issuer),
      payload: { cards: [{ pan }], eventId: others.id },
    });
    expect(foreign.statusCode).toBe(404);
    expect(i3).toBeTruthy();
  });

  it('takes a card off one named event; an admin takes it off every event', async () => {
    const [a, b] = [await createEvent(['pan', 'cvv']), await createEvent(['pan'])];
    const other = await createEvent(['pan'], t.keys.admin, { issuerId: 'i2' });
    const pan = card();
    await upload(a.id, pan);
    await upload(b.id, pan);
    await upload(other.id, pan, 'text/csv', t.keys.admin);
    expect(await remove(t.keys.issuer, { cards: [{ pan }], eventId: a.id })).toEqual({
      removed: 1,
      notListed: 0,
      rejected: [],
    });
    expect(await statistics(a.id)).toMatchObject({ cardsRemoved: 1 });
    expect(await statistics(b.id)).toMatchObject({ cardsRemoved: 0 });
    expect(codes(await score(pan))).not.toContain('LEAKED_CARD_CVV_COMPROMISED');
    expect(await remove(t.keys.admin, { cards: [{ pan }, { pan }] })).toEqual({
      removed: 1,
      notListed: 0,
      rejected: [],
    });
    expect(await statistics(b.id)).toMatchObject({ cardsRemoved: 1 });
    expect(await statistics(other.id)).toMatchObject({ cardsRemoved: 1 });
    expect(codes(await score(pan))).toEqual([]);
  });
});

describe('issuer visibility', () => {
  it('records each hit once for the listing issuer, with statistics and metrics; other issuers see nothing', async () => {
    const ev = await createEvent(['pan', 'cvv']);
    const pan = card();
    await upload(ev.id, pan);
    const body = scoreBody({
      transactionId: 'hit-1',
      amount: 12_345,
      card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
    });
    await t.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(t.keys.merchant), payload: body });
    await t.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(t.keys.merchant), payload: body }); // retry
    await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: bearer(t.keys.otherMerchant),
      payload: { ...body, transactionId: 'hit-2' },
    });
    await new Promise((r) => setTimeout(r, 100)); // hits are written after the answer
    const hits = (
      await t.app.inject({ url: `/v1/issuer/hits?eventId=${ev.id}`, headers: bearer(t.keys.issuer) })
    ).json().hits;
    expect(hits).toHaveLength(2);
    expect(hits[1]).toMatchObject({
      merchantId: 'm1',
      transactionId: 'hit-1',
      amount: 12_345,
      currency: 'EUR',
      decision: 'challenge',
      card: `${pan.slice(0, 6)}******${pan.slice(-4)}`,
      eventIds: [ev.id],
    });
    expect(JSON.stringify(hits)).not.toContain(pan);
    // Another issuer's event is not found (as at GET /v1/compromise-events/{id}); its hits are not listed.
    const asOther = await t.app.inject({ url: `/v1/issuer/hits?eventId=${ev.id}`, headers: bearer(issuer2) });
    expect([asOther.statusCode, asOther.json().code]).toEqual([404, 'EVENT_NOT_FOUND']);
    expect((await t.app.inject({ url: '/v1/issuer/hits', headers: bearer(issuer2) })).json().hits).toEqual([]);
    expect(
      (await t.app.inject({ url: '/v1/issuer/hits?limit=1', headers: bearer(t.keys.issuer) })).json().hits,
    ).toHaveLength(1);
    expect(
      (await t.app.inject({ url: '/v1/issuer/hits?from=nonsense', headers: bearer(t.keys.issuer) })).statusCode,
    ).toBe(400);
    const stats = (await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(t.keys.issuer) })).json()
      .statistics;
    expect(stats).toMatchObject({ hits: 2, distinctMerchants: 2 });
    expect(stats.lastHitAt).toMatch(/^\d{4}-/);
    // One series per compromise event: merchants are not a label (bounded cardinality).
    expect((await t.app.inject('/metrics')).body).toMatch(
      new RegExp(`leakguard_watchlist_hits_total\\{event="${ev.id}"\\} 2`),
    );
  });

  it('filters hits by merchant and by decision before the limit: where cards are cashed out, which got through', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const [a, b, c] = [card(), card(), card()];
    expect((await upload(ev.id, `${a}\n${b}\n${c}\n`)).json()).toMatchObject({ accepted: 3 });
    const merchantScore = (key: string, pan: string, id: string, over: Record<string, unknown> = {}) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(key),
        payload: scoreBody({
          transactionId: id,
          card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
          ...over,
        } as never),
      });
    const authenticated = { threeDS: { status: 'Y', version: '2.2.0' } };
    expect((await merchantScore(t.keys.merchant, a, 'filter-a', authenticated)).json().decision).toBe('approve');
    expect((await merchantScore(t.keys.merchant, b, 'filter-b')).json().decision).toBe('challenge');
    expect((await merchantScore(t.keys.otherMerchant, c, 'filter-c')).json().decision).toBe('challenge');
    await new Promise((r) => setTimeout(r, 100)); // hits are written after the answer
    const ids = async (query: string) => {
      const res = await t.app.inject({
        url: `/v1/issuer/hits?eventId=${ev.id}${query}`,
        headers: bearer(t.keys.issuer),
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().hits.map((h: { transactionId: string }) => h.transactionId);
    };
    expect(await ids('')).toEqual(['filter-c', 'filter-b', 'filter-a']);
    expect(await ids('&merchantId=m1')).toEqual(['filter-b', 'filter-a']);
    expect(await ids('&decision=approve')).toEqual(['filter-a']);
    expect(await ids('&decision=challenge&merchantId=m1')).toEqual(['filter-b']);
    expect(await ids('&merchantId=m1&limit=1')).toEqual(['filter-b']);
    expect(await ids('&decision=decline')).toEqual([]);
    const bad = await t.app.inject({ url: '/v1/issuer/hits?decision=approved', headers: bearer(t.keys.issuer) });
    expect([bad.statusCode, bad.json().details[0].path]).toEqual([400, 'querystring.decision']);
  });

  it("shows an issuer its own events' ids in a hit, never that another issuer listed the card too", async () => {
    const own = await createEvent(['pan', 'cvv']);
    // An admin lists the same card in another issuer's event (an admin may list any card).
    const others = await createEvent(['pan'], t.keys.admin, { issuerId: 'i2' });
    const pan = card();
    expect((await upload(own.id, pan)).statusCode).toBe(200);
    expect((await upload(others.id, pan, 'text/csv', t.keys.admin)).statusCode).toBe(200);
    await score(pan, { transactionId: 'hit-two-issuers' });
    await new Promise((r) => setTimeout(r, 100)); // hits are written after the answer
    const hits = (await t.app.inject({ url: `/v1/issuer/hits?eventId=${own.id}`, headers: bearer(t.keys.issuer) }))
      .json()
      .hits.filter((h: { transactionId: string }) => h.transactionId === 'hit-two-issuers');
    expect(hits).toHaveLength(1);
    expect(hits[0].eventIds).toEqual([own.id]);
  });

  it('refuses an upload of an issuer with no BIN ranges at once: every line would be rejected', async () => {
    const noRanges = (await createApiKey(t.runtime.apiKeys, { role: 'issuer', issuerId: 'i-no-ranges' })).key;
    const ev = await createEvent(['pan'], noRanges);
    const res = await upload(ev.id, `${card()}\n`, 'text/csv', noRanges);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN', error: expect.stringContaining('no BIN ranges yet') });
  });

  it('lets issuers read their own BIN ranges only, and only admins set them', async () => {
    expect(
      (await t.app.inject({ url: '/v1/issuers/i1/bin-ranges', headers: bearer(t.keys.issuer) })).json().ranges,
    ).toHaveLength(2);
    expect((await t.app.inject({ url: '/v1/issuers/i2/bin-ranges', headers: bearer(t.keys.issuer) })).statusCode).toBe(
      403,
    );
    expect(
      (
        await t.app.inject({
          method: 'PUT',
          url: '/v1/issuers/i1/bin-ranges',
          headers: bearer(t.keys.issuer),
          payload: [],
        })
      ).statusCode,
    ).toBe(403);
    const bad = await t.app.inject({
      method: 'PUT',
      url: '/v1/issuers/i1/bin-ranges',
      headers: bearer(t.keys.admin),
      payload: [
        { from: '4111', to: '411199' },
        { from: '411199', to: '411111' },
      ],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['0.from', '1']));
  });

  it("refuses an issuer's range that shares BINs with another issuer's: it would see the other's cards and hits", async () => {
    // 41119950-41119999 lies under i1's 411111-411199.
    const taken = await t.app.inject({
      method: 'PUT',
      url: '/v1/issuers/i2/bin-ranges',
      headers: bearer(t.keys.admin),
      payload: [
        { from: '401288', to: '401288' },
        { from: '41119950', to: '41119999' },
      ],
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({
      code: 'BIN_RANGE_CONFLICT',
      error: "a BIN range shares BINs with issuer i1's 411111–411199: nothing changed",
      details: [{ path: '1', message: "shares BINs with issuer i1's 411111–411199" }],
    });
    const i2 = await t.app.inject({ url: '/v1/issuers/i2/bin-ranges', headers: bearer(t.keys.admin) });
    expect(i2.json().ranges).toEqual([{ from: '401288', to: '401288' }]);
    // i2 can no more look up i1's cards than before.
    const lookup = await t.app.inject({
      method: 'POST',
      url: '/v1/cards/lookup',
      headers: bearer(issuer2),
      payload: { cards: [{ pan: luhnComplete('411199501234567') }] },
    });
    expect(lookup.json().cards[0].refused).toMatch(/^BIN_NOT_OWNED/);
  });
});

describe("the default ruleset's answers to everyday orders (found by a decisions audit; each wrong before default-2026.12.7)", () => {
  const yen = (amount: number, over: Record<string, unknown> = {}) => ({ amount, currency: 'JPY', ...over });
  const authenticated = { threeDS: { status: 'Y', version: '2.2.0' } };

  it("does not decline a listed card's holder on the next small order after passing 3-D Secure", async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const pan = card();
    await upload(ev.id, `${pan},12,2030`);
    expect((await score(pan, yen(300))).decision).toBe('challenge');
    // The order scored again with its 3-D Secure result, under a new id (decision-policy.md): a second small attempt.
    expect((await score(pan, yen(300, authenticated))).decision).toBe('approve');
    const next = await score(pan, yen(300));
    expect(codes(next)).not.toContain('CARD_TESTING_SMALL_AMOUNTS_1H');
    expect(next.decision).toBe('challenge');
  });

  it('takes small purchases in a row at one shop for shopping, and small amounts at several shops online for card testing', async () => {
    const pan = card();
    for (const amount of [150, 298, 330]) {
      const konbini = await score(pan, yen(amount, { channel: 'pos' }), { cvvResult: 'not_checked' });
      expect(konbini.decision, `${amount} yen at the till`).toBe('approve');
    }
    const tested = card();
    const shops = await Promise.all(
      ['web-a', 'web-b'].map((merchantId) => createApiKey(t.runtime.apiKeys, { role: 'merchant', merchantId })),
    );
    for (const key of [t.keys.merchant, ...shops.map((k) => k.key)])
      await t.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(key),
        payload: scoreBody({
          ...yen(120),
          card: { number: tested, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
        }),
      });
    const fourth = await score(tested, yen(120));
    expect(codes(fourth)).toEqual(expect.arrayContaining(['CARD_TESTING_SMALL_AMOUNTS_1H', 'CARD_MANY_MERCHANTS_10M']));
    expect(fourth.decision).toBe('decline');
  });

  it('holds a card used in a ring after 3-D Secure whether an issuer listed it or not', async () => {
    const ring = { device: { id: 'ring-device-audit' }, customer: { email: 'drop-audit@example.com' } };
    for (const other of [card(), card(), card()]) await score(other, ring);
    const withCode = await createEvent(['pan', 'expiry', 'cvv']);
    const numberOnly = await createEvent(['pan', 'expiry']);
    const [leakedCode, leakedNumber, unlisted] = [card(), card(), card()];
    await upload(withCode.id, `${leakedCode},12,2030`);
    await upload(numberOnly.id, `${leakedNumber},12,2030`);
    for (const pan of [unlisted, leakedCode, leakedNumber]) {
      const body = await score(pan, { ...ring, ...authenticated });
      expect(codes(body), pan.slice(-4)).toEqual(
        expect.arrayContaining(['DEVICE_MANY_CARDS_24H', 'EMAIL_MANY_CARDS_7D']),
      );
      expect(body.decision, pan === unlisted ? 'unlisted' : 'listed').toBe('review');
    }
  });

  it('challenges a reissued card with a mistyped security code as any card with one', async () => {
    const ev = await createEvent(['pan', 'expiry']);
    const pan = card();
    await upload(ev.id, `${pan},12,2030`);
    const typo = await score(pan, {}, { expiryMonth: 3, expiryYear: 2031, cvvResult: 'mismatch' });
    expect(codes(typo)).toEqual(['CVV_MISMATCH', 'LEAKED_CARD_REISSUED']);
    expect(typo.decision).toBe('challenge');
  });

  it('names the listing of a card whose track data leaked when it is presented at a terminal', async () => {
    const ev = await createEvent(['pan', 'expiry', 'track']);
    const pan = card();
    await upload(ev.id, `${pan},12,2030`);
    const atTill = await score(pan, { channel: 'pos' }, { cvvResult: 'not_checked' });
    expect(codes(atTill)).toEqual(['LEAKED_CARD_RECENT_EXPOSURE', 'LEAKED_CARD_PRESENT']);
    // Step-up evidence at a terminal: told, not acted on (decision-policy.md).
    expect(atTill.decision).toBe('approve');
  });
});

describe('the step-up ladder on a leaked card (docs/decision-policy.md)', () => {
  const outcome = (transactionId: string, body: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/transactions/${transactionId}/outcome`,
      headers: bearer(t.keys.merchant),
      payload: body,
    });

  it('challenges online, approves after 3-D Secure, approves at a terminal, and declines once a challenge on the leaked card failed', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv', 'name', 'email']);
    const pan = card();
    await upload(ev.id, `${pan},12,2030`);
    // Card not present, no authentication yet: however much step-up evidence, a challenge.
    const first = await score(pan, {
      amount: 180_000,
      shippingAddress: { line1: '9 Far Rd', country: 'US' },
      billingAddress: { country: 'JP' },
    });
    expect(first.score).toBeGreaterThanOrEqual(55);
    expect(first.decision).toBe('challenge');
    // What the holder's authentication will decide comes with the challenge: no second scoring needed.
    expect(first.ifAuthenticated).toBe('approve');
    // The genuine holder passes the step-up: the merchant may also re-score with the result.
    const passed = await score(pan, { amount: 180_000, threeDS: { status: 'Y', version: '2.2.0' } });
    expect(passed.decision).toBe('approve');
    expect(passed).not.toHaveProperty('ifAuthenticated');
    // At a card-present terminal the leaked card-not-present data cannot be acted on.
    expect((await score(pan, { channel: 'pos' }, { cvvResult: 'not_checked' })).decision).toBe('approve');

    // Someone fails the challenge on another order: the outcome counts against the card. One failure
    // is a question still open (genuine holders abandon too): challenged again. A second failure is
    // strong evidence corroborated by the leak: the whole score decides.
    const tried = await score(pan);
    expect(tried.decision).toBe('challenge');
    expect((await outcome(tried.transactionId, { outcome: 'challenge_failed' })).json()).toMatchObject({
      outcome: 'challenge_failed',
      status: 'recorded',
    });
    const again = await score(pan);
    expect(codes(again)).toEqual(expect.arrayContaining(['CARD_FAILED_CHALLENGE_7D', 'LEAKED_CARD_CVV_COMPROMISED']));
    expect(again.decision).toBe('challenge');
    await outcome(again.transactionId, { outcome: 'challenge_failed' });
    const third = await score(pan);
    expect(codes(third)).toEqual(
      expect.arrayContaining(['CARD_REPEATED_FAILED_CHALLENGES_24H', 'LEAKED_CARD_CVV_COMPROMISED']),
    );
    expect(third.decision).toBe('decline');
    // A failed authentication result on the order itself: every contribution counts, no second challenge.
    const failed = await score(card(), { threeDS: { status: 'N', version: '2.2.0' } });
    expect(codes(failed)).toEqual(['THREE_DS_FAILED']);
    expect(failed.decision).toBe('review');
    expect(failed).not.toHaveProperty('ifAuthenticated');
  });

  it('after 3-D Secure A (attempted) or U (unavailable) a leaked card is not challenged again: held for review, the default policy', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const pan = card();
    await upload(ev.id, `${pan},12,2030`);
    expect((await score(pan)).decision).toBe('challenge');
    for (const status of ['A', 'U']) {
      const after = await score(pan, { threeDS: { status, version: '2.2.0' } });
      expect(after.decision).toBe('review');
      expect(codes(after)).toEqual(expect.arrayContaining(['LEAKED_CARD_CVV_COMPROMISED', 'STEP_UP_UNANSWERED']));
      expect(after).not.toHaveProperty('ifAuthenticated');
    }
    // An unlisted card with nothing to step up for: approved whatever the status.
    const clean = await score(card(), { threeDS: { status: 'A', version: '2.2.0' } });
    expect(clean).toMatchObject({ decision: 'approve', reasons: [] });
  });

  it('a mail or telephone order (moto) with a leaked card is not challenged: it cannot run 3-D Secure (found by an audit)', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const pan = card();
    await upload(ev.id, `${pan},12,2030`);
    const moto = await score(pan, { channel: 'moto' });
    expect(moto.decision).toBe('review');
    expect(codes(moto)).toEqual(expect.arrayContaining(['LEAKED_CARD_CVV_COMPROMISED', 'STEP_UP_UNANSWERED']));
    expect(moto).not.toHaveProperty('ifAuthenticated');
    // Its words say why: nothing was tried, nothing can be.
    expect(moto.reasons.find((r: { code: string }) => r.code === 'STEP_UP_UNANSWERED')?.message).toMatch(
      /^Mail or telephone order: 3-D Secure cannot/,
    );
    // The same card online is still challenged, and the shared reason keeps its 3-D Secure words.
    expect((await score(pan)).decision).toBe('challenge');
    const after = await score(pan, { threeDS: { status: 'U', version: '2.2.0' } });
    expect(after.reasons.find((r: { code: string }) => r.code === 'STEP_UP_UNANSWERED')?.message).toMatch(
      /^3-D Secure was tried/,
    );
  });

  it('on a card nobody listed, a failed challenge means another challenge; a second one, a review', async () => {
    const pan = card();
    // Step-up evidence (2,500 EUR, a spike, another country): challenged.
    const first = await score(pan, {
      amount: 250_000,
      shippingAddress: { line1: '9 Far Rd', country: 'US' },
      billingAddress: { country: 'JP' },
    });
    expect(first.decision).toBe('challenge');
    await outcome(first.transactionId, { outcome: 'challenge_failed' });
    const second = await score(pan);
    expect(codes(second)).toContain('CARD_FAILED_CHALLENGE_7D');
    expect(second.decision).toBe('challenge');
    await outcome(second.transactionId, { outcome: 'challenge_failed' });
    const third = await score(pan);
    expect(codes(third)).toEqual(
      expect.arrayContaining(['CARD_FAILED_CHALLENGE_7D', 'CARD_REPEATED_FAILED_CHALLENGES_24H']),
    );
    expect(third.decision).toBe('review');
  });

  it('keeps per-merchant overrides: a merchant whose bands are tighter still only challenges on step-up evidence alone', async () => {
    const ev = await createEvent(['pan', 'expiry', 'cvv']);
    const pan = card();
    await upload(ev.id, `${pan},12,2030`);
    const body = await score(pan, { amount: 250_000 });
    expect(body.decision).toBe('challenge');
    expect(body.reasons.every((r: { code: string }) => !r.code.startsWith('CARD_FAILED'))).toBe(true);
  });
});

describe("a hit's two times: the transaction's own (at) and when it was recorded (recordedAt)", () => {
  it('filters and orders by recordedAt, shown on every hit, whatever the transaction time', async () => {
    const ev = await createEvent(['pan']);
    const pan = card();
    await upload(ev.id, pan);
    const before = Date.now();
    // A merchant sends a transaction days late: its own time is long before the hit is recorded.
    await score(pan, { transactionId: 'late-hit', occurredAt: '2026-12-04T10:00:00Z' });
    await new Promise((r) => setTimeout(r, 100)); // hits are written after the answer
    const list = async (query: string) =>
      (await t.app.inject({ url: `/v1/issuer/hits?eventId=${ev.id}${query}`, headers: bearer(t.keys.issuer) })).json()
        .hits as { transactionId: string; at: string; recordedAt: string }[];
    const [hit] = await list('');
    expect(hit).toMatchObject({ transactionId: 'late-hit', at: '2026-12-04T10:00:00.000Z' });
    const recordedAt = Date.parse(hit!.recordedAt);
    expect(recordedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(recordedAt).toBeLessThanOrEqual(Date.now());
    // The shown recordedAt bounds the hit: `to` at it and `from` at it both keep it.
    expect(await list(`&to=${hit!.recordedAt}`)).toHaveLength(1);
    expect(await list(`&from=${hit!.recordedAt}`)).toHaveLength(1);
    expect(await list(`&to=${new Date(recordedAt - 1).toISOString()}`)).toHaveLength(0);
  });
});

describe('parameters a route does not take are refused, never ignored', () => {
  it('answers 400 naming them on the hits list and on one event', async () => {
    const ev = await createEvent(['pan']);
    const get = async (url: string) => {
      const res = await t.app.inject({ url, headers: bearer(t.keys.issuer) });
      return [res.statusCode, res.json().details];
    };
    // `event` for `eventId`: answered every hit before, as if filtered.
    expect(await get(`/v1/issuer/hits?event=${ev.id}`)).toEqual([
      400,
      [{ path: 'querystring', message: 'has fields that are not allowed: event' }],
    ]);
    expect(await get(`/v1/compromise-events/${ev.id}?merchantId=x`)).toEqual([
      400,
      [{ path: 'querystring', message: 'has fields that are not allowed: merchantId' }],
    ]);
    expect(await get('/v1/issuers/i1/bin-ranges?from=411111')).toEqual([
      400,
      [{ path: 'querystring', message: 'has fields that are not allowed: from' }],
    ]);
    // A card number as a parameter's name is not repeated.
    const [status, details] = await get(`/v1/issuer/hits?4111111111111111=1`);
    expect([status, details]).toEqual([400, [{ path: 'querystring', message: 'has fields that are not allowed' }]]);
    expect(
      (await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(t.keys.issuer) })).statusCode,
    ).toBe(200);
  });
});

describe("an event's statistics count the hits its issuer is shown", () => {
  it('leaves out a hit on a card an admin listed outside the issuer’s BIN ranges', async () => {
    const ev = await createEvent(['pan']);
    // An admin may list any card in an issuer's event: one of i1's ranges, and one of i2's.
    const [own, foreign] = [card(), card('401288')];
    const listed = await upload(ev.id, `${own}\n${foreign}\n`, 'text/csv', t.keys.admin);
    expect(listed.json()).toMatchObject({ accepted: 2, rejected: 0 });
    await score(own, { transactionId: 'stats-own' });
    await score(foreign, { transactionId: 'stats-foreign' });
    await new Promise((r) => setTimeout(r, 100)); // hits are written after the answer
    const hits = (
      await t.app.inject({ url: `/v1/issuer/hits?eventId=${ev.id}`, headers: bearer(t.keys.issuer) })
    ).json().hits;
    expect(hits.map((h: { transactionId: string }) => h.transactionId)).toEqual(['stats-own']);
    for (const key of [t.keys.issuer, t.keys.admin]) {
      const stats = (await t.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(key) })).json()
        .statistics;
      expect(stats).toMatchObject({ cardsListed: 2, hits: 1, distinctMerchants: 1 });
    }
  });
});

// Card networks moved to 8-digit BINs: an issuer sharing a 6-digit prefix with another registers
// 8-digit ranges. A hit keeps the card's 6-digit BIN only, so visibility is decided when the hit is
// recorded, with the full number in the engine's memory (docs/watchlists.md).
describe.each(BOTH_STORES)('8-digit BIN ranges ($store store)', ({ store, env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp(env());
  });
  afterAll(() => app.close());

  it('shows a hit to the issuer whose 8-digit range holds the card, and counts it; not to another issuer of the same 6-digit BIN', async () => {
    // Two issuers under the 6-digit BIN 555555: one holds 55555566, the other 55555560-55555565 (i1 holds 55555555).
    // On Redis the store is shared with this file's other app.
    const [holder, neighbour] = [`b8-holder-${store}`, `b8-neighbour-${store}`];
    await setBinRanges(app, {
      [holder]: [{ from: '55555566', to: '55555566' }],
      [neighbour]: [{ from: '55555560', to: '55555565' }],
    });
    const keyOf = async (issuerId: string) =>
      (await createApiKey(app.runtime.apiKeys, { role: 'issuer', issuerId })).key;
    const [holderKey, neighbourKey] = await Promise.all([keyOf(holder), keyOf(neighbour)]);
    // An admin may list any card in an issuer's event: the card, in both issuers' events.
    const pan = luhnComplete('555555661234567');
    const events = [
      await declareEvent(app, ['pan'], { issuerId: holder }),
      await declareEvent(app, ['pan'], { issuerId: neighbour }),
    ];
    for (const ev of events) {
      const listed = await app.app.inject({
        method: 'POST',
        url: `/v1/compromise-events/${ev.id}/cards`,
        headers: { ...bearer(app.keys.admin), 'content-type': 'text/csv' },
        payload: `${pan}\n`,
      });
      expect(listed.json()).toMatchObject({ accepted: 1 });
    }
    const scored = await app.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: bearer(app.keys.merchant),
      payload: scoreBody({
        transactionId: `b8-${store}`,
        card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      }),
    });
    expect(scored.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 100)); // hits are written after the answer
    const hitsOf = async (key: string) =>
      (await app.app.inject({ url: '/v1/issuer/hits', headers: bearer(key) })).json().hits as Record<string, unknown>[];
    const shown = await hitsOf(holderKey);
    expect(shown).toEqual([
      expect.objectContaining({
        transactionId: `b8-${store}`,
        card: `555555******${pan.slice(-4)}`,
        eventIds: [events[0]!.id],
      }),
    ]);
    // Who is shown the hit is routing, not the issuer's to read.
    expect(shown[0]).not.toHaveProperty('shownTo');
    expect(await hitsOf(neighbourKey)).toEqual([]);
    const statsOf = async (id: string) =>
      (await app.app.inject({ url: `/v1/compromise-events/${id}`, headers: bearer(app.keys.admin) })).json().statistics;
    expect(await statsOf(events[0]!.id)).toMatchObject({ hits: 1, distinctMerchants: 1 });
    expect(await statsOf(events[1]!.id)).toMatchObject({ hits: 0, distinctMerchants: 0 });
  });
});

// A retraction is final: sent again (a client retrying after a lost answer) it answers the retracted
// event; its externalId declared again is refused, naming the way out (another externalId).
describe.each(BOTH_STORES)('retraction ($store store)', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp(env());
    // On Redis the store is shared with this file's other app: i1's ranges as they are there.
    await setBinRanges(app, { i1: I1_RANGES });
  });
  afterAll(() => app.close());
  const post = (url: string, key = app.keys.issuer) => app.app.inject({ method: 'POST', url, headers: bearer(key) });

  it('answers a retraction sent again 200 with the event, unchanged; several at once all 200; a close after it 409', async () => {
    const ev = await declareEvent(app, ['pan'], { key: app.keys.issuer });
    const first = await post(`/v1/compromise-events/${ev.id}/retract`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().status).toBe('retracted');
    const again = await post(`/v1/compromise-events/${ev.id}/retract`);
    expect(again.statusCode, again.body).toBe(200);
    // Nothing rewritten: the same event, retracted when it was first.
    expect(again.json()).toEqual(first.json());
    const byAdmin = await post(`/v1/compromise-events/${ev.id}/retract`, app.keys.admin);
    expect([byAdmin.statusCode, byAdmin.json().updatedAt]).toEqual([200, first.json().updatedAt]);
    const closed = await post(`/v1/compromise-events/${ev.id}/close`);
    expect(closed.statusCode).toBe(409);
    expect(closed.json()).toMatchObject({ code: 'EVENT_CONFLICT', error: expect.stringContaining('retracted') });

    const other = await declareEvent(app, ['pan'], { key: app.keys.issuer });
    const atOnce = await Promise.all(
      Array.from({ length: 5 }, () => post(`/v1/compromise-events/${other.id}/retract`)),
    );
    expect(atOnce.map((r) => [r.statusCode, r.json().status])).toEqual(Array(5).fill([200, 'retracted']));
  });

  it("refuses a retracted event's externalId declared again (409, use another externalId); another externalId is a new event", async () => {
    const ev = await declareEvent(app, ['pan', 'cvv'], { key: app.keys.issuer });
    expect((await post(`/v1/compromise-events/${ev.id}/retract`)).statusCode).toBe(200);
    const declare = (externalId: string) =>
      app.app.inject({
        method: 'POST',
        url: '/v1/compromise-events',
        headers: bearer(app.keys.issuer),
        payload: {
          externalId,
          source: 'card network alert',
          description: 'test breach',
          exposureStart: '2026-05-01T00:00:00Z',
          exposureEnd: '2026-10-31T00:00:00Z',
          discoveredAt: '2026-11-10T00:00:00Z',
          dataElements: ['pan', 'cvv'],
          confidence: 'confirmed',
        },
      });
    const again = await declare(ev.externalId);
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'EVENT_CONFLICT',
      error: expect.stringMatching(new RegExp(`${ev.id} .*retracted.*another externalId`)),
      details: [{ path: 'externalId' }],
    });
    const renamed = await declare(`${ev.externalId}-2`);
    expect(renamed.statusCode).toBe(201);
    expect(renamed.json()).toMatchObject({ status: 'open', externalId: `${ev.externalId}-2` });
    expect(renamed.json().id).not.toBe(ev.id);
    const listed = await app.app.inject({
      method: 'POST',
      url: `/v1/compromise-events/${renamed.json().id}/cards`,
      headers: { ...bearer(app.keys.issuer), 'content-type': 'text/csv' },
      payload: `${card()}\n`,
    });
    expect(listed.json()).toMatchObject({ accepted: 1 });
  });
});

// DELETE /v1/cards takes 10,000 cards (its schema, the OpenAPI document): a body of 10,000 of its
// largest items, pretty-printed, is taken whole, not refused for its size.
describe.each(BOTH_STORES)('removal of 10,000 cards at once ($store store)', ({ env }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp(env());
    await setBinRanges(app, { i1: I1_RANGES });
  });
  afterAll(() => app.close());
  const remove = (payload: string) =>
    app.app.inject({
      method: 'DELETE',
      url: '/v1/cards',
      headers: { ...bearer(app.keys.issuer), 'content-type': 'application/json' },
      payload,
    });

  it('takes 10,000 fingerprints (the largest item) in one pretty-printed body; 10,001 are refused by the schema, not the size', async () => {
    const ev = await declareEvent(app, ['pan'], { key: app.keys.issuer });
    const pans = Array.from({ length: 10_000 }, () => card());
    const listed = await app.app.inject({
      method: 'POST',
      url: `/v1/compromise-events/${ev.id}/cards`,
      headers: { ...bearer(app.keys.issuer), 'content-type': 'text/csv' },
      payload: `${pans.join('\n')}\n`,
    });
    expect(listed.json()).toMatchObject({ accepted: 10_000 });
    const fingerprints = pans.map((pan) => identifyCard(app.runtime.keyring, pan).fingerprints[0]!);
    const body = (cards: object[]) => JSON.stringify({ cards, eventId: 'ce_9999999999' }, null, 2);
    // The event's id as long as an id may be, for the size; then the real one.
    const largest = body(fingerprints.map((fingerprint) => ({ fingerprint })));
    expect(largest.length).toBeGreaterThan(10 * 64 * 1024);
    const unknownEvent = await remove(largest);
    expect(unknownEvent.statusCode, unknownEvent.body.slice(0, 200)).toBe(404);
    const removed = await remove(largest.replace('"ce_9999999999"', JSON.stringify(ev.id)));
    expect(removed.statusCode, removed.body.slice(0, 200)).toBe(200);
    expect(removed.json()).toEqual({ removed: 10_000, notListed: 0, rejected: [] });
    const read = await app.app.inject({ url: `/v1/compromise-events/${ev.id}`, headers: bearer(app.keys.issuer) });
    expect(read.json().statistics).toMatchObject({ cardsListed: 10_000, cardsRemoved: 10_000 });
    // Grouped card numbers, as a spreadsheet holds them: 10,000 of them too.
    const grouped = pans.map((pan) => ({ pan: pan.replace(/(\d{4})(?=\d)/g, '$1 ') }));
    const byNumber = await remove(body(grouped).replace('"ce_9999999999"', JSON.stringify(ev.id)));
    expect(byNumber.statusCode, byNumber.body.slice(0, 200)).toBe(200);
    expect(byNumber.json()).toEqual({ removed: 0, notListed: 10_000, rejected: [] });
    // One more card than it takes: the schema's refusal, not the body limit's.
    const over = await remove(body([...grouped, { pan: card() }]));
    expect(over.statusCode).toBe(400);
    expect(over.json()).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'cards' }] });
    // The limit is 2 MiB, not none.
    const tooLarge = await remove(`${' '.repeat(2 * 1024 * 1024)}{}`);
    expect([tooLarge.statusCode, tooLarge.json().code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });
});
