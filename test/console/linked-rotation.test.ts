// A card-key rotation changes every identity a case is linked by (the card's fingerprint and the
// device's, IP's, e-mail's and address's pseudonyms derive from the card key): the cases of a card
// made before it and after it shared none, and the console showed them unrelated. A case made
// during a rotation keeps the previous key's identities as aliases, and cases link through them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../services/config.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime, type Runtime } from '../../services/runtime.ts';
import { TEST_CARD_KEY, TEST_DATA_KEY } from '../support/app.ts';

const NEW_CARD_KEY = 'b'.repeat(64);
const PAN = '5555555555554444';

const order = (transactionId: string) =>
  scoreRequestSchema.parse({
    transactionId,
    amount: 2500,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number: PAN, expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    customer: { email: 'holder@example.com' },
    device: { id: 'dev-1', ip: '198.51.100.4' },
    shippingAddress: { line1: '1-2-3 Umeda', city: 'Osaka', postalCode: '530-0001', country: 'JP' },
  });

/** One engine's life on the state directory: a flagged order scored and made a case. */
async function caseOf(stateDir: string, keys: Record<string, string>, transactionId: string): Promise<Runtime> {
  const config = loadConfig({
    LEAKGUARD_STATE_DIR: stateDir,
    LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    LEAKGUARD_MODEL: 'off',
    ...keys,
  });
  const runtime = createRuntime(config, createLogger('silent'));
  expect(await runtime.waitForStores()).toBe(true);
  await runtime.openCases();
  const scored = await runtime.engine.score('shop-1', order(transactionId));
  expect(scored.kind === 'scored' && scored.response.decision).not.toBe('approve');
  await runtime.flaggedSink.drain();
  await runtime.cases!.ingester.idle();
  return runtime;
}

it("links a card's cases made before and after a card-key rotation, by every identity", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-linked-rotation-'));
  const before = await caseOf(stateDir, { LEAKGUARD_CARD_KEY: TEST_CARD_KEY }, 'tx-before');
  await before.close();
  const after = await caseOf(
    stateDir,
    { LEAKGUARD_CARD_KEY: NEW_CARD_KEY, LEAKGUARD_PREVIOUS_CARD_KEY: TEST_CARD_KEY },
    'tx-after',
  );
  try {
    const store = after.cases!.store;
    const [old, made] = await Promise.all([
      store.getByTransaction('shop-1', 'tx-before'),
      store.getByTransaction('shop-1', 'tx-after'),
    ]);
    // Nothing in common but through the aliases: each identity of the new case differs.
    expect(made!.card.fingerprint).not.toBe(old!.card.fingerprint);
    expect(made!.links.shipping).not.toBe(old!.links.shipping);
    for (const [from, to] of [
      [made!, old!],
      [old!, made!],
    ] as const) {
      const linked = await store.linked(from.id);
      expect(linked.cases.map((l) => [l.id, [...l.via].sort()])).toEqual([
        [to.id, ['card', 'device', 'email', 'ip', 'shipping']],
      ]);
    }
    // Aliases are keyed identities, never card data.
    const { rows } = await after.cases!.sql.query<{ aliases: string[] }>(
      'SELECT link_aliases AS aliases FROM cases WHERE transaction_id = $1',
      ['tx-after'],
    );
    // The address's three: the previous key's, and the previous normalisation's under both keys.
    expect(rows[0]!.aliases.map((a) => a.split(':')[0]).sort()).toEqual([
      'card',
      'device',
      'email',
      'ip',
      'shipping',
      'shipping',
      'shipping',
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/\d{12,}/);
  } finally {
    await after.close();
  }
}, 120_000);
