// Property-based tests of every parser of outside input, called directly (issue #13): card-list
// lines (CSV and NDJSON), the scoring request, outcomes, compromise events, BIN ranges, and the
// console's forms (usernames, queue filters). For any input: no exception, only a precise
// validation result; no error repeats a card number the input carried; what is accepted reads
// back as it was sent (parsed twice, the same value). Seeded (SEED) and bounded: a few seconds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { maskPan } from '../../services/core/card.ts';
import { caseQuerySchema } from '../../services/cases/model.ts';
import { usernameSchema } from '../../services/cases/users.ts';
import { issueDetails, outcomeRequestSchema, OUTCOMES, scoreRequestSchema } from '../../services/core/schemas.ts';
import {
  binRangeSchema,
  compromiseEventInputSchema,
  DATA_ELEMENTS,
  parseCsvLine,
  parseNdjsonLine,
  type LineResult,
} from '../../services/core/watchlist.ts';
import {
  echoedPans,
  hostileString,
  pan,
  pansIn,
  SEED,
  stringWithPan,
  withOnePan,
  withPans,
} from '../support/card-arbitraries.ts';
import { isoInstant, validScoreRequest, word } from '../support/request-arbitraries.ts';

const now = new Date('2026-06-01T00:00:00Z');
const runs = (numRuns: number) => ({ seed: SEED, numRuns });

/** What a zod refusal shows the client (services/http/errors.ts, the stream's dead letters): paths and messages. */
const shown = (error: z.ZodError) => JSON.stringify(issueDetails(error));

function checkLine(result: LineResult, input: string): void {
  if (result.ok) {
    expect(result.card.pan).toMatch(/^[0-9]{12,19}$/);
    return;
  }
  expect(result.reason).toMatch(/\S/);
  // The masked card: unreadable, or at most its first 6 and last 4 digits, 6 at least hidden.
  expect(result.masked).toMatch(/^(\(unreadable\)|[0-9]{6}\*{6,}[0-9]{0,4}|\**)$/);
  expect(echoedPans(`${result.reason} ${result.masked}`, pansIn(input))).toEqual([]);
}

