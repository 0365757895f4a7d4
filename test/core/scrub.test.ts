// The one card-number scrubber (services/core/scrub.ts), property style: card numbers however
// they are separated or written (full-width and other Unicode decimal digits) are masked wherever
// they sit in text; non-Luhn runs, phone numbers and dates are left alone. Seeded, so a failure
// names a case that can be replayed.
import { DIGIT_ZEROS, flatDigits } from '../support/digit-forms.ts';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../services/logger.ts';
import { maskPan } from '../../services/core/card.ts';
import {
  containsCardNumber,
  scrubAddress,
  scrubCardNumbers,
  scrubDeep,
  scrubJsonText,
  scrubLines,
} from '../../services/core/scrub.ts';
import { sanitiseRequest } from '../../services/cases/model.ts';
import { scoreRequestSchema, transactionIdSchema } from '../../services/core/schemas.ts';
import { deadLetterMessage, decisionMessage, transactionMessageSchema } from '../../streams/messages.ts';

function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

const luhn = (digits: string) => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
};

function card(r: Rng, length = r.int(12, 19)): string {
  let body = r.pick(['4', '51', '55', '37', '6011', '35', '2221', '9']);
  while (body.length < length - 1) body += String(r.int(0, 9));
  for (let c = 0; c < 10; c++) if (luhn(body + c)) return body + c;
  throw new Error('unreachable');
}

function nonLuhn(r: Rng, length: number): string {
  for (;;) {
    let s = String(r.int(1, 9));
    while (s.length < length) s += String(r.int(0, 9));
    if (!luhn(s)) return s;
  }
}

// Decimal digit forms: ASCII, full-width (Japanese storefronts), Arabic-Indic, Devanagari, mathematical bold (astral).
const ZEROS = DIGIT_ZEROS;
const writeDigits = (r: Rng, digits: string, mixed = r.next() < 0.3) => {
  const zero = r.pick(ZEROS);
  return digits.replace(/[0-9]/g, (d) => String.fromCodePoint((mixed ? r.pick(ZEROS) : zero) + Number(d)));
};
const SEPARATORS = [
  ' ',
  '-',
  '.',
  '/',
  '  ',
  ' - ',
  ' / ',
  '\u00a0',
  '\u3000',
  '\uff0d',
  '\u2010',
  '\u2013',
  '\u30fb',
  '\u200b',
  '_',
  '\uff0e',
  '  --  ',
  '\u0000',
  '\u0001',
  '\t',
  // A keycap: variation selector and combining enclosing keycap after each digit (4️⃣1️⃣...).
  '\ufe0f\u20e3',
  // Dashes as Japanese input methods type them (long-vowel marks), minus, full-width tilde, a line.
  '\u30fc',
  '\uff70',
  '\u2212',
  '\uff5e',
  '\u2500',
  // A column of spaces.
  '          ',
];

/** Digits with a separator at each of `cuts` (positions between digits). */
function separated(r: Rng, digits: string, cuts: number[]): string {
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (cuts.includes(i)) out += r.pick(SEPARATORS);
    out += digits[i];
  }
  return out;
}
const groupsOf = (digits: string, cuts: number[]) =>
  [0, ...cuts, digits.length].slice(0, -1).map((from, k, all) => digits.slice(from, all[k + 1] ?? digits.length));
const randomCuts = (r: Rng, length: number, lo = 1, hi = length - 1) =>
  Array.from({ length: hi - lo + 1 }, (_, k) => lo + k).filter(() => r.next() < 0.35);

const WORDS = [
  'card',
  'number',
  'is',
  'Tokyo',
  '東京都渋谷区',
  'gift for',
  'ref:',
  '(',
  ')',
  'x',
  'order',
  '"',
  ',',
  'カード番号',
  'name=',
  '\n',
];
const textAround = (r: Rng, middle: string) => {
  const before = Array.from({ length: r.int(0, 3) }, () => r.pick(WORDS)).join(r.pick([' ', '']));
  const after = Array.from({ length: r.int(0, 3) }, () => r.pick(WORDS)).join(r.pick([' ', '']));
  // Letters may touch the digits: only digits end a run.
  return `${before}${r.pick([' ', '', ': '])}${middle}${r.pick([' ', '', '. '])}${after}`;
};

const flat = flatDigits;
/** The documented mask: the first 6 digits and the last 4, fewer below 16 digits: 6 always hidden. */
const masked = (pan: string) => {
  const last = Math.min(4, pan.length - 12);
  return `${pan.slice(0, 6)}${'*'.repeat(pan.length - 6 - last)}${last > 0 ? pan.slice(-last) : ''}`;
};

