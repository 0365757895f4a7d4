import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nameable } from '../../services/core/errors.ts';
import { duplicateKeyPath } from '../../services/core/json-duplicates.ts';
import { SEED } from '../support/card-arbitraries.ts';

describe('a JSON object naming a key twice (duplicateKeyPath)', () => {
  it('names the repeated key by its path, array indexes as numbers', () => {
    expect(duplicateKeyPath('{"amount":100,"currency":"JPY","amount":100000}')).toBe('amount');
    expect(duplicateKeyPath('{"card":{"number":"x","expiryMonth":1,"number":"y"}}')).toBe('card.number');
    expect(duplicateKeyPath('{"items":[{"sku":"a"},{"sku":"b","qty":1,"sku":"c"}]}')).toBe('items.1.sku');
    expect(duplicateKeyPath('[[1,2],[3,{"a":1,"b":{"a":2},"a":3}]]')).toBe('1.1.a');
  });

  it('finds a repeat among many keys', () => {
    const many = Array.from({ length: 50_000 }, (_, i) => `"k${i}":${i}`).join(',');
    expect(duplicateKeyPath(`{${many}}`)).toBeUndefined();
    expect(duplicateKeyPath(`{${many},"k17":0}`)).toBe('k17');
    expect(duplicateKeyPath(`{"a":1,${many},"a":0}`)).toBe('a');
  });

  it('reads keys as JSON.parse does: an escape spells the same key', () => {
    expect(duplicateKeyPath('{"amount":1,"\\u0061mount":2}')).toBe('amount');
    expect(duplicateKeyPath('{"a-b":1,"a\\u002db":2}')).toBe('a-b');
    expect(duplicateKeyPath('{"a_b":1,"a\\u005fb":2}')).toBe('a_b');
  });

  it('never names a key that is not a plain name: it may be a card number', () => {
    expect(duplicateKeyPath('{"4111111111111111":1,"4111111111111111":2}')).toBe('*');
    expect(duplicateKeyPath('{"card 4111 1111 1111 1111":{"a":1,"a":2}}')).toBe('*.a');
    expect(duplicateKeyPath('{"a\\\\":1,"a\\u005c":2}')).toBe('*');
  });

  it('leaves alone what only looks like a repeat', () => {
    for (const text of [
      '{"a":1,"b":{"a":1},"c":[{"a":1},{"a":1}]}', // the same key in different objects
      '{"a":"{\\"a\\":1,\\"a\\":2}"}', // inside a string value
      '{"a\\\\":"b","a":"\\\\"}', // a key ending in an escaped backslash, then the plain key
      '{"x":"]}","x2":"{[,:"}', // structural characters inside strings
      '{}',
      '[]',
      '"a"',
      '{"":1,"\\u0000":2}',
      ' { "a" : [ 1 , 2 ] , "b" : { } } ',
      '{"a":1,"b', // not JSON (the caller parses first): ends, says nothing
    ])
      expect(duplicateKeyPath(text), text).toBeUndefined();
  });

  it('finds a repeat wherever it is, and nothing in JSON.stringify output (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(duplicateKeyPath(JSON.stringify(value))).toBeUndefined();
      }),
      { seed: SEED, numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }),
        fc.string(),
        fc.jsonValue(),
        (object, prefix, value) => {
          const key = Object.keys(object)[0]!;
          // The object nested under a key, its first key repeated at the end.
          const inner = JSON.stringify(object).slice(0, -1) + `,${JSON.stringify(key)}:${JSON.stringify(value)}}`;
          const text = `{${JSON.stringify(prefix)}:${inner}}`;
          expect(JSON.parse(text)).toBeTypeOf('object');
          const named = (k: string) => (nameable(k) ? k : '*');
          expect(duplicateKeyPath(text)).toBe(`${named(prefix)}.${named(key)}`);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });
});
