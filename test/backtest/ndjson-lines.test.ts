// The NDJSON reader of recordings and replays: lines numbered as in the file, blank ones skipped,
// a byte-order mark (an editor's or a spreadsheet's export) not taken for part of the first line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ndjsonLines } from '../../services/adapters/files/record-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'lg-ndjson-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ndjsonLines', () => {
  it('reads past a byte-order mark, numbers lines as in the file and skips blank ones', async () => {
    const file = join(dir, 'orders.ndjson');
    writeFileSync(file, '\ufeff{"a":1}\r\n\n{"b":2}\n');
    const lines = [];
    for await (const l of ndjsonLines([file])) lines.push({ line: l.line, value: JSON.parse(l.text) as unknown });
    expect(lines).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, value: { b: 2 } },
    ]);
  });

  it('names the file and the line reached when a file cannot be read (a damaged .gz)', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ n: i, pad: `${i}`.repeat(20) })).join('\n');
    const whole = gzipSync(`${lines}\n`);
    const truncated = join(dir, 'records-2026-01-02.ndjson.gz');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const notGzip = join(dir, 'records-2026-01-03.ndjson.gz');
    writeFileSync(notGzip, '{"a":1}\n');
    const failure = async (file: string) => {
      let read = 0;
      try {
        for await (const l of ndjsonLines([file])) read = l.line;
      } catch (error) {
        return { read, message: (error as Error).message };
      }
      return { read, message: 'no error' };
    };
    // Before: "unexpected end of file", "incorrect header check": no file named.
    const cut = await failure(truncated);
    expect(cut.read).toBeGreaterThan(0);
    expect(cut.message).toBe(
      `${truncated}:${cut.read + 1}: cannot be read (unexpected end of file): the file is damaged or not what its name says`,
    );
    expect(await failure(notGzip)).toEqual({
      read: 0,
      message: `${notGzip}:1: cannot be read (incorrect header check): the file is damaged or not what its name says`,
    });
  });
});
