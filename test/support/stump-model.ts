// A hand-made handbook-set artifact (two stumps), so that model-file tests need no training.
import { renameSync, writeFileSync } from 'node:fs';
import { featureNames, HANDBOOK_FEATURE_SET } from '../../services/model/definitions.ts';
import { buildArtifact, type Artifact } from '../../services/model/artifact.ts';
import { FlatForestBuilder } from '../../services/model/forest.ts';
import { artifactFeatureSet } from '../../services/model/fingerprint.ts';

const names = featureNames(HANDBOOK_FEATURE_SET);

/** One stump: a feature, its threshold, the probability below it and at or above it. */
export type Stump = readonly [feature: string, threshold: number, low: number, high: number];

/** By default TX_AMOUNT ≥ 500 → 0.9 (else 0.05); the card's 24-hour count ≥ 3 → 0.8 (else 0.05). */
export function stumpModel(
  version: string,
  over: Partial<Omit<Artifact, 'forest'>> = {},
  stumps: readonly Stump[] = [
    ['TX_AMOUNT', 500, 0.05, 0.9],
    ['CUSTOMER_ID_NB_TX_1DAY_WINDOW', 2.5, 0.05, 0.8],
  ],
  featureSet: Partial<Artifact['featureSet']> = {},
): Artifact {
  const b = new FlatForestBuilder(names.length);
  for (const [feature, threshold, low, high] of stumps) {
    const root = b.node(names.indexOf(feature), threshold, (low + high) / 2, 100);
    const l = b.node(-1, 0, low, 90);
    const r = b.node(-1, 0, high, 10);
    b.link(root, l, r);
    b.root(root);
  }
  const artifact = buildArtifact({
    modelVersion: version,
    amountReference: 'EUR',
    featureSet: { ...artifactFeatureSet(HANDBOOK_FEATURE_SET), ...featureSet },
    training: {
      data: {
        source: 'hand-made',
        from: '2018-07-25',
        to: '2018-07-31',
        rows: 100,
        frauds: 10,
        fingerprint: `sha256:${'0'.repeat(64)}`,
      },
      params: {},
      seconds: 0,
      library: 'none',
    },
    flat: b.build(),
  });
  return { ...artifact, ...over };
}

/** Written aside and renamed, as the docs tell operators: a watcher never sees half a file. */
export function installJson(path: string, json: unknown): void {
  writeFileSync(`${path}.tmp`, typeof json === 'string' ? json : JSON.stringify(json));
  renameSync(`${path}.tmp`, path);
}