describe('card-list lines', () => {
  const csvLike = fc.oneof(
    hostileString,
    // Lines close to the syntax: a card, maybe an expiry, white space and commas in any place.
    fc
      .tuple(
        stringWithPan(),
        fc.array(fc.constantFrom(',', ' ', '\t', '12', '2030', '1', '99', 'x', '"', '\u00a0'), { maxLength: 6 }),
      )
      .map(([p, rest]) => `${p.text}${rest.join('')}`),
  );

  it('CSV: any line gives a result, never an exception, and the reason never repeats the card', () => {
    fc.assert(
      fc.property(csvLike, (line) => checkLine(parseCsvLine(line, now), line)),
      runs(3000),
    );
  });

  it('NDJSON: any line gives a result, never an exception, and the reason never repeats the card', () => {
    const ndjsonLike = fc.oneof(
      hostileString,
      // Documents close to the syntax, with card numbers in their keys and values.
      fc
        .record(
          {
            pan: fc.oneof(
              pan(),
              stringWithPan().map((p) => p.text),
              fc.integer(),
            ),
            expiryMonth: fc.oneof(fc.integer({ min: -1, max: 14 }), fc.string()),
            expiryYear: fc.integer({ min: 0, max: 3000 }),
          },
          { requiredKeys: [] },
        )
        .chain((doc) => fc.tuple(fc.constant(doc), fc.option(pan())))
        .map(([doc, extraKey]) => JSON.stringify(extraKey ? { ...doc, [extraKey]: 1 } : doc)),
    );
    fc.assert(
      fc.property(ndjsonLike, (line) => checkLine(parseNdjsonLine(line, now), line)),
      runs(3000),
    );
  });

  // Expiry years the parser finds plausible on `now` (2016 to 2041), written with 2 or 4 digits.
  const expiry = fc.record({
    month: fc.integer({ min: 1, max: 12 }),
    year: fc.integer({ min: 2016, max: 2041 }),
    twoDigits: fc.boolean(),
  });
  const space = fc.stringMatching(/^[ \t]{0,3}$/);

  it('CSV: a well-formed line reads back as the card and expiry it holds', () => {
    fc.assert(
      fc.property(pan(), fc.option(expiry), space, space, fc.boolean(), (p, e, before, after, trailingComma) => {
        const fields = e
          ? [p, String(e.month), e.twoDigits ? String(e.year % 100).padStart(2, '0') : String(e.year)]
          : [p];
        const line = `${before}${fields.join(`${after},${before}`)}${after}${trailingComma ? ',' : ''}`;
        const result = parseCsvLine(line, now);
        expect(result).toEqual({
          ok: true,
          card: e ? { pan: p, expiryMonth: e.month, expiryYear: e.year } : { pan: p },
        });
      }),
      runs(1000),
    );
  });

  it('CSV: a spreadsheet line (quotes, ;, grouped digits, MM/YY) reads back as the card and expiry it holds', () => {
    const grouped = (p: string, separator: string) =>
      p.length === 15 || p.length === 14
        ? [p.slice(0, 4), p.slice(4, 10), p.slice(10)].join(separator)
        : (p.match(/.{1,4}/g) ?? []).join(separator);
    fc.assert(
      fc.property(
        pan(),
        fc.option(expiry),
        fc.constantFrom('', ' ', '-'),
        fc.constantFrom(',', ';'),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (p, e, group, separator, quoted, slash, trailing) => {
          const year = e && (e.twoDigits ? String(e.year % 100).padStart(2, '0') : String(e.year));
          const values = [group === '' ? p : grouped(p, group)];
          if (e && slash) values.push(`${String(e.month).padStart(2, '0')}/${year}`);
          else if (e) values.push(String(e.month), year!);
          const line = values.map((v) => (quoted ? `"${v}"` : v)).join(separator) + (trailing ? separator : '');
          expect(parseCsvLine(line, now)).toEqual({
            ok: true,
            card: e ? { pan: p, expiryMonth: e.month, expiryYear: e.year } : { pan: p },
          });
        },
      ),
      runs(1000),
    );
  });

  it('NDJSON: a well-formed line reads back as the card and expiry it holds', () => {
    fc.assert(
      fc.property(pan(), fc.option(expiry), (p, e) => {
        const doc = e ? { pan: p, expiryMonth: e.month, expiryYear: e.year } : { pan: p };
        expect(parseNdjsonLine(JSON.stringify(doc), now)).toEqual({ ok: true, card: doc });
      }),
      runs(1000),
    );
  });

  it('refuses a line that names a key twice: one of its cards would be lost', () => {
    fc.assert(
      fc.property(pan(), pan(), (first, second) => {
        const line = `{"pan":"${first}","expiryMonth":4,"pan":"${second}"}`;
        expect(parseNdjsonLine(line, now)).toEqual({
          ok: false,
          reason: 'line.pan: this key appears more than once',
          masked: maskPan(second),
        });
      }),
      runs(200),
    );
  });

  it('refuses a line with a field of its own without naming the field (it may be a card number)', () => {
    fc.assert(
      fc.property(pan(), pan(), (p, key) => {
        const result = parseNdjsonLine(JSON.stringify({ pan: p, [key]: 'x' }), now);
        expect(result).toMatchObject({ ok: false, reason: 'line: has fields that are not allowed' });
        expect(echoedPans(JSON.stringify(result), [key])).toEqual([]);
      }),
      runs(200),
    );
  });
});

// --- The scoring request ---------------------------------------------------------------------------

