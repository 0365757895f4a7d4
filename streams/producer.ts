// A small typed producer for leakguard.transactions: validates each transaction with the same zod
// schema the processor applies (so a bad one fails here, at the producer, not in the dead-letter
// topic) and sends it acknowledged by all in-sync replicas.
//
//   const producer = new TransactionProducer({ brokers: ['127.0.0.1:9092'] });
//   await producer.connect();
//   await producer.send({ merchantId: 'shop-7', transactionId: 'order-1', amount: 1999, currency: 'EUR',
//     channel: 'ecommerce', card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030 } });
//   await producer.disconnect();
//
// The message key defaults to the masked card number (BIN and last 4, e.g. 411111******1111): one
// card always goes to the same partition, so its transactions are scored in order, and the key
// holds nothing PCI DSS forbids to display. Never key by an unkeyed hash of the card number: the
// card-number space is small enough to reverse it.
import type { KafkaClient, KafkaProducer, ProducedRecord } from '../services/adapters/kafka/client.ts';
import { createKafka, kafkaClient } from '../services/adapters/kafka/kafka.ts';
import type { KafkaSecurity } from '../services/adapters/kafka/security.ts';
import { maskPan } from '../services/core/card.ts';
import { issueDetails } from '../services/core/schemas.ts';
import type { Logger } from '../services/logger.ts';
import { transactionMessageSchema, type TransactionMessage, type TransactionMessageInput } from './messages.ts';
import { LeakguardError } from '../services/core/errors.ts';

export const DEFAULT_TRANSACTIONS_TOPIC = 'leakguard.transactions';

export class TransactionValidationError extends LeakguardError {
  declare readonly details: { path: string; message: string }[];
  constructor(details: { path: string; message: string }[]) {
    super('TRANSACTION_INVALID', `invalid transaction: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, {
      details,
    });
  }
}

export interface TransactionProducerOptions {
  /** An existing Kafka client (services/adapters/kafka/client.ts), or brokers to create one. */
  kafka?: KafkaClient;
  brokers?: string[];
  /** SASL/SCRAM and TLS of the client created from `brokers`, e.g. loadKafkaSecurity() (streams/config.ts). */
  security?: KafkaSecurity;
  clientId?: string;
  logger?: Logger;
  topic?: string;
  /** Message key of a transaction; default: the masked card number. */
  key?: (transaction: TransactionMessage) => string;
}

export const cardKey = (transaction: TransactionMessage) => maskPan(transaction.card.number);

/** Validates one transaction; the error's details never repeat the input. */
export function validateTransaction(input: unknown): TransactionMessage {
  const result = transactionMessageSchema.safeParse(input);
  if (!result.success) throw new TransactionValidationError(issueDetails(result.error));
  return result.data;
}

export class TransactionProducer {
  readonly topic: string;
  private readonly producer: KafkaProducer;
  private readonly key: (transaction: TransactionMessage) => string;

  constructor(options: TransactionProducerOptions) {
    if (!options.kafka && !options.brokers?.length)
      throw new Error('TransactionProducer needs a kafka client or brokers');
    const kafka =
      options.kafka ??
      (options.logger
        ? createKafka({
            brokers: options.brokers ?? [],
            clientId: options.clientId ?? 'leakguard-producer',
            logger: options.logger,
            security: options.security,
          })
        : kafkaClient({
            brokers: options.brokers ?? [],
            clientId: options.clientId ?? 'leakguard-producer',
            // The client's own warnings, on the console.
            log: 'console',
            security: options.security,
          }));
    this.topic = options.topic ?? DEFAULT_TRANSACTIONS_TOPIC;
    this.key = options.key ?? cardKey;
    this.producer = kafka.producer();
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /**
   * Validates every transaction first (nothing is sent when one is invalid; the error's paths
   * start with its index when several were given), then sends them in one request, acks=-1.
   */
  async send(transactions: TransactionMessageInput | TransactionMessageInput[]): Promise<ProducedRecord[]> {
    const list = Array.isArray(transactions) ? transactions : [transactions];
    const valid = list.map((t, i) => {
      try {
        return validateTransaction(t);
      } catch (error) {
        if (error instanceof TransactionValidationError && Array.isArray(transactions)) {
          throw new TransactionValidationError(
            error.details.map((d) => ({
              path: d.path === '(root)' ? `[${i}]` : `[${i}].${d.path}`,
              message: d.message,
            })),
          );
        }
        throw error;
      }
    });
    if (valid.length === 0) return [];
    return this.producer.send([
      {
        topic: this.topic,
        messages: valid.map((t) => ({ key: this.key(t), value: JSON.stringify(t), timestamp: String(Date.now()) })),
      },
    ]);
  }
}
