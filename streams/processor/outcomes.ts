// What becomes of one input message: parsed and validated first (prepare), then scored
// (outcomeOf): a decision to publish, a dead letter to publish, or a retry when the stores do not
// answer (the batch stops there and consumption pauses: pausing.ts).
// A decision or dead letter is serialised as it is made: it waits for the rest of its chunk
// (hundreds of transactions, most of a second under load) before it is published, and as one
// string instead of its objects it costs the young-generation collections far less to keep.
import type { ConsumedMessage } from '../../services/adapters/kafka/client.ts';
import { UnknownRateError } from '../../services/core/currency.ts';
import { OccurredInFutureError, type ScoreResult } from '../../services/core/engine.ts';
import { duplicateKeyPath } from '../../services/core/json-duplicates.ts';
import { issueDetails, securityCodeRefusal, type Decision, type ScoreRequest } from '../../services/core/schemas.ts';
import type { Logger } from '../../services/logger.ts';
import type { StreamConfig } from '../config.ts';
import {
  deadLetterMessage,
  decisionMessage,
  maskKey,
  minimalDeadLetter,
  transactionMessageSchema,
  type CardRef,
  type DeadLetterMessage,
  type DeadLetterReason,
  type DecisionMessage,
  type TransactionMessage,
} from '../messages.ts';

export type RetryReason = 'store_unavailable' | 'merchants_unavailable';

/**
 * `value`: the message to publish, as JSON (keyed by `key`). `headers`: the input's carried headers
 * (messages.ts carriedHeaders), published with it.
 */
export type Outcome =
  | {
      kind: 'decision';
      offset: string;
      timestamp: number;
      key: string;
      value: string;
      decision: Decision;
      headers?: Record<string, string>;
    }
  | {
      kind: 'dead';
      offset: string;
      timestamp: number;
      key: string | null;
      value: string;
      reason: DeadLetterReason;
      headers?: Record<string, string>;
    }
  | { kind: 'retry'; offset: string; reason: RetryReason };

const decided = (offset: string, timestamp: number, message: DecisionMessage): Outcome => ({
  kind: 'decision',
  offset,
  timestamp,
  key: message.card.fingerprint,
  value: JSON.stringify(message),
  decision: message.decision,
});
const deadLettered = (offset: string, timestamp: number, key: string | null, message: DeadLetterMessage): Outcome => ({
  kind: 'dead',
  offset,
  timestamp,
  key,
  value: JSON.stringify(message),
  reason: message.reason,
});

/**
 * The outcomes with every dead letter replaced by its minimal form (minimalDeadLetter): what is
 * published again when the broker refused a dead letter for its size, which it would refuse
 * however often it is offered (the batch failing, the consumer crashing on it for good).
 */
export function withMinimalDeadLetters(outcomes: readonly Outcome[]): Outcome[] {
  return outcomes.map((o) =>
    o.kind === 'dead'
      ? {
          ...deadLettered(o.offset, o.timestamp, o.key, minimalDeadLetter(JSON.parse(o.value) as DeadLetterMessage)),
          ...(o.headers ? { headers: o.headers } : {}),
        }
      : o,
  );
}

/** A valid transaction, ready to score. */
export interface Input {
  kind: 'input';
  offset: string;
  timestamp: number;
  transaction: TransactionMessage;
  message: ConsumedMessage;
  parsed: unknown;
}

export type Prepared = { kind: 'dead'; outcome: Outcome } | Input;

/** The scoring request inside a transaction message (everything but the merchant). */
export function requestOf(transaction: TransactionMessage): ScoreRequest {
  const { merchantId: _merchant, ...request } = transaction;
  return request;
}

