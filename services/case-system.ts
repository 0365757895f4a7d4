// The case system once its database is open: stores, audit log, ingester and feedback. Part of the
// composition root with services/runtime.ts: it picks the driver and the queue, this builds the
// PostgreSQL stores on the open SqlClient and wires the rest.
import { PostgresAuditLog } from './adapters/postgres/audit-log.ts';
import { PostgresCaseStore } from './adapters/postgres/case-store.ts';
import { migrate } from './adapters/postgres/migrate.ts';
import type { SqlClient } from './adapters/postgres/sql-client.ts';
import { PostgresUserStore } from './adapters/postgres/user-store.ts';
import type { UserStore } from './cases/users.ts';
import type { AuditLog } from './cases/audit.ts';
import { Feedback, type FeedbackOptions, type LabelSink } from './cases/feedback.ts';
import { CaseIngester, type FlaggedQueue } from './cases/flagged.ts';
import type { CaseStore, FlaggedDecision } from './cases/model.ts';
import type { NegativeListStore } from './cases/negative-lists.ts';
import type { ApiKeyStore } from './auth/api-keys.ts';
import { auditKeyChanges, startKeyAudit } from './cases/key-audit.ts';
import { AuditCheckpointer, startCheckpoints, type CheckpointFile } from './cases/audit-checkpoints.ts';
import type { PersonalDataCipher } from './cases/personal-data.ts';
import { startRetention } from './cases/retention.ts';

export interface CaseSystem {
  sql: SqlClient;
  store: CaseStore;
  audit: AuditLog;
  users: UserStore;
  ingester: CaseIngester;
  feedback: Feedback;
  negativeLists: NegativeListStore;
  /** Opens a case's personal data for the console (and seals them in the store). */
  personalData: PersonalDataCipher;
  /** How long a closed case keeps its personal data. */
  retentionDays: number;
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
  /** Signed checkpoints of the audit log's head, written when it moved and on close; verify() checks against them. */
  checkpoints?: {
    file: CheckpointFile;
    by: string;
    onAlarm: (message: string) => void;
    onWarning?: (message: string) => void;
    intervalMs?: number;
  };
  /** Seals personal data (LEAKGUARD_DATA_KEY). */
  cipher: PersonalDataCipher;
  /** A closed case's personal data are erased after this many days, by a pass every `retentionIntervalMs`. */
  retentionDays: number;
  retentionIntervalMs?: number;
  /** An analyst decided a case was fraud: its card and the transaction's time (breach discovery's labels). */
  onFraudDecision?: FeedbackOptions['onFraudDecision'];
  onLabel?: FeedbackOptions['onLabel'];
  /** A reversed fraud decision: its card's analyst label withdrawn (breach discovery). */
  onFraudWithdrawn?: FeedbackOptions['onFraudWithdrawn'];
  onLabelWithdrawn?: FeedbackOptions['onLabelWithdrawn'];
  /** A decision's effect (negative lists, allow-list, learners' labels) failed and waits for a retry. */
  onEffectFailed?: FeedbackOptions['onEffectFailed'];
  /** How often pending effects are tried again (ms). */
  effectPollMs?: number;
  onError: (error: unknown, stage: string) => void;
  /** A flagged decision the database refuses for its data, set aside: no case will be made of it. */
  onRefused?: (flagged: FlaggedDecision, error: unknown) => void;
}

export async function openCaseSystem(o: CaseSystemOptions): Promise<CaseSystem> {
  await migrate(o.sql);
  const store = new PostgresCaseStore(o.sql, o.cipher);
  const audit = new PostgresAuditLog(o.sql, undefined, o.checkpoints?.file);
  // The head before this engine appends (the key audit below, at once): the first checkpoint's
  // warning of entries no checkpoint covers is of those before it, not of its own.
  const headBefore = o.checkpoints ? await audit.head() : null;
  // Cases an older version stored with personal data in clear are sealed before anything reads them.
  await store.sealPersonalDataInClear();
  const users = new PostgresUserStore(o.sql);
  const ingester = new CaseIngester(o.queue, store);
  const feedback = new Feedback({
    store,
    audit,
    negativeLists: o.negativeLists,
    negativeListTtlMs: o.negativeListTtlMs,
    allowListMaxDays: o.allowListMaxDays,
    onError: (e) => o.onError(e, 'labels'),
    ...(o.labels ? { labels: o.labels } : {}),
    ...(o.onFraudDecision ? { onFraudDecision: o.onFraudDecision } : {}),
    ...(o.onLabel ? { onLabel: o.onLabel } : {}),
    ...(o.onFraudWithdrawn ? { onFraudWithdrawn: o.onFraudWithdrawn } : {}),
    ...(o.onLabelWithdrawn ? { onLabelWithdrawn: o.onLabelWithdrawn } : {}),
    ...(o.onEffectFailed ? { onEffectFailed: o.onEffectFailed } : {}),
    ...(o.effectPollMs ? { effectPollMs: o.effectPollMs } : {}),
  });
  ingester.start((e) => o.onError(e, 'ingest'), undefined, o.onRefused);
  // Effects of decisions left pending (Redis was down, an engine stopped) are applied until they
  // are, and labels not yet published (Kafka was down) are published.
  feedback.start();
  const keyAudit = o.apiKeys
    ? startKeyAudit(o.apiKeys, audit, (e) => o.onError(e, 'key-audit'), o.keyAuditIntervalMs)
    : undefined;
  await keyAudit?.ready;
  const retention = startRetention(
    store,
    audit,
    o.retentionDays,
    (e) => o.onError(e, 'retention'),
    o.retentionIntervalMs,
  );
  await retention.ready;
  const checkpoints = o.checkpoints
    ? startCheckpoints(
        new AuditCheckpointer({ audit, ...o.checkpoints, headBefore }),
        (e) => o.onError(e, 'audit-checkpoint'),
        o.checkpoints.intervalMs,
      )
    : undefined;
  await checkpoints?.ready;
  return {
    sql: o.sql,
    store,
    audit,
    users,
    ingester,
    feedback,
    negativeLists: o.negativeLists,
    personalData: o.cipher,
    retentionDays: o.retentionDays,
    async close() {
      keyAudit?.stop();
      await retention.stop();
      // One last pass: a key changed since the previous one is audited before the database closes.
      if (o.apiKeys) await auditKeyChanges(o.apiKeys, audit).catch((e: unknown) => o.onError(e, 'key-audit'));
      // Then the head as it is left, signed.
      await checkpoints?.stop();
      await ingester.stop();
      await feedback.stop();
      await o.labels?.close().catch(() => {});
      await o.sql.close();
    },
  };
}
