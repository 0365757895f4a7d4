// The case system once its database is open: stores, audit log, ingester and feedback, built on
// one SqlClient. services/runtime.ts picks the driver and the queue; this wires the rest.
import { PostgresAuditLog } from '../adapters/postgres/audit-log.ts';
import { PostgresCaseStore } from '../adapters/postgres/case-store.ts';
import { migrate } from '../adapters/postgres/migrate.ts';
import type { SqlClient } from '../adapters/postgres/sql-client.ts';
import { PostgresUserStore } from '../adapters/postgres/user-store.ts';
import type { UserStore } from '../console/model.ts';
import type { AuditLog } from './audit.ts';
import { Feedback, type LabelSink } from './feedback.ts';
import { CaseIngester, type FlaggedQueue } from './flagged.ts';
import type { CaseStore } from './model.ts';
import type { NegativeListStore } from './negative-lists.ts';
import type { ApiKeyStore } from '../auth/api-keys.ts';
import { auditKeyChanges, startKeyAudit } from './key-audit.ts';

export interface CaseSystem {
  sql: SqlClient;
  store: CaseStore;
  audit: AuditLog;
  users: UserStore;
  ingester: CaseIngester;
  feedback: Feedback;
  negativeLists: NegativeListStore;
  close(): Promise<void>;
}

export interface CaseSystemOptions {
  sql: SqlClient;
  queue: FlaggedQueue;
  negativeLists: NegativeListStore;
  labels?: LabelSink;
  negativeListTtlMs: number;
  allowListMaxDays: number;
  /** When given, key changes in this store are carried into the audit log (see key-audit.ts). */
  apiKeys?: ApiKeyStore;
  keyAuditIntervalMs?: number;
  onError: (error: unknown, stage: string) => void;
}

export async function openCaseSystem(o: CaseSystemOptions): Promise<CaseSystem> {
  await migrate(o.sql);
  const store = new PostgresCaseStore(o.sql);
  const audit = new PostgresAuditLog(o.sql);
  const users = new PostgresUserStore(o.sql);
  const ingester = new CaseIngester(o.queue, store);
  const feedback = new Feedback({
    store, audit, negativeLists: o.negativeLists, negativeListTtlMs: o.negativeListTtlMs, allowListMaxDays: o.allowListMaxDays,
    onError: (e) => o.onError(e, 'labels'), ...(o.labels ? { labels: o.labels } : {}),
  });
  ingester.start((e) => o.onError(e, 'ingest'));
  void feedback.flushLabels();
  const keyAudit = o.apiKeys ? startKeyAudit(o.apiKeys, audit, (e) => o.onError(e, 'key-audit'), o.keyAuditIntervalMs) : undefined;
  await keyAudit?.ready;
  return {
    sql: o.sql, store, audit, users, ingester, feedback, negativeLists: o.negativeLists,
    async close() {
      keyAudit?.stop();
      // One last pass: a key changed since the previous one is audited before the database closes.
      if (o.apiKeys) await auditKeyChanges(o.apiKeys, audit).catch((e: unknown) => o.onError(e, 'key-audit'));
      await ingester.stop();
      await o.labels?.close().catch(() => {});
      await o.sql.close();
    },
  };
}
