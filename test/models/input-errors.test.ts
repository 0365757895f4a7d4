// Every input the model commands read (a dataset's daily files, the breach side files, issuer lists,
// an artifact) that cannot be used is refused in one line naming the file, the line and column, and
// what was expected: no stack trace, no usage (the flags were right), exit 2, and never a field's
// value (a breach dataset's rows hold card numbers).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError, readDataset } from '../../models/simulator/csv.ts';

const root = join(import.meta.dirname, '../..');
const HEADER = 'TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD';
const ROWS = ['0,2018-04-01 00:14:33,1,2,43.49,873,0,0', '1,2018-04-01 01:00:00,2,3,10.00,3600,0,1'];

const dir = mkdtempSync(join(tmpdir(), 'lg-input-errors-'));
let n = 0;
/** A one-day dataset folder holding `text` as its file. */
function dataset(text: string): { folder: string; file: string } {
  const folder = join(dir, `ds-${++n}`);
  mkdirSync(folder);
  const file = join(folder, '2018-04-01.csv');
  writeFileSync(file, text);
  return { folder, file };
}

function readError(folder: string): string {
  try {
    readDataset(folder);
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetError);
    return (error as Error).message;
  }
  throw new Error('read without an error');
}

const model = (...args: string[]) =>
  spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'models/cli/model.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
  });

/** The command refused its input in one line (after progress lines), with exit 2 and no stack trace. */
function refusedInOneLine(r: ReturnType<typeof model>): string {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr
    .trimEnd()
    .split('\n')
    .filter((l) => !/^read \d+ transactions/.test(l));
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain('usage:');
  return lines[0]!;
}

describe('dataset files: the file, line and column, and what was expected', () => {
  it('names every missing column by its name, on the header line', () => {
    const { folder, file } = dataset(`${HEADER.replace('TRANSACTION_ID,', '')}\n`);
    expect(readError(folder)).toBe(
      `${file}:1: no column TRANSACTION_ID in the header (expected a header naming TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT, TX_TIME_SECONDS, TX_TIME_DAYS, TX_FRAUD; TX_FRAUD_SCENARIO and others optional)`,
    );
  });

  it('a field that is not what its column holds: line, column, name, and what it should be', () => {
    const cases: [string, string][] = [
      ['2,2018-04-01 02:00:00,1,2,4111111111111111x,7200,0,0', ':4:5 (TX_AMOUNT): expected a number, found other text'],
      ['2,2018-04-01 02:00:00,1,2,,7200,0,0', ':4:5 (TX_AMOUNT): expected a number, found an empty field'],
      [
        '2,2018-04-01 02:00:00,1,2,5.00,7200',
        ':4:7 (TX_TIME_DAYS): expected a number, found no field (the row has 6 fields, the header 8)',
      ],
      [
        '2,2018-02-30 02:00:00,1,2,5.00,7200,0,0',
        ':4:2 (TX_DATETIME): expected a time YYYY-MM-DD HH:MM:SS on a calendar day',
      ],
      [
        '2,2018-04-01 25:00:00,1,2,5.00,7200,0,0',
        ':4:2 (TX_DATETIME): expected a time YYYY-MM-DD HH:MM:SS on a calendar day',
      ],
      ['2,2018-04-01 02:00:00,1,2,5.00,7200,0,2', ':4:8 (TX_FRAUD): expected 0 or 1'],
    ];
    for (const [row, where] of cases) {
      const { folder, file } = dataset([HEADER, ...ROWS, row, ''].join('\n'));
      const message = readError(folder);
      expect(message.startsWith(`${file}${where}`), message).toBe(true);
      expect(message).not.toContain('4111111111111111');
    }
    // the rows that are right still read
    const { folder } = dataset([HEADER, ...ROWS, ''].join('\n'));
    expect(readDataset(folder).n).toBe(2);
  });

  it('a folder without a dataset says so', () => {
    const folder = join(dir, 'empty');
    mkdirSync(folder);
    expect(readError(folder)).toBe(`${folder}: no .csv file (expected a dataset's daily files, YYYY-MM-DD.csv)`);
  });

  it('model train and evaluate refuse them in one line, exit 2', () => {
    const { folder, file } = dataset(`${HEADER.replace(',TX_FRAUD', '')}\n${ROWS[0]!.replace(/,0$/, '')}\n`);
    expect(refusedInOneLine(model('train', '--data', folder, '--trees', '1', '--out', join(dir, 'm.json')))).toBe(
      `model: ${file}:1: no column TX_FRAUD in the header (expected a header naming TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT, TX_TIME_SECONDS, TX_TIME_DAYS, TX_FRAUD; TX_FRAUD_SCENARIO and others optional)`,
    );
    const torn = join(dir, 'torn.json');
    writeFileSync(torn, '{\n "formatVersion": 1,\n "modelVersion" "x"\n}\n');
    expect(refusedInOneLine(model('evaluate', '--data', folder, '--model', torn))).toBe(
      `model: --model ${torn}: cannot read model artifact ${torn}:3:17: not valid JSON (expected JSON there): write the file whole, aside, then rename it into place`,
    );
  });

  it('model record-simulated refuses them in one line, exit 2, without the usage', () => {
    // Before: the message, then the whole usage (as for a wrong flag).
    const { folder, file } = dataset(`${HEADER.replace(',TX_FRAUD', '')}\n${ROWS[0]!.replace(/,0$/, '')}\n`);
    const out = join(dir, 'recorded.ndjson');
    expect(refusedInOneLine(model('record-simulated', '--data', folder, '--out', out))).toBe(
      `${file}:1: no column TX_FRAUD in the header (expected a header naming TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT, TX_TIME_SECONDS, TX_TIME_DAYS, TX_FRAUD; TX_FRAUD_SCENARIO and others optional)`,
    );
    const torn = join(dir, 'torn-recorded.json');
    writeFileSync(torn, '{\n "formatVersion": 1,\n "modelVersion" "x"\n}\n');
    expect(refusedInOneLine(model('record-simulated', '--data', folder, '--out', out, '--model', torn))).toBe(
      `--model ${torn}: cannot read model artifact ${torn}:3:17: not valid JSON (expected JSON there): write the file whole, aside, then rename it into place`,
    );
    // a wrong flag still gets the usage
    const flag = model('record-simulated', '--data', folder, '--out', out, '--to', 'soon');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('usage:');
  });
});

