// `npm run upload -- --event <id> FILE`: streams an issuer's card list to the API with a
// progress bar, prints a summary (or, with --json, the report as JSON), and exits with a status a
// script can act on: 0 listed, 3 listed but for rejected lines, 1 refused, 65 no card at all, 75
// (EX_TEMPFAIL, "try again later") when the engine or its store could not take the list for now,
// 74 (EX_IOERR) when the list could not be read to its end (a .gz cut short or corrupt).
// No message echoes a card number.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { scrubCardNumbers } from '../core/scrub.ts';
import { endsLinesWithLoneCr, FORMAT_NAME, LONE_CR, looksLike, wideEncodingRefusal } from '../watchlist/list-sniff.ts';
import { callerPath, failWith, type Fail } from './command.ts';
import cliProgress from 'cli-progress';

const USAGE = `usage: npm run upload -- --event <ce_id> [--format csv|ndjson] [--url URL] [--insecure-http] [--key-file FILE] FILE
  FILE        one card per line: pan[,expiry_month,expiry_year] (CSV) or {"pan": ...} (NDJSON);
              gzip-compressed (cards.csv.gz) is read as such: give the .gz file itself, not zcat's
              output, so that a file cut short or corrupt is an error (exit 74), not a shorter list;
              - reads stdin (set -o pipefail in a pipe: upload cannot see the command before it fail)
  --event     the compromise event the cards belong to (POST /v1/compromise-events returns it)
  --format    csv or ndjson (default: from the file name, .csv or .ndjson/.jsonl)
  --url       the Leakguard API (default: LEAKGUARD_URL or http://127.0.0.1:8080); https://, or
              http:// to this machine only (localhost, 127.0.0.0/8, ::1)
  --insecure-http  send the cards over plain http:// to another machine all the same (unencrypted)
  --key-file  a file holding an issuer or admin API key (mode 0600)
  --json      the outcome as one JSON object on stdout (messages stay on stderr): {"event",
              "outcome", "exitStatus", "httpStatus", "listed", "duplicates", "rejected",
              "rejectedByCode": {"BIN_NOT_OWNED": n, ...} (every rejected line),
              "rejectedLines": [{"line", "code", "reason", "card"}] (the first 100, cards masked),
              "error", "warnings": [...] (e.g. a last line without a line ending: the input may have
              been cut)}; none for bad usage (exit 2)
The key comes from LEAKGUARD_API_KEY or --key-file (else the embedded demo issuer key), never from
the command line: every user of the machine can read a process's arguments.
Exit status (and --json's "outcome"):
  0  listed: every line taken (cards listed, or already listed)
  3  partly-listed: the list was taken, but some lines were rejected (listed above, cards masked)
  1  refused: the list was refused (the event unknown, the key refused, not a card list...) or the
     engine unreachable for good; only the lines before a refusal part way were kept (it says)
  2  bad usage (nothing sent)
  65 no-card: FILE lists no card (empty, or a header only)
  74 input-error: FILE could not be read to its end (a .gz cut short or corrupt, a read error): the
     lines before were sent (the summary says what was listed), the line it cut was not
  75 try-again: engine unreachable or busy, store unavailable, connection lost part way: run the
     same upload again later`;

const KEY_ON_COMMAND_LINE =
  '--key is refused: a key on the command line is visible to every user of this machine (ps, /proc) and stays in shell history; set LEAKGUARD_API_KEY or use --key-file FILE (mode 0600)';

