// A recording that spans a card-key rotation replays as production scored: during a rotation the
// engine reads a card's and a device's counters under the previous key too, so their history before
// the rotation counts. The record keeps those other identities (`alternates`); without them the
// replay took the card after the rotation for a new one (its counts restarting from nothing) in
// every backtest and in the rows a model is trained on.
import { describe, expect, it } from 'vitest';
import type { CardKeyring } from '../../services/core/card.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { DEFAULT_RATES_PATH } from '../../services/adapters/files/rates-file.ts';
import { RecordedProduction } from '../support/recorded-production.ts';
import { TrafficBuilder } from '../../models/backtest/traffic.ts';
import { replayConfiguration } from '../../models/backtest/replay.ts';
import type { FeatureMap } from '../../services/core/feature-map.ts';

const t0 = Date.parse('2026-11-02T10:00:00Z');
const k1 = { id: 'k1', secret: Buffer.alloc(32, 1) };
const k2 = { id: 'k2', secret: Buffer.alloc(32, 2) };

describe('a recording across a card-key rotation', () => {
  it('replays the card and device counters production read under both keys', async () => {
    const production = new RecordedProduction(t0);
    const produced: FeatureMap[] = [];
    // An engine per key ring, on one store: before the rotation, then during it (k2 new, k1 previous).
    const engineWith = (keyring: CardKeyring) =>
      production.engine(keyring, (_request, result) => {
        if (result.kind === 'scored') produced.push(result.evidence!.features);
      });
    const order = (i: number) =>
      scoreRequestSchema.parse({
        transactionId: `o${i}`,
        amount: 2500,
        currency: 'EUR',
        channel: 'ecommerce',
        occurredAt: new Date(production.clock).toISOString(),
        card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
        device: { id: 'phone-1' },
      });
    const before = engineWith({ primary: k1 });
    const during = engineWith({ primary: k2, previous: k1 });
    for (let i = 0; i < 5; i++) {
      production.clock = t0 + i * 3_600_000;
      await (i < 3 ? before : during).score('m1', order(i));
    }
    await production.close();
    const lines = production.lines;
    // Production counted the card's five orders across the rotation, and the device's one card
    // once under either fingerprint (docs/velocity-features.md, "Key rotation"); the replay must
    // say the same.
    expect(produced.map((f) => f.card_count_24h)).toEqual([1, 2, 3, 4, 5]);
    expect(produced.map((f) => f.device_distinct_cards_24h)).toEqual([1, 1, 1, 1, 1]);

    const records = lines.map((l) => JSON.parse(l.json) as { alternates?: Record<string, string[]> });
    expect(records.slice(0, 3).map((r) => r.alternates)).toEqual([undefined, undefined, undefined]);
    expect(Object.keys(records[3]!.alternates!).sort()).toEqual(['card', 'device']);
    const builder = new TrafficBuilder('recording');
    lines.forEach((l, i) => builder.add(l.json, `recording:${i + 1}`));
    const traffic = builder.finish();
    expect(traffic.refused).toBe(0);
    const replayed: FeatureMap[] = [];
    await replayConfiguration(
      traffic,
      { label: 'in force', ruleset: DEFAULT_RULESET_PATH, model: null, rates: DEFAULT_RATES_PATH },
      { first: 0, reportFrom: 0, end: traffic.count },
      undefined,
      (_i, _input, result) => replayed.push(result.evidence!.features),
    );
    expect(replayed).toEqual(produced);
  });
});
