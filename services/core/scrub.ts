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
// characters, combining marks such as a keycap's), or up to 8 when at most 3 of them are not spaces
// or invisible ("4111  --  1111"), or up to 32 spaces and invisible characters alone. Escapes are
// read as what they stand for, in a second reading of the text: percent-encoding ("%2C", "%E2%80%93",
// "%2520" encoded twice; the digits too: "%34", a full-width digit's "%EF%BC%94") and HTML
// character references ("&nbsp;", "&#52;"), any separator among them joining groups as a space does.
// Commas, colons, semicolons, bars, + * # ~ = & (a sum, a form-encoded space) and every other
// character that is neither a letter nor a digit (quotes ' ’ " `, bullets • ‧, brackets, @ $ ! ? ...)
// join groups too, as many as the others with spaces among them, but only the card-like ones
// ("4111,1111,1111,1111", "4111'1111'1111'1111", "3782:822463:10005", a list of quoted groups as
// Python's json.dumps and list printouts write one: '["4111", "1111", "1111", "1111"]': groups of
// 4, or 4-6-5 and 4-6-4, each joined the same way unless the digits begin as a card network's, and
// not all years; or a card typed in pieces of 1, 2 or 3 digits all as wide, one separator
// throughout, the whole of such a list, beginning as a card network's: "4,1,1,1,...", "41;11;...",
// "411|111|..."), since they also separate the items of a list. Two or more asterisks alone never
// join groups: they are a mask ("601115**0996", "4111 **** **** 1111"). In text, a backslash escaping a
// quote or a backslash counts for nothing ('\"4111\", \"1111\"', such a list in a serialised
// log line). Any stretch of consecutive groups is tried, so a card beside a year or an expiry is
// still found; only digits end a run, so letters may touch it ("ref4111..."). It is replaced by its
// first 6 and last 4 digits (ASCII) around asterisks, as PCI DSS 3.4.1 allows and as the console
// shows cards; a number shorter than 16 digits shows fewer last digits, 6 always hidden (maskDigits).
//
// Split across lines: line breaks (CR, LF, CRLF, VT, FF, NEL U+0085, U+2028, U+2029) are spaces,
// and in a gap that holds other separators too, up to 2 of them with the spaces around them and the
// quote marks "> " that begin a quoted line count for nothing ("4111 1111 -\r\n      1111 1111",
// "4111 1111\n> 1111 1111"); a gap of more than 32 characters never joins. In both modes: an
// identifier holding a line break is rare, and what it joins is joined in text anyway.
//
// Typed to slip past a filter, in text (identifiers: containsCardNumber reads them as text too):
// - A short word between groups, 1 to 3 letters with separators or nothing around it ("4111 x 1111
//   x 1111 x 1111", "4111a1111b1111c1111", "4111 and 1111 and 1111 and 1111"), when the words are
//   all the same or all single letters, the groups are a card's (fours, or 4-6-5 and 4-6-4), the
//   digits begin as a card network's, and, when a word touches a digit, no letter touches the
//   stretch (not inside a hexadecimal id). Not the words of a sentence ("paid 4000 of 5000 in 2023").
//   Masked by mistake: three or four such groups joined by one repeated word or letter that pass
//   Luhn, 1 in 10 ("4000 x 5000 x 2023", a box's size in mm).
// - Letters typed for digits, O and o for 0, I and l for 1 ("4111 1111 1111 111l"), in a word of
//   ASCII digits and such letters that holds a digit, not at its edge touching another letter
//   ("10oz" stays), in a text holding at least 8 ASCII digits (a card typed mostly in digits, and
//   the common short text is not read again). Read beside the text as written, the cards of both
//   readings merged where they overlap: a look-alike beside a card typed in digits ("Ol4111...")
//   does not hide it, and a stretch found in the digits alone does not leave the rest in clear.
// Not read: digits written as words ("four one one one ..."). Reading every text for them made the
// common case, text without digits, about four times as costly (a sentence 0.08 -> 0.3 µs; every
// string stored or logged passes here), and an English list would still miss other languages and
// spellings ("oh", "double four", 四一一一).
//
// containsCardNumber finds exactly what this masks: text it accepts passes unchanged, and scrubbed
// text holds no card (a mask's digits making one with those beside it are masked in turn).
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

