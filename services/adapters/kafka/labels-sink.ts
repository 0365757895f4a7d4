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
 */
export async function kafkaLabelSink(
  brokers: string[],
  topic = LABELS_TOPIC,
  security?: KafkaSecurity,
): Promise<LabelSink> {
  const { kafkaClient } = await import('./kafka.ts');
  const producer = kafkaClient({
    clientId: 'leakguard-console',
    brokers,
    security: security ?? securityFromEnvironment(),
  }).producer({ idempotent: true, autoCreateTopics: true });
  await producer.connect();
  return {
    async send(messages) {
      await producer.send([{ topic, messages }]);
    },
    close: () => producer.disconnect(),
  };
}
