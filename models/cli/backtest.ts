// `npm run backtest`: recorded traffic replayed through the configuration in force and a candidate
// (models/backtest/). `npm run replay` (models/cli/replay.ts) does the same for plain /v1/score
// requests. Both print the report and write it as JSON and HTML.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../../services/config.ts';
import { ndjsonLines, recordFiles, totalBytes } from '../../services/adapters/files/record-file.ts';
import { kafkaSecurityProblems } from '../../services/adapters/kafka/security.ts';
import { modelPathOf } from '../../services/runtime.ts';
import { containsCardNumber, scrubCardNumbers } from '../../services/core/scrub.ts';
import { CARD_NUMBER_IN_IDENTIFIER } from '../../services/core/schemas.ts';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { DEFAULT_RATES_PATH } from '../../services/adapters/files/rates-file.ts';
import { runBacktest } from '../backtest/backtest.ts';
import { loadConfiguration, type Configuration } from '../backtest/replay.ts';
import { MERCHANT_ID_COLON, TrafficBuilder, type Traffic } from '../backtest/traffic.ts';
import { htmlReport, textReport } from '../backtest/report.ts';
import { callerPath, unwritableFolder } from '../../services/cli/command.ts';
import { isCalendarDate } from './train-flags.ts';
import { progress, type Progress } from './progress.ts';

export const BACKTEST_USAGE = `usage: npm run backtest -- [--from DATE] [--to DATE] [--ruleset FILE] [--model ARTIFACT|off|none]
                         [--source FILE|DIR|kafka] [--out DIR] [--warmup-days N (37)] [--quiet]

Replays recorded traffic (LEAKGUARD_RECORD) in event time through the configuration in force
(LEAKGUARD_RULESET, LEAKGUARD_MODEL, LEAKGUARD_RATES) and through a candidate (--ruleset, --model),
each on fresh in-memory stores, and reports what the candidate changes: decisions by outcome, the
transition matrix, fraud stopped and legitimate orders stopped per 1,000, by merchant and reason.
  --source  a recording file or folder (.ndjson or .ndjson.gz; default: LEAKGUARD_RECORD_DIR, else <state dir>/records),
            or kafka (LEAKGUARD_RECORD_TOPIC, leakguard.scored, at KAFKA_BROKERS; the default when set)
  --out     where report.json and report.html go (default: <state dir>/backtests/<time>)
  --from, --to  a calendar date as YYYY-MM-DD (midnight UTC) or an ISO 8601 time`;

export const REPLAY_USAGE = `usage: npm run replay -- FILE.ndjson [--merchant ID] [--from DATE] [--to DATE] [--ruleset FILE]
                       [--model ARTIFACT|off|none] [--out DIR] [--warmup-days N (37)] [--quiet]

Replays a file of /v1/score requests (one JSON object per line, each with occurredAt; optional
merchantId, label fraud|legitimate, outcome and outcomeAt) through the configuration in force and a
candidate, on fresh in-memory stores: what Leakguard would have decided on your own history.`;

export class UsageError extends Error {}
/** An input file that cannot be used: one line, exit 2, without the usage (the flags were right). */
export class InputError extends Error {}

interface CommonArgs {
  from?: number;
  to?: number;
  ruleset?: string;
  model?: string;
  out?: string;
  warmupDays: number;
  quiet: boolean;
}

const COMMON_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  ruleset: { type: 'string' },
  model: { type: 'string' },
  out: { type: 'string' },
  'warmup-days': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export function dateArg(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // The day must be a real one, with or without a time: Date.parse rolls 2018-02-30 into March.
  const day = /^\d{4}-\d{2}-\d{2}(?=$|T)/.exec(value)?.[0];
  const t = day === undefined || !isCalendarDate(day) ? NaN : Date.parse(day === value ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(t))
    throw new UsageError(`--${name}: expected a calendar date as YYYY-MM-DD or an ISO 8601 time, not ${value}`);
  return t;
}

/** The words for no model, as record-simulated and LEAKGUARD_MODEL take them. */
const NO_MODEL = new Set(['off', 'none']);

function commonArgs(values: Record<string, string | boolean | undefined>): CommonArgs {
  const warmup = values['warmup-days'] === undefined ? 37 : Number(values['warmup-days']);
  if (!Number.isInteger(warmup) || warmup < 0 || warmup > 400)
    throw new UsageError('--warmup-days: must be a whole number of days from 0 to 400');
  const from = dateArg('from', values.from as string | undefined);
  const to = dateArg('to', values.to as string | undefined);
  if (from !== undefined && to !== undefined && to <= from) throw new UsageError('--to: must be after --from');
  return {
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(values.ruleset ? { ruleset: callerPath(values.ruleset as string) } : {}),
    // `off` (the engine's word, LEAKGUARD_MODEL=off) or `none` is no model, not a file.
    ...(values.model
      ? { model: NO_MODEL.has((values.model as string).toLowerCase()) ? 'none' : callerPath(values.model as string) }
      : {}),
    ...(values.out ? { out: callerPath(values.out as string) } : {}),
    warmupDays: warmup,
    quiet: values.quiet === true,
  };
}

