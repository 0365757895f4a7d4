// An engine (real runtime, real app) on a given Redis or Redis Cluster, with the shared rate limit
// wired as services/main.ts wires it: several of them against one Redis behave as one deployment.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../services/config.ts';
import { buildApp } from '../../services/http/app.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime, type Runtime } from '../../services/runtime.ts';
import { consoleOptions } from '../../services/console/options.ts';
import type { RedisClient } from '../../services/adapters/redis/connection.ts';
import { TEST_CARD_KEY, TEST_DATA_KEY } from './app.ts';

export interface RedisApp {
  app: FastifyInstance;
  runtime: Runtime;
  close(): Promise<void>;
}

/**
 * `env` names the Redis the runtime's stores use (REDIS_URL or REDIS_CLUSTER_NODES); `redis` is the
 * client the app counts its rate limit (and, with `console`, its login attempts) on: what
 * runtime.redis will be. Closed with the app.
 */
export async function buildRedisApp(env: Record<string, string>, redis: RedisClient, options: { rateLimitTimeoutMs?: number; console?: boolean } = {}): Promise<RedisApp> {
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-state-'));
  const config = loadConfig({
    LEAKGUARD_STATE_DIR: stateDir, LEAKGUARD_CARD_KEY: TEST_CARD_KEY, LEAKGUARD_DATA_KEY: TEST_DATA_KEY, LOG_LEVEL: 'silent', NODE_ENV: 'test',
    LEAKGUARD_DEADLINE_MS: '2000', LEAKGUARD_MODEL: 'off', ...env,
  });
  const logger = createLogger(config.LOG_LEVEL);
  const runtime = createRuntime(config, logger);
  if (!(await runtime.waitForStores())) throw new Error('test stores did not connect');
  if (options.console) await runtime.openCases();
  const consoleRuntime = { get cases() { return runtime.cases; }, watchlist: runtime.watchlist, frictionShares: (n?: number) => runtime.frictionShares(n), redis };
  const app = await buildApp({
    engine: runtime.engine, authenticator: runtime.authenticator, metrics: runtime.metrics, logger,
    readiness: () => runtime.readiness(), rulesets: runtime.rulesets, rates: runtime.rates, models: runtime.models,
    bodyLimitBytes: config.LEAKGUARD_BODY_LIMIT_BYTES, rateLimitPerMinute: config.LEAKGUARD_RATE_LIMIT_PER_MINUTE,
    redis, ...(options.rateLimitTimeoutMs !== undefined ? { rateLimitTimeoutMs: options.rateLimitTimeoutMs } : {}),
    watchlist: { store: runtime.watchlist, registry: runtime.watchlistRegistry, keyring: runtime.keyring, uploadLimitBytes: config.LEAKGUARD_UPLOAD_LIMIT_BYTES },
    ...(options.console ? { console: consoleOptions(config, consoleRuntime) } : {}),
    metricsAccess: { token: undefined, production: false },
  });
  return {
    app, runtime,
    async close() {
      await app.close();
      await runtime.close();
      redis.disconnect();
    },
  };
}
