// POST /v1/score and outcomes through the real HTTP stack (embedded stores).
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, MASTERCARD, scoreBody, VISA, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const score = (body: unknown, key = t.keys.merchant, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: { ...bearer(key), 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('authentication and roles', () => {
  it('refuses a missing or unknown key with 401 and a wrong role with 403', async () => {
    const none = await t.app.inject({ method: 'POST', url: '/v1/score', payload: scoreBody() });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect((await score(scoreBody(), 'lgm_not-a-real-key-at-all')).statusCode).toBe(401);
    expect((await score(scoreBody(), t.keys.issuer)).statusCode).toBe(403);
    expect((await score(scoreBody(), t.keys.admin)).statusCode).toBe(403);
    expect((await score(scoreBody(), t.keys.merchant)).statusCode).toBe(200);
  });

  it('stops accepting a revoked key', async () => {
    const local = await buildTestApp({ LEAKGUARD_API_KEY_CACHE_MS: '0' });
    try {
      const [record] = (await local.runtime.apiKeys.list()).filter((r) => r.merchantId === 'm1');
      const ok = await local.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(local.keys.merchant),
        payload: scoreBody(),
      });
      expect(ok.statusCode).toBe(200);
      await local.runtime.apiKeys.revoke(record!.id, new Date().toISOString());
      const revoked = await local.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(local.keys.merchant),
        payload: scoreBody(),
      });
      expect(revoked.statusCode).toBe(401);
    } finally {
      await local.close();
    }
  });
});

