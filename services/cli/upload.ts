// `npm run upload -- --event <id> FILE`: streams an issuer's card list to the API with a
// progress bar, prints a summary, and exits non-zero when lines were rejected (1), or with 75
// (EX_TEMPFAIL, "try again later") when the engine's store could not take the list for now.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import { callerPath, failWith, type Fail } from './command.ts';
import cliProgress from 'cli-progress';

const USAGE = `usage: npm run upload -- --event <ce_id> [--format csv|ndjson] [--url URL] [--key-file FILE] FILE
  FILE        one card per line: pan[,expiry_month,expiry_year] (CSV) or {"pan": ...} (NDJSON)
  --event     the compromise event the cards belong to (POST /v1/compromise-events returns it)
  --format    csv or ndjson (default: from the file name, .csv or .ndjson/.jsonl)
  --url       the Leakguard API (default: LEAKGUARD_URL or http://127.0.0.1:8080)
  --key-file  a file holding an issuer or admin API key (mode 0600)
The key comes from LEAKGUARD_API_KEY or --key-file (else the embedded demo issuer key), never from
the command line: every user of the machine can read a process's arguments.`;

const KEY_ON_COMMAND_LINE =
  '--key is refused: a key on the command line is visible to every user of this machine (ps, /proc) and stays in shell history; set LEAKGUARD_API_KEY or use --key-file FILE (mode 0600)';

const fail: Fail = failWith('upload');
/** sysexits.h's EX_TEMPFAIL: a temporary failure, the same command may succeed later (scripts retry on it). */
const TEMPORARY_FAILURE = 75;

interface Report {
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; code: string; reason: string; card: string }[];
}

/** Statuses worth the same upload again later: the engine or what stands before it is busy or away. */
const TRY_AGAIN = new Set([429, 502, 503, 504]);
const AGAIN = 'run the same upload again later: the cards it listed before count as already listed, none twice';

/**
 * POSTs the file and reads the answer, also when the engine answers before it has read the whole
 * body (a refusal, after which it closes the connection): the write then fails (EPIPE, a reset),
 * and the answer is what counts. Without an answer, the connection's error.
 */
function post(
  url: URL,
  headers: Record<string, string>,
  body: NodeJS.ReadableStream,
): Promise<{ response: IncomingMessage; text: string } | { error: NodeJS.ErrnoException; connected: boolean }> {
  return new Promise((resolve) => {
    let answered = false;
    let connected = false;
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: 'POST', headers },
      (response) => {
        answered = true;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ response, text }));
        response.on('error', (error) => resolve({ error, connected: true }));
      },
    );
    req.on('socket', (socket) => socket.on('connect', () => (connected = true)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // After an answer began, a failed write is the engine closing a refused upload: the answer counts.
      if (!answered) resolve({ error, connected });
    });
    body.on('error', (error) => req.destroy(error));
    body.pipe(req);
  });
}

