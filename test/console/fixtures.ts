// Flagged decisions for store tests, and the two SQL drivers opened against fresh databases.
import { PgliteSqlClient } from '../../services/adapters/postgres/pglite-client.ts';
import { PgSqlClient } from '../../services/adapters/postgres/pg-client.ts';
import { migrate } from '../../services/adapters/postgres/migrate.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import type { FlaggedDecision } from '../../services/cases/model.ts';
import { PersonalDataCipher } from '../../services/cases/personal-data.ts';
import type { Decision } from '../../services/core/schemas.ts';
import { PostgresServer } from '../support/postgres-server.ts';

/** Seals personal data in store tests (the engine's comes from LEAKGUARD_DATA_KEY). */
export const TEST_DATA_CIPHER = new PersonalDataCipher({ primary: { id: 'test-data', secret: Buffer.alloc(32, 7) } });

let n = 0;
export function flagged(
  over: {
    merchantId?: string;
    transactionId?: string;
    score?: number;
    decision?: Decision;
    codes?: string[];
    events?: string[];
    fingerprint?: string;
    device?: string;
    ip?: string;
    email?: string;
    shipping?: string;
    name?: string;
    flaggedAt?: string;
  } = {},
): FlaggedDecision {
  const id = over.transactionId ?? `tx-${process.pid}-${++n}`;
  const codes = over.codes ?? ['CARD_HIGH_VELOCITY_1H'];
  const at = over.flaggedAt ?? new Date().toISOString();
  return {
    merchantId: over.merchantId ?? 'm1',
    transactionId: id,
    flaggedAt: at,
    occurredAt: at,
    // Personal data in clear, as an older version queued them: the case store seals them on write.
    request: {
      transactionId: id,
      amount: 4999,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { bin: '411111', last4: '1111', masked: '411111******1111', cvvResult: 'match' },
      customer: { email: 'jane@example.com' },
      shippingAddress: { name: over.name ?? 'Jane Doe', line1: '1 Main St', city: 'Tokyo', country: 'JP' },
    } as FlaggedDecision['request'],
    response: {
      transactionId: id,
      score: over.score ?? 70,
      decision: over.decision ?? 'review',
      reasons: codes.map((code) => ({ code, message: `because ${code}` })),
      checks: { velocity: 'evaluated', rules: 'evaluated', watchlist: 'evaluated', model: 'not_configured' },
      degraded: false,
      versions: { engine: '0.1.0', ruleset: 'test' },
    },
    card: { bin: '411111', last4: '1111', keyId: 'k1', fingerprint: over.fingerprint ?? `fp-${id}` },
    features: { card_count_1h: 5, card_listed: false },
    links: {
      ...(over.device ? { device: over.device } : {}),
      ...(over.ip ? { ip: over.ip } : {}),
      ...(over.email ? { email: over.email } : {}),
      ...(over.shipping ? { shipping: over.shipping } : {}),
    },
    watchlistEvents: over.events ?? [],
  };
}

export interface Driver {
  name: 'pglite' | 'postgres';
  open(): Promise<SqlClient>;
  stop(): Promise<void>;
  server?: PostgresServer;
}

let dbSeq = 0;
export async function pgliteDriver(): Promise<Driver> {
  return {
    name: 'pglite',
    open: async () => {
      const sql = await PgliteSqlClient.open();
      await migrate(sql);
      return sql;
    },
    stop: async () => {},
  };
}

export async function postgresDriver(): Promise<Driver> {
  const server = await PostgresServer.start();
  return {
    name: 'postgres',
    server,
    open: async () => {
      const sql = new PgSqlClient({ connectionString: await server.createDatabase(`lg_${process.pid}_${++dbSeq}`) });
      await migrate(sql);
      return sql;
    },
    stop: () => server.stop(),
  };
}

/** SQL injection attempts, tried in every filter and search parameter. */
export const INJECTION_PAYLOADS = [
  "' OR '1'='1",
  "'; DROP TABLE cases; --",
  '1; DELETE FROM cases',
  '" OR ""="',
  "') OR ('a'='a",
  '\\',
  "%' OR 1=1 --",
  "1' UNION SELECT username, password_hash FROM console_users --",
  '$1',
  "' || pg_sleep(5) || '",
  '\u0000',
  'risk; DROP TABLE audit_log',
];
