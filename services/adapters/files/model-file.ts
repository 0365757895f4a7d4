// A model artifact as the engine's ScoringModel (services/core/model.ts), and the file that holds
// the active one (a WatchedFile: re-read when it changes, on SIGHUP or by the admin route). A file
// that fails to load — unreadable, invalid, or built for a feature set this engine does not
// compute — is refused and the model in force stays.
import { WatchedFile, type ReloadResult } from './watched-file.ts';
import type { FeatureMap } from '../../core/features.ts';
import type { ModelFactor, ModelVerdict, ScoringModel } from '../../core/model.ts';
import { FEATURE_SETS, featureNames, type FeatureSet } from '../../model/definitions.ts';
import { servingVector, unservableFeatures } from '../../model/serving.ts';
import { ArtifactError, loadArtifact, type Artifact } from '../../model/artifact.ts';
import type { CompiledForest } from '../../model/forest.ts';

export class ForestScoringModel implements ScoringModel {
  readonly version: string;
  readonly featureSet: string;
  readonly artifact: Artifact;
  private readonly fs: FeatureSet;
  private readonly forest: CompiledForest;
  private readonly names: readonly string[];

  constructor(artifact: Artifact, forest: CompiledForest, fs: FeatureSet) {
    this.artifact = artifact;
    this.version = artifact.modelVersion;
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
        this.forest.contributionsInto(x, contributions);
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

/** Loads an artifact for serving; refuses one whose feature set this engine does not compute, exactly. */
export function loadScoringModel(
  path: string,
  featureSets: Record<string, FeatureSet> = FEATURE_SETS,
): ForestScoringModel {
  const { artifact } = loadArtifact(path);
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
  if (declared.version !== fs.version) {
    throw new ArtifactError(
      `feature set mismatch: the model ${artifact.modelVersion} uses "${fs.name}" version ${declared.version}, this engine computes version ${fs.version}: retrain the model`,
    );
  }
  // Same names in the same order (parseArtifact names the first difference).
  const { forest } = loadArtifact(path, { name: fs.name, features: featureNames(fs) });
  const missing = unservableFeatures(fs);
  if (missing.length)
    throw new ArtifactError(
      `feature set "${fs.name}" needs features the engine does not compute at scoring time: ${missing.join(', ')}`,
    );
  return new ForestScoringModel(artifact, forest, fs);
}

/** The active model artifact (LEAKGUARD_MODEL); throws at construction when it cannot be served. */
export class ModelFile extends WatchedFile<ForestScoringModel> {
  constructor(path: string, onReload: (result: ReloadResult) => void = () => {}) {
    super(
      path,
      (p) => loadScoringModel(p),
      (m) => m.version,
      onReload,
    );
  }

  get model(): ForestScoringModel {
    return this.current;
  }
}
