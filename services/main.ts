// `npm start`: the engine with its HTTP door. Embedded defaults need no external service.
import { rejectArguments } from './cli/command.ts';
import { ConfigError, loadConfig } from './config.ts';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { acquirePidLock } from './adapters/files/pid-lock.ts';
import { redisTargetOf } from './adapters/redis/connection.ts';
import { LeakguardError } from './core/errors.ts';
import {
  DEMO_BIN_RANGES,
  DEMO_ISSUER,
  demoBanner,
  demoCredentialsPath,
  demoCredentialsWanted,
  ensureDemoCredentials,
} from './demo-credentials.ts';
import { buildApp } from './http/app.ts';
import { loadAccessConfig } from './http/access.ts';
import { createLogger } from './logger.ts';
import { createRuntime } from './runtime.ts';
import { unknownSettingWarnings } from './settings-names.ts';
import { createAccount } from './console/accounts.ts';
import { consoleOptions } from './console/options.ts';
import { UserExists } from './cases/users.ts';
import { generatePassword, generateTotpSecret, hashPassword } from './console/credentials.ts';
import type { CaseSystem } from './case-system.ts';
import type { DemoAnalyst } from './demo-credentials.ts';
import { isDatabaseSetupError } from './adapters/postgres/migrate.ts';

const DEMO_ANALYST = 'demo-analyst';

/** Another engine holds the embedded state directory: this one does not start (exit 2). */
class StateDirBusy extends LeakguardError {
  constructor(message: string) {
    super('DATABASE_BUSY', message);
  }
}

/** The HTTP port is taken: this engine does not start (exit 2), before it creates or prints anything. */
class PortBusy extends Error {}

/**
 * Whether HOST:PORT can be bound, asked before the runtime opens its stores and before demo keys are
 * made and printed (Fastify's listen comes last, after the app is built). Another process may still
 * take the port in between: listen then fails as before, and the banner is printed only after it.
 */
async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new PortBusy(
              `port ${port} on ${host} is in use (another engine?): stop that process, or give this one another PORT`,
            )
          : error,
      ),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** The demo analyst: created, or given new credentials when the database already holds it. */
async function demoAnalyst(cases: CaseSystem, logN: number): Promise<DemoAnalyst> {
  const scrypt = { logN, r: 8, p: 1 };
  try {
    const a = await createAccount(cases.users, cases.audit, DEMO_ANALYST, 'analyst', 'npm-start', scrypt);
    return { username: a.username, password: a.password, totpSecret: a.totpSecret };
  } catch (error) {
    if (!(error instanceof UserExists)) throw error;
    const password = generatePassword();
    const totpSecret = generateTotpSecret();
    await cases.users.update(DEMO_ANALYST, {
      passwordHash: await hashPassword(password, scrypt),
      totpSecret,
      unlock: true,
      disabled: false,
    });
    await cases.audit.append({ actor: 'npm-start', action: 'user_reset', target: `user:${DEMO_ANALYST}` });
    return { username: DEMO_ANALYST, password, totpSecret };
  }
}

/** The embedded state directory, for this engine alone (its lock file names the process holding it). */
function holdStateDir(stateDir: string): () => void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  return acquirePidLock(
    join(stateDir, 'engine.lock'),
    (holder) =>
      new StateDirBusy(
        holder
          ? `the state directory ${stateDir} is in use by another engine (process ${holder}): stop it first, or give this one its own LEAKGUARD_STATE_DIR (or Redis and PostgreSQL)`
          : `the state directory ${stateDir} is being taken by another engine: try again`,
      ),
  );
}

