// Upload lines and the upload loop: the same accepted syntax as before, in linear time whatever
// the line, and scoring let in by bytes as well as by lines (issue #13: a backtracking pattern let
// one upload of space-padded lines freeze the engine).
import { describe, expect, it } from 'vitest';
import {
  cardSlot,
  encodeEntry,
  expiryTag,
  parseCsvLine,
  type CardToList,
  type EntrySlot,
  type WatchlistStore,
} from '../../services/core/watchlist.ts';
import { readerPool } from '../../services/watchlist/reader-pool.ts';
import {
  REJECTED_BEFORE_ANY_CARD,
  uploadCardList,
  UploadRefused,
  UploadStoreFailed,
} from '../../services/watchlist/upload.ts';

// The pattern the parser used to run: kept here as the reference of the accepted syntax, and
// only ever given short lines.
const OLD_CSV_LINE = /^\s*([0-9]+)\s*(?:,\s*([0-9]{1,2})\s*,\s*([0-9]{2,4})\s*)?,?\s*$/;
const now = new Date('2026-06-01T00:00:00Z');
const PAN = '4111111111111111';

/** The spreadsheet forms (quotes, `;`, grouped digits, `MM/YY`) as patterns: the reference, for short lines only. */
const SPREADSHEET_LINE = [',', ';'].map((sep) => {
  const field = (x: string) => `\\s*(?:"\\s*(?:${x})\\s*"|${x})\\s*`;
  const grouped = [' ', '-'].map((g) => `[0-9]{4}(?:${g}[0-9]{4})*${g}[0-9]{1,4}|[0-9]{4}${g}[0-9]{6}${g}[0-9]{4,5}`);
  const pan = field(['[0-9]+', ...grouped].join('|'));
  // An expiry field may be blank (a spreadsheet's empty cell, quoted or not): no expiry, or half of one.
  const expiry = `${sep}${field('[0-9]{1,2}|')}${sep}${field('[0-9]{2,4}|')}|${sep}${field('[0-9]{1,2}/(?:[0-9]{2}|[0-9]{4})|')}`;
  return new RegExp(`^${pan}(?:${expiry})?(?:${sep}\\s*)?$`);
});

function reference(line: string): { pan: string; month?: string; year?: string } | null {
  const m = OLD_CSV_LINE.exec(line);
  return m ? { pan: m[1]!, ...(m[2] === undefined ? {} : { month: m[2], year: m[3]! }) } : null;
}

/** Best of a few runs: the machine is shared, the minimum is the parser's own cost. */
function msToParse(lines: string[]): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    for (const line of lines) parseCsvLine(line, now);
    best = Math.min(best, performance.now() - start);
    if (best > 1_000) break; // far over any bound: no need to confirm it
  }
  return best;
}

