// The starter model: what `npm start` serves when LEAKGUARD_MODEL is not set. Rebuilt by
// `npm run model:starter` (models/cli/starter.ts) from these settings.
export const STARTER_MODEL_PATH = new URL('./starter-model.json', import.meta.url).pathname;

export const STARTER_TRAINING = {
  /** The simulator's seed: not 0, the seed of the datasets the breach protocol evaluates on. */
  dataSeed: 1,
  days: 90,
  /** The weeks of the first breach's fraud (breach day 60, fraud from 3 to about 25 days later). */
  from: '2018-06-04',
  to: '2018-06-24',
  trees: 50,
  forestSeed: 1,
} as const;
