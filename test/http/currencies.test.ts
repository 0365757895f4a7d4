// Currency-aware amounts through the real HTTP stack on a real Redis: the same orders paid in yen,
// euros and dinars count, score and decide the same; a currency the rate table lacks is refused
// (422, nothing counted); the table reloads by the admin route (a bad one is refused) and by itself.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { DEFAULT_RATES_PATH, readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { luhnValid } from '../../services/core/card.ts';
import type { ScoreResult } from '../../services/core/engine.ts';
import type { FeatureMap } from '../../services/core/features.ts';
import type { ScoreRequestInput } from '../../services/core/schemas.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';

const MIN = 60_000,
  HOUR = 60 * MIN,
  DAY = 24 * HOUR;

/** A Luhn-valid card number: BIN, zeros, a serial, the check digit. */
function pan(bin: string, serial: number): string {
  const body = `${bin}${String(serial).padStart(9, '0')}`;
  for (let check = 0; check < 10; check++) if (luhnValid(`${body}${check}`)) return `${body}${check}`;
  throw new Error('unreachable');
}

let redis: RedisServer;
let t: TestApp;
let ratesPath: string;
const features = new Map<string, FeatureMap>();
const merchantKeys = new Map<string, string>();

beforeAll(async () => {
  redis = await RedisServer.start();
  // The default table without SEK, under another version.
  const doc = parse(readFileSync(DEFAULT_RATES_PATH, 'utf8'));
  delete doc.rates.SEK;
  doc.version = 'test-no-sek';
  ratesPath = join(mkdtempSync(join(tmpdir(), 'lg-rates-')), 'rates.yaml');
  writeFileSync(ratesPath, stringify(doc));
  t = await buildTestApp({ REDIS_URL: redis.url, LEAKGUARD_RATES: ratesPath });
  // What the engine computed for each transaction (the response carries no features).
  const engine = t.runtime.engine;
  const score = engine.score.bind(engine);
  engine.score = async (merchantId, request): Promise<ScoreResult> => {
    const result = await score(merchantId, request);
    if (result.kind === 'scored' && result.evidence) features.set(request.transactionId, result.evidence.features);
    return result;
  };
  for (const shop of ['eur-a', 'eur-b', 'jpy-a', 'jpy-b', 'kwd-a', 'kwd-b', 'sek-a']) {
    merchantKeys.set(shop, (await createApiKey(t.runtime.apiKeys, { role: 'merchant', merchantId: shop })).key);
  }
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

const post = (shop: string, body: unknown) =>
  t.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(merchantKeys.get(shop)!), payload: body as object });

