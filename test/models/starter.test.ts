// The starter model `npm start` serves: shipped with the project, servable by this very engine
// (a change to the engine feature set that forgets `npm run model:starter` fails here), named as a
// starter, and chosen by the configuration unless the user names their own or turns it off.
import { describe, expect, it } from 'vitest';
import { loadArtifact } from '../../services/model/artifact.ts';
import { loadScoringModel } from '../../services/adapters/files/model-file.ts';
import { ENGINE_FEATURE_SET } from '../../services/model/definitions.ts';
import { STARTER_MODEL_PATH, STARTER_TRAINING } from '../../services/model/starter.ts';
import { modelPathOf } from '../../services/runtime.ts';

describe('the starter model', () => {
  it('is servable by this engine on its live feature set, and says what it is', () => {
    const model = loadScoringModel(STARTER_MODEL_PATH);
    expect(model.featureSet).toBe(ENGINE_FEATURE_SET.name);
    expect(model.version).toBe(
      `starter-engine-v${ENGINE_FEATURE_SET.version}-sim${STARTER_TRAINING.dataSeed}-${STARTER_TRAINING.trees}t`,
    );
    const { artifact } = loadArtifact(STARTER_MODEL_PATH);
    expect(artifact.training.data).toMatchObject({ from: STARTER_TRAINING.from, to: STARTER_TRAINING.to });
    expect(artifact.training.params).toMatchObject({
      trees: STARTER_TRAINING.trees,
      seed: STARTER_TRAINING.forestSeed,
    });
    expect(artifact.training.data.frauds).toBeGreaterThan(100);
    // Trained on the simulator's euros, replayed through the default table (reference EUR).
    expect(artifact.amountReference).toBe('EUR');
    expect(model.amountReference).toBe('EUR');
  });

  it('scores a leaked card being cashed out from a shared device above an ordinary purchase', () => {
    const model = loadScoringModel(STARTER_MODEL_PATH);
    const at = Date.parse('2026-06-01T03:00:00Z');
    const base = {
      amount_ref: 40,
      card_not_present: true,
      cvv_result: 'match',
      three_ds_status: 'none',
      card_count_24h: 1,
      card_count_7d: 4,
      card_count_30d: 15,
      card_amount_24h: 40,
      card_amount_7d: 160,
      card_amount_30d: 600,
    };
    const ordinary = model.evaluate({ ...base }, at).probability;
    const cashout = model.evaluate(
      {
        ...base,
        amount_ref: 700,
        card_count_24h: 3,
        card_amount_24h: 1500,
        card_count_1h: 2,
        card_small_count_24h: 2,
        card_distinct_merchants_24h: 3,
        device_distinct_cards_24h: 6,
        device_distinct_cards_7d: 12,
        ip_distinct_cards_24h: 5,
        shipping_distinct_cards_7d: 8,
        shipping_distinct_cards_30d: 15,
        card_listed: true,
        leaked_cvv: true,
        days_since_listed: 3,
        uses_since_listed: 2,
        amount_to_card_avg_30d: 17,
      },
      at,
    ).probability;
    expect(cashout).toBeGreaterThan(ordinary);
    expect(cashout).toBeGreaterThan(0.5);
  });

  it('is what LEAKGUARD_MODEL means when unset; `off` turns the model off; a path names another', () => {
    expect(modelPathOf({ LEAKGUARD_MODEL: undefined })).toBe(STARTER_MODEL_PATH);
    expect(modelPathOf({ LEAKGUARD_MODEL: 'off' })).toBeUndefined();
    expect(modelPathOf({ LEAKGUARD_MODEL: 'OFF' })).toBeUndefined();
    expect(modelPathOf({ LEAKGUARD_MODEL: '/srv/models/mine.json' })).toBe('/srv/models/mine.json');
  });
});
