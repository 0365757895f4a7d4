// Structured logs that can never carry a card number: structural redaction for known fields,
// errors logged whole under `err` (type, message, stack, own fields: pino's serializer) with card
// numbers masked in them, and a last line of defence at the sink: every line passes the
// card-number scrubber (scrub.ts), so separated and full-width card numbers are masked too.
import { Writable } from 'node:stream';
import { pino, type Logger, type DestinationStream } from 'pino';
import { maskDigits, scrubCardNumbers, scrubJsonText } from './core/scrub.ts';

export type { Logger };

/** Wraps a destination so that every line written is scrubbed of card numbers. */
export function panSafeDestination(target: { write(chunk: string): unknown }): DestinationStream {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const line = chunk.toString();
      // A line is JSON: a card number written with escapes inside its strings ("4111\t1111...") too.
      const scrubbed = scrubJsonText(line);
      target.write(scrubbed === line ? line : stillJson(line, scrubbed));
      done();
    },
  }) as unknown as DestinationStream;
}

/**
 * A line masked outside its strings (a bare number) is no longer JSON, and log pipelines drop
 * it: its values are masked one by one instead, a masked number becoming a string.
 */
function stillJson(line: string, scrubbed: string): string {
  try {
    JSON.parse(scrubbed);
    return scrubbed;
  } catch {
    // Masked in a number: below.
  }
  try {
    return `${JSON.stringify(maskValues(JSON.parse(line)))}\n`;
  } catch {
    return scrubbed;
  }
}

/**
 * Strings scrubbed; a number of 12 to 19 integer digits masked whatever its Luhn check (a 19-digit
 * one was rounded on parsing), but an epoch time (13, 16 or 19 digits beginning with 1, as the
 * scrubber leaves them).
 */
function maskValues(value: unknown): unknown {
  if (typeof value === 'string') return scrubCardNumbers(value);
  if (typeof value === 'number') {
    const digits = Number.isSafeInteger(value) || Math.abs(value) >= 1e12 ? BigInt(Math.trunc(value)).toString() : '';
    const n = digits.replace('-', '');
    const epoch = [13, 16, 19].includes(n.length) && n.startsWith('1');
    return n.length >= 12 && n.length <= 19 && !epoch ? maskDigits(n) : value;
  }
  if (Array.isArray(value)) {
    // Numbers a card was split into ([4111, 1111, 1111, 1111]): masked as the text the line showed.
    if (value.length > 1 && value.every((v) => typeof v === 'number')) {
      const joined = value.join(',');
      const masked = scrubCardNumbers(joined);
      if (masked !== joined) return masked;
    }
    return value.map(maskValues);
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[scrubCardNumbers(k)] = maskValues(v);
    return out;
  }
  return value;
}

type SerializedError = Record<string, unknown>;
const isObject = (v: unknown): v is SerializedError => typeof v === 'object' && v !== null;

function scrubSerialized(serialized: SerializedError): SerializedError {
  const out: SerializedError = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (typeof value === 'string') out[key] = scrubCardNumbers(value);
    else if (key === 'aggregateErrors' && Array.isArray(value))
      out[key] = value.map((e: unknown) => (isObject(e) ? scrubSerialized(e) : e));
    else out[key] = value;
  }
  return out;
}

/**
 * The serializer of `err`: pino's (the error's type, message and stack, its causes', its own
 * fields such as `code` and `status`), with card numbers masked in its message, stack and text fields. Log
 * errors as `{ err: error }`: never their message alone, the stack is what finds the fault.
 */
export function errSerializer(err: unknown): unknown {
  const serialized: unknown = pino.stdSerializers.err(err as Error);
  if (typeof serialized === 'string') return scrubCardNumbers(serialized);
  return isObject(serialized) ? scrubSerialized(serialized) : serialized;
}

/** A log object with its top-level fractional numbers rounded to 3 decimals (milliseconds: the microsecond). */
export function roundFractions(object: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(object)) {
    if (typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value)) {
      out ??= { ...object };
      out[key] = Math.round(value * 1000) / 1000;
    }
  }
  return out ?? object;
}

export function createLogger(level: string, target: { write(chunk: string): unknown } = process.stdout): Logger {
  return pino(
    {
      level,
      // ISO times: epoch milliseconds are 13 digits and would look like card numbers to the sink filter.
      timestamp: pino.stdTimeFunctions.isoTime,
      // Fractions rounded to the microsecond: a float's 15 digits (fastify's responseTime) can pass
      // the Luhn check, and masking them broke the JSON line.
      formatters: { log: roundFractions },
      serializers: { err: errSerializer },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'card.number',
          '*.card.number',
          'body.card.number',
          'pan',
          '*.pan',
        ],
        censor: '[redacted]',
      },
    },
    panSafeDestination(target),
  );
}