describe('the same orders in JPY, EUR and KWD', () => {
  // One card's story in euros: two ordinary purchases, three card tests at two shops, then a
  // cash-out from a new device and a day-old account, and another large order.
  const now = Date.now();
  const story = [
    { eur: 45, at: now - 3 * DAY, shop: 'a', device: 'home' },
    { eur: 60, at: now - 2 * DAY, shop: 'a', device: 'home' },
    { eur: 1, at: now - 30 * MIN, shop: 'b' },
    { eur: 1, at: now - 20 * MIN, shop: 'a' },
    { eur: 2, at: now - 10 * MIN, shop: 'b' },
    { eur: 1200, at: now - 5 * MIN, shop: 'b', device: 'new', newAccount: true },
    { eur: 900, at: now, shop: 'a', device: 'new', newAccount: true },
  ];
  const CURRENCIES = [
    { code: 'JPY', bin: '400011' },
    { code: 'EUR', bin: '400022' },
    { code: 'KWD', bin: '400033' },
  ] as const;
  const rates = readRatesFile(ratesPath);

  it("converts every amount exactly with the table's rates", () => {
    // 2025 rates: 175 JPY and 0.356 KWD per euro, so whole euros are whole yen and whole fils.
    for (const { code } of CURRENCIES) {
      for (const step of story) {
        const minor = rates.fromReference(step.eur, code, step.at);
        expect(rates.toReference(minor, code, step.at), `${step.eur} EUR in ${code}`).toBeCloseTo(step.eur, 9);
      }
    }
    expect(rates.fromReference(1200, 'JPY', now)).toBe(210_000);
    expect(rates.fromReference(1200, 'KWD', now)).toBe(427_200);
  });

  it('scores them the same: decisions, scores, reasons and amount features', async () => {
    const answers: Record<
      string,
      {
        body: { score: number; decision: string; reasons: { code: string; message: string }[] };
        features: FeatureMap;
      }[]
    > = {};
    for (const { code, bin } of CURRENCIES) {
      const prefix = code.toLowerCase();
      const card = { number: pan(bin, 1), expiryMonth: 12, expiryYear: 2031, cvvResult: 'match' as const };
      const mine: (typeof answers)[string] = (answers[code] = []);
      const n = CURRENCIES.findIndex((c) => c.code === code);
      for (const [i, step] of story.entries()) {
        const body: ScoreRequestInput = {
          transactionId: `${prefix}-${i}`,
          amount: rates.fromReference(step.eur, code, step.at),
          currency: code,
          occurredAt: new Date(step.at).toISOString(),
          channel: 'ecommerce',
          card,
          // Devices, IPs and emails of each currency's own: entities shared across cards would tell the currencies apart.
          ...(step.device
            ? {
                device: {
                  id: `${prefix}-${step.device}`,
                  ip: step.device === 'new' ? `198.51.100.${10 * n + i}` : `203.0.113.${n}`,
                },
              }
            : {}),
          ...(step.newAccount
            ? {
                customer: {
                  email: `${prefix}-buyer@example.com`,
                  accountCreatedAt: new Date(step.at - 2 * HOUR).toISOString(),
                },
              }
            : {}),
        };
        const res = await post(`${prefix}-${step.shop}`, body);
        expect(res.statusCode, res.body).toBe(200);
        mine.push({ body: res.json(), features: features.get(body.transactionId)! });
      }
    }

    const view = (a: (typeof answers)[string][number]) => ({
      score: a.body.score,
      decision: a.body.decision,
      reasons: a.body.reasons,
    });
    const amounts = (f: FeatureMap) => ({
      card_amount_24h: f.card_amount_24h,
      card_amount_7d: f.card_amount_7d,
      card_small_count_1h: f.card_small_count_1h,
      amount_to_card_avg_7d: f.amount_to_card_avg_7d,
      amount_to_card_avg_30d: f.amount_to_card_avg_30d,
    });
    for (const [i, step] of story.entries()) {
      const [jpy, eur, kwd] = [answers.JPY![i]!, answers.EUR![i]!, answers.KWD![i]!];
      expect(view(jpy), `step ${i} JPY`).toEqual(view(eur));
      expect(view(kwd), `step ${i} KWD`).toEqual(view(eur));
      expect(amounts(jpy.features), `step ${i} JPY`).toEqual(amounts(eur.features));
      expect(amounts(kwd.features), `step ${i} KWD`).toEqual(amounts(eur.features));
      for (const a of [jpy, eur, kwd]) expect(a.features.amount_ref as number).toBeCloseTo(step.eur, 2);
    }

    // The amounts are each currency's own in amount_major, and the reference's elsewhere.
    expect([answers.JPY![5]!, answers.EUR![5]!, answers.KWD![5]!].map((a) => a.features.amount_major)).toEqual([
      210_000, 1200, 427.2,
    ]);
    const cashOut = answers.EUR![5]!;
    expect(cashOut.features).toMatchObject({ card_amount_24h: 1204, card_amount_7d: 1309, card_small_count_1h: 3 });
    expect(cashOut.features.amount_to_card_avg_7d as number).toBeCloseTo(1200 / (109 / 5), 9);
    expect(answers.EUR![0]!.features).toMatchObject({ amount_to_card_avg_7d: -1, amount_to_card_avg_30d: -1 });
    expect(answers.EUR![1]!.features.amount_to_card_avg_7d as number).toBeCloseTo(60 / 45, 12);
    // Not vacuous: the story trips the amount rules and card testing, in every currency alike.
    expect(answers.EUR!.slice(0, 5).every((a) => a.body.reasons.every((r) => r.code !== 'HIGH_AMOUNT'))).toBe(true);
    expect(cashOut.body.reasons.map((r) => r.code)).toEqual(
      expect.arrayContaining(['CARD_TESTING_SMALL_AMOUNTS_1H', 'HIGH_AMOUNT', 'NEW_ACCOUNT_HIGH_AMOUNT']),
    );
    expect(cashOut.body.reasons.find((r) => r.code === 'HIGH_AMOUNT')!.message).toBe(
      'High amount (1200 in the reference currency)',
    );
    expect(cashOut.body.decision).not.toBe('approve');
    expect(answers.EUR![6]!.body.reasons.map((r) => r.code)).toContain('CARD_AMOUNT_SPIKE_24H');
  });
});

