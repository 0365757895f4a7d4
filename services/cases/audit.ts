// The audit log's chain: each entry's hash is SHA-256(previous hash + canonical entry), so that
// editing, inserting or deleting a past entry breaks every link after it. Pure: no I/O.
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export const AUDIT_ACTIONS = [
  'login',
  'login_failed',
  'login_rate_limited',
  'login_second_factor_locked',
  'logout',
  'session_expired',
  'case_view',
  'case_assign',
  'case_decision',
  'case_decision_reversed',
  'case_note',
  'user_create',
  'user_update',
  'user_disable',
  'user_enable',
  'user_reset',
  'user_unlock',
  'user_enrolment_issued',
  'user_enrol',
  'user_enrol_failed',
  'password_change',
  'password_change_failed',
  'key_create',
  'key_revoke',
  'audit_export',
  'allowlist_card',
  'negative_list_add',
  'negative_list_remove',
  'allowlist_card_remove',
  'personal_data_erase',
  'breach_review',
  'breach_status',
  'webhook_create',
  'webhook_delete',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditInput {
  actor: string;
  action: AuditAction;
  target?: string;
  detail?: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** JSON with object keys sorted at every depth: the same value always serialises the same way. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function canonicalEntry(e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  return canonicalJson({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, target: e.target, detail: e.detail });
}

export function chainHash(prevHash: string, e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  return createHash('sha256').update(prevHash).update(canonicalEntry(e)).digest('hex');
}

/** A checkpoint of the chain's head whose signature was verified (audit-checkpoints.ts). */
export interface Checkpoint {
  seq: number;
  hash: string;
  /** When it was signed. */
  at: string;
  /** Who wrote it: `engine@host`, `cli:users@host`. */
  by: string;
  keyId: string;
}

/** What a checkpoint file holds: the checkpoints found genuine, and every line that is not. */
export interface CheckpointReading {
  file: string;
  valid: Checkpoint[];
  /** A line that cannot be trusted; `seq` is what it claims, when it can be read. */
  problems: { seq?: number; reason: string }[];
  /** The file does not exist (another user's home, another DATABASE_URL spelling, a typo). */
  missing?: boolean;
}

export interface CheckpointSource {
  read(): Promise<CheckpointReading>;
}

export interface CheckpointSummary {
  file: string;
  /** Checkpoints whose signature holds, every one checked against the log. */
  valid: number;
  latest?: { seq: number; hash: string; at: string };
  /** The file was not found: nothing to check the log's tail against. */
  missing?: true;
}

/**
 * `problem`: `chain`, an entry does not follow from the one before it; `removed`, the log ends
 * before a checkpointed entry; `rewritten`, a checkpointed entry's hash differs from the signed
 * one; `checkpoint`, a checkpoint line is not genuine (`brokenAt` is then the entry it claims, or
 * 0). `also`: findings after the first one.
 */
export type ChainCheck =
  | { ok: true; checked: number; checkpoints?: CheckpointSummary }
  | {
      ok: false;
      checked: number;
      brokenAt: number;
      reason: string;
      problem: 'chain' | 'removed' | 'rewritten' | 'checkpoint';
      also?: string[];
      checkpoints?: CheckpointSummary;
    };

type Finding = { brokenAt: number; reason: string; problem: 'chain' | 'removed' | 'rewritten' };

const short = (hash: string) => `${hash.slice(0, 16)}…`;

/**
 * Checks entries in seq order, carrying the previous entry's hash from earlier pages; and, given
 * signed checkpoints, that every checkpointed entry still has the signed hash and that the log
 * still reaches the furthest one. The chain alone cannot see its tail cut, nor a log rewritten
 * with every hash recomputed (the hash is unkeyed): the checkpoints can.
 */
export class ChainVerifier {
  private prevHash = GENESIS_HASH;
  private prevSeq = 0;
  /** Seq of the last checkpoint the log matched: a rewrite lies after it. */
  private matchedSeq = 0;
  private next = 0;
  private readonly checkpoints: Checkpoint[];
  checked = 0;

  constructor(checkpoints: Checkpoint[] = []) {
    this.checkpoints = [...checkpoints].sort((a, b) => a.seq - b.seq || a.at.localeCompare(b.at));
  }

  /** Returns the first problem in `entries`, or null. */
  check(entries: AuditEntry[]): Finding | null {
    for (const e of entries) {
      this.checked++;
      if (e.seq !== this.prevSeq + 1)
        return {
          brokenAt: e.seq,
          problem: 'chain',
          reason: `expected entry ${this.prevSeq + 1} next, found ${e.seq}: entries are missing`,
        };
      if (e.prevHash !== this.prevHash)
        return {
          brokenAt: e.seq,
          problem: 'chain',
          reason: 'its link to the previous entry does not match: the previous entry was changed or removed',
        };
      if (chainHash(e.prevHash, e) !== e.hash)
        return {
          brokenAt: e.seq,
          problem: 'chain',
          reason: 'its content does not match its hash: the entry was changed',
        };
      for (; this.next < this.checkpoints.length && this.checkpoints[this.next]!.seq <= e.seq; this.next++) {
        const c = this.checkpoints[this.next]!;
        if (c.hash !== e.hash) {
          return {
            brokenAt: e.seq,
            problem: 'rewritten',
            reason: `entry #${e.seq} has hash ${short(e.hash)} but the checkpoint of ${c.at} signed #${c.seq} with hash ${short(c.hash)}: entries #${this.matchedSeq + 1}..#${e.seq} were rewritten (or removed and written again)`,
          };
        }
        this.matchedSeq = e.seq;
      }
      this.prevHash = e.hash;
      this.prevSeq = e.seq;
    }
    return null;
  }

  /** Once every entry was checked: whether the log still reaches its furthest checkpoint. */
  finish(): Finding | null {
    const furthest = this.checkpoints[this.checkpoints.length - 1];
    if (!furthest || furthest.seq <= this.prevSeq) return null;
    const end = this.prevSeq === 0 ? 'the log is empty' : `the log ends at #${this.prevSeq}`;
    return {
      brokenAt: this.prevSeq + 1,
      problem: 'removed',
      reason: `${end} but the checkpoint of ${furthest.at} signed #${furthest.seq} with hash ${short(furthest.hash)}: entries #${this.prevSeq + 1}..#${furthest.seq} were removed`,
    };
  }
}

export interface AuditLog {
  append(input: AuditInput): Promise<AuditEntry>;
  /** Appends unless an entry with the same action and target exists (changes recorded elsewhere first). */
  appendOnce(input: AuditInput): Promise<AuditEntry | null>;
  /** The targets that entries of one action name. */
  targets(action: string): Promise<Set<string>>;
  list(options: { beforeSeq?: number; limit: number; action?: string; actor?: string }): Promise<AuditEntry[]>;
  /** Every entry in order, in pages (export and verify). */
  scan(fn: (page: AuditEntry[]) => Promise<void> | void, pageSize?: number): Promise<void>;
  /**
   * Every entry in order, a page at a time: the next page is read only when the consumer asks for
   * it, so a slow reader (the console's export) holds one page, never the whole log.
   */
  pages(pageSize?: number): AsyncGenerator<AuditEntry[], void, undefined>;
  /** The last entry's seq and hash; null for an empty log. */
  head(): Promise<{ seq: number; hash: string } | null>;
  /** The stored hash of one entry, or null when there is none. */
  hashAt(seq: number): Promise<string | null>;
  /** The chain, and the signed checkpoints when the log was given some. */
  verify(): Promise<ChainCheck>;
}