/** The key in a file (first line, trimmed); warns when others may read the file. */
function readKeyFile(file: string): string {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    return fail(`--key-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const key = text.split('\n')[0]!.trim();
  if (!key) fail(`--key-file: ${file} is empty`);
  if (mode & 0o077)
    process.stderr.write(
      `upload: warning: ${file} can be read by other users (mode 0${mode.toString(8)}): chmod 600 it\n`,
    );
  return key;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      // --key is parsed only to be refused with the reason (a parse error would quote it back).
      options: {
        event: { type: 'string' },
        format: { type: 'string' },
        url: { type: 'string' },
        key: { type: 'string' },
        'key-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    if (process.argv.some((a) => a === '--key' || a.startsWith('--key='))) fail(KEY_ON_COMMAND_LINE);
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.key !== undefined) fail(KEY_ON_COMMAND_LINE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.event || positionals.length !== 1)
    fail(
      `${!values.event ? '--event <id> is required' : positionals.length === 0 ? 'a FILE to upload is required' : `one FILE at a time, not ${positionals.length}`}\n${USAGE}`,
    );
  const given = positionals[0]!;
  const file = callerPath(given);
  if (!/^ce_[1-9][0-9]*$/.test(values.event))
    fail(`--event must be a compromise event id such as ce_1, not ${JSON.stringify(values.event)}`);
  if (!existsSync(file) || !statSync(file).isFile())
    fail(`no such file: ${given === file ? file : `${given} (${file})`}`);
  const format =
    values.format ?? (/\.(ndjson|jsonl)$/i.test(file) ? 'ndjson' : /\.csv$/i.test(file) ? 'csv' : undefined);
  if (format !== 'csv' && format !== 'ndjson')
    fail(
      values.format === undefined
        ? 'say --format csv or --format ndjson (the file name does not tell)'
        : `--format must be csv or ndjson, not ${JSON.stringify(values.format)}`,
    );

  let key = process.env.LEAKGUARD_API_KEY || undefined;
  const keyFile = values['key-file'];
  if (keyFile !== undefined) {
    if (key) fail('set either LEAKGUARD_API_KEY or --key-file, not both');
    key = readKeyFile(callerPath(keyFile));
  }
  if (!key) {
    const demo = join(process.env.LEAKGUARD_STATE_DIR || '.leakguard', 'demo-credentials.json');
    if (existsSync(demo)) {
      key = (JSON.parse(readFileSync(demo, 'utf8')) as { issuerKey?: string }).issuerKey;
      process.stderr.write(
        `upload: no LEAKGUARD_API_KEY or --key-file: using the embedded demo issuer key from ${demo}\n`,
      );
    }
  }
  if (!key) fail('an issuer API key is needed: LEAKGUARD_API_KEY or --key-file FILE');
  const base = (values.url ?? process.env.LEAKGUARD_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');

  const total = statSync(file).size;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'uploading [{bar}] {percentage}% | {sent}/{size} MB | {rate} MB/s | eta {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const started = Date.now();
  let sent = 0;
  bar.start(total, 0, { sent: '0.0', size: mb(total), rate: '0.0' });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      bar.update(sent, {
        sent: mb(sent),
        rate: (sent / 1e6 / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1),
      });
      done(null, chunk);
    },
  });
  let url: URL;
  try {
    url = new URL(`${base}/v1/compromise-events/${values.event}/cards`);
  } catch {
    return fail(`--url must be a URL such as http://127.0.0.1:8080, not ${JSON.stringify(base)}`);
  }
  const result = await post(
    url,
    {
      authorization: `Bearer ${key}`,
      'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      'content-length': String(total),
    },
    createReadStream(file).pipe(counter),
  );
  bar.stop();
  if ('error' in result) {
    const reason = `${result.error.code ?? 'error'}: ${result.error.message}`;
    if (!result.connected) fail(`cannot reach ${base}: ${reason}`, 1);
    fail(`the connection was lost after ${mb(sent)} MB (${reason}): ${AGAIN}`, TEMPORARY_FAILURE);
  }
  const { response, text } = result;
  const status = response.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    let message = text;
    let kept: Omit<Report, 'errors'> | undefined;
    try {
      const body = JSON.parse(text) as { error?: string; kept?: Report };
      message = body.error ?? text;
      kept = body.kept;
    } catch {
      // not JSON: the text as it came
    }
    const before = kept
      ? ` (before it: ${kept.accepted} cards listed, ${kept.duplicates} already listed, ${kept.rejected} lines rejected)`
      : '';
    const retryAfter = response.headers['retry-after'];
    if (status === 503)
      fail(
        `refused (503): ${message}${before}: the engine's store is unavailable for now (Redis down, full or failing over). ` +
          `Run the same upload again${retryAfter ? ` in ${retryAfter} s or later` : ' later'}: ` +
          'the cards it listed before count as already listed, none twice',
        TEMPORARY_FAILURE,
      );
    if (TRY_AGAIN.has(status)) fail(`refused (${status}): ${message}${before}: ${AGAIN}`, TEMPORARY_FAILURE);
    fail(`refused (${status}): ${message}${before}`, 1);
  }
  const report = JSON.parse(text) as Report;
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `\n${values.event}: ${report.accepted} cards listed, ${report.duplicates} already listed, ${report.rejected} lines rejected ` +
      `(${seconds.toFixed(1)} s, ${Math.round((report.accepted + report.duplicates + report.rejected) / Math.max(seconds, 0.001))} lines/s)\n`,
  );
  if (report.rejected > 0) {
    process.stdout.write(
      `\nrejected lines${report.rejected > report.errors.length ? ` (first ${report.errors.length} of ${report.rejected})` : ''}:\n`,
    );
    for (const e of report.errors) process.stdout.write(`  line ${e.line}: ${e.code}: ${e.reason} (${e.card})\n`);
    process.exit(1);
  }
}

main().catch((error: unknown) => fail(`failed: ${(error as Error).message}`, 1));
