// The traffic a backtest replays, read from a recording (services/recording/record.ts: NDJSON files
// or the `leakguard.scored` topic) or from a merchant's export of plain /v1/score requests. Lines
// are checked as they are read; the scorings are kept as their text (about a kilobyte each, so a
// million fit in memory) with their event time, and parsed again when their turn comes.
import { z } from 'zod';
import { issueLines } from '../../services/core/errors.ts';
import { REVERSED_CHARGEBACK } from '../../services/core/chargebacks.ts';
import {
  CARD_NUMBER_IN_IDENTIFIER,
  OUTCOMES,
  scoreRequestSchema,
  type ScoreRequest,
} from '../../services/core/schemas.ts';
import { containsCardNumber, scrubCardNumbers } from '../../services/core/scrub.ts';
import { joinKey, trafficRecordSchema } from '../../services/recording/record.ts';

/** An outcome to replay, times in epoch ms. */
export interface ReplayOutcome {
  merchantId: string;
  transactionId: string;
  outcome: string;
  /** Its own time: where it counts. */
  at: number;
  /**
   * When it reached production, and so reaches the replay's engines: the record's `reportedAt` (v3
   * on), never before its own time; else, for older records and plain requests, its own time.
   */
  reportedAt: number;
}

/**
 * What the traffic says of a transaction's truth: a chargeback (unless reversed: chargeback_reversed)
 * or an analyst's fraud label makes it fraud.
 */
export type Truth = 'fraud' | 'legitimate';

export interface Traffic {
  kind: 'recording' | 'requests';
  /** How many scorings. */
  count: number;
  /**
   * The scorings' lines in event-time order, UTF-8, one after the other in shared memory (the
   * replay's worker threads read them without a copy): line i is bytes[offsets[i], offsets[i+1]).
   */
  bytes: Uint8Array;
  offsets: Float64Array;
  at: Float64Array;
  /** Outcomes in the order they reached production (reportedAt), replayed to the engines then. */
  outcomes: ReplayOutcome[];
  /** Known truth per merchant:transaction; a transaction not listed is presumed legitimate. */
  truth: Map<string, Truth>;
  /** Analysts' labels per merchant:transaction, with their times, in the order given (truthAsOf reads them). */
  labelHistory: Map<string, AnalystLabel[]>;
  /**
   * For each fraud chargeback of a scoring in the traffic: the order's time and when the chargeback
   * was reported (but a request line's without `outcomeAt`: when it came is not known).
   */
  chargebackTimes: { at: number; reportedAt: number }[];
  /**
   * Outcomes without the time they were reported: records before version 3 (replayed at their own
   * time), request lines without `outcomeAt` (replayed at the order's).
   */
  outcomesWithoutReportedAt: number;
  /** Lines refused, with where and why (the first 20; `refused` counts them all). */
  problems: string[];
  refused: number;
  /** Scorings seen twice (a redelivery): the first is kept. */
  duplicates: number;
}

const MAX_PROBLEMS = 20;

/** An analyst's label and when it was given; `withdrawn` voids the labels given before it. */
export interface AnalystLabel {
  label: Truth | 'withdrawn';
  at: number;
}

/** Accumulates lines into Traffic; `add` takes one line, `finish` sorts. */
export class TrafficBuilder {
  private readonly kind: Traffic['kind'];
  private lines: string[] = [];
  private at: number[] = [];
  /** Each scoring's key and its event time. */
  private readonly keys = new Map<string, number>();
  private outcomesWithoutReportedAt = 0;
  private readonly outcomes: ReplayOutcome[] = [];
  /**
   * Analysts' labels with their times: a fraud label outweighs a "legitimate", whichever came
   * first; a withdrawal (a reversed decision) voids the labels given before it. Joined in `finish`.
   */
  private readonly labels = new Map<string, AnalystLabel[]>();
  /** Transactions charged back as fraud, and those whose chargeback was reversed: joined in `finish`, in any order. */
  private readonly chargebacks = new Set<string>();
  private readonly reversed = new Set<string>();
  /** Request lines' chargebacks without outcomeAt: no delay to measure a label horizon on. */
  private readonly undatedChargebacks = new Set<string>();
  private readonly problems: string[] = [];
  private refused = 0;
  private duplicates = 0;
  private readonly defaultMerchant: string;

