import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { datasetFromBatches } from '../../models/simulator/csv.ts';
import { HANDBOOK_DEFAULTS, generateHandbook } from '../../models/simulator/handbook.ts';
import { HANDBOOK_FEATURE_SET, featureNames } from '../../services/model/definitions.ts';
import { prepare } from '../../models/evaluation/evaluate.ts';
import { handbookSplit, splitCoverage } from '../../models/evaluation/protocol.ts';
import { DEFAULT_TRAIN_PARAMS, outOfBag, trainForest, type TrainParams } from '../../models/training/train.ts';
import { libraryForest, libraryForestFromFlat } from '../../models/training/compile.ts';
import { codeOf, encode, fitBins, rawThreshold } from '../../models/training/quantize.ts';
import { CompiledForest } from '../../services/model/forest.ts';
import {
  ArtifactError,
  buildArtifact,
  loadArtifact,
  parseArtifact,
  saveArtifact,
} from '../../services/model/artifact.ts';

// A small generated dataset and a split that fits it: train 7 days, delay 7, test 7.
const opts = { ...HANDBOOK_DEFAULTS, customers: 600, terminals: 1200, days: 60, seed: 5 };
const ds = datasetFromBatches(opts.startDate, generateHandbook(opts));
const prepared = prepare(ds, HANDBOOK_FEATURE_SET, {
  trainStart: '2018-05-10',
  trainDays: 7,
  delayDays: 7,
  testDays: 7,
});
const f = prepared.features;
// leafValues 'sample': leaf values are the library's own, so agreement can be exact
const params: TrainParams = {
  ...DEFAULT_TRAIN_PARAMS,
  trees: 11,
  genuinePerTree: 600,
  workers: 0,
  seed: 3,
  bins: 64,
  leafValues: 'sample',
};
const trained = await trainForest(
  { values: f.trainX.values, labels: f.trainY, rows: f.trainY.length, cols: f.cols },
  params,
);
const forest = new CompiledForest(trained.flat, trained.prior);
const testRows = f.testY.length;
const vec = (r: number) => f.testX.subarray(r * f.cols, (r + 1) * f.cols);
const testCodes = encode(trained.bins, f.testX, testRows, f.cols);
const codeRows = Array.from({ length: testRows }, (_, r) =>
  Array.from(testCodes.subarray(r * f.cols, (r + 1) * f.cols)),
);

describe('handbook split', () => {
  // The periods are calendar days from trainStart, whether or not the data starts on it (it starts 2018-04-01).
  const dateOf = (row: number) => new Date(ds.epochSeconds[row]! * 1000).toISOString().slice(0, 10);
  const week = (trainStart: string, trainDays: number) =>
    handbookSplit(ds, { trainStart, trainDays, delayDays: 7, testDays: 7 });

  it('counts the test and delay days from the calendar train start, not from the first day with data', () => {
    const atData = week('2018-04-01', 14),
      before = week('2018-03-29', 17);
    // same training rows, same calendar test week 2018-04-22..28
    expect(before.train).toEqual(atData.train);
    expect(splitCoverage(ds, before, 0).testPeriod).toEqual({ from: '2018-04-22', to: '2018-04-28', days: 7 });
    // Before: counted from the first day with rows, the test week became 2018-04-25..05-01 (3 days outside).
    expect(new Set([...before.test].map(dateOf))).toEqual(
      new Set(['2018-04-22', '2018-04-23', '2018-04-24', '2018-04-25', '2018-04-26', '2018-04-27', '2018-04-28']),
    );
    expect([...before.test]).toEqual([...atData.test]);
    expect([...before.testDay]).toEqual([...atData.testDay]);
    expect(before.removedTestRows).toBe(atData.removedTestRows);
    expect(before.knownCardsAtEnd).toBe(atData.knownCardsAtEnd);
    expect(splitCoverage(ds, before, 0).missingTestDates).toEqual([]);
    // a train period that starts a week before the data still finds its test week
    expect(week('2018-03-25', 21).test.length).toBe(atData.test.length);
  });
});