describe('scoring', () => {
  it('answers with score, decision, reasons, checks, degraded and versions', async () => {
    const res = await score(scoreBody({ transactionId: 'shape-1' }));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ transactionId: 'shape-1', decision: 'approve', degraded: false, reasons: [] });
    expect(body.score).toBeGreaterThanOrEqual(0);
    expect(body.checks).toEqual({
      velocity: 'evaluated',
      rules: 'evaluated',
      watchlist: 'evaluated',
      model: 'not_configured',
    });
    expect(body.versions).toEqual({
      engine: '0.1.0',
      ruleset: expect.stringMatching(/^default-2026\.12\.8a\+[0-9a-f]{8}$/),
    });
  });

  it('catches card testing: small amounts at many merchants step up, then decline', async () => {
    const testing = buildTestApp();
    const local = await testing;
    try {
      const card = { number: MASTERCARD, expiryMonth: 1, expiryYear: 2031, cvvResult: 'not_checked' as const };
      const keys = [local.keys.merchant, local.keys.otherMerchant];
      const decisions: string[] = [];
      let last: { reasons: { code: string }[]; decision: string; score: number } | undefined;
      for (let i = 0; i < 4; i++) {
        const res = await local.app.inject({
          method: 'POST',
          url: '/v1/score',
          headers: bearer(keys[i % 2]!),
          payload: scoreBody({ amount: 100, card }),
        });
        last = res.json();
        decisions.push(last!.decision);
      }
      expect(decisions[0]).toBe('approve');
      expect(last!.reasons[0]!.code).toBe('CARD_TESTING_SMALL_AMOUNTS_1H');
      expect(last!.decision).not.toBe('approve');
      // Cash-out on the tested card, from a device and address that several cards used.
      const res = await local.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(local.keys.merchant),
        payload: scoreBody({ amount: 250_000, card, device: { id: 'dev-x', ip: '203.0.113.9' } }),
      });
      const body = res.json();
      expect(body.decision).toBe('decline');
      expect(body.reasons.map((r: { code: string }) => r.code)).toEqual(
        expect.arrayContaining(['CARD_TESTING_SMALL_AMOUNTS_1H', 'CARD_HIGH_VELOCITY_1H', 'HIGH_AMOUNT']),
      );
    } finally {
      await local.close();
    }
  });

  it('orders reasons by weight and renders their messages from features', async () => {
    const res = await score(
      scoreBody({
        card: { number: '4000056655665556', expiryMonth: 2, expiryYear: 2030, cvvResult: 'mismatch' },
        threeDS: { status: 'N' },
        amount: 150_000,
      }),
    );
    const body = res.json();
    expect(body.reasons.map((r: { code: string }) => r.code)).toEqual([
      'CVV_MISMATCH',
      'THREE_DS_FAILED',
      'HIGH_AMOUNT',
    ]);
    expect(body.reasons[2].message).toBe('High amount (1500 in the reference currency)');
    expect(body.score).toBe(80);
    expect(body.decision).toBe('decline');
  });

  it('replays a retried transaction without counting it again; another payload with the same id is 409', async () => {
    const card = { number: '4012888888881881', expiryMonth: 5, expiryYear: 2032, cvvResult: 'match' as const };
    const body = scoreBody({ transactionId: 'retry-1', card, amount: 100 });
    const first = await score(body);
    const again = await score(body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    const conflict = await score({ ...body, amount: 101 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({
      error: expect.stringMatching(
        /^transactionId was already scored with a different payload: .*new transactionId.*ifAuthenticated/,
      ),
      code: 'TRANSACTION_CONFLICT',
    });
    // Two more small attempts, at another merchant then here: had the retry counted, the second
    // would already be card testing (three small amounts, two merchants).
    const codesOf = (res: { json(): { reasons: { code: string }[] } }) => res.json().reasons.map((r) => r.code);
    const second = await score(scoreBody({ card, amount: 100 }), t.keys.otherMerchant);
    expect(codesOf(second)).not.toContain('CARD_TESTING_SMALL_AMOUNTS_1H');
    const third = await score(scoreBody({ card, amount: 100 }));
    expect(codesOf(third)).toContain('CARD_TESTING_SMALL_AMOUNTS_1H');
    const fresh = buildTestApp();
    await (await fresh).close();
  });

  it('keeps merchants apart: the same transaction id at two merchants is two transactions', async () => {
    const a = await score(scoreBody({ transactionId: 'shared-id', amount: 100 }));
    const b = await score(scoreBody({ transactionId: 'shared-id', amount: 200 }), t.keys.otherMerchant);
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
  });
});

describe('bad input', () => {
  it('lists every invalid field with its path and reason, never echoing the card number', async () => {
    const bad = '4111111111111112';
    const res = await score({
      transactionId: '',
      amount: -5,
      currency: 'XYZ',
      channel: 'fax',
      occurredAt: 'yesterday',
      card: { number: bad, expiryMonth: 13, expiryYear: 2030, cvv: '123' },
      customer: { email: 'not-an-email' },
      device: { ip: '999.1.1.1' },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toBe('invalid request');
    const paths = body.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'transactionId',
        'amount',
        'currency',
        'channel',
        'occurredAt',
        'card.number',
        'card.expiryMonth',
        'card.cvv',
        'customer.email',
        'device.ip',
      ]),
    );
    expect(body.details.find((d: { path: string }) => d.path === 'card.number').message).toBe('fails the Luhn check');
    expect(res.body).not.toContain(bad);
    expect(res.body).not.toContain('123"');
  });

  it('reports missing required fields', async () => {
    const res = await score({});
    expect(res.statusCode).toBe(400);
    expect(res.json().details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['transactionId', 'amount', 'currency', 'channel', 'card']),
    );
  });

  it('answers malformed JSON with a generic message: parser messages quote the body', async () => {
    const res = await score(`{"card":{"number":"${VISA}"`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'request body is not valid JSON', code: 'MALFORMED_BODY' });
    expect(res.body).not.toContain(VISA);
  });

  it('refuses wrong content types with 415 and oversize bodies with 413', async () => {
    const form = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
    });
    expect(form.statusCode).toBe(415);
    const text = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(text.statusCode).toBe(415);
    // A compressed body or another charset: said so, not "not valid JSON" nor read as UTF-8.
    const json = JSON.stringify(scoreBody());
    const gzipped = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: gzipSync(json),
    });
    expect(gzipped.statusCode).toBe(415);
    expect(gzipped.json()).toEqual({
      error: 'compressed bodies are refused: send plain JSON (no content-encoding)',
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    const labelled = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: json,
    });
    expect(labelled.statusCode).toBe(415);
    const utf16 = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json; charset=utf-16' },
      payload: json,
    });
    expect(utf16.statusCode).toBe(415);
    expect(utf16.json().error).toBe('send the body in UTF-8 (charset=utf-8, or none)');
    const utf8 = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: {
        ...bearer(t.keys.merchant),
        'content-type': 'application/json; charset=UTF-8',
        'content-encoding': 'identity',
      },
      payload: json,
    });
    expect(utf8.statusCode).toBe(200);
    // Over the route's 256 KiB (room for every maximum of the schema).
    const huge = await score(
      scoreBody({
        items: Array.from({ length: 2000 }, (_, i) => ({ name: `item ${i} ${'x'.repeat(150)}`, quantity: 1 })),
      }),
    );
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toEqual({ error: 'request body too large', code: 'PAYLOAD_TOO_LARGE' });
  });

  it('counts nothing for a rejected request', async () => {
    const card = { number: '378282246310005', expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' as const };
    for (let i = 0; i < 3; i++) await score({ ...scoreBody({ card, amount: 100 }), currency: 'NOPE' });
    const ok = await score(scoreBody({ card, amount: 100 }));
    expect(ok.json().reasons).toEqual([]);
    const features = await t.runtime.engine.score('m1', {
      ...scoreBody({ card, amount: 100 }),
      card: { ...card },
      channel: 'ecommerce',
      currency: 'EUR',
      amount: 100,
      transactionId: 'probe-rejected',
    } as never);
    expect(features.kind === 'scored' && features.evidence?.features.card_count_1h).toBe(2);
  });
});

