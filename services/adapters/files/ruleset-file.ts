// The ruleset file: loaded at start-up, re-read when it changes or on SIGHUP. A file that does
// not validate is refused and the ruleset in force stays, so a typo never disarms scoring.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { parse } from 'yaml';
import { parseRuleset, type Ruleset } from '../../core/rules.ts';

export const DEFAULT_RULESET_PATH = new URL('../../rules/default.yaml', import.meta.url).pathname;

export function readRulesetFile(path: string, knownFeatures: ReadonlySet<string>): Ruleset {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ruleset ${path}: ${(error as Error).message}`);
  }
  return parseRuleset(doc, knownFeatures);
}

export type ReloadResult = { ok: true; version: string } | { ok: false; error: string };

export class RulesetFile {
  private current: Ruleset;
  private readonly path: string;
  private readonly knownFeatures: ReadonlySet<string>;
  private readonly onReload: (result: ReloadResult) => void;

  constructor(path: string, knownFeatures: ReadonlySet<string>, onReload: (result: ReloadResult) => void = () => {}) {
    this.path = path;
    this.knownFeatures = knownFeatures;
    this.onReload = onReload;
    this.current = readRulesetFile(path, knownFeatures);
  }

  get ruleset(): Ruleset {
    return this.current;
  }

  reload(): ReloadResult {
    let result: ReloadResult;
    try {
      this.current = readRulesetFile(this.path, this.knownFeatures);
      result = { ok: true, version: this.current.version };
    } catch (error) {
      result = { ok: false, error: (error as Error).message };
    }
    this.onReload(result);
    return result;
  }

  watch(intervalMs = 1000): () => void {
    const listener = () => this.reload();
    watchFile(this.path, { interval: intervalMs }, listener);
    return () => unwatchFile(this.path, listener);
  }
}
