// A model artifact as the engine's ScoringModel (services/core/model.ts), and the file that holds
// the active one (a WatchedFile: re-read when it changes, on SIGHUP or by the admin route). A file
// that fails to load — unreadable, invalid, or built for a feature set this engine does not
// compute, or trained on amounts in another currency than the rate table's reference — is refused
// and the model in force stays.
import { WatchedFile, type ReloadResult } from './watched-file.ts';
import type { FeatureMap } from '../../core/features.ts';
import type { ModelFactor, ModelVerdict, ScoringModel } from '../../core/model.ts';
import { FEATURE_SETS, featureNames, type FeatureSet } from '../../model/definitions.ts';
import { servingVector, unservableFeatures } from '../../model/serving.ts';
import {
  amountReferenceOf,
  ArtifactError,
  parseArtifact,
  readArtifactJson,
  type Artifact,
} from '../../model/artifact.ts';
import { refuseOtherFeatureSet, unverifiedDefinitions } from '../../model/fingerprint.ts';
import type { CompiledForest } from '../../model/forest.ts';

export class ForestScoringModel implements ScoringModel {
  readonly version: string;
  readonly featureSet: string;
  /** The currency the model reads amounts in: it must be the rate table's reference. */
  readonly amountReference: string;
  readonly artifact: Artifact;
  /** Why its feature definitions could not be checked (an artifact without a fingerprint), else undefined. */
  readonly unverified: string | undefined;
  private readonly fs: FeatureSet;
  private readonly forest: CompiledForest;
  private readonly names: readonly string[];

  constructor(artifact: Artifact, forest: CompiledForest, fs: FeatureSet, unverified?: string) {
    this.artifact = artifact;
    this.unverified = unverified;
    this.version = artifact.modelVersion;
    this.amountReference = amountReferenceOf(artifact);
    this.featureSet = fs.name;
    this.fs = fs;
    this.forest = forest;
    this.names = featureNames(fs);
  }

  evaluate(features: FeatureMap, occurredAt: number, maxFactors = 3): ModelVerdict {
    const x = servingVector(this.fs, features, occurredAt);
    return {
      probability: this.forest.score(x),
      factors: () => {
        const contributions = new Float64Array(x.length);
        // In the probability's points: a prior-corrected forest's raw contributions are not.
        this.forest.probabilityContributionsInto(x, contributions);
        const factors: ModelFactor[] = [];
        for (let i = 0; i < contributions.length; i++) {
          const c = contributions[i]!;
          if (c > 0) factors.push({ feature: this.names[i]!, value: x[i]!, contribution: c });
        }
        return factors.sort((a, b) => b.contribution - a.contribution).slice(0, maxFactors);
      },
    };
  }
}

export interface ScoringModelOptions {
  /**
   * The reference currency of the rate table the amounts will be converted with: a model trained on
   * amounts in another currency is refused (TX_AMOUNT 1,000 in yen is not 1,000 in euros).
   */
  amountReference?: string | undefined;
  featureSets?: Record<string, FeatureSet>;
}

/** The refusal of a model whose amounts are not in the rate table's reference currency. */
export function amountReferenceMismatch(modelVersion: string, modelReference: string, tableReference: string): string {
  return (
    `amount currency mismatch: the model ${modelVersion} was trained on amounts in ${modelReference}, ` +
    `the rate table in force converts amounts into ${tableReference}: serve a model trained on ${tableReference} amounts, ` +
    `or a rate table (LEAKGUARD_RATES) whose reference is ${modelReference}`
  );
}

/**
 * The refusal of a rate table whose reference is not the served model's. Two hot reloads cannot
 * switch both files at once (each would be refused against the other in force), so the way to a
 * new reference is a restart, which checks the new pair together.
 */
export function referenceChangeRefused(model: ForestScoringModel, tableReference: string): string {
  return (
    `reference currency change refused: the model in force (${model.version}) reads amounts in ${model.amountReference}, ` +
    `this table's reference is ${tableReference}: keep the reference ${model.amountReference}, or restart the engine ` +
    `with this table and a model trained on ${tableReference} amounts (or LEAKGUARD_MODEL=off)`
  );
}

/**
 * Loads an artifact for serving; refuses one whose feature set this engine does not compute, exactly,
 * or (with `amountReference`) one trained on amounts in another currency.
 */
export function loadScoringModel(
  path: string,
  { amountReference, featureSets = FEATURE_SETS }: ScoringModelOptions = {},
): ForestScoringModel {
  // One read, one parse: the metadata checked below and the forest served are the same file's.
  const { artifact, forest } = parseArtifact(readArtifactJson(path));
  const declared = artifact.featureSet;
  const fs = featureSets[declared.name];
  if (!fs) {
    throw new ArtifactError(
      `feature set mismatch: the model ${artifact.modelVersion} uses feature set "${declared.name}", this engine computes ${Object.keys(
        featureSets,
      )
        .map((n) => `"${n}"`)
        .join(', ')}`,
    );
  }
  // Same version, names in the same order, and definitions (the fingerprint): names the first difference.
  const checked = refuseOtherFeatureSet(artifact, fs);
  const missing = unservableFeatures(fs);
  if (missing.length)
    throw new ArtifactError(
      `feature set "${fs.name}" needs features the engine does not compute at scoring time: ${missing.join(', ')}`,
    );
  const trainedOn = amountReferenceOf(artifact);
  if (amountReference !== undefined && trainedOn !== amountReference)
    throw new ArtifactError(amountReferenceMismatch(artifact.modelVersion, trainedOn, amountReference));
  return new ForestScoringModel(
    artifact,
    forest,
    fs,
    checked === 'unverified' ? unverifiedDefinitions(artifact, fs) : undefined,
  );
}

/**
 * The active model artifact (LEAKGUARD_MODEL); throws at construction when it cannot be served.
 * `amountReference`: the rate table's reference currency in force, read at every load.
 */
export class ModelFile extends WatchedFile<ForestScoringModel> {
  constructor(
    path: string,
    onReload: (result: ReloadResult) => void = () => {},
    amountReference: () => string | undefined = () => undefined,
  ) {
    super(
      path,
      (p) => loadScoringModel(p, { amountReference: amountReference() }),
      (m) => m.version,
      onReload,
    );
  }

  get model(): ForestScoringModel {
    return this.current;
  }
}
