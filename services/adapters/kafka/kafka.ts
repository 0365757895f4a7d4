// Every Kafka client of Leakguard is made here: the one place that picks the implementation of
// client.ts (kafkajs, kafkajs-client.ts). Moving to another library means another implementation
// and this file's first line (streams/KAFKA-CLIENT.md).
import { kafkajsClient } from './kafkajs-client.ts';
import type { KafkaClient, KafkaClientOptions } from './client.ts';
import type { Logger } from '../../logger.ts';
import type { KafkaSecurity } from './security.ts';

/** A client with exactly the settings given; what is unset is the library's default. */
export const kafkaClient: (options: KafkaClientOptions) => KafkaClient = kafkajsClient;

/**
 * Leakguard's long-running clients (the stream processor, the producer helper): their logs go
 * through the PAN-safe logger, and their retries are patient enough to ride out a broker restart.
 */
export function createKafka(options: {
  brokers: string[];
  clientId: string;
  logger: Logger;
  security?: KafkaSecurity;
}): KafkaClient {
  return kafkaClient({
    brokers: options.brokers,
    clientId: options.clientId,
    security: options.security,
    log: options.logger,
    connectionTimeoutMs: 3_000,
    requestTimeoutMs: 30_000,
    // About a minute of reconnect attempts before an operation gives up (and the consumer restarts).
    retry: { initialRetryTimeMs: 300, maxRetryTimeMs: 10_000, retries: 10 },
  });
}