describe('quantisation', () => {
  it('maps code splits back to raw thresholds exactly', () => {
    const cuts = Float64Array.from([1.5, 3, 10]);
    for (const x of [-5, 1, 1.5, 2, 3, 9.99, 10, 50]) {
      for (const c of [0.5, 1, 1.5, 2, 2.5, 3, 3.5]) {
        expect(codeOf(cuts, x) < c).toBe(x < rawThreshold(cuts, c));
      }
    }
  });
  it('places cuts where the frauds are', () => {
    const values = Float64Array.from([...Array.from({ length: 1000 }, (_, i) => i / 10), 221, 222, 223, 224]);
    const labels = Uint8Array.from([...new Array(1000).fill(0), 1, 1, 1, 1]);
    const { cuts } = fitBins(values, labels, 1, 16);
    expect(cuts[0]!.some((c) => c > 99.9 && c < 221)).toBe(true);
  });
});

describe('training', () => {
  it('trains the requested trees on the small split, with frauds in every tree sample', () => {
    expect(f.trainY.reduce((s, v) => s + v, 0)).toBeGreaterThan(20);
    expect(trained.trees).toHaveLength(11);
    expect(trained.flat.nTrees).toBe(11);
    for (const s of trained.samples) expect([...s].some((r) => f.trainY[r] === 1)).toBe(true);
  });
  it('is reproducible with the same seed; leaf values from all rows keep the trees and re-estimate only the values', async () => {
    const input = { values: f.trainX.values, labels: f.trainY, rows: f.trainY.length, cols: f.cols };
    const first = await trainForest(input, { ...params, trees: 3 });
    const again = await trainForest(input, { ...params, trees: 3 });
    const all = await trainForest(input, { ...params, trees: 3, leafValues: 'all' });
    for (const k of ['feature', 'threshold', 'left', 'right', 'value'] as const)
      expect([...again.flat[k]]).toEqual([...first.flat[k]]);
    for (const k of ['feature', 'threshold', 'left', 'right'] as const)
      expect([...all.flat[k]]).toEqual([...first.flat[k]]);
    expect([...all.flat.value]).not.toEqual([...first.flat.value]);
    // the root of every tree now holds the training fraud share
    const share = f.trainY.reduce((s, v) => s + v, 0) / f.trainY.length;
    for (const r of all.flat.roots) expect(all.flat.value[r]).toBeCloseTo(share, 12);
    expect(all.prior.sampleFraudShare).toBe(all.prior.populationFraudShare);
  });

  it("out-of-bag leaf values: each tree's root holds the fraud share of the rows outside its sample", async () => {
    const input = { values: f.trainX.values, labels: f.trainY, rows: f.trainY.length, cols: f.cols };
    const all = await trainForest(input, { ...params, trees: 3, leafValues: 'all' });
    const oob = await trainForest(input, { ...params, trees: 3, leafValues: 'oob' });
    for (const k of ['feature', 'threshold', 'left', 'right'] as const)
      expect([...oob.flat[k]]).toEqual([...all.flat[k]]);
    oob.samples.forEach((sample, t) => {
      const out = outOfBag(sample, input.rows);
      const inBag = new Set(sample);
      expect(out.length).toBeGreaterThan(0);
      expect([...out].some((r) => inBag.has(r))).toBe(false);
      expect(out.length + new Set(sample).size).toBe(input.rows);
      const share = out.reduce((s, r) => s + f.trainY[r]!, 0) / out.length;
      expect(oob.flat.value[oob.flat.roots[t]!]).toBeCloseTo(share, 12);
    });
    for (const v of oob.flat.value) expect(v >= 0 && v <= 1).toBe(true);
  });
});

