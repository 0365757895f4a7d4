// A field sent under a near miss of its name ("occured_at", "reasoncode") would be dropped unread
// with the fields a request does not define: an outcome reported with its date misspelt was dated
// now, and the corrected report then answered already_recorded, so the wrong date stayed (found by
// a review). Such a field is refused there, naming the field it resembles; /v1/score, where a 400
// would stop checkouts, counts it (leakguard_misnamed_fields_total) and warns. Other unknown
// fields are left to the schema (dropped, or refused where the object is closed).
import { z } from 'zod';
import { nameable } from './errors.ts';

/** How a name is compared: its letters and digits, in lower case ("occurred_at" is "occurredat"). */
const normal = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Edits (insert, delete, substitute, swap two neighbours) from a to b, or more than `max` when over it. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/** The field `name` is a near miss of, if any: the same letters, or one or two edits from a name of 5 letters or more. */
export function nearMiss(name: string, fields: readonly string[]): string | undefined {
  const n = normal(name);
  if (n.length === 0) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const field of fields) {
    const f = normal(field);
    const allowed = f.length >= 8 ? 2 : f.length >= 5 ? 1 : 0;
    const dist = distance(n, f, allowed);
    if (dist <= allowed && dist < bestDistance) [best, bestDistance] = [field, dist];
  }
  return best;
}

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
};
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under optional, nullable, default and pipes. */
function unwrapped(schema: z.ZodType): Def | undefined {
  for (let s: z.ZodType | undefined = schema, depth = 0; s && depth < 8; depth++) {
    const def = defOf(s);
    if (def.type === 'object' || def.type === 'array') return def;
    s = def.innerType ?? def.in;
  }
  return undefined;
}
const objectShape = (schema: z.ZodType) => {
  const def = unwrapped(schema);
  return def?.type === 'object' ? def.shape : undefined;
};
const elementOf = (schema: z.ZodType) => {
  const def = unwrapped(schema);
  return def?.type === 'array' ? def.element : undefined;
};

/** A field sent under a near miss of a field's name: where it was (its path) and the field it resembles, as a path of the schema ('items.*.quantity'). */
export interface MisspeltField {
  path: (string | number)[];
  meant: string;
}

/**
 * The fields of `body` that are near misses of a field its schema defines at the same place
 * (nested objects and arrays' items too). A name that is not plain (it may hold a card number) is
 * never reported: the error or the log naming it would repeat it.
 */
export function misspeltFields(body: unknown, schema: z.ZodType): MisspeltField[] {
  const found: MisspeltField[] = [];
  const walk = (value: unknown, s: z.ZodType, path: (string | number)[], at: string[]): void => {
    if (value === null || typeof value !== 'object' || path.length > 4) return;
    if (Array.isArray(value)) {
      const element = elementOf(s);
      if (element)
        for (let i = 0; i < Math.min(value.length, 1000); i++) walk(value[i], element, [...path, i], [...at, '*']);
      return;
    }
    const shape = objectShape(s);
    if (!shape) return;
    const fields = Object.keys(shape);
    for (const [key, inner] of Object.entries(value)) {
      if (key in shape) {
        walk(inner, shape[key]!, [...path, key], [...at, key]);
        continue;
      }
      const match = nameable(key) ? nearMiss(key, fields) : undefined;
      if (match) found.push({ path: [...path, key], meant: [...at, match].join('.') });
    }
  };
  walk(body, schema, [], []);
  return found;
}

/** Refuses the fields misspeltFields finds, naming the field each resembles; undefined when there is none. */
export function misspeltFieldRefusal(body: unknown, schema: z.ZodType): z.ZodError | undefined {
  const found = misspeltFields(body, schema);
  if (found.length === 0) return undefined;
  return new z.ZodError(
    found.map((f) => ({
      code: 'custom' as const,
      path: f.path,
      message: `is not a field: did you mean ${f.meant.split('.').pop()!}?`,
      input: undefined,
    })),
  );
}
