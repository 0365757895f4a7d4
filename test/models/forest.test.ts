// The packed scoring layout (integer threshold ranks, four trees in lockstep) against the float
// path on hand-built forests: every input must reach exactly the leaves the float comparisons reach.
import { describe, expect, it } from 'vitest';
import { CompiledForest, FlatForestBuilder, type FlatForest } from '../../services/model/forest.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COLS = 6;
// few thresholds per feature (so splits share them), with the awkward ones: ±Infinity, −0 and +0
const POOL = [-Infinity, -2.5, -1e-300, -0, 0, 1e-300, 0.1, 0.30000000000000004, 7, 1e9, Infinity];

/**
 * Random pre-order trees. Leaf values: tree k's leaves are 1·1000^k, 2·1000^k, …, so the sum over
 * the trees (exact in float64) tells which leaf every tree reached.
 */
function randomForest(nTrees: number, seed: number, maxDepth = 8): FlatForest {
  const rand = rng(seed);
  const b = new FlatForestBuilder(COLS);
  for (let k = 0; k < nTrees; k++) {
    let leaves = 0;
    const grow = (depth: number): number => {
      if (depth >= maxDepth || (depth > 1 && rand() < 0.2)) return b.node(-1, 0, ++leaves * 1000 ** k, 1);
      const id = b.node(Math.floor(rand() * COLS), POOL[Math.floor(rand() * POOL.length)]!, rand(), 1);
      const l = grow(depth + 1);
      const r = grow(depth + 1);
      b.link(id, l, r);
      return id;
    };
    b.root(grow(0));
  }
  return b.build();
}

/** Inputs on, between and beyond the thresholds, plus NaN. */
function inputs(seed: number, n: number): number[][] {
  const rand = rng(seed);
  const extra = [NaN, -1, 0.2, 0.3, 5e-324, -5e-324, 1e308, -1e308];
  const values = [...POOL, ...extra];
  return Array.from({ length: n }, () =>
    Array.from({ length: COLS }, () => values[Math.floor(rand() * values.length)]!),
  );
}

describe('packed forest layout', () => {
  it('reaches the same leaf as the float comparisons in every tree, lockstep group and tail alike', () => {
    for (const nTrees of [1, 4, 5]) {
      const flat = randomForest(nTrees, 17 + nTrees);
      const packed = new CompiledForest(flat);
      const float = new CompiledForest(flat, undefined, { packed: false });
      expect(packed.layout).toBe('packed');
      expect(float.layout).toBe('float');
      const xs = inputs(nTrees, 4000);
      const leafSums = new Set<number>();
      for (const x of xs) {
        const raw = float.rawScore(x);
        expect(packed.rawScore(x)).toBe(raw);
        expect(packed.rawScore(Float64Array.from(x))).toBe(raw);
        leafSums.add(raw);
      }
      // the inputs reach many different leaf combinations, not one path
      expect(leafSums.size).toBeGreaterThan(nTrees === 1 ? 20 : 50);
    }
  });

  it("gives the float path's contributions, adding up to the raw score", () => {
    const flat = randomForest(7, 3);
    // probabilities as values, as in a trained forest
    const value = flat.value.map((_, i) => ((i * 7919) % 1000) / 1000);
    const f: FlatForest = { ...flat, value };
    const packed = new CompiledForest(f);
    const float = new CompiledForest(f, undefined, { packed: false });
    const out = new Float64Array(COLS);
    for (const x of inputs(9, 1000)) {
      const a = packed.contributions(x),
        b = float.contributions(x);
      expect(a.bias).toBeCloseTo(b.bias, 14);
      expect(a.raw).toBeCloseTo(b.raw, 14);
      a.contributions.forEach((c, i) => expect(c).toBeCloseTo(b.contributions[i]!, 14));
      expect(a.bias + a.contributions.reduce((s, c) => s + c, 0)).toBeCloseTo(a.raw, 12);
      expect(packed.contributionsInto(x, out)).toBe(a.raw);
      expect([...out]).toEqual([...a.contributions]);
    }
    expect(() => packed.contributionsInto(inputs(1, 1)[0]!, new Float64Array(COLS - 1))).toThrow(RangeError);
  });

  it('scoreMany scores row-major rows like score', () => {
    const flat = randomForest(6, 11);
    const forest = new CompiledForest(flat, { populationFraudShare: 0.01, sampleFraudShare: 0.2 });
    const xs = inputs(4, 300);
    const many = forest.scoreMany(Float64Array.from(xs.flat()), COLS);
    xs.forEach((x, r) => expect(many[r]).toBe(forest.score(x)));
  });

  it('keeps the float path for a forest the packing cannot hold', () => {
    // more than 510 distinct thresholds on one feature
    const b = new FlatForestBuilder(1);
    let next = 0;
    const grow = (depth: number): number => {
      if (depth === 10) return b.node(-1, 0, depth / 20, 1);
      const id = b.node(0, next++, 0.5, 1);
      const l = grow(depth + 1);
      b.link(id, l, grow(depth + 1));
      return id;
    };
    b.root(grow(0));
    const flat = b.build();
    const forest = new CompiledForest(flat);
    expect(forest.layout).toBe('float');
    expect(forest.rawScore([3.5])).toBe(new CompiledForest(flat, undefined, { packed: false }).rawScore([3.5]));
  });
});
