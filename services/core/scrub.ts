// The one card-number scrubber. Every string Leakguard stores or shows passes through it: cases,
// the flagged-decision journal and queues, audit entries, hit records, exports, log lines, Kafka
// outputs, console pages. Pure: no I/O.
//
// What counts as a card number: a run of digit groups, 12 to 19 digits in all, that passes the
// Luhn check. Digits are any Unicode decimal digit (\p{Nd}: ASCII, full-width ０-９ from Japanese
// storefronts, Arabic-Indic, ...) and any other digit that NFKC makes one (superscript ¹²³,
// subscript, circled ①, dingbat ➀); groups may be joined by 1 to 3 separators (spaces of any width,
// dashes of any kind, the long-vowel marks ー ｰ Japanese input methods type for dashes, minus
// signs, tildes, dots, slashes, underscores, parentheses, middle dots, invisible format and control
// characters, combining marks such as a keycap's, percent-encoded spaces and dashes: "%20"; the
// digits themselves may be percent-encoded, "%34%31..."), or up
// to 8 when at most 3 of them are not spaces ("4111  --  1111"), or up to 32 spaces alone.
// Commas, colons, semicolons, bars, + * # ~ = & (a sum, a form-encoded space) and every other
// character that is neither a letter nor a digit (quotes ' ’ " `, bullets • ‧, brackets, @ $ ! ? ...)
// join groups too, but only the card-like ones ("4111,1111,1111,1111", "4111'1111'1111'1111",
// "3782:822463:10005": groups of 4, or 4-6-5 and 4-6-4, each joined the same way unless the digits
// begin as a card network's), since they also separate the items of a list. Any
// stretch of consecutive groups is tried, so a card beside a year or an expiry is still found;
// only digits end a run, so letters may touch it ("ref4111..."). It is replaced by its first 6 and
// last 4 digits (ASCII) around asterisks, as PCI DSS 3.4.1 allows and as the console shows cards.
//
// Split across lines: line breaks (CR, LF, CRLF, VT, FF, NEL U+0085, U+2028, U+2029) are spaces,
// and in a gap that holds other separators too, up to 2 of them with the spaces around them and the
// quote marks "> " that begin a quoted line count for nothing ("4111 1111 -\r\n      1111 1111",
// "4111 1111\n> 1111 1111"); a gap of more than 32 characters never joins. In both modes: an
// identifier holding a line break is rare, and what it joins is joined in text anyway.
//
// Left alone: a contiguous run of more than 19 digits (not a card number; dead letters mask one
// that holds a Luhn-valid stretch: maskLongRunsHoldingCards), runs that fail Luhn,
// a phone number written with a leading + (15 digits at most, E.164; but not one whose digits
// begin as a 14- or 15-digit card of Diners Club or American Express does, nor 13 digits beginning
// with 4 that pass Luhn: a 13-digit Visa card), runs made only of dates
// (2026-11-23, 23/11/2026, 20261123, 23.11.26) and times (10:30), and epoch times in ms, µs or ns
// (a group of 13, 16 or 19 digits beginning with 1: no card number is). Masking a non-card is the
// safe mistake: any other 12-19 digit run that happens to pass Luhn (1 in 10) is masked too.

const MIN_DIGITS = 12;
const MAX_DIGITS = 19;
/** Separators between two groups; a wider gap of spaces around at most 3 others ("4111  --  1111") in text. */
const MAX_GAP = 3;
const MAX_WIDE_GAP = 8;

/** `text`: separators people put in card numbers. `identifier`: any character but a letter or digit. */
export type ScrubMode = 'text' | 'identifier';

// --- Characters ---------------------------------------------------------------------------