const failRaw: Fail = failWith('upload');
/** Every message is scrubbed: an argument, a file name or a URL given by mistake may be a card number. */
const fail: Fail = (message, code) => failRaw(scrubCardNumbers(message), code);
/** sysexits.h's EX_TEMPFAIL: a temporary failure, the same command may succeed later (scripts retry on it). */
const TEMPORARY_FAILURE = 75;
/** sysexits.h's EX_DATAERR: the file lists no card (empty, or a header line only). */
const NO_CARDS = 65;
/** The list was refused, or cannot be sent (a misspelt host): nothing listed but the lines before a refusal. */
const REFUSED = 1;
/** The list was taken, some of its lines rejected: a script tells it from a refusal (1). */
const PARTLY_LISTED = 3;
/** sysexits.h's EX_IOERR: FILE could not be read to its end (a .gz cut short or corrupt). */
const INPUT_ERROR = 74;
/** Errors of a connection that may well succeed later (the engine restarting, a network blip); others (a misspelt host, a certificate) will not. */
const UNREACHABLE_FOR_NOW = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'EPIPE',
]);

interface Report {
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Every rejected line by code (an engine before it sent the first 100 lines only). */
  rejectedByCode?: Record<string, number>;
  errors: { line: number; code: string; reason: string; card: string }[];
}

type Outcome = 'listed' | 'partly-listed' | 'refused' | 'no-card' | 'input-error' | 'try-again';
const EXIT_STATUS: Record<Outcome, number> = {
  listed: 0,
  'partly-listed': PARTLY_LISTED,
  refused: REFUSED,
  'no-card': NO_CARDS,
  'input-error': INPUT_ERROR,
  'try-again': TEMPORARY_FAILURE,
};

