// A feature set's fingerprint: a digest of everything declared about its features, so that a model
// trained on one definition is never served on another. The set's `version` is bumped by hand and a
// changed window, delay, counter or category without a bump went unnoticed; the fingerprint is
// computed from the declarations themselves and stored in the artifact beside the version.
//
// What it covers, per feature in order: its name and kind; a window's entity, statistic, days and
// delay; the engine counters it reads, each as the counter declares it (services/core/velocity.ts:
// counter kind, entity, window and delay in milliseconds, the outcomes counted, the outcomes that
// label a fraud); the divisors of a relative amount (services/core/features.ts); the category an
// engine feature's one-hot encoding tests (`equals`). What it cannot cover is code: how a statistic
// or a row feature is computed (`windowValue`, `rowValue`) and how the engine computes a feature that
// is not a counter (a watchlist flag, days since listed). A change there still bumps the version.
// Counter caps are left out: they bound memory and change a value only once an entity saturates.
import { createHash } from 'node:crypto';
import { RELATIVE_WINDOWS } from '../core/features.ts';
import {
  DELAYED_COUNTERS,
  DISTINCT_COUNTERS,
  FRAUD_LABEL_OUTCOMES,
  LOG_COUNTERS,
  OUTCOME_COUNTERS,
  VELOCITY_FEATURES,
  WINDOWS,
} from '../core/velocity.ts';
import { ArtifactError, refuseOtherFeatures, type Artifact } from './artifact.ts';
import type { FeatureDef, FeatureSet } from './feature-types.ts';

/**
 * Every velocity feature's declaration, by name. Built in the order velocity.ts lists its
 * features (VELOCITY_FEATURES), so that no name pattern is repeated here; a test checks each
 * declaration against its name.
 */
export const COUNTER_DECLARATIONS: ReadonlyMap<string, Readonly<Record<string, unknown>>> = (() => {
  const decls: Record<string, unknown>[] = [];
  for (const c of LOG_COUNTERS) {
    const log = (measure: string) => (w: keyof typeof WINDOWS) =>
      decls.push({ counter: 'log', entity: c.entity, measure, windowMs: WINDOWS[w] });
    c.counts.forEach(log('count'));
    (c.amounts ?? []).forEach(log('amount'));
    (c.smallAmounts ?? []).forEach(log('small_count'));
  }
  for (const c of DISTINCT_COUNTERS)
    for (const w of c.windows) decls.push({ counter: 'distinct', entity: c.entity, of: c.of, windowMs: WINDOWS[w] });
  for (const c of OUTCOME_COUNTERS)
    for (const k of c.kinds)
      for (const w of c.windows) decls.push({ counter: 'outcome', entity: c.entity, outcome: k, windowMs: WINDOWS[w] });
  for (const c of DELAYED_COUNTERS) {
    const delayed = (measure: string) => (w: keyof typeof WINDOWS) =>
      decls.push({
        counter: 'delayed',
        entity: c.entity,
        measure,
        delayMs: WINDOWS[c.delay],
        windowMs: WINDOWS[w],
        ...(measure === 'frauds' ? { fraudOutcomes: [...FRAUD_LABEL_OUTCOMES] } : {}),
      });
    c.windows.forEach(delayed('count'));
    c.windows.forEach(delayed('frauds'));
  }
  if (decls.length !== VELOCITY_FEATURES.length)
    throw new Error(`velocity features: ${VELOCITY_FEATURES.length} names, ${decls.length} counter declarations`);
  return new Map(VELOCITY_FEATURES.map((name, i) => [name, decls[i]!]));
})();

/** What an engine source is, as far as it is declared: a counter, a relative amount's divisors, or only its name. */
function sourceDeclaration(source: string): unknown {
  const counter = COUNTER_DECLARATIONS.get(source);
  if (counter) return { source, ...counter };
  const relative = RELATIVE_WINDOWS.find(([name]) => name === source);
  if (relative)
    return {
      source,
      dividend: 'amount_ref',
      divisor: { count: sourceDeclaration(relative[1]), amount: sourceDeclaration(relative[2]) },
    };
  return { source };
}