const ND = /\p{Nd}/u;
const NO = /\p{No}/u;
const digitCache = new Map<number, number>();
/** Superscript two, three and one: the only digits of any kind below U+0660 but ASCII. */
const isLatin1Superscript = (cp: number) => cp === 0xb2 || cp === 0xb3 || cp === 0xb9;
/**
 * A number sign that stands for one digit: NFKC makes it one, alone or in parentheses or before a
 * dot or comma (¹ ₁ ① ⑴ ⒈ 🄂), or a dingbat circled digit ❶ ➀ ➊ (1 to 9; NFKC leaves them).
 */
function otherDigitValue(cp: number, ch: string): number {
  if (cp >= 0x2776 && cp <= 0x2793) return (cp - 0x2776) % 10 === 9 ? -1 : ((cp - 0x2776) % 10) + 1;
  const k = ch.normalize('NFKC');
  const m = /^[(]?([0-9])[).,]?$/.exec(k);
  return m ? Number(m[1]) : -1;
}
/** The value of a decimal digit in any script, or of a digit NFKC makes one (superscript ¹, circled ①), or -1. */
function digitValue(cp: number): number {
  if (cp >= 48 && cp <= 57) return cp - 48;
  if (cp < 0x660 && !isLatin1Superscript(cp)) return -1;
  let v = digitCache.get(cp);
  if (v === undefined) {
    const ch = String.fromCodePoint(cp);
    if (!ND.test(ch)) v = NO.test(ch) ? otherDigitValue(cp, ch) : -1;
    else {
      // Unicode assigns decimal digits only in contiguous, ascending 0-9 blocks.
      let start = cp;
      while (ND.test(String.fromCodePoint(start - 1))) start--;
      v = (cp - start) % 10;
    }
    digitCache.set(cp, v);
  }
  return v;
}

// Dashes as Japanese input methods type them (the long-vowel mark ー and its half-width ｰ, which
// are letters to Unicode), the minus sign, full-width tilde and box-drawing line, and parentheses
// ("(4111) 1111 ...").
const TEXT_SEPARATOR =
  /[\s\p{Pd}\p{Cf}\p{Cc}\p{M}._/()\uff0e\uff0f\uff3f\u30fb\uff65\u00b7\u30fc\uff70\u2212\uff5e\u2500\u2043]/u;
/**
 * Separators of lists (and sums, and form-encoded spaces: "4111+1111+...") as much as of card
 * groups: they join only card-like groups (header). So does every other character that is neither
 * a letter nor a digit (quotes ' ’ " `, bullets • ‧, brackets, @ $ ! ? ^ \ ...): a customer may
 * type any of them between the groups of a card.
 */
const LIST_SEPARATOR = /[,:;|+*#~=&\uff0c\uff1a\uff1b\uff5c\u3001\uff0b\uff0a\uff03]/u;
const LETTER_OR_DIGIT = /[\p{L}\p{Nd}]/u;
/** Letters to Unicode that are dashes between digits: the long-vowel marks (above). */
const DASH_LETTER = /[\u30fc\uff70]/u;
/** A gap of spaces alone joins groups up to this wide ("4111         1111 ..."), in either mode. */
const MAX_SPACE_GAP = 32;
/** What a character is between two groups. */
const Sep = { None: 0, Plain: 1, List: 2 } as const;
type Sep = (typeof Sep)[keyof typeof Sep];
const separatorCache = { text: new Map<number, Sep>(), identifier: new Map<number, Sep>() };
function separatorKind(cp: number, mode: ScrubMode): Sep {
  const cache = separatorCache[mode];
  let s = cache.get(cp);
  if (s === undefined) {
    const ch = String.fromCodePoint(cp);
    if (mode === 'identifier') s = LETTER_OR_DIGIT.test(ch) && !DASH_LETTER.test(ch) ? Sep.None : Sep.Plain;
    else if (TEXT_SEPARATOR.test(ch)) s = Sep.Plain;
    // Any other character but a letter or digit (quotes, bullets, brackets, @, $, ! ...): a card-like join.
    else s = LIST_SEPARATOR.test(ch) || !LETTER_OR_DIGIT.test(ch) ? Sep.List : Sep.None;
    if (cache.size < 4096) cache.set(cp, s);
  }
  return s;
}

// --- Groups and runs ----------------------------------------------------------------------

interface Group {
  /** UTF-16 offsets in the text. */
  start: number;
  end: number;
  /** The digits as ASCII. */
  digits: string;
  /** The text between this group and the next one ('' for the last). */
  gap: string;
}

/** Fewer than 12 digits of any script: nothing to look for (the common case, checked cheaply). */
function tooFewDigits(text: string): boolean {
  let ascii = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) ascii++;
    else if (c >= 0x660 || isLatin1Superscript(c)) return false;
  }
  return ascii < MIN_DIGITS;
}

