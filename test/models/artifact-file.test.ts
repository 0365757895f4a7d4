// Reading a model artifact file: once, from one open file (what is checked is what is served), and
// never a file above the size cap.
import * as fs from 'node:fs';
import { linkSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadScoringModel } from '../../services/adapters/files/model-file.ts';
import { MAX_ARTIFACT_BYTES, saveArtifact } from '../../services/model/artifact.ts';
import { installJson, stumpModel } from '../support/stump-model.ts';

// Every read of the artifact goes through here: a test can replace the file right after one.
let afterRead: (() => void) | undefined;
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return {
    ...real,
    readFileSync: (...args: Parameters<typeof real.readFileSync>) => {
      const out = real.readFileSync(...args);
      const hook = afterRead;
      afterRead = undefined;
      hook?.();
      return out;
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'lg-artifact-file-'));

describe('loading a model artifact file', () => {
  it('reads it once: a file replaced while it loads never mixes one version with the other forest', () => {
    const path = join(dir, 'active.json');
    installJson(path, stumpModel('a-1'));
    // B: same feature set, its own version, and a forest that scores everything 0.99.
    const b = stumpModel('b-2');
    const value = Buffer.from(new Float64Array(6).fill(0.99).buffer).toString('base64');
    afterRead = () => installJson(path, { ...b, forest: { ...b.forest, value } });
    const model = loadScoringModel(path, { amountReference: 'EUR' });
    expect(model.version).toBe('a-1');
    // A's forest: an ordinary purchase stays low.
    expect(model.evaluate({ amount_ref: 20 }, Date.parse('2026-06-01T12:00:00Z')).probability).toBeCloseTo(0.05, 9);
  });

  it(`refuses a file above ${MAX_ARTIFACT_BYTES / 1024 / 1024} MiB before reading it, and says what to do`, () => {
    const path = join(dir, 'huge.json');
    writeFileSync(path, '');
    truncateSync(path, MAX_ARTIFACT_BYTES + 1);
    expect(() => loadScoringModel(path)).toThrow(
      `model artifact ${path} is 67,108,865 bytes, more than the 64 MiB the engine loads: train fewer trees (--trees) or smaller ones (--max-depth, --min-node)`,
    );
  });

  it('says where a file is not JSON, without quoting it', () => {
    const path = join(dir, 'torn.json');
    writeFileSync(path, '{"formatVersion": 1, "modelVersion": "4111111111111111 oops');
    let message = '';
    try {
      loadScoringModel(path);
    } catch (error) {
      message = (error as Error).message;
    }
    // where it stops being JSON (line:column): here the file ends inside a string
    expect(message).toMatch(/^cannot read model artifact .*torn\.json:1:60: not valid JSON \(expected JSON there\)/);
    writeFileSync(path, '{\n "formatVersion": 1,\n "modelVersion" "x"\n}');
    try {
      loadScoringModel(path);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/torn\.json:3:17: not valid JSON \(expected JSON there\)/);
    expect(message).toContain('write the file whole, aside, then rename it into place');
    expect(message).not.toContain('4111');
  });
});

describe('writing a model artifact', () => {
  it('writes aside and renames: a reader of the previous file keeps it whole, no temporary file is left', () => {
    const folder = mkdtempSync(join(dir, 'save-'));
    const path = join(folder, 'model.json');
    saveArtifact(path, stumpModel('first'));
    // A hard link stands for a reader that opened the previous file: an in-place write would change it.
    linkSync(path, join(folder, 'held'));
    saveArtifact(path, stumpModel('second'));
    expect(JSON.parse(readFileSync(join(folder, 'held'), 'utf8')).modelVersion).toBe('first');
    expect(JSON.parse(readFileSync(path, 'utf8')).modelVersion).toBe('second');
    expect(readdirSync(folder).sort()).toEqual(['held', 'model.json']);
  });

  it('refuses an artifact the engine would not load, and leaves the previous one', () => {
    const folder = mkdtempSync(join(dir, 'save-big-'));
    const path = join(folder, 'model.json');
    saveArtifact(path, stumpModel('kept'));
    const big = stumpModel('big');
    const huge = { ...big, metrics: { padding: 'x'.repeat(MAX_ARTIFACT_BYTES) } };
    expect(() => saveArtifact(path, huge)).toThrow(
      /^model artifact .*model\.json not written: it would be 67,1\d\d,\d{3} bytes \(2 trees\), more than the 64 MiB the engine loads: train fewer trees/,
    );
    expect(JSON.parse(readFileSync(path, 'utf8')).modelVersion).toBe('kept');
    expect(readdirSync(folder)).toEqual(['model.json']);
  });
});

describe('the model version', () => {
  it('is refused at load unless 1 to 64 plain characters, in a message that does not repeat it', () => {
    const cases: [string, RegExp][] = [
      [
        'v1\n{"level":"error","msg":"forged"}',
        /modelVersion: must be 1 to 64 characters among A-Z a-z 0-9 \. _ : - \(this one has 35 characters, the first other one at position 3\)/,
      ],
      ['x'.repeat(65), /modelVersion: must be 1 to 64 characters .*\(this one has 65 characters\)/],
      ['', /modelVersion: must be 1 to 64 characters .*\(this one has 0 characters\)/],
      ['rf-4111111111111111', /modelVersion: looks like it holds a card number: name the model otherwise/],
    ];
    for (const [version, message] of cases) {
      const path = join(dir, 'version.json');
      installJson(path, stumpModel(version));
      let error = '';
      try {
        loadScoringModel(path);
      } catch (e) {
        error = (e as Error).message;
      }
      expect(error).toMatch(/^invalid model artifact: /);
      expect(error).toMatch(message);
      if (version) expect(error).not.toContain(version.slice(0, 12));
    }
    const path = join(dir, 'fine.json');
    installJson(path, stumpModel('rf-engine-2026-12-01.a1:b_2'));
    expect(loadScoringModel(path).version).toBe('rf-engine-2026-12-01.a1:b_2');
  });
});
