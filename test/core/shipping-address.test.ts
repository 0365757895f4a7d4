import { describe, expect, it } from 'vitest';
import { EntityHasher, legacyNormaliseAddress, normaliseAddress, type Address } from '../../services/core/entities.ts';
import { identifyCard } from '../../services/core/card.ts';
import { Engine } from '../../services/core/engine.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { MemoryNegativeListStore } from '../../services/adapters/memory/negative-list-store.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { buildCounterPlan } from '../../services/core/velocity.ts';

const keyring = { primary: { id: 'k', secret: Buffer.alloc(32, 3) } };
const ginza: Address = { line1: '1-2-3 Ginza', postalCode: '150-0002', city: 'Tokyo', country: 'JP' };
const CARDS = ['4111111111111111', '5555555555554444', '4012888888881881', '5105105105105100'];

function engineWith(lists?: MemoryNegativeListStore, store = new MemoryVelocityStore(lists ? { lists } : {})) {
  const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = readRatesFile();
  return new Engine({
    store,
    keyring,
    ruleset: () => ruleset,
    rates: () => rates,
    deadlineMs: 1000,
    ...(lists ? { lists: true } : {}),
  });
}
const order = (transactionId: string, number: string, shippingAddress: Address) =>
  scoreRequestSchema.parse({
    transactionId,
    amount: 50,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
    shippingAddress,
  });
async function codesOf(engine: Engine, transactionId: string, number: string, address: Address) {
  const result = await engine.score('m1', order(transactionId, number, address));
  if (result.kind !== 'scored') throw new Error('not scored');
  return result.response.reasons.map((r) => r.code);
}

