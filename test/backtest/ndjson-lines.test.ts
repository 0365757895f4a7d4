// The NDJSON reader of recordings and replays: lines numbered as in the file, blank ones skipped,
// a byte-order mark (an editor's or a spreadsheet's export) not taken for part of the first line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
});