describe('the card-number scrubber', () => {
  it('masks a card number however it is separated or written, wherever it sits in text', () => {
    const r = rng(1301);
    for (let i = 0; i < 3000; i++) {
      const pan = card(r);
      let cuts = randomCuts(r, pan.length);
      // The documented exception: a group shaped like an epoch time (13, 16, 19 digits beginning with 1) is not part of a card.
      while (groupsOf(pan, cuts).some((g) => [13, 16, 19].includes(g.length) && g.startsWith('1')))
        cuts = randomCuts(r, pan.length);
      const written = writeDigits(r, separated(r, pan, cuts));
      const text = textAround(r, written);
      const out = scrubCardNumbers(text);
      expect(flat(out), JSON.stringify(text)).not.toContain(pan);
      expect(out, JSON.stringify(text)).toContain(masked(pan));
      // Scrubbing twice changes nothing more.
      expect(scrubCardNumbers(out)).toBe(out);
    }
  });

  it('masks every card of several in one text, and a card beside other numbers', () => {
    expect(scrubCardNumbers('cards 4111 1111 1111 1111 and 5555-5555-5555-4444, 378282246310005.')).toBe(
      'cards 411111******1111 and 555555******4444, 378282******005.',
    );
    expect(scrubCardNumbers('2026 4111 1111 1111 1111')).toBe('2026 411111******1111');
    expect(scrubCardNumbers('4111 1111 1111 1111 12/30 123')).toBe('411111******1111 12/30 123');
    expect(scrubCardNumbers('ref4111111111111111x')).toBe('ref411111******1111x');
    expect(scrubCardNumbers('４１１１－１１１１－１１１１－１１１１')).toBe('411111******1111');
    expect(scrubCardNumbers('4\u200b111111111111111')).toBe('411111******1111');
    expect(scrubCardNumbers('{"name":"4111.1111.1111.1111"}')).toBe('{"name":"411111******1111"}');
    // Forms customers type that once slipped through: commas, colons, bars, wide gaps, keycaps,
    // control characters, and an American Express or Diners Club number after a "+".
    expect(scrubCardNumbers('4111,1111,1111,1111')).toBe('411111******1111');
    expect(scrubCardNumbers('4111:1111:1111:1111')).toBe('411111******1111');
    expect(scrubCardNumbers('4111|1111|1111|1111; 5555;5555;5555;4444')).toBe('411111******1111; 555555******4444');
    expect(scrubCardNumbers('3782:822463:10005, 3056，930902，5904')).toBe('378282******005, 305693******04');
    expect(scrubCardNumbers('4111  --  1111  --  1111  --  1111')).toBe('411111******1111');
    expect(scrubCardNumbers('4\ufe0f\u20e31\ufe0f\u20e31\ufe0f\u20e31\ufe0f\u20e3111111111111')).toBe(
      '411111******1111',
    );
    expect(scrubCardNumbers('4111\u00001111\u00011111\u001f1111')).toBe('411111******1111');
    // Digits NFKC makes ASCII: superscript, subscript, circled, dingbat.
    expect(scrubCardNumbers('card \u2074\u00b9\u00b9\u00b9 1111 1111 1111')).toBe('card 411111******1111');
    expect(
      scrubCardNumbers('\u2463\u2460\u2460\u2460 \u2081\u2081\u2081\u2081 \u2780\u2776\u278a\u2474 \u2488111'),
    ).toBe('411111******1111');
    expect(scrubCardNumbers('area 120 m\u00b2, 10\u00b3 units')).toBe('area 120 m\u00b2, 10\u00b3 units');
    expect(scrubCardNumbers('+3782 822463 10005')).toBe('+378282******005');
    expect(scrubCardNumbers('+3056 930902 5904')).toBe('+305693******04');
    expect(scrubCardNumbers('call +81 90 1234 5678')).toBe('call +81 90 1234 5678');
    // A 13-digit Visa card after a "+" (the phone field), but not a phone number that fails Luhn.
    expect(scrubCardNumbers('+4222222222222')).toBe('+422222******2');
    expect(scrubCardNumbers('+4222 222 222 222')).toBe('+422222******2');
    expect(scrubCardNumbers('+4412 345 678 900')).toBe('+4412 345 678 900');
    // Any character but a letter or digit between card-like groups: quotes, bullets, symbols.
    expect(scrubCardNumbers("gift 4111'1111'1111'1111")).toBe('gift 411111******1111');
    expect(scrubCardNumbers("4111'1111'1111'1111@example.com")).toBe('411111******1111@example.com');
    expect(scrubCardNumbers('Card: 5555\u20225555\u20225555\u20224444')).toBe('Card: 555555******4444');
    expect(scrubCardNumbers('Jane 4111\u20191111\u20191111\u20191111')).toBe('Jane 411111******1111');
    expect(scrubCardNumbers('["4111","1111","1111","1111"]')).toBe('["411111******1111"]');
    // Mixed separators, when the digits begin as a card network's.
    expect(scrubCardNumbers("4111-1111'1111-1111")).toBe('411111******1111');
    expect(scrubCardNumbers("3782'822463-10005")).toBe('378282******005');
  });

  it('finds a card of every length wherever it starts in a run of groups (both digit parities)', () => {
    const r = rng(2027);
    for (let length = 12; length <= 19; length++)
      for (let lead = 1; lead <= 4; lead++)
        for (let i = 0; i < 20; i++) {
          const pan = card(r, length);
          // A short group before it (not a card with it: too few digits, or failing Luhn whole):
          // the card is a later stretch of the run, starting at an odd or an even position.
          const before = String(r.int(10 ** (lead - 1), 10 ** lead - 1));
          const text = `${before} ${pan}`;
          const expected = `${before} ${masked(pan)}`;
          const whole = `${before}${pan}`;
          if (whole.length <= 19 && luhn(whole)) continue;
          expect(scrubCardNumbers(text), text).toBe(expected);
        }
  });

  it('masks a card written with commas, colons, semicolons or bars as cards are grouped, and leaves lists of numbers alone', () => {
    const r = rng(77);
    const LIST = [
      ...[',', ', ', ':', ';', '; ', '|', ' | ', '\uff0c', '\u3001', '\uff1a', '+', '*', '#', '~', '=', ' + '],
      // Any other character that is neither a letter nor a digit: quotes, bullets, brackets, symbols.
      ...["'", '\u2019', '\u2018', '\u2022', '\u2027', '"', '`', '!', '$', '<', '>', '?', '@', '[', ']', '\\', '^'],
      ...['{', '}', '%', "' ", ' \u2022 ', '\u00b4', '\u2605', '\u{1f4b3}', '\u00a4'],
    ];
    for (let i = 0; i < 2000; i++) {
      const pan = card(r);
      // As cards are printed: fours (the last group shorter), or 4-6-5 for 15 digits.
      const lengths =
        pan.length === 15 && r.int(0, 1) === 1
          ? [4, 6, 5]
          : Array.from({ length: Math.ceil(pan.length / 4) }, (_, k) => Math.min(4, pan.length - 4 * k));
      const separator = r.pick(LIST);
      let at = 0;
      const written = lengths.map((n) => pan.slice(at, (at += n))).join(separator);
      const out = scrubCardNumbers(textAround(r, writeDigits(r, written)));
      expect(flat(out), written).not.toContain(pan);
    }
    // Lists of numbers: prices, references, phone numbers, a log's array.
    for (const list of [
      '12.50, 13.99, 8.75, 100.00, 42.42',
      '123456, 234567, 345678, 456789',
      '415-555-0132, 415-555-0199',
      '{"partitions":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}',
      'qty 12; 34; 56; 78; 90; 12; 34',
      '10:30:45 | 11:15:00 | 12:00:30 | 13:45:10',
      // Amounts, quantities, years and references among other punctuation.
      'paid $12.50, $13.99! $8.75? $100.00 [$42.42]',
      "1'234'567'890'123 CHF",
      '2021-2022, 2023-2024; 2025-2026',
      '"1995"-"2000"-"2005"-"2010"',
      'order #123456 @ 10:30 <2026-11-23> (ref 98765)',
    ])
      expect(scrubCardNumbers(list), list).toBe(list);
  });

  it('masks a card written as a list of quoted groups, as Python prints one or json.dumps writes it, raw or escaped in a log line (found by a review)', () => {
    const r = rng(4112);
    const QUOTES = ['"', "'", '`', '\u2019'];
    // After each item: what Python and JSON printers put, and what a hand or an editor does.
    const SEPARATORS = [', ', ' , ', ',  ', ',\t', '\t,\t', ' ,  ', ',\n  ', ', \n', ',\r\n    ', ' ,\n\t'];
    const BRACKETS = [
      ['[', ']'],
      ['(', ')'],
      ['{', '}'],
      ['', ''],
    ];
    for (let i = 0; i < 2000; i++) {
      const pan = card(r);
      const lengths =
        pan.length === 15 && r.int(0, 1) === 1
          ? [4, 6, 5]
          : Array.from({ length: Math.ceil(pan.length / 4) }, (_, k) => Math.min(4, pan.length - 4 * k));
      let at = 0;
      const q = r.pick(QUOTES);
      const separator = r.pick(SEPARATORS);
      const [open, close] = r.pick(BRACKETS);
      const written = `${open}${lengths.map((n) => `${q}${pan.slice(at, (at += n))}${q}`).join(separator)}${close}`;
      const text = textAround(r, writeDigits(r, written));
      const out = scrubCardNumbers(text);
      expect(flat(out), JSON.stringify(text)).not.toContain(pan);
      expect(out, JSON.stringify(text)).toContain(maskPan(pan));
      expect(containsCardNumber(text), JSON.stringify(text)).toBe(true);
      // As a log line holds it: in a JSON string, quotes escaped (\"), line breaks and tabs too (\n, \t).
      const line = JSON.stringify({ msg: text });
      expect(flat(scrubJsonText(line)), line).not.toContain(pan);
      // Escaped twice: a JSON document logged as a string (line breaks, escaped twice, are letters then).
      if (!/[\n\r]/.test(separator)) {
        const twice = JSON.stringify({ msg: JSON.stringify(text) });
        expect(flat(scrubJsonText(twice)), twice).not.toContain(pan);
      }
    }
    expect(scrubCardNumbers('["4111", "1111", "1111", "1111"]')).toBe('["411111******1111"]');
    expect(scrubCardNumbers("card: ('3782', '822463', '10005')")).toBe("card: ('378282******005')");
    expect(scrubCardNumbers('["6011", "0009", "9013", "9424", "215"]')).toBe('["601100*********4215"]');
    expect(scrubJsonText('{"msg":"[\\"4111\\", \\"1111\\", \\"1111\\", \\"1111\\"]"}')).toBe(
      '{"msg":"[\\"411111******1111\\"]"}',
    );
    // Lists of ordinary values written the same way are left alone, though some of their digits
    // pass Luhn together (2021 2022 2023, 1000 2000 3000 4000).
    for (const list of [
      '[2024, 12, 31]',
      '["2024", "12", "31"]',
      '["2021", "2022", "2023", "2024"]',
      '2021, 2022, 2023, 2024',
      "('1999', '2000', '2001', '2002')",
      '["10:30", "11:45", "12:15", "13:05"]',
      '["12.50", "13.99", "8.75", "100.00"]',
      '[1718000000000, 1718000000001, 1718000000002]',
      '["2026-11-23T10:30:00Z", "2026-11-24T11:00:00Z", "2026-11-25T09:15:00Z"]',
      '["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16"]',
      '["100", "2000", "3000", "4000"]',
      '["1000", "2000", "3000", "4000000"]',
      '["123456", "234567", "345678", "456789"]',
    ]) {
      expect(scrubCardNumbers(list), list).toBe(list);
      expect(scrubJsonText(JSON.stringify({ msg: list })), list).toBe(JSON.stringify({ msg: list }));
    }
  });

  it('masks a card typed with a list separator between single digits, pairs or triples, as containsCardNumber finds it (found by a review)', () => {
    const r = rng(4113);
    const LIST = [',', ';', ':', '|', '+', '*', '#', '~', '=', '&', '\uff0c', '\u3001', ', ', ' ; ', "'", '\u2022'];
    for (let i = 0; i < 2000; i++) {
      // Beginning as a card network's numbers do (not 9): a list of small numbers is written so too.
      let pan = card(r);
      while (pan.startsWith('9')) pan = card(r);
      const k = r.int(1, 3);
      const groups = Array.from({ length: Math.ceil(pan.length / k) }, (_, g) => pan.slice(g * k, g * k + k));
      const written = groups.join(r.pick(LIST));
      const text = textAround(r, writeDigits(r, written));
      expect(containsCardNumber(text), JSON.stringify(text)).toBe(true);
      const out = scrubCardNumbers(text);
      expect(flat(out), JSON.stringify(text)).not.toContain(pan);
      expect(out, JSON.stringify(text)).toContain(maskPan(pan));
      expect(containsCardNumber(out), JSON.stringify(out)).toBe(false);
    }
    // The review's notes, as an analyst typed them.
    for (const sep of [',', ';', ':', '|', '+', '*', '#', '~', '=', '&', '\uff0c', '\u3001'])
      expect(scrubCardNumbers(`note ${'4111111111111111'.split('').join(sep)}`), sep).toBe('note 411111******1111');
    expect(scrubCardNumbers('41,11,11,11,11,11,11,11')).toBe('411111******1111');
    expect(scrubCardNumbers('411,111,111,111,111,1')).toBe('411111******1111');
    expect(scrubCardNumbers('3,7,8,2,8,2,2,4,6,3,1,0,0,0,5')).toBe('378282******005');
    // Lists of small numbers stay: not one gap throughout, not one width, or not beginning as a card's.
    for (const list of [
      '1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7',
      '[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]',
      'qty 12; 34; 56; 78; 90; 12; 34',
      'rooms 4, 12, 7, 30, 112, 9, 1, 1',
      'ids 4,1,1,1,1,1;1,1,1,1,1,1,1,1,1,1',
      '10, 20, 30, 40, 50, 60, 70, 80',
    ])
      expect(scrubCardNumbers(list), list).toBe(list);
  });

  it('what containsCardNumber finds the scrubber masks, and what it does not the scrubber leaves as it is: random text', () => {
    const r = rng(4114);
    const PIECES = [
      ...[',', ', ', ';', ':', '|', '+', '#', '=', '&', "'", '"', '-', ' ', '  ', '.', '/', '\n', '\r\n> ', '\uff0c'],
      ...['x', 'O', 'l', 'and', 'ref', '%2C', '&#52;', '&nbsp;', '４', '\u200b', '*'],
    ];
    let found = 0;
    for (let i = 0; i < 20000; i++) {
      const pieces = Array.from({ length: r.int(2, 24) }, () =>
        r.next() < 0.5
          ? r.pick([
              String(r.int(0, 9)),
              String(r.int(10, 99)),
              String(r.int(100, 9999)),
              card(r).slice(0, r.int(1, 19)),
            ])
          : r.pick(PIECES),
      );
      const text = pieces.join('');
      const out = scrubCardNumbers(text);
      if (containsCardNumber(text)) {
        found++;
        expect(containsCardNumber(out), JSON.stringify([text, out])).toBe(false);
        expect(out, JSON.stringify(text)).not.toBe(text);
      } else expect(out, JSON.stringify(text)).toBe(text);
      expect(scrubCardNumbers(out), JSON.stringify(text)).toBe(out);
    }
    // The generator finds cards often enough for the property to mean something.
    expect(found).toBeGreaterThan(1000);
  });

  it('masks a card number forwarded percent-encoded, in parentheses, or written with JSON escapes in text that does not parse', () => {
    const pan = '4111111111111111';
    const fours = (sep: string) => [0, 4, 8, 12].map((i) => pan.slice(i, i + 4)).join(sep);
    for (const text of [fours('%20'), fours('%2D'), fours('%2b')])
      expect(scrubCardNumbers(`ref ${text} x`), text).toBe('ref 411111******1111 x');
    expect(scrubCardNumbers(`tel (4111) ${fours(' ').slice(5)} x`)).toBe('tel (411111******1111 x');
    expect(containsCardNumber(`id-${fours('%20')}`)).toBe(true);
    // Every digit percent-encoded, or some: the whole escape is masked.
    const encoded = [...pan].map((d) => `%3${d}`).join('');
    expect(scrubCardNumbers(`ref ${encoded} x`)).toBe('ref 411111******1111 x');
    expect(scrubCardNumbers(`ref%20${encoded.slice(0, 12)}%20${pan.slice(4)}`)).toBe('ref%20411111******1111');
    expect(containsCardNumber(`id-${encoded}`)).toBe(true);
    expect(scrubCardNumbers('50%30 off, 100%31 bonus')).toBe('50%30 off, 100%31 bonus');
    // Escapes read as what they stand for, the whole escape masked.
    const escaped = [...pan].map((d) => `\\u003${d}`).join('');
    const fullWidth = [...pan].map((d) => `\\uff1${d}`).join('');
    for (const text of [escaped, fullWidth, fours('\\t'), fours('\\n'), fours('\\u00a0')])
      expect(scrubJsonText(`{"line1":"${text}","n":1`), text).toBe('{"line1":"411111******1111","n":1');
    // Other escapes, numbers and plain text are left as they are.
    for (const text of ['{"a":"caf\\u00e9 12345","b":[1,2,3]', '{"q":"a\\"b\\\\c"}', 'no escapes 1234 5678'])
      expect(scrubJsonText(text), text).toBe(text);
  });

  it('masks a card number whose separators or digits are any percent escape or HTML character reference (found by a review)', () => {
    const pan = '4111111111111111';
    const fours = (sep: string) => [0, 4, 8, 12].map((i) => pan.slice(i, i + 4)).join(sep);
    // Each was stored in clear in cases and the flagged journal, and shown on the console.
    const separators = [
      ...['%2C', '%3A', '%3B', '%7C', '%23', '%26', '%3D', '%22', '%5B', '%3F', '%5C'],
      // UTF-8: a no-break space, an en dash, an ideographic space, ー, a full-width dash.
      ...['%C2%A0', '%E2%80%93', '%E3%80%80', '%E3%83%BC', '%EF%BC%8D'],
      // Encoded twice; HTML references.
      ...['%2520', '%252C', '&nbsp;', '&ndash;', '&#32;', '&#x2013;', '&NBSP;'],
    ];
    for (const sep of separators) {
      expect(scrubCardNumbers(`item: ${fours(sep)} end`), sep).toBe('item: 411111******1111 end');
      expect(containsCardNumber(`id-${fours(sep)}`), sep).toBe(true);
      expect(scrubJsonText(`{"note":"${fours(sep)}"`), sep).toBe('{"note":"411111******1111"');
    }
    // Digits encoded: full-width digits' UTF-8 bytes, decimal and hexadecimal references; the whole escape masked.
    const fullWidth = [...pan].map((d) => encodeURIComponent(String.fromCharCode(0xff10 + Number(d)))).join('');
    const decimal = [...pan].map((d) => `&#${48 + Number(d)};`).join('');
    const hex = [...pan].map((d) => `&#x3${d};`).join('');
    for (const text of [fullWidth, decimal, hex, `${decimal.slice(0, 20)}&#32;${pan.slice(4)}`]) {
      expect(scrubCardNumbers(`ref ${text} x`), text).toBe('ref 411111******1111 x');
      expect(containsCardNumber(text), text).toBe(true);
    }
    // Encoded text that holds no card, URLs and form bodies are left as they are.
    for (const text of [
      'https://shop.example/search?q=%E6%97%A5%E6%9C%AC&page=2&id=12345',
      'a=1&b=2&amp;c=%20x',
      'Tom &amp; Jerry &eacute; 4111 &copy; 2026',
      '50% off & more',
      'order%2012345%2C%2067890',
    ])
      expect(scrubCardNumbers(text), text).toBe(text);
  });

  it('masks a card number whose groups are joined by invisible characters, however many (found by a review)', () => {
    for (const gap of [
      '\u200b\u200b\u200b\u200b',
      '\u00ad\u00ad\u00ad\u00ad\u00ad',
      '\u2060'.repeat(12),
      ' \u200b \u200b ',
    ])
      expect(scrubCardNumbers(`x ${['4012', '8888', '8888', '1881'].join(gap)} y`), JSON.stringify(gap)).toBe(
        'x 401288******1881 y',
      );
  });

  it('leaves runs that fail the Luhn check alone', () => {
    const r = rng(77);
    for (let i = 0; i < 3000; i++) {
      const n = r.int(12, 19);
      const digits = nonLuhn(r, n);
      // Separators only where no part of the run is itself 12 digits or more: the run is one candidate.
      const written = writeDigits(r, separated(r, digits, randomCuts(r, n, Math.max(1, n - 11), Math.min(11, n - 1))));
      const text = textAround(r, written);
      expect(scrubCardNumbers(text), JSON.stringify(text)).toBe(text);
    }
    // Longer than any card number: not one.
    expect(scrubCardNumbers('41111111111111111111')).toBe('41111111111111111111');
    expect(scrubCardNumbers('order 12345 at 2026-11-23T10:00:00Z')).toBe('order 12345 at 2026-11-23T10:00:00Z');
  });

  it('leaves phone numbers alone', () => {
    const r = rng(5);
    for (let i = 0; i < 2000; i++) {
      const country = String(r.int(1, 998));
      const subscriber = nonLuhn(r, r.int(Math.max(4, 8 - country.length), 15 - country.length)).replace(
        /^./,
        String(r.int(1, 9)),
      );
      // Digits that begin as a 14- or 15-digit Diners Club or American Express card are masked even
      // after a "+" (below); no country's numbers are that long with such a code.
      if (/^3[0346789]/.test(country) && country.length + subscriber.length >= 14) continue;
      // Nor are 13 digits beginning with 4 that pass Luhn (a 13-digit Visa card).
      if (/^4/.test(country) && country.length + subscriber.length === 13 && luhn(country + subscriber)) continue;
      const e164 = `+${country}${r.pick([' ', '-', ''])}${separated(r, subscriber, randomCuts(r, subscriber.length))}`;
      const national = r.pick([
        `0${r.int(10, 99)}-${r.int(1000, 9999)}-${r.int(1000, 9999)}`,
        `(${r.int(200, 999)}) ${r.int(200, 999)}-${r.int(1000, 9999)}`,
        `0${r.int(1000, 9999)} ${r.int(100000, 999999)}`,
      ]);
      for (const phone of [
        e164,
        writeDigits(r, national),
        `${e164.replace(/\d/g, (d) => String.fromCodePoint(0xff10 + Number(d)))}`,
      ]) {
        const text = textAround(r, phone);
        expect(scrubCardNumbers(text), JSON.stringify(text)).toBe(text);
      }
    }
  });

  it('leaves dates alone, one or several in a row', () => {
    const r = rng(9);
    const two = (n: number) => String(n).padStart(2, '0');
    const date = () => {
      const [y, m, d] = [r.int(1950, 2080), r.int(1, 12), r.int(1, 28)];
      return r.pick([
        `${y}-${two(m)}-${two(d)}`,
        `${two(d)}/${two(m)}/${y}`,
        `${m}/${d}/${y}`,
        `${y}.${two(m)}.${two(d)}`,
        `${y}/${m}/${d}`,
        `${y}${two(m)}${two(d)}`,
        `${two(d)}.${two(m)}.${two(y % 100)}`,
      ]);
    };
    for (let i = 0; i < 3000; i++) {
      const dates = Array.from({ length: r.int(1, 4) }, date).join(r.pick([' ', ' - ', '-', '/', ' / ', '  ']));
      const text = textAround(r, writeDigits(r, dates, false) + r.pick(['', ' 10:30', 'T10:30:00Z']));
      expect(scrubCardNumbers(text), JSON.stringify(text)).toBe(text);
    }
  });

  it('leaves epoch times alone (13, 16 or 19 digits beginning with 1: ms, µs, ns), and never joins them into a card', () => {
    const r = rng(33);
    for (let i = 0; i < 2000; i++) {
      const ms = r.int(1_000_000_000_000, 1_999_999_999_999);
      const stamp = r.pick([String(ms), `${ms}${r.int(100, 999)}`, `${ms}${r.int(100_000, 999_999)}`]);
      for (const id of [
        `k-${stamp}`,
        `b${ms}-${r.int(1, 9999)}-${r.int(0, 9_999_999)}-${stamp}`,
        stamp,
        `${r.int(1, 99999)}-${stamp}`,
        `${stamp}-${r.int(1, 999)}`,
      ]) {
        expect(containsCardNumber(id), id).toBe(false);
        expect(scrubCardNumbers(`ts=${id} done`)).toBe(`ts=${id} done`);
      }
    }
  });

  it('scrubs every string of a structure, keys included, and leaves numbers and booleans', () => {
    const value = {
      items: [{ name: 'gift ４１１１１１１１１１１１１１１１' }],
      note: null,
      n: 4111111111111111,
      ok: true,
      nested: { 'k 5555 5555 5555 4444': ['5555555555554444'] },
    };
    expect(scrubDeep(value)).toEqual({
      items: [{ name: 'gift 411111******1111' }],
      note: null,
      n: 4111111111111111,
      ok: true,
      nested: { 'k 555555******4444': ['555555******4444'] },
    });
  });
});