describe('a breach dataset replayed through the engine: its rows and side files', () => {
  const data = join(dir, 'breach');
  spawnSync(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      'models/cli/simulate.ts',
      '--breach',
      '--customers',
      '100',
      '--terminals',
      '200',
      '--days',
      '12',
      '--quiet',
      '--out',
      data,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  const day = readdirSync(data).filter((f) => f.endsWith('.csv') && f !== 'breaches.csv')[5]!;
  const header = readFileSync(join(data, day), 'utf8').split('\n')[0]!.split(',');
  /** A copy of the dataset with `change` applied to the day's third line (line 3 of the file). */
  function broken(column: string, value: string): { folder: string; file: string } {
    const folder = join(dir, `breach-${++n}`);
    cpSync(data, folder, { recursive: true });
    const file = join(folder, day);
    const lines = readFileSync(file, 'utf8').split('\n');
    const cells = lines[2]!.split(',');
    cells[header.indexOf(column)] = value;
    lines[2] = cells.join(',');
    writeFileSync(file, lines.join('\n'));
    return { folder, file };
  }
  const train = (folder: string) =>
    model(
      'train',
      '--data',
      folder,
      '--feature-set',
      'engine',
      '--from',
      '2018-04-08',
      '--to',
      '2018-04-09',
      '--trees',
      '1',
      '--quiet',
      '--out',
      join(dir, 'e.json'),
    );

  it('a row the engine could not take: file, line, column, what was expected; never the card number', () => {
    for (const [column, value, expected] of [
      ['AUTH_RESULT', 'maybe', 'expected approved or declined'],
      ['CARD_PAN', '4111 1111 1111 1111', 'expected a card number of 12 to 19 digits'],
      ['CARD_EXPIRY', '13/30', 'expected an expiry MM/YY'],
      ['CURRENCY', 'XXX', 'expected a currency the rate table has a rate for (no exchange rate for XXX'],
    ] as const) {
      const { folder, file } = broken(column, value);
      const line = refusedInOneLine(train(folder));
      expect(line.startsWith(`model: ${file}:3:${header.indexOf(column) + 1} (${column}): ${expected}`), line).toBe(
        true,
      );
      expect(line).not.toContain('4111');
    }
  });

  it('side files: breaches.csv and issuer-lists/uploads.csv with what they must hold', () => {
    const folder = join(dir, `breach-${++n}`);
    cpSync(data, folder, { recursive: true });
    const uploads = join(folder, 'issuer-lists', 'uploads.csv');
    writeFileSync(uploads, 'issuer;breach\n');
    expect(refusedInOneLine(train(folder))).toBe(
      `model: ${uploads}:1: no column ISSUER, BREACH_ID, UPLOADED_AT, FILE (expected a header naming ISSUER, BREACH_ID, UPLOADED_AT, FILE)`,
    );
    writeFileSync(uploads, 'ISSUER,BREACH_ID,UPLOADED_AT,FILE,CARDS\nbank,B1,yesterday,bank-B1.csv,3\n');
    expect(refusedInOneLine(train(folder))).toBe(
      `model: ${uploads}:2:3 (UPLOADED_AT): expected a time YYYY-MM-DD or YYYY-MM-DD HH:MM:SS`,
    );
  });
});