describe('fields under near misses of their names', () => {
  it('scores the order, and counts and warns of each field it would otherwise drop unread', async () => {
    const misnamed = async () => {
      const m = await t.runtime.metrics.registry.getSingleMetric('leakguard_misnamed_fields_total')!.get();
      return Object.fromEntries(m.values.map((v) => [String(v.labels.field), v.value]));
    };
    const before = await misnamed();
    const body = scoreBody({ transactionId: 'misnamed-1' });
    const res = await score({
      ...body,
      ocurred_at: '2026-01-01T00:00:00Z',
      shipping_address: { city: 'Tokyo', country: 'JP' },
      customer: { emial: 'jane@example.com' },
      items: [{ name: 'book', quantiy: 2 }],
      '4111111111111111': 1,
      merchantNote: 'not a near miss of anything',
    });
    // Not refused: a 400 would stop the merchant's checkout.
    expect(res.statusCode).toBe(200);
    const after = await misnamed();
    for (const field of ['occurredAt', 'shippingAddress', 'customer.email', 'items.*.quantity'])
      expect((after[field] ?? 0) - (before[field] ?? 0), field).toBe(1);
    expect(Object.keys(after).some((f) => f.includes('4111') || f.includes('merchantNote'))).toBe(false);
    const warning = t.logs.find((l) => l.includes('near misses of their names'));
    expect(warning).toBeDefined();
    expect(warning).toContain('"sent":"shipping_address","meant":"shippingAddress"');
    expect(warning).toContain('"sent":"items.0.quantiy","meant":"items.*.quantity"');
    expect(warning).not.toContain('4111111111111111');
  });
});