describe('compiled forest against ml-random-forest', () => {
  // The library model: the same trained trees as one RandomForestClassifier, fed quantised codes.
  const lib = libraryForest(trained.trees, f.cols);
  const votes = (
    lib as unknown as { predictionValues(x: number[][]): { getRow(i: number): number[] } }
  ).predictionValues(codeRows);

  it('every tree votes the same class (library on codes, compiled on raw values)', () => {
    let disagreements = 0;
    for (let r = 0; r < testRows; r++) {
      const v = votes.getRow(r);
      // compiled per-tree vote: leaf fraud share above ½ (ml-cart's argmax, ties to class 0)
      const share = forest.voteShare(vec(r));
      if (Math.abs(share - v.filter((x) => x === 1).length / v.length) > 1e-12) disagreements++;
    }
    expect(testRows).toBeGreaterThan(1000);
    expect(disagreements).toBe(0);
  });
  it('forest class (majority, 11 trees) agrees on every row', () => {
    const pred = lib.predict(codeRows);
    let agree = 0;
    for (let r = 0; r < testRows; r++) if ((forest.voteShare(vec(r)) > 0.5 ? 1 : 0) === pred[r]) agree++;
    expect(agree).toBe(testRows);
  });
  it("soft score equals the mean of the library trees' leaf distributions (sample leaf values)", () => {
    expect(forest.layout).toBe('packed'); // rawScore below is the packed path, the one that serves
    type Est = { root: { classify(row: number[]): { get(i: number, j: number): number; columns: number } } };
    const estimators = lib as unknown as { estimators: Est[]; indexes: number[][] };
    let maxDiff = 0;
    for (let r = 0; r < Math.min(testRows, 2000); r++) {
      let sum = 0;
      estimators.estimators.forEach((e, t) => {
        const row = estimators.indexes[t]!.map((c) => codeRows[r]![c]!);
        const d = e.root.classify(row);
        sum += d.columns > 1 ? d.get(0, 1) : 0;
      });
      maxDiff = Math.max(maxDiff, Math.abs(sum / estimators.estimators.length - forest.rawScore(vec(r))));
    }
    expect(maxDiff).toBeLessThan(1e-9);
  });
  it('library predictProbability is a hard-vote share that drops the first tree (measured)', () => {
    const p = lib.predictProbability(codeRows, 1);
    let explained = 0;
    for (let r = 0; r < testRows; r++) {
      const v = votes.getRow(r);
      const others = v.slice(1).filter((x) => x === 1).length;
      // reduce() without an initial value: the first vote enters as 0 or 1 instead of 1e6/T
      if (Math.abs(p[r]! - Math.round(v[0]! + (others * 1e6) / v.length) / 1e6) < 1e-9) explained++;
    }
    expect(explained).toBe(testRows);
  });
  it('a flat forest rebuilt as a library model predicts like the compiled one', () => {
    const rebuilt = libraryForestFromFlat(trained.flat);
    const raw = Array.from({ length: 500 }, (_, r) => Array.from(vec(r)));
    const pred = rebuilt.predict(raw);
    raw.forEach((x, r) => expect(pred[r]).toBe(forest.voteShare(x) > 0.5 ? 1 : 0));
  });
});