/** Shorter text (most identifiers) is read by the loop alone: the search would cost more. */
const SEARCH_FROM_LENGTH = 24;
/** An ASCII digit or a character that may be a digit of another kind (superscripts, U+0660 on). */
const MAYBE_DIGIT = /[0-9\u00b2\u00b3\u00b9\u0660-\uffff]/;
/** O o I l: letters typed for digits (lookalikeProbe). */
const isLookalike = (c: number) => c === 79 || c === 111 || c === 73 || c === 108;

/**
 * What scanDigits finds, packed in one number (an object costs the common short identifier a third
 * more): twice the ASCII digits, plus 1 when a look-alike letter touches one; -1 when the text may
 * hold digits of another kind (look-alikes then not checked: as if there were).
 */
type DigitScan = number;
const OTHER_DIGITS: DigitScan = -1;
const asciiDigitsOf = (scan: DigitScan) => (scan < 0 ? -1 : Math.floor(scan / 2));
const lookalikeBesideDigit = (scan: DigitScan) => scan < 0 || scan % 2 === 1;

/**
 * The ASCII digits in the text and whether a look-alike letter touches one, checked cheaply (the
 * common case is too few to look further): the regular expression finds the first candidate faster
 * than a loop does, and most text has none.
 */
function scanDigits(text: string): DigitScan {
  const first = text.length < SEARCH_FROM_LENGTH ? 0 : text.search(MAYBE_DIGIT);
  if (first < 0) return 0;
  let ascii = 0;
  let lookalike = 0;
  let previous = first > 0 ? text.charCodeAt(first - 1) : 0;
  for (let i = first; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      ascii++;
      if (isLookalike(previous)) lookalike = 1;
    } else {
      if (c >= 0x660 || isLatin1Superscript(c)) return OTHER_DIGITS;
      if (previous >= 48 && previous <= 57 && isLookalike(c)) lookalike = 1;
    }
    previous = c;
  }
  return ascii * 2 + lookalike;
}
/** Fewer than 12 digits of any script: no card number as the text is written. */
const tooFewDigits = (scan: DigitScan) => scan >= 0 && asciiDigitsOf(scan) < MIN_DIGITS;
/** Not even with look-alike letters read as digits (lookalikeProbe): the common case. */
const noCardPossible = (scan: DigitScan) =>
  tooFewDigits(scan) && !(lookalikeBesideDigit(scan) && asciiDigitsOf(scan) >= MIN_DIGITS_BESIDE_LOOKALIKES);

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

/**
 * Spaces and what shows as nothing (zero-width spaces and joiners, soft hyphens: format
 * characters): "4012\u200b\u200b\u200b\u200b8888..." looks like one run of digits.
 */
const INVISIBLE = /[\s\p{Cf}]/u;
const INVISIBLE_GAP = /^[\s\u0085\p{Cf}]+$/u;
/**
 * A backslash that escapes the quote or backslash after it, as JSON and source code write them
 * ("4111\\", \\"1111" in a serialised log line): it counts for nothing in a gap, the quote counts.
 */
const isEscapingBackslash = (gap: string, i: number) => {
  const next = gap.charCodeAt(i + 1);
  return gap.charCodeAt(i) === 92 && (next === 34 || next === 39 || next === 92);
};
/**
 * Whether a gap joins two groups, and how: Sep.List when a list separator is in it. In text, list
 * separators count as plain ones do: at most 3 that are not spaces among at most 8, so a list of
 * quoted groups ('"4111", "1111", ...', Python's json.dumps and list printouts) joins; which
 * stretches such a gap joins is cardLikeList's question.
 */
