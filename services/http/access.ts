// Who may reach what, beside API keys: the Prometheus scrape token and the proxies whose
// X-Forwarded-For is believed. Read from the environment where the app is built (services/main.ts,
// test/support/app.ts), validated like the rest of the configuration: a bad value stops the start
// with the variable's name and what is wrong.
// (These two variables belong in services/config.ts's schema; until they move there, this module
// validates them with the same error shape.)
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { issueLines } from '../core/errors.ts';

export interface AccessConfig {
  /** Bearer token for GET /metrics; unset: refused in production, loopback clients only elsewhere. */
  metricsToken?: string;
  /** Fastify's trustProxy: false (default), a hop count, or the proxies' addresses (proxy-addr syntax). */
  trustProxy: false | number | string;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
function proxyEntryProblem(entry: string): string | null {
  if (PROXY_NAMES.has(entry)) return null;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length > 0)
    return `"${entry}" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal`;
  if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)))
    return `"${entry}" has a bad prefix length`;
  return null;
}

export const accessConfigSchema = z.object({
  LEAKGUARD_METRICS_TOKEN: z
    .string()
    .regex(
      /^[A-Za-z0-9._~+/=-]{32,512}$/,
      'must be 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = - (e.g. openssl rand -hex 32)',
    )
    .optional(),
  LEAKGUARD_TRUST_PROXY: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx): AccessConfig['trustProxy'] => {
      if (v === undefined || v === '' || v === 'off' || v === 'false') return false;
      if (/^\d+$/.test(v)) {
        const hops = Number(v);
        if (hops >= 1 && hops <= 10) return hops;
        ctx.addIssue({ code: 'custom', message: 'a hop count must be 1 to 10' });
        return z.NEVER;
      }
      if (v === 'true' || v === 'all' || v === '*') {
        ctx.addIssue({
          code: 'custom',
          message:
            'trusting every hop lets any client choose its address: name the proxies (addresses or CIDR ranges, comma-separated) or give a hop count',
        });
        return z.NEVER;
      }
      const entries = v
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      const problem = entries.map(proxyEntryProblem).find((p) => p !== null);
      if (problem || entries.length === 0) {
        ctx.addIssue({ code: 'custom', message: problem ?? 'is empty' });
        return z.NEVER;
      }
      return entries.join(',');
    }),
});

export function loadAccessConfig(
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
): AccessConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k in accessConfigSchema.shape && v !== undefined && v !== ''),
  );
  const result = accessConfigSchema.safeParse(present);
  if (!result.success) {
    const lines = issueLines(result.error, { root: '' }).map((line) => `  ${line}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const { LEAKGUARD_METRICS_TOKEN: metricsToken, LEAKGUARD_TRUST_PROXY: trustProxy } = result.data;
  return { trustProxy, ...(metricsToken ? { metricsToken } : {}) };
}

/** Constant-time comparison of a presented secret with the expected one (lengths may differ). */
export function sameSecret(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected)) && presented.length === expected.length;
}

export function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return ip === '::1' || (isIP(v4) === 4 && v4.startsWith('127.'));
}

/**
 * Who may read /metrics (the engine's and the stream processor's): with a token
 * (LEAKGUARD_METRICS_TOKEN), whoever presents it as a bearer token; without, loopback clients
 * outside production, nobody in it.
 */
export interface MetricsAccess {
  token?: string | undefined;
  production: boolean;
}

/** Why a scrape is refused: the error code, its status, the message and headers of the answer. */
export interface MetricsRefusal {
  code: 'UNAUTHENTICATED' | 'FORBIDDEN';
  status: 401 | 403;
  message: string;
  headers: Record<string, string>;
}

const BEARER = /^Bearer ([^\s]+)$/i;

/** The one rule for /metrics (MetricsAccess): undefined when the scrape may go ahead. */
export function metricsRefusal(
  access: MetricsAccess,
  request: { authorization?: string | undefined; ip: string },
): MetricsRefusal | undefined {
  if (access.token) {
    const presented = BEARER.exec(request.authorization ?? '')?.[1];
    if (presented && sameSecret(presented, access.token)) return undefined;
    return {
      code: 'UNAUTHENTICATED',
      status: 401,
      message: 'missing or invalid scrape token: send Authorization: Bearer <LEAKGUARD_METRICS_TOKEN>',
      headers: { 'www-authenticate': 'Bearer realm="metrics"' },
    };
  }
  if (access.production)
    return {
      code: 'FORBIDDEN',
      status: 403,
      message:
        'metrics are refused in production without a scrape token: set LEAKGUARD_METRICS_TOKEN and scrape with it as a bearer token',
      headers: {},
    };
  if (!isLoopback(request.ip))
    return {
      code: 'FORBIDDEN',
      status: 403,
      message: 'without LEAKGUARD_METRICS_TOKEN, metrics are served to loopback clients only',
      headers: {},
    };
  return undefined;
}