describe('the scoring request', () => {
  it('refuses any document with issues (no exception), and the issues never repeat a card number', () => {
    const documents = fc.oneof(
      fc.anything({ maxDepth: 3 }),
      fc.jsonValue({ maxDepth: 3 }),
      // Valid requests with card numbers written into their strings and numbers.
      validScoreRequest.chain((r) => withPans(r)).map((w) => w.value),
      validScoreRequest.chain((r) => withOnePan(r)).map((w) => w.value),
    );
    fc.assert(
      fc.property(documents, (doc) => {
        const result = scoreRequestSchema.safeParse(doc);
        if (result.success) return;
        expect(result.error.issues.length).toBeGreaterThan(0);
        expect(echoedPans(shown(result.error), pansIn(JSON.stringify(doc) ?? ''))).toEqual([]);
      }),
      runs(1500),
    );
  });

  it('accepts every valid request as sent: what it reads back parses to itself', () => {
    fc.assert(
      fc.property(validScoreRequest, (request) => {
        const parsed = scoreRequestSchema.parse(request);
        expect(parsed.transactionId).toBe(request.transactionId);
        expect(parsed.card.number).toBe(request.card.number);
        expect(parsed.amount).toBe(request.amount);
        expect(scoreRequestSchema.parse(parsed)).toEqual(parsed);
      }),
      runs(500),
    );
  });

  it('refuses a card number in any identifier, in any form, without repeating it', () => {
    fc.assert(
      fc.property(
        validScoreRequest,
        stringWithPan(),
        fc.constantFrom('transactionId', 'customer.id', 'device.id'),
        (request, hidden, field) => {
          const doc = structuredClone(request) as unknown as Record<string, Record<string, unknown>>;
          if (field === 'transactionId') (doc as Record<string, unknown>).transactionId = hidden.text;
          else doc[field.split('.')[0]!] = { ...doc[field.split('.')[0]!], id: hidden.text };
          const result = scoreRequestSchema.safeParse(doc);
          expect(result.success).toBe(false);
          expect(result.error!.issues.map((i) => i.path.join('.'))).toContain(field);
          expect(echoedPans(shown(result.error!), [hidden.pan])).toEqual([]);
        },
      ),
      runs(500),
    );
  });
});

describe('outcomes', () => {
  const validOutcome = fc.oneof(
    fc.record(
      {
        outcome: fc.constantFrom(...OUTCOMES.filter((o) => o !== 'chargeback')),
        occurredAt: isoInstant,
        reasonCode: fc.stringMatching(/^[A-Z0-9.]{1,8}$/),
      },
      { requiredKeys: ['outcome'] },
    ),
    fc.record(
      {
        outcome: fc.constant('chargeback' as const),
        occurredAt: isoInstant,
        reasonCode: fc.stringMatching(/^[A-Z0-9.]{1,8}$/),
      },
      { requiredKeys: ['outcome', 'reasonCode'] },
    ),
  );

  it('any document: a result, no exception, no card number repeated; valid ones read back as sent', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything({ maxDepth: 2 }),
          validOutcome.chain((o) => withPans(o)).map((w) => w.value),
          validOutcome.chain((o) => withOnePan(o)).map((w) => w.value),
          validOutcome,
        ),
        (doc) => {
          const result = outcomeRequestSchema.safeParse(doc);
          if (result.success) expect(outcomeRequestSchema.parse(result.data)).toEqual(result.data);
          else expect(echoedPans(shown(result.error), pansIn(JSON.stringify(doc) ?? ''))).toEqual([]);
        },
      ),
      runs(1000),
    );
    fc.assert(
      fc.property(validOutcome, (o) => {
        expect(outcomeRequestSchema.parse(o)).toEqual(o);
      }),
      runs(300),
    );
  });
});

