// A feature set's fingerprint comes from its definitions, not from a version bumped by hand: a changed
// window, delay, counter or category changes it, and serving refuses a model whose fingerprint is
// not the one this engine computes, naming the feature defined otherwise.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WINDOWS } from '../../services/core/velocity.ts';
import { loadScoringModel } from '../../services/adapters/files/model-file.ts';
import {
  ENGINE_FEATURE_SET,
  HANDBOOK_FEATURE_SET,
  type FeatureDef,
  type FeatureSet,
} from '../../services/model/definitions.ts';
import { COUNTER_DECLARATIONS, featureSetIdentity } from '../../services/model/fingerprint.ts';
import { STARTER_MODEL_PATH } from '../../services/model/starter.ts';
import { installJson, stumpModel } from '../support/stump-model.ts';

/** The set with one feature's definition replaced (same name, same place). */
function redefined(fs: FeatureSet, name: string, change: (f: FeatureDef) => FeatureDef): FeatureSet {
  return { ...fs, features: fs.features.map((f) => (f.name === name ? change(f) : f)) };
}

describe('feature set fingerprint', () => {
  const base = featureSetIdentity(HANDBOOK_FEATURE_SET);

  it('is the same for the same definitions, and changes with any one of them', () => {
    expect(featureSetIdentity({ ...HANDBOOK_FEATURE_SET, features: [...HANDBOOK_FEATURE_SET.features] })).toEqual(base);
    const risk7 = 'TERMINAL_ID_RISK_7DAY_WINDOW';
    const at = HANDBOOK_FEATURE_SET.features.findIndex((f) => f.name === risk7);
    const changes: [string, FeatureSet][] = [
      ['delay', redefined(HANDBOOK_FEATURE_SET, risk7, (f) => ({ ...f, delayDays: 14 }) as FeatureDef)],
      ['days', redefined(HANDBOOK_FEATURE_SET, risk7, (f) => ({ ...f, days: 8 }) as FeatureDef)],
      ['statistic', redefined(HANDBOOK_FEATURE_SET, risk7, (f) => ({ ...f, stat: 'count' }) as FeatureDef)],
      [
        'engine counter',
        redefined(
          HANDBOOK_FEATURE_SET,
          risk7,
          (f) =>
            ({
              ...f,
              engine: { count: 'merchant_delayed_count_30d', frauds: 'merchant_delayed_frauds_30d' },
            }) as FeatureDef,
        ),
      ],
    ];
    for (const [what, fs] of changes) {
      const id = featureSetIdentity(fs);
      expect(id.fingerprint, what).not.toBe(base.fingerprint);
      // only that feature's digest moves: the refusal can name it
      expect(
        id.featureDigests.flatMap((d, i) => (d === base.featureDigests[i] ? [] : [i])),
        what,
      ).toEqual([at]);
    }
    // order is part of it
    const swapped = [...HANDBOOK_FEATURE_SET.features];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(featureSetIdentity({ ...HANDBOOK_FEATURE_SET, features: swapped }).fingerprint).not.toBe(base.fingerprint);
  });

  it("changes with an engine feature's category or source, and with a counter's window", () => {
    const engine = featureSetIdentity(ENGINE_FEATURE_SET).fingerprint;
    const category = redefined(ENGINE_FEATURE_SET, 'three_ds_status=Y', (f) => ({ ...f, equals: 'A' }) as FeatureDef);
    expect(featureSetIdentity(category).fingerprint).not.toBe(engine);
    const source = redefined(
      ENGINE_FEATURE_SET,
      'card_count_10m',
      (f) => ({ ...f, source: 'card_count_1h' }) as FeatureDef,
    );
    expect(featureSetIdentity(source).fingerprint).not.toBe(engine);
    // every counter's declaration says the window its name says, for the entity its name starts with
    for (const [name, decl] of COUNTER_DECLARATIONS) {
      expect(name.startsWith(`${decl.entity as string}_`), name).toBe(true);
      expect(decl.windowMs, name).toBe(WINDOWS[name.slice(name.lastIndexOf('_') + 1) as keyof typeof WINDOWS]);
    }
    expect(COUNTER_DECLARATIONS.get('merchant_delayed_frauds_7d')).toMatchObject({
      delayMs: WINDOWS['7d'],
      fraudOutcomes: ['chargeback'],
    });
  });

  it('serving refuses a model trained on other definitions, naming the feature, or on unknown ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-fingerprint-'));
    const path = join(dir, 'model.json');
    installJson(path, stumpModel('stumps-fp'));
    expect(loadScoringModel(path).version).toBe('stumps-fp');
    // The engine's definition of the 7-day terminal risk changed, the version did not.
    const changed = redefined(
      HANDBOOK_FEATURE_SET,
      'TERMINAL_ID_RISK_7DAY_WINDOW',
      (f) => ({ ...f, delayDays: 14 }) as FeatureDef,
    );
    expect(() => loadScoringModel(path, { featureSets: { handbook: changed } })).toThrow(
      new RegExp(
        `feature definitions mismatch: the model stumps-fp was trained on "handbook" version 1 with fingerprint ${base.fingerprint}, ` +
          `this engine computes ${featureSetIdentity(changed).fingerprint} \\(1 feature defined otherwise, the first TERMINAL_ID_RISK_7DAY_WINDOW at position 12\\): retrain the model`,
      ),
    );
    expect(loadScoringModel(path).unverified).toBeUndefined();
    // An artifact without a fingerprint (trained before them): nothing says which definitions it
    // learnt from; served on its version and names as before an upgrade, and said so.
    const legacy = stumpModel('stumps-old');
    delete legacy.featureSet.fingerprint;
    delete legacy.featureSet.featureDigests;
    installJson(path, legacy);
    const served = loadScoringModel(path);
    expect(served.version).toBe('stumps-old');
    expect(served.unverified).toMatch(
      /the model stumps-old has no featureSet\.fingerprint .*served on its version and feature names — retrain it/,
    );
    // Its version still has to match.
    installJson(path, { ...legacy, featureSet: { ...legacy.featureSet, version: 99 } });
    expect(() => loadScoringModel(path)).toThrow(/feature set mismatch: .* version 99/);
    // A fingerprint alone (no digests) is still refused, without a feature to name.
    installJson(
      path,
      stumpModel('stumps-fp2', {}, undefined, { fingerprint: `sha256:${'1'.repeat(64)}`, featureDigests: undefined }),
    );
    expect(() => loadScoringModel(path)).toThrow(/feature definitions mismatch: .*\(the set is defined otherwise\)/);
  });

  it('the starter model carries the fingerprint of the engine set it is served on', () => {
    const json = JSON.parse(readFileSync(STARTER_MODEL_PATH, 'utf8'));
    expect(json.featureSet.fingerprint).toBe(featureSetIdentity(ENGINE_FEATURE_SET).fingerprint);
    expect(json.featureSet.featureDigests).toEqual(featureSetIdentity(ENGINE_FEATURE_SET).featureDigests);
  });
});