describe('card numbers split across lines or typed to slip past a filter', () => {
  /** As cards print them: fours (the last group shorter), or 4-6-5 for 15 digits. */
  const printed = (r: Rng, pan: string) => {
    const lengths =
      pan.length === 15 && r.int(0, 1) === 1
        ? [4, 6, 5]
        : Array.from({ length: Math.ceil(pan.length / 4) }, (_, k) => Math.min(4, pan.length - 4 * k));
    let at = 0;
    return lengths.map((n) => pan.slice(at, (at += n)));
  };
  /** The digits a reader would take from the text, look-alike letters read as digits. */
  const readDigits = (text: string) =>
    flat(text)
      .replace(/[Oo]/g, '0')
      .replace(/[Il]/g, '1')
      .replace(/[^0-9]/g, '');
  const expectMasked = (text: string, pan: string) => {
    const out = scrubCardNumbers(text);
    expect(readDigits(out), JSON.stringify(text)).not.toContain(pan);
    expect(scrubCardNumbers(out), JSON.stringify(text)).toBe(out);
    return out;
  };
  /** Card numbers that begin as a card network's (not the '9' card() also makes). */
  const networkCard = (r: Rng) => {
    for (;;) {
      const pan = card(r);
      if (!pan.startsWith('9')) return pan;
    }
  };

  it('masks a card number split across lines, with the spaces, dash or quote marks around a break', () => {
    const r = rng(2611);
    const BREAKS = ['\n', '\r\n', '\r', '\u2028', '\u2029', '\u0085', '\n\n', '\r\n\r\n'];
    // What ends the line (a space, a dash or slash where the number was cut) and begins the next
    // (indentation, an email's quote marks).
    const ENDS = ['', ' ', ' -', '-', ' /', '.'];
    const STARTS = ['', ' ', '  ', '\t', '      ', '> ', '>> ', '\t\t'];
    for (let i = 0; i < 2000; i++) {
      const pan = card(r);
      const groups = printed(r, pan);
      const written = groups
        .map((g, k) =>
          k === 0
            ? g
            : `${r.next() < 0.5 ? `${r.pick(ENDS)}${r.pick(BREAKS)}${r.pick(STARTS)}` : r.pick([' ', '-'])}${g}`,
        )
        .join('');
      const text = textAround(r, writeDigits(r, written));
      expect(expectMasked(text, pan), JSON.stringify(text)).toContain(masked(pan));
    }
    expect(scrubCardNumbers('card 4111 1111\n1111 1111')).toBe('card 411111******1111');
    expect(scrubCardNumbers('4111111111\r\n111111')).toBe('411111******1111');
    expect(scrubCardNumbers('card 4111 1111 -\r\n      1111 1111 thanks')).toBe('card 411111******1111 thanks');
    expect(scrubCardNumbers('> card 4111 1111\r\n> 1111 1111')).toBe('> card 411111******1111');
    expect(scrubCardNumbers('4111 1111\u0085            1111 1111')).toBe('411111******1111');
    expect(scrubCardNumbers('4111\u2028\u20281111 1111 1111')).toBe('411111******1111');
    // An identifier split across lines holds one too.
    expect(containsCardNumber('4111-1111-\n  1111-1111')).toBe(true);
    // Numbers on separate lines that are no card: dates, times, a phone number, amounts, sizes.
    for (const text of [
      'Call +44 20 7946 0958\nLeave it at the door',
      'Order 12345\r\nDelivered 2026-11-23 10:30',
      '2026-11-23\n2026-11-24\n2026-11-25',
      '10:30\n11:45\n12:15\n13:05',
      'parcel 1 of 3: 40 x 30 x 20 cm\nparcel 2 of 3: 40 x 30 x 20 cm',
      'delivered 23/11/2026\n> see note 4711 and 0815',
    ])
      expect(scrubCardNumbers(text), JSON.stringify(text)).toBe(text);
  });

  it('masks a card number with one short word, or single letters, between its groups', () => {
    const r = rng(2612);
    const WORDS = [' x ', 'x', ' X ', ' and ', ' und ', ' y ', ' et ', '-x-', ' / x / ', ' o ', ' и '];
    const LETTERS = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';
    for (let i = 0; i < 2000; i++) {
      const pan = networkCard(r);
      const groups = printed(r, pan);
      const same = r.pick(WORDS.filter((w) => /\p{L}/u.test(w)));
      const glued = r.next() < 0.5;
      const gaps = groups.slice(1).map(() => {
        if (r.next() < 0.2) return ' ';
        if (r.int(0, 1) === 0) return same;
        const letter = LETTERS[r.int(0, LETTERS.length - 1)]!;
        return glued ? letter : ` ${letter} `;
      });
      // Either the one word everywhere (with some plain gaps), or single letters everywhere.
      const oneWord = gaps.every((g) => g === ' ' || g === same);
      const letters = gaps.every((g) => g === ' ' || g.trim().length === 1);
      if (!oneWord && !letters) continue;
      const written = groups.map((g, k) => (k === 0 ? g : `${gaps[k - 1]}${g}`)).join('');
      const text = `${r.pick(['', 'card ', 'no: ', '(', 'カード番号 '])}${writeDigits(r, written)}${r.pick(['', ' thanks', '.', ')', ' 東京'])}`;
      expect(expectMasked(text, pan), JSON.stringify(text)).toContain(masked(pan));
    }
    expect(scrubCardNumbers('card 4111 x 1111 x 1111 x 1111 exp 12/30')).toBe('card 411111******1111 exp 12/30');
    expect(scrubCardNumbers('4111a1111b1111c1111')).toBe('411111******1111');
    expect(scrubCardNumbers('4111 and 1111 and 1111 and 1111')).toBe('411111******1111');
    expect(scrubCardNumbers('4111 1111 y 1111 1111')).toBe('411111******1111');
    expect(scrubCardNumbers('Amex 3782 x 822463 x 10005.')).toBe('Amex 378282******005.');
    expect(containsCardNumber('order-4111x1111x1111x1111')).toBe(true);
    // The words of a sentence, years, groups no card has, a hexadecimal id: left alone, though the
    // digits of the first two pass Luhn.
    for (const text of [
      'paid 4000 of 5000 in 2023',
      'id e4111a1111b1111c1111f',
      'from 2021 to 2022 to 2023 to 2024',
      'ids 41234 and 12345 and 12346',
      'Box 40 x 30 x 20 cm, 2 kg, order 1234 of 5678',
      'Ring at 10:30 and 11:45 or 12:15',
    ]) {
      expect(scrubCardNumbers(text), text).toBe(text);
      expect(containsCardNumber(text.replaceAll(' ', '-')), text).toBe(false);
    }
  });

  it('masks a card number with O, o, I or l typed for some of its digits', () => {
    const r = rng(2613);
    for (let i = 0; i < 2000; i++) {
      const pan = card(r);
      const zerosAndOnes = [...pan].flatMap((d, k) => (d === '0' || d === '1' ? [k] : []));
      if (zerosAndOnes.length === 0) continue;
      const typed = [...pan];
      for (let n = r.int(1, Math.min(4, zerosAndOnes.length)); n > 0; n--) {
        const k = r.pick(zerosAndOnes);
        typed[k] = pan[k] === '0' ? r.pick(['O', 'o']) : r.pick(['I', 'l']);
      }
      let at = 0;
      const groups = printed(r, pan).map((g) => typed.slice(at, (at += g.length)).join(''));
      // The documented limit: a word of look-alikes alone ("O", "IIII") is a word, not digits.
      if (groups.some((g) => !/[0-9]/.test(g))) continue;
      const written = r.next() < 0.3 ? groups.join('') : groups.join(r.pick([' ', '-', '.', '  ', ' / ']));
      const text = `${r.pick(['', 'card ', 'no: ', '(', '#'])}${written}${r.pick(['', ' thanks', '.', ')', ', exp 12/30'])}`;
      expectMasked(text, pan);
    }
    expect(scrubCardNumbers('card 4111 1111 1111 111l')).toBe('card 411111******1111');
    expect(scrubCardNumbers('6O11 OOO9 9O13 9424.')).toBe('601100******9424.');
    expect(scrubCardNumbers('4lll 1111 1111 1111')).toBe('411111******1111');
    expect(containsCardNumber('ref-4111-1111-1111-111I')).toBe(true);
    // Beside a card typed in digits, a look-alike does not hide it.
    expect(scrubCardNumbers('Ol4111111111111111')).toBe('Ol411111******1111');
    // Look-alikes in words, too few digits, or touching letters: left alone (the digits of the
    // first two pass Luhn).
    for (const text of [
      'Room 101, 10oz, lot 1O1 and l0l, 2026-11-23 10:30',
      'the 4000 Oak Rd, 5000 l Ave, 2023 O St',
      'v1.0.1 of lib-0.1.10 and l0 11O',
      'lOl IOI 1O1 l0l',
    ])
      expect(scrubCardNumbers(text), text).toBe(text);
  });
});

