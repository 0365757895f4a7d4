// `npm start`: the engine with its HTTP door. Embedded defaults need no external service.
import { ConfigError, loadConfig } from './config.ts';
import { ensureDemoCredentials } from './demo-credentials.ts';
import { buildApp } from './http/app.ts';
import { createLogger } from './logger.ts';
import { createRuntime } from './runtime.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const runtime = createRuntime(config, logger);
  if (!(await runtime.waitForStores(10_000))) logger.warn('Redis not reachable yet: answering degraded until it is');

  if (runtime.embedded) {
    const demo = await ensureDemoCredentials(config.LEAKGUARD_STATE_DIR, runtime.apiKeys, runtime.watchlist);
    const c = demo.credentials;
    process.stdout.write(
      `\nLeakguard embedded mode (in-memory velocity store, state in ${config.LEAKGUARD_STATE_DIR}).\n` +
        `Demo credentials ${demo.created ? 'created' : 'loaded'}: ${demo.path} (mode 0600)\n` +
        `  merchant (demo-merchant): ${c.merchantKey}\n  issuer   (demo-issuer):   ${c.issuerKey}  (BIN ranges ${JSON.stringify(c.issuerBinRanges ?? [])})\n  admin:                    ${c.adminKey}\n\n`,
    );
  }

  const app = await buildApp({
    engine: runtime.engine,
    authenticator: runtime.authenticator,
    metrics: runtime.metrics,
    logger,
    readiness: () => runtime.readiness(),
    rulesets: runtime.rulesets,
    bodyLimitBytes: config.LEAKGUARD_BODY_LIMIT_BYTES,
    rateLimitPerMinute: config.LEAKGUARD_RATE_LIMIT_PER_MINUTE,
    watchlist: { store: runtime.watchlist, registry: runtime.watchlistRegistry, keyring: runtime.keyring, uploadLimitBytes: config.LEAKGUARD_UPLOAD_LIMIT_BYTES },
  });

  process.on('SIGHUP', () => runtime.rulesets.reload());
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    await app.close();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ host: config.HOST, port: config.PORT });
  logger.info({ address, embedded: runtime.embedded }, 'leakguard listening');
  process.stdout.write(`Listening on ${address}  (API docs: ${address}/docs)\n`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`leakguard: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`leakguard: failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
