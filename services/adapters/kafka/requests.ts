// Produce requests of bounded size. A broker refuses a partition's batch larger than its
// `message.max.bytes` (1 MiB by default), and refuses it again however often it is offered: a
// producer that sends whatever waits in one request stalls for good once a backlog passes it.
// Requests of at most REQUEST_BYTES of keys, values and headers keep every partition's batch under
// that limit, whichever partitions the messages fall in.
import type { OutgoingMessage, TopicMessages } from './client.ts';

export const REQUEST_BYTES = 512 * 1024;

const sizeOf = (v: string | Buffer | null | undefined): number =>
  v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;

function messageBytes(m: OutgoingMessage): number {
  let bytes = sizeOf(m.key) + sizeOf(m.value);
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) bytes += sizeOf(k) + sizeOf(v);
  return bytes;
}

/**
 * The topics' messages as produce requests of at most `maxBytes` each, to send one after the
 * other: every message once, each topic's in order (a message larger than `maxBytes` goes alone).
 */
export function inRequests(batches: readonly TopicMessages[], maxBytes = REQUEST_BYTES): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let request: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of batches) {
    let current: TopicMessages | undefined;
    for (const message of messages) {
      const size = messageBytes(message);
      if (bytes > 0 && bytes + size > maxBytes) {
        requests.push(request);
        request = [];
        bytes = 0;
        current = undefined;
      }
      if (!current) request.push((current = { topic, messages: [] }));
      current.messages.push(message);
      bytes += size;
    }
  }
  if (request.length > 0) requests.push(request);
  return requests;
}
