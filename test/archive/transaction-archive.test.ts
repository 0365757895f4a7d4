// The transaction archive (docs/capacity.md, "Redis memory"): counted transactions kept in
// PostgreSQL for the outcomes reported after their Redis marker has gone. The store's contract on
// PGlite and a real PostgreSQL; then the engine on a real Redis and PostgreSQL: a chargeback for a
// transaction whose marker has expired reaches the card's, device's and e-mail's counters once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../services/adapters/postgres/migrate.ts';
import { PgSqlClient } from '../../services/adapters/postgres/pg-client.ts';
import { PgTransactionArchive } from '../../services/adapters/postgres/transaction-archive.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import { OccurredBeforeTransactionError } from '../../services/core/engine.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import type { ArchivedTransaction } from '../../services/core/transaction-archive.ts';
import { MARKED_KINDS } from '../../services/core/velocity.ts';
import { pgliteDriver, postgresDriver, type Driver } from '../console/fixtures.ts';
import { scoreBody } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';
import { openRuntime } from '../support/runtime-on.ts';

const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const T0 = Math.floor(Date.now() / DAY - 60) * DAY + 36_000_000; // 10:00, sixty days ago

const transaction = (n: number, over: Partial<ArchivedTransaction> = {}): ArchivedTransaction => ({
  merchantId: 'm1',
  transactionId: `tx-${n}`,
  countedAt: T0 + n,
  entities: { card: `card-${n}`, device: `device-${n}`, email: `email-${n}` },
  ...over,
});

/** A fresh transaction id (no long digit run: one passing the Luhn check is refused as a card number). */
let serial = 0;
const txId = (prefix: string) => `${prefix}-n${++serial}`;

const request = (transactionId: string, occurredAt: number) =>
  scoreRequestSchema.parse(
    scoreBody({
      transactionId,
      occurredAt: new Date(occurredAt).toISOString(),
      device: { id: 'device-archive-1' },
      customer: { email: 'archive@example.com' },
    }),
  );

