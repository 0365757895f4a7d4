// Personal data are kept for a retention period (LEAKGUARD_PERSONAL_DATA_RETENTION_DAYS) after a
// case is closed, or after it was made when nobody closed it: then the engine erases them, and the
// text of the case's notes as old (free text may hold a name, an address, a phone number). A pass
// runs at start and every hour; each pass that erased something leaves one audit entry with the
// counts (a pass that erased nothing leaves none: an hourly "0" would bury the log).
import type { AuditAction, AuditLog } from './audit.ts';
import type { CaseStore } from './model.ts';

export const RETENTION_INTERVAL_MS = 60 * 60_000;
const DAY_MS = 86_400_000;
// To be listed in AUDIT_ACTIONS (services/cases/audit.ts, under another change at the time of
// writing): until then the console's audit filter cannot select it, though entries are written and chained.
export const PERSONAL_DATA_ERASE: AuditAction = 'personal_data_erase';

/**
 * Erases the personal data of cases closed more than `retentionDays` before `now`, or made that long
 * before it and still not closed, then the notes as old on every case so erased; returns how many
 * cases.
 */
export async function erasePersonalData(
  store: CaseStore,
  audit: AuditLog,
  retentionDays: number,
  now = new Date(),
): Promise<number> {
  const before = new Date(now.getTime() - retentionDays * DAY_MS);
  const erased = await store.erasePersonalData(before, retentionDays);
  const notes = await store.eraseNotes(before, retentionDays);
  // Outcomes noted for a transaction that never became a case (outcomes.ts) go after as long.
  await store.pruneOutcomes(before);
  if (erased > 0 || notes > 0) {
    await audit.append({
      actor: 'system:retention',
      action: PERSONAL_DATA_ERASE,
      target: 'cases',
      detail: { erased, notes, retentionDays, closedBefore: before.toISOString() },
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