function groupsOf(text: string): Group[] {
  const groups: Group[] = [];
  let current: Group | undefined;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const v = digitValue(cp);
    if (v >= 0) {
      if (!current) {
        const previous = groups[groups.length - 1];
        if (previous) previous.gap = text.slice(previous.end, i);
        current = { start: i, end: i, digits: '', gap: '' };
        groups.push(current);
      }
      current.digits += String(v);
      current.end = i + width;
    } else current = undefined;
    i += width;
  }
  return groups;
}

/** Whether a gap joins two groups, and how: Sep.List when a list separator is in it. */
function joinable(gap: string, mode: ScrubMode): Sep {
  if (gap.length > 0 && gap.length <= MAX_SPACE_GAP && /^[\s\u0085]+$/.test(gap)) return Sep.Plain;
  let n = 0;
  let notSpace = 0;
  let kind: Sep = Sep.Plain;
  for (const ch of gap) {
    const cp = ch.codePointAt(0)!;
    if (isLineBreak(cp)) return joinableAcrossLines(gap, mode);
    const k = separatorKind(cp, mode);
    if (k === Sep.None || ++n > MAX_WIDE_GAP) return Sep.None;
    if (k === Sep.List) kind = Sep.List;
    if (!/\s/.test(ch)) notSpace++;
  }
  if (n === 0) return Sep.None;
  if (n > MAX_GAP && (mode === 'identifier' || kind === Sep.List || notSpace > MAX_GAP)) return Sep.None;
  return kind;
}

/** Line breaks in a gap that is not spaces alone, at most: a card wrapped onto a second and a third line. */
const MAX_LINE_BREAKS = 2;
const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/g;
/** A line break, the spaces around it and the quote marks that begin a quoted line ("\n> > "). */
const LINE_BREAK_BLOCK = /[\s\u0085]*(?:\r\n|[\n\r\v\f\u0085\u2028\u2029])[\s\u0085>]*/g;
const isLineBreak = (cp: number) => (cp >= 10 && cp <= 13) || cp === 0x85 || cp === 0x2028 || cp === 0x2029;

/**
 * A gap holding a line break: the line breaks (2 at most) with the spaces and quote marks around
 * them count for nothing, the rest joins as a gap does ("4111 1111 -\r\n      1111 1111",
 * "4111 1111\n> 1111 1111", as an email quotes it). The NEL and the line and paragraph separators
 * (U+0085, U+2028, U+2029) are line breaks too; a gap of more than 32 characters never joins.
 */
function joinableAcrossLines(gap: string, mode: ScrubMode): Sep {
  if (gap.length > MAX_SPACE_GAP || (gap.match(LINE_BREAK)?.length ?? 0) > MAX_LINE_BREAKS) return Sep.None;
  const rest = gap.replace(LINE_BREAK_BLOCK, '');
  return rest === '' ? Sep.Plain : joinable(rest, mode);
}

/**
 * Groups joined by a list separator count as a card only as cards are written: the groups 4 digits
 * each (the last 1 to 4), or 4-6-5 or 4-6-4, and every gap of the span the same unless the digits
 * begin as a card network's do (below: "4111-1111'1111-1111").
 */