describe.each([
  ['PGlite', pgliteDriver],
  ['PostgreSQL', postgresDriver],
])('the transaction archive on %s', (_name, makeDriver) => {
  let driver: Driver;
  let sql: SqlClient;
  let archive: PgTransactionArchive;

  beforeAll(async () => {
    driver = await makeDriver();
    sql = await driver.open();
    archive = new PgTransactionArchive(sql);
  }, 60_000);

  afterAll(async () => {
    await sql?.close();
    await driver?.stop();
  });

  it('keeps each transaction once, with its counting time and identities', async () => {
    await archive.append([transaction(1), transaction(2, { entities: { card: 'card-2', shipping: 'ship-2' } })]);
    // Archived again (a redelivery counted after a crash): the first entry stays as it was.
    await archive.append([transaction(1, { countedAt: T0 + 999, entities: { card: 'other' } })]);
    expect(await archive.find('m1', 'tx-1')).toEqual({ ...transaction(1), outcomes: {} });
    expect(await archive.find('m1', 'tx-2')).toEqual({
      ...transaction(2, { entities: { card: 'card-2', shipping: 'ship-2' } }),
      outcomes: {},
    });
    expect(await archive.find('m2', 'tx-1')).toBeUndefined(); // another merchant's id
    expect(await archive.find('m1', 'tx-404')).toBeUndefined();
  });

  it('keeps every identity a marker keeps, of each kind an outcome reaches', async () => {
    // A kind added to the marker (velocity.ts) without its column fails here, not later in production.
    const entities = Object.fromEntries([...MARKED_KINDS].map((kind) => [kind, `${kind}-identity`]));
    expect(Object.keys(entities)).toEqual(expect.arrayContaining(['card', 'device', 'ip', 'email', 'shipping']));
    await archive.append([transaction(9, { entities })]);
    expect((await archive.find('m1', 'tx-9'))?.entities).toEqual(entities);
  });

  it('notes each outcome once', async () => {
    await archive.append([transaction(3)]);
    expect(await archive.markOutcome('m1', 'tx-3', 'chargeback', T0 + DAY)).toBe(true);
    expect(await archive.markOutcome('m1', 'tx-3', 'chargeback', T0 + 2 * DAY)).toBe(false);
    expect(await archive.markOutcome('m1', 'tx-3', 'declined', T0 + 3 * DAY)).toBe(true);
    expect(await archive.markOutcome('m1', 'tx-404', 'declined', T0)).toBe(false);
    expect((await archive.find('m1', 'tx-3'))?.outcomes).toEqual({ chargeback: T0 + DAY, declined: T0 + 3 * DAY });
  });

  it('keeps a day per partition: makes the coming days, drops the days past retention whole', async () => {
    // Two days archived long ago (as if the engine had run then), 200 and 170 days back.
    await archivedDaysAgo(sql, 200, transaction(101));
    await archivedDaysAgo(sql, 170, transaction(102));
    expect(await archive.maintain(180)).toBe(1);
    expect(await archive.find('m1', 'tx-101')).toBeUndefined();
    expect(await archive.find('m1', 'tx-102')).toBeDefined();
    expect(await archive.find('m1', 'tx-1')).toBeDefined(); // archived today: kept
    expect(await archive.maintain(180)).toBe(0); // again: nothing more
    // Today and the next three days are ready for what comes.
    const { rows } = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'transaction_archive'::regclass
          AND c.relname >= 'transaction_archive_' || to_char(current_date, 'YYYYMMDD')`,
    );
    expect(rows[0]!.n).toBe(4);
    await expect(archive.maintain(0)).rejects.toThrow(/keep_days/);
  });

  it('finds the first of a transaction archived on two days, and notes its outcome on both', async () => {
    await archivedDaysAgo(sql, 2, transaction(201, { countedAt: T0 - DAY }));
    await archive.append([transaction(201)]); // a replay after its marker had gone, archived again today
    expect((await archive.find('m1', 'tx-201'))?.countedAt).toBe(T0 - DAY);
    expect(await archive.markOutcome('m1', 'tx-201', 'chargeback', T0 + DAY)).toBe(true);
    expect(await archive.markOutcome('m1', 'tx-201', 'chargeback', T0 + DAY)).toBe(false);
  });
});

/** Archives `t` as if `days` ago: that day's partition made as the maintenance would have, the row put in it. */
async function archivedDaysAgo(sql: SqlClient, days: number, t: ArchivedTransaction) {
  const { rows } = await sql.query<{ day: string; name: string }>(
    `SELECT (current_date - $1::int)::text AS day, 'transaction_archive_' || to_char(current_date - $1::int, 'YYYYMMDD') AS name`,
    [days],
  );
  const { day, name } = rows[0]!;
  // Test-made names and dates (no outside input): spliced into the DDL, which takes no parameters.
  await sql.exec(
    `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF transaction_archive FOR VALUES FROM ('${day}') TO ('${day}'::date + 1)`,
  );
  await sql.query(
    `INSERT INTO transaction_archive (merchant_id, transaction_id, archived_on, counted_at_ms, card) VALUES ($1, $2, $3::date, $4, $5)`,
    [t.merchantId, t.transactionId, day, String(t.countedAt), t.entities.card],
  );
}

describe('an outcome after the marker has gone (real Redis and PostgreSQL)', () => {
  let redis: RedisServer;
  let driver: Driver;

  beforeAll(async () => {
    [redis, driver] = await Promise.all([RedisServer.start(), postgresDriver()]);
  }, 60_000);

  afterAll(async () => {
    await redis?.stop();
    await driver?.stop();
  });

  async function withEngine(
    archive: 'on' | 'off',
    run: (rt: Awaited<ReturnType<typeof openRuntime>>['runtime']) => Promise<void>,
  ) {
    const db = await driver.server!.createDatabase(`lg_archive_${archive}_${process.pid}_${Date.now()}`);
    const { runtime, dispose } = await openRuntime({
      REDIS_URL: redis.url,
      DATABASE_URL: db,
      LEAKGUARD_ARCHIVE: archive,
      LEAKGUARD_MODEL: 'off',
    });
    try {
      await runtime.openCases();
      await run(runtime);
    } finally {
      await dispose();
    }
  }

  /** Scores `id` for m1 and lets its marker go, as its retention would. */
  async function scoredAndExpired(runtime: Awaited<ReturnType<typeof openRuntime>>['runtime'], id: string, at: number) {
    const result = await runtime.engine.score('m1', request(id, at));
    expect(result.kind === 'scored' && !result.response.degraded).toBe(true);
    await runtime.archiveWriter?.flush();
    expect(await runtime.redis!.del(runtime.store.keys.marker('m1', id))).toBe(1);
  }

  it('finds the transaction in the archive: counted once, repeats told, the card known to breach discovery', async () => {
    await withEngine('on', async (runtime) => {
      const id = txId('arc');
      await scoredAndExpired(runtime, id, T0);
      // Dated before the transaction, as the archive knows its time: refused, nothing recorded.
      await expect(runtime.engine.recordOutcome('m1', id, 'chargeback', T0 - 10 * DAY)).rejects.toBeInstanceOf(
        OccurredBeforeTransactionError,
      );
      expect(await runtime.engine.recordOutcome('m1', id, 'chargeback', T0 + 40 * DAY)).toBe('recorded');
      expect(await runtime.engine.recordOutcome('m1', id, 'chargeback', T0 + 41 * DAY)).toBe('duplicate');
      expect(await runtime.engine.recordOutcome('m1', 'never-scored', 'chargeback', T0 + 40 * DAY)).toBe('unknown');
      const known = await runtime.engine.transactionOf('m1', id);
      expect(known?.at).toBe(T0);
      expect(known?.card).toMatch(/^[A-Za-z0-9_-]{43}$/);

      // The card's next transaction, a day after the chargeback: counted once for the card, its device and e-mail.
      const next = await runtime.engine.score('m1', request(`${id}-next`, T0 + 41 * DAY));
      if (next.kind !== 'scored') throw new Error('not scored');
      const f = next.evidence!.features;
      expect([f.card_chargebacks_30d, f.device_chargebacks_30d, f.email_chargebacks_30d]).toEqual([1, 1, 1]);
      expect(f.card_count_30d).toBe(1); // the first transaction is outside the 30 days: only the chargeback reached
    });
  });

  it('an outcome recorded while the marker lived is a repeat after it has gone', async () => {
    await withEngine('on', async (runtime) => {
      const id = txId('arc-live');
      await runtime.engine.score('m1', request(id, T0));
      await runtime.archiveWriter?.flush();
      expect(await runtime.engine.recordOutcome('m1', id, 'declined', T0 + 1_000)).toBe('recorded');
      await runtime.redis!.del(runtime.store.keys.marker('m1', id));
      expect(await runtime.engine.recordOutcome('m1', id, 'declined', T0 + 10 * DAY)).toBe('duplicate');
    });
  });

  it('a chargeback reversed after the marker has gone: withdrawn once from every counter, refused without a chargeback', async () => {
    await withEngine('on', async (runtime) => {
      const id = txId('arc-rev');
      const bare = txId('arc-rev-none');
      await scoredAndExpired(runtime, bare, T0);
      expect(await runtime.engine.recordOutcome('m1', bare, 'chargeback_reversed', T0 + 40 * DAY)).toBe('absent');
      // A card, device and e-mail of its own: the other tests' chargebacks reach the shared ones.
      const own = (transactionId: string, at: number) =>
        scoreRequestSchema.parse(
          scoreBody({
            transactionId,
            occurredAt: new Date(at).toISOString(),
            card: { number: '4012888888881881', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
            device: { id: 'device-archive-reversal' },
            customer: { email: 'reversal@example.com' },
          }),
        );
      const features = async (transactionId: string, at: number) => {
        const result = await runtime.engine.score('m1', own(transactionId, at));
        if (result.kind !== 'scored') throw new Error('not scored');
        const f = result.evidence!.features;
        return [f.card_chargebacks_30d, f.device_chargebacks_30d, f.email_chargebacks_30d];
      };
      // The chargeback recorded while the marker lived (noted on the archive's entry too), reversed after it went.
      await runtime.engine.score('m1', own(id, T0));
      await runtime.archiveWriter?.flush();
      expect(await runtime.engine.recordOutcome('m1', id, 'chargeback', T0 + 30 * DAY, '10.4')).toBe('recorded');
      await runtime.redis!.del(runtime.store.keys.marker('m1', id));
      expect(await features(`${id}-before`, T0 + 31 * DAY)).toEqual([1, 1, 1]);
      // Dated before the chargeback (its note on the archive's entry): refused, nothing changed.
      await expect(runtime.engine.recordOutcome('m1', id, 'chargeback_reversed', T0 + 29 * DAY)).rejects.toMatchObject({
        code: 'OUTCOME_CONFLICT',
        details: [{ path: 'occurredAt' }],
      });
      expect(await features(`${id}-still`, T0 + 31 * DAY)).toEqual([1, 1, 1]);
      expect(await runtime.engine.recordOutcome('m1', id, 'chargeback_reversed', T0 + 40 * DAY)).toBe('recorded');
      expect(await runtime.engine.recordOutcome('m1', id, 'chargeback_reversed', T0 + 41 * DAY)).toBe('duplicate');
      expect(await runtime.engine.recordOutcome('m1', id, 'chargeback', T0 + 41 * DAY, '10.4')).toBe('duplicate');
      expect(await features(`${id}-next`, T0 + 41 * DAY)).toEqual([0, 0, 0]);
    });
  });

  it('PostgreSQL down: what waits is kept and written once it is back; an outcome needing the archive is refused until then', async () => {
    await withEngine('on', async (runtime) => {
      const id = txId('arc-down');
      const writer = runtime.archiveWriter!;
      await writer.flush(); // what opening the database left waiting
      await driver.server!.halt('fast');
      try {
        await runtime.engine.score('m1', request(id, T0));
        await writer.flush(); // refused: kept for the next flush
        expect(writer.waiting).toBe(1);
        expect(await runtime.redis!.del(runtime.store.keys.marker('m1', id))).toBe(1);
        // Never answered "unknown" for want of the archive: the route turns this into 503 and a retry.
        await expect(runtime.engine.recordOutcome('m1', id, 'chargeback', T0 + 40 * DAY)).rejects.toThrow();
      } finally {
        await driver.server!.resume();
      }
      for (let i = 0; i < 50 && writer.waiting > 0; i++) await writer.flush().then(() => sleep(100));
      expect(writer.waiting).toBe(0);
      expect(await runtime.engine.recordOutcome('m1', id, 'chargeback', T0 + 40 * DAY)).toBe('recorded');
    });
  }, 60_000);

  it('an engine started while PostgreSQL is down: its transactions wait, and an outcome needing them is refused until it is up', async () => {
    const db = await driver.server!.createDatabase(`lg_archive_late_${process.pid}_${Date.now()}`);
    await driver.server!.halt('fast');
    let resumed = false;
    const { runtime, dispose } = await openRuntime({
      REDIS_URL: redis.url,
      DATABASE_URL: db,
      LEAKGUARD_MODEL: 'off',
    });
    try {
      const opening = runtime.openCases(); // retries until PostgreSQL answers
      const id = txId('arc-late');
      await runtime.engine.score('m1', request(id, T0));
      expect(runtime.archiveWriter!.waiting).toBe(1);
      expect(await runtime.redis!.del(runtime.store.keys.marker('m1', id))).toBe(1);
      await expect(runtime.engine.recordOutcome('m1', id, 'chargeback', T0 + 40 * DAY)).rejects.toThrow(
        /archive not open yet/,
      );
      await driver.server!.resume();
      resumed = true;
      await opening;
      for (let i = 0; i < 50 && runtime.archiveWriter!.waiting > 0; i++) await sleep(100);
      expect(runtime.archiveWriter!.waiting).toBe(0);
      expect(await runtime.engine.recordOutcome('m1', id, 'chargeback', T0 + 40 * DAY)).toBe('recorded');
    } finally {
      if (!resumed) await driver.server!.resume();
      await dispose();
    }
  }, 60_000);

  it('the engine drops the days past LEAKGUARD_ARCHIVE_RETENTION_DAYS once its database is open', async () => {
    const db = await driver.server!.createDatabase(`lg_archive_prune_${process.pid}_${Date.now()}`);
    const sql = new PgSqlClient({ connectionString: db, max: 1 });
    try {
      await migrate(sql);
      await archivedDaysAgo(sql, 31, transaction(901));
      await new PgTransactionArchive(sql).append([transaction(902)]);
      const { runtime, dispose } = await openRuntime({
        REDIS_URL: redis.url,
        DATABASE_URL: db,
        LEAKGUARD_MODEL: 'off',
        LEAKGUARD_ARCHIVE_RETENTION_DAYS: '30',
      });
      try {
        await runtime.openCases();
        const left = async () =>
          (await sql.query<{ id: string }>('SELECT transaction_id AS id FROM transaction_archive ORDER BY 1')).rows.map(
            (r) => r.id,
          );
        for (let i = 0; i < 50 && (await left()).length > 1; i++) await sleep(100);
        expect(await left()).toEqual(['tx-902']);
        expect(await runtime.metrics.registry.getSingleMetricAsString('leakguard_archive_days_dropped_total')).toMatch(
          /leakguard_archive_days_dropped_total 1$/m,
        );
      } finally {
        await dispose();
      }
    } finally {
      await sql.close();
    }
  }, 60_000);

  it("the application's own role, which owns nothing, keeps the days through the owner's function", async () => {
    const su = new PgSqlClient({ connectionString: driver.server!.url, max: 1 });
    const db = `lg_archive_roles_${process.pid}`;
    try {
      // The owner is no superuser (as in production); the application's role owns nothing (docs/console.md).
      await su.exec('CREATE ROLE lg_arc_owner LOGIN; CREATE ROLE lg_arc_app LOGIN; CREATE ROLE lg_arc_reader LOGIN');
      await su.exec(`CREATE DATABASE ${db} OWNER lg_arc_owner`); // alone: not in a transaction block
    } finally {
      await su.close();
    }
    const url = (role: string) => `postgres://${role}@127.0.0.1:${driver.server!.port}/${db}`;
    const { runtime, lines, dispose } = await openRuntime({
      REDIS_URL: redis.url,
      DATABASE_URL: url('lg_arc_app'),
      DATABASE_MIGRATION_URL: url('lg_arc_owner'),
      LEAKGUARD_MODEL: 'off',
    });
    const app = new PgSqlClient({ connectionString: url('lg_arc_app'), max: 1 });
    try {
      await runtime.openCases();
      const id = txId('arc-roles');
      await runtime.engine.score('m1', request(id, T0));
      await runtime.archiveWriter!.flush();
      expect((await app.query('SELECT 1 FROM transaction_archive WHERE transaction_id = $1', [id])).rowCount).toBe(1);
      // As the application's role: the days made and dropped by the owner's function, never by the role
      // itself; a day made after the migrations' grants is written and read through the parent all the same.
      const owner = new PgSqlClient({ connectionString: url('lg_arc_owner'), max: 1 });
      try {
        await owner.exec(
          `DO $$ BEGIN EXECUTE format('DROP TABLE %I', 'transaction_archive_' || to_char(current_date + 3, 'YYYYMMDD')); END $$`,
        );
      } finally {
        await owner.close();
      }
      expect((await app.query<{ d: number }>('SELECT transaction_archive_maintain(30) AS d')).rows[0]!.d).toBe(0);
      await app.query(
        `INSERT INTO transaction_archive (merchant_id, transaction_id, archived_on, counted_at_ms, card)
         VALUES ('m1', 'arc-later', current_date + 3, 1, 'card-later')`,
      );
      expect(
        (await app.query('SELECT 1 FROM transaction_archive WHERE transaction_id = $1', ['arc-later'])).rowCount,
      ).toBe(1);
      await expect(app.exec('CREATE TABLE lg_arc_probe (x int)')).rejects.toThrow(/permission denied/);
      // Another role of the database (a reporting role, say) may not run it: it would drop the archive's days.
      const reader = new PgSqlClient({ connectionString: url('lg_arc_reader'), max: 1 });
      try {
        await expect(reader.query('SELECT transaction_archive_maintain(1)')).rejects.toThrow(/permission denied/);
      } finally {
        await reader.close();
      }
      expect(lines.filter((l) => l.includes('transaction archive'))).toEqual([]);
    } finally {
      await app.close();
      await dispose();
    }
  }, 60_000);

  it('without the archive, the same outcome is unknown', async () => {
    await withEngine('off', async (runtime) => {
      const id = txId('arc-off');
      await scoredAndExpired(runtime, id, T0);
      expect(runtime.archiveWriter).toBeUndefined();
      expect(await runtime.engine.recordOutcome('m1', id, 'chargeback', T0 + 40 * DAY)).toBe('unknown');
    });
  });
});

describe('how long a marker lives', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
  });

  /** The marker's time to live, in days, of a transaction scored by a runtime of `role` on `settings`. */
  async function markerDays(role: 'engine' | 'processor', settings: Record<string, string> = {}) {
    const { runtime, dispose } = await openRuntime({ REDIS_URL: redis.url, LEAKGUARD_MODEL: 'off', ...settings }, role);
    try {
      const id = txId(`ttl-${role}`);
      await runtime.engine.score('m1', request(id, Date.now()));
      return (await runtime.redis!.pttl(runtime.store.keys.marker('m1', id))) / DAY;
    } finally {
      await dispose();
    }
  }

  it('3 days where the process archives, 35 where it does not, as configured when set', async () => {
    expect(await markerDays('engine')).toBeCloseTo(3, 2); // an engine archives (its database: PGlite here)
    expect(await markerDays('processor')).toBeCloseTo(35, 2); // no DATABASE_URL: nothing archived
    expect(await markerDays('engine', { LEAKGUARD_ARCHIVE: 'off' })).toBeCloseTo(35, 2);
    expect(await markerDays('processor', { LEAKGUARD_MARKER_RETENTION_DAYS: '7' })).toBeCloseTo(7, 2);
  });
});