describe('a shipping address written another way (found by an audit)', () => {
  it('is one delivery point whatever the postcode spacing, dashes and the ー typed for a dash', () => {
    const one = normaliseAddress(ginza);
    expect(normaliseAddress({ ...ginza, postalCode: '1500002' })).toBe(one);
    expect(normaliseAddress({ ...ginza, postalCode: '150ー0002' })).toBe(one);
    expect(normaliseAddress({ ...ginza, postalCode: '１５０ｰ０００２' })).toBe(one);
    expect(normaliseAddress({ ...ginza, line1: '1ー2ー3 Ginza' })).toBe(one);
    expect(normaliseAddress({ ...ginza, line1: '1−2−3 Ginza' })).toBe(one);
    const london: Address = { line1: '10 Downing St', postalCode: 'SW1A 1AA', city: 'London', country: 'GB' };
    expect(normaliseAddress({ ...london, postalCode: 'SW1A1AA' })).toBe(normaliseAddress(london));
    // After kana ー lengthens a vowel: a letter of the word, not a dash.
    expect(normaliseAddress({ ...ginza, line1: 'センター 1' })).toContain('センター');
  });

  it('fires SHIPPING_ADDRESS_MANY_CARDS_7D for a fourth card whose postcode lost its dash', async () => {
    const engine = engineWith();
    for (let i = 0; i < 3; i++) await codesOf(engine, `t${i}`, CARDS[i]!, ginza);
    expect(await codesOf(engine, 't3', CARDS[3]!, { ...ginza, postalCode: '1500002' })).toContain(
      'SHIPPING_ADDRESS_MANY_CARDS_7D',
    );
  });

  it('fires it for SW1A1AA after SW1A 1AA, and for 1ー2ー3 / 150ー0002 after 1-2-3 / 150-0002', async () => {
    const london: Address = { line1: '10 Downing St', postalCode: 'SW1A 1AA', city: 'London', country: 'GB' };
    const engine = engineWith();
    for (let i = 0; i < 3; i++) await codesOf(engine, `l${i}`, CARDS[i]!, london);
    expect(await codesOf(engine, 'l3', CARDS[3]!, { ...london, postalCode: 'SW1A1AA' })).toContain(
      'SHIPPING_ADDRESS_MANY_CARDS_7D',
    );
    for (let i = 0; i < 3; i++) await codesOf(engine, `g${i}`, CARDS[i]!, ginza);
    expect(
      await codesOf(engine, 'g3', CARDS[3]!, { ...ginza, line1: '1ー2ー3 Ginza', postalCode: '150ー0002' }),
    ).toContain('SHIPPING_ADDRESS_MANY_CARDS_7D');
  });

  it('still counts the cards an address was shipped to under the previous normalisation', async () => {
    const hasher = new EntityHasher(keyring);
    const store = new MemoryVelocityStore();
    // Three cards counted before the upgrade: the shipping identity was the old normalisation's.
    const [old] = hasher.identities('shipping', legacyNormaliseAddress(ginza)!);
    for (let i = 0; i < 3; i++) {
      const facts = {
        merchantId: 'm1',
        transactionId: `before-${i}`,
        payloadHash: `h${i}`,
        occurredAt: Date.now() - 3_600_000,
        amountCents: 5000,
        small: false,
        entities: { card: [`card-before-${i}`], merchant: ['m1'], shipping: [old!] },
      };
      expect((await store.recordAndRead(buildCounterPlan(facts, store.keys))).status).toBe('new');
    }
    const engine = engineWith(undefined, store);
    expect(await codesOf(engine, 'after', CARDS[0]!, ginza)).toContain('SHIPPING_ADDRESS_MANY_CARDS_7D');
  });

  it("counts a card's two addresses used before and after the upgrade as two, not four: CARD_MANY_SHIPPING_ADDRESSES_7D stays quiet", async () => {
    const hasher = new EntityHasher(keyring);
    const store = new MemoryVelocityStore();
    const osaka: Address = { line1: '4-5-6 Umeda', postalCode: '530-0001', city: 'Osaka', country: 'JP' };
    const card = identifyCard(keyring, CARDS[0]!);
    // Before the upgrade the card shipped to both, counted under the previous normalisation's pseudonyms.
    for (const [i, address] of [ginza, osaka].entries()) {
      const [old] = hasher.identities('shipping', legacyNormaliseAddress(address)!);
      const facts = {
        merchantId: 'm1',
        transactionId: `before-${i}`,
        payloadHash: `h${i}`,
        occurredAt: Date.now() - 3_600_000,
        amountCents: 5000,
        small: false,
        entities: { card: card.fingerprints, merchant: ['m1'], shipping: [old!] },
      };
      expect((await store.recordAndRead(buildCounterPlan(facts, store.keys))).status).toBe('new');
    }
    const engine = engineWith(undefined, store);
    const scored = async (transactionId: string, address: Address) => {
      const result = await engine.score('m1', order(transactionId, CARDS[0]!, address));
      if (result.kind !== 'scored') throw new Error('not scored');
      return result;
    };
    expect((await scored('after-0', ginza)).evidence!.features.card_distinct_shipping_addresses_7d).toBe(2);
    const last = await scored('after-1', osaka);
    expect(last.evidence!.features.card_distinct_shipping_addresses_7d).toBe(2);
    expect(last.response.reasons.map((r) => r.code)).not.toContain('CARD_MANY_SHIPPING_ADDRESSES_7D');
  });

  it('still matches an address negative-listed under the previous normalisation, and lists under the new one only', async () => {
    const hasher = new EntityHasher(keyring);
    const old = legacyNormaliseAddress(ginza)!;
    expect(old).not.toBe(normaliseAddress(ginza));
    const lists = new MemoryNegativeListStore();
    // Listed before the upgrade: under the pseudonym the old normalisation gave.
    await lists.add('shipping', hasher.identities('shipping', old)[0]!, 86_400_000, 1);
    const engine = engineWith(lists);
    expect(await codesOf(engine, 'n1', CARDS[0]!, ginza)).toContain('SHIPPING_ADDRESS_CONFIRMED_FRAUD');
    // Read under both, written (and linked for analysts) under today's only.
    expect(hasher.addressIdentities(ginza)).toEqual([
      hasher.identities('shipping', normaliseAddress(ginza)!)[0],
      hasher.identities('shipping', old)[0],
    ]);
    expect(hasher.addressIdentities({ ...ginza, postalCode: '1500002' })).toHaveLength(1);
  });
});
