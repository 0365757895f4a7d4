// Breach discovery on a generated breach with a known answer (models/evaluation/cpp-protocol.ts):
// the same dataset replayed through the engine as deployed by default (the starter model; the
// challenges it asks for answered: fraudsters fail them, one genuine customer in ten too) without
// and with it. The breached merchant (a chain of 20 terminals) is named before the issuers' list,
// nobody else is, and the genuine orders of the cards it exposed are challenged, never reviewed or
// declined on that evidence; what it stops is never less than without it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { merchantOfBreach, runCppProtocol } from '../../models/evaluation/cpp-protocol.ts';
import { BREACH_DEFAULTS } from '../../models/simulator/breach.ts';
import { readDataset } from '../../models/simulator/csv.ts';
import { HANDBOOK_DEFAULTS } from '../../models/simulator/handbook.ts';
import { simulate } from '../../models/simulator/run.ts';
import { loadScoringModel } from '../../services/adapters/files/model-file.ts';
import { STARTER_MODEL_PATH } from '../../services/model/starter.ts';

const dir = mkdtempSync(join(tmpdir(), 'lg-cpp-protocol-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('breach discovery on the breach scenario', () => {
  it('names the breached merchant before the issuers list it and nobody else; exposed genuine cards are challenged, not reviewed', async () => {
    simulate({ ...HANDBOOK_DEFAULTS, customers: 1000, terminals: 2000, days: 90, seed: 5 }, dir, BREACH_DEFAULTS);
    const ds = readDataset(dir, { keepExtra: true });
    const model = loadScoringModel(STARTER_MODEL_PATH);
    const r = await runCppProtocol(ds, { dataDir: dir, scanEveryHours: 12, model });
    expect(r.model).toBe(model.version);
    expect(r.breaches).toHaveLength(1);
    const [b] = r.breaches;
    expect(b!.identifiedAt).not.toBeNull();
    expect(b!.identifiedAt!).toBeGreaterThan(b!.firstFraudAt);
    // Failed challenges label the cards minutes after their first fraud: named days before the list
    // (7.6 days after the first fraud in this world), where chargebacks alone took 7.9 days.
    expect(b!.beforeList).toBe(true);
    expect(b!.daysToIdentify!).toBeLessThan(6);
    expect(r.findings.every((f) => f.merchantId === merchantOfBreach(b!.breachId))).toBe(true);
    expect(r.falseSuspects).toEqual([]);
    // Its exposed cards: stepped up to 3-D Secure, never held for review or declined on this evidence.
    expect(r.exposedGenuine.transactions).toBeGreaterThan(20);
    expect(r.exposedGenuine.challengedPer1000).toBeGreaterThan(100);
    expect(r.exposedGenuine.reviewedPer1000).toBe(0);
    // Declined only on strong evidence of their own (two failed challenges in a day), never on the exposure.
    expect(r.exposedGenuine.heldOnStepUpEvidencePer1000).toBe(0);
    expect(r.exposedGenuine.declinedPer1000).toBeLessThan(30);
    // Nothing it does stops less fraud; the friction on everyone else moves little.
    expect(b!.fraudBeforeList.with.stopped).toBeGreaterThanOrEqual(b!.fraudBeforeList.without.stopped);
    expect(r.genuine.with.reviewedPer1000).toBeLessThanOrEqual(r.genuine.without.reviewedPer1000);
    expect(r.genuine.with.challengedPer1000 - r.genuine.without.challengedPer1000).toBeLessThan(10);
  }, 300_000);
});
