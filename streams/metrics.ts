// Prometheus metrics of the stream processor, and the small HTTP server that exposes them with the
// engine's own (decisions, degraded answers, Redis errors). Label values are closed sets: topic
// names from the configuration, partition numbers, reasons; never anything from a message.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { metricsRefusal, type MetricsAccess } from '../services/http/access.ts';
import { ConfigError } from '../services/config.ts';
import { fromZero } from '../services/metrics.ts';
import { DEAD_LETTER_REASONS } from './messages.ts';

/** What became of an input message (leakguard_stream_messages_total's outcome). */
export const MESSAGE_OUTCOMES = ['decision', 'dead_letter', 'retry'] as const;

export class StreamMetrics {
  readonly registry = new Registry();
  readonly lag = new Gauge({
    name: 'leakguard_stream_consumer_lag',
    help: "Input messages not yet processed, per partition this instance owns: read from the broker every LEAKGUARD_STREAM_LAG_INTERVAL_MS and after each join as the high watermark minus the committed offset; in between, set after each published chunk as the batch's high watermark when fetched minus the next offset to read (published, its commit possibly still pending)",
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'leakguard_stream_batch_size',
    help: 'Messages published per chunk: at most LEAKGUARD_STREAM_BATCH_SIZE of one fetched batch of one partition, scored and published together (the part before a retry when one cuts it short). Its outputs go in produce requests of at most 512 KiB each; its offsets are committed with others, every LEAKGUARD_STREAM_COMMIT_INTERVAL_MS',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });
  readonly batchDuration = new Histogram({
    name: 'leakguard_stream_batch_duration_seconds',
    help: 'Time of a published chunk (leakguard_stream_batch_size): reading and scoring its messages, publishing its outputs until acknowledged. Its offsets are then queued for the next commit: the commit is not timed',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly endToEnd = new Histogram({
    name: 'leakguard_stream_end_to_end_seconds',
    help: 'From the input record timestamp to its output acknowledged by the broker',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly messages = new Counter({
    name: 'leakguard_stream_messages_total',
    help: 'Input messages by outcome: decision, dead_letter, or retry (not published, will be processed again)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'leakguard_stream_decisions_total',
    help: 'Published decisions by decision',
    labelNames: ['decision'],
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'leakguard_stream_dead_letters_total',
    help: 'Dead-lettered inputs by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly pauses = new Counter({
    name: 'leakguard_stream_pauses_total',
    help: 'Times consumption was paused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly paused = new Gauge({
    name: 'leakguard_stream_paused',
    help: '1 while consumption is paused (stores unavailable)',
    registers: [this.registry],
  });
  readonly crashes = new Counter({
    name: 'leakguard_stream_consumer_crashes_total',
    help: 'Consumer crashes (Kafka unreachable and the like). restart: whether the Kafka client restarts the consumer itself (true) or gave up on an error it deems not retriable (false: the processor then builds a new consumer after 5 s)',
    labelNames: ['restart'],
    registers: [this.registry],
  });
  readonly groupJoins = new Counter({
    name: 'leakguard_stream_group_joins_total',
    help: 'Consumer group joins (start and every rebalance)',
    registers: [this.registry],
  });
  readonly assignedPartitions = new Gauge({
    name: 'leakguard_stream_assigned_partitions',
    help: 'Input partitions assigned to this instance',
    registers: [this.registry],
  });

  constructor() {
    // The counters the alerts read, every series from 0 at start (services/metrics.ts fromZero):
    // increase() and rate() then see a first crash, a first dead letter.
    fromZero(this.messages, 'outcome', MESSAGE_OUTCOMES);
    fromZero(this.deadLetters, 'reason', DEAD_LETTER_REASONS);
    fromZero(this.crashes, 'restart', ['true', 'false']);
  }
}

export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

/** GET /metrics (Prometheus text) and GET /healthz (200 while the processor is up, with its consumer's state; 503 once stopped). */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  registries: Registry[];
  health: () => HealthReport;
  /** Who may scrape /metrics: the engine's rule (LEAKGUARD_METRICS_TOKEN; none in production without it). /healthz stays open. */
  access: MetricsAccess;
}): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const registry = Registry.merge(options.registries);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      const refused = metricsRefusal(options.access, {
        authorization: req.headers.authorization,
        ip: req.socket.remoteAddress ?? '',
      });
      if (refused) {
        res
          .writeHead(refused.status, { ...refused.headers, 'content-type': 'application/json' })
          .end(JSON.stringify({ error: refused.message, code: refused.code }));
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) =>
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(error as Error).message}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      const report = options.health();
      res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      // A setting to change, as the engine's PORT taken is: exit 2 (streams/main.ts), not a crash.
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(
              `invalid configuration:\n  STREAM_METRICS_PORT: port ${options.port} on ${options.host} is in use (another processor?): stop that process, or set another STREAM_METRICS_PORT (0 picks a free one)`,
              { cause: error },
            )
          : error,
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