describe('scores and reason codes', () => {
  it('soft vote separates frauds on the test week', () => {
    const scores = forest.scoreMany(f.testX, f.cols);
    let sf = 0,
      nf = 0,
      sg = 0,
      ng = 0;
    scores.forEach((s, r) => (f.testY[r] ? ((sf += s), nf++) : ((sg += s), ng++)));
    expect(sf / nf).toBeGreaterThan(5 * (sg / ng));
    for (const s of scores) expect(s >= 0 && s <= 1).toBe(true);
  });
  it('compiles trees in pre-order (left child right after its parent), which the fast path relies on', () => {
    const { feature, left } = trained.flat;
    for (let n = 0; n < feature.length; n++) if (feature[n]! >= 0) expect(left[n]).toBe(n + 1);
  });
  it('contributions add up to the raw score (bias + Σ)', () => {
    for (let r = 0; r < 300; r++) {
      const c = forest.contributions(vec(r));
      expect(c.bias + c.contributions.reduce((a, b) => a + b, 0)).toBeCloseTo(forest.rawScore(vec(r)), 12);
      expect(c.raw).toBeCloseTo(forest.rawScore(vec(r)), 12);
    }
    const fraudRow = [...f.testY].findIndex((y, r) => y === 1 && forest.score(vec(r)) > 0.5);
    expect(fraudRow).toBeGreaterThanOrEqual(0);
    expect(forest.reasons(vec(fraudRow), featureNames(HANDBOOK_FEATURE_SET)).length).toBeGreaterThan(0);
  });
  it("contributions in the probability's points add up to the calibrated score (calibrate(bias) + Σ)", () => {
    const out = new Float64Array(f.cols);
    const calibratedBias = forest.calibrate(forest.contributions(vec(0)).bias);
    for (let r = 0; r < 300; r++) {
      const probability = forest.probabilityContributionsInto(vec(r), out);
      expect(probability).toBe(forest.score(vec(r)));
      expect(calibratedBias + out.reduce((a, b) => a + b, 0)).toBeCloseTo(probability, 9);
    }
  });
});

describe('artifact', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-model-'));
  const path = join(dir, 'model.json');
  const expected = { name: 'handbook', features: featureNames(HANDBOOK_FEATURE_SET) };
  const artifact = buildArtifact({
    modelVersion: 'test-1',
    amountReference: 'EUR',
    featureSet: { name: 'handbook', version: 1, features: featureNames(HANDBOOK_FEATURE_SET) },
    training: {
      data: {
        source: 'generated',
        from: '2018-05-10',
        to: '2018-05-16',
        rows: f.trainY.length,
        frauds: 1,
        fingerprint: prepared.fingerprint,
      },
      params: { trees: params.trees, seed: params.seed },
      seconds: trained.seconds,
      library: 'ml-random-forest',
    },
    metrics: { auc: 0.9 },
    prior: trained.prior,
    flat: trained.flat,
  });
  saveArtifact(path, artifact);

  it('loads back and scores identically', () => {
    const loaded = loadArtifact(path, expected);
    expect(loaded.artifact.modelVersion).toBe('test-1');
    for (let r = 0; r < 500; r++) expect(loaded.forest.score(vec(r))).toBe(forest.score(vec(r)));
  });
  it('refuses another feature set, or the same names in another order, with a clear error', () => {
    expect(() => loadArtifact(path, { name: 'breach', features: expected.features })).toThrow(
      /feature set mismatch: the model was trained on feature set "handbook", this service computes "breach"/,
    );
    const swapped = [...expected.features];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(() => loadArtifact(path, { name: 'handbook', features: swapped })).toThrow(/first difference at position 3/);
    expect(() => loadArtifact(path, { name: 'handbook', features: expected.features.slice(0, 14) })).toThrow(
      ArtifactError,
    );
  });
  it('refuses malformed artifacts', () => {
    const json = JSON.parse(readFileSync(path, 'utf8'));
    expect(() => parseArtifact({ ...json, formatVersion: 2 })).toThrow(/invalid model artifact/);
    expect(() => parseArtifact({ ...json, forest: { ...json.forest, nNodes: json.forest.nNodes + 1 } })).toThrow(
      /bytes, expected/,
    );
    const bytes = Buffer.from(json.forest.left, 'base64');
    const left = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const inner = [...trained.flat.feature].findIndex((v) => v >= 0);
    left[inner] = 0; // a cycle back to the root
    const bad = { ...json, forest: { ...json.forest, left: Buffer.from(left.buffer).toString('base64') } };
    expect(() => parseArtifact(bad)).toThrow(/child out of range/);
    const badPath = join(dir, 'bad.json');
    writeFileSync(badPath, '{');
    expect(() => loadArtifact(badPath)).toThrow(/cannot read model artifact/);
  });
});
