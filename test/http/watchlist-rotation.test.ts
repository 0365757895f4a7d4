// A card-key rotation on every store (embedded, a single Redis, a Redis Cluster): cards listed
// under the previous key and again under the new one are one card, their entries merged at lookup.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';
import { declareEvent, listCards, setBinRanges } from '../support/issuer-api.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

const OLD_KEY = 'a'.repeat(64);
const NEW_KEY = 'b'.repeat(64);
const subjects = [
  { name: 'memory', env: () => ({ LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-rotation-')) }) },
  ...singleAndCluster().map(({ name, env }) => ({ name, env })),
];

let serial = 0;
describe.each(subjects)('watchlist lookups across a card-key rotation: $name', (subject) => {
  it("merges a card's entries under both keys: events, what leaked, each key's expiry", async () => {
    const env = subject.env();
    const card = () => luhnComplete(`411111${String(700000 + serial++).padStart(9, '0')}`);
    const [c, d] = [card(), card()];
    const event = async (t: TestApp, externalId: string, dataElements: string[]) =>
      (await declareEvent(t, dataElements, { issuerId: 'i1', externalId: `${externalId}-${serial++}` })).id;
    const upload = (t: TestApp, id: string, body: string) => listCards(t, id, body);
    const codes = async (t: TestApp, pan: string, expiryMonth = 12, expiryYear = 2030) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(t.keys.merchant),
        payload: scoreBody({
          transactionId: `rot-${serial++}`,
          card: { number: pan, expiryMonth, expiryYear, cvvResult: 'match' },
        } as never),
      });
      return (res.json() as { reasons: { code: string }[] }).reasons.map((r) => r.code);
    };

    const before = await buildTestApp({ ...env, LEAKGUARD_CARD_KEY: OLD_KEY });
    let e1: string;
    try {
      // i1's cards: an event's statistics count the hits its issuer is shown (its BIN ranges).
      await setBinRanges(before, { i1: [{ from: '411111', to: '411111' }] });
      e1 = await event(before, 'e1', ['pan', 'cvv']);
      const e3 = await event(before, 'e3', ['pan', 'expiry', 'cvv']);
      await upload(before, e1, c);
      await upload(before, e3, `${d},3,2028`);
      expect((await codes(before, c))[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
    } finally {
      await before.close();
    }
    const after = await buildTestApp({ ...env, LEAKGUARD_CARD_KEY: NEW_KEY, LEAKGUARD_PREVIOUS_CARD_KEY: OLD_KEY });
    try {
      expect((await codes(after, c))[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
      // Listed again, under the new key, by an event whose security code did not leak: e1's still did.
      const e2 = await event(after, 'e2', ['pan']);
      await upload(after, e2, c);
      const both = await codes(after, c);
      expect(both[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
      expect(both).not.toContain('LEAKED_CARD_CVV_MATCH');
      // e2 retracted: e1 (under the previous key) still lists the card.
      const retracted = await after.app.inject({
        method: 'POST',
        url: `/v1/compromise-events/${e2}/retract`,
        headers: bearer(after.keys.admin),
      });
      expect(retracted.statusCode).toBe(200);
      expect((await codes(after, c))[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
      const stats = await after.app.inject({ url: `/v1/compromise-events/${e1}`, headers: bearer(after.keys.admin) });
      expect(stats.json().statistics.hits).toBeGreaterThanOrEqual(3);
      // The leaked expiry under the previous key still tells a reissue once a list without one names the card anew.
      const e4 = await event(after, 'e4', ['pan', 'cvv']);
      await upload(after, e4, d);
      expect(await codes(after, d, 12, 2031)).toEqual(['LEAKED_CARD_REISSUED']);
      expect((await codes(after, d, 3, 2028))[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
      // e1's list uploaded again before the previous key is dropped: the card e1 listed under it is
      // a duplicate, not a new card of e1 (its count stays); a card it did not list is new.
      const fresh = card();
      expect(await upload(after, e1, `${c}\n${fresh}\n`)).toMatchObject({ accepted: 1, duplicates: 1, rejected: 0 });
      expect(await upload(after, e1, `${c}\n${fresh}\n`)).toMatchObject({ accepted: 0, duplicates: 2 });
      const listed = await after.app.inject({ url: `/v1/compromise-events/${e1}`, headers: bearer(after.keys.admin) });
      expect(listed.json().statistics.cardsListed).toBe(2);
    } finally {
      await after.close();
    }
    // The previous key dropped: e1 still lists the card, under the new key.
    const dropped = await buildTestApp({ ...env, LEAKGUARD_CARD_KEY: NEW_KEY });
    try {
      expect((await codes(dropped, c))[0]).toBe('LEAKED_CARD_CVV_COMPROMISED');
    } finally {
      await dropped.close();
    }
  });
});
