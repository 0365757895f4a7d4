// The compiled forest: flat typed arrays evaluated without ml-random-forest. The score is the mean
// over trees of the leaf's fraud share (soft vote), mapped through the prior correction for the
// per-tree class resampling. Reason codes: Saabas-style contributions, the change in node fraud
// share along the path attributed to each split's feature.

export interface FlatForest {
  nTrees: number;
  nFeatures: number;
  /** First node of each tree. */
  roots: Int32Array;
  /** Feature index of each node; −1 for a leaf. */
  feature: Int16Array;
  /** Goes left when x[feature] < threshold. */
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** Fraud share of the node's training rows (leaf: its class distribution for class 1). */
  value: Float64Array;
  /** Training rows of the node (for audits; not needed to score). */
  samples: Int32Array;
}

/** Odds correction from the per-tree sample's fraud share back to the population's. */
export interface PriorCorrection {
  populationFraudShare: number;
  sampleFraudShare: number;
}

export class CompiledForest {
  readonly flat: FlatForest;
  readonly prior: PriorCorrection | undefined;
  private readonly oddsFactor: number;

  /** Left child right after its parent for every split (pre-order layout): one array read less per step. */
  private readonly preorder: boolean;

  constructor(flat: FlatForest, prior?: PriorCorrection) {
    this.flat = flat;
    this.prior = prior;
    let preorder = true;
    for (let n = 0; n < flat.feature.length && preorder; n++) if (flat.feature[n]! >= 0 && flat.left[n] !== n + 1) preorder = false;
    this.preorder = preorder;

    this.oddsFactor = prior
      ? (prior.populationFraudShare / (1 - prior.populationFraudShare)) / (prior.sampleFraudShare / (1 - prior.sampleFraudShare))
      : 1;
  }

  /** Mean leaf fraud share over the trees (soft vote), before the prior correction. */
  rawScore(x: ArrayLike<number>): number {
    const { roots, feature, threshold, left, right, value, nTrees } = this.flat;
    let sum = 0;
    if (this.preorder) {
      for (let t = 0; t < nTrees; t++) {
        let n = roots[t]!;
        let f = feature[n]!;
        while (f >= 0) {
          n = x[f]! < threshold[n]! ? n + 1 : right[n]!;
          f = feature[n]!;
        }
        sum += value[n]!;
      }
      return sum / nTrees;
    }
    for (let t = 0; t < nTrees; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      while (f >= 0) {
        n = x[f]! < threshold[n]! ? left[n]! : right[n]!;
        f = feature[n]!;
      }
      sum += value[n]!;
    }
    return sum / nTrees;
  }

  /** Fraud probability (soft vote with the prior correction; monotone in rawScore). */
  score(x: ArrayLike<number>): number {
    return this.calibrate(this.rawScore(x));
  }

  calibrate(raw: number): number {
    if (this.oddsFactor === 1) return raw;
    const odds = (raw / (1 - raw)) * this.oddsFactor;
    return raw >= 1 ? 1 : odds / (1 + odds);
  }

  /** Hard vote: share of trees whose leaf has a fraud share above one half (ml-cart's argmax; ties → genuine). */
  voteShare(x: ArrayLike<number>): number {
    const { roots, feature, threshold, left, right, value, nTrees } = this.flat;
    let votes = 0;
    for (let t = 0; t < nTrees; t++) {
      let n = roots[t]!;
      while (feature[n]! >= 0) n = x[feature[n]!]! < threshold[n]! ? left[n]! : right[n]!;
      if (value[n]! > 0.5) votes++;
    }
    return votes / nTrees;
  }

  scoreMany(rows: Float64Array, cols: number): Float64Array {
    const out = new Float64Array(rows.length / cols);
    for (let r = 0; r < out.length; r++) out[r] = this.score(rows.subarray(r * cols, (r + 1) * cols));
    return out;
  }

  /**
   * Saabas contributions: rawScore = bias + Σ contributions[f]. bias is the mean root fraud share;
   * each split adds (child share − parent share) to its feature, averaged over the trees.
   */
  contributions(x: ArrayLike<number>): { bias: number; contributions: Float64Array; raw: number } {
    const { roots, feature, threshold, left, right, value, nTrees, nFeatures } = this.flat;
    const contributions = new Float64Array(nFeatures);
    let bias = 0, raw = 0;
    for (let t = 0; t < nTrees; t++) {
      let n = roots[t]!;
      bias += value[n]!;
      while (feature[n]! >= 0) {
        const f = feature[n]!;
        const next = x[f]! < threshold[n]! ? left[n]! : right[n]!;
        contributions[f]! += value[next]! - value[n]!;
        n = next;
      }
      raw += value[n]!;
    }
    for (let f = 0; f < nFeatures; f++) contributions[f]! /= nTrees;
    return { bias: bias / nTrees, contributions, raw: raw / nTrees };
  }

  /** Reason codes: the features that pushed the score up the most. */
  reasons(x: ArrayLike<number>, names: readonly string[], top = 3): { feature: string; contribution: number }[] {
    const { contributions } = this.contributions(x);
    return [...contributions]
      .map((contribution, i) => ({ feature: names[i] ?? `f${i}`, contribution }))
      .filter((r) => r.contribution > 0)
      .sort((a, b) => b.contribution - a.contribution)
      .slice(0, top);
  }
}

/** Builder for flat forests: append one tree at a time (pre-order). */
export class FlatForestBuilder {
  private readonly nFeatures: number;
  private roots: number[] = [];
  private feature: number[] = [];
  private threshold: number[] = [];
  private left: number[] = [];
  private right: number[] = [];
  private value: number[] = [];
  private samples: number[] = [];

  constructor(nFeatures: number) {
    this.nFeatures = nFeatures;
  }

  /** Adds a node and returns its index; children are linked later with `link`. */
  node(feature: number, threshold: number, value: number, samples: number): number {
    const i = this.feature.length;
    this.feature.push(feature);
    this.threshold.push(threshold);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(value);
    this.samples.push(samples);
    return i;
  }

  link(parent: number, left: number, right: number): void {
    this.left[parent] = left;
    this.right[parent] = right;
  }

  root(index: number): void {
    this.roots.push(index);
  }

  build(): FlatForest {
    return {
      nTrees: this.roots.length, nFeatures: this.nFeatures, roots: Int32Array.from(this.roots), feature: Int16Array.from(this.feature),
      threshold: Float64Array.from(this.threshold), left: Int32Array.from(this.left), right: Int32Array.from(this.right),
      value: Float64Array.from(this.value), samples: Int32Array.from(this.samples),
    };
  }
}
