// The recording keeps no personal text, now or after the request schema grows: every string the
// /v1/score schema accepts is filled with a marker naming its path, and the record may keep only
// the fields listed here (codes, enums, times, countries). A new string field fails this test until
// record.ts marks it or this list says why it may stay.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { scoreRequestSchema, type ScoreRequest, type ScoreResponse } from '../../services/core/schemas.ts';
import { scoredRecord } from '../../services/recording/record.ts';

/** String fields a record keeps as sent: none of them personal. */
const KEPT = new Set([
  'transactionId',
  'currency',
  'channel',
  'card.cvvResult',
  'threeDS.status',
  'threeDS.version',
  'customer.accountCreatedAt',
  'billingAddress.country',
  'shippingAddress.country',
]);

type Json = {
  type?: string | string[];
  properties?: Record<string, Json>;
  items?: Json;
  anyOf?: Json[];
  $ref?: string;
  $defs?: Record<string, Json>;
};

/** The request with every string leaf set to `<<path>>` (array items at index 0). */
function filled(root: Json, schema: Json = root, path: string[] = []): unknown {
  let s = schema.anyOf?.find((x) => x.type !== 'null') ?? schema;
  if (s.$ref) s = root.$defs![s.$ref.replace('#/$defs/', '')]!;
  if (s.properties)
    return Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, filled(root, v, [...path, k])]));
  if (s.items) return [filled(root, s.items, path)];
  if (s.type === 'string') return `<<${path.join('.')}>>`;
  if (s.type === 'integer' || s.type === 'number') return 7;
  if (s.type === 'boolean') return true;
  return `<<${path.join('.')}>>`;
}

describe('a scoring record', () => {
  it('keeps no string field of the request but the listed ones', () => {
    const request = filled(z.toJSONSchema(scoreRequestSchema, { io: 'input' }) as Json) as ScoreRequest;
    const response = {
      transactionId: 't',
      score: 0,
      decision: 'approve',
      reasons: [],
      checks: {},
      degraded: false,
      versions: { engine: 'e', ruleset: 'r' },
    } as unknown as ScoreResponse;
    const record = scoredRecord('m1', request, response, {
      card: { bin: '411111', last4: '1111', keyId: 'k', fingerprint: 'fp' },
      at: Date.UTC(2026, 11, 1),
      features: {},
      entities: {},
      marked: {},
    });
    const text = JSON.stringify(record);
    const left = [...text.matchAll(/<<([^>]*)>>/g)].map((m) => m[1]!);
    expect(left.filter((path) => !KEPT.has(path))).toEqual([]);
    // The schema's every string was filled (the walk reached the nested ones).
    expect(JSON.stringify(request)).toContain('<<shippingAddress.line1>>');
    expect(JSON.stringify(request)).toContain('<<items.name>>');
    expect(text).not.toContain('<<card.number>>');
  });
});
