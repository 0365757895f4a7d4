// The Kafka LabelSink of case feedback (services/cases/feedback.ts): labels go to
// `leakguard.labels`, which is created with the stream's topics (streams/topics.ts: the stream
// processor at start-up, `npm run kafka -- grant` and the local secure broker as admin).
import type { LabelSink } from '../../cases/feedback.ts';
import { securityFromEnvironment, type KafkaSecurity } from './security.ts';

export const LABELS_TOPIC = 'leakguard.labels';

/**
 * An idempotent producer for `leakguard.labels`, created only when KAFKA_BROKERS is set (the Kafka
 * client is loaded then, not before). It connects with the stream processor's SASL/TLS settings
 * (KAFKA_SASL_*, KAFKA_TLS*; by default from the environment).
 *
 * It connects at its first send, not when made: the case database and the console must not wait
 * for Kafka (a broker down at start-up held them for good). A send that cannot connect fails like
 * any other, the labels stay in the case store's outbox, and the next flush connects again.
 */
export async function kafkaLabelSink(options: {
  brokers: string[];
  topic?: string;
  security?: KafkaSecurity;
}): Promise<LabelSink> {
  const { kafkaClient } = await import('./kafka.ts');
  const producer = kafkaClient({
    clientId: 'leakguard-console',
    brokers: options.brokers,
    security: options.security ?? securityFromEnvironment(),
    // No client log of its own: a failed send is the outbox's warning, once a minute (runtime.ts),
    // not the library's error at every try.
    connectionTimeoutMs: 3_000,
    requestTimeoutMs: 10_000,
    // Few retries: the outbox is the retry (the next flush, seconds later), and a shutdown waits
    // for the flush in flight.
    retry: { initialRetryTimeMs: 300, maxRetryTimeMs: 2_000, retries: 2 },
  }).producer({ idempotent: true, autoCreateTopics: true });
  const topic = options.topic ?? LABELS_TOPIC;
  let connecting: Promise<void> | undefined;
  const connected = () =>
    (connecting ??= producer.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    }));
  return {
    async send(messages) {
      await connected();
      await producer.send([{ topic, messages }]);
    },
    close: () => producer.disconnect(),
  };
}
