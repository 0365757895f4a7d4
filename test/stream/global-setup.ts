// One Kafka broker for every stream test file, started by the first file that asks for it (a
// run without stream tests starts none) and stopped once, after the whole run. Files find it
// through its state dir: startKafka() reuses the broker running there, under a lock.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { stopKafka } from '../../streams/broker/local-kafka.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** State dir of the shared test broker (test/stream/support.ts: sharedBroker()). */
    streamKafkaStateDir: string;
  }
}

export default function setup(project: TestProject): () => Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-stream-kafka-'));
  project.provide('streamKafkaStateDir', stateDir);
  // Should this process die before the teardown, the broker (detached) must not outlive it.
  const killBroker = () => {
    try {
      const pid = Number.parseInt(readFileSync(join(stateDir, 'kafka.pid'), 'utf8'), 10);
      if (pid > 0) process.kill(-pid, 'SIGKILL');
    } catch {
      /* not started, or gone */
    }
  };
  process.once('exit', killBroker);
  return async () => {
    try {
      await stopKafka(stateDir);
    } finally {
      process.off('exit', killBroker);
      rmSync(stateDir, { recursive: true, force: true });
    }
  };
}