describe('a currency without a rate, and one that is not money', () => {
  const card = { number: pan('400044', 7), expiryMonth: 12, expiryYear: 2031, cvvResult: 'match' as const };
  const sek = (transactionId: string) => ({
    transactionId,
    amount: 11_100,
    currency: 'SEK',
    channel: 'ecommerce',
    card,
  });

  it('answers 422 for a currency the table lacks, names it and the table, counts nothing, never repeats the card', async () => {
    for (const id of ['sek-1', 'sek-2']) {
      const res = await post('sek-a', sek(id));
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual({
        error: 'no exchange rate for this currency',
        code: 'NO_EXCHANGE_RATE',
        details: [{ path: 'currency', message: 'no exchange rate for SEK in rate table test-no-sek' }],
      });
      expect(res.body).not.toContain(card.number);
    }
    expect(features.has('sek-1')).toBe(false);
  });

  it('answers 400 for a code that is not ISO 4217 money (a metal, a fund, a unit of account, a made-up code), like any invalid field', async () => {
    for (const currency of ['XAU', 'BOV', 'XDR', 'ABC']) {
      const res = await post('sek-a', { ...sek(`bad-${currency}`), currency });
      expect(res.statusCode, currency).toBe(400);
      expect(res.json(), currency).toEqual({
        error: 'invalid request',
        code: 'VALIDATION_FAILED',
        details: [{ path: 'currency', message: 'must be an ISO 4217 currency code' }],
      });
    }
  });
});

