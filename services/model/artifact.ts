// The model artifact: one versioned JSON file. Typed arrays are stored as base64 (little-endian).
// The loader validates the shape (zod), the arrays (lengths, child indices) and refuses a model
// whose feature set is not the one the caller serves.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { issueLines, LeakguardError, type LeakguardErrorOptions } from '../core/errors.ts';
import { VERSION_NAME_PATTERN, versionNameProblem } from '../core/identifiers.ts';
import { CompiledForest, type FlatForest, type PriorCorrection } from './forest.ts';

export const FORMAT_VERSION = 1;

/**
 * The amount currency of an artifact without `amountReference` (written before the field existed).
 * Those could only be trained on euros: the handbook set reads the simulator's TX_AMOUNT (euros),
 * and the engine replay converted with services/rates/default.yaml, whose reference has always been EUR.
 */
export const LEGACY_AMOUNT_REFERENCE = 'EUR';

const arrays = {
  roots: Int32Array,
  feature: Int16Array,
  threshold: Float64Array,
  left: Int32Array,
  right: Int32Array,
  value: Float64Array,
  samples: Int32Array,
} as const;
type ArrayName = keyof typeof arrays;

/** A model version: short, plain and never a card number (it is in every scoring, log line and admin route). */
export const MODEL_VERSION_PATTERN = VERSION_NAME_PATTERN;

/** Why `version` cannot name a model, in words that never repeat it (it may hold anything); undefined when it can. */
export const modelVersionProblem = (version: string): string | undefined => versionNameProblem(version, 'model');

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

export const ArtifactSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  modelVersion: z.string().superRefine((v, ctx) => {
    const problem = modelVersionProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  createdAt: z.string(),
  kind: z.literal('random-forest'),
  /** The currency the training's amounts were in (a rate table's reference): the model reads amounts in it. */
  amountReference: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR')
    .optional(),
  featureSet: z.object({
    name: z.string().min(1),
    version: z.number().int(),
    features: z.array(z.string().min(1)).min(1),
    /** Digest of the features' declarations (services/model/fingerprint.ts): serving refuses another. */
    fingerprint: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'sha256: and 64 hex digits')
      .optional(),
    /** Each feature's declaration digest, in order: names the feature defined otherwise. */
    featureDigests: z.array(z.string().regex(/^[0-9a-f]{12}$/, '12 hex digits')).optional(),
  }),
  training: z.object({
    data: z.object({
      source: z.string(),
      from: z.string(),
      to: z.string(),
      rows: z.number().int().nonnegative(),
      frauds: z.number().int().nonnegative(),
      fingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/),
      /** Feature history before `from` (windows reach `days` back): the data's first date, days it lacks. */
      history: z
        .object({
          days: z.number().int().nonnegative(),
          from: z.string(),
          dataFrom: z.string(),
          missingDays: z.number().int().nonnegative(),
        })
        .optional(),
    }),
    /** Features the training rows held constant (with the value; null for NaN or ±∞) and features no tree splits on. */
    featureUse: z
      .object({
        constant: z.array(z.object({ name: z.string(), value: z.number().nullable() })),
        neverSplit: z.array(z.string()),
      })
      .optional(),
    /** The fraud labels the features were computed from (models/features/labels.ts): chargebacks' delay and share. */
    labels: z
      .object({
        delayMinDays: z.number().nonnegative(),
        delayMaxDays: z.number().nonnegative(),
        share: z.number().min(0).max(1),
        seed: z.number().int().nonnegative(),
        description: z.string(),
      })
      .optional(),
    /**
     * What the forest learnt: the simulator's ground truth, or the frauds known by the cut-off
     * (models/features/labels.ts; a deployment's recorded labels too, models/training/recorded.ts,
     * whose description says so: a new value here would stop earlier engines loading the artifact).
     */
    target: z
      .object({
        target: z.enum(['truth', 'chargebacks']),
        cutoff: z.string().optional(),
        frauds: z.number().int().nonnegative(),
        truthFrauds: z.number().int().nonnegative(),
        description: z.string(),
      })
      .optional(),
    params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
    seconds: z.number().nonnegative(),
    cpuSeconds: z.number().nonnegative().optional(),
    library: z.string(),
  }),
  metrics: z.record(z.string(), z.unknown()).optional(),
  prior: z
    .object({ populationFraudShare: z.number().gt(0).lt(1), sampleFraudShare: z.number().gt(0).lt(1) })
    .optional(),
  forest: z.object({
    nTrees: z.number().int().positive(),
    nFeatures: z.number().int().positive(),
    nNodes: z.number().int().positive(),
    encoding: z.literal('base64-le'),
    roots: b64,
    feature: b64,
    threshold: b64,
    left: b64,
    right: b64,
    value: b64,
    samples: b64,
  }),
});
export type Artifact = z.infer<typeof ArtifactSchema>;

