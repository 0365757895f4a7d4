// An engine as `npm start` decides: the shipped ruleset and rate table, on the in-memory velocity
// store unless one is given; a deadline no test run misses.
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { Engine, type EngineOptions } from '../../services/core/engine.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';

export function defaultEngine(
  options: Pick<EngineOptions, 'keyring'> & Partial<Omit<EngineOptions, 'ruleset' | 'rates'>>,
): Engine {
  const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = readRatesFile();
  return new Engine({
    store: new MemoryVelocityStore(),
    deadlineMs: 1000,
    ...options,
    ruleset: () => ruleset,
    rates: () => rates,
  });
}