function joinable(gap: string, mode: ScrubMode): Sep {
  if (gap.length > 0 && gap.length <= MAX_SPACE_GAP && INVISIBLE_GAP.test(gap)) return Sep.Plain;
  if (MASKED_DIGITS.test(gap)) return Sep.None;
  let n = 0;
  let notSpace = 0;
  let kind: Sep = Sep.Plain;
  for (let i = 0; i < gap.length;) {
    const cp = gap.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (isLineBreak(cp)) return joinableAcrossLines(gap, mode);
    const k = separatorKind(cp, mode);
    if (k === Sep.None) return Sep.None;
    if (k === Sep.List) kind = Sep.List;
    if (mode === 'text' && cp === 92 && isEscapingBackslash(gap, i)) {
      i += 1;
      continue;
    }
    if (++n > MAX_WIDE_GAP) return Sep.None;
    if (cp !== 32 && !INVISIBLE.test(String.fromCodePoint(cp))) notSpace++;
    i += width;
  }
  if (n === 0) return Sep.None;
  if (n > MAX_GAP && (mode === 'identifier' || notSpace > MAX_GAP)) return Sep.None;
  return kind;
}

/**
 * Asterisks, two or more, alone: digits masked (ours, "601115**0996" of a 12-digit card, or
 * another's, "4111 **** **** 1111"), never what joins the groups of a card: read as joining, the
 * mask of a short card would make one with the digits before it ("6422 601115**0996").
 */
const MASKED_DIGITS = /^\*{2,}$/;

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

/** Letters that may stand between groups as a word (wordGap), and a gap that may hold one. */
const MAX_WORD_LETTERS = 3;
const MAX_WORD_GAP = 16;
interface WordGap {
  /** In lower case. */
  word: string;
  /** Whether it touches a digit ("4111a1111"). */
  glued: boolean;
}
/**
 * A gap made of one short word, 1 to 3 letters, and what joins groups on either side of it
 * ("4111 x 1111", "4111 and 1111", "4111a1111", "4111 1111 -x- 1111"). Text only; which stretches
 * it joins: wordJoinedSpans.
 */
function wordGap(gap: string): WordGap | null {
  if (gap.length > MAX_WORD_GAP) return null;
  let start = -1;
  let end = -1;
  let letters = 0;
  for (let i = 0; i < gap.length;) {
    const cp = gap.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (separatorKind(cp, 'text') === Sep.None) {
      // A second word, or a longer one: not a separator but text.
      if ((end !== -1 && end !== i) || ++letters > MAX_WORD_LETTERS) return null;
      if (start === -1) start = i;
      end = i + width;
    }
    i += width;
  }
  if (start === -1) return null;
  const before = gap.slice(0, start);
  const after = gap.slice(end);
  if ((before && joinable(before, 'text') === Sep.None) || (after && joinable(after, 'text') === Sep.None)) return null;
  return { word: gap.slice(start, end).toLowerCase(), glued: !before || !after };
}

/**
 * Groups joined by a list separator count as a card only as cards are written: the groups 4 digits
 * each (the last 1 to 4), or 4-6-5 or 4-6-4, and every gap of the span the same unless the digits
 * begin as a card network's do (below: "4111-1111'1111-1111"). Not a list of years ("2021, 2022,
 * 2023", '["1999", "2000", "2001"]'): no card network's numbers begin 19 or 20.
 */
function cardLikeList(groups: Group[], from: number, to: number): boolean {
  if (smallEvenGroups(groups, from, to)) return true;
  if (!networkPrefix(groups[from]!.digits)) {
    let years = true;
    for (let i = from; i <= to; i++) {
      if (i < to && groups[i]!.gap !== groups[from]!.gap) return false;
      years &&= isYear4(groups[i]!.digits);
    }
    if (years) return false;
  }
  return cardShaped(groups, from, to);
}

/**
 * Groups of 1, 2 or 3 digits, all as wide (the last may be shorter), one gap throughout, the whole
 * of such a list (not a stretch of a longer one), the digits beginning as a card network's: a card
 * typed in small pieces to slip past a filter ("4,1,1,1,...", "41;11;11;...", "411|111|..."). A
 * list of small numbers is rarely all as wide and rarely begins so ("1, 2, 3, ...", "[0,1,2,...,15]",
 * "12; 34; 56"); one that does and passes Luhn (1 in 10) is masked: the safe mistake.
 */
