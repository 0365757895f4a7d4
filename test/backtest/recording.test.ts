// Record and backtest, embedded: traffic scored over HTTP is recorded (NDJSON under the state
// directory) with its outcomes and an analyst's label, card-free; a backtest of it reproduces every
// recorded decision with the configuration in force, and a candidate ruleset that declines orders
// of 500 EUR or more moves exactly those — the known answer, worked out from the HTTP answers.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, bearer, type TestApp } from '../support/app.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';
import { TrafficBuilder } from '../../models/backtest/traffic.ts';
import { runBacktest } from '../../models/backtest/backtest.ts';
import { configurations } from '../../models/cli/backtest.ts';
import { loadConfig } from '../../services/config.ts';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { ndjsonLines, recordFiles } from '../../services/adapters/files/record-file.ts';
import { DECISIONS, type Decision, type ScoreRequestInput } from '../../services/core/schemas.ts';
import { trafficRecordSchema } from '../../services/recording/record.ts';
import { caseQuerySchema } from '../../services/cases/model.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;

let t: TestApp;
const scratch = mkdtempSync(join(tmpdir(), 'lg-backtest-'));
let seq = 0;
const newCard = () => luhnComplete(`4${String(1e13 + ++seq * 7919).slice(0, 14)}`);

interface Sent {
  merchant: 'm1' | 'm2';
  body: ScoreRequestInput;
  decision: Decision;
  big: boolean;
}
const sent: Sent[] = [];
const pans: string[] = [];
const personal = ['jane.doe@example.com', '1-2-3 Shibuya', 'Mozilla/5.0 (LeakguardTest)', 'Jane Doe'];

/** A candidate ruleset: the default plus a rule that declines orders of 500 EUR or more. */
function candidateRuleset(): string {
  const ruleset = parse(readFileSync(DEFAULT_RULESET_PATH, 'utf8')) as { version: string; rules: unknown[] };
  ruleset.version = 'candidate-big-orders';
  ruleset.rules.push({
    code: 'TEST_BIG_ORDER',
    message: 'Order of {amount_ref} in the reference currency',
    when: { feature: 'amount_ref', gte: 500 },
    score: 100,
  });
  const file = join(scratch, 'candidate.yaml');
  writeFileSync(file, stringify(ruleset));
  return file;
}

async function score(merchant: 'm1' | 'm2', body: ScoreRequestInput, big = false): Promise<void> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: bearer(merchant === 'm1' ? t.keys.merchant : t.keys.otherMerchant),
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
  sent.push({ merchant, body, decision: res.json<{ decision: Decision }>().decision, big });
}

