// The ruleset file: loaded at start-up, re-read when it changes or on SIGHUP. A file that does
// not validate is refused and the ruleset in force stays, so a typo never disarms scoring.
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { parseRuleset, RulesetError, rulesetVersion, type Ruleset, type RulesetProblem } from '../../core/rules.ts';
import { WatchedFile, type ReloadResult } from './watched-file.ts';

export const DEFAULT_RULESET_PATH = new URL('../../rules/default.yaml', import.meta.url).pathname;

/**
 * The line of the nearest node to `at` that the document has (a missing key: its parent's); a
 * merchant's override (`merchants.<id>`): the line of its id, which its block may begin below.
 */
function lineOf(document: Document, lines: LineCounter, at: readonly PropertyKey[]): number | undefined {
  if (at.length === 2 && at[0] === 'merchants') {
    const merchants = document.get('merchants', true);
    const key = isMap(merchants)
      ? merchants.items.find((p) => isScalar(p.key) && p.key.value === at[1])?.key
      : undefined;
    if (isNode(key) && key.range) return lines.linePos(key.range[0]).line;
  }
  for (let n = at.length; n >= 0; n--) {
    const node = n === 0 ? document.contents : document.getIn(at.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * The `merchants` keys YAML reads as other than a string: `0042:` is the number 42, `1e3:` 1000, an
 * id above 2^53 another number, `true:` and `~:` no id at all. Their overrides would be kept under a
 * name no merchant has, and never apply: refused, by the key as written. `names`: what they became.
 */
function merchantKeyProblems(
  document: Document,
  lines: LineCounter,
  text: string,
): { problems: RulesetProblem[]; strings: Set<string> } {
  const merchants = document.get('merchants', true);
  const problems: RulesetProblem[] = [];
  const strings = new Set<string>();
  if (!isMap(merchants)) return { problems, strings };
  for (const { key } of merchants.items) {
    const node = isAlias(key) ? key.resolve(document) : key;
    if (isScalar(node) && typeof node.value === 'string') {
      strings.add(node.value);
      continue;
    }
    const range = isNode(key) ? key.range : undefined;
    const written = range ? text.slice(range[0], range[1]) : String(key);
    const read = isScalar(node)
      ? `read as ${typeof node.value === 'number' ? `the number ${node.value}` : String(node.value)}: quote it (${JSON.stringify(written)})`
      : 'a merchant id is a string: write it as one';
    problems.push({
      at: ['merchants', written],
      message: read,
      line: range ? lines.linePos(range[0]).line : undefined,
    });
  }
  return { problems, strings };
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
  const keys = merchantKeyProblems(document, lines, text);
  const doc: unknown = document.toJS();
  let problems: RulesetProblem[] = [];
  try {
    const ruleset = parseRuleset(doc, knownFeatures, undefined, (at) => lineOf(document, lines, at));
    if (!keys.problems.length) return ruleset;
  } catch (error) {
    if (!(error instanceof RulesetError)) throw error;
    problems = error.located.map((p) => ({ ...p, line: lineOf(document, lines, p.at) }));
  }
  // An override under a key refused above is, in `doc`, under the name it became: its key says it.
  const renamed = (p: RulesetProblem) =>
    p.at[0] === 'merchants' && p.at.length > 1 && !keys.strings.has(String(p.at[1]));
  throw new RulesetError([...keys.problems, ...problems.filter((p) => !renamed(p))], { doc, file: path });
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
