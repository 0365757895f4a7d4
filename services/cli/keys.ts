// `npm run keys -- create|list|revoke`: API key administration on the configured store
// (Redis when REDIS_URL or REDIS_CLUSTER_NODES is set, the embedded key file otherwise).
import { parseArgs } from 'node:util';
import { cliActor, failWith, type Fail, parseCommand } from './command.ts';
import { connectRedis, redisTargetOf, whenReady } from '../adapters/redis/connection.ts';
import { migrateKeyLayout } from '../adapters/redis/key-migration.ts';
import { createApiKey, KeyRequestError, ROLES, type Role } from '../auth/api-keys.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { checkpointAuditLog, migrateDatabase, openApiKeyStore, openSqlClient } from '../runtime.ts';
import { PgliteBusy } from '../adapters/postgres/pglite-client.ts';
import { PostgresAuditLog } from '../adapters/postgres/audit-log.ts';
import { auditKeyChanges, KEY_AUDIT_INTERVAL_MS } from '../cases/key-audit.ts';
import type { Config } from '../config.ts';

const USAGE = `usage:
  npm run keys -- create --role merchant --merchant <merchantId> [--label <text>]
  npm run keys -- create --role issuer --issuer <issuerId> [--label <text>]
  npm run keys -- create --role admin [--label <text>]
  npm run keys -- list [--json]
  npm run keys -- revoke <keyId>`;

const fail: Fail = failWith('keys');

const actor = cliActor();

/** A label stored before control characters were refused, listed on its one line: escaped (\u000a). */
const oneLine = (label: string) =>
  label.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * Writes the change to the audit log now when the database can be opened here. When the engine
 * holds the embedded database, the engine itself carries the change over (key-audit.ts).
 */
async function auditNow(config: Config, store: ReturnType<typeof openApiKeyStore>): Promise<string> {
  let sql;
  try {
    sql = await openSqlClient(config);
  } catch (error) {
    if (error instanceof PgliteBusy)
      return `the running engine writes it to the audit log within ${KEY_AUDIT_INTERVAL_MS / 1000} s`;
    throw error;
  }
  try {
    const audit = new PostgresAuditLog(sql);
    let headBefore: Awaited<ReturnType<PostgresAuditLog['head']>>;
    try {
      await migrateDatabase(config, sql);
      headBefore = await audit.head();
      await auditKeyChanges(store, audit);
    } catch (error) {
      return `not yet in the audit log (${(error as Error).message}): the engine writes it when it reaches the database`;
    }
    // The head it leaves, signed: the entry cannot then be cut away unnoticed.
    await checkpointAuditLog(config, audit, 'cli:keys', headBefore);
    return 'written to the audit log';
  } finally {
    await sql.close().catch(() => {});
  }
}

async function main(): Promise<void> {
  const { values, positionals, command } = parseCommand(
    () =>
      parseArgs({
        allowPositionals: true,
        options: {
          role: { type: 'string' },
          merchant: { type: 'string' },
          issuer: { type: 'string' },
          label: { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h' },
        },
      }),
    USAGE,
    fail,
  );
  const rest = positionals.slice(1);

  const config = loadConfig();
  const target = redisTargetOf(config);
  const redis = target ? await whenReady(connectRedis(target)) : undefined;
  if (redis) await migrateKeyLayout(redis);
  const store = openApiKeyStore(config, redis);
  try {
    switch (command) {
      case 'create': {
        if (!values.role || !ROLES.includes(values.role as Role))
          fail(`--role must be one of ${ROLES.join(', ')}\n${USAGE}`);
        const { key, record } = await createApiKey(store, {
          role: values.role as Role,
          merchantId: values.merchant,
          issuerId: values.issuer,
          label: values.label,
          actor,
        });
        const audited = await auditNow(config, store);
        if (values.json)
          process.stdout.write(
            `${JSON.stringify({ key, id: record.id, role: record.role, merchantId: record.merchantId, issuerId: record.issuerId })}\n`,
          );
        else {
          const tenant = record.merchantId
            ? ` for merchant ${record.merchantId}`
            : record.issuerId
              ? ` for issuer ${record.issuerId}`
              : '';
          process.stdout.write(
            `Created ${record.role} key ${record.id}${tenant} (${audited}).\nShown once, store it now:\n\n  ${key}\n\n`,
          );
        }
        break;
      }
      case 'list': {
        const records = await store.list();
        if (values.json) {
          process.stdout.write(`${JSON.stringify(records.map(({ hash: _hash, ...r }) => r))}\n`);
          break;
        }
        if (records.length === 0) process.stdout.write('No API keys.\n');
        for (const r of records) {
          const tenant = r.merchantId ?? r.issuerId ?? '-';
          process.stdout.write(
            `${r.id}  ${r.role.padEnd(8)}  ${tenant.padEnd(20)}  created ${r.createdAt}  ${r.revokedAt ? `REVOKED ${r.revokedAt}` : 'active'}${r.label ? `  (${oneLine(r.label)})` : ''}\n`,
          );
        }
        break;
      }
      case 'revoke': {
        const id = rest[0];
        if (!id) fail(`revoke needs a key id (see npm run keys -- list)\n${USAGE}`);
        if (!(await store.revoke(id, new Date().toISOString(), actor))) fail(`no key with id ${id}`, 1);
        process.stdout.write(
          `Revoked ${id} (${await auditNow(config, store)}). Running engines stop accepting it within LEAKGUARD_API_KEY_CACHE_MS (default 30 s),\n` +
            `and stop the webhook subscriptions it made (shown disabled: "creating key revoked") within that time and a webhook poll.\n` +
            `List the tenant's subscriptions with another of its keys (GET /v1/webhooks): delete those it does not recognise.\n`,
        );
        break;
      }
      default:
        fail(`unknown command ${command}\n${USAGE}`);
    }
  } finally {
    redis?.disconnect();
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof KeyRequestError) fail(error.message);
  fail(`failed: ${(error as Error).message}`, 1);
});
