// A scoring's record keeps the watchlist's and the lists' answers that found something, not the
// ones that found nothing (most of a version 1 record's bytes); a replay restores them, so the
// engine replays the same features from either version.
import { describe, expect, it } from 'vitest';
import type { Evidence } from '../../services/core/engine.ts';
import type { FeatureMap } from '../../services/core/feature-map.ts';
import { LIST_FEATURES } from '../../services/core/lists.ts';
import { WATCHLIST_FEATURES } from '../../services/core/watchlist.ts';
import type { ScoreRequest, ScoreResponse } from '../../services/core/schemas.ts';
import {
  NOTHING_FOUND,
  RECORD_VERSION,
  replayInput,
  scoredRecord,
  trafficRecordSchema,
  type ScoredRecord,
} from '../../services/recording/record.ts';

const request = {
  transactionId: 'order-1',
  amount: 1999,
  currency: 'EUR',
  channel: 'ecommerce',
  card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
  device: { id: 'device-1' },
} as ScoreRequest;

function record(features: FeatureMap, degraded = false): ScoredRecord {
  const response = {
    transactionId: 'order-1',
    score: 10,
    decision: 'approve',
    reasons: [],
    checks: {},
    degraded,
    versions: { engine: 'e', ruleset: 'r' },
  } as unknown as ScoreResponse;
  const evidence: Evidence = {
    card: { bin: '411111', last4: '1111', keyId: 'k1', fingerprint: 'fp-1' },
    at: Date.UTC(2026, 11, 1),
    features: { card_count_24h: 3, amount: 19.99, ...features },
    entities: { device: ['dv-1'] },
    marked: {},
  };
  return scoredRecord('m1', request, response, evidence);
}

/** What a listed card's lookups found (a negative-listed device too): every one differs from NOTHING_FOUND. */
const FOUND: FeatureMap = {
  card_listed: true,
  listed_events: 2,
  listed_confirmed: true,
  leaked_cvv: true,
  // 0 days: the exposure ended today, which is not "no exposure" (-1).
  days_since_exposure_end: 0,
  days_since_listed: 12,
  uses_since_listed: 1,
  negative_device: true,
};
const LISTED: FeatureMap = { ...NOTHING_FOUND, ...FOUND };

describe("a scoring record's lookups", () => {
  it('NOTHING_FOUND answers every lookup feature: the watchlist’s and the lists’', () => {
    expect(Object.keys(NOTHING_FOUND).sort()).toEqual([...WATCHLIST_FEATURES, ...LIST_FEATURES].sort());
  });

  it('keeps only what found something, and none of the other features', () => {
    expect(record(NOTHING_FOUND).lookups).toEqual({});
    expect(record(LISTED).lookups).toEqual(FOUND);
    for (const [name, value] of Object.entries(FOUND)) expect(NOTHING_FOUND[name]).not.toBe(value);
    expect(record(LISTED).v).toBe(RECORD_VERSION);
    expect(JSON.stringify(record(NOTHING_FOUND)).length).toBeLessThan(JSON.stringify(record(LISTED)).length);
  });

  it('replays the full answers, as a version 1 record holding all of them does', () => {
    for (const features of [NOTHING_FOUND, LISTED]) {
      const written = trafficRecordSchema.parse(JSON.parse(JSON.stringify(record(features)))) as ScoredRecord;
      expect(replayInput(written).reduced.lookups).toEqual(features);
      const v1 = trafficRecordSchema.parse({ ...written, v: 1, lookups: features }) as ScoredRecord;
      expect(replayInput(v1).reduced.lookups).toEqual(features);
    }
  });

  it('restores nothing for a degraded scoring, which asked neither the watchlist nor the lists', () => {
    const degraded = record({}, true);
    expect(degraded.lookups).toEqual({});
    expect(replayInput(degraded).reduced.lookups).toEqual({});
  });

  it('refuses a version it does not know', () => {
    const r = trafficRecordSchema.safeParse({ ...record(LISTED), v: RECORD_VERSION + 1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['v']);
  });
});
