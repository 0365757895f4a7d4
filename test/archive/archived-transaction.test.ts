// What the transaction archive is fed from a scoring (services/archive-writer.ts): a transaction
// counted but never answered — its first answer lost to a crash, or degraded because Redis answered
// too late — is archived when its retry is answered; otherwise an outcome reported after its marker
// has gone finds nothing (found by an audit of the stream).
import { expect, it } from 'vitest';
import { archivedTransaction } from '../../services/archive-writer.ts';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { Engine } from '../../services/core/engine.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import type { VelocityStore } from '../../services/core/velocity.ts';

it('archives the answer to a retry of a transaction counted but not answered; not a stored answer sent again', async () => {
  const memory = new MemoryVelocityStore();
  let dropSave = true;
  // The first answer is never stored: the process died between the count and the store's write.
  const store: VelocityStore = Object.assign(Object.create(memory) as VelocityStore, {
    saveResponse: async (...a: Parameters<VelocityStore['saveResponse']>) => {
      if (!dropSave) await memory.saveResponse(...a);
    },
  });
  const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = readRatesFile();
  const engine = new Engine({
    store,
    keyring: { primary: { id: 'k', secret: Buffer.alloc(32, 5) } },
    ruleset: () => ruleset,
    rates: () => rates,
    deadlineMs: 1000,
  });
  const order = scoreRequestSchema.parse({
    transactionId: 'counted-1',
    amount: 4200,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
  });
  const first = await engine.score('m1', order);
  dropSave = false;
  const retry = await engine.score('m1', order);
  expect(retry).toMatchObject({ kind: 'scored', replayed: true });
  const archived = archivedTransaction('m1', retry);
  expect(archived).toEqual(archivedTransaction('m1', first));
  expect(archived).toMatchObject({ merchantId: 'm1', transactionId: 'counted-1' });
  // Stored now: the next retry is the stored answer, with nothing to archive.
  const replay = await engine.score('m1', order);
  expect(replay).toMatchObject({ kind: 'scored', replayed: true });
  expect(archivedTransaction('m1', replay)).toBeUndefined();
});
