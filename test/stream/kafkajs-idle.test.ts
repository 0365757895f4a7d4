// An idle Kafka connection costs nothing: kafkajs 2.2.4 checked every connection's request queue
// every millisecond for its whole life (tulios/kafkajs#1704), which request-queue-idle.ts stops in
// any process that loads kafkajs through the project's client. The queue still sends what is
// queued: a producer idle for seconds sends, and a consumer reads it.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Consumer } from 'kafkajs';
import { kafkaClient as projectClient } from '../../services/adapters/kafka/kafka.ts';
import type { KafkaProducer } from '../../services/adapters/kafka/client.ts';
import { kafkaClient, sharedBroker, sleep, waitFor } from './support.ts';

const require = createRequire(import.meta.url);
const queue = require('kafkajs/src/network/requestQueue/index.js') as {
  prototype: { checkPendingRequests(this: unknown): void };
};
const TOPIC = `idle-${randomBytes(4).toString('hex')}`;

let producer: KafkaProducer;
let consumer: Consumer;
let checks = 0;
const received: string[] = [];

beforeAll(async () => {
  const bootstrap = await sharedBroker();
  const admin = kafkaClient(bootstrap).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  // Every check of every connection's queue in this process, counted.
  const theirs = queue.prototype.checkPendingRequests;
  queue.prototype.checkPendingRequests = function (this: unknown) {
    checks++;
    theirs.call(this);
  };
  producer = projectClient({ brokers: [bootstrap], clientId: 'idle-test' }).producer();
  await producer.connect();
  consumer = kafkaClient(bootstrap).consumer({ groupId: `${TOPIC}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void received.push(message.value!.toString('utf8')) });
  await producer.send([{ topic: TOPIC, messages: [{ value: 'first' }] }]);
  await waitFor('the first message read', () => received.length === 1);
}, 120_000);

afterAll(async () => {
  await consumer?.disconnect();
  await producer?.disconnect();
});

it('checks no idle queue every millisecond, and still sends what is queued after idling', async () => {
  await sleep(500);
  const before = checks;
  await sleep(2_000);
  // A producer and a consumer (broker and group coordinator connections) idle for 2 s: kafkajs as
  // published checks thousands of times; what remains is the consumer's fetches answered.
  expect(checks - before).toBeLessThan(100);
  await producer.send([{ topic: TOPIC, messages: [{ value: 'after idling' }] }]);
  await waitFor('the message sent after idling', () => received.includes('after idling'), 30_000);
}, 60_000);
