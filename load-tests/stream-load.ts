// Load generation for the stream benchmark: realistic transactions (a pool of cards, devices,
// IPs, emails and merchants, some card testing), produced at a fixed rate or as fast as
// possible, and a reader of the decisions topic that measures input→decision latency.
import { randomInt } from 'node:crypto';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { luhnValid, maskPan } from '../services/core/card.ts';

/** n Luhn-valid card numbers over a few thousand BINs (Visa, Mastercard, Amex). */
export function cardNumbers(n: number): string[] {
  const bins = Array.from({ length: 2_000 }, (_, i) =>
    i % 10 === 9 ? `37${randomInt(1000, 10000)}` : `${i % 2 ? 4 : 5}${randomInt(10000, 100000)}`,
  );
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const bin = bins[i % bins.length]!;
    const length = bin.startsWith('37') ? 15 : 16;
    let body = bin;
    while (body.length < length - 1) body += String(randomInt(10));
    for (let c = 0; c < 10; c++) {
      if (luhnValid(body + c)) {
        out.push(body + c);
        break;
      }
    }
  }
  return out;
}

export interface Population {
  cards: string[];
  merchants: string[];
}

let serial = 0;

/**
 * One transaction as the producer sends it: key (masked card) and JSON value. Each card has its
 * holder's device, IP, e-mail and home, as at a real checkout; about 1 % security-code mismatches,
 * 3-D Secure on most orders, and a card-testing run (one of 20 cards, small amounts) every 200th
 * transaction: a few per cent of decisions are flagged (bench:stream prints the share), so that
 * the scoring path, not the case path, is what it measures. (Devices, e-mails and addresses drawn
 * at random for every order made every card look shared by a ring, and every tenth order a case.)
 */
export function transaction(pop: Population, prefix: string): { id: string; key: string; value: string } {
  const i = serial++;
  const testing = i % 200 === 0;
  const c = testing ? Math.floor(i / 200) % 20 : randomInt(pop.cards.length);
  const pan = pop.cards[c]!;
  const id = `${prefix}-${i}`;
  const small = testing || i % 100 === 1;
  const value = JSON.stringify({
    // Customers mostly shop where they shop: a card's home merchant nine times in ten.
    merchantId: pop.merchants[i % 10 === 0 ? randomInt(pop.merchants.length) : c % pop.merchants.length],
    transactionId: id,
    occurredAt: new Date().toISOString(),
    // Baskets log-uniform between about 20 and 120 EUR (as score.js): uniform up to 310 EUR made the
    // starter model flag every order above ~220 (the simulator's first fraud scenario), a third of them.
    amount: small ? 100 + randomInt(100) : Math.round(Math.exp(3 + Math.random() * 1.8) * 100),
    currency: 'EUR',
    channel: i % 5 === 0 ? 'in_app' : 'ecommerce',
    card: {
      number: pan,
      expiryMonth: 1 + (c % 12),
      expiryYear: 2028 + (c % 5),
      cvvResult: i % 100 === 7 ? 'mismatch' : 'match',
    },
    ...(i % 10 < 6 ? { threeDS: { status: i % 200 === 3 ? 'N' : 'Y', version: '2.2.0' } } : {}),
    device: { id: `dev-${c}`, ip: `10.${(c >> 16) & 255}.${(c >> 8) & 255}.${c & 255}` },
    customer: { email: `buyer${c}@example.com` },
    shippingAddress: {
      line1: `${c} Main St`,
      postalCode: String(10_000 + (c % 80_000)),
      city: 'Springfield',
      country: 'US',
    },
  });
  return { id, key: maskPan(pan), value };
}

/** Sent-at times by transaction id, and the latencies of those decided. */
export class LatencyBook {
  private readonly sentAt = new Map<string, number>();
  private latencies: number[] = [];
  decided = 0;
  /** Decisions by kind (approve, challenge, review, decline). */
  readonly decisions: Record<string, number> = {};
  /** Reason codes of the flagged decisions (not approved), by how often they came. */
  readonly flaggedReasons: Record<string, number> = {};
  /** Decisions per second, bucketed by second since the book was created. */
  readonly perSecond: number[] = [];
  private readonly t0 = Date.now();

  sent(ids: string[], at: number): void {
    for (const id of ids) this.sentAt.set(id, at);
  }

  received(id: string, at: number, decision?: string, reasons: string[] = []): void {
    const sent = this.sentAt.get(id);
    if (sent === undefined) return; // a repeat, or not ours
    this.sentAt.delete(id);
    if (decision) this.decisions[decision] = (this.decisions[decision] ?? 0) + 1;
    if (decision && decision !== 'approve')
      for (const r of reasons) this.flaggedReasons[r] = (this.flaggedReasons[r] ?? 0) + 1;
    this.latencies.push(at - sent);
    this.decided++;
    const s = Math.floor((at - this.t0) / 1000);
    this.perSecond[s] = (this.perSecond[s] ?? 0) + 1;
  }

  get pending(): number {
    return this.sentAt.size;
  }

  /** Latencies recorded since the last call, and forget them. */
  take(): number[] {
    const out = this.latencies;
    this.latencies = [];
    return out;
  }
}

/** Reads the decisions topic (new messages only) and books each decision's receipt. */
export async function startDecisionReader(kafka: Kafka, topic: string, book: LatencyBook): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId: `bench-reader-${process.pid}-${Date.now()}`,
    maxWaitTimeInMs: 20,
    minBytes: 1,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        // The id is the first field of a decision; the decision and its reason codes are read by pattern, not parsed.
        const text = m.value?.toString('utf8') ?? '';
        const match = /^\{"transactionId":"([^"]+)"/.exec(text);
        if (match)
          book.received(
            match[1]!,
            now,
            /"decision":"(\w+)"/.exec(text)?.[1],
            [...text.matchAll(/"code":"(\w+)"/g)].map((r) => r[1]!),
          );
      }
    },
  });
  return consumer;
}