async function main(): Promise<void> {
  rejectArguments('leakguard', 'usage: npm start   (configured by environment variables: see the table in README.md)');
  const config = loadConfig();
  const access = loadAccessConfig();
  const logger = createLogger(config.LOG_LEVEL);
  // A misspelt setting is dropped by the schema: said here, one line each, or it passes unseen.
  for (const line of unknownSettingWarnings()) logger.warn(line);
  // Embedded stores journal into the state directory: two engines on one would interleave their
  // journals and keys. One at a time; a second is told which process holds it.
  const releaseStateDir = redisTargetOf(config) ? undefined : holdStateDir(config.LEAKGUARD_STATE_DIR);
  // A port in use stops the start here: before the stores open and demo keys are created and printed.
  await checkPortFree(config.HOST, config.PORT).catch((error: unknown) => {
    releaseStateDir?.();
    throw error;
  });
  const runtime = createRuntime(config, logger);
  // Before listening: in production a missing LEAKGUARD_AUDIT_KEY stops the start, as the card key does.
  runtime.auditCheckpoints();
  if (!(await runtime.waitForStores(10_000))) logger.warn('Redis not reachable yet: answering degraded until it is');

  const demoWanted = demoCredentialsWanted(config.NODE_ENV, runtime.embedded);
  // Printed once the engine listens: keys for an engine that did not start would only mislead.
  let banner: string | undefined;
  if (demoWanted) {
    const demo = await ensureDemoCredentials(config.LEAKGUARD_STATE_DIR, runtime.apiKeys, runtime.watchlist);
    // The demo issuer's ranges decide who is shown a hit from the first scoring on.
    if (demo.created) runtime.watchlistRegistry.rangesChanged(DEMO_ISSUER, DEMO_BIN_RANGES);
    banner = demoBanner(config.LEAKGUARD_STATE_DIR, demo);
  } else if (runtime.embedded && existsSync(demoCredentialsPath(config.LEAKGUARD_STATE_DIR))) {
    // Left by a development run: its keys may still be in the key store. Named, never printed.
    logger.warn(
      { path: demoCredentialsPath(config.LEAKGUARD_STATE_DIR) },
      'demo credentials are not used in production: revoke the keys labelled "demo" (npm run keys -- list) and delete this file',
    );
  }

  const app = await buildApp({
    engine: runtime.engine,
    authenticator: runtime.authenticator,
    metrics: runtime.metrics,
    logger,
    readiness: () => runtime.readiness(),
    rulesets: runtime.rulesets,
    rates: runtime.rates,
    models: runtime.models,
    bodyLimitBytes: config.LEAKGUARD_BODY_LIMIT_BYTES,
    rateLimitPerMinute: config.LEAKGUARD_RATE_LIMIT_PER_MINUTE,
    rateLimitWithoutKeyPerMinute: config.LEAKGUARD_RATE_LIMIT_WITHOUT_KEY_PER_MINUTE,
    // One rate limit across every engine when Redis is configured (and login throttling: consoleOptions).
    redis: runtime.redis,
    watchlist: {
      store: runtime.watchlist,
      registry: runtime.watchlistRegistry,
      keyring: runtime.keyring,
      uploadLimitBytes: config.LEAKGUARD_UPLOAD_LIMIT_BYTES,
      uploadThreads: config.LEAKGUARD_UPLOAD_THREADS,
      // Admins' status changes of Leakguard's own events are audited (once the case database is open).
      audit: () => runtime.cases?.audit,
    },
    console: consoleOptions(config, runtime, logger),
    ...(runtime.breach ? { cppScan: (at?: number) => runtime.breach!.scan(at) } : {}),
    webhooks: () => runtime.webhooks?.service,
    metricsAccess: { token: access.metricsToken, production: config.NODE_ENV === 'production' },
    trustProxy: access.trustProxy,
    production: config.NODE_ENV === 'production',
  });

  process.on('SIGHUP', () => {
    runtime.reloadFiles();
  });
  let stopping = false;
  const stop = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    await app.close();
    await runtime.close();
    releaseStateDir?.();
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ host: config.HOST, port: config.PORT });
  if (banner) process.stdout.write(banner);
  logger.info({ address, embedded: runtime.embedded }, 'leakguard listening');
  process.stdout.write(`Listening on ${address}  (API docs: ${address}/docs)\n`);
  // The engine cannot see whether a TLS proxy is in front; without a trusted one named, in production
  // it may well be serving plain HTTP, where browsers drop the console's Secure (__Host-) cookies.
  if (config.NODE_ENV === 'production' && access.trustProxy === false)
    logger.warn(
      'no LEAKGUARD_TRUST_PROXY in production: if browsers reach the console over plain HTTP, they drop its Secure cookies and nobody can sign in; serve it through a TLS-terminating proxy and name that proxy in LEAKGUARD_TRUST_PROXY',
    );
  // Breach discovery: a scan every LEAKGUARD_CPP_SCAN_MINUTES (stream processors record histories, never scan).
  runtime.breach?.startScans();

  // Cases and the console: the database opens after the API listens (a real PostgreSQL may not be
  // up yet; PGlite's first initdb runs in a child process). The console answers 503 until then.
  // A database not up yet is waited for there. A database behind this version's migrations (one
  // this role may not apply) stops the engine: serving on would archive nothing and answer the
  // console 503 for the life of the process while /readyz said ready, and a rolling deploy whose
  // migrate step was forgotten would pass; stopping keeps the previous version serving.
  let fatal = false;
  const cases = await runtime.openCases().catch((error: unknown) => {
    if (stopping) return undefined;
    if (isDatabaseSetupError(error)) {
      fatal = true;
      // The message says what to do; the stack only at debug.
      logger.debug({ err: error }, 'case database failure');
      logger.fatal(`case database could not be opened, stopping: ${(error as Error).message}`);
    } else logger.error({ err: error }, 'case database could not be opened: the console is unavailable');
    return undefined;
  });
  if (fatal) {
    await stop('case database', 1);
    return;
  }
  if (!cases || stopping) return;
  process.stdout.write(
    `Analyst console: ${address}/console (${config.DATABASE_URL ? 'PostgreSQL' : `PGlite in ${config.LEAKGUARD_STATE_DIR}/pglite`})\n`,
  );
  if (demoWanted) {
    const demo = await ensureDemoCredentials(config.LEAKGUARD_STATE_DIR, runtime.apiKeys, runtime.watchlist, () =>
      demoAnalyst(cases, config.LEAKGUARD_PASSWORD_SCRYPT_LOG_N),
    );
    const analyst = demo.credentials.analyst as DemoAnalyst | undefined;
    if (analyst)
      process.stdout.write(`  demo analyst: ${analyst.username}  (password and TOTP secret in ${demo.path})\n`);
  }
  if ((await cases.users.countAdmins()) === 0)
    process.stdout.write(
      config.DATABASE_URL
        ? '  no console admin yet: npm run users -- create-admin --username <name>\n'
        : // The embedded database takes one process at a time: the CLI cannot open it while this one runs.
          '  no console admin yet: stop the engine (Ctrl-C), run npm run users -- create-admin --username <name>, start it again\n',
    );
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StateDirBusy || error instanceof PortBusy) {
    process.stderr.write(`leakguard: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`leakguard: failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