describe('a card number split across the lines of an address', () => {
  it('is masked where it begins when the lines are scrubbed as the text they show, the rest taken out of the lines after (found by a review)', () => {
    const r = rng(4115);
    for (let i = 0; i < 2000; i++) {
      const pan = card(r);
      // Cut in two or three pieces between digits, each on its own line, text around them or not.
      const cut = () => {
        const two = [r.int(1, pan.length - 1), r.int(1, pan.length - 1)].sort((a, b) => a - b);
        return r.next() < 0.5 ? [two[0]!] : [...new Set(two)];
      };
      let cuts = cut();
      // The documented exception: a group shaped like an epoch time (13, 16, 19 digits beginning with 1).
      while (groupsOf(pan, cuts).some((g) => [13, 16, 19].includes(g.length) && g.startsWith('1'))) cuts = cut();
      const pieces = groupsOf(pan, cuts).map((p) =>
        separated(
          r,
          p,
          randomCuts(r, p.length, 1, p.length - 1).filter(() => r.next() < 0.3),
        ),
      );
      const lines = pieces.map((p, k) =>
        k === 0
          ? `${r.pick(['', 'Rue ', 'Jane '])}${p}`
          : `${p}${k === pieces.length - 1 ? r.pick(['', ' Paris']) : ''}`,
      );
      // The documented exception again, for groups the separators made.
      if (
        lines
          .join(' ')
          .match(/\d+/g)!
          .some((g) => [13, 16, 19].includes(g.length) && g.startsWith('1'))
      )
        continue;
      const out = scrubLines(lines);
      expect(out, JSON.stringify(lines)).toHaveLength(lines.length);
      expect(flat(out.join('\n')), JSON.stringify(lines)).not.toContain(pan);
      expect(out.join('\n'), JSON.stringify(lines)).toContain(maskPan(pan));
      // Masked once, nothing more: each line and the lines together hold no card.
      expect(scrubLines(out)).toEqual(out);
      for (const line of out) expect(containsCardNumber(line), line).toBe(false);
    }
    expect(scrubLines(['4111 1111', '1111 1111', 'Paris'])).toEqual(['411111******1111', '', 'Paris']);
    expect(scrubLines(['Jane', '12 rue 4111 1111', '1111 1111 apt 5', '75001'])).toEqual([
      'Jane',
      '12 rue 411111******1111',
      'apt 5',
      '75001',
    ]);
    // Lines that hold no card, or one each, are as scrubCardNumbers leaves them.
    expect(scrubLines(['Jane Doe', '12 rue de la Paix', '75002', 'Paris'])).toEqual([
      'Jane Doe',
      '12 rue de la Paix',
      '75002',
      'Paris',
    ]);
    expect(scrubLines(['4111 1111 1111 1111', 'Paris', '5555 5555 5555 4444'])).toEqual([
      '411111******1111',
      'Paris',
      '555555******4444',
    ]);
  });

  it('an address is scrubbed as the console shows it, and a scoring request stored so (found by a review)', () => {
    const split = { name: 'Jane', line1: '4111 1111', line2: '1111 1111', city: 'Paris', country: 'FR' };
    expect(scrubAddress(split)).toEqual({ name: 'Jane', line1: '411111******1111', city: 'Paris', country: 'FR' });
    // The console's order: name, line1, line2, postal code, city, region.
    expect(scrubAddress({ line2: '5555 5555', postalCode: '5555 4444', city: 'Lyon' })).toEqual({
      line2: '555555******4444',
      city: 'Lyon',
    });
    const plain = { name: 'Jane', line1: '12 rue de la Paix', postalCode: '75002', city: 'Paris', country: 'FR' };
    expect(scrubAddress(plain)).toBe(plain);
    const { personal } = sanitiseRequest(
      {
        ...scoreRequestSchema.parse({
          transactionId: 'order-1',
          amount: 100,
          currency: 'EUR',
          channel: 'ecommerce',
          card: { number: '4000056655665556', expiryMonth: 12, expiryYear: 2030 },
          billingAddress: { name: '5555 5555', line1: '5555 4444 Main St' },
          shippingAddress: split,
        }),
      },
      { bin: '400005', last4: '5556' },
    );
    expect(personal).toMatchObject({
      billingAddress: { name: '555555******4444', line1: 'Main St' },
      shippingAddress: { line1: '411111******1111', city: 'Paris' },
    });
    expect(personal!.shippingAddress).not.toHaveProperty('line2');
  });

  it("a dead letter masks a card split across an address's lines", () => {
    const parsed = {
      transactionId: 'x',
      shippingAddress: { name: 'Jane', line1: '4111 1111', line2: '1111 1111', city: 'Paris' },
    };
    const dead = deadLetterMessage({
      reason: 'schema_violation',
      details: [],
      source: { topic: 't', partition: 0, offset: '1' },
      key: null,
      timestamp: '0',
      raw: JSON.stringify(parsed),
      parsed,
    });
    const address = (dead.payload as { shippingAddress: Record<string, string> }).shippingAddress;
    // The lines as they are shown, one under the other.
    expect(flat(Object.values(address).join('\n'))).not.toContain('4111111111111111');
    expect(address).toEqual({ name: 'Jane', line1: '411111******1111', city: 'Paris' });
  });
});

