// Breach discovery on a generated breach with a known answer (models/evaluation/cpp-protocol.ts):
// the same dataset replayed through the engine without and with it. The breached merchant (a chain
// of 20 terminals) is named, nobody else is, and the genuine orders of the cards it exposed are
// challenged, never reviewed or declined; what it stops is never less than without it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { merchantOfBreach, runCppProtocol } from '../../models/evaluation/cpp-protocol.ts';
import { BREACH_DEFAULTS } from '../../models/simulator/breach.ts';
import { readDataset } from '../../models/simulator/csv.ts';
import { HANDBOOK_DEFAULTS } from '../../models/simulator/handbook.ts';
import { simulate } from '../../models/simulator/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'lg-cpp-protocol-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('breach discovery on the breach scenario', () => {
  it('names the breached merchant after its first fraud and nobody else; exposed genuine cards are challenged, not reviewed', async () => {
    simulate({ ...HANDBOOK_DEFAULTS, customers: 1000, terminals: 2000, days: 90, seed: 5 }, dir, BREACH_DEFAULTS);
    const ds = readDataset(dir, { keepExtra: true });
    const r = await runCppProtocol(ds, { dataDir: dir, scanEveryHours: 12 });
    expect(r.breaches).toHaveLength(1);
    const [b] = r.breaches;
    expect(b!.identifiedAt).not.toBeNull();
    expect(b!.identifiedAt!).toBeGreaterThan(b!.firstFraudAt);
    expect(r.findings.every((f) => f.merchantId === merchantOfBreach(b!.breachId))).toBe(true);
    expect(r.falseSuspects).toEqual([]);
    // Its exposed cards: stepped up to 3-D Secure, never held for review or declined on this evidence.
    expect(r.exposedGenuine.transactions).toBeGreaterThan(20);
    expect(r.exposedGenuine.challengedPer1000).toBeGreaterThan(100);
    expect(r.exposedGenuine.reviewedPer1000).toBe(0);
    expect(r.exposedGenuine.declinedPer1000).toBe(0);
    // Nothing it does stops less fraud; the friction on everyone else barely moves.
    expect(b!.fraudBeforeList.with.stopped).toBeGreaterThanOrEqual(b!.fraudBeforeList.without.stopped);
    expect(r.genuine.with.reviewedPer1000).toBe(r.genuine.without.reviewedPer1000);
    expect(r.genuine.with.challengedPer1000 - r.genuine.without.challengedPer1000).toBeLessThan(2);
  }, 300_000);
});