/**
 * The configuration in force (the files the engine reads: LEAKGUARD_RULESET, LEAKGUARD_MODEL,
 * LEAKGUARD_RATES) and the candidate (the in-force files but for --ruleset and --model), each loaded
 * once here so that a file that does not load stops the command before any replay.
 */
export function configurations(
  config: Config,
  args: Pick<CommonArgs, 'ruleset' | 'model'>,
): [Configuration, Configuration] {
  const inForce: Configuration = {
    label: 'in force',
    ruleset: config.LEAKGUARD_RULESET ?? DEFAULT_RULESET_PATH,
    model: modelPathOf(config) ?? null,
    rates: config.LEAKGUARD_RATES ?? DEFAULT_RATES_PATH,
  };
  const candidate: Configuration = {
    ...inForce,
    label: 'candidate',
    ...(args.ruleset ? { ruleset: resolve(args.ruleset) } : {}),
    ...(args.model === undefined ? {} : { model: NO_MODEL.has(args.model.toLowerCase()) ? null : resolve(args.model) }),
  };
  loadConfiguration(inForce);
  loadConfiguration(candidate);
  return [inForce, candidate];
}

/**
 * The shared progress (models/cli/progress.ts: a bar on a terminal, else a plain line every ~10 s),
 * begun at the first update: the total is known only then.
 */
export function progressBar(quiet: boolean, label: string, unit: string) {
  if (quiet) return undefined;
  const started = performance.now();
  let p: Progress | undefined;
  return {
    update(done: number, total: number) {
      p ??= progress(label, total, { unit, barSuffix: ' | {rate}/s', payload: { rate: 0 } });
      p.update(done, { rate: Math.round(done / Math.max(1e-3, (performance.now() - started) / 1000)) });
    },
    stop: () => p?.stop(),
  };
}

/** `where`: what to say of a path that does not exist (where a recording is, for a backtest). */
async function readFiles(path: string, builder: TrafficBuilder, quiet: boolean, where = ''): Promise<void> {
  const files = await recordFiles(path).catch((error: unknown) => {
    if ((error as { code?: string }).code === 'ENOENT') throw new UsageError(`no such file or folder: ${path}${where}`);
    throw error;
  });
  if (files.length === 0) {
    // A folder of other files (an export saved as .jsonl, .json): said, not left to "nothing to replay".
    const others = (await readdir(path)).filter((f) => !f.startsWith('.')).sort();
    if (others.length > 0)
      throw new InputError(
        `${path}: no *.ndjson or *.ndjson.gz file (only those are read from a folder; it holds ${others.length} other entr${others.length === 1 ? 'y' : 'ies'}, e.g. ${others[0]}): name the file itself, or rename it to .ndjson`,
      );
  }
  const total = await totalBytes(files);
  const bar = progressBar(quiet, 'read', 'bytes');
  let n = 0;
  for await (const { file, line, text, bytesRead } of ndjsonLines(files)) {
    builder.add(text, `${file}:${line}`);
    if (++n % 5000 === 0) bar?.update(Math.min(bytesRead, total), total);
  }
  bar?.update(total, total);
  bar?.stop();
}

async function readKafka(brokers: string, topic: string, builder: TrafficBuilder, quiet: boolean): Promise<void> {
  const { security, problems } = kafkaSecurityProblems(process.env);
  if (problems.length > 0) throw new UsageError(`invalid configuration:\n${problems.join('\n')}`);
  const { kafkaClient } = await import('../../services/adapters/kafka/kafka.ts');
  const { readRecordsTopic } = await import('../../services/adapters/kafka/record-topic.ts');
  const client = kafkaClient({ clientId: 'leakguard-backtest', brokers: brokers.split(','), security });
  const bar = progressBar(quiet, 'read', 'messages');
  let n = 0;
  await readRecordsTopic(client, (value) => builder.add(value, `${topic} message ${++n}`), {
    topic,
    onProgress: (read, total) => bar?.update(read, total),
  });
  bar?.stop();
}

async function finish(traffic: Traffic, description: string, config: Config, args: CommonArgs): Promise<number> {
  if (traffic.count === 0) {
    process.stderr.write(
      `nothing to replay in ${description}${traffic.refused ? ` (${traffic.refused} lines refused: ${traffic.problems.slice(0, 3).join(' | ')})` : ''}\n`,
    );
    return 1;
  }
  const [inForce, candidate] = configurations(config, args);
  const bar = progressBar(args.quiet, 'replay', 'transactions');
  const report = await runBacktest(traffic, {
    baseline: inForce,
    candidate,
    ...(args.from !== undefined ? { from: args.from } : {}),
    ...(args.to !== undefined ? { to: args.to } : {}),
    warmupDays: args.warmupDays,
    onProgress: (done, total) => bar?.update(done, total),
  });
  bar?.stop();
  report.source.description = description;
  const out = args.out ?? join(config.LEAKGUARD_STATE_DIR, 'backtests', report.generatedAt.replace(/[:.]/g, '-'));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(out, 'report.html'), htmlReport(report));
  process.stdout.write(`${textReport(report)}\n\nwritten: ${join(out, 'report.json')}, ${join(out, 'report.html')}\n`);
  return 0;
}

