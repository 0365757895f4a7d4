// kafkajs 2.2.4 polls every connection's request queue every millisecond for as long as the
// connection lives, with nothing to check (tulios/kafkajs#1704, #1751, unfixed upstream):
// `checkPendingRequests` always ends by scheduling itself again, and with no request pending and
// no throttle the delay it computes is negative, which Node turns into 1 ms (Node 24 warns
// TimeoutNegativeWarning). An idle producer and consumer burnt ~40 ms of CPU a second (4 % of a
// core) against 2-4 ms without the loop; every stream processor and engine with KAFKA_BROKERS pays
// it per broker connection. A check is only needed while requests wait: `push` schedules one when
// it queues a request, and a fulfilled request checks the queue at once, so with nothing pending
// and no throttle in force, no timer is set. Imported by kafkajs-client.ts; patches the request
// queue's prototype once per process (test/stream/kafkajs-idle.test.ts).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

const PATCHED = Symbol.for('leakguard.kafkajs.requestQueueIdle');

const { prototype } = require('kafkajs/src/network/requestQueue/index.js') as {
  prototype: RequestQueue & { [PATCHED]?: true };
};
const theirs = prototype.scheduleCheckPendingRequests;
// Once per process; kafkajs internals changed (no such method): left as they are.
if (!prototype[PATCHED] && typeof theirs === 'function') {
  prototype.scheduleCheckPendingRequests = function (this: RequestQueue) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    theirs.call(this);
  };
  prototype[PATCHED] = true;
}