/**
 * A short digest of what makes a forest: its training parameters and every array of its nodes. Put in
 * default model versions, so that two trainings on the same data with other parameters (or another
 * seed) never share a version, and the same training gives the same one.
 */
export function forestDigest(params: Record<string, unknown>, flat: FlatForest): string {
  const h = createHash('sha256');
  // workers: how many threads trained it, not what it is (the same seed gives the same trees)
  const what = Object.entries(params).filter(([k]) => k !== 'workers');
  h.update(JSON.stringify(what.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  for (const a of [flat.roots, flat.feature, flat.threshold, flat.left, flat.right, flat.value, flat.samples])
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex').slice(0, 8);
}

function encodeArray(a: ArrayBufferView): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function decodeArray<N extends ArrayName>(name: N, s: string, length: number): InstanceType<(typeof arrays)[N]> {
  const Ctor = arrays[name];
  const bytes = Buffer.from(s, 'base64');
  if (bytes.byteLength !== length * Ctor.BYTES_PER_ELEMENT) {
    throw new ArtifactError(`forest.${name}: ${bytes.byteLength} bytes, expected ${length * Ctor.BYTES_PER_ELEMENT}`);
  }
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new Ctor(copy) as InstanceType<(typeof arrays)[N]>;
}

export class ArtifactError extends LeakguardError {
  constructor(message: string, options?: LeakguardErrorOptions) {
    super('MODEL_INVALID', message, options);
  }
}

export interface ArtifactInput {
  modelVersion: string;
  /** The reference currency of the amounts the forest was trained on. */
  amountReference: string;
  featureSet: Artifact['featureSet'];
  training: Artifact['training'];
  metrics?: Record<string, unknown>;
  prior?: PriorCorrection;
  flat: FlatForest;
}

export function buildArtifact(input: ArtifactInput): Artifact {
  const f = input.flat;
  return {
    formatVersion: FORMAT_VERSION,
    modelVersion: input.modelVersion,
    createdAt: new Date().toISOString(),
    kind: 'random-forest',
    amountReference: input.amountReference,
    featureSet: input.featureSet,
    training: input.training,
    ...(input.metrics ? { metrics: input.metrics } : {}),
    ...(input.prior ? { prior: input.prior } : {}),
    forest: {
      nTrees: f.nTrees,
      nFeatures: f.nFeatures,
      nNodes: f.feature.length,
      encoding: 'base64-le',
      roots: encodeArray(f.roots),
      feature: encodeArray(f.feature),
      threshold: encodeArray(f.threshold),
      left: encodeArray(f.left),
      right: encodeArray(f.right),
      value: encodeArray(f.value),
      samples: encodeArray(f.samples),
    },
  };
}

/**
 * Writes an artifact whole, beside `path`, then renames it into place: an engine watching `path`
 * never reads half a file, and a failed write leaves the previous artifact as it was. Refuses one
 * the engine would not load (above MAX_ARTIFACT_BYTES).
 */
export function saveArtifact(path: string, artifact: Artifact): void {
  let text: string;
  try {
    text = JSON.stringify(artifact, null, 1) + '\n';
  } catch (error) {
    // V8 strings stop near 512 MiB: a forest that large is refused here rather than as a RangeError.
    throw new ArtifactError(
      `cannot write model artifact ${path}: ${(error as Error).message} (${artifact.forest.nTrees} trees, ${artifact.forest.nNodes} nodes): train fewer trees`,
    );
  }
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_ARTIFACT_BYTES)
    throw new ArtifactError(
      `model artifact ${path} not written: it would be ${bytes.toLocaleString('en-US')} bytes (${artifact.forest.nTrees} trees), more than the ${MAX_ARTIFACT_BYTES / MIB} MiB the engine loads: ` +
        'train fewer trees (--trees) or smaller ones (--max-depth, --min-node)',
    );
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, text, { flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new ArtifactError(`cannot write model artifact ${path}: ${(error as Error).message}`);
  }
}

/** The currency the model reads amounts in (artifacts without the field: LEGACY_AMOUNT_REFERENCE). */
export function amountReferenceOf(artifact: Pick<Artifact, 'amountReference'>): string {
  return artifact.amountReference ?? LEGACY_AMOUNT_REFERENCE;
}

export interface ExpectedFeatures {
  name: string;
  features: readonly string[];
}

export interface LoadedModel {
  artifact: Artifact;
  forest: CompiledForest;
}

/** Refuses a model built for another feature set, or the same names in another order (names the first difference). */
export function refuseOtherFeatures(got: Artifact['featureSet'], expected: ExpectedFeatures): void {
  if (got.name !== expected.name) {
    throw new ArtifactError(
      `feature set mismatch: the model was trained on feature set "${got.name}", this service computes "${expected.name}"`,
    );
  }
  const same =
    got.features.length === expected.features.length && got.features.every((n, i) => n === expected.features[i]);
  if (!same) {
    const firstDiff = got.features.findIndex((n, i) => n !== expected.features[i]);
    throw new ArtifactError(
      `feature set mismatch: "${got.name}" in the model has ${got.features.length} features, the service ${expected.features.length}; ` +
        `first difference at position ${firstDiff < 0 ? Math.min(got.features.length, expected.features.length) : firstDiff} ` +
        `(model: ${got.features[firstDiff] ?? '—'}, service: ${expected.features[firstDiff] ?? '—'})`,
    );
  }
}

/** Validates an artifact; with `expected`, refuses one built for another feature set or order. */
export function parseArtifact(json: unknown, expected?: ExpectedFeatures): LoadedModel {
  const parsed = ArtifactSchema.safeParse(json);
  if (!parsed.success) {
    throw new ArtifactError(
      `invalid model artifact: ${issueLines(parsed.error.issues.slice(0, 5), { root: '' }).join('; ')}`,
    );
  }
  const a = parsed.data;
  if (expected) refuseOtherFeatures(a.featureSet, expected);
  const f = a.forest;
  if (f.nFeatures !== a.featureSet.features.length)
    throw new ArtifactError(`forest has ${f.nFeatures} features, feature set ${a.featureSet.features.length}`);
  const flat: FlatForest = {
    nTrees: f.nTrees,
    nFeatures: f.nFeatures,
    roots: decodeArray('roots', f.roots, f.nTrees),
    feature: decodeArray('feature', f.feature, f.nNodes),
    threshold: decodeArray('threshold', f.threshold, f.nNodes),
    left: decodeArray('left', f.left, f.nNodes),
    right: decodeArray('right', f.right, f.nNodes),
    value: decodeArray('value', f.value, f.nNodes),
    samples: decodeArray('samples', f.samples, f.nNodes),
  };
  for (const r of flat.roots) if (r < 0 || r >= f.nNodes) throw new ArtifactError(`tree root ${r} out of range`);
  for (let n = 0; n < f.nNodes; n++) {
    const feat = flat.feature[n]!;
    if (feat >= f.nFeatures) throw new ArtifactError(`node ${n}: feature ${feat} out of range`);
    if (feat >= 0) {
      // children come after their parent (pre-order): no cycles, every walk ends at a leaf
      const l = flat.left[n]!,
        r = flat.right[n]!;
      if (!(l > n && l < f.nNodes && r > n && r < f.nNodes)) throw new ArtifactError(`node ${n}: child out of range`);
      if (Number.isNaN(flat.threshold[n]!)) throw new ArtifactError(`node ${n}: NaN threshold`);
    }
    const v = flat.value[n]!;
    if (!(v >= 0 && v <= 1)) throw new ArtifactError(`node ${n}: value ${v} is not a probability`);
  }
  return { artifact: a, forest: new CompiledForest(flat, a.prior) };
}

/**
 * The largest artifact file the loader reads: 64 MiB, about 3,900 trees of the default parameters
 * (~17 KB a tree), far above any forest the project trains (50-150 trees). A bigger file is refused
 * before it is read, so a mistaken path cannot exhaust the engine's memory.
 */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
const MIB = 1024 * 1024;

/**
 * An artifact file's JSON, read once from one open file: what is validated and what is served come
 * from the same bytes even if the file is replaced meanwhile.
 */
export function readArtifactJson(path: string): unknown {
  let text: string;
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > MAX_ARTIFACT_BYTES) throw tooBig(path, size);
      const bytes = readFileSync(fd);
      // a file written in place while it is read can grow past its stat
      if (bytes.byteLength > MAX_ARTIFACT_BYTES) throw tooBig(path, bytes.byteLength);
      text = bytes.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    throw new ArtifactError(`cannot read model artifact ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // JSON.parse quotes the text around the fault: say where, not what (a file may hold anything).
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    const at = position === undefined ? text.length : Number(position);
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    throw new ArtifactError(
      `cannot read model artifact ${path}:${line}:${column}: not valid JSON (${position === undefined ? 'the file ends before the JSON does' : 'expected JSON there'}): write the file whole, aside, then rename it into place`,
    );
  }
}

function tooBig(path: string, bytes: number): ArtifactError {
  return new ArtifactError(
    `model artifact ${path} is ${bytes.toLocaleString('en-US')} bytes, more than the ${MAX_ARTIFACT_BYTES / MIB} MiB the engine loads: ` +
      'train fewer trees (--trees) or smaller ones (--max-depth, --min-node)',
  );
}

export function loadArtifact(path: string, expected?: ExpectedFeatures): LoadedModel {
  return parseArtifact(readArtifactJson(path), expected);
}