describe('identifiers refuse card numbers', () => {
  const PANS = [
    '4000-0566-5566-5556',
    '4OOO-O566-5566-5556',
    'order_4000x0566x5566x5556',
    '4000:0566:5566:5556',
    '4000.0566.5566.5556',
    'order_4000056655665556',
    '4000056655665556',
    '4000 0566 5566 5556',
    '４０００-０５６６-５５６６-５５５６',
    'x,4000,0566,5566,5556',
  ];

  it('finds a card number in an identifier, with any punctuation between the digits', () => {
    for (const id of PANS) expect(containsCardNumber(id), id).toBe(true);
    for (const id of [
      'order-1001',
      '550e8400-e29b-41d4-a716-446655440000',
      'A1B2C3',
      '2026-11-23T10:00:00Z',
      'shop-7',
      '123456789012',
    ])
      expect(containsCardNumber(id), id).toBe(false);
  });

  it('anything an identifier check accepts passes the scrubber unchanged', () => {
    const r = rng(21);
    for (let i = 0; i < 3000; i++) {
      const pieces = Array.from({ length: r.int(1, 6) }, () =>
        r.pick([
          ...[String(r.int(0, 99999)), 'ab', card(r).slice(0, r.int(2, 19)), '-', '.', ':', '_', ' ', 'x', '２０'],
          // Letters and line breaks that may join groups, or be digits.
          ...['l', 'O', 'and', '\n', '\r\n> '],
        ]),
      );
      const id = pieces.join(r.pick(['', '-', ':', '.']));
      if (!containsCardNumber(id)) expect(scrubCardNumbers(id), id).toBe(id);
    }
  });

  it('transactionId, customer.id and device.id: refused with a precise error that never repeats the number', () => {
    for (const id of PANS.filter((p) => /^[A-Za-z0-9._:-]+$/.test(p))) {
      const parsed = transactionIdSchema.safeParse(id);
      expect(parsed.success, id).toBe(false);
      const message = JSON.stringify(parsed.error!.issues);
      expect(message).toContain('card number');
      expect(message).not.toMatch(/\d{4}/);
    }
    const base = {
      transactionId: 'order-1',
      amount: 100,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030 },
    };
    for (const pan of PANS) {
      for (const over of [{ customer: { id: pan } }, { device: { id: `dev ${pan}` } }]) {
        const parsed = scoreRequestSchema.safeParse({ ...base, ...over });
        expect(parsed.success, JSON.stringify(over)).toBe(false);
        expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual([
          Object.keys(over)[0] === 'customer' ? 'customer.id' : 'device.id',
        ]);
        expect(JSON.stringify(parsed.error!.issues)).not.toMatch(/\d{4}|[０-９]{4}/);
      }
    }
    expect(scoreRequestSchema.safeParse({ ...base, customer: { id: 'cust-42' }, device: { id: 'd-42' } }).success).toBe(
      true,
    );
    expect(transactionMessageSchema.safeParse({ ...base, merchantId: '4000.0566.5566.5556' }).success).toBe(false);
  });
});