function cardLikeList(groups: Group[], from: number, to: number): boolean {
  if (!networkPrefix(groups[from]!.digits))
    for (let i = from; i < to; i++) if (groups[i]!.gap !== groups[from]!.gap) return false;
  const lengths = groups.slice(from, to + 1).map((g) => g.digits.length);
  const shape = lengths.join('-');
  if (shape === '4-6-5' || shape === '4-6-4') return true;
  return lengths.every((n, i) => (i < lengths.length - 1 ? n === 4 : n >= 1 && n <= 4));
}

/**
 * Whether digits begin as a card network's numbers do: Visa 4, Mastercard 51-55 and 2221-2720,
 * American Express 34 and 37, Diners Club 30, 36, 38 and 39, JCB 35, Discover and UnionPay 6.
 * (Years, 19xx and 20xx, do not.)
 */
function networkPrefix(digits: string): boolean {
  const a = digits.charCodeAt(0) - 48;
  if (a === 4 || a === 6) return true;
  const b = digits.charCodeAt(1) - 48;
  if (a === 5) return b >= 1 && b <= 5;
  if (a === 3) return b === 0 || b === 4 || b === 5 || b === 6 || b === 7 || b === 8 || b === 9;
  if (a === 2) {
    const four = Number(digits.slice(0, 4));
    return digits.length >= 4 && four >= 2221 && four <= 2720;
  }
  return false;
}

// --- What is not a card: dates, times, phone numbers ---------------------------------------

const DATE_SEPARATORS = new Set(['-', '/', '.', '\uff0d', '\uff0f', '\uff0e']);
const TIME_SEPARATORS = new Set([':', '\uff1a']);
const within = (v: number, lo: number, hi: number) => v >= lo && v <= hi;
const isMonth = (s: string) => s.length <= 2 && within(Number(s), 1, 12);
const isDay = (s: string) => s.length <= 2 && within(Number(s), 1, 31);
const isYear4 = (s: string) => s.length === 4 && within(Number(s), 1900, 2099);

function isDateTriple(a: string, b: string, c: string): boolean {
  if (a.length === 4) return isYear4(a) && isMonth(b) && isDay(c);
  if (c.length === 4) return isYear4(c) && ((isDay(a) && isMonth(b)) || (isMonth(a) && isDay(b)));
  if (a.length === 2 && b.length === 2 && c.length === 2)
    return (isMonth(b) && isDay(c)) || (isDay(a) && isMonth(b)) || (isMonth(a) && isDay(b));
  return false;
}

/**
 * An epoch time in milliseconds, microseconds or nanoseconds (2001-2033: 13, 16 or 19 digits
 * beginning with 1), common in identifiers ("order-1718000000000"). No card network issues card
 * numbers of those lengths beginning with 1, so such a group is never read as (part of) one.
 */
const isEpochTime = (s: string) => (s.length === 13 || s.length === 16 || s.length === 19) && s.charCodeAt(0) === 49;

const isCompactDate = (s: string) =>
  s.length === 8 && isYear4(s.slice(0, 4)) && isMonth(s.slice(4, 6)) && isDay(s.slice(6));

/** An hour followed by ":MM", or minutes/seconds after "HH:". */
function isTimePart(groups: Group[], i: number): boolean {
  const g = groups[i]!;
  const next = groups[i + 1];
  if (
    next &&
    TIME_SEPARATORS.has(g.gap) &&
    g.digits.length <= 2 &&
    Number(g.digits) <= 23 &&
    next.digits.length === 2 &&
    Number(next.digits) <= 59
  )
    return true;
  const previous = groups[i - 1];
  return (
    !!previous &&
    TIME_SEPARATORS.has(previous.gap) &&
    previous.digits.length <= 2 &&
    g.digits.length === 2 &&
    Number(g.digits) <= 59
  );
}