  constructor(kind: Traffic['kind'], options: { defaultMerchant?: string } = {}) {
    this.kind = kind;
    this.defaultMerchant = options.defaultMerchant ?? 'replay';
  }

  /** Takes one line; `where` names it in an error (file:line, topic offset). Never echoes a card number. */
  add(text: string, where: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.refuse(where, 'not a JSON object');
    }
    if (this.kind === 'recording') this.addRecord(value, text, where);
    else this.addRequest(value, where);
  }

  private refuse(where: string, reason: string): void {
    this.refused++;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(`${where}: ${scrubCardNumbers(reason)}`);
  }

  private addRecord(value: unknown, text: string, where: string): void {
    const parsed = trafficRecordSchema.safeParse(value);
    if (!parsed.success) return this.refuse(where, issueLines(parsed.error).join('; '));
    const r = parsed.data;
    const key = joinKey(r);
    if (r.kind === 'scored') {
      if (this.keys.has(key)) {
        this.duplicates++;
        return;
      }
      this.keys.set(key, Date.parse(r.at));
      this.lines.push(text);
      this.at.push(Date.parse(r.at));
    } else if (r.kind === 'outcome') {
      const { merchantId, transactionId, outcome } = r;
      const at = Date.parse(r.at);
      // An outcome dated a little ahead of its arrival (the engine takes up to 5 minutes) counts from its date.
      const reportedAt = r.reportedAt === undefined ? at : Math.max(at, Date.parse(r.reportedAt));
      if (r.reportedAt === undefined) this.outcomesWithoutReportedAt++;
      this.outcomes.push({ merchantId, transactionId, outcome, at, reportedAt });
      if (r.outcome === 'chargeback') this.chargebacks.add(key);
      else if (r.outcome === REVERSED_CHARGEBACK) this.reversed.add(key);
    } else this.label(key, r.label, Date.parse(r.at));
  }

  private label(key: string, label: Truth | 'withdrawn', at: number): void {
    const labels = this.labels.get(key);
    if (labels) labels.push({ label, at });
    else this.labels.set(key, [{ label, at }]);
  }

  private addRequest(value: unknown, where: string): void {
    const extra = requestLineExtras.safeParse(value);
    if (!extra.success) return this.refuse(where, issueLines(extra.error).join('; '));
    const parsed = scoreRequestSchema.safeParse(value);
    if (!parsed.success) return this.refuse(where, issueLines(parsed.error).join('; '));
    if (!parsed.data.occurredAt) return this.refuse(where, 'occurredAt: is required to replay a request in time');
    const merchantId = extra.data.merchantId ?? this.defaultMerchant;
    const key = joinKey({ merchantId, transactionId: parsed.data.transactionId });
    if (this.keys.has(key)) {
      this.duplicates++;
      return;
    }
    this.keys.set(key, Date.parse(parsed.data.occurredAt));
    // Kept as the validated request (defaults applied), with its merchant.
    this.lines.push(JSON.stringify({ merchantId, request: parsed.data }));
    this.at.push(Date.parse(parsed.data.occurredAt));
    if (extra.data.label) this.label(key, extra.data.label, Date.parse(parsed.data.occurredAt));
    // The line's one outcome is where the transaction ended: a reversed chargeback, as if none had
    // been reported (nothing to replay, not fraud).
    if (extra.data.outcome && extra.data.outcome !== REVERSED_CHARGEBACK) {
      const at = extra.data.outcomeAt ? Date.parse(extra.data.outcomeAt) : Date.parse(parsed.data.occurredAt);
      this.outcomes.push({
        merchantId,
        transactionId: parsed.data.transactionId,
        outcome: extra.data.outcome,
        at,
        reportedAt: at,
      });
      if (extra.data.outcome === 'chargeback') this.chargebacks.add(key);
      if (!extra.data.outcomeAt) {
        this.outcomesWithoutReportedAt++;
        if (extra.data.outcome === 'chargeback') this.undatedChargebacks.add(key);
      }
    }
  }

  finish(): Traffic {
    const order = Array.from(this.at.keys()).sort((a, b) => this.at[a]! - this.at[b]! || a - b);
    const at = Float64Array.from(order, (i) => this.at[i]!);
    const offsets = new Float64Array(order.length + 1);
    let size = 0;
    order.forEach((i, k) => {
      size += Buffer.byteLength(this.lines[i]!);
      offsets[k + 1] = size;
    });
    const bytes = new Uint8Array(new SharedArrayBuffer(size));
    const view = Buffer.from(bytes.buffer);
    order.forEach((i, k) => view.write(this.lines[i]!, offsets[k]!, 'utf8'));
    this.lines = [];
    this.at = [];
    // A chargeback or a fraud label outweighs a "legitimate"; a reversed chargeback counts as none.
    const truth = new Map<string, Truth>();
    for (const [key, labels] of this.labels) {
      const t = labelTruth(labels);
      if (t) truth.set(key, t);
    }
    for (const key of this.chargebacks) if (!this.reversed.has(key)) truth.set(key, 'fraud');
    const chargebackTimes: Traffic['chargebackTimes'] = [];
    for (const o of this.outcomes) {
      const key = joinKey(o);
      const at = o.outcome === 'chargeback' && !this.undatedChargebacks.has(key) ? this.keys.get(key) : undefined;
      if (at !== undefined) chargebackTimes.push({ at, reportedAt: o.reportedAt });
    }
    return {
      kind: this.kind,
      count: order.length,
      bytes,
      offsets,
      at,
      outcomes: this.outcomes.sort((a, b) => a.reportedAt - b.reportedAt || a.at - b.at),
      truth,
      labelHistory: this.labels,
      chargebackTimes,
      outcomesWithoutReportedAt: this.outcomesWithoutReportedAt,
      problems: this.problems,
      refused: this.refused,
      duplicates: this.duplicates,
    };
  }
}

