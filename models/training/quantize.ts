// Feature quantisation for training. ml-cart evaluates one candidate split per label change in
// the sorted column (not per distinct value), so with many positives a node costs
// O(rows × label changes × features). Training on small integer codes, with each tree's rows
// ordered genuine-first (Array.prototype.sort is stable, so ties keep that order), bounds the label
// changes per column by about twice the number of bins. Codes map back to raw thresholds exactly:
// code(x) = #{cuts ≤ x}, so "code < c" ⇔ "x < cuts[ceil(c) − 1]".

export interface Bins {
  /** Per feature, increasing cut points. */
  cuts: Float64Array[];
}

function quantiles(sorted: Float64Array, k: number): number[] {
  const out: number[] = [];
  if (sorted.length === 0) return out;
  for (let q = 1; q < k; q++) out.push(sorted[Math.min(sorted.length - 1, Math.floor((q * sorted.length) / k))]!);
  return out;
}

/**
 * Cut points per feature: quantiles of the genuine rows and of the fraud rows (half the budget
 * each, so that cuts fall where frauds are), as midpoints between neighbouring distinct values.
 */
export function fitBins(values: Float64Array, labels: ArrayLike<number>, cols: number, maxBins: number): Bins {
  const rows = labels.length;
  const cuts: Float64Array[] = [];
  for (let c = 0; c < cols; c++) {
    const pos: number[] = [],
      neg: number[] = [];
    for (let r = 0; r < rows; r++) (labels[r] ? pos : neg).push(values[r * cols + c]!);
    const all = Float64Array.from([...pos, ...neg]).sort();
    const distinct: number[] = [];
    for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) distinct.push(all[i]!);
    let chosen: number[];
    if (distinct.length <= maxBins) chosen = distinct.slice(1);
    else {
      const half = Math.max(2, Math.floor(maxBins / 2));
      const set = new Set([
        ...quantiles(Float64Array.from(neg).sort(), half),
        ...quantiles(Float64Array.from(pos).sort(), half),
      ]);
      chosen = [...set].sort((a, b) => a - b).filter((v) => v > distinct[0]!);
    }
    // cut at the midpoint below each chosen value: x < cut ⇔ x below the chosen value
    const cutList: number[] = [];
    for (const v of chosen) {
      const i = lowerBound(distinct, v);
      const prev = distinct[i - 1];
      if (prev === undefined) continue;
      const cut = (prev + v) / 2;
      if (cutList.length === 0 || cut > cutList[cutList.length - 1]!) cutList.push(cut);
    }
    cuts.push(Float64Array.from(cutList.slice(0, 255)));
  }
  return { cuts };
}

function lowerBound(a: ArrayLike<number>, v: number): number {
  let lo = 0,
    hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m]! < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Number of cuts ≤ x. */
export function codeOf(cuts: Float64Array, x: number): number {
  let lo = 0,
    hi = cuts.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (cuts[m]! <= x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

export function encode(bins: Bins, values: Float64Array, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = codeOf(bins.cuts[c]!, values[r * cols + c]!);
  return out;
}

/** The raw threshold equivalent to the code split "code < c" (c from ml-cart: an integer or a half). */
export function rawThreshold(cuts: Float64Array, c: number): number {
  const k = Math.ceil(c); // code < c ⇔ code ≤ k − 1 ⇔ x < cuts[k − 1]
  if (k <= 0) return -Infinity;
  if (k > cuts.length) return Infinity;
  return cuts[k - 1]!;
}
