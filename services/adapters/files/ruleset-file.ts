// The ruleset file: loaded at start-up, re-read when it changes or on SIGHUP. A file that does
// not validate is refused and the ruleset in force stays, so a typo never disarms scoring.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseRuleset, rulesetVersion, type Ruleset } from '../../core/rules.ts';
import { WatchedFile, type ReloadResult } from './watched-file.ts';

export const DEFAULT_RULESET_PATH = new URL('../../rules/default.yaml', import.meta.url).pathname;

export function readRulesetFile(path: string, knownFeatures: ReadonlySet<string>): Ruleset {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ruleset ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseRuleset(doc, knownFeatures);
}

export class RulesetFile extends WatchedFile<Ruleset> {
  constructor(path: string, knownFeatures: ReadonlySet<string>, onReload: (result: ReloadResult) => void = () => {}) {
    super(path, (p) => readRulesetFile(p, knownFeatures), rulesetVersion, onReload);
  }

  /** Rules changed and `version:` did not: only the digest tells the two apart in answers and records. */
  protected override changeWarning(previous: Ruleset, next: Ruleset): string | undefined {
    return previous.version === next.version && previous.digest !== next.digest
      ? `ruleset content changed under the same version ${next.version} (digest ${previous.digest} -> ${next.digest}): change version: with every edit`
      : undefined;
  }

  get ruleset(): Ruleset {
    return this.current;
  }
}