/** One feature's declaration, whole: the text its digest is taken of. */
export function featureDeclaration(f: FeatureDef): unknown {
  switch (f.kind) {
    case 'window':
      return {
        kind: f.kind,
        name: f.name,
        entity: f.entity,
        stat: f.stat,
        days: f.days,
        delayDays: f.delayDays,
        engine: f.engine
          ? {
              count: sourceDeclaration(f.engine.count),
              amount: f.engine.amount === undefined ? null : sourceDeclaration(f.engine.amount),
              frauds: f.engine.frauds === undefined ? null : sourceDeclaration(f.engine.frauds),
            }
          : null,
      };
    case 'engine':
      return { kind: f.kind, name: f.name, source: sourceDeclaration(f.source), equals: f.equals ?? null };
    default:
      return { kind: f.kind, name: f.name };
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A feature's digest: 12 hex digits of its declaration's SHA-256 (enough to tell definitions apart, short in a file). */
export function featureDigest(f: FeatureDef): string {
  return sha256(JSON.stringify(featureDeclaration(f))).slice(0, 12);
}

export interface FeatureSetIdentity {
  fingerprint: string;
  featureDigests: string[];
}

const identities = new WeakMap<FeatureSet, FeatureSetIdentity>();

/** The set's fingerprint (`sha256:` over its name and its features' digests in order) and those digests. */
export function featureSetIdentity(fs: FeatureSet): FeatureSetIdentity {
  let id = identities.get(fs);
  if (!id) {
    const featureDigests = fs.features.map(featureDigest);
    id = {
      fingerprint: `sha256:${sha256(JSON.stringify({ name: fs.name, features: featureDigests }))}`,
      featureDigests,
    };
    identities.set(fs, id);
  }
  return id;
}

/** What an artifact records of the set it was trained on. */
export function artifactFeatureSet(fs: FeatureSet): Artifact['featureSet'] {
  const { fingerprint, featureDigests } = featureSetIdentity(fs);
  return { name: fs.name, version: fs.version, features: fs.features.map((f) => f.name), fingerprint, featureDigests };
}

/** Why an artifact without a fingerprint is served unverified: what the engine's warning says. */
export function unverifiedDefinitions(artifact: Pick<Artifact, 'modelVersion' | 'featureSet'>, fs: FeatureSet): string {
  return (
    `the model ${artifact.modelVersion} has no featureSet.fingerprint (written before fingerprints): nothing says it was ` +
    `trained on the definitions of "${fs.name}" version ${fs.version} this engine computes (fingerprint ` +
    `${featureSetIdentity(fs).fingerprint}); served on its version and feature names — retrain it to have them checked`
  );
}

/**
 * Refuses a model trained on another feature set than `fs`: another name, version, feature names or
 * order, or other definitions under the same names (the fingerprint, naming the first feature
 * defined otherwise). One without a fingerprint (written before fingerprints) is 'unverified':
 * served on its version and names, with unverifiedDefinitions' warning.
 */
export function refuseOtherFeatureSet(
  artifact: Pick<Artifact, 'modelVersion' | 'featureSet'>,
  fs: FeatureSet,
): 'verified' | 'unverified' {
  const declared = artifact.featureSet;
  const model = `the model ${artifact.modelVersion}`;
  if (declared.name === fs.name && declared.version !== fs.version)
    throw new ArtifactError(
      `feature set mismatch: ${model} uses "${fs.name}" version ${declared.version}, this engine computes version ${fs.version}: retrain the model`,
    );
  refuseOtherFeatures(declared, { name: fs.name, features: fs.features.map((f) => f.name) });
  const expected = featureSetIdentity(fs);
  // Written before fingerprints: served on its version and names, as before (refusing it would take a
  // deployment's model away at an upgrade); unverifiedDefinitions says so, and the engine warns.
  if (declared.fingerprint === undefined) return 'unverified';
  if (declared.fingerprint === expected.fingerprint) return 'verified';
  const digests = declared.featureDigests;
  const differing =
    digests?.length === expected.featureDigests.length
      ? expected.featureDigests.flatMap((d, i) => (digests[i] === d ? [] : [i]))
      : [];
  const which = differing.length
    ? `${differing.length} feature${differing.length > 1 ? 's' : ''} defined otherwise, the first ${fs.features[differing[0]!]!.name} at position ${differing[0]}`
    : 'the set is defined otherwise';
  throw new ArtifactError(
    `feature definitions mismatch: ${model} was trained on "${fs.name}" version ${fs.version} with fingerprint ${declared.fingerprint}, ` +
      `this engine computes ${expected.fingerprint} (${which}): retrain the model, and bump the set's version (services/model/definitions.ts, engine-set.ts)`,
  );
}