/** Produces `total` transactions (or until `until`) at `rate` per second (Infinity: as fast as possible). */
export async function produceAt(options: {
  producer: Producer;
  topic: string;
  pop: Population;
  prefix: string;
  book?: LatencyBook;
  rate: number;
  durationMs?: number;
  total?: number;
  slice?: number;
  /** Closed loop: never more than this many sent and not yet decided (needs book). */
  window?: number;
}): Promise<{ sent: number; elapsedMs: number }> {
  const { producer, topic, pop, prefix, book, rate } = options;
  const started = Date.now();
  const slice = options.slice ?? (Number.isFinite(rate) ? Math.max(1, Math.ceil(rate / 200)) : 500);
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  for (;;) {
    const elapsed = Date.now() - started;
    if (options.durationMs !== undefined && elapsed >= options.durationMs) break;
    if (options.total !== undefined && sent >= options.total) break;
    const due = Number.isFinite(rate) ? Math.floor((rate * elapsed) / 1000) : sent + slice;
    let n = Math.min(due - sent, slice * 4);
    if (options.total !== undefined) n = Math.min(n, options.total - sent);
    if (options.window !== undefined && book) n = Math.min(n, options.window - book.pending);
    if (n <= 0) {
      await new Promise((done) => setTimeout(done, 2));
      continue;
    }
    const messages = Array.from({ length: n }, () => transaction(pop, prefix));
    sent += n;
    const at = Date.now();
    book?.sent(
      messages.map((m) => m.id),
      at,
    );
    const p = producer
      .send({ topic, acks: -1, messages: messages.map(({ key, value }) => ({ key, value })) })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    // A few requests in flight keep a fixed rate steady when one is slow; no more.
    if (inFlight.size >= 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return { sent, elapsedMs: Date.now() - started };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const BARS = '▁▂▃▄▅▆▇█';
export function sparkline(values: number[]): string {
  const max = Math.max(1, ...values);
  return values.map((v) => BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))]).join('');
}

/**
 * The stream layer alone: a processor (streams/processor/processor.ts, default settings) whose engine does
 * no work, draining `n` transactions from topics of its own (`round`: a fresh set of topics and group
 * for each run). Kafka consume, validation, produce and commit: the ceiling the processor itself puts
 * on throughput.
 */
export async function noopEngineDrain(
  kafka: Kafka,
  bootstrap: string,
  pop: Population,
  n: number,
  round = 0,
): Promise<{ rate: number; cpuMicrosPerTx: number }> {
  const { createLogger } = await import('../services/logger.ts');
  const { streamConfig } = await import('../streams/config.ts');
  const { createKafka } = await import('../services/adapters/kafka/kafka.ts');
  const { StreamMetrics } = await import('../streams/metrics.ts');
  const { oneAtATime, standInApproval, StreamProcessor } = await import('../streams/processor/processor.ts');
  const { ensureTopics } = await import('../streams/topics.ts');
  // Quiet: a fresh broker answers the first join with "coordinator loading", which kafkajs logs as an error and retries.
  const logger = createLogger('fatal');
  const config = streamConfig({
    KAFKA_BROKERS: bootstrap,
    LEAKGUARD_STREAM_GROUP_ID: `bench-noop-${round}`,
    LEAKGUARD_STREAM_INPUT_TOPIC: `bench-noop-${round}.transactions`,
    LEAKGUARD_STREAM_DECISIONS_TOPIC: `bench-noop-${round}.decisions`,
    LEAKGUARD_STREAM_FLAGGED_TOPIC: `bench-noop-${round}.flagged`,
    LEAKGUARD_STREAM_DEAD_LETTER_TOPIC: `bench-noop-${round}.dead-letter`,
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, config, logger);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await produceAt({
    producer,
    topic: config.LEAKGUARD_STREAM_INPUT_TOPIC,
    pop,
    prefix: 'noop',
    rate: Number.POSITIVE_INFINITY,
    total: n,
  });
  await producer.disconnect();
  let scored = 0;
  // One at a time, as the real engine's batches give one reading per transaction.
  const engine = oneAtATime(async (_merchantId: string, request: { transactionId: string }) => {
    scored++;
    return standInApproval(request.transactionId, 'noop', {
      card: { bin: '411111', last4: '1111', keyId: 'noop', fingerprint: 'noop' },
      at: 0,
      features: {},
      entities: {},
      marked: {},
    });
  });
  const processor = new StreamProcessor({
    engine,
    kafka: createKafka({ brokers: [bootstrap], clientId: 'bench-noop', logger }),
    config,
    logger,
    metrics: new StreamMetrics(),
    merchants: { status: async () => 'known' },
    identify: () => ({ bin: '411111', last4: '1111', fingerprint: 'noop', keyId: 'noop' }),
    ready: async () => true,
  });
  await processor.start();
  while (scored === 0) await new Promise((done) => setTimeout(done, 2));
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  while (scored < n) await new Promise((done) => setTimeout(done, 2));
  const cpu = process.cpuUsage(c0);
  const seconds = (Date.now() - t0) / 1000;
  await processor.stop();
  return { rate: n / seconds, cpuMicrosPerTx: (cpu.user + cpu.system) / n };
}