describe('CSV upload lines', () => {
  it('reads every line the former pattern accepted as it did, and refuses the others unless they are a spreadsheet form', () => {
    // Every line up to a length over an alphabet of the pattern's parts: digits, separators, white space of every kind.
    const pieces = [
      '1',
      '0',
      '12',
      PAN,
      ',',
      ' ',
      '\t',
      '\u00a0',
      '\u3000',
      '\ufeff',
      'x',
      '-',
      '123',
      '2029',
      '7',
      '"',
      ';',
      '/',
      '4111',
    ];
    let random = 42;
    const next = () => (random = (random * 1_103_515_245 + 12_345) % 2 ** 31);
    const lines = new Set<string>([
      '',
      ' ',
      ',',
      `${PAN},`,
      `${PAN},12,2029,`,
      `${PAN} , 12 , 2029 , `,
      `${PAN},12,`,
      `${PAN},,2029`,
      `${PAN},12,2029,,`,
      `,${PAN}`,
      `${PAN},1,29`,
      `${PAN},123,2029`,
      `${PAN},12,20291`,
      `${PAN},12,2`,
      `"${PAN}","12","2029"`,
      `"${PAN}";"12/29";`,
      `4111 1111 1111 1111;12;2029`,
      `4111-1111-1111-1111,12/2029`,
      `4111 1111 1111 1111 12 29`,
      `${PAN},12;2029`,
      `${PAN},12/29,2029`,
      `"${PAN}`,
      `""${PAN}""`,
    ]);
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + (next() % 7);
      let line = '';
      for (let j = 0; j < n; j++) line += pieces[next() % pieces.length];
      lines.add(line);
    }
    // And lines of fields like a spreadsheet's, quoted or not, between , or ; (mixed, at times).
    // The high bits: the generator's low bits repeat in short cycles.
    const pick = (n: number) => Math.floor((next() / 2 ** 31) * n);
    const values = [PAN, '4111 1111 1111 1111', '4111-1111-1111-1111', '4111 1111', '3782 822463 10005', '12', '1'];
    const more = ['12/30', '7/2029', '12/203', '2029', '29', '', ' ', 'x'];
    for (let i = 0; i < 5_000; i++) {
      const fields = Array.from({ length: 1 + pick(4) }, (_, j) => {
        const choices = j === 0 ? values : [...values.slice(5), ...more];
        const value = choices[pick(choices.length)]!;
        return pick(2) === 0 ? `"${value}"` : pick(3) === 0 ? ` ${value} ` : value;
      });
      lines.add(fields.reduce((line, f) => `${line}${pick(5) === 0 ? ';' : ','}${f}`));
      lines.add(fields.join(';'));
    }
    let spreadsheet = 0;
    for (const line of lines) {
      const ref = reference(line);
      const got = parseCsvLine(line, now);
      if (!ref) {
        // A spreadsheet form is read; anything else is refused as malformed, with what was expected.
        if (SPREADSHEET_LINE.some((form) => form.test(line))) {
          spreadsheet++;
          if (!got.ok)
            expect({ line, reason: got.reason }).not.toMatchObject({ reason: expect.stringMatching(/^expected /) });
          continue;
        }
        expect({ line, got }).toMatchObject({
          line,
          got: {
            ok: false,
            reason: expect.stringMatching(/^expected pan\[,expiry_month,expiry_year\]/),
            masked: '(unreadable)',
          },
        });
        continue;
      }
      // Syntax accepted: what follows is the card's own validation, as before.
      if (got.ok) {
        const year =
          ref.year === undefined ? undefined : Number(ref.year) < 100 ? 2000 + Number(ref.year) : Number(ref.year);
        expect({ line, pan: got.card.pan, month: got.card.expiryMonth, year: got.card.expiryYear }).toEqual({
          line,
          pan: ref.pan,
          month: ref.month === undefined ? undefined : Number(ref.month),
          year,
        });
      } else {
        expect({ line, reason: got.reason }).not.toMatchObject({ reason: expect.stringMatching(/^expected /) });
      }
    }
    expect(spreadsheet).toBeGreaterThan(200);
  });

  it('reads the forms of spreadsheet exports: quoted fields, ; between fields, grouped digits, MM/YY', () => {
    const card = { ok: true, card: { pan: PAN, expiryMonth: 12, expiryYear: 2030 } };
    for (const line of [
      `"${PAN}","12","2030"`,
      ` "${PAN}" , " 12 ",2030,`,
      `${PAN};12;2030`,
      `"${PAN}";"12";"2030";`,
      `4111 1111 1111 1111,12,2030`,
      `4111-1111-1111-1111;12;30`,
      `${PAN},12/30`,
      `${PAN},12/2030`,
      `"4111 1111 1111 1111";"12/30"`,
    ])
      expect({ line, got: parseCsvLine(line, now) }).toEqual({ line, got: card });
    expect(parseCsvLine('"4111 1111 1111 1111"', now)).toEqual({ ok: true, card: { pan: PAN } });
    expect(parseCsvLine(`${PAN},7/29`, now)).toEqual({
      ok: true,
      card: { pan: PAN, expiryMonth: 7, expiryYear: 2029 },
    });
    // Amex (4-6-5), Diners (4-6-4), a 19-digit card (4-4-4-4-3).
    expect(parseCsvLine('3782 822463 10005', now)).toEqual({ ok: true, card: { pan: '378282246310005' } });
    expect(parseCsvLine('3056-930902-5904', now)).toEqual({ ok: true, card: { pan: '30569309025904' } });
    expect(parseCsvLine('6304 0000 0000 0000 018', now)).toEqual({ ok: true, card: { pan: '6304000000000000018' } });
    // Grouped digits are checked as any card number: masked, never repeated.
    expect(parseCsvLine('4111 1111 1111 1112;12/30', now)).toEqual({
      ok: false,
      reason: 'card number fails the Luhn check',
      masked: '411111******1112',
    });
    expect(parseCsvLine(`${PAN};13/30`, now)).toMatchObject({ ok: false, reason: 'expiry month must be 1 to 12' });
  });

  it('reads blank expiry cells as no expiry known, as the card alone, and says which half of a half-filled expiry is missing', () => {
    // A 3-column export (pan,expiry_month,expiry_year) of a card whose expiry is not known.
    for (const line of [
      `${PAN},,`,
      `${PAN},,,`,
      `${PAN} , , `,
      `"${PAN}","",""`,
      `"${PAN}",,`,
      `"${PAN}";"";"";`,
      `${PAN};;`,
      `${PAN}; ;`,
      `${PAN},""`,
      `${PAN};"";`,
      `4111 1111 1111 1111,,`,
    ])
      expect({ line, got: parseCsvLine(line, now) }).toEqual({ line, got: { ok: true, card: { pan: PAN } } });
    // One cell of two filled: rejected as an expiry that cannot be used, the card masked (INVALID_EXPIRY).
    const noYear = 'expiry needs both month and year (a month without a year)';
    const noMonth = 'expiry needs both month and year (a year without a month)';
    for (const [line, reason] of [
      [`${PAN},12,`, noYear],
      [`${PAN},12,,`, noYear],
      [`${PAN};12;""`, noYear],
      [`"${PAN}","12",""`, noYear],
      [`${PAN},,2030`, noMonth],
      [`${PAN};"";30;`, noMonth],
    ] as const)
      expect({ line, got: parseCsvLine(line, now) }).toEqual({
        line,
        got: { ok: false, reason, masked: '411111******1111' },
      });
    // The card is checked first, as on any line.
    expect(parseCsvLine('4111111111111112,12,', now)).toMatchObject({ reason: 'card number fails the Luhn check' });
    // A blank cell does not make room for more fields, nor a blank card number a line.
    expect(parseCsvLine(`${PAN},,,,`, now)).toMatchObject({ reason: expect.stringMatching(/^expected /) });
    expect(parseCsvLine(',,', now)).toMatchObject({ reason: expect.stringMatching(/^expected /) });
    expect(parseCsvLine(`${PAN},"",12/30`, now)).toMatchObject({ reason: expect.stringMatching(/^expected /) });
  });

  it('refuses what is ambiguous with the reason, never the card', () => {
    const reasons: [string, string][] = [
      // The tail of space-separated fields would be read as the card number's last digits.
      ['4111 1111 1111 12 30', "the card number's digits in groups of 4 digits"],
      [`${PAN} 12 2030`, "the card number's digits in groups of 4 digits"],
      ['4111 1111-1111 1111', "the card number's digits in groups of 4 digits"],
      ['4111  1111 1111 1111', "the card number's digits in groups of 4 digits"],
      [`${PAN},12;2030`, 'fields separated by both , and ; (one of the two per line)'],
      [`${PAN},12`, 'an expiry in one field is MM/YY or MM/YYYY'],
      [`${PAN},1230`, 'an expiry in one field is MM/YY or MM/YYYY'],
      [`${PAN},12-30`, 'an expiry in one field is MM/YY or MM/YYYY'],
      [`${PAN},2030/12`, 'an expiry in one field is MM/YY or MM/YYYY'],
      [`${PAN},12/203`, 'an expiry in one field is MM/YY or MM/YYYY'],
      [`${PAN},12/30,2030`, 'an expiry month of 1 or 2 digits and a year of 2 or 4'],
      [`${PAN};12;2030;123`, 'more than 3 fields separated by ;'],
      [`"${PAN}`, 'a field in double quotes holds nothing but its value, no other quote'],
      [`"${PAN}""","12","2030"`, 'a field in double quotes holds nothing but its value, no other quote'],
    ];
    for (const [line, reason] of reasons) {
      const got = parseCsvLine(line, now);
      expect({ line, got }).toEqual({
        line,
        got: {
          ok: false,
          reason: expect.stringContaining(`expected pan[,expiry_month,expiry_year]: ${reason}`),
          masked: '(unreadable)',
        },
      });
      expect(got.ok || got.reason.includes('1111')).toBe(false);
    }
  });

  it('keeps the reasons for valid and invalid lines', () => {
    expect(parseCsvLine(` ${PAN} , 12 , 2029 `, now)).toEqual({
      ok: true,
      card: { pan: PAN, expiryMonth: 12, expiryYear: 2029 },
    });
    expect(parseCsvLine(`${PAN},7,29,`, now)).toEqual({
      ok: true,
      card: { pan: PAN, expiryMonth: 7, expiryYear: 2029 },
    });
    expect(parseCsvLine(`${PAN},`, now)).toEqual({ ok: true, card: { pan: PAN } });
    expect(parseCsvLine(`abc${PAN}`, now)).toEqual({
      ok: false,
      reason: 'expected pan[,expiry_month,expiry_year]',
      masked: '(unreadable)',
    });
    expect(parseCsvLine('4111111111111112', now)).toEqual({
      ok: false,
      reason: 'card number fails the Luhn check',
      masked: '411111******1112',
    });
    expect(parseCsvLine(`${PAN},13,2029`, now)).toMatchObject({ ok: false, reason: 'expiry month must be 1 to 12' });
    expect(parseCsvLine(`${PAN},12,1990`, now)).toMatchObject({ ok: false, reason: 'implausible expiry year' });
    expect(parseCsvLine('41111', now)).toEqual({
      ok: false,
      reason: 'card number must be 12 to 19 digits',
      masked: '(unreadable)',
    });
  });

  it('parses a line of thousands of spaces in linear time', () => {
    // The upload that froze the engine: 300 lines of a digit, 4,000 spaces and a letter (1.2 MB), about 8 s of backtracking.
    const pathological = (spaces: number) => `1${' '.repeat(spaces)}x`;
    const frozen = Array.from({ length: 300 }, () => pathological(4_000));
    expect(msToParse(frozen)).toBeLessThan(250);
    for (const line of frozen)
      expect(parseCsvLine(line, now)).toMatchObject({ ok: false, reason: 'expected pan[,expiry_month,expiry_year]' });
    // The same number of characters in lines 16 times longer costs about the same, not 16 times more.
    const short = Array.from({ length: 160 }, () => pathological(1_000));
    const long = Array.from({ length: 10 }, () => pathological(16_000));
    const ratioBound = 4 * msToParse(short) + 20;
    expect(msToParse(long)).toBeLessThan(ratioBound);
  });
});