/** The folder the report goes to, checked before the recording is read and replayed (minutes of work). */
function checkReportFolder(args: CommonArgs, config: Config, outFlag: string | undefined): void {
  if (args.out !== undefined) {
    const problem = unwritableFolder(args.out);
    if (problem) throw new UsageError(`--out ${outFlag}: ${problem}`);
    return;
  }
  const problem = unwritableFolder(join(config.LEAKGUARD_STATE_DIR, 'backtests'));
  if (problem)
    throw new Error(
      `the report cannot be written under LEAKGUARD_STATE_DIR: ${problem}; --out DIR writes it elsewhere`,
    );
}

export async function backtestCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, source: { type: 'string' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${BACKTEST_USAGE}\n`);
    return 0;
  }
  const args = commonArgs(values);
  const config = loadConfig();
  checkReportFolder(args, config, values.out);
  const { traffic, description } = await readRecording(values.source, config, args.quiet);
  return finish(traffic, description, config, args);
}

/**
 * The recording at `--source` (a file or folder, or `kafka`), else where the engines write it: the
 * topic when KAFKA_BROKERS is set, else LEAKGUARD_RECORD_DIR or <state dir>/records.
 */
export async function readRecording(
  sourceFlag: string | undefined,
  config: Config,
  quiet: boolean,
): Promise<{ traffic: Traffic; description: string; source: string }> {
  const source =
    sourceFlag ??
    (config.KAFKA_BROKERS ? 'kafka' : (config.LEAKGUARD_RECORD_DIR ?? join(config.LEAKGUARD_STATE_DIR, 'records')));
  const builder = new TrafficBuilder('recording');
  if (source === 'kafka') {
    if (!config.KAFKA_BROKERS) throw new UsageError('--source kafka: KAFKA_BROKERS is not set');
    await readKafka(config.KAFKA_BROKERS, config.LEAKGUARD_RECORD_TOPIC, builder, quiet);
  } else
    await readFiles(
      sourceFlag ? callerPath(source) : source,
      builder,
      quiet,
      ' (the recording is under LEAKGUARD_RECORD_DIR, by default <state dir>/records)',
    );
  const description = source === 'kafka' ? `${config.LEAKGUARD_RECORD_TOPIC} at ${config.KAFKA_BROKERS}` : source;
  return { traffic: builder.finish(), description, source };
}

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, merchant: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${REPLAY_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('one file of requests is required (FILE.ndjson)');
  const args = commonArgs(values);
  const config = loadConfig();
  checkReportFolder(args, config, values.out);
  const { traffic, path } = await readRequests(positionals[0]!, values.merchant, args.quiet);
  return finish(traffic, path, config, args);
}

/**
 * A merchant's export of plain /v1/score requests (a file or folder of them, as `npm run replay`
 * reads it): lines without their own merchantId are `merchant`'s (default `replay`).
 */
export async function readRequests(
  pathFlag: string,
  merchant: string | undefined,
  quiet: boolean,
): Promise<{ traffic: Traffic; path: string }> {
  // Printed in the report and the next command's line: refused as a line's merchantId is, never echoed.
  if (merchant !== undefined && (merchant.length === 0 || merchant.length > 128 || containsCardNumber(merchant)))
    throw new UsageError(`--merchant: 1 to 128 characters that ${CARD_NUMBER_IN_IDENTIFIER}`);
  if (merchant?.includes(':')) throw new UsageError(`--merchant: ${MERCHANT_ID_COLON}`);
  const builder = new TrafficBuilder('requests', merchant ? { defaultMerchant: merchant } : {});
  const path = callerPath(pathFlag);
  await readFiles(path, builder, quiet);
  return { traffic: builder.finish(), path };
}

/**
 * Runs a command as a process: a usage error is its message, the usage and exit code 2; any other, its
 * message and 1. Resolves to the exit code it set.
 */
export function runCli(
  command: (argv: string[]) => Promise<number>,
  usage: string,
  argv = process.argv.slice(2),
): Promise<number> {
  return command(argv).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      const e = error as Error & { code?: string };
      const isUsage = error instanceof UsageError || (e.code ?? '').startsWith('ERR_PARSE_ARGS');
      process.stderr.write(`${scrubCardNumbers(e.message ?? String(error))}${isUsage ? `\n${usage}` : ''}\n`);
      return (process.exitCode = isUsage || error instanceof InputError ? 2 : 1);
    },
  );
}

if (process.argv[1] && import.meta.filename === resolve(process.argv[1])) void runCli(backtestCommand, BACKTEST_USAGE);