/** Every group of the run (groups[from..to]) belongs to a date or a time. */
function onlyDatesAndTimes(groups: Group[], from: number, to: number): boolean {
  for (let i = from; i <= to;) {
    const g = groups[i]!;
    if (isTimePart(groups, i) || isCompactDate(g.digits)) {
      i++;
      continue;
    }
    const b = groups[i + 1];
    const c = groups[i + 2];
    if (
      i + 2 <= to &&
      b &&
      c &&
      g.gap.length === 1 &&
      g.gap === b.gap &&
      DATE_SEPARATORS.has(g.gap) &&
      isDateTriple(g.digits, b.digits, c.digits)
    ) {
      i += 3;
      continue;
    }
    return false;
  }
  return true;
}

/**
 * Luhn checks of any stretch of a run's digits in constant time. The rightmost digit of a stretch
 * is never doubled, so a stretch ending at an even position takes even positions as they are and
 * odd ones doubled, and one ending at an odd position the reverse: two prefix sums, one per case.
 */
class LuhnSums {
  /** Prefix sums: `endsEven[i]` over positions < i, even ones plain and odd ones doubled; `endsOdd` the reverse. */
  private readonly endsEven: number[];
  private readonly endsOdd: number[];
  constructor(digits: readonly number[]) {
    const n = digits.length;
    const endsEven = new Array<number>(n + 1);
    const endsOdd = new Array<number>(n + 1);
    endsEven[0] = 0;
    endsOdd[0] = 0;
    for (let i = 0; i < n; i++) {
      const d = digits[i]!;
      const dd = d < 5 ? d * 2 : d * 2 - 9;
      const even = i % 2 === 0;
      endsEven[i + 1] = endsEven[i]! + (even ? d : dd);
      endsOdd[i + 1] = endsOdd[i]! + (even ? dd : d);
    }
    this.endsEven = endsEven;
    this.endsOdd = endsOdd;
  }

  /** Whether digits[from..to] (inclusive) pass the Luhn check. */
  valid(from: number, to: number): boolean {
    const sums = to % 2 === 0 ? this.endsEven : this.endsOdd;
    return (sums[to + 1]! - sums[from]!) % 10 === 0;
  }
}

// --- Finding and masking ---------------------------------------------------------------------

/**
 * Digits after a "+" that read as an American Express (15 digits, 34 or 37) or Diners Club card
 * (14 digits, 30, 36, 38 or 39): masked all the same when they pass Luhn. A real phone number of
 * that shape is rare; the card is not. So are 13 digits beginning with 4 that pass Luhn whole (a
 * 13-digit Visa card; a phone number of that shape, 1 in 10 of some +4x countries' longest, is
 * masked: the safe mistake).
 */
function cardLikePhone(digits: readonly number[], luhn: LuhnSums): boolean {
  const [a, b] = [digits[0], digits[1]];
  if (digits.length === 13) return a === 4 && luhn.valid(0, 12);
  if (digits.length === 15) return a === 3 && (b === 4 || b === 7);
  if (digits.length === 14) return a === 3 && (b === 0 || b === 6 || b === 8 || b === 9);
  return false;
}