describe('the upload loop', () => {
  async function* chunks(...buffers: Buffer[]) {
    yield* buffers;
  }
  const options = (store: Partial<WatchlistStore> = {}) => ({
    format: 'csv' as const,
    eventSeq: 1,
    elementMask: 1,
    ownedRanges: undefined,
    now,
    keyring: { primary: { id: 'k', secret: Buffer.alloc(32, 7) } },
    store: {
      addCards: async (_seq: number, _mask: number, cards: unknown[]) => cards.map(() => 'new' as const),
      ...store,
    } as WatchlistStore,
    limitBytes: 64 * 1024 * 1024,
  });

  it('reads past a byte-order mark at the start of an NDJSON or CSV list', async () => {
    for (const [format, body] of [
      ['ndjson', `\ufeff{"pan":"${PAN}"}\n{"pan":"5555555555554444"}\n`],
      ['csv', `\ufeff${PAN}\r\n5555555555554444\r\n`],
      ['csv', `\ufeffpan\n${PAN}\n`],
    ] as const) {
      const report = await uploadCardList(chunks(Buffer.from(body)), { ...options(), format });
      expect(report, `${format}: ${JSON.stringify(body)}`).toMatchObject({
        rejected: 0,
        accepted: body.includes('5555') ? 2 : 1,
      });
    }
  });

  it('lists a spreadsheet export whole: its quoted header, quoted fields, ; and MM/YY, and the same cards as the plain list', async () => {
    const listedBy = async (body: string, format: 'csv' | 'ndjson' = 'csv') => {
      const listed: CardToList[] = [];
      const store = {
        addCards: async (_seq: number, _mask: number, batch: CardToList[]) => (
          listed.push(...batch),
          batch.map(() => 'new' as const)
        ),
      };
      const report = await uploadCardList(chunks(Buffer.from(body)), { ...options(store), format });
      return { report, listed };
    };
    const plain = await listedBy(`${PAN},12,2030\n5555555555554444\n`);
    // A card whose expiry cell is blank is listed as the card alone.
    const exported = await listedBy(
      '\ufeff"Card number";"Expiry"\r\n"4111 1111 1111 1111";"12/30"\r\n"5555-5555-5555-4444";""\r\n',
    );
    expect(exported.report).toMatchObject({ lines: 3, accepted: 2, rejected: 0 });
    expect(exported.listed).toEqual(plain.listed);
    const columns = await listedBy(`pan,expiry_month,expiry_year\n${PAN},12,2030\n5555555555554444,,\n`);
    expect(columns.report).toMatchObject({ lines: 3, accepted: 2, rejected: 0 });
    expect(columns.listed).toEqual(plain.listed);
    // NDJSON: the card number's digits grouped the same way.
    const ndjson = await listedBy(
      '{"pan":"4111 1111 1111 1111","expiryMonth":12,"expiryYear":2030}\n{"pan":"5555-5555-5555-4444"}\n',
      'ndjson',
    );
    expect(ndjson.listed).toEqual(plain.listed);
  });

  it('stops at the first 1,000 lines when none is a card line, the rest of the body unread', async () => {
    let read = 0;
    async function* body() {
      // A million lines of a tab-separated export, in chunks of 1,000 lines.
      for (let i = 0; i < 1_000; i++) {
        read++;
        yield Buffer.from(`${PAN}\t12\t2030\n`.repeat(1_000));
      }
    }
    let stored = 0;
    const store = { addCards: async (_s: number, _m: number, cards: unknown[]) => ((stored += cards.length), []) };
    const refused = await uploadCardList(body(), options(store)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UploadRefused);
    expect(refused).toMatchObject({
      status: 400,
      code: 'UPLOAD_REFUSED',
      message:
        'none of the first 1,000 lines is a card list line: expected pan[,expiry_month,expiry_year] (docs/watchlists.md lists the forms read); line 1: expected pan[,expiry_month,expiry_year] (the list was read no further)',
      report: { accepted: 0, duplicates: 0, rejected: 1_000 },
    });
    expect((refused as UploadRefused).report!.errors).toHaveLength(100);
    expect(stored).toBe(0);
    // Read no further than the batches already being read when the first one was refused.
    expect(read).toBeLessThanOrEqual(REJECTED_BEFORE_ANY_CARD / 1_000 + 5);
  });

  it("reads on through other issuers' cards (a dump sorted by card number); one card among the first lines goes on", async () => {
    // 1,500 cards of another issuer's BIN before this issuer's: listed, the others rejected, not refused.
    const foreign = `${' 5555555555554444'}\n`.repeat(1_500);
    const sorted = await uploadCardList(chunks(Buffer.from(`${foreign}${PAN}\n`)), {
      ...options(),
      ownedRanges: [{ from: '411111', to: '411111' }],
    });
    expect(sorted).toMatchObject({ accepted: 1, rejected: 1_500 });
    expect(sorted.errors[0]!.code).toBe('BIN_NOT_OWNED');
    expect(JSON.stringify(sorted)).not.toContain('5555555555554444');
    // Another issuer's short card: masked as every card is, 6 of its 13 digits hidden.
    const shortCard = await uploadCardList(chunks(Buffer.from(`4222222222222\n${PAN}\n`)), {
      ...options(),
      ownedRanges: [{ from: '411111', to: '411111' }],
    });
    expect(shortCard.errors).toEqual([
      expect.objectContaining({ line: 1, code: 'BIN_NOT_OWNED', card: '422222******2' }),
    ]);
    // None of them this issuer's: refused at the end, with their codes.
    const refused = await uploadCardList(chunks(Buffer.from(foreign)), {
      ...options(),
      ownedRanges: [{ from: '411111', to: '411111' }],
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      status: 400,
      message:
        'none of the 1,500 lines holds a card that can be listed (rejected: BIN_NOT_OWNED 1,500); line 1: card is outside the BIN ranges registered to your issuer',
    });
    expect(JSON.stringify(refused)).not.toContain('5555555555554444');
    // 999 rejected lines, then a card: read on to the end.
    const report = await uploadCardList(
      chunks(Buffer.from(`${'x\n'.repeat(999)}${PAN}\n${'x\n'.repeat(5_000)}`)),
      options(),
    );
    expect(report).toMatchObject({ lines: 6_000, accepted: 1, rejected: 5_999 });
    // Short, every line rejected: refused at its end. Blank lines and a header are no rejection.
    const short = await uploadCardList(chunks(Buffer.from('pan\n\nx\n4111111111111112\n')), options()).catch(
      (e: unknown) => e,
    );
    expect(short).toMatchObject({
      status: 400,
      message:
        'none of the 2 lines holds a card that can be listed (rejected: MALFORMED 1, INVALID_CARD 1); line 3: expected pan[,expiry_month,expiry_year]',
      report: { accepted: 0, rejected: 2 },
    });
    expect(await uploadCardList(chunks(Buffer.from('pan\n\n')), options())).toMatchObject({ accepted: 0, rejected: 0 });
  });

  it("names the declared format's line in a refusal, and the other format when the lines look like it", async () => {
    const refusal = (body: string, format: 'csv' | 'ndjson') =>
      uploadCardList(chunks(Buffer.from(body)), { ...options(), format }).catch((e: unknown) => (e as Error).message);
    // CSV lines sent as NDJSON: the NDJSON line expected, and CSV named.
    expect(await refusal(`${PAN},12,2030\n5555555555554444\n`, 'ndjson')).toBe(
      'none of the 2 lines is a card list line: expected {"pan": "...", "expiryMonth": 1, "expiryYear": 2027} (docs/watchlists.md lists the forms read); the lines look like CSV, not NDJSON: send them as text/csv; line 1: not a JSON object',
    );
    // And the other way round.
    expect(await refusal(`{"pan":"${PAN}"}\n{"pan":"5555555555554444"}\n`, 'csv')).toBe(
      'none of the 2 lines is a card list line: expected pan[,expiry_month,expiry_year] (docs/watchlists.md lists the forms read); the lines look like NDJSON, not CSV: send them as application/x-ndjson; line 1: expected pan[,expiry_month,expiry_year]: a field in double quotes holds nothing but its value, no other quote',
    );
    // Neither format recognisable: the declared format's line alone.
    expect(await refusal('hello\nworld\n', 'ndjson')).toBe(
      'none of the 2 lines is a card list line: expected {"pan": "...", "expiryMonth": 1, "expiryYear": 2027} (docs/watchlists.md lists the forms read); line 1: not a JSON object',
    );
  });

  it('names a UTF-16 or UTF-32 export (415: save it as UTF-8) and refuses lines ended by a lone CR (400)', async () => {
    const refusal = (...parts: Buffer[]) =>
      uploadCardList(chunks(...parts), options()).then(
        () => 'listed',
        (e: unknown) => [(e as UploadRefused).status, (e as Error).message],
      );
    const text = `pan\r\n${PAN}\r\n`;
    const utf16be = Buffer.from(`\ufeff${text}`, 'utf16le').swap16();
    const utf32le = Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from(PAN)]);
    const save = 'not UTF-8: save it as UTF-8 (a spreadsheet\'s "CSV UTF-8") and upload it again';
    expect([
      await refusal(Buffer.from(`\ufeff${text}`, 'utf16le')),
      await refusal(utf16be),
      await refusal(utf32le),
    ]).toEqual([
      [415, `the card list is UTF-16 (little-endian, byte-order mark FF FE), ${save}`],
      [415, `the card list is UTF-16 (big-endian, byte-order mark FE FF), ${save}`],
      [415, `the card list is UTF-32 (little-endian, byte-order mark FF FE 00 00), ${save}`],
    ]);
    // Classic Mac OS line endings: refused, whether the first chunk shows the CR's next byte or not.
    const loneCr = [
      400,
      'the card list ends its lines with a lone CR (classic Mac OS line endings, as older Excel saves "CSV (Macintosh)"), so it reads as one line: save it with LF or CRLF line endings and upload it again',
    ];
    expect(await refusal(Buffer.from(`pan\r${PAN}\r${PAN}\r`))).toEqual(loneCr);
    expect(await refusal(Buffer.from('pan\r'), Buffer.from(`${PAN}\r`))).toEqual(loneCr);
    expect(await refusal(Buffer.from('p'), Buffer.from('an'), Buffer.from(`\r${PAN}\r`))).toEqual(loneCr);
    // CRLF cut between its CR and LF, a single line ended by a CR, a CR after the first LF: read as before.
    expect(await refusal(Buffer.from('pan\r'), Buffer.from(`\n${PAN}\r\n`))).toBe('listed');
    expect(await refusal(Buffer.from(`${PAN}\r`))).toBe('listed');
    expect(await uploadCardList(chunks(Buffer.from(`${PAN}\n5555555555554444\r\n`)), options())).toMatchObject({
      accepted: 2,
      rejected: 0,
    });
  });

  it('lets the event loop in by bytes, not only every 500 lines', async () => {
    // One 2 MB chunk of 4,000-character lines: fewer than 500 lines, so only a byte count yields.
    const body = Buffer.from(`${' '.repeat(3_990)}1234567x\n`.repeat(500) + `${PAN}\n`);
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const report = await uploadCardList(chunks(body), options());
    counting = false;
    expect(report).toMatchObject({ lines: 501, rejected: 500, accepted: 1 });
    // At least one turn per 64 KiB (2 MB / 64 KiB = 30).
    expect(turns).toBeGreaterThanOrEqual(25);
  });

  it('rejects a long line with its length, and ends the upload at a far longer one keeping the lines before it', async () => {
    const listed: unknown[] = [];
    const store = {
      addCards: async (_seq: number, _mask: number, cards: unknown[]) => (
        listed.push(...cards),
        cards.map(() => 'new' as const)
      ),
    };
    const long = await uploadCardList(chunks(Buffer.from(`${PAN}\n${' '.repeat(5_000)}${PAN}\n`)), options(store));
    expect(long.errors).toEqual([
      {
        line: 2,
        code: 'LINE_TOO_LONG',
        reason: 'line of 5016 characters: a card line has at most 4096',
        card: '(unreadable)',
      },
    ]);
    expect(long.accepted).toBe(1);
    /** The upload's refusal of `body` at its line `line`, and how many cards it listed before. */
    const refusal = async (body: string, line: number, kept: number) => {
      listed.length = 0;
      const refused = await uploadCardList(chunks(Buffer.from(body)), options(store)).catch((e: unknown) => e);
      expect(refused).toMatchObject({
        status: 400,
        message: `line ${line} is longer than 16384 bytes: this is not a card list (the lines before it were kept)`,
      });
      expect(listed).toHaveLength(kept);
    };
    await refusal(`${PAN}\n4012888888881881\n${'9'.repeat(20_000)}`, 3, 2);
    // The same whether the long line ends in its chunk or is cut by it: the lines after it are not read.
    await refusal(`${PAN}\n${'9'.repeat(20_000)}\n4012888888881881\n`, 2, 1);
  });

  /** Luhn-valid 16-digit cards, all different. */
  const cards = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const body = `4${String(i).padStart(14, '0')}`;
      let sum = 0;
      for (let j = 0; j < 15; j++) {
        let d = body.charCodeAt(14 - j) - 48;
        if (j % 2 === 0 && (d *= 2) > 9) d -= 9;
        sum += d;
      }
      return `${body}${(10 - (sum % 10)) % 10}\n`;
    }).join('');

  it('stores two batches at once, in order, and reports only when every one is stored', async () => {
    let storing = 0,
      most = 0;
    const firsts: unknown[] = [];
    const store = {
      addCards: async (_seq: number, _mask: number, batch: { slot: unknown }[]) => {
        firsts.push(batch[0]!.slot);
        most = Math.max(most, ++storing);
        await new Promise((r) => setTimeout(r, 5));
        storing--;
        return batch.map(() => 'new' as const);
      },
    };
    const report = await uploadCardList(chunks(Buffer.from(cards(20_500))), options(store));
    expect(report).toMatchObject({ lines: 20_500, accepted: 20_500, rejected: 0 });
    expect(storing).toBe(0);
    expect(firsts).toHaveLength(21); // 20 batches of 1,000 and the rest
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(2);
  });

  /** The upload of `body` cut into chunks of `size` bytes: its report or refusal, and the cards it listed. */
  const uploadCut = async (body: Buffer, size: number, over: Partial<ReturnType<typeof options>> = {}) => {
    const parts: Buffer[] = [];
    for (let at = 0; at < body.length; at += size) parts.push(body.subarray(at, at + size));
    const listed: CardToList[] = [];
    const store = {
      addCards: async (_seq: number, _mask: number, batch: CardToList[]) => (
        listed.push(...batch),
        batch.map(() => 'new' as const)
      ),
    };
    const outcome = await uploadCardList(chunks(...parts), { ...options(store), ...over }).then(
      (report): { status?: number; message?: string; report?: object } => ({ report }),
      (e: unknown) => ({
        status: (e as UploadRefused).status,
        message: (e as Error).message,
        report: (e as UploadRefused).report,
      }),
    );
    return { outcome, listed: listed.length };
  };

  it('keeps the whole lines before the limit of a body over it, however the body is cut', async () => {
    // 20,000 lines of 17 bytes: 12,047 whole lines before the limit, the next one cut by it.
    const body = Buffer.from(cards(20_000));
    const limitBytes = 204_800;
    const fit = Math.floor(limitBytes / 17);
    for (const size of [body.length, 65_536, 4_096, 1_000, 17]) {
      const { outcome, listed } = await uploadCut(body, size, { limitBytes });
      expect({ size, outcome }).toMatchObject({
        size,
        outcome: {
          status: 413,
          message: `card list larger than the limit of ${limitBytes} bytes: split it (the lines before the limit were kept)`,
          report: { accepted: fit, rejected: 0, lines: fit },
        },
      });
      expect({ size, listed }).toEqual({ size, listed: fit });
    }
    // A line ended exactly at the limit is whole: kept.
    const exact = await uploadCut(body, body.length, { limitBytes: 17 * 2_000 });
    expect([exact.outcome.status, exact.listed]).toEqual([413, 2_000]);
  });

  it('keeps the lines before a NUL byte later in the body, however the body is cut; one at its start refuses it unread', async () => {
    const binary = 'binary content refused: upload a text card list (CSV or NDJSON)';
    const lines = cards(100).split('\n').slice(0, 100);
    // The NUL's line after 50 lines (850 bytes): past the first 512 bytes, whatever the chunks.
    const later = Buffer.from(`${lines.slice(0, 50).join('\n')}\nab\0cd\n${lines.slice(50).join('\n')}\n`);
    const whole = await uploadCut(later, later.length);
    expect(whole).toMatchObject({
      outcome: {
        status: 415,
        message: `${binary}: line 51 holds a NUL byte (the lines before it were kept)`,
        report: { accepted: 50, rejected: 0, lines: 50 },
      },
      listed: 50,
    });
    for (const size of [600, 64, 1]) expect({ size, ...(await uploadCut(later, size)) }).toEqual({ size, ...whole });
    // In the first 512 bytes: binary content, refused before any line is read, however the body is cut.
    const early = Buffer.from(`${lines.slice(0, 5).join('\n')}\nab\0cd\n${lines.slice(5).join('\n')}\n`);
    for (const size of [early.length, 600, 64, 1])
      expect({ size, ...(await uploadCut(early, size)) }).toEqual({
        size,
        outcome: { status: 415, message: binary, report: undefined },
        listed: 0,
      });
    // A UTF-16 export is named as such, even when its byte-order mark arrives a byte at a time.
    const utf16 = Buffer.from(`\ufeffpan\r\n${lines.slice(0, 40).join('\r\n')}\r\n`, 'utf16le');
    for (const size of [utf16.length, 1])
      expect((await uploadCut(utf16, size)).outcome.message).toMatch(/^the card list is UTF-16 \(little-endian/);
  });

  it('fails the upload when a batch cannot be stored, after the batches sent with it have settled', async () => {
    let calls = 0,
      settled = 0;
    const store = {
      addCards: async (_seq: number, _mask: number, batch: unknown[]) => {
        const call = ++calls;
        await new Promise((r) => setTimeout(r, call === 2 ? 1 : 20));
        settled++;
        if (call === 2) throw new Error('Redis went away');
        return batch.map(() => 'new' as const);
      },
    };
    const failure = await uploadCardList(chunks(Buffer.from(cards(12_000))), options(store)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UploadStoreFailed);
    expect((failure as UploadStoreFailed).cause).toMatchObject({ message: 'Redis went away' });
    expect(settled).toBe(calls);
    // With what the lines before did: every batch but the failing one stored.
    expect((failure as UploadStoreFailed).report).toMatchObject({ accepted: (calls - 1) * 1_000, rejected: 0 });
  });

  it('numbers the lines of a body across chunks and batches, a line cut between two chunks included', async () => {
    // 30,000 lines (30 batches), bad lines at known places, the body cut mid-line.
    const lines = cards(30_000).split('\n').slice(0, 30_000);
    for (const at of [0, 2_499, 17_000, 29_999]) lines[at] = '4111111111111112'; // Luhn fails
    const text = `${lines.join('\n')}\n`;
    const cut = [0, 7, 100_003, 333_333, text.length];
    const parts = cut.slice(1).map((end, i) => Buffer.from(text.slice(cut[i], end)));
    const listed: { slot: unknown }[] = [];
    const store = {
      addCards: async (_seq: number, _mask: number, batch: { slot: unknown }[]) => (
        listed.push(...batch),
        batch.map(() => 'new' as const)
      ),
    };
    const report = await uploadCardList(chunks(...parts), options(store));
    expect(report).toMatchObject({ lines: 30_000, accepted: 29_996, rejected: 4 });
    expect(report.errors.map((e) => e.line)).toEqual([1, 2_500, 17_001, 30_000]);
    expect(listed[0]!.slot).toEqual(cardSlot({ id: 'k', secret: Buffer.alloc(32, 7) }, lines[1]!));
  });

  it('reads the same lines however the body is cut, a character cut between two chunks included', async () => {
    // Ideographic and no-break spaces (3 and 2 bytes in UTF-8) are white space the parser allows.
    const lines = cards(40)
      .split('\n')
      .slice(0, 40)
      .map((pan, i) => (i % 3 === 0 ? `\u3000${pan}` : i % 3 === 1 ? `${pan}\u00a0,12,2029` : pan));
    lines[7] = 'x\u3000y'; // rejected, whatever the chunks
    const body = Buffer.from(`${lines.join('\r\n')}\r\n`);
    const upload = async (parts: Buffer[]) => {
      const listed: CardToList[] = [];
      const store = {
        addCards: async (_seq: number, _mask: number, batch: CardToList[]) => (
          listed.push(...batch),
          batch.map(() => 'new' as const)
        ),
      };
      return { report: await uploadCardList(chunks(...parts), options(store)), listed };
    };
    const whole = await upload([body]);
    expect(whole.report).toMatchObject({ lines: 40, accepted: 39, rejected: 1 });
    expect(whole.report.errors.map((e) => e.line)).toEqual([8]);
    for (const size of [1, 2, 3, 5, 64]) {
      const parts: Buffer[] = [];
      for (let at = 0; at < body.length; at += size) parts.push(body.subarray(at, at + size));
      expect(await upload(parts)).toEqual(whole);
    }
  });

  it('during a key rotation, marks the cards the event listed under the previous key as known, on threads as inline', async () => {
    const previousKey = { id: 'old', secret: Buffer.alloc(32, 9) };
    const pans = cards(2_500).split('\n').slice(0, 2_500);
    // The event (1) listed every third card under the previous key; another event (2) the next ones.
    const previousEntries = new Map(
      pans.map((pan, i) => {
        const { bucket, field } = cardSlot(previousKey, pan);
        const entry = encodeEntry({ elements: 1, firstListedAt: 1, eventSeqs: [i % 3 === 0 ? 1 : 2], eventTags: [0] });
        return [`${bucket}/${field.toString('hex')}`, entry];
      }),
    );
    const upload = async (read?: ReturnType<typeof readerPool>['read']) => {
      const listed: CardToList[] = [];
      let lookups = 0;
      const store = {
        getEntries: async (slots: EntrySlot[]) => (
          lookups++,
          slots.map((s) => previousEntries.get(`${s.bucket}/${s.field.toString('hex')}`) ?? null)
        ),
        addCards: async (_seq: number, _mask: number, batch: CardToList[]) => (
          listed.push(...batch.map((c) => ({ ...c, slot: { ...c.slot, field: Buffer.from(c.slot.field) } }))),
          batch.map((c) => (c.known ? ('duplicate' as const) : ('new' as const)))
        ),
      };
      const report = await uploadCardList(chunks(Buffer.from(`${pans.join('\n')}\n`)), {
        ...options(store),
        keyring: { primary: { id: 'k', secret: Buffer.alloc(32, 7) }, previous: previousKey },
        ...(read ? { read } : {}),
      });
      return { report, listed, lookups };
    };
    const pool = readerPool(2);
    try {
      const inline = await upload();
      expect(await upload(pool.read)).toEqual(inline);
      expect(inline.lookups).toBe(3); // once per batch
      expect(inline.report).toMatchObject({ accepted: 1_666, duplicates: 834 });
      expect(inline.listed.map((c) => c.known === true)).toEqual(pans.map((_, i) => i % 3 === 0));
      // Listed under the new key all the same.
      expect(inline.listed[0]!.slot).toEqual(cardSlot({ id: 'k', secret: Buffer.alloc(32, 7) }, pans[0]!));
    } finally {
      await pool.close();
    }
    // Without a previous key, nothing is looked up.
    const lookups: unknown[] = [];
    await uploadCardList(
      chunks(Buffer.from(`${pans[0]}\n`)),
      options({ getEntries: async (s) => (lookups.push(s), []) }),
    );
    expect(lookups).toEqual([]);
  });

  it('reads on threads exactly as on the event loop: the same report, the same cards in the same order', async () => {
    // Several batches, with every kind of line an issuer sends, the body cut between two chunks.
    const good = cards(3_200).split('\n').slice(0, 3_200);
    const lines = [
      'pan,expiry_month,expiry_year',
      ...good.map((pan, i) => (i % 3 === 0 ? `${pan},${1 + (i % 12)},2029` : pan)),
    ];
    lines[10] = '4111111111111112'; // Luhn fails
    lines[1_500] = `${good[1_500]},13,2029`; // no such month
    lines[2_000] = ' '.repeat(5_000); // too long to read
    lines[2_001] = '';
    lines[2_700] = `${good[2_700]}\r`; // a CRLF line end
    lines[3_100] = '5500005555555559'; // outside the issuer's range
    const body = `${lines.join('\n')}\n`;
    const upload = async (read?: ReturnType<typeof readerPool>['read']) => {
      const listed: CardToList[] = [];
      const store = {
        addCards: async (_seq: number, _mask: number, batch: CardToList[]) => (
          listed.push(...batch),
          batch.map(() => 'new' as const)
        ),
      };
      const parts = [body.slice(0, 70_001), body.slice(70_001)].map((part) => Buffer.from(part));
      const report = await uploadCardList(chunks(...parts), {
        ...options(store),
        ownedRanges: [{ from: '400000', to: '499999' }],
        ...(read ? { read } : {}),
      });
      return { report, listed };
    };
    const pool = readerPool(2);
    try {
      const inline = await upload();
      const threaded = await upload(pool.read);
      expect(threaded).toEqual(inline);
      expect(inline.report).toMatchObject({ lines: 3_201, accepted: 3_195, rejected: 4 });
      expect(inline.report.errors.map((e) => [e.line, e.code])).toEqual([
        [11, 'INVALID_CARD'],
        [1_501, 'INVALID_EXPIRY'],
        [2_001, 'LINE_TOO_LONG'],
        [3_101, 'BIN_NOT_OWNED'],
      ]);
      const key = { id: 'k', secret: Buffer.alloc(32, 7) };
      expect(threaded.listed[0]).toEqual({
        slot: cardSlot(key, good[0]!),
        expiryTag: expiryTag(key, good[0]!, 1, 2029),
      });
      expect(threaded.listed[1]).toEqual({ slot: cardSlot(key, good[1]!), expiryTag: 0 });
    } finally {
      await pool.close();
    }
  });
});