/** --json's summary: counts and the first rejected lines as the engine masked them, never a card number. */
function jsonSummary(
  event: string,
  outcome: Outcome,
  report: Report | undefined,
  extra: { httpStatus?: number; error?: string } = {},
  warnings: string[] = [],
): string {
  return `${JSON.stringify({
    event,
    outcome,
    exitStatus: EXIT_STATUS[outcome],
    httpStatus: extra.httpStatus ?? null,
    listed: report?.accepted ?? 0,
    duplicates: report?.duplicates ?? 0,
    rejected: report?.rejected ?? 0,
    rejectedByCode: report?.rejectedByCode ?? {},
    rejectedLines: (report?.errors ?? []).map(({ line, code, reason, card }) => ({
      line,
      code,
      reason: scrubCardNumbers(reason),
      card: scrubCardNumbers(card),
    })),
    error: extra.error === undefined ? null : scrubCardNumbers(extra.error),
    warnings: warnings.map((w) => scrubCardNumbers(w)),
  })}\n`;
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

/** How much of the list is read to tell its format before sending: a few lines, and more. */
const SNIFF_BYTES = 64 * 1024;

/**
 * The stream's first bytes (up to `size`, or all of a shorter stream), and the whole stream again,
 * to send. A read error among the first bytes is thrown by `body` after them, as it would have been
 * read: the lines before it are sent as the lines before a later one are.
 */
async function peek(source: NodeJS.ReadableStream, size: number): Promise<{ head: Buffer; body: Readable }> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const parts: Buffer[] = [];
  let length = 0;
  let ended = false;
  let failed: { error: unknown } | undefined;
  while (length < size) {
    let next;
    try {
      next = await chunks.next();
    } catch (error) {
      failed = { error };
      break;
    }
    if (next.done) {
      ended = true;
      break;
    }
    parts.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(parts);
  async function* whole() {
    if (head.length > 0) yield head;
    if (failed) throw failed.error;
    if (ended) return;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  return { head, body: Readable.from(whole(), { objectMode: false }) };
}

/** gzip's signature: a compressed list, read through gunzip (which tells a cut or corrupt file by an error). */
const isGzip = (head: Buffer) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/**
 * What the list's lines show as they are sent. `body` sends the list with its last line held back
 * until a line ending or the end follows: when reading fails part way (a .gz cut short or corrupt,
 * a read error), the line the failure cut is never sent. A body of unknown length (sent chunked)
 * then ends there, and the engine answers for the lines before; one of a declared length cannot,
 * and fails (the request is aborted: the engine drops the cut line and answers nothing).
 */
class LineGuard {
  /** Line endings sent so far. */
  newlines = 0;
  /** The read error that ended the list early, if one did. */
  readError: NodeJS.ErrnoException | undefined;
  /** The last line's number, when it has no line ending though every line before it had one. */
  unterminatedLine: number | undefined;
  /** A line held back no longer than this: far longer than a card line, which the engine refuses anyway. */
  static readonly HOLD_LIMIT = 64 * 1024;

  body(source: AsyncIterable<Buffer>, lengthKnown: boolean): Readable {
    return Readable.from(this.lines(source, lengthKnown), { objectMode: false });
  }

  private async *lines(source: AsyncIterable<Buffer>, lengthKnown: boolean): AsyncGenerator<Buffer> {
    let held: Buffer[] = [];
    let heldBytes = 0;
    try {
      for await (const chunk of source) {
        const last = chunk.lastIndexOf(10);
        if (last < 0) {
          held.push(chunk);
          heldBytes += chunk.length;
          if (heldBytes > LineGuard.HOLD_LIMIT) {
            yield* held;
            held = [];
            heldBytes = 0;
          }
          continue;
        }
        for (let i = chunk.indexOf(10); i >= 0 && i <= last; i = chunk.indexOf(10, i + 1)) this.newlines++;
        yield* held;
        yield chunk.subarray(0, last + 1);
        held = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
        heldBytes = chunk.length - last - 1;
      }
    } catch (error) {
      this.readError = error as NodeJS.ErrnoException;
      if (lengthKnown) throw error;
      return; // the line held, which the error cut, is not sent
    }
    if (heldBytes > 0) {
      const rest = Buffer.concat(held);
      // A line ending everywhere but after the last line: the input may have stopped in a line.
      if (this.newlines > 0 && rest.toString('latin1').trim() !== '') this.unterminatedLine = this.newlines + 1;
      yield rest;
    }
  }

  /** Where reading failed, and why, in words that never repeat the list's content. */
  failure(named: string): string {
    const e = this.readError!;
    return `reading ${named} failed at line ${(this.newlines + 1).toLocaleString('en')} (${e.code ?? 'error'}: ${e.message})`;
  }
}

/** Leakguard's error body ({error, code, details?, kept?}), or undefined for any other answer. */
function leakguardRefusal(
  text: string,
): { error: string; details?: { path: string; message: string }[]; kept?: Report } | undefined {
  const body = parsedObject(text);
  if (typeof body?.error !== 'string' || typeof body.code !== 'string') return undefined;
  const details = Array.isArray(body.details)
    ? (body.details as unknown[]).filter(
        (d): d is { path: string; message: string } =>
          typeof (d as { path?: unknown })?.path === 'string' &&
          typeof (d as { message?: unknown })?.message === 'string',
      )
    : undefined;
  return { error: body.error, ...(details ? { details } : {}), ...(isReport(body.kept) ? { kept: body.kept } : {}) };
}

/** Leakguard's upload report, or undefined for any other answer. */
const leakguardReport = (text: string): Report | undefined => {
  const body = parsedObject(text);
  return isReport(body) ? body : undefined;
};

function isReport(value: unknown): value is Report {
  const r = value as Partial<Report> | undefined;
  return (
    typeof r?.accepted === 'number' &&
    typeof r.duplicates === 'number' &&
    typeof r.rejected === 'number' &&
    Array.isArray(r.errors)
  );
}

function parsedObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The rejected lines of a report, as the engine gave them (line, code, reason, masked card). Lines
 * in a row rejected alike (a file in another format: 100 times "not a JSON object") are one entry.
 */
function rejectedLines(report: Report): string {
  if (report.rejected === 0) return '';
  const errors = report.errors ?? [];
  const runs: { first: number; last: number; error: Report['errors'][number] }[] = [];
  for (const error of errors) {
    const run = runs.at(-1);
    const alike =
      run &&
      run.last === error.line - 1 &&
      run.error.code === error.code &&
      run.error.reason === error.reason &&
      run.error.card === error.card;
    if (alike) run.last = error.line;
    else runs.push({ first: error.line, last: error.line, error });
  }
  // Of a large list only the first lines come back: the counts by code say what the rest were.
  const byCode = Object.entries(report.rejectedByCode ?? {})
    .sort(([, a], [, b]) => b - a)
    .map(([code, n]) => `${code} ${n.toLocaleString('en')}`)
    .join(', ');
  return (
    (report.rejected > errors.length && byCode ? `\nrejected lines by code: ${byCode}` : '') +
    `\nrejected lines${report.rejected > errors.length ? ` (first ${errors.length} of ${report.rejected})` : ''}:\n` +
    runs
      .map(
        ({ first, last, error: e }) =>
          `  ${first === last ? `line ${first}` : `lines ${first}-${last}`}: ${e.code}: ${e.reason} (${e.card})\n`,
      )
      .join('')
  );
}

/** Hosts on this machine, which plain http:// may reach: the cards never cross a network. */
function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    // An IPv4-mapped loopback, as the URL parser writes it: [::ffff:127.0.0.1] is ::ffff:7f00:1.
    /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host)
  );
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
        'insecure-http': { type: 'boolean' },
        json: { type: 'boolean' },
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
  const fromStdin = given === '-';
  /** What FILE is: a file of known size, or a stream (stdin, a pipe such as <(zcat list.gz), a device) read to its end. */
  let regular = false;
  /** A socket a parent process handed down as /dev/fd/N: read from the descriptor (a socket cannot be opened by name). */
  let socketFd: number | undefined;
  if (!fromStdin) {
    let stat;
    try {
      stat = statSync(file);
    } catch {
      fail(`no such file: ${given === file ? file : `${given} (${file})`}`);
    }
    regular = stat.isFile();
    if (stat.isDirectory()) fail(`${given} is a folder, not a card list`);
    const fd = /^\/(?:dev|proc\/self)\/fd\/(\d+)$/.exec(file)?.[1];
    if (stat.isSocket() && fd !== undefined) socketFd = Number(fd);
    if (!regular && !stat.isFIFO() && !stat.isCharacterDevice() && socketFd === undefined)
      fail(`${given} is not a regular file, a pipe or a device: it cannot be read`);
  }
  /** FILE as messages name it. */
  const named = fromStdin ? 'stdin' : given;
  const format =
    values.format ??
    (/\.(ndjson|jsonl)(\.gz)?$/i.test(file) ? 'ndjson' : /\.csv(\.gz)?$/i.test(file) ? 'csv' : undefined);
  if (format !== 'csv' && format !== 'ndjson')
    fail(
      values.format === undefined
        ? `say --format csv or --format ndjson (${fromStdin ? 'stdin has no file name' : 'the file name does not tell'})`
        : `--format must be csv or ndjson, not ${JSON.stringify(values.format)}`,
    );

  const base = (values.url ?? process.env.LEAKGUARD_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(`${base}/v1/compromise-events/${values.event}/cards`);
  } catch {
    return fail(`--url must be a URL such as http://127.0.0.1:8080, not ${JSON.stringify(base)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    fail(`--url must be an https:// or http:// URL, not ${JSON.stringify(base)}`);
  // Millions of card numbers in clear text: over a network only if the caller says so.
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && !values['insecure-http'])
    fail(
      `refusing to send card numbers unencrypted to ${url.host} over http://: use https://, or --insecure-http to send them in clear text all the same`,
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

  const event = values.event;
  /** What the run should say beside its outcome (on stderr, and in --json's "warnings"). */
  const warnings: string[] = [];
  /** Ends the run: the --json summary on stdout, then the message on stderr and the outcome's exit status. */
  function end(
    outcome: Outcome,
    message: string | undefined,
    report?: Report,
    extra: { httpStatus?: number; error?: string } = {},
  ): never {
    if (values.json) process.stdout.write(jsonSummary(event, outcome, report, extra, warnings));
    for (const warning of warnings) process.stderr.write(`upload: warning: ${scrubCardNumbers(warning)}\n`);
    if (message !== undefined) fail(message, EXIT_STATUS[outcome]);
    process.exit(EXIT_STATUS[outcome]);
  }
  /** Human output: on stdout, or on stderr when stdout is --json's. */
  const say = (text: string) => (values.json ? process.stderr : process.stdout).write(text);

  // A stream's length is known only at its end: sent without one (chunked), its progress without a percentage.
  const size = regular ? statSync(file).size : undefined;
  if (size === 0) end('no-card', `warning: ${named} is empty: nothing to upload`);
  // The first lines, read before anything is sent: a list in the other format is refused here, not
  // after the engine has rejected its first thousand lines one by one.
  let { head, body } = await peek(
    fromStdin
      ? process.stdin
      : socketFd !== undefined
        ? new Socket({ fd: socketFd, readable: true, writable: false })
        : createReadStream(file),
    SNIFF_BYTES,
  );
  // A .gz list (a file, or gzip's bytes on stdin): read through gunzip here, which tells a file cut
  // short or corrupt by an error, where zcat's output piped in would just stop (zcat's failure
  // unseen). Its length is known only at its end.
  const gzipped = isGzip(head);
  if (gzipped)
    ({ head, body } = await peek(
      pipeline(body, createGunzip(), () => undefined),
      SNIFF_BYTES,
    ));
  const total = gzipped ? undefined : size;
  // What the engine would refuse on its first bytes (415, 400), refused here without sending a card.
  const wide = wideEncodingRefusal(head);
  if (wide) end('refused', `${named}: ${wide}`, undefined, { error: wide });
  if (endsLinesWithLoneCr(head)) end('refused', `${named}: ${LONE_CR}`, undefined, { error: LONE_CR });
  const looks = looksLike(head);
  if (looks && looks !== format)
    fail(`${named} looks like ${FORMAT_NAME[looks]}, not ${FORMAT_NAME[format]}: use --format ${looks}`);
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        total === undefined
          ? 'uploading {sent} MB | {rate} MB/s'
          : 'uploading [{bar}] {percentage}% | {sent}/{size} MB | {rate} MB/s | eta {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const started = Date.now();
  let sent = 0;
  bar.start(total ?? 1, 0, { sent: '0.0', size: mb(total ?? 0), rate: '0.0' });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      bar.update(total === undefined ? 0 : sent, {
        sent: mb(sent),
        rate: (sent / 1e6 / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1),
      });
      done(null, chunk);
    },
  });
  const guard = new LineGuard();
  const result = await post(
    url,
    {
      authorization: `Bearer ${key}`,
      'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      ...(total === undefined ? {} : { 'content-length': String(total) }),
    },
    // A read error fails the counter too, and so the request (post): never an unhandled error.
    pipeline(guard.body(body, total !== undefined), counter, () => undefined),
  );
  bar.stop();
  if (guard.unterminatedLine !== undefined) {
    const n = guard.unterminatedLine.toLocaleString('en');
    warnings.push(
      `line ${n}, the last, has no line ending although every line before it has one: the input may have been cut ` +
        `part way (a pipe whose command failed, a copy cut short), and line ${n} sent as a shorter, different card ` +
        'number than the list holds. Check that the input is whole: give a .gz file itself (upload reads it and tells ' +
        'a cut), and in a pipe set -o pipefail',
    );
  }
  if (guard.readError && 'error' in result) {
    // A list of a declared length cannot end early: the request was aborted, the engine answered nothing.
    const message =
      `${guard.failure(named)}: the upload was stopped there, and the engine drops the line it cut. The lines ` +
      'before it were sent, and those the engine stored stay listed, but it could not say how many: mend the ' +
      'input and run the same upload again (the cards listed before count as already listed, none twice)';
    end('input-error', message, undefined, { error: guard.failure(named) });
  }
  if ('error' in result) {
    const reason = `${result.error.code ?? 'error'}: ${result.error.message}`;
    if (!result.connected) {
      const message = `cannot reach ${base}: ${reason}`;
      if (UNREACHABLE_FOR_NOW.has(result.error.code ?? ''))
        end('try-again', `${message}: ${AGAIN}`, undefined, { error: message });
      end('refused', message, undefined, { error: message });
    }
    const message = `the connection was lost after ${mb(sent)} MB (${reason})`;
    end('try-again', `${message}: ${AGAIN}`, undefined, { error: message });
  }
  const { response, text } = result;
  const status = response.statusCode ?? 0;
  const ok = status >= 200 && status < 300;
  const refusal = ok ? undefined : leakguardRefusal(text);
  const report = ok ? leakguardReport(text) : undefined;
  if (!refusal && !report) {
    // A proxy's error page, a login portal, another server: the message is not the engine's to relay.
    const type = response.headers['content-type'] || 'no content type';
    const message =
      `the answer is not Leakguard's (HTTP ${status}, ${type}): is ${base} the Leakguard API, ` +
      'or did a proxy or another server answer?';
    const answered = { httpStatus: status, error: message };
    if (TRY_AGAIN.has(status)) end('try-again', `${message} ${AGAIN}`, undefined, answered);
    end('refused', ok ? `${message} Nothing says the list was taken.` : message, undefined, answered);
  }
  if (refusal) {
    // The engine's reason, then each detail's field and problem (which part of the request, and why).
    const details = (refusal.details ?? []).map((d) => `${d.path || 'request'}: ${d.message}`).join('; ');
    const message = details ? `${refusal.error}: ${details}` : refusal.error;
    const kept = refusal.kept;
    const before = kept
      ? ` (before it: ${kept.accepted} cards listed, ${kept.duplicates} already listed, ${kept.rejected} lines rejected)`
      : '';
    // The lines before the refusal that were rejected: where they are and why, as after a success.
    if (kept) process.stderr.write(rejectedLines(kept));
    const retryAfter = response.headers['retry-after'];
    const answered = { httpStatus: status, error: message };
    if (status === 503)
      end(
        'try-again',
        `refused (503): ${message}${before}: the engine's store is unavailable for now (Redis down, full or failing over). ` +
          `Run the same upload again${retryAfter ? ` in ${retryAfter} s or later` : ' later'}: ` +
          'the cards it listed before count as already listed, none twice',
        kept,
        answered,
      );
    if (TRY_AGAIN.has(status)) end('try-again', `refused (${status}): ${message}${before}: ${AGAIN}`, kept, answered);
    end('refused', `refused (${status}): ${message}${before}`, kept, answered);
  }
  if (!report) return end('refused', 'no report in the answer'); // unreachable: one of the two is set
  const seconds = (Date.now() - started) / 1000;
  say(
    `\n${values.event}: ${report.accepted} cards listed, ${report.duplicates} already listed, ${report.rejected} lines rejected ` +
      `(${seconds.toFixed(1)} s, ${Math.round((report.accepted + report.duplicates + report.rejected) / Math.max(seconds, 0.001))} lines/s)\n`,
  );
  say(rejectedLines(report));
  const httpStatus = { httpStatus: status };
  if (guard.readError) {
    // The list ended early where reading failed: what was listed is listed, the rest never read.
    const failure = guard.failure(named);
    end(
      'input-error',
      `${failure}: the upload stopped there, the line it cut not sent. The ${report.accepted} cards listed before ` +
        'it stay listed (the summary above): mend the input (a whole .gz) and run the same upload again: the cards ' +
        'listed before count as already listed, none twice',
      report,
      { ...httpStatus, error: failure },
    );
  }
  if (report.accepted + report.duplicates === 0) {
    if (report.rejected > 0) end('refused', 'no line of the list was taken: nothing was listed', report, httpStatus);
    end('no-card', `warning: ${named} lists no card (a header line only?): nothing was uploaded`, report, httpStatus);
  }
  end(report.rejected > 0 ? 'partly-listed' : 'listed', undefined, report, httpStatus);
}

main().catch((error: unknown) => fail(`failed: ${(error as Error).message}`, 1));
