// The audit log's chain: each entry's hash is SHA-256(previous hash + canonical entry), so that
// editing, inserting or deleting a past entry breaks every link after it. Pure: no I/O.
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export const AUDIT_ACTIONS = [
  'login', 'login_failed', 'login_rate_limited', 'logout', 'session_expired', 'case_view', 'case_assign', 'case_decision', 'case_note',
  'user_create', 'user_update', 'user_disable', 'user_enable', 'user_reset', 'user_unlock', 'key_create', 'key_revoke', 'audit_export',
  'allowlist_card', 'negative_list_add',
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

export type ChainCheck =
  | { ok: true; checked: number }
  | { ok: false; checked: number; brokenAt: number; reason: string };

/** Checks entries in seq order, carrying the previous entry's hash from earlier pages. */
export class ChainVerifier {
  private prevHash = GENESIS_HASH;
  private prevSeq = 0;
  checked = 0;

  /** Returns the first problem in `entries`, or null. */
  check(entries: AuditEntry[]): { brokenAt: number; reason: string } | null {
    for (const e of entries) {
      this.checked++;
      if (e.seq !== this.prevSeq + 1) return { brokenAt: e.seq, reason: `expected entry ${this.prevSeq + 1} next, found ${e.seq}: entries are missing` };
      if (e.prevHash !== this.prevHash) return { brokenAt: e.seq, reason: 'its link to the previous entry does not match: the previous entry was changed or removed' };
      if (chainHash(e.prevHash, e) !== e.hash) return { brokenAt: e.seq, reason: 'its content does not match its hash: the entry was changed' };
      this.prevHash = e.hash;
      this.prevSeq = e.seq;
    }
    return null;
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
  verify(): Promise<ChainCheck>;
}
