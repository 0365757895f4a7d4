// Creating topics, whoever needs them (the stream's four and the labels topic, streams/topics.ts;
// the recording's, record-topic.ts): "already exists" is success, and the call returns once every
// partition has a leader.
import { isAuthorizationError, type TopicAdmin, type TopicSpec } from './client.ts';
import { LeakguardError } from '../../core/errors.ts';

/** Creating topics was refused to a user who cannot see them: an admin must create them. */
export class TopicsNotAuthorizedError extends LeakguardError {
  constructor(message: string, options: { cause: unknown }) {
    super('KAFKA_NOT_AUTHORIZED', message, options);
  }
}

/**
 * Creates topics ("already exists" is success) and waits until every partition has a leader.
 * kafkajs' own waitForLeaders gives up on an "unknown topic" answer that a busy broker gives for
 * a moment after the creation; this waits it out, whatever the client.
 */
export async function createTopics(admin: TopicAdmin, topics: TopicSpec[], timeoutMs = 30_000): Promise<void> {
  try {
    await admin.createTopics({ topics, waitForLeaders: false });
  } catch (error) {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic)).map((t) => t.topic);
    // Under ACLs a client sees only the topics it may use, and creating them is for an admin.
    if (missing.length > 0 && isAuthorizationError(error)) {
      const them = missing.length > 1 ? 'them' : 'it';
      throw new TopicsNotAuthorizedError(
        `not authorized to create ${missing.join(', ')}, which this user cannot see: create ${them} as an admin (npm run kafka -- grant creates the default topics) and grant this user read or write on ${them}`,
        { cause: error },
      );
    }
    if (missing.length > 0) throw error;
  }
  await waitForLeaders(admin, topics, timeoutMs);
}

async function waitForLeaders(admin: TopicAdmin, topics: TopicSpec[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.map((t) => t.topic).join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}