describe('every writer uses it', () => {
  it('the log sink masks full-width and separated card numbers', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => lines.push(l) });
    log.info(
      { note: 'name ４１１１ １１１１ １１１１ １１１１', other: '5555.5555.5555.4444', third: '3782/822463/10005' },
      'typed 4000-0566-5566-5556',
    );
    const text = lines.join('');
    for (const pan of ['4111111111111111', '5555555555554444', '378282246310005', '4000056655665556'])
      expect(flat(text)).not.toContain(pan);
    expect(text).toContain('411111******1111');
    // Masked in a bare number, a line is still JSON (log pipelines drop lines that are not).
    lines.length = 0;
    log.info(
      {
        card: 4111111111111111,
        ids: [4111, 1111, 1111, 1111],
        big: 4111111111111111e3, // a 19-digit number, as a client's JSON would carry one
        at: 1765000000000,
        n: 7,
      },
      'numbers',
    );
    const entry = JSON.parse(lines.join('')) as Record<string, unknown>;
    expect(entry).toMatchObject({ card: '411111******1111', ids: '411111******1111', at: 1765000000000, n: 7 });
    expect(String(entry.big)).toMatch(/^411111\*+\d{4}$/);
    // A card as a list of quoted groups (Python's json.dumps): on the line, its quotes escaped (found by a review).
    lines.length = 0;
    const groups = [
      '["4111", "1111", "1111", "1111"]',
      "('5555', '5555', '5555', '4444')",
      '[\n  "3782",\n  "822463",\n  "10005"\n]',
    ];
    log.info({ note: groups[0], other: groups[1], third: groups[2] }, `typed ${groups[0]}`);
    const quoted = lines.join('');
    for (const pan of ['4111111111111111', '5555555555554444', '378282246310005'])
      expect(flat(quoted)).not.toContain(pan);
    expect(JSON.parse(quoted)).toMatchObject({
      note: '["411111******1111"]',
      other: "('555555******4444')",
      third: '[\n  "378282******005"\n]',
      msg: 'typed ["411111******1111"]',
    });
  });

  it('the stream outputs: decisions and dead letters', () => {
    const response = {
      transactionId: 'order-1',
      score: 80,
      decision: 'review' as const,
      reasons: [],
      checks: {
        velocity: 'evaluated' as const,
        rules: 'evaluated' as const,
        watchlist: 'evaluated' as const,
        model: 'not_configured' as const,
      },
      degraded: false,
      versions: { engine: '0.1.0', ruleset: 'x' },
    };
    const decision = decisionMessage(
      '4000.0566.5566.5556',
      response,
      { bin: '400005', last4: '5556', fingerprint: 'fp', keyId: 'k' },
      false,
      { topic: 't', partition: 0, offset: '1' },
    );
    expect(flat(JSON.stringify(decision))).not.toContain('4000056655665556');
    const payload = {
      transactionId: 'x',
      items: [{ name: '４０００ ０５６６ ５５６６ ５５５６' }],
      merchantId: '4000.0566.5566.5556',
    };
    const dead = deadLetterMessage({
      reason: 'schema_violation',
      details: [],
      source: { topic: 't', partition: 0, offset: '1' },
      key: '４０００-０５６６-５５６６-５５５６',
      timestamp: '0',
      raw: JSON.stringify(payload),
      parsed: payload,
    });
    expect(flat(JSON.stringify(dead))).not.toContain('4000056655665556');
    // A payload that does not parse keeps its text: card numbers written with JSON escapes are masked in it.
    for (const raw of [
      '{"shippingAddress":{"line1":"4000\\t0566\\t5566\\t5556"}',
      `{"line1":"${[...'4000056655665556'].map((d) => `\\uff1${d}`).join('')}"`,
    ]) {
      const letter = deadLetterMessage({
        reason: 'invalid_json',
        details: [],
        source: { topic: 't', partition: 0, offset: '3' },
        key: null,
        timestamp: '0',
        now: new Date(0),
        raw,
      });
      expect(JSON.stringify(letter.payload), raw).toContain('400005******5556');
    }
    // Every security-code name the API refuses is removed from a dead letter, parsed or not.
    const codes = { card: { cvn: '123', CAV2: 456, 'security-code': '789', Cvd: '321' } };
    for (const [parsed, raw] of [
      [codes, JSON.stringify(codes)],
      [undefined, `not json ${JSON.stringify(codes)}`],
    ] as const) {
      const letter = deadLetterMessage({
        reason: 'schema_violation',
        details: [],
        source: { topic: 't', partition: 0, offset: '2' },
        key: null,
        timestamp: '0',
        // A fixed time: the letter's own dates hold no digits the check could mistake.
        now: new Date(0),
        raw,
        ...(parsed ? { parsed } : {}),
      });
      expect(JSON.stringify(letter)).not.toMatch(/123|456|789|321/);
    }
  });

  it("dead letters: a card split across array items or neighbouring fields, and gateways' names for the security code (found by a review)", () => {
    const letterOf = (parsed: unknown) =>
      deadLetterMessage({
        reason: 'schema_violation',
        details: [],
        source: { topic: 't', partition: 0, offset: '4' },
        key: null,
        timestamp: '0',
        now: new Date(0),
        raw: JSON.stringify(parsed),
        parsed,
      });
    for (const split of [
      { card: { pan: [4111, 1111, 1111, 1111] } },
      { card: { pan: ['4111', '1111', '1111', '1111'] } },
      { payment: { cardNumber: { a: '4111', b: '1111', c: '1111', d: '1111' } } },
      { card: { pan1: '411111', pan2: '1111111111' } },
      { x: [41111111, 11111111] },
      { card: { pan1: '411111', pan2: '1111111111', cvv: '123' } },
    ]) {
      const letter = letterOf(split);
      expect(JSON.stringify(letter.payload), JSON.stringify(split)).not.toMatch(/1111/);
      expect(flat(JSON.stringify(letter))).not.toContain('4111111111111111');
    }
    // Numbers side by side that are no card stay readable: an amount and an expiry, a list of ids.
    const ordinary = { amount: 1999, expiryMonth: 12, expiryYear: 2030, items: [3, 14, 15], ids: ['1234', '5678'] };
    expect(letterOf(ordinary).payload).toEqual(ordinary);
    // A card whole beside other numbers: masked as itself, its neighbours left (an id and an amount
    // that happen to read as a card together are no split card).
    expect(letterOf({ transactionId: '4705931234561865', amount: 1999 }).payload).toEqual({
      transactionId: '470593******1865',
      amount: 1999,
    });
    expect(letterOf({ transactionId: '12345678', amount: 10001, currency: 'EUR' }).payload).toEqual({
      transactionId: '12345678',
      amount: 10001,
      currency: 'EUR',
    });
    const codes = {
      card: { cardCode: '123' },
      x_card_code: '456',
      payment: { securityNumber: '789' },
      cardVerificationNumber: '321',
    };
    const letter = letterOf(codes);
    expect(JSON.stringify(letter)).not.toMatch(/123|456|789|321/);
    expect(
      JSON.stringify(
        deadLetterMessage({
          reason: 'invalid_json',
          details: [],
          source: { topic: 't', partition: 0, offset: '5' },
          key: null,
          timestamp: '0',
          now: new Date(0),
          raw: 'amount=10&card[code]=123&x_card_code=456',
        }),
      ),
    ).not.toMatch(/123|456/);
  });
});
