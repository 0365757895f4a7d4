// fast-check arbitraries for the property tests of every parser: Luhn-valid card numbers, the ways
// people write them, strings and JSON documents that carry them, and a check that an output does
// not repeat one (independent of the scrubber: digits of any form read back with flatDigits).
import fc from 'fast-check';
import { DIGIT_ZEROS, flatDigits } from './digit-forms.ts';

/** The seed of every property test: a failure is reproduced by running the file again. */
export const SEED = 1313;

export function luhnComplete(partial: string): string {
  for (let d = 0; d <= 9; d++) {
    const candidate = `${partial}${d}`;
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let x = candidate.charCodeAt(candidate.length - 1 - i) - 48;
      if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
      sum += x;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable');
}

/** Card networks' prefixes: Visa (and the test apps' 411111 range), Mastercard, Amex, JCB, Discover, UnionPay. */
const PREFIXES = ['411111', '4', '51', '55', '2221', '34', '37', '3528', '6011', '62'];

/** A Luhn-valid card number of 12 to 19 digits. */
export const pan = (prefixes: readonly string[] = PREFIXES): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom(...prefixes),
      fc.integer({ min: 12, max: 19 }),
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 18, maxLength: 18 }),
    )
    .map(([prefix, length, digits]) => luhnComplete(`${prefix}${digits.join('')}`.slice(0, length - 1)));

const inDigits = (zero: number) => (p: string) => [...p].map((c) => String.fromCodePoint(zero + Number(c))).join('');
const grouped = (sep: string) => (p: string) => p.match(/.{1,4}/g)!.join(sep);

/** How a card number is written: plain, grouped by spaces, dashes, dots, quotes, bullets or invisible characters, in other digit forms. */
export const writtenPan = (pans: fc.Arbitrary<string> = pan()): fc.Arbitrary<{ pan: string; text: string }> =>
  fc
    .tuple(
      pans,
      fc.constantFrom<(p: string) => string>(
        (p) => p,
        grouped(' '),
        grouped('-'),
        grouped('.'),
        grouped('\u200b'),
        grouped('\u3000'),
        grouped(' - '),
        // Any character but a letter or digit: quotes, bullets, symbols.
        grouped("'"),
        grouped('\u2019'),
        grouped('\u2022'),
        grouped('"'),
        grouped('@'),
        ...DIGIT_ZEROS.filter((z) => z !== 0x30).map(inDigits),
      ),
    )
    .map(([p, write]) => ({ pan: p, text: write(p) }));

/** A string holding a card number somewhere: alone, or with text around it. */
export const stringWithPan = (pans?: fc.Arbitrary<string>): fc.Arbitrary<{ pan: string; text: string }> =>
  fc
    .tuple(
      writtenPan(pans),
      fc.string({ maxLength: 12 }),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('', ' ', ':', 'card ', 'ref-'),
    )
    .map(([w, before, after, glue]) => ({
      pan: w.pan,
      text: `${before.replace(/[\p{Nd}+]+$/u, '')}${glue}${w.text}${glue ? ' ' : ''}${after.replace(/^\p{Nd}+/u, '')}`,
    }));
// (No digit touches the card number: a longer run of digits is another number, not this card;
// nor a `+` before it: that is a phone number, which the scrubber leaves alone.)

/** Hostile strings of the kinds parsers meet: any code points, digits, separators, quotes, JSON and CSV syntax. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({
    unit: fc.constantFrom(
      '0',
      '1',
      '4',
      '9',
      ',',
      ' ',
      '\t',
      '-',
      '.',
      '"',
      "'",
      '{',
      '}',
      '[',
      ']',
      ':',
      '\\',
      '\u0000',
      '\u00a0',
      '\uff11',
      'e',
      'x',
      '\r',
      '<',
      '&',
    ),
    maxLength: 80,
  }),
  fc.json({ maxDepth: 2 }),
);

/**
 * Writes card numbers into a JSON value: each string, at random, is replaced by or extended with
 * one; each number may become one. Returns the new value and the card numbers it now holds.
 */
export function withPans(value: unknown): fc.Arbitrary<{ value: unknown; pans: string[] }> {
  if (typeof value === 'string') {
    return fc.oneof(
      fc.constant({ value, pans: [] as string[] }),
      writtenPan().map((w) => ({ value: w.text, pans: [w.pan] })),
      writtenPan().map((w) => ({ value: `${value} ${w.text}`, pans: [w.pan] })),
    );
  }
  if (typeof value === 'number')
    return fc.oneof(
      { weight: 4, arbitrary: fc.constant({ value, pans: [] as string[] }) },
      pan().map((p) => ({ value: p, pans: [p] })),
    );
  if (Array.isArray(value)) {
    return fc
      .tuple(...value.map((v) => withPans(v)))
      .map((items) => ({ value: items.map((i) => i.value), pans: items.flatMap((i) => i.pans) }));
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    return fc.tuple(...entries.map(([, v]) => withPans(v))).map((items) => ({
      value: Object.fromEntries(items.map((item, i) => [entries[i]![0], item.value])),
      pans: items.flatMap((i) => i.pans),
    }));
  }
  return fc.constant({ value, pans: [] as string[] });
}

/** The paths of a JSON value's strings and numbers. */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [];
}

/**
 * Writes one card number into one string (or number) of a JSON value, the rest left valid: the
 * request then reaches whatever reads that field. Over many runs, every field gets its card.
 */
export function withOnePan(value: unknown): fc.Arbitrary<{ value: unknown; pans: string[] }> {
  const paths = leaves(value);
  if (paths.length === 0) return fc.constant({ value, pans: [] as string[] });
  return fc.tuple(fc.nat({ max: paths.length - 1 }), writtenPan(), fc.boolean()).map(([i, w, append]) => {
    const copy = structuredClone(value) as Record<string | number, unknown>;
    const path = paths[i]!;
    let parent: Record<string | number, unknown> = copy;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    if (last === undefined) return { value: w.text, pans: [w.pan] };
    const old = parent[last];
    parent[last] = append && typeof old === 'string' ? `${old} ${w.text}` : typeof old === 'number' ? w.pan : w.text;
    return { value: copy, pans: [w.pan] };
  });
}

/** The card numbers among `pans` that `output` repeats, in any digit form and however separated. */
export function echoedPans(output: string, pans: readonly string[]): string[] {
  const flat = flatDigits(output);
  return pans.filter((p) => flat.includes(p));
}

/**
 * Card numbers written in a text, found as the scrubber finds them but by other code: runs of
 * digit groups (any digit form) joined by one to three characters that are neither letters nor
 * digits; every stretch of whole consecutive groups of 12 to 19 digits that passes Luhn and
 * starts as a card network's numbers do (2 to 6, which leaves out epoch times and runs of zeros).
 */
export function pansIn(text: string): string[] {
  const found = new Set<string>();
  const runs = text.split(/[\p{L}\p{M}]|[^\p{L}\p{M}\p{Nd}]{4,}/u);
  for (const run of runs) {
    const groups = (run.match(/\p{Nd}+/gu) ?? []).map((g) => flatDigits(g));
    for (let i = 0; i < groups.length; i++) {
      let candidate = '';
      for (let j = i; j < groups.length && candidate.length <= 19; j++) {
        candidate += groups[j];
        if (
          candidate.length >= 12 &&
          candidate.length <= 19 &&
          '23456'.includes(candidate[0]!) &&
          luhnComplete(candidate.slice(0, -1)) === candidate
        )
          found.add(candidate);
      }
    }
  }
  return [...found];
}