/** A transaction's analyst truth: among the labels after its last withdrawal, fraud if any, else legitimate. */
export function labelTruth(labels: readonly AnalystLabel[]): Truth | undefined {
  let withdrawnAt = -Infinity;
  for (const l of labels) if (l.label === 'withdrawn') withdrawnAt = Math.max(withdrawnAt, l.at);
  const standing = labels.filter((l) => l.label !== 'withdrawn' && l.at > withdrawnAt);
  if (standing.some((l) => l.label === 'fraud')) return 'fraud';
  return standing.length ? 'legitimate' : undefined;
}

/**
 * No merchant id the engine serves holds ':' (API keys' merchant ids are letters, digits, . _ -), and
 * the engine keys a transaction by `merchant:transaction`: merchant `a:b` with transaction `c` would
 * be merchant `a` with transaction `b:c` to the replayed engine.
 */
export const MERCHANT_ID_COLON = "must not contain ':' (no merchant id the engine serves does)";

/** The fields a merchant's export may add to a /v1/score request: whose it is and what became of it. */
const requestLineExtras = z.object({
  // Shown in the report as given (per merchant, beside each transaction decided otherwise): card-free, as transaction ids are.
  merchantId: z
    .string()
    .min(1)
    .max(128)
    .refine((v) => !containsCardNumber(v), CARD_NUMBER_IN_IDENTIFIER)
    .refine((v) => !v.includes(':'), MERCHANT_ID_COLON)
    .optional(),
  label: z.enum(['fraud', 'legitimate']).optional(),
  outcome: z.enum(OUTCOMES).optional(),
  outcomeAt: z.iso.datetime({ offset: true }).optional(),
});

/** A plain request line as kept by TrafficBuilder (requests kind). */
export interface RequestLine {
  merchantId: string;
  request: ScoreRequest;
}

/** Line i of the traffic's scorings. */
export function lineAt(traffic: Pick<Traffic, 'bytes' | 'offsets'>, i: number): string {
  const start = traffic.offsets[i]!;
  return Buffer.from(traffic.bytes.buffer, traffic.bytes.byteOffset + start, traffic.offsets[i + 1]! - start).toString(
    'utf8',
  );
}