async function outcome(merchant: 'm1' | 'm2', transactionId: string, body: Record<string, string>) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/transactions/${transactionId}/outcome`,
    headers: bearer(merchant === 'm1' ? t.keys.merchant : t.keys.otherMerchant),
    payload: body,
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

beforeAll(async () => {
  t = await buildTestApp({}, { cases: true });
  const base = Math.floor(Date.now() / 60_000) * 60_000 - 3 * 3_600_000;
  const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
  const order = (i: number, over: Partial<ScoreRequestInput>): ScoreRequestInput => {
    const pan = newCard();
    pans.push(pan);
    return {
      transactionId: `bt-${i}`,
      amount: 2000 + 97 * i,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      device: { id: `dev-${i}`, ip: `203.0.113.${i % 250}`, userAgent: personal[2] },
      customer: { email: i === 0 ? personal[0] : `buyer${i}@example.com` },
      shippingAddress: { name: personal[3], line1: `${i} ${personal[1]}`, city: 'Tokyo', country: 'JP' },
      occurredAt: at(i * 2),
      ...over,
    };
  };
  // Ordinary orders at two merchants, some in yen.
  for (let i = 0; i < 30; i++)
    await score(i % 2 ? 'm2' : 'm1', order(i, i % 5 === 4 ? { amount: 20_000, currency: 'JPY' } : {}));
  // Card testing: one card, small amounts a minute apart.
  const tester = newCard();
  pans.push(tester);
  for (let k = 0; k < 4; k++)
    await score(
      'm1',
      order(100 + k, {
        amount: 100,
        card: { number: tester, expiryMonth: 1, expiryYear: 2031 },
        occurredAt: at(70 + k),
      }),
    );
  // One device behind several cards in a few minutes.
  for (let k = 0; k < 5; k++)
    await score('m2', order(200 + k, { device: { id: 'shared-device' }, occurredAt: at(80 + k) }));
  // Big orders (500 EUR or more), two in yen.
  for (let k = 0; k < 6; k++)
    await score(
      'm1',
      order(300 + k, {
        ...(k < 2 ? { amount: 200_000, currency: 'JPY' } : { amount: 80_000 }),
        occurredAt: at(100 + k),
      }),
      true,
    );
  // What became of them: four chargebacks, one of them reversed (the merchant won it), a decline, an analyst's fraud label.
  for (const k of [0, 1, 2, 4]) await outcome('m1', `bt-${300 + k}`, { outcome: 'chargeback', reasonCode: '10.4' });
  await outcome('m1', 'bt-301', { outcome: 'chargeback_reversed' });
  await outcome('m1', 'bt-2', { outcome: 'declined' });
  const cases = t.runtime.cases!;
  let kase;
  for (let i = 0; i < 100 && !(kase = await cases.store.getByTransaction('m1', 'bt-103')); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(kase, 'the card-testing order was flagged and became a case').toBeTruthy();
  expect((await cases.feedback.decide(kase!.id, 'mark_fraud', 'analyst-1')).effects).toBe('applied');
  await t.runtime.recorder!.flush();
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const recordDir = () => join(t.stateDir, 'records');

async function recordedTraffic() {
  const builder = new TrafficBuilder('recording');
  for await (const l of ndjsonLines(await recordFiles(recordDir()))) builder.add(l.text, `${l.file}:${l.line}`);
  return builder.finish();
}

function expected(transform: (s: Sent) => Decision) {
  return Object.fromEntries(DECISIONS.map((d) => [d, sent.filter((s) => transform(s) === d).length]));
}

describe('recording', () => {
  it('keeps every scoring, outcome and label as a record, in a file per day, with no card number or personal text', () => {
    const files = readdirSync(recordDir());
    expect(files).toEqual([`records-${new Date().toISOString().slice(0, 10)}.ndjson`]);
    const text = readFileSync(join(recordDir(), files[0]!), 'utf8');
    const records = text
      .trim()
      .split('\n')
      .map((l) => trafficRecordSchema.parse(JSON.parse(l)));
    expect(records.filter((r) => r.kind === 'scored')).toHaveLength(sent.length);
    expect(records.filter((r) => r.kind === 'outcome').map((r) => r.kind === 'outcome' && r.outcome)).toEqual([
      'chargeback',
      'chargeback',
      'chargeback',
      'chargeback',
      'chargeback_reversed',
      'declined',
    ]);
    // When each reached the engine, which a backtest replays it at (its `at` is when it counts).
    for (const r of records) if (r.kind === 'outcome') expect(r.reportedAt, r.transactionId).toMatch(/^\d{4}-.+Z$/);
    expect(records.filter((r) => r.kind === 'label')).toMatchObject([
      { merchantId: 'm1', transactionId: 'bt-103', label: 'fraud' },
    ]);
    for (const pan of pans) expect(text).not.toContain(pan);
    for (const p of personal) expect(text).not.toContain(p);
    expect(text).not.toContain('203.0.113.');
    const first = records.find((r) => r.kind === 'scored' && r.transactionId === 'bt-0');
    expect(first).toMatchObject({
      merchantId: 'm1',
      request: { card: { bin: pans[0]!.slice(0, 6), last4: pans[0]!.slice(-4) }, device: { id: '*', ip: '*' } },
      decision: sent[0]!.decision,
    });
  });
});

describe('backtest', () => {
  it('reproduces the recorded decisions with the configuration in force, and moves exactly the big orders with the candidate', async () => {
    const traffic = await recordedTraffic();
    expect(traffic.refused).toBe(0);
    const config = loadConfig({ ...process.env, LEAKGUARD_MODEL: 'off', LEAKGUARD_STATE_DIR: t.stateDir });
    const [inForce, candidate] = configurations(config, { ruleset: candidateRuleset() });
    const report = await runBacktest(traffic, { baseline: inForce, candidate });

    expect(report.recorded).toMatchObject({ compared: sent.length, agreed: sent.length, share: 1 });
    expect(report.transactions).toMatchObject({ reported: sent.length, fraud: 4, legitimate: sent.length - 4 });
    const counts = (r: (typeof report.results)[number]) =>
      Object.fromEntries(DECISIONS.map((d) => [d, r.decisions[d].count]));
    expect(counts(report.results[0])).toEqual(expected((s) => s.decision));
    expect(counts(report.results[1])).toEqual(expected((s) => (s.big ? 'decline' : s.decision)));
    for (const from of DECISIONS)
      for (const to of DECISIONS)
        expect(report.transitions[from][to].count, `${from} → ${to}`).toBe(
          sent.filter((s) => s.decision === from && (s.big ? 'decline' : s.decision) === to).length,
        );
    // Fraud: the three charged-back big orders (bt-301's chargeback was reversed) and the labelled card-testing order.
    const frauds = new Set(['bt-300', 'bt-302', 'bt-304', 'bt-103']);
    const stopped = (decide: (s: Sent) => Decision) =>
      sent.filter((s) => frauds.has(s.body.transactionId) && decide(s) !== 'approve').length;
    expect(report.results[0].fraudStopped.count).toBe(stopped((s) => s.decision));
    expect(report.results[1].fraudStopped.count).toBe(4);
    const legitimate = sent.filter((s) => !frauds.has(s.body.transactionId));
    expect(report.results[1].legitimatePer1000.declined).toBeCloseTo(
      (1000 * legitimate.filter((s) => s.big || s.decision === 'decline').length) / legitimate.length,
      1,
    );
    expect(report.merchants.find((m) => m.merchantId === 'm2')?.changed).toBe(0);
    expect(report.merchants.find((m) => m.merchantId === 'm1')?.changed).toBe(
      sent.filter((s) => s.big && s.decision !== 'decline').length,
    );
    expect(report.reasons.find((r) => r.code === 'TEST_BIG_ORDER')?.count).toEqual([0, 6]);
    // Each merchant's friction beside its budget (the default ruleset's: 5 % challenged, 0.5 % reviewed).
    for (const merchant of ['m1', 'm2'] as const) {
      const mine = sent.filter((s) => s.merchant === merchant);
      const share = (d: Decision) =>
        Math.round((10_000 * mine.filter((s) => s.decision === d).length) / mine.length) / 10_000;
      const row = report.merchants.find((m) => m.merchantId === merchant)!;
      expect(row.challengeShare[0]).toBe(share('challenge'));
      expect(row.reviewShare[0]).toBe(share('review'));
      expect(row.budget).toEqual({ challenge: 0.05, review: 0.005 });
      expect(row.overBudget).toEqual([
        ...(row.challengeShare[1] > 0.05 ? ['challenge'] : []),
        ...(row.reviewShare[1] > 0.005 ? ['review'] : []),
      ]);
    }
  });

  it('runs as npm run backtest: prints the figures and writes JSON and HTML, card-free', async () => {
    const out = join(scratch, 'report');
    const { stdout } = await run(
      process.execPath,
      ['models/cli/backtest.ts', '--source', recordDir(), '--ruleset', candidateRuleset(), '--out', out, '--quiet'],
      { cwd: REPO, env: { ...process.env, LEAKGUARD_MODEL: 'off', LEAKGUARD_STATE_DIR: t.stateDir } },
    );
    expect(stdout).toContain(`reproduces 100.0 % of the recorded decisions (${sent.length} of ${sent.length}`);
    expect(stdout).toMatch(/transactions\/s/);
    expect(stdout).toContain('legitimate challenged / 1,000');
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { transactions: { reported: number } };
    expect(json.transactions.reported).toBe(sent.length);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('TEST_BIG_ORDER');
    for (const pan of pans) {
      expect(html).not.toContain(pan);
      expect(stdout).not.toContain(pan);
    }
    // `--model none`: the candidate without a model (a word, not a file of the caller's folder).
    const none = await run(
      process.execPath,
      ['models/cli/backtest.ts', '--source', recordDir(), '--model', 'none', '--quiet'],
      { cwd: REPO, env: { ...process.env, LEAKGUARD_MODEL: 'off', LEAKGUARD_STATE_DIR: t.stateDir } },
    );
    expect(none.stdout).toContain(`reproduces 100.0 % of the recorded decisions (${sent.length} of ${sent.length}`);
  }, 60_000);

  it("takes a reversed chargeback for none, whichever line comes first; an analyst's fraud label still is fraud", () => {
    const line = (r: Record<string, string>) =>
      JSON.stringify({ v: 2, merchantId: 'm1', at: '2026-11-20T09:30:00.000Z', ...r });
    const builder = new TrafficBuilder('recording');
    const outcomeLine = (transactionId: string, outcome: string) => line({ kind: 'outcome', transactionId, outcome });
    builder.add(outcomeLine('kept', 'chargeback'), 'f:1');
    builder.add(outcomeLine('won', 'chargeback'), 'f:2');
    builder.add(outcomeLine('won', 'chargeback_reversed'), 'f:3');
    builder.add(outcomeLine('early', 'chargeback_reversed'), 'f:4'); // read before its chargeback (another file)
    builder.add(outcomeLine('early', 'chargeback'), 'f:5');
    builder.add(outcomeLine('labelled', 'chargeback'), 'f:6');
    builder.add(outcomeLine('labelled', 'chargeback_reversed'), 'f:7');
    builder.add(line({ kind: 'label', transactionId: 'labelled', label: 'fraud' }), 'f:8');
    builder.add(outcomeLine('cleared', 'chargeback'), 'f:9');
    builder.add(outcomeLine('cleared', 'chargeback_reversed'), 'f:10');
    builder.add(line({ kind: 'label', transactionId: 'cleared', label: 'legitimate' }), 'f:11');
    const traffic = builder.finish();
    expect(traffic.refused).toBe(0);
    expect(Object.fromEntries(traffic.truth)).toEqual({
      '["m1","kept"]': 'fraud',
      '["m1","labelled"]': 'fraud',
      '["m1","cleared"]': 'legitimate',
    });
    // Every outcome is replayed to the engines, the reversals too.
    expect(traffic.outcomes.filter((o) => o.outcome === 'chargeback_reversed')).toHaveLength(4);

    // A merchant's export: a line's one outcome is where its transaction ended.
    const requests = new TrafficBuilder('requests');
    const request = (transactionId: string, outcome: string) =>
      JSON.stringify({
        transactionId,
        amount: 1000,
        currency: 'EUR',
        channel: 'ecommerce',
        occurredAt: '2026-11-20T09:30:00Z',
        card: { number: '4242424242424242', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
        outcome,
      });
    requests.add(request('charged', 'chargeback'), 'r:1');
    requests.add(request('reversed', 'chargeback_reversed'), 'r:2');
    const exported = requests.finish();
    expect(exported.refused).toBe(0);
    expect(Object.fromEntries(exported.truth)).toEqual({ '["replay","charged"]': 'fraud' });
    expect(exported.outcomes.map((o) => [o.transactionId, o.outcome])).toEqual([['charged', 'chargeback']]);
  });

  it('tells apart two transactions whose merchant and transaction ids join the same with a colon', () => {
    // merchant a / transaction b:c and merchant a:b / transaction c: both "a:b:c" before, the second
    // dropped as a duplicate and the outcomes and labels of either joined to the first.
    const recording = new TrafficBuilder('recording');
    const label = (merchantId: string, transactionId: string, l: string) =>
      JSON.stringify({ kind: 'label', v: 2, merchantId, transactionId, label: l, at: '2026-11-20T10:00:00.000Z' });
    recording.add(label('a', 'b:c', 'legitimate'), 'f:1');
    recording.add(label('a:b', 'c', 'fraud'), 'f:2');
    expect(Object.fromEntries(recording.finish().truth)).toEqual({
      '["a","b:c"]': 'legitimate',
      '["a:b","c"]': 'fraud',
    });
  });

  it("refuses a request line whose merchantId holds ':', which the replayed engine would take for another", () => {
    // Before: kept, and the replay stopped with "transaction c of a:b conflicted in the replay"
    // (the engine's own key is merchant:transaction; no merchant id it serves holds ':').
    const requests = new TrafficBuilder('requests');
    const request = (merchantId: string, transactionId: string) =>
      JSON.stringify({
        merchantId,
        transactionId,
        amount: 1000,
        currency: 'EUR',
        channel: 'ecommerce',
        occurredAt: '2026-11-20T09:30:00Z',
        card: { number: '4242424242424242', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      });
    requests.add(request('a', 'b:c'), 'r:1');
    requests.add(request('a:b', 'c'), 'r:2');
    const exported = requests.finish();
    expect(exported.count).toBe(1);
    expect(exported.refused).toBe(1);
    expect(exported.problems).toEqual([
      "r:2: merchantId: must not contain ':' (no merchant id the engine serves does)",
    ]);
  });

  it('refuses a bad option and a bad line with a precise message', async () => {
    const bad = await run(process.execPath, ['models/cli/backtest.ts', '--from', 'yesterday'], {
      cwd: REPO,
      env: { ...process.env, LEAKGUARD_STATE_DIR: t.stateDir },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain(
      '--from: expected a calendar date as YYYY-MM-DD or an ISO 8601 time, not yesterday',
    );

    const builder = new TrafficBuilder('recording');
    builder.add('{"kind":"scored","v":1}', 'f:1');
    builder.add('not json 4111111111111111', 'f:2');
    const traffic = builder.finish();
    expect(traffic.refused).toBe(2);
    expect(traffic.problems[0]).toMatch(/^f:1: merchantId: /);
    expect(traffic.problems[1]).toBe('f:2: not a JSON object');
  });
});

describe('a reversed decision', () => {
  it("withdraws the analyst's label: labels before the withdrawal no longer hold, whichever line comes first", () => {
    const label = (transactionId: string, l: string, at: string) =>
      JSON.stringify({ kind: 'label', v: 2, merchantId: 'm1', transactionId, label: l, at });
    const builder = new TrafficBuilder('recording');
    builder.add(label('undone', 'fraud', '2026-11-20T09:00:00.000Z'), 'f:1');
    builder.add(label('undone', 'withdrawn', '2026-11-20T10:00:00.000Z'), 'f:2');
    builder.add(label('redone', 'withdrawn', '2026-11-20T10:00:00.000Z'), 'f:3'); // read before its label
    builder.add(label('redone', 'fraud', '2026-11-20T09:00:00.000Z'), 'f:4');
    builder.add(label('redone', 'legitimate', '2026-11-20T11:00:00.000Z'), 'f:5');
    builder.add(label('kept', 'legitimate', '2026-11-20T09:00:00.000Z'), 'f:6');
    builder.add(label('kept', 'fraud', '2026-11-20T09:30:00.000Z'), 'f:7');
    const traffic = builder.finish();
    expect(traffic.refused).toBe(0);
    expect(Object.fromEntries(traffic.truth)).toEqual({ '["m1","redone"]': 'legitimate', '["m1","kept"]': 'fraud' });
  });

  it('is recorded: a case decided fraud then reversed is not fraud in the recording', async () => {
    const cases = t.runtime.cases!;
    const [kase] = (await cases.store.list(caseQuerySchema.parse({ status: 'pending' }))).items;
    expect(kase, 'a flagged case waits for a decision').toBeTruthy();
    const key = JSON.stringify([kase!.merchantId, kase!.transactionId]);
    expect((await cases.feedback.decide(kase!.id, 'mark_fraud', 'analyst-1')).effects).toBe('applied');
    await t.runtime.recorder!.flush();
    expect((await recordedTraffic()).truth.get(key)).toBe('fraud');
    expect((await cases.feedback.reverse(kase!.id, 'lead-1', 'wrong case')).effects).toBe('applied');
    await t.runtime.recorder!.flush();
    expect((await recordedTraffic()).truth.has(key)).toBe(false);
  });
});
