// Personal data are kept while a case is worked, and for a retention period after it is closed
// (LEAKGUARD_PERSONAL_DATA_RETENTION_DAYS): then the engine erases them. A pass runs at start and
// every hour; each pass that erased something leaves one audit entry with the count (a pass that
// erased nothing leaves none: an hourly "0" would bury the log).
import type { AuditAction, AuditLog } from './audit.ts';
import type { CaseStore } from './model.ts';

export const RETENTION_INTERVAL_MS = 60 * 60_000;
const DAY_MS = 86_400_000;
// To be listed in AUDIT_ACTIONS (services/cases/audit.ts, under another change at the time of
// writing): until then the console's audit filter cannot select it, though entries are written and chained.
export const PERSONAL_DATA_ERASE: AuditAction = 'personal_data_erase';

/** Erases the personal data of cases closed more than `retentionDays` before `now`; returns how many. */
export async function erasePersonalData(
  store: CaseStore,
  audit: AuditLog,
  retentionDays: number,
  now = new Date(),
): Promise<number> {
  const closedBefore = new Date(now.getTime() - retentionDays * DAY_MS);
  const erased = await store.erasePersonalData(closedBefore, retentionDays);
  // Outcomes noted for a transaction that never became a case (outcomes.ts) go after as long.
  await store.pruneOutcomes(closedBefore);
  if (erased > 0) {
    await audit.append({
      actor: 'system:retention',
      action: PERSONAL_DATA_ERASE,
      target: 'cases',
      detail: { erased, retentionDays, closedBefore: closedBefore.toISOString() },
    });
  }
  return erased;
}

/** Runs `erasePersonalData` now and then every `intervalMs` until stopped (one pass at a time). */
export function startRetention(
  store: CaseStore,
  audit: AuditLog,
  retentionDays: number,
  onError: (error: unknown) => void,
  intervalMs = RETENTION_INTERVAL_MS,
): { stop(): Promise<void>; ready: Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const run = () => (running = running.then(() => erasePersonalData(store, audit, retentionDays)).catch(onError));
  const ready = run().then(() => {});
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  // Stopping waits for a pass in flight: the database closes after it.
  return {
    ready,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