function smallEvenGroups(groups: Group[], from: number, to: number): boolean {
  const width = groups[from]!.digits.length;
  if (width > 3) return false;
  const gap = groups[from]!.gap;
  const previous = groups[from - 1];
  if (previous && previous.gap === gap && previous.digits.length === width) return false;
  const next = groups[to + 1];
  if (next && groups[to]!.gap === gap && groups[to]!.digits.length === width && next.digits.length <= width)
    return false;
  let digits = '';
  for (let i = from; i <= to; i++) {
    const g = groups[i]!;
    if (i < to ? g.digits.length !== width || g.gap !== gap : g.digits.length > width) return false;
    if (digits.length < 4) digits += g.digits;
  }
  return networkPrefix(digits);
}

/** Groups of 4 digits (the last 1 to 4), or 4-6-5 or 4-6-4: a card number as cards print it. */
function cardShaped(groups: Group[], from: number, to: number): boolean {
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
  // How each group is joined to the next (Sep.None: not by separators; perhaps by a word, below).
  const joins: Sep[] = [];
  for (let from = 0; from < groups.length;) {
    let to = from;
    const listGaps: number[] = [];
    for (let kind: Sep; to + 1 < groups.length && (kind = joinable(groups[to]!.gap, mode)) !== Sep.None; to++) {
      joins.push(kind);
      if (kind === Sep.List) listGaps.push(to);
    }
    joins.push(Sep.None);
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
        addSpan(spans, first + s, first + e);
      }
    }
  }
  if (mode === 'identifier' || groups.length < 3) return spans;
  const joinedByWords = wordJoinedSpans(text, groups, joins);
  if (joinedByWords.length === 0) return spans;
  const merged: [number, number][] = [];
  for (const [s, e] of [...spans, ...joinedByWords].sort((a, b) => a[0] - b[0])) addSpan(merged, s, e);
  return merged;
}

/** Adds a span after those found, merged with the last one when they overlap. */
function addSpan(spans: [number, number][], s: number, e: number): void {
  const previous = spans[spans.length - 1];
  if (previous && s <= previous[1]) previous[1] = Math.max(previous[1], e);
  else spans.push([s, e]);
}

/**
 * Stretches of groups joined by at least one short word that are card numbers: the words all the
 * same ("4111 x 1111 x 1111 x 1111", "4111 and 1111 and ...") or all single letters
 * ("4111a1111b1111c1111"), not the words of a sentence ("paid 4000 of 5000 in 2023"); shaped as
 * cards print them (cardShaped), beginning as a card network's numbers do, passing Luhn; and, when
 * a word touches a digit, not touching a letter at either end (a hexadecimal id is not a card:
 * "e4111a1111b1111c1111f").
 */
function wordJoinedSpans(text: string, groups: Group[], joins: readonly Sep[]): [number, number][] {
  const spans: [number, number][] = [];
  // Gaps read for a word (null: none), read only after a group that may begin a card.
  const words: (WordGap | null | undefined)[] = [];
  for (let s = 0; s + 2 < groups.length; s++) {
    if (groups[s]!.digits.length !== 4 || !networkPrefix(groups[s]!.digits)) continue;
    let digits = groups[s]!.digits;
    let first: string | undefined;
    let same = true;
    let letters = true;
    let glued = false;
    for (let e = s + 1; e < groups.length; e++) {
      let word: WordGap | null = null;
      if (joins[e - 1] === Sep.None) {
        if (words[e - 1] === undefined) words[e - 1] = wordGap(groups[e - 1]!.gap);
        if (!(word = words[e - 1]!)) break;
      }
      if (word) {
        first ??= word.word;
        same &&= word.word === first;
        letters &&= [...word.word].length === 1;
        glued ||= word.glued;
        if (!same && !letters) break;
      }
      // A group before the last one that is not a card's (4 digits, or 6 second in 4-6-5/4-6-4) ends the search.
      const middle = groups[e - 1]!.digits.length;
      if (e - 1 > s && middle !== 4 && !(middle === 6 && e - 1 === s + 1)) break;
      digits += groups[e]!.digits;
      if (digits.length > MAX_DIGITS) break;
      if (first === undefined || digits.length < MIN_DIGITS || !cardShaped(groups, s, e) || !luhnValid(digits))
        continue;
      if (glued && (letterBefore(text, groups[s]!.start) || letterAt(text, groups[e]!.end))) continue;
      spans.push([s, e]);
    }
  }
  return spans;
}
/** A letter (not a long-vowel mark, a dash: DASH_LETTER) at or just before a UTF-16 offset. */
const isLetter = (ch: string | undefined) => ch !== undefined && LETTER.test(ch) && !DASH_LETTER.test(ch);
const LETTER = /^\p{L}/u;
const letterAt = (text: string, at: number) =>
  at < text.length && isLetter(String.fromCodePoint(text.codePointAt(at)!));
