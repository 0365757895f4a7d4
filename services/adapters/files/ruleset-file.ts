// The ruleset file: loaded at start-up, re-read when it changes or on SIGHUP. A file that does
// not validate is refused and the ruleset in force stays, so a typo never disarms scoring.
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { parseRuleset, RulesetError, rulesetVersion, type Ruleset } from '../../core/rules.ts';
import { WatchedFile, type ReloadResult } from './watched-file.ts';

export const DEFAULT_RULESET_PATH = new URL('../../rules/default.yaml', import.meta.url).pathname;

/** The line of the nearest node to `at` that the document has (a missing key: its parent's). */
function lineOf(document: Document, lines: LineCounter, at: readonly PropertyKey[]): number | undefined {
  for (let n = at.length; n >= 0; n--) {
    const node = n === 0 ? document.contents : document.getIn(at.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Reads and validates a ruleset file: a refusal names the file, and each problem its rule's code and line. */
export function readRulesetFile(path: string, knownFeatures: ReadonlySet<string>): Ruleset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ruleset ${path}: ${(error as Error).message}`, { cause: error });
  }
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines });
  const syntax = document.errors[0];
  if (syntax) {
    // The parser's message ends with the lines around the fault: the first line says it.
    const message = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new RulesetError([{ at: [], message: `not YAML: ${message}`, line: syntax.linePos?.[0]?.line }], {
      file: path,
    });
  }
  const doc: unknown = document.toJS();
  try {
    return parseRuleset(doc, knownFeatures, undefined, (at) => lineOf(document, lines, at));
  } catch (error) {
    if (!(error instanceof RulesetError)) throw error;
    throw new RulesetError(
      error.located.map((p) => ({ ...p, line: lineOf(document, lines, p.at) })),
      { doc, file: path },
    );
  }
}

export class RulesetFile extends WatchedFile<Ruleset> {
  constructor(path: string, knownFeatures: ReadonlySet<string>, onReload: (result: ReloadResult) => void = () => {}) {
    super(path, (p) => readRulesetFile(p, knownFeatures), rulesetVersion, onReload);
  }

  /** Rules changed and `version:` did not: only the digest tells the two apart in answers and records. */
  protected override changeWarning(previous: Ruleset, next: Ruleset): string | undefined {
    const said = [
      ...(previous.version === next.version && previous.digest !== next.digest
        ? [
            `ruleset content changed under the same version ${next.version} (digest ${previous.digest} -> ${next.digest}): change version: with every edit`,
          ]
        : []),
      ...(next.warnings ?? []),
    ];
    return said.length ? said.join('; ') : undefined;
  }

  get ruleset(): Ruleset {
    return this.current;
  }
}