describe('reloading the rate table', () => {
  const admin = (method: 'GET' | 'POST', url: string, key = t.keys.admin) =>
    t.app.inject({ method, url, headers: bearer(key) });

  it('shows the table in force, and reloads it on request: the currency it gained is scored', async () => {
    expect((await admin('GET', '/v1/admin/rates')).json()).toMatchObject({
      version: 'test-no-sek',
      reference: 'EUR',
      smallAmount: 2,
    });
    expect((await admin('POST', '/v1/admin/rates/reload', t.keys.merchant)).statusCode).toBe(403);
    writeFileSync(
      ratesPath,
      readFileSync(DEFAULT_RATES_PATH, 'utf8').replace(/^version: .*$/m, 'version: test-with-sek'),
    );
    const res = await admin('POST', '/v1/admin/rates/reload');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      version: 'test-with-sek',
      reference: 'EUR',
      currencies: expect.arrayContaining(['SEK', 'JPY']),
    });

    const card = { number: pan('400044', 7), expiryMonth: 12, expiryYear: 2031, cvvResult: 'match' as const };
    const scored = await post('sek-a', {
      transactionId: 'sek-3',
      amount: 11_100,
      currency: 'SEK',
      channel: 'ecommerce',
      card,
    });
    expect(scored.statusCode).toBe(200);
    // 111.00 SEK at 11.1 = 10 EUR; the two refused attempts counted nothing.
    expect(features.get('sek-3')).toMatchObject({ amount_ref: 10, amount_major: 111, card_count_1h: 1 });
  });

  it('refuses an invalid table with the reason and its path, keeps the one in force, counts the refusal', async () => {
    writeFileSync(
      ratesPath,
      readFileSync(ratesPath, 'utf8')
        .replace('version: test-with-sek', 'version: broken')
        .replace('{ from: 2018-01-01, rate: 130 }', '{ from: 2018-01-01, rate: 0 }'),
    );
    const res = await admin('POST', '/v1/admin/rates/reload');
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatch(
      /^rate table refused, the previous one stays in force: invalid rate table .*rates\.yaml: rates\.JPY\.0\.rate: /,
    );
    expect((await admin('GET', '/v1/admin/rates')).json().version).toBe('test-with-sek');
    expect((await t.app.inject('/metrics')).body).toMatch(
      /leakguard_rate_table_reloads_total\{result="refused"\} [1-9]/,
    );
    expect(t.logs.join('\n')).toContain('rate table refused; the previous rate table stays in force');
  });

  it('stops the start-up on an invalid table, naming the file and the problem', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'lg-rates-')), 'bad.yaml');
    writeFileSync(
      bad,
      readFileSync(DEFAULT_RATES_PATH, 'utf8').replace(
        'KWD: [{ from: 2018-01-01, rate: 0.357 }',
        'KWD: [{ from: 2018-02-30, rate: 0.357 }',
      ),
    );
    await expect(buildTestApp({ LEAKGUARD_RATES: bad })).rejects.toThrow(
      `invalid rate table ${bad}: rates.KWD.0.from: must be a real date`,
    );
  });

  it('warns of rates older than the limit at load and at reload, and measures their age at each scrape; current rates end it', async () => {
    const stale = (line: string) => line.includes('exchange rates older than 45 days');
    // Loaded at start, and at the reload of test-with-sek: the shipped rates' newest date is
    // 2025-01-01, for all 31 currencies but EUR and SEK.
    const warned = t.logs.filter(stale);
    expect(warned).toHaveLength(2);
    const warning = JSON.parse(warned[0]!);
    const age = Math.floor((Date.now() - Date.parse('2025-01-01T00:00:00Z')) / DAY);
    expect(warning).toMatchObject({ level: 40, version: 'test-no-sek', maxAgeDays: 45 });
    expect(warning.stale).toHaveLength(31);
    expect(warning.stale).toContainEqual({ currency: 'JPY', newest: '2025-01-01', ageDays: age });
    expect(warning.msg).toMatch(
      new RegExp(
        `^exchange rates older than 45 days in rate table test-no-sek: the newest rate is from 2025-01-01 \\(${age} days ago\\) for [A-Z, ]+ and 23 more\\. ` +
          'Scoring goes on, converting these currencies at those rates\\. Feed current rates: point LEAKGUARD_RATES at a table',
      ),
    );
    let metrics = (await t.app.inject('/metrics')).body;
    expect(metrics).toContain(`leakguard_rate_table_oldest_rate_age_days ${age}`);
    expect(metrics).toContain('leakguard_rate_table_max_rate_age_days 45');

    // A table fed today: loads without the warning, and the age drops to 0 (the reference's 2000-01-01 does not count).
    const today = new Date().toISOString().slice(0, 10);
    writeFileSync(
      ratesPath,
      stringify({
        version: 'fed-today',
        reference: 'EUR',
        smallAmount: 2,
        rates: { EUR: [{ from: '2000-01-01', rate: 1 }], JPY: [{ from: today, rate: 176 }] },
      }),
    );
    expect((await admin('POST', '/v1/admin/rates/reload')).json()).toMatchObject({ version: 'fed-today' });
    metrics = (await t.app.inject('/metrics')).body;
    expect(metrics).toContain('leakguard_rate_table_oldest_rate_age_days 0');
    expect(t.logs.filter(stale)).toHaveLength(2);
    // Back to stale rates: warned again at the reload.
    writeFileSync(
      ratesPath,
      readFileSync(DEFAULT_RATES_PATH, 'utf8').replace(/^version: .*$/m, 'version: stale-again'),
    );
    expect((await admin('POST', '/v1/admin/rates/reload')).statusCode).toBe(200);
    expect(t.logs.filter(stale)).toHaveLength(3);
    expect(t.logs.filter(stale)[2]).toContain('in rate table stale-again: the newest rate is from 2025-01-01');
    // A copy, not the shipped file: nothing said of the shipped table.
    expect(t.logs.filter(stale)[2]).not.toContain('shipped');
  });

  it('the shipped table says it is the shipped one, once, as a warning; a longer limit is a setting', async () => {
    const shipped = await buildTestApp({});
    try {
      const warned = shipped.logs.filter((l) => l.includes('exchange rates older than'));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0]!)).toMatchObject({ level: 40, path: DEFAULT_RATES_PATH });
      expect(JSON.parse(warned[0]!).msg).toContain(
        `Scoring goes on, converting these currencies at those rates. This is the table shipped with Leakguard (approximate yearly rates). Feed current rates: point LEAKGUARD_RATES at a table your treasury or card-scheme feed keeps current, or raise LEAKGUARD_RATES_MAX_AGE_DAYS if these rates are meant to last (docs/currencies.md, "Stale rates")`,
      );
    } finally {
      await shipped.close();
    }
    const lenient = await buildTestApp({ LEAKGUARD_RATES_MAX_AGE_DAYS: '3650' });
    try {
      expect(lenient.logs.filter((l) => l.includes('exchange rates older than'))).toEqual([]);
      expect((await lenient.app.inject('/metrics')).body).toContain('leakguard_rate_table_max_rate_age_days 3650');
    } finally {
      await lenient.close();
    }
  });

  it('notices a changed file by itself', async () => {
    writeFileSync(ratesPath, readFileSync(DEFAULT_RATES_PATH, 'utf8').replace(/^version: .*$/m, 'version: watched-2'));
    const end = Date.now() + 10_000;
    let version = '';
    while (Date.now() < end && version !== 'watched-2') {
      await new Promise((r) => setTimeout(r, 200));
      version = (await admin('GET', '/v1/admin/rates')).json().version;
    }
    expect(version).toBe('watched-2');
  });
});
