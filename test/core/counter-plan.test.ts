// The counter plan's arrangement, which the Redis store relies on when a slot migrates under a
// scoring (TRYAGAIN): it then runs a group's operations key by key and joins their numbers in order.
import { describe, expect, it } from 'vitest';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { listLookup } from '../../services/core/lists.ts';
import { buildCounterPlan, inLogMember, type TransactionFacts } from '../../services/core/velocity.ts';

const entities = {
  card: ['newFp', 'oldFp'],
  merchant: ['m1'],
  bin: ['411111'],
  device: ['dev1'],
  ip: ['ip1'],
  email: ['mail1'],
  shipping: ['addr1'],
};
const facts: TransactionFacts = {
  merchantId: 'm1',
  transactionId: 't1',
  payloadHash: 'h',
  occurredAt: Date.parse('2026-11-01T00:00:00Z'),
  amountCents: 1250,
  small: false,
  entities,
  watchlist: [{ bucket: '00ab', field: Buffer.from('f') }],
  lists: listLookup('m1', entities, REDIS_KEYS),
};

describe('counter plan', () => {
  const plan = buildCounterPlan(facts, REDIS_KEYS);

  it("keeps a group's operations on one key next to each other", () => {
    for (const group of plan.groups) {
      const seen = new Set<string>();
      group.ops.forEach((op, i) => {
        if (i > 0 && group.ops[i - 1]!.key === op.key) return;
        expect(seen.has(op.key), `${op.op} on ${op.key} after other keys`).toBe(false);
        seen.add(op.key);
      });
    }
  });

  it("writes the card's distinct members with its transaction, in its log, under the new identity only", () => {
    const logOf = (fp: string) =>
      plan.groups.flatMap((g) => g.ops).find((op) => op.op === 'log' && op.key === REDIS_KEYS.log('card', fp));
    expect(logOf('newFp')).toMatchObject({
      write: true,
      distinctMembers: [
        inLogMember('merchant', 'm1'),
        inLogMember('shipping', 'addr1'),
        inLogMember('device', 'dev1'),
        inLogMember('ip', 'ip1'),
      ],
    });
    expect(logOf('oldFp')).toMatchObject({ write: false, distinctMembers: [], formerMembers: [] });
    // The device's distinct cards keep a set of their own (its log is counted per window).
    const deviceCards = plan.groups
      .flatMap((g) => g.ops)
      .find((op) => op.op === 'distinct' && op.def === 'distinct:device:card');
    expect(deviceCards).toMatchObject({
      key: REDIS_KEYS.distinct('device', 'dev1', 'card'),
      inLog: false,
      write: true,
    });
  });

  it("replaces an address's pseudonym before 2026-12-07 in the card's log it writes, and nowhere else", () => {
    const former = buildCounterPlan(
      {
        ...facts,
        entities: { ...entities, shipping: ['addr1', 'addr1-prev', 'addr1-old', 'addr1-old-prev'] },
        formerIdentities: { shipping: ['addr1-old'] },
      },
      REDIS_KEYS,
    );
    const logs = former.groups.flatMap((g) => g.ops).filter((op) => op.op === 'log');
    const card = logs.find((op) => op.key === REDIS_KEYS.log('card', 'newFp'));
    // The address is the second member the card's log keeps (after the merchant).
    expect(card).toMatchObject({ formerMembers: [{ of: 1, member: inLogMember('shipping', 'addr1-old') }] });
    expect(card!.distinctMembers[1]).toBe(inLogMember('shipping', 'addr1'));
    expect(logs.filter((op) => op !== card).flatMap((op) => op.formerMembers)).toEqual([]);
    // A former identity that is today's (nothing else was written) replaces nothing.
    const same = buildCounterPlan({ ...facts, formerIdentities: { shipping: ['addr1'] } }, REDIS_KEYS);
    const sameLogs = same.groups.flatMap((g) => g.ops.filter((op) => op.op === 'log'));
    expect(sameLogs.length).toBeGreaterThan(0);
    expect(sameLogs.flatMap((op) => op.formerMembers)).toEqual([]);
  });
});
