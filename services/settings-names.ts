// Every LEAKGUARD_* variable some part of Leakguard reads. The settings are parsed by zod, which
// drops what it does not know: `LEAKGUARD_PREVIOUS_CARD_KEY_FLIE=/tmp/prev.key` left the previous
// card key unset, without a word, and every card listed before a rotation unmatched. The engine
// and the stream processor now warn at start of each LEAKGUARD_* variable that is none of these,
// naming the setting it resembles.
import { configSchema } from './config.ts';
import { nearMiss } from './core/misspelt-fields.ts';
import { accessConfigSchema } from './http/access.ts';
import { streamConfigSchema } from '../streams/config.ts';

/** Read outside the schemas: the CLIs, the local Kafka broker, docker-compose. */
const OTHER_SETTINGS = [
  'LEAKGUARD_API_KEY',
  'LEAKGUARD_URL',
  'LEAKGUARD_CALLER_DIR',
  'LEAKGUARD_CALLER_PID',
  'LEAKGUARD_CACHE',
  'LEAKGUARD_KAFKA_VERSION',
  'LEAKGUARD_KAFKA_HEAP',
  'LEAKGUARD_KAFKA_START_TIMEOUT_MS',
  'LEAKGUARD_SITE_ADDRESS',
  'LEAKGUARD_CLUSTER_SITE_ADDRESS',
  'LEAKGUARD_REDIS_MAXMEMORY',
];
/** The test suite's, the fuzzer's and the benchmarks' own. */
const OTHER_PREFIXES = ['LEAKGUARD_TEST_', 'LEAKGUARD_FUZZ_', 'LEAKGUARD_BENCH_'];

export const KNOWN_SETTINGS: readonly string[] = [
  ...new Set(
    [
      ...Object.keys(configSchema.shape),
      ...Object.keys(accessConfigSchema.shape),
      ...Object.keys(streamConfigSchema.shape),
      ...OTHER_SETTINGS,
    ].filter((name) => name.startsWith('LEAKGUARD_')),
  ),
].sort();

/** A LEAKGUARD_* variable no part of Leakguard reads, and the setting it is a near miss of, if any. */
export interface UnknownSetting {
  name: string;
  meant?: string;
}

export function unknownSettings(env: NodeJS.ProcessEnv = process.env): UnknownSetting[] {
  const known = new Set(KNOWN_SETTINGS);
  return Object.keys(env)
    .filter((name) => name.startsWith('LEAKGUARD_') && !known.has(name))
    .filter((name) => !OTHER_PREFIXES.some((prefix) => name.startsWith(prefix)))
    .sort()
    .map((name) => {
      const meant = nearMiss(name, KNOWN_SETTINGS);
      return meant ? { name, meant } : { name };
    });
}

/** One line each: the name (never its value, which may be a key) and the setting it resembles. */
export function unknownSettingWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  return unknownSettings(env).map(({ name, meant }) =>
    meant
      ? `${name} is not a Leakguard setting and is ignored: did you mean ${meant}?`
      : `${name} is not a Leakguard setting and is ignored (the settings: README.md)`,
  );
}
