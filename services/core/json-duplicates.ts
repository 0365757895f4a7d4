// A JSON object that names a key twice. JSON.parse keeps the last value and drops the first without
// a word, so a proxy, a log or a merchant's own code that reads the first sees another request than
// the one scored (RFC 8259 §4: names SHOULD be unique; parsers differ on which one wins). Leakguard
// refuses such a body, naming the key's path. Pure: no I/O.
import { nameable } from './errors.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SMALL_OBJECT = 16;

interface Container {
  /** An object's keys so far: a list while it is small (a Set costs more to make), then a Set; null for an array. */
  keys: string[] | Set<string> | null;
  /** The object's current key, or the array's current index. */
  at: string | number;
  /** In an object: the next string is a key. */
  expectKey: boolean;
}

/** Where the string that opens at `start` (its quote) ends: the index of its closing quote. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  // A quote preceded by an odd number of backslashes is escaped.
  for (;;) {
    if (end < 0) return text.length; // not JSON: an unterminated string ends the text
    let backslashes = 0;
    for (let k = end - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

/** A key is named only when it is a plain name (a key may be a card number): `*` otherwise. */
const segment = (at: string | number) => (typeof at === 'number' || nameable(at) ? String(at) : '*');
const pathOf = (stack: Container[], key: string) =>
  [...stack.slice(0, -1).map((c) => c.at), key].map(segment).join('.');

/**
 * The path (dot-separated, array indexes as numbers: `items.0.sku`; a key that is not a plain name,
 * which may be a card number, as `*`) of the first key an object of `text` names twice, or undefined. `text` must be valid JSON (call it after JSON.parse succeeded).
 * Keys are compared as JSON.parse reads them: `"a"` and `"\u0061"` are the same key.
 */
export function duplicateKeyPath(text: string): string | undefined {
  const stack: Container[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        const keys = top.keys;
        if (Array.isArray(keys)) {
          if (keys.includes(key)) return pathOf(stack, key);
          keys.push(key);
          // A list searched at every key would make a body of many keys quadratic.
          if (keys.length > SMALL_OBJECT) top.keys = new Set(keys);
        } else {
          if (keys.has(key)) return pathOf(stack, key);
          keys.add(key);
        }
        top.at = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT) stack.push({ keys: [], at: '', expectKey: true });
    else if (c === OPEN_ARRAY) stack.push({ keys: null, at: 0, expectKey: false });
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) stack.pop();
    else if (c === COMMA) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
    } else if (c === COLON) {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = false;
    }
  }
  return undefined;
}
