// Cursor pagination, the same on every list of the API: `?limit=&starting_after=<cursor>`, answered
// with the page's items, `has_more` and `next` (the cursor of the following page, null at the end).
// A cursor is opaque to clients: its list's own prefix and the base64url of a fixed-width position
// in the list's order, so that every string of its documented form is a position (a fuzzer's cursor
// is a valid request) and any other string, another list's cursor too, is refused as
// VALIDATION_FAILED (never repeated: a mistaken value may be a card number).
import { z } from 'zod';
import type { HitPosition } from '../core/watchlist.ts';

/** 6-byte unsigned integers: milliseconds until the year 10889, sequence numbers far beyond any list's. */
const UINT48_BYTES = 6;

const encode = (...values: number[]) => {
  const b = Buffer.alloc(UINT48_BYTES * values.length);
  values.forEach((v, i) => b.writeUIntBE(v, i * UINT48_BYTES, UINT48_BYTES));
  return b.toString('base64url');
};
const decode = (cursor: string, count: number) => {
  const b = Buffer.from(cursor, 'base64url');
  return Array.from({ length: count }, (_, i) => b.readUIntBE(i * UINT48_BYTES, UINT48_BYTES));
};

/**
 * A cursor made of `count` unsigned integers (each below 2^48) after the list's prefix (`hits_`):
 * base64url of 6 bytes each, every character carrying 6 bits, so that any string of the documented
 * form decodes to a position. The prefix is the list's own: the same numbers (an event's or a
 * delivery's sequence number) mean another place in another list, and a cursor of one is refused
 * by the others. For a new list: its position in the list's order as numbers (a sequence number,
 * a time and a rank), and a prefix no other list uses.
 */
export function numberCursor(count: number, prefix: string, what: string, example: number[]) {
  const chars = (count * UINT48_BYTES * 4) / 3;
  const head = `${prefix}_`;
  const schema = z
    .string()
    .regex(
      new RegExp(`^${head}[A-Za-z0-9_-]{${chars}}$`),
      `must be the \`next\` cursor of a previous page of ${what} (${head} and ${chars} characters)`,
    )
    .meta({
      description: `Continue after this cursor: the \`next\` of the previous page of ${what} (opaque; another list's cursor is refused).`,
      example: head + encode(...example),
    });
  return {
    schema,
    encode: (...values: number[]) => head + encode(...values),
    decode: (cursor: string) => decode(cursor.slice(head.length), count),
  };
}

const hits = numberCursor(2, 'hits', 'hits', [1_765_000_000_000, 0]);
/** Hits: (recorded at ms, rank in the millisecond), `hits_` and 16 characters. */
export const hitCursor = {
  schema: hits.schema,
  encode: (p: HitPosition) => hits.encode(p.ms, p.seq),
  decode: (cursor: string): HitPosition => {
    const [ms, seq] = hits.decode(cursor);
    return { ms: ms!, seq: seq! };
  },
};

const events = numberCursor(1, 'events', 'compromise events', [5]);
/** Events (compromise events, and an issuer's suspected ones): the event's sequence number, `events_` and 8 characters. */
export const eventCursor = {
  schema: events.schema,
  encode: (seq: number) => events.encode(seq),
  decode: (cursor: string): number => events.decode(cursor)[0]!,
};

export const limitSchema = (defaultLimit = 100, max = 1000) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(defaultLimit)
    .describe(`How many items a page holds at most (1 to ${max}, default ${defaultLimit}).`);

/** The fields every page carries besides its items. */
export const pageFields = {
  has_more: z.boolean().describe('Whether more items follow this page: fetch them with starting_after = next.'),
  next: z
    .string()
    .nullable()
    .describe('The cursor of the following page (pass it as starting_after); null when has_more is false.'),
};