const letterBefore = (text: string, at: number) => at > 0 && isLetter([...text.slice(Math.max(0, at - 2), at)].pop());
const luhnValid = (digits: string) => new LuhnSums([...digits].map(Number)).valid(0, digits.length - 1);

/**
 * The one card mask (maskPan is this too): the first 6 digits and at most the last 4, as ASCII,
 * always 6 digits hidden at least. 16 digits and more show 6 and 4; shorter numbers show fewer last
 * digits (15: 6 and 3, 14: 6 and 2, 13: 6 and 1, 12: the first 6 only), since 6 and 4 of 12 or 13
 * digits, one of them the Luhn check digit, leave 2 or 3 to guess. Fewer than 12 digits are no card
 * number (a mistyped one): all hidden.
 */
export function maskDigits(digits: string): string {
  if (digits.length < 12) return '*'.repeat(digits.length);
  const last = Math.min(4, digits.length - 12);
  return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 6 - last)}${last > 0 ? digits.slice(-last) : ''}`;
}

/**
 * Text that may hold escapes: percent-encoding ("4111%2C1111...", as a value forwarded without
 * decoding arrives; "%2520", encoded twice; "%EF%BC%94", a full-width digit's UTF-8 bytes) or HTML
 * character references ("4111&nbsp;1111...", "&#52;&#49;..."). Read again decoded (decodedProbe).
 */
const mayHoldEscapes = (text: string) => text.includes('%') || text.includes('&');
/** A run of percent escapes, each possibly encoded again ("%25" before it). */
const PERCENT_RUN = /(?:%(?:25)*[0-9A-Fa-f]{2})+/g;
const PERCENT_ESCAPE = /%(?:25)*([0-9A-Fa-f]{2})/g;
/** An HTML character reference: decimal, hexadecimal or named. */
const CHARACTER_REFERENCE = /&(?:#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z]{2,8}));/g;
/** Named references of the spaces, dashes and punctuation people put between digit groups. */
const SEPARATOR_REFERENCES = new Set(
  'nbsp ensp emsp emsp13 emsp14 thinsp hairsp numsp puncsp zwsp zwnj zwj shy ndash mdash minus hyphen dash horbar middot centerdot period comma colon semi sol bsol lpar rpar amp quot apos num plus equals verbar vert lowbar tilde ast'.split(
    ' ',
  ),
);
/** Where a digit read from an escape begins in the text: the mask covers the whole escape. */
type EscapeStarts = Map<number, number>;

/**
 * What an escape of `width` characters at `at` stands for, in the probe: a digit as itself (ASCII)
 * after spaces, a letter as itself after spaces (it breaks a run, as written), anything else as
 * spaces (a separator: read as one more readily than the character itself; masking by mistake is
 * the safe mistake). The probe keeps the text's length, so that a span found maps onto it.
 */
function readEscape(cp: number, width: number, at: number, starts: EscapeStarts): string {
  const v = digitValue(cp);
  if (v >= 0) {
    starts.set(at + width - 1, at);
    return ' '.repeat(width - 1) + String(v);
  }
  const ch = String.fromCodePoint(cp);
  if (ch.length === 1 && /\p{L}/u.test(ch) && !DASH_LETTER.test(ch)) return ' '.repeat(width - 1) + ch;
  return ' '.repeat(width);
}

/** A run of percent escapes read as its UTF-8 characters (an invalid byte: a separator of its width). */
function readPercentRun(run: string, at: number, starts: EscapeStarts): string {
  const bytes: number[] = [];
  const widths: number[] = [];
  for (const m of run.matchAll(PERCENT_ESCAPE)) {
    bytes.push(parseInt(m[1]!, 16));
    widths.push(m[0].length);
  }
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 1 : (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 0;
    let cp = n === 1 ? b : n === 2 ? b & 0x1f : n === 3 ? b & 0x0f : b & 0x07;
    let width = widths[i]!;
    let valid = n > 0 && i + n <= bytes.length;
    for (let k = 1; valid && k < n; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) valid = false;
      else {
        cp = (cp << 6) | (c & 0x3f);
        width += widths[i + k]!;
      }
    }
    if (!valid) {
      out += ' '.repeat(widths[i]!);
      i += 1;
      continue;
    }
    out += readEscape(cp, width, at + out.length, starts);
    i += n;
  }
  return out;
}

/**
 * The text with its escapes read (above), of the same length, and where each digit read from an
 * escape begins; undefined when it holds none.
 */
function decodedProbe(text: string): { probe: string; starts: EscapeStarts } | undefined {
  const starts: EscapeStarts = new Map();
  let probe = text;
  if (text.includes('%'))
    probe = probe.replace(PERCENT_RUN, (run: string, at: number) => readPercentRun(run, at, starts));
  if (text.includes('&'))
    probe = probe.replace(
      CHARACTER_REFERENCE,
      (ref: string, dec?: string, hex?: string, name?: string, at?: number) => {
        if (name !== undefined) return SEPARATOR_REFERENCES.has(name.toLowerCase()) ? ' '.repeat(ref.length) : ref;
        const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
        return cp > 0x10ffff ? ' '.repeat(ref.length) : readEscape(cp, ref.length, at!, starts);
      },
    );
  return probe === text ? undefined : { probe, starts };
}

/** Letters typed for digits: O and o for 0, I and l for 1. */
const LOOKALIKES = /[OoIl]/g;
const LOOKALIKE_BESIDE_DIGIT = /[0-9][OoIl]|[OoIl][0-9]/;
/** A word of ASCII digits and look-alike letters. */
const DIGITS_AND_LOOKALIKES = /[0-9OoIl]+/g;
/** Digits typed as digits in a text read for look-alikes, at least: a card number typed mostly in digits. */
const MIN_DIGITS_BESIDE_LOOKALIKES = 8;

/**
 * The text with look-alike letters read as digits, of the same length: O o I l in a word of ASCII
 * digits and such letters that holds a digit ("111l", "4O11"; one at the word's edge must not touch
 * another letter: "10oz" is not "100z"), in a text of 8 ASCII digits or more (or other digits).
 * Undefined when there are none.
 */
function lookalikeProbe(text: string, scan: DigitScan): string | undefined {
  if (!lookalikeBesideDigit(scan) || (scan >= 0 && asciiDigitsOf(scan) < MIN_DIGITS_BESIDE_LOOKALIKES))
    return undefined;
  if (scan < 0 && !LOOKALIKE_BESIDE_DIGIT.test(text)) return undefined;
  const probe = text.replace(DIGITS_AND_LOOKALIKES, (word: string, at: number) => {
    if (!/[0-9]/.test(word) || !/[OoIl]/.test(word)) return word;
    if ((/^[OoIl]/.test(word) && letterBefore(text, at)) || (/[OoIl]$/.test(word) && letterAt(text, at + word.length)))
      return word;
    return word.replace(LOOKALIKES, (l) => (l === 'O' || l === 'o' ? '0' : '1'));
  });
  return probe === text ? undefined : probe;
}

/**
 * The text with every card number masked (see the header for what counts as one). When a
 * look-alike letter touches a digit, the text is read twice at once: as it is, and with such
 * letters read as digits (lookalikeProbe). A text with a "%" is read again after that, decoded
 * ("4111%201111..."; as it is, "4111%2026%..." is joined by "%").
 */
const clearDigits = (text: string) => text.replace(/\D/g, '').length;

/**
 * A dotted path (`items.0.pin`) masked by `mask` key by key, so that an index beside a masked key
 * stays readable (`items.0.411111******1111.pin`, not `items.041111*******1111.pin`), unless masking
 * it whole leaves fewer digits in clear: a number split over nested keys
 * (`extra.411111111111.1111`), whose pieces key by key would each show most of their digits.
 */
export function maskDottedPath(path: string, mask: (text: string) => string): string {
  const byKey = path.split('.').map(mask).join('.');
  const whole = mask(path);
  // An index run into the number shows one digit more whole (items.0.4111…: 0 and 411111 and 1111):
  // the readable form is kept unless whole masks at least two more.
  return clearDigits(whole) + 1 < clearDigits(byKey) ? whole : byKey;
}

export function scrubCardNumbers(text: string, mode: ScrubMode = 'text'): string {
  let out = scrubOnce(text, mode);
  // A mask keeps 10 digits, which may make a card with the digits beside it ("1234 5678 4111 1111
  // 1111 1111" -> "1234 5678 411111******1111"): read again until nothing changes, so that
  // scrubbed text holds no card number (containsCardNumber) and scrubbing twice changes nothing.
  // Each reading that changes the text masks digits, so this ends.
  for (let previous = text; out !== previous;) [previous, out] = [out, scrubOnce(out, mode)];
  return out;
}

/** Replaces the cards found in a text (in order, none overlapping) with their masks: the text it makes. */
type Masker = (text: string, cards: readonly Found[]) => string;

function scrubOnce(text: string, mode: ScrubMode, mask: Masker = masked): string {
  const scan = scanDigits(text);
  const escapes = mayHoldEscapes(text);
  if (noCardPossible(scan) && !escapes) return text;
  const cards = cardsIn(text, text, mode, scan);
  const lookalikes = lookalikeProbe(text, scan);
  const out = mask(text, lookalikes ? mergeCards(cards, cardsIn(text, lookalikes, mode), lookalikes) : cards);
  const decoded = escapes ? decodedProbe(out) : undefined;
  return decoded ? mask(out, cardsIn(out, decoded.probe, mode, undefined, decoded.starts)) : out;
}

/**
 * Lines shown one under the other (an address's), scrubbed as the one text they show: a card
 * number split across them ("4111 1111" / "1111 1111") is masked where it begins, and the rest of
 * it is taken out of the lines after (emptied, when it was all they held). Each line alone may hold
 * no card and the page would still show one.
 */
export function scrubLines(lines: readonly string[]): string[] {
  let current = [...lines];
  const mask: Masker = (text, cards) => {
    if (cards.length === 0) return text;
    current = maskLines(current, cards);
    return current.join('\n');
  };
  let text = current.join('\n');
  for (let previous = ''; text !== previous;) [previous, text] = [text, scrubOnce(text, 'text', mask)];
  return current;
}

/** `lines` with the cards found in them joined by line breaks (offsets in that text) masked line by line. */
function maskLines(lines: readonly string[], cards: readonly Found[]): string[] {
  const out: string[] = [];
  let start = 0;
  for (const line of lines) {
    const end = start + line.length;
    let kept = '';
    let at = start;
    let continued = false;
    for (const card of cards) {
      if (card.end <= start || card.start >= end) continue;
      kept += line.slice(at - start, Math.max(card.start, start) - start);
      // The mask where the card begins; of the lines it runs on into, what it held of it goes
      // (and the spaces then left at their edge).
      if (card.start >= start) kept += maskDigits(card.digits);
      else continued = true;
      at = Math.min(card.end, end);
    }
    kept += line.slice(at - start);
    out.push(continued ? kept.trim() : kept);
    start = end + 1;
  }
  return out;
}

/** An address's text fields in the order the console shows them, one under the other. */
export const ADDRESS_LINES = ['name', 'line1', 'line2', 'postalCode', 'city', 'region', 'country'] as const;

/**
 * An address with its lines scrubbed as shown together (scrubLines): a field that a card split
 * across lines leaves empty is removed. Its other fields as they were.
 */
export function scrubAddress<T extends object>(address: T): T {
  const a = address as Record<string, unknown>;
  const keys = ADDRESS_LINES.filter((k) => typeof a[k] === 'string' && a[k] !== '');
  if (keys.length < 2) return address;
  const lines = scrubLines(keys.map((k) => a[k] as string));
  if (lines.every((line, i) => line === a[keys[i]!])) return address;
  const out: Record<string, unknown> = { ...a };
  keys.forEach((k, i) => {
    if (lines[i] === '') delete out[k];
    else out[k] = lines[i];
  });
  return out as T;
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
  const decoded = mayHoldEscapes(plain) ? decodedProbe(plain) : undefined;
  const probe = (decoded?.probe ?? plain).replace(
    /\\(?:u([0-9a-fA-F]{4})|(.))/gsu,
    (escape: string, hex?: string, ch?: string) => {
      const c = hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : (JSON_ESCAPES[ch!] ?? ch!);
      // A surrogate half or an astral character cannot keep the width: a letter's place, breaking a run.
      return (c.length === 1 && !/[\ud800-\udfff]/.test(c) ? c : 'x').padEnd(escape.length, ' ');
    },
  );
  return masked(plain, cardsIn(plain, probe, 'text', undefined, decoded?.starts));
}
const JSON_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f' };

/** A card number found: where it is in the text (UTF-16 offsets, the end excluded) and its digits. */
interface Found {
  start: number;
  end: number;
  digits: string;
}

/** The card numbers found in `probe`, a copy of `text` of the same length read for them, in order. */
function cardsIn(
  text: string,
  probe: string,
  mode: ScrubMode,
  scan = scanDigits(probe),
  escapeStarts?: EscapeStarts,
): Found[] {
  if (tooFewDigits(scan)) return [];
  const groups = groupsOf(probe);
  return cardSpans(probe, groups, mode).map(([s, e]) => {
    let digits = '';
    for (let i = s; i <= e; i++) digits += groups[i]!.digits;
    // A first digit read from an escape ("%34", "&#52;"): the mask covers the whole escape.
    const start = escapeStarts?.get(groups[s]!.start) ?? groups[s]!.start;
    let end = groups[e]!.end;
    // A last digit read from an escape ("\u0031", "\1"): the mask covers the whole escape.
    if (text.charCodeAt(end - 1) === 92 && probe.charCodeAt(end - 1) !== 92) end += text[end] === 'u' ? 5 : 1;
    return { start, end, digits };
  });
}

/**
 * The cards found by two readings of one text, in order: where they overlap, one card over both,
 * its digits read from `probe` (the reading that reads more of them as digits: look-alikes). So a
 * stretch of a card that the first reading finds does not leave the rest of it in clear.
 */
function mergeCards(cards: readonly Found[], more: readonly Found[], probe: string): Found[] {
  const merged: Found[] = [];
  for (const card of [...cards, ...more].sort((a, b) => a.start - b.start)) {
    const last = merged[merged.length - 1];
    if (!last || card.start >= last.end) merged.push(card);
    else if (card.end > last.end || card.start < last.start) {
      const [start, end] = [last.start, Math.max(last.end, card.end)];
      merged[merged.length - 1] = { start, end, digits: digitsIn(probe, start, end) };
    }
  }
  return merged;
}

function digitsIn(probe: string, start: number, end: number): string {
  let digits = '';
  for (let i = start; i < end;) {
    const cp = probe.codePointAt(i)!;
    const v = digitValue(cp);
    if (v >= 0) digits += String(v);
    i += cp > 0xffff ? 2 : 1;
  }
  return digits;
}

/** The text with each card (in order, none overlapping) replaced by its mask. */
function masked(text: string, cards: readonly Found[]): string {
  if (cards.length === 0) return text;
  let out = '';
  let at = 0;
  for (const card of cards) {
    out += text.slice(at, card.start) + maskDigits(card.digits);
    at = card.end;
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
  if (tooFewDigits(scanDigits(text))) return text;
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
 * Whether text (an identifier, a key, a link) holds a card number: exactly what scrubCardNumbers
 * masks in text ("4000:0566:5566:5556", "x,4000,0566,...", "4,1,1,1,..."). So what this accepts
 * passes the scrubber unchanged (an identifier is stored as it was sent), and what it finds the
 * scrubber masks: scrubbed text never holds one. (It once read any character but a letter or digit
 * as joining groups of any width, and found cards in lists of amounts the scrubber rightly left,
 * and typed ones it did not mask: "4,1,1,1,...".)
 */
export function containsCardNumber(text: string): boolean {
  if (noCardPossible(scanDigits(text)) && !mayHoldEscapes(text)) return false;
  return scrubOnce(text, 'text') !== text;
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