describe('compromise events and BIN ranges', () => {
  const validEvent = fc
    .record({
      externalId: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
      source: word,
      description: fc.string({ maxLength: 80 }).filter((d) => !/[0-9]{6}/.test(d)),
      exposureStart: isoInstant,
      exposureEnd: isoInstant,
      discoveredAt: isoInstant,
      dataElements: fc
        .uniqueArray(fc.constantFrom(...DATA_ELEMENTS), { minLength: 0, maxLength: 4 })
        .map((e) => ['pan', ...e.filter((x) => x !== 'pan')]),
      confidence: fc.constantFrom('confirmed', 'suspected'),
    })
    .map((e) =>
      e.exposureEnd < e.exposureStart ? { ...e, exposureStart: e.exposureEnd, exposureEnd: e.exposureStart } : e,
    );

  it('an event: never an exception, never a card number kept in clear or repeated in an error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          validEvent.chain((e) => withPans(e)).map((w) => w.value),
          validEvent.chain((e) => withOnePan(e)).map((w) => w.value),
          fc.anything({ maxDepth: 2 }),
        ),
        (doc) => {
          const pans = pansIn(JSON.stringify(doc) ?? '');
          const result = compromiseEventInputSchema.safeParse(doc);
          // Accepted: identifiers held no card number, free text keeps it masked.
          expect(echoedPans(JSON.stringify(result.success ? result.data : issueDetails(result.error)), pans)).toEqual(
            [],
          );
        },
      ),
      runs(1000),
    );
  });

  it('a valid event reads back as sent (free text trimmed), and a card number in its description is masked, not refused', () => {
    fc.assert(
      fc.property(validEvent, stringWithPan(), (event, hidden) => {
        const parsed = compromiseEventInputSchema.parse(event);
        expect(parsed).toEqual({ ...event, description: event.description.trim() });
        expect(compromiseEventInputSchema.parse(parsed)).toEqual(parsed);
        const masked = compromiseEventInputSchema.parse({ ...event, description: hidden.text });
        expect(echoedPans(masked.description, [hidden.pan])).toEqual([]);
      }),
      runs(500),
    );
  });

  it('BIN ranges: any document gives a result; unknown fields are refused without naming them', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything({ maxDepth: 2 }),
          fc.tuple(pan(), pan()).map(([a, b]) => ({ from: '411111', to: '411199', [a]: b })),
        ),
        (doc) => {
          const result = binRangeSchema.safeParse(doc);
          if (!result.success) expect(echoedPans(shown(result.error), pansIn(JSON.stringify(doc) ?? ''))).toEqual([]);
          else expect(binRangeSchema.parse(result.data)).toEqual(result.data);
        },
      ),
      runs(1000),
    );
  });
});

// --- The console's forms -----------------------------------------------------------------------------

describe("the console's forms", () => {
  it('usernames: any string gives a result; a card number is refused and not repeated; accepted names are normalised once', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString,
          stringWithPan().map((p) => p.text),
          fc.stringMatching(/^[ ]?[A-Za-z0-9._-]{3,64}[ ]?$/),
        ),
        (name) => {
          const result = usernameSchema.safeParse(name);
          if (result.success) {
            expect(result.data).toMatch(/^[a-z0-9._-]{3,64}$/);
            expect(usernameSchema.parse(result.data)).toBe(result.data);
            expect(pansIn(result.data)).toEqual([]);
          } else {
            expect(echoedPans(shown(result.error), pansIn(name))).toEqual([]);
          }
        },
      ),
      runs(2000),
    );
  });

  it('queue filters: any query string gives a result, the card numbers never in an error; accepted filters parse to themselves', () => {
    const query = fc.dictionary(
      fc.constantFrom(
        'merchant',
        'decision',
        'reasonCode',
        'watchlistEvent',
        'from',
        'to',
        'status',
        'assignee',
        'sort',
        'page',
        'pageSize',
        'other',
      ),
      fc.oneof(
        hostileString,
        stringWithPan().map((p) => p.text),
        fc.constantFrom('', 'review', 'decline', 'all', 'pending', '2026-11-01', '3', 'risk', 'me'),
      ),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(query, (q) => {
        const result = caseQuerySchema.safeParse(q);
        if (result.success) expect(caseQuerySchema.parse(result.data)).toEqual(result.data);
        else expect(echoedPans(shown(result.error), pansIn(JSON.stringify(q)))).toEqual([]);
      }),
      runs(2000),
    );
  });
});
