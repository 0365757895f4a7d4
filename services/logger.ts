// Structured logs that can never carry a card number: structural redaction for known fields,
// and a last line of defence at the sink: every line passes the card-number scrubber (scrub.ts),
// so separated and full-width card numbers are masked too.
import { Writable } from 'node:stream';
import { pino, type Logger, type DestinationStream } from 'pino';
import { scrubCardNumbers } from './core/scrub.ts';

export type { Logger };

/** Wraps a destination so that every line written is scrubbed of card numbers. */
export function panSafeDestination(target: { write(chunk: string): unknown }): DestinationStream {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      target.write(scrubCardNumbers(chunk.toString()));
      done();
    },
  }) as unknown as DestinationStream;
}

export function createLogger(level: string, target: { write(chunk: string): unknown } = process.stdout): Logger {
  return pino(
    {
      level,
      // ISO times: epoch milliseconds are 13 digits and would look like card numbers to the sink filter.
      timestamp: pino.stdTimeFunctions.isoTime,
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