describe('outcomes', () => {
  const report = (id: string, body: unknown, key = t.keys.merchant) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/transactions/${id}/outcome`,
      headers: bearer(key),
      payload: body as object,
    });

  it('records outcomes once, 404 for unknown transactions, and feeds decline counters', async () => {
    const card = { number: '6011111111111117', expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' as const };
    for (const id of ['dec-1', 'dec-2']) {
      await score(scoreBody({ transactionId: id, card }));
      const res = await report(id, { outcome: 'declined' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ transactionId: id, outcome: 'declined', status: 'recorded' });
    }
    expect((await report('dec-1', { outcome: 'declined' })).json().status).toBe('already_recorded');
    expect((await report('dec-1', { outcome: 'declined' }, t.keys.otherMerchant)).statusCode).toBe(404);
    expect((await report('never-scored', { outcome: 'authorized' })).statusCode).toBe(404);
    const next = await score(scoreBody({ card }));
    expect(next.json().reasons.map((r: { code: string }) => r.code)).toContain('CARD_RECENT_DECLINES_24H');
  });

  it("counts a fraud chargeback against the card, a holder's dispute of a purchase nowhere", async () => {
    const device = { id: 'cb-device-1' };
    const card = (number: string) => ({ number, expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' as const });
    const [disputed, stolen] = ['4000000000000077', '4000000000000010'];
    await score(scoreBody({ transactionId: 'cb-parcel', card: card(disputed), device }));
    // Goods not received (Visa 13.1): the holder made the purchase.
    const parcel = await report('cb-parcel', { outcome: 'chargeback', reasonCode: '13.1' });
    expect(parcel.json()).toEqual({
      transactionId: 'cb-parcel',
      outcome: 'chargeback',
      status: 'recorded',
      chargeback: 'dispute',
    });
    expect((await report('cb-parcel', { outcome: 'chargeback', reasonCode: '13.1' })).json().status).toBe(
      'already_recorded',
    );
    const next = (await score(scoreBody({ card: card(disputed), device }))).json();
    expect(next.reasons.map((r: { code: string }) => r.code)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/CHARGEBACK/)]),
    );
    expect(next.decision).toBe('approve');

    await score(scoreBody({ transactionId: 'cb-stolen', card: card(stolen), device: { id: 'cb-device-2' } }));
    // Card-absent fraud (Visa 10.4): evidence against the card and the device.
    expect((await report('cb-stolen', { outcome: 'chargeback', reasonCode: '10.4' })).json().chargeback).toBe('fraud');
    const after = (await score(scoreBody({ card: card(stolen), device: { id: 'cb-device-2' } }))).json();
    expect(after.reasons.map((r: { code: string }) => r.code)).toContain('CARD_PRIOR_CHARGEBACK_30D');
  });

  it('counts a chargeback whose reason code no table knows, as fraud and apart, once', async () => {
    const unknown = async () =>
      (await t.runtime.metrics.registry.getSingleMetric('leakguard_chargeback_reason_codes_unknown_total')!.get())
        .values[0]?.value ?? 0;
    const before = await unknown();
    const card = { number: '5105105105105100', expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' as const };
    await score(scoreBody({ transactionId: 'cb-odd-code', card }));
    await score(scoreBody({ transactionId: 'cb-visa-named', card }));
    const odd = await report('cb-odd-code', { outcome: 'chargeback', reasonCode: 'ZZ9' });
    expect(odd.json().chargeback).toBe('fraud');
    await report('cb-odd-code', { outcome: 'chargeback', reasonCode: 'ZZ9' }); // a repeat: not counted again
    // A known code in another spelling is read, not counted as unknown.
    expect((await report('cb-visa-named', { outcome: 'chargeback', reasonCode: 'Visa 13-1' })).json().chargeback).toBe(
      'dispute',
    );
    expect((await unknown()) - before).toBe(1);
  });

  it('withdraws a reversed fraud chargeback: once, the card no longer stepped up for it, the chargeback not counted again', async () => {
    const card = { number: '4242424242424242', expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' as const };
    const device = { id: 'rev-device-1' };
    const codes = (res: { json(): { reasons: { code: string }[] } }) => res.json().reasons.map((r) => r.code);
    const amount = 150_000; // 1,500 EUR: HIGH_AMOUNT, step-up evidence that the chargeback takes to a challenge
    await score(scoreBody({ transactionId: 'rev-stolen', card, device }));
    expect((await report('rev-stolen', { outcome: 'chargeback', reasonCode: '10.4' })).json().chargeback).toBe('fraud');
    const charged = await score(scoreBody({ card, device, amount }));
    expect(codes(charged)).toContain('CARD_PRIOR_CHARGEBACK_30D');
    expect(charged.json().decision).toBe('challenge');
    // Breach discovery labelled the card.
    const breach = t.runtime.breach!;
    await breach.recorder.flush();
    const labelled = (await breach.history.fraudsSince(0)).map((f) => f.card);

    // The merchant won its representment.
    const reversed = await report('rev-stolen', {
      outcome: 'chargeback_reversed',
      occurredAt: new Date().toISOString(),
    });
    expect(reversed.statusCode).toBe(200);
    expect(reversed.json()).toEqual({
      transactionId: 'rev-stolen',
      outcome: 'chargeback_reversed',
      status: 'recorded',
    });
    // Breach discovery's label is taken back too: the card is no fraudulent card of any scan.
    await breach.recorder.flush();
    const still = (await breach.history.fraudsSince(0)).map((f) => f.card);
    expect(still).toHaveLength(labelled.length - 1);
    expect(labelled).toEqual(expect.arrayContaining(still));
    const again = await report('rev-stolen', { outcome: 'chargeback_reversed' });
    expect(again.statusCode).toBe(200);
    expect(again.json().status).toBe('already_recorded');
    // The chargeback reported again (a late retry of the first report): a repeat, it counts nowhere.
    const late = await report('rev-stolen', { outcome: 'chargeback', reasonCode: '10.4' });
    expect(late.json()).toEqual({
      transactionId: 'rev-stolen',
      outcome: 'chargeback',
      status: 'already_recorded',
      chargeback: 'fraud',
    });
    // Step-up evidence of 25 points (HIGH_AMOUNT, and CARD_AMOUNT_SPIKE_24H now), 50 with the chargeback.
    const next = await score(scoreBody({ card, device, amount }));
    expect(codes(next).sort()).toEqual(['CARD_AMOUNT_SPIKE_24H', 'HIGH_AMOUNT']);
    expect(next.json().decision).toBe('approve');
  });

  it('refuses a reversal without a fraud chargeback to reverse (409), for an unknown transaction 404', async () => {
    const card = { number: '5105105105105100', expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' as const };
    await score(scoreBody({ transactionId: 'rev-none', card }));
    const none = await report('rev-none', { outcome: 'chargeback_reversed' });
    expect(none.statusCode).toBe(409);
    expect(none.json()).toEqual({
      error:
        'no fraud chargeback is recorded for this transaction: nothing to reverse (a chargeback with a dispute reason code counts nowhere)',
      code: 'OUTCOME_CONFLICT',
    });
    await score(scoreBody({ transactionId: 'rev-dispute', card }));
    expect((await report('rev-dispute', { outcome: 'chargeback', reasonCode: '13.1' })).json().chargeback).toBe(
      'dispute',
    );
    const dispute = await report('rev-dispute', { outcome: 'chargeback_reversed' });
    expect([dispute.statusCode, dispute.json().code]).toEqual([409, 'OUTCOME_CONFLICT']);
    // Refused changes nothing: the chargeback reported later is recorded, and then reversed.
    expect((await report('rev-none', { outcome: 'chargeback', reasonCode: '4837' })).json().status).toBe('recorded');
    expect((await report('rev-none', { outcome: 'chargeback_reversed' })).json().status).toBe('recorded');
    const unknown = await report('rev-never-scored', { outcome: 'chargeback_reversed' });
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'TRANSACTION_NOT_FOUND']);
    const other = await report('rev-none', { outcome: 'chargeback_reversed' }, t.keys.otherMerchant);
    expect([other.statusCode, other.json().code]).toEqual([404, 'TRANSACTION_NOT_FOUND']);
    const unlisted = await report('rev-none', { outcome: 'chargeback_withdrawn' });
    expect([unlisted.statusCode, unlisted.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('refuses a reversal dated before the chargeback it reverses (409, on occurredAt), recording nothing', async () => {
    const card = { number: '5200828282828210', expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' as const };
    await score(scoreBody({ transactionId: 'rev-early', card }));
    const chargebackAt = new Date(Date.now() - 60_000).toISOString();
    expect(
      (await report('rev-early', { outcome: 'chargeback', reasonCode: '10.4', occurredAt: chargebackAt })).json()
        .status,
    ).toBe('recorded');
    const early = await report('rev-early', {
      outcome: 'chargeback_reversed',
      occurredAt: new Date(Date.now() - 120_000).toISOString(),
    });
    expect(early.statusCode).toBe(409);
    expect(early.json()).toEqual({
      error: 'this chargeback_reversed is dated before the chargeback it reverses: nothing recorded',
      code: 'OUTCOME_CONFLICT',
      details: [
        {
          path: 'occurredAt',
          message: `must not be before the chargeback it reverses (which occurred at ${chargebackAt})`,
        },
      ],
    });
    // Nothing recorded: the reversal dated after the chargeback is the first, not a repeat.
    expect((await report('rev-early', { outcome: 'chargeback_reversed' })).json().status).toBe('recorded');
  });

  it('refuses an outcome dated before its transaction, which no window would count', async () => {
    await score(scoreBody({ transactionId: 'dated-1', occurredAt: '2026-03-01T10:00:00Z' }));
    const early = await report('dated-1', {
      outcome: 'chargeback',
      reasonCode: '10.4',
      occurredAt: '2001-01-01T00:00:00Z',
    });
    expect(early.statusCode).toBe(400);
    expect(early.json().details).toEqual([
      {
        path: 'occurredAt',
        message:
          'must not be more than 5 minutes before the transaction it reports on (counted at 2026-03-01T10:00:00.000Z)',
      },
    ]);
    // Within the clocks' drift, and after: recorded.
    const drift = await report('dated-1', { outcome: 'authorized', occurredAt: '2026-03-01T09:57:00Z' });
    expect(drift.json().status).toBe('recorded');
    const later = await report('dated-1', {
      outcome: 'chargeback',
      reasonCode: '10.4',
      occurredAt: '2026-04-02T00:00:00Z',
    });
    expect(later.json().status).toBe('recorded');
  });

  it('validates outcomes: chargebacks need a reason code, ids follow the transactionId rules', async () => {
    const cb = await report('dec-1', { outcome: 'chargeback' });
    expect(cb.statusCode).toBe(400);
    expect(cb.json().details).toEqual([{ path: 'reasonCode', message: 'is required for a chargeback' }]);
    const badId = await report('bad%20id', { outcome: 'refund' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().details[0].path).toBe('params.transactionId');
    expect((await report('dec-1', { outcome: 'refund' }, t.keys.issuer)).statusCode).toBe(403);
  });

  it('refuses a field sent under a near miss of its name, which would be dropped unread (found by a review)', async () => {
    expect((await score(scoreBody({ transactionId: 'misspelt-1' }))).statusCode).toBe(200);
    // Dropped, the date was now, and the corrected report then answered already_recorded.
    for (const [body, path, meant] of [
      [{ outcome: 'refund', occured_at: '2026-01-01T00:00:00Z' }, 'occured_at', 'occurredAt'],
      [{ outcome: 'refund', OccurredAt: '2026-01-01T00:00:00Z' }, 'OccurredAt', 'occurredAt'],
      [{ outcome: 'chargeback', reasonCode: '10.4', reason_code: '10.4' }, 'reason_code', 'reasonCode'],
      [{ outcome: 'refund', outcomes: 'refund' }, 'outcomes', 'outcome'],
    ] as const) {
      const res = await report('misspelt-1', body);
      expect(res.statusCode, path).toBe(400);
      expect(res.json().details, path).toContainEqual({ path, message: `is not a field: did you mean ${meant}?` });
    }
    // Nothing was recorded: the report with its date right is the first.
    const right = await report('misspelt-1', { outcome: 'refund', occurredAt: new Date().toISOString() });
    expect(right.json().status).toBe('recorded');
    // Fields of other names are left alone, as before; a name that may be a card number is never repeated.
    expect((await report('misspelt-1', { outcome: 'authorized', note: 'x', merchantRef: 'r-1' })).statusCode).toBe(200);
    const card = await report('misspelt-1', { outcome: 'authorized', '4111111111111111': 1 });
    expect(card.statusCode).toBe(200);
    expect(card.body).not.toContain('4111111111111111');
  });
});

describe('operations', () => {
  it('serves health, readiness, metrics, OpenAPI and docs', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject('/readyz')).json()).toEqual({ status: 'ready', checks: { velocityStore: 'ok' } });
    const metrics = (await t.app.inject('/metrics')).body;
    expect(metrics).toMatch(/leakguard_http_request_duration_seconds_bucket\{.*route="\/v1\/score"/);
    // Made at 0 at start: the approvals scored above moved it.
    expect(metrics).toMatch(/leakguard_decisions_total\{decision="approve"\} [1-9]/);
    expect(metrics).toContain('leakguard_redis_errors_total');
    expect(metrics).toContain('leakguard_degraded_responses_total');
    const openapi = (await t.app.inject('/openapi.json')).json();
    expect(openapi.openapi).toBe('3.0.3');
    const op = openapi.paths['/v1/score'].post;
    // The request body is a named schema under components.
    const bodyRef = op.requestBody.content['application/json'].schema.$ref as string;
    expect(bodyRef).toBe('#/components/schemas/ScoreRequestInput');
    const body = openapi.components.schemas[bodyRef.split('/').pop()!];
    expect(body.properties.card.properties.cvvResult.enum).toEqual(['match', 'mismatch', 'not_checked']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '409']));
    expect(openapi.paths['/v1/transactions/{transactionId}/outcome']).toBeDefined();
    const docs = await t.app.inject('/docs/');
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
    // Swagger UI's pages and files: a CSP without inline script or style, and no framing
    // (test/browser/docs.test.ts checks that Swagger UI works under it).
    for (const url of [
      '/docs',
      '/docs/',
      '/docs/static/index.html',
      '/docs/static/swagger-ui-bundle.js',
      '/docs/json',
    ]) {
      const res = await t.app.inject(url);
      expect(res.statusCode, url).toBeLessThan(400);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes/);
      expect(res.headers['x-frame-options'], url).toBe('DENY');
    }
  });

  it('lets admins read and reload the ruleset, and nobody else', async () => {
    expect((await t.app.inject({ url: '/v1/admin/ruleset', headers: bearer(t.keys.admin) })).json()).toMatchObject({
      version: expect.stringMatching(/^default-2026\.12\.8a\+[0-9a-f]{8}$/),
    });
    expect((await t.app.inject({ url: '/v1/admin/ruleset', headers: bearer(t.keys.merchant) })).statusCode).toBe(403);
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/admin/ruleset/reload', headers: bearer(t.keys.issuer) }))
        .statusCode,
    ).toBe(403);
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/admin/ruleset/reload', headers: bearer(t.keys.admin) }))
        .statusCode,
    ).toBe(200);
  });

  it('rate-limits per key', async () => {
    const limited = await buildTestApp({ LEAKGUARD_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++)
        codes.push(
          (
            await limited.app.inject({
              method: 'POST',
              url: '/v1/score',
              headers: bearer(limited.keys.merchant),
              payload: scoreBody(),
            })
          ).statusCode,
        );
      expect(codes).toEqual([200, 200, 200, 429]);
      const other = await limited.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(limited.keys.otherMerchant),
        payload: scoreBody(),
      });
      expect(other.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('answers unknown routes with 404 in the error shape', async () => {
    const res = await t.app.inject('/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'no such route', code: 'NOT_FOUND' });
  });
});
