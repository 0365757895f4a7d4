// API key changes reach the audit log from the key store itself. Every key record says who
// created (and revoked) it and when; the engine appends what the log does not hold yet, at start
// and every few seconds. So a key made by `npm run keys` while the engine holds the embedded
// database, by another engine, or by the demo set-up is audited all the same, exactly once.
import type { ApiKeyRecord, ApiKeyStore } from '../auth/api-keys.ts';
import type { AuditInput, AuditLog } from './audit.ts';

export const KEY_AUDIT_INTERVAL_MS = 5_000;
const UNKNOWN_ACTOR = 'unknown';

function keyDetail(r: ApiKeyRecord, at: string): Record<string, unknown> {
  // Never the key's hash: the log says what changed, not how to recognise the key.
  return { at, role: r.role, merchantId: r.merchantId, issuerId: r.issuerId, label: r.label };
}

/** The audit entries a key record stands for. */
export function keyChangeEntries(r: ApiKeyRecord): AuditInput[] {
  const entries: AuditInput[] = [
    { actor: r.createdBy ?? UNKNOWN_ACTOR, action: 'key_create', target: r.id, detail: keyDetail(r, r.createdAt) },
  ];
  if (r.revokedAt)
    entries.push({
      actor: r.revokedBy ?? UNKNOWN_ACTOR,
      action: 'key_revoke',
      target: r.id,
      detail: keyDetail(r, r.revokedAt),
    });
  return entries;
}

/** Appends the key changes the audit log does not hold yet; returns how many it appended. */
export async function auditKeyChanges(keys: ApiKeyStore, audit: AuditLog): Promise<number> {
  const [records, created, revoked] = await Promise.all([
    keys.list(),
    audit.targets('key_create'),
    audit.targets('key_revoke'),
  ]);
  const pending = records
    .flatMap(keyChangeEntries)
    .filter((e) => !(e.action === 'key_create' ? created : revoked).has(e.target!))
    // In the order they happened, so the log reads as a history.
    .sort((a, b) => String(a.detail!.at).localeCompare(String(b.detail!.at)));
  let appended = 0;
  for (const entry of pending) if (await audit.appendOnce(entry)) appended++;
  return appended;
}

/** Runs `auditKeyChanges` now and then every `intervalMs` until stopped. */
export function startKeyAudit(
  keys: ApiKeyStore,
  audit: AuditLog,
  onError: (error: unknown) => void,
  intervalMs = KEY_AUDIT_INTERVAL_MS,
): { stop(): void; ready: Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const run = () => (running = running.then(() => auditKeyChanges(keys, audit)).catch(onError));
  const ready = run().then(() => {});
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return { ready, stop: () => clearInterval(timer) };
}