/** Card numbers found, as [first group, last group] spans, overlapping ones merged. */
function cardSpans(text: string, groups: Group[], mode: ScrubMode): [number, number][] {
  const spans: [number, number][] = [];
  for (let from = 0; from < groups.length;) {
    let to = from;
    const listGaps: number[] = [];
    for (let kind: Sep; to + 1 < groups.length && (kind = joinable(groups[to]!.gap, mode)) !== Sep.None; to++)
      if (kind === Sep.List) listGaps.push(to);
    const [first, last] = [from, to];
    from = to + 1;
    // Where each group starts in the run's digits (and where the run ends).
    const offsets: number[] = [];
    const digits: number[] = [];
    for (let i = first; i <= last; i++) {
      offsets.push(digits.length);
      const g = groups[i]!.digits;
      for (let k = 0; k < g.length; k++) digits.push(g.charCodeAt(k) - 48);
    }
    offsets.push(digits.length);
    if (digits.length < MIN_DIGITS) continue;
    const luhn = new LuhnSums(digits);
    const before = groups[first]!.start > 0 ? text[groups[first]!.start - 1] : '';
    if ((before === '+' || before === '\uff0b') && digits.length <= 15 && !cardLikePhone(digits, luhn)) continue;
    if (onlyDatesAndTimes(groups, first, last)) continue;
    const count = last - first + 1;
    for (let s = 0; s < count; s++) {
      if (isEpochTime(groups[first + s]!.digits)) continue;
      for (let e = s; e < count; e++) {
        if (isEpochTime(groups[first + e]!.digits)) break;
        const length = offsets[e + 1]! - offsets[s]!;
        if (length > MAX_DIGITS) break;
        if (length < MIN_DIGITS || !luhn.valid(offsets[s]!, offsets[e + 1]! - 1)) continue;
        const listJoined = listGaps.some((g) => g >= first + s && g < first + e);
        if (listJoined && !cardLikeList(groups, first + s, first + e)) continue;
        const previous = spans[spans.length - 1];
        if (previous && first + s <= previous[1]) previous[1] = Math.max(previous[1], first + e);
        else spans.push([first + s, first + e]);
      }
    }
  }
  return spans;
}

/** At most the first 6 and the last 4 digits, as ASCII. */
export function maskDigits(digits: string): string {
  if (digits.length <= 10) return '*'.repeat(digits.length);
  return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
}

/**
 * Percent-encoded separators ("4111%201111%20..."), as a value forwarded without decoding arrives:
 * read as three spaces, so that the text keeps its length and a span found maps onto it. Digits
 * may be encoded too (below).
 */
const PERCENT_SEPARATOR = /%(?:2[0bBdDeEfF]|09|0[aAdD])/g;
/** Percent-encoded digits ("%34%31%31%31..."): read as two spaces and the digit, the escape's width. */
const PERCENT_DIGIT = /%3([0-9])/g;
const probeOf = (text: string) =>
  text.includes('%') ? text.replace(PERCENT_SEPARATOR, '   ').replace(PERCENT_DIGIT, '  $1') : text;

/**
 * The text with every card number masked (see the header for what counts as one). A text with a
 * "%" is read twice: as it is ("4111%2026%..." joined by "%"), then decoded ("4111%201111...").
 */
export function scrubCardNumbers(text: string, mode: ScrubMode = 'text'): string {
  if (!text.includes('%')) return scrubProbed(text, text, mode);
  const plain = scrubProbed(text, text, mode);
  return scrubProbed(plain, probeOf(plain), mode);
}

/**
 * JSON text that may not parse (a dead letter's payload): its escapes read as what they stand for,
 * padded to their length ("\u0034" as "4" and five spaces, "\t" as a tab and a space), so that a
 * card number written with escapes ("\u0034\u0031...", "4111\t1111...") is found and masked in it.
 */
export function scrubJsonText(text: string): string {
  // Read as it is first (a backslash may be what joins the groups: "4111\\1111\\..."), then its escapes.
  const plain = scrubCardNumbers(text);
  if (!plain.includes('\\')) return plain;
  const probe = probeOf(plain).replace(
    /\\(?:u([0-9a-fA-F]{4})|(.))/gsu,
    (escape: string, hex?: string, ch?: string) => {
      const c = hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : (JSON_ESCAPES[ch!] ?? ch!);
      // A surrogate half or an astral character cannot keep the width: a letter's place, breaking a run.
      return (c.length === 1 && !/[\ud800-\udfff]/.test(c) ? c : 'x').padEnd(escape.length, ' ');
    },
  );
  return scrubProbed(plain, probe, 'text');
}
const JSON_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f' };