/** Parse and validate; what cannot be scored becomes a dead letter here. */
export function prepare(topic: string, partition: number, message: ConsumedMessage): Prepared {
  const offset = message.offset;
  const timestamp = Number(message.timestamp);
  const source = { topic, partition, offset };
  const raw = message.value ? message.value.toString('utf8') : '';
  const dead = (
    reason: DeadLetterReason,
    details: { path: string; message: string }[],
    parsed?: unknown,
  ): Prepared => ({
    kind: 'dead',
    outcome: deadLettered(
      offset,
      timestamp,
      maskKey(message.key),
      deadLetterMessage({
        reason,
        details,
        source,
        key: message.key,
        timestamp: message.timestamp,
        raw,
        ...(parsed === undefined ? {} : { parsed }),
      }),
    ),
  });
  if (!message.value || message.value.length === 0)
    return dead('invalid_json', [{ path: '(root)', message: 'the message has no value' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return dead('invalid_json', [{ path: '(root)', message: 'is not valid JSON' }]);
  }
  // JSON.parse kept the last of a repeated key's values: refused as the API refuses it.
  const duplicate = duplicateKeyPath(raw);
  if (duplicate !== undefined)
    return dead(
      'schema_violation',
      [{ path: duplicate, message: 'this key appears more than once in its object' }],
      parsed,
    );
  // A security code anywhere in the message is refused, as the API refuses it (dead letters remove it).
  const refusal = securityCodeRefusal(parsed, transactionMessageSchema);
  if (refusal) return dead('schema_violation', issueDetails(refusal), parsed);
  const result = transactionMessageSchema.safeParse(parsed);
  if (!result.success) return dead('schema_violation', issueDetails(result.error), parsed);
  return { kind: 'input', offset, timestamp, transaction: result.data, message, parsed };
}

/**
 * A message whose reading failed unexpectedly (a fault of ours, not of the message's shape): a dead
 * letter without its payload, so that one message cannot stall its partition.
 */
export function unreadableOf(topic: string, partition: number, message: ConsumedMessage): Outcome {
  const source = { topic, partition, offset: message.offset };
  return deadLettered(
    message.offset,
    Number(message.timestamp),
    null,
    deadLetterMessage({
      reason: 'engine_error',
      details: [{ path: '(root)', message: 'the processor failed to read this message; its payload is not kept' }],
      source,
      key: null,
      timestamp: message.timestamp,
      raw: '',
    }),
  );
}

/** A valid transaction that still cannot be scored, as a dead letter. */
export function deadOf(
  topic: string,
  partition: number,
  input: Input,
  reason: DeadLetterReason,
  details: { path: string; message: string }[],
): Outcome {
  const { offset, timestamp, message, parsed } = input;
  return deadLettered(
    offset,
    timestamp,
    maskKey(message.key),
    deadLetterMessage({
      reason,
      details,
      source: { topic, partition, offset },
      key: message.key,
      timestamp: message.timestamp,
      raw: '',
      parsed,
    }),
  );
}

export interface OutcomeContext {
  config: StreamConfig;
  logger: Logger;
  /** Card number → fingerprint, BIN, last 4, for a replayed decision (which has no evidence). */
  identify: (pan: string) => CardRef;
}

/** What becomes of one scored transaction: a decision, a dead letter, or a retry (stores down). */
export function outcomeOf(
  context: OutcomeContext,
  topic: string,
  partition: number,
  input: Input,
  result: ScoreResult | { kind: 'error'; error: unknown },
): Outcome {
  const { offset, timestamp, transaction } = input;
  const source = { topic, partition, offset };
  if (result.kind === 'error') {
    // As POST /v1/score answers 422: a currency the rate table lacks; nothing was counted.
    if (result.error instanceof UnknownRateError)
      return deadOf(topic, partition, input, 'no_exchange_rate', [{ path: 'currency', message: result.error.message }]);
    // Dated too far ahead, as POST /v1/score answers 400; nothing was counted.
    if (result.error instanceof OccurredInFutureError)
      return deadOf(topic, partition, input, 'schema_violation', result.error.details ?? []);
    context.logger.error({ err: result.error, source }, 'the engine failed to score a transaction; dead-lettered');
    return deadOf(topic, partition, input, 'engine_error', [
      { path: '(root)', message: 'the engine failed to score this transaction' },
    ]);
  }
  if (result.kind === 'conflict')
    return deadOf(topic, partition, input, 'conflict', [
      { path: 'transactionId', message: 'was already scored with a different payload' },
    ]);
  if (result.response.degraded && context.config.LEAKGUARD_STREAM_DEGRADED === 'pause')
    return { kind: 'retry', offset, reason: 'store_unavailable' };
  // The engine's evidence names the card; a replayed decision comes without evidence.
  const evidence = result.evidence?.card;
  const card: CardRef = evidence
    ? { bin: evidence.bin, last4: evidence.last4, fingerprint: evidence.fingerprint, keyId: evidence.keyId }
    : context.identify(transaction.card.number);
  return decided(
    offset,
    timestamp,
    decisionMessage(transaction.merchantId, result.response, card, result.replayed, source),
  );
}
