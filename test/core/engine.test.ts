import { describe, expect, it } from 'vitest';
import { identifyCard } from '../../services/core/card.ts';
import { Engine, payloadHash } from '../../services/core/engine.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import type { VelocityStore } from '../../services/core/velocity.ts';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { parseRuleset } from '../../services/core/rules.ts';
import { defaultEngine } from '../support/default-engine.ts';

const keyring = { primary: { id: 'k', secret: Buffer.alloc(32, 3) } };
const parse = (v: unknown) => scoreRequestSchema.parse(v);

describe('payload identity for idempotency', () => {
  const base = {
    transactionId: 't1',
    amount: 100,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number: '4111111111111111', expiryMonth: 1, expiryYear: 2030, cvvResult: 'match' },
    device: { id: 'd', ip: '203.0.113.1' },
  };
  const hash = (v: unknown) => {
    const req = parse(v);
    return payloadHash(req, identifyCard(keyring, req.card.number));
  };

  it('does not depend on key order or on fields the schema drops', () => {
    const reordered = {
      device: { ip: '203.0.113.1', id: 'd' },
      card: { cvvResult: 'match', expiryYear: 2030, expiryMonth: 1, number: '4111111111111111' },
      channel: 'ecommerce',
      currency: 'EUR',
      amount: 100,
      transactionId: 't1',
      unknownField: 'x',
    };
    expect(hash(reordered)).toBe(hash(base));
  });

  it('changes with any scored field, and never contains the card number', () => {
    expect(hash({ ...base, amount: 101 })).not.toBe(hash(base));
    expect(hash({ ...base, card: { ...base.card, number: '5555555555554444' } })).not.toBe(hash(base));
    expect(hash(base)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

/** The memory store with some of its methods replaced. */
function over(memory: MemoryVelocityStore, replaced: Partial<VelocityStore>): VelocityStore {
  return {
    keys: memory.keys,
    recordAndRead: (plan) => memory.recordAndRead(plan),
    recordAndReadMany: (plans) => memory.recordAndReadMany(plans),
    saveResponse: (plan, response, hit) => memory.saveResponse(plan, response, hit),
    recordOutcome: (...a) => memory.recordOutcome(...a),
    joinOutcome: (...a) => memory.joinOutcome(...a),
    withdrawOutcome: (...a) => memory.withdrawOutcome(...a),
    leaveOutcome: (...a) => memory.leaveOutcome(...a),
    countingReference: (...a) => memory.countingReference(...a),
    transactionOf: (...a) => memory.transactionOf(...a),
    ping: () => memory.ping(),
    close: () => memory.close(),
    ...replaced,
  };
}

describe('a retry of a transaction counted but not answered', () => {
  it('decides as the first try did, at the time it was counted, even without occurredAt and after the counters moved on', async () => {
    const t0 = Date.parse('2026-11-02T10:00:00Z');
    let clock = t0;
    const memory = new MemoryVelocityStore();
    // The first answer is never stored (the process died between the script and the store write).
    let dropSave = true;
    const store = over(memory, {
      saveResponse: async (plan, response, hit) => {
        if (!dropSave) await memory.saveResponse(plan, response, hit);
      },
    });
    const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
    const rates = readRatesFile();
    const engine = new Engine({
      store,
      keyring,
      ruleset: () => ruleset,
      rates: () => rates,
      deadlineMs: 1000,
      now: () => clock,
    });
    const order = (transactionId: string, number: string) =>
      parse({
        transactionId,
        amount: 40_000,
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
        device: { id: 'device-1', ip: '203.0.113.9' },
        // The account is 23 hours old at the first try, over a day old an hour later.
        customer: { accountCreatedAt: new Date(t0 - 23 * 3_600_000).toISOString() },
      });
    await engine.score('m1', order('a1', '4111111111111111'));
    clock += 60_000;
    const first = await engine.score('m1', order('a2', '5555555555554444'));
    // Later the first card comes back on the device: its last-seen time moves past a2's.
    clock += 60_000;
    await engine.score('m1', order('a3', '4111111111111111'));
    clock += 3_600_000;
    dropSave = false;
    const retry = await engine.score('m1', order('a2', '5555555555554444'));
    if (first.kind !== 'scored' || retry.kind !== 'scored') throw new Error('not scored');
    expect(first.response.reasons.map((r) => r.code)).toContain('NEW_ACCOUNT_HIGH_AMOUNT');
    expect(retry.replayed).toBe(true);
    expect(retry.response).toEqual(first.response);
    // Stored now: the next retry replays the stored response.
    const again = await engine.score('m1', order('a2', '5555555555554444'));
    expect(again).toMatchObject({ kind: 'scored', replayed: true, response: first.response });
  });
});

describe('a reversed chargeback', () => {
  it('no longer steps up the card by CARD_PRIOR_CHARGEBACK_30D, nor counts against its device; its history stays', async () => {
    const t0 = Date.parse('2026-11-02T10:00:00Z');
    let clock = t0;
    const store = new MemoryVelocityStore();
    const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
    const rates = readRatesFile();
    const outcomes: string[] = [];
    const engine = new Engine({
      store,
      keyring,
      ruleset: () => ruleset,
      rates: () => rates,
      deadlineMs: 1000,
      now: () => clock,
      observer: { outcomeRecorded: (_m, _t, outcome) => outcomes.push(outcome) },
    });
    const order = (transactionId: string) =>
      parse({
        transactionId,
        amount: 150_000, // 1,500 EUR, HIGH_AMOUNT: step-up evidence that CARD_PRIOR_CHARGEBACK_30D takes to a challenge
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
        device: { id: 'device-1', ip: '203.0.113.9' },
      });
    const scored = async (transactionId: string) => {
      const result = await engine.score('m1', order(transactionId));
      if (result.kind !== 'scored') throw new Error('not scored');
      return result;
    };
    await scored('o1');
    clock += 86_400_000;
    expect(await engine.recordOutcome('m1', 'o1', 'chargeback', clock, '10.4')).toBe('recorded');
    clock += 60_000;
    const charged = await scored('o2');
    expect(charged.response.reasons.map((r) => r.code)).toContain('CARD_PRIOR_CHARGEBACK_30D');
    expect(charged.response.decision).toBe('challenge');

    clock += 86_400_000;
    expect(await engine.recordOutcome('m1', 'o1', 'chargeback_reversed', clock)).toBe('recorded');
    expect(await engine.recordOutcome('m1', 'o1', 'chargeback_reversed', clock + 1)).toBe('duplicate');
    expect(await engine.recordOutcome('m1', 'o1', 'chargeback', clock + 2, '10.4')).toBe('duplicate');
    expect(await engine.recordOutcome('m1', 'o2', 'chargeback_reversed', clock + 3)).toBe('absent');
    expect(outcomes).toEqual(['chargeback', 'chargeback_reversed']); // one reversal, reported to the recorders
    clock += 60_000;
    const next = await scored('o3');
    expect(next.response.reasons.map((r) => r.code)).not.toContain('CARD_PRIOR_CHARGEBACK_30D');
    expect(next.response.decision).toBe('approve');
    expect([next.evidence!.features.card_chargebacks_30d, next.evidence!.features.device_chargebacks_30d]).toEqual([
      0, 0,
    ]);
    expect(await engine.transactionOf('m1', 'o1')).toMatchObject({ at: t0 }); // the transaction stays known
  });
});

describe('a batch (the stream)', () => {
  it("stores its responses inside the store's together(), all at once", async () => {
    const memory = new MemoryVelocityStore();
    const events: string[] = [];
    let inside = false;
    const store = over(memory, {
      saveResponse: async (plan, response, hit) => {
        events.push(inside ? 'saved inside' : 'saved outside');
        await memory.saveResponse(plan, response, hit);
      },
      together: (issue) => {
        inside = true;
        try {
          return issue();
        } finally {
          inside = false;
        }
      },
    });
    const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
    const rates = readRatesFile();
    const engine = new Engine({ store, keyring, ruleset: () => ruleset, rates: () => rates, deadlineMs: 1000 });
    const request = (transactionId: string) =>
      parse({
        transactionId,
        amount: 25,
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      });
    const results = await engine.scoreBatch(
      ['b1', 'b2', 'b3'].map((id) => ({ merchantId: 'm1', request: request(id) })),
    );
    expect(results.map((r) => r.kind)).toEqual(['scored', 'scored', 'scored']);
    expect(events).toEqual(['saved inside', 'saved inside', 'saved inside']);
  });
});

describe('a batch whose decision fails for one transaction (the stream dead-letters it as engine_error)', () => {
  it('answers that one with its error and the others with their decisions; a retry of it counts nothing twice', async () => {
    const failure = new Error('the observer failed');
    let failing = true;
    const engine = defaultEngine({
      keyring,
      observer: {
        scored: (_merchantId, request) => {
          if (failing && request.transactionId === 'f2') throw failure;
        },
      },
    });
    const request = (transactionId: string) =>
      parse({
        transactionId,
        amount: 2500,
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      });
    const results = await engine.scoreBatch(
      ['f1', 'f2', 'f3'].map((id) => ({ merchantId: 'm1', request: request(id) })),
    );
    expect(results.map((r) => r.kind)).toEqual(['scored', 'error', 'scored']);
    expect(results[1]).toEqual({ kind: 'error', error: failure });
    // Its counters were written before the failure: a retry (a dead letter replayed) is decided, not counted again.
    failing = false;
    const [retried] = await engine.scoreBatch([{ merchantId: 'm1', request: request('f2') }]);
    expect(retried).toMatchObject({ kind: 'scored' });
    const [next] = await engine.scoreBatch([{ merchantId: 'm1', request: request('f4') }]);
    expect(next?.kind === 'scored' && next.evidence?.features.card_count_1h).toBe(4);
  });
});

describe('a retry across a card-key rotation (found by an audit)', () => {
  const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = readRatesFile();
  const oldKey = { id: 'old', secret: Buffer.alloc(32, 7) };
  const newKey = { id: 'new', secret: Buffer.alloc(32, 9) };
  const engineOn = (store: VelocityStore, k: { primary: typeof oldKey; previous?: typeof oldKey }) =>
    new Engine({ store, keyring: k, ruleset: () => ruleset, rates: () => rates, deadlineMs: 1000 });
  const order = (transactionId: string, amount = 2500) =>
    parse({
      transactionId,
      amount,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '4111111111111111', expiryMonth: 4, expiryYear: 2031, cvvResult: 'match' },
    });

  it('is the stored answer, one at a time and in a batch, not a conflict; another payload still is one', async () => {
    const store = new MemoryVelocityStore();
    const before = engineOn(store, { primary: oldKey });
    const first = [await before.score('m1', order('rot-1')), await before.score('m1', order('rot-2'))];
    // The first answers are stored: the retries come after the rotation began.
    const after = engineOn(store, { primary: newKey, previous: oldKey });
    const one = await after.score('m1', order('rot-1'));
    expect(one).toMatchObject({ kind: 'scored', replayed: true });
    const [answered] = first;
    if (one.kind !== 'scored' || answered?.kind !== 'scored') throw new Error('not scored');
    expect(one.response).toEqual(answered.response);
    const batch = await after.scoreBatch([{ merchantId: 'm1', request: order('rot-2') }]);
    expect(batch[0]).toMatchObject({ kind: 'scored', replayed: true });
    expect(await after.score('m1', order('rot-1', 2600))).toEqual({ kind: 'conflict' });
    expect(await after.scoreBatch([{ merchantId: 'm1', request: order('rot-2', 2600) }])).toEqual([
      { kind: 'conflict' },
    ]);
  });

  it('counted but not answered before the rotation: decided from what was kept, counted once', async () => {
    const memory = new MemoryVelocityStore();
    let dropSave = true;
    const store = over(memory, {
      saveResponse: async (plan, response, hit) => {
        if (!dropSave) await memory.saveResponse(plan, response, hit);
      },
    });
    await engineOn(store, { primary: oldKey }).score('m1', order('rot-3'));
    dropSave = false;
    const retried = await engineOn(store, { primary: newKey, previous: oldKey }).score('m1', order('rot-3'));
    expect(retried).toMatchObject({ kind: 'scored' });
    const next = await engineOn(store, { primary: newKey, previous: oldKey }).score('m1', order('rot-4'));
    // Counted once: rot-3 and rot-4 are the card's only transactions.
    expect(next.kind === 'scored' && next.evidence?.features.card_count_1h).toBe(2);
  });
});

// docs/stream-messages.md ("Redis unreachable"): what a degraded decision, published in the
// stream's `allow` mode, leaves behind, and what a redelivery of its transaction gets.
describe('a degraded decision and its redelivery', () => {
  const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = readRatesFile();
  const request = (transactionId: string) =>
    parse({
      transactionId,
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
    });
  const scoreOne = async (engine: Engine, transactionId: string) => {
    const [result] = await engine.scoreBatch([{ merchantId: 'm1', request: request(transactionId) }]);
    if (result?.kind !== 'scored') throw new Error('not scored');
    return result;
  };
  /** The card's transactions in the last 7 days as the next one reads them (itself included). */
  const countSeenBy = async (engine: Engine, transactionId: string) =>
    (await scoreOne(engine, transactionId)).evidence?.features.card_count_7d;

  it('Redis slow: the transaction is counted all the same, and a redelivery gets the counted decision, replayed', async () => {
    const memory = new MemoryVelocityStore();
    let slow = true;
    const store = over(memory, {
      // The script runs, but its answer comes after the deadline.
      recordAndReadMany: async (plans) => {
        const readings = await memory.recordAndReadMany(plans);
        if (slow) await new Promise((resolve) => setTimeout(resolve, 300));
        return readings;
      },
    });
    const engine = new Engine({ store, keyring, ruleset: () => ruleset, rates: () => rates, deadlineMs: 50 });
    const degraded = await scoreOne(engine, 's1');
    expect(degraded).toMatchObject({ replayed: false, response: { degraded: true, checks: { velocity: 'skipped' } } });
    slow = false;
    const redelivered = await scoreOne(engine, 's1');
    expect(redelivered).toMatchObject({
      replayed: true,
      response: { degraded: false, checks: { velocity: 'evaluated' } },
    });
    // Counted once: the card's next transaction sees s1 and itself.
    expect(await countSeenBy(engine, 's2')).toBe(2);
  });

  it('Redis refusing: nothing is counted, and a redelivery is scored as new', async () => {
    const memory = new MemoryVelocityStore();
    let down = true;
    const store = over(memory, {
      recordAndReadMany: (plans) =>
        down ? Promise.reject(new Error('ECONNREFUSED')) : memory.recordAndReadMany(plans),
    });
    const engine = new Engine({ store, keyring, ruleset: () => ruleset, rates: () => rates, deadlineMs: 1000 });
    expect(await scoreOne(engine, 'r1')).toMatchObject({ replayed: false, response: { degraded: true } });
    down = false;
    expect(await scoreOne(engine, 'r1')).toMatchObject({ replayed: false, response: { degraded: false } });
    // r1 counted once, at its redelivery: the card's next transaction sees r1 and itself.
    expect(await countSeenBy(engine, 'r2')).toBe(2);
  });

  it('tells the merchant "unknown" for a feature the degraded answer did not compute, never its placeholder', async () => {
    const store = over(new MemoryVelocityStore(), {
      recordAndReadMany: () => Promise.reject(new Error('ECONNREFUSED')),
    });
    const counted = parseRuleset(
      {
        version: 'placeholders',
        bands: { challenge: 30, review: 55, decline: 80 },
        rules: [
          {
            code: 'LARGE_ORDER',
            message: 'Large order ({amount_major}), {card_count_1h} payments of the card in the last hour',
            when: { feature: 'amount_major', gte: 10 },
            score: 10,
          },
        ],
      },
      new Set(ALL_FEATURES),
    );
    const engine = new Engine({ store, keyring, ruleset: () => counted, rates: () => rates, deadlineMs: 1000 });
    const { response } = await scoreOne(engine, 'u1');
    expect(response).toMatchObject({ degraded: true, checks: { velocity: 'skipped' } });
    expect(response.reasons).toContainEqual(
      expect.objectContaining({
        code: 'LARGE_ORDER',
        message: 'Large order (25), unknown payments of the card in the last hour',
      }),
    );
  });
});

// The HTTP route passes the time its request already took (authentication, the rate limit): a
// stalled Redis must not get a whole deadline after that (found by a review: 150 ms answers).
describe('the deadline of a scoring, from its request’s arrival', () => {
  const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = readRatesFile();
  const hanging = over(new MemoryVelocityStore(), {
    recordAndRead: () => new Promise(() => {}),
    recordAndReadMany: () => new Promise(() => {}),
  });
  const engine = new Engine({ store: hanging, keyring, ruleset: () => ruleset, rates: () => rates, deadlineMs: 1000 });
  const request = (transactionId: string) =>
    parse({
      transactionId,
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
    });
  const timed = async (transactionId: string, spentMs?: number) => {
    const started = performance.now();
    const result = await engine.score('m1', request(transactionId), undefined, spentMs);
    return { result, ms: performance.now() - started };
  };

  it('gives the store only what the deadline has left', async () => {
    // 900 of the 1,000 ms spent before scoring: ~100 ms left (before: a whole second more).
    const late = await timed('arrived-earlier', 900);
    expect(late.result).toMatchObject({ kind: 'scored', response: { degraded: true } });
    expect(late.ms).toBeLessThan(500);
    // Past the deadline already: a few milliseconds still (a CPU stall alone does not degrade every answer).
    const past = await timed('arrived-late', 5_000);
    expect(past.result).toMatchObject({ kind: 'scored', response: { degraded: true } });
    expect(past.ms).toBeLessThan(500);
    // Nothing spent: the whole deadline.
    const whole = await timed('arrived-now');
    expect(whole.result).toMatchObject({ kind: 'scored', response: { degraded: true } });
    expect(whole.ms).toBeGreaterThanOrEqual(990);
  });
});