/** Masks in `text` the card numbers found in `probe`, a copy of the same length read for them. */
function scrubProbed(text: string, probe: string, mode: ScrubMode): string {
  if (tooFewDigits(probe)) return text;
  const groups = groupsOf(probe);
  const spans = cardSpans(probe, groups, mode);
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const [s, e] of spans) {
    let digits = '';
    for (let i = s; i <= e; i++) digits += groups[i]!.digits;
    let start = groups[s]!.start;
    // A first digit read from a percent escape ("%34"): the mask covers the whole escape.
    if (start >= 2 && text.charCodeAt(start - 2) === 37 && probe.charCodeAt(start - 2) === 32) start -= 2;
    out += text.slice(at, start) + maskDigits(digits);
    at = groups[e]!.end;
    // A last digit read from an escape ("\u0031", "\1"): the mask covers the whole escape.
    if (text.charCodeAt(at - 1) === 92 && probe.charCodeAt(at - 1) !== 92) at += text[at] === 'u' ? 5 : 1;
  }
  return out + text.slice(at);
}

/**
 * Runs of more than 19 digits, which scrubCardNumbers leaves alone, masked (first 6 and last 4
 * digits kept) when any 12 to 19 consecutive digits of them pass Luhn: a card number run together
 * with what follows or precedes it ("4111111111111111" "1230", its expiry) is in clear in such a
 * run. Keeping the run's first 6 and last 4 digits shows no more of a card inside it than its own
 * first 6 and last 4. For dead letters, which mask every 12-19 digit run too; not for ordinary
 * text, where such runs are identifiers (almost every one of 20 digits has a Luhn-valid stretch).
 */
export function maskLongRunsHoldingCards(text: string): string {
  if (tooFewDigits(text)) return text;
  let out = '';
  let at = 0;
  for (const group of groupsOf(text)) {
    if (group.digits.length <= MAX_DIGITS || !holdsLuhnStretch(group.digits)) continue;
    out += text.slice(at, group.start) + maskDigits(group.digits);
    at = group.end;
  }
  return at === 0 ? text : out + text.slice(at);
}

function holdsLuhnStretch(digits: string): boolean {
  const luhn = new LuhnSums([...digits].map(Number));
  for (let s = 0; s + MIN_DIGITS <= digits.length; s++)
    for (let e = s + MIN_DIGITS - 1; e < Math.min(digits.length, s + MAX_DIGITS); e++)
      if (luhn.valid(s, e)) return true;
  return false;
}

/**
 * Whether an identifier holds a card number: as the scrubber finds them, or with any character
 * but a letter or digit between the groups ("4000:0566:5566:5556", "x,4000,0566,..."). What this
 * accepts passes scrubCardNumbers unchanged, so an identifier is stored as it was sent.
 */
export function containsCardNumber(text: string): boolean {
  for (const probe of text.includes('%') ? [text, probeOf(text)] : [text]) {
    if (tooFewDigits(probe)) continue;
    const groups = groupsOf(probe);
    if (cardSpans(probe, groups, 'text').length > 0 || cardSpans(probe, groups, 'identifier').length > 0) return true;
  }
  return false;
}

/** A deep copy with every string (object keys too) scrubbed; numbers, booleans and null as they were. */
export function scrubDeep<T>(value: T): T {
  return mapStringsDeep(value, scrubCardNumbers);
}

/** A deep copy with `f` applied to every string, object keys too; numbers, booleans and null as they were. */
export function mapStringsDeep<T>(value: T, f: (s: string) => string): T {
  if (typeof value === 'string') return f(value) as T;
  if (Array.isArray(value)) return value.map((v) => mapStringsDeep(v, f)) as T;
  if (value && typeof value === 'object') {
    // Keys, then each value: Object.entries' pairs cost about half of a flagged decision's scrub
    // (its feature map has a hundred keys), three times what this loop does.
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(source)) out[f(k)] = mapStringsDeep(source[k], f);
    return out as T;
  }
  return value;
}
