// The offline path of a feature set with engine features: replay the dataset through the engine
// and turn what it computed into vectors with `servedValue`, exactly as serving does.
import type { Dataset } from '../simulator/csv.ts';
import type { FeatureSet } from '../../services/model/definitions.ts';
import type { FeatureMatrix } from '../features/offline.ts';
import { servingVector } from '../../services/model/serving.ts';
import { HISTORY_DAYS, replayThroughEngine } from './engine-replay.ts';
import { PUBLISHED_LABELS, type LabelAssumption } from '../features/labels.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';

/** The simulator's TX_AMOUNT unit: the handbook features read it as it is. */
export const SIMULATED_AMOUNT_CURRENCY = 'EUR';

/**
 * The currency a model trained on `fs` reads amounts in (its artifact's `amountReference`): the
 * simulator's euros for the handbook set; for an engine replay, the reference of the table the
 * replay converts with (the engine's default table, services/rates/default.yaml).
 */
export function trainingAmountReference(fs: FeatureSet): string {
  return needsEngineReplay(fs) ? readRatesFile().reference : SIMULATED_AMOUNT_CURRENCY;
}

/**
 * Days of history a feature set's values need before a row: its longest window and delay (37 for the
 * handbook set: 30-day terminal windows 7 days back); the engine replay's HISTORY_DAYS for engine features.
 */
export function featureHistoryDays(fs: FeatureSet): number {
  const windows = Math.max(0, ...fs.features.map((f) => (f.kind === 'window' ? f.days + f.delayDays : 0)));
  return needsEngineReplay(fs) ? Math.max(windows, HISTORY_DAYS) : windows;
}

export function needsEngineReplay(fs: FeatureSet): boolean {
  return fs.features.some((f) => f.kind === 'engine');
}

export async function engineFeatureMatrix(
  ds: Dataset,
  fs: FeatureSet,
  dataDir: string,
  from: number,
  to: number,
  onProgress?: (done: number, total: number) => void,
  labels: LabelAssumption = PUBLISHED_LABELS,
): Promise<FeatureMatrix> {
  const cols = fs.features.length;
  const rows = Math.max(0, to - from);
  const values = new Float64Array(rows * cols);
  const source = new Int32Array(rows);
  await replayThroughEngine(ds, {
    dataDir,
    watchlists: true,
    labels,
    from,
    to,
    ...(onProgress ? { onProgress } : {}),
    onRow: (row, _response, evidence) => {
      servingVector(
        fs,
        evidence.features,
        ds.epochSeconds[row]! * 1000,
        values.subarray((row - from) * cols, (row - from + 1) * cols),
      );
      source[row - from] = row;
    },
  });
  return { names: fs.features.map((f) => f.name), rows, cols, values, source };
}
