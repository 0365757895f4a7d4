// Console sessions and login defences: opaque random tokens in HttpOnly, SameSite=Strict
// cookies (Secure outside development; __Host- prefix then), only their SHA-256 stored, an idle
// timeout and an absolute lifetime enforced by the store, a CSRF token per session, and a per-address login rate limit
// (in process, or in Redis when there is one: one limit across every engine).
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RedisClient } from '../adapters/redis/connection.ts';
import { countHit } from '../adapters/redis/rate-limit-store.ts';

export const newToken = () => randomBytes(32).toString('base64url');
export const tokenHash = (token: string) => hash('sha256', token, 'base64url');

export function cookieNames(secure: boolean) {
  return {
    session: secure ? '__Host-lg_console' : 'lg_console',
    prelogin: secure ? '__Host-lg_prelogin' : 'lg_prelogin',
  };
}

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export function setCookie(
  reply: FastifyReply,
  name: string,
  value: string,
  secure: boolean,
  maxAgeSeconds?: number,
): void {
  const attributes = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (secure) attributes.push('Secure');
  if (maxAgeSeconds !== undefined) attributes.push(`Max-Age=${maxAgeSeconds}`);
  const previous = reply.getHeader('set-cookie');
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous.map(String) : [String(previous)];
  reply.header('set-cookie', [...list, attributes.join('; ')]);
}

export const clearCookie = (reply: FastifyReply, name: string, secure: boolean) =>
  setCookie(reply, name, '', secure, 0);

/**
 * The sign-in form's double-submit token: the one the browser holds (renewed for its hour), else a
 * new one. A second tab opening the page must not void the first tab's form.
 */
export function loginFormToken(
  request: FastifyRequest,
  reply: FastifyReply,
  names: ReturnType<typeof cookieNames>,
  secure: boolean,
): string {
  const held = readCookie(request, names.prelogin);
  const csrf = held && /^[A-Za-z0-9_-]{43}$/.test(held) ? held : newToken();
  setCookie(reply, names.prelogin, csrf, secure, 3600);
  return csrf;
}

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Refused attempts since the last hand-over: written to the audit log as one summary. */
export interface RefusalSummary {
  refused: number;
  addresses: number;
  /** The addresses refused most (at most 10). */
  top: { ip: string; refused: number }[];
}

const MAX_TRACKED = 10_000;

/** Login attempts per client address and window; the console asks before each sign-in. */
export interface LoginLimiter {
  /** Counts an attempt; false when over the limit (the refusal is tallied, see takeRefusals). */
  allow(key: string, now?: number): boolean | Promise<boolean>;
  /** The refusals this process tallied since the last call, or undefined when there were none. */
  takeRefusals(): RefusalSummary | undefined;
}

/** Refusals per address, bounded: beyond MAX_TRACKED addresses, refusals are only counted. */
class RefusalTally {
  private refusedBy = new Map<string, number>();
  private refused = 0;

  add(key: string): void {
    this.refused++;
    if (this.refusedBy.has(key) || this.refusedBy.size < MAX_TRACKED)
      this.refusedBy.set(key, (this.refusedBy.get(key) ?? 0) + 1);
  }

  take(): RefusalSummary | undefined {
    if (this.refused === 0) return undefined;
    const top = [...this.refusedBy]
      .map(([ip, refused]) => ({ ip, refused }))
      .sort((a, b) => b.refused - a.refused || (a.ip < b.ip ? -1 : 1))
      .slice(0, 10);
    const summary = { refused: this.refused, addresses: this.refusedBy.size, top };
    this.refused = 0;
    this.refusedBy = new Map();
    return summary;
  }
}

/** Expired windows removed per attempt: more than the one an attempt can add, so they never pile up. */
const SWEEP_PER_ATTEMPT = 8;

/**
 * Fixed-window counter per key (client address) in this process: login attempts per minute;
 * refusals tallied. At most MAX_TRACKED addresses, with constant work per attempt: windows are
 * kept in the order they started (a window that restarts moves to the end), so the expired ones
 * are at the front and a few are removed at each attempt, never by a scan. When every tracked
 * address is within its window (a flood from more than MAX_TRACKED addresses in one window), the
 * addresses not tracked share one window of `limit` attempts: refused rather than tracked, until
 * windows expire; the addresses already tracked keep theirs.
 */
export class LoginRateLimiter implements LoginLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private overflow = { start: -Infinity, count: 0 };
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly tally = new RefusalTally();
  constructor(limit: number, windowMs = 60_000) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  allow(key: string, now = Date.now()): boolean {
    this.sweep(now);
    let w = this.windows.get(key);
    if (w && now - w.start >= this.windowMs) {
      this.windows.delete(key); // restarted below, at the end of the order
      w = undefined;
    }
    if (!w) {
      if (this.windows.size < MAX_TRACKED) {
        this.windows.set(key, { start: now, count: 1 });
        return true;
      }
      if (now - this.overflow.start >= this.windowMs) this.overflow = { start: now, count: 0 };
      w = this.overflow;
    }
    w.count++;
    if (w.count <= this.limit) return true;
    this.tally.add(key);
    return false;
  }

  private sweep(now: number): void {
    let removed = 0;
    for (const [k, v] of this.windows) {
      if (removed === SWEEP_PER_ATTEMPT || now - v.start < this.windowMs) return;
      this.windows.delete(k);
      removed++;
    }
  }

  takeRefusals(): RefusalSummary | undefined {
    return this.tally.take();
  }
}

/** The Redis key of one address's login attempts: its own hash tag (slot). */
export const loginAttemptsKey = (key: string) => `lg:{login:${key}}`;

/**
 * The same fixed window per address, counted in Redis: one limit across every engine (the window
 * starts at the address's first attempt, on Redis's clock; `now` is not used). Each process
 * tallies the refusals it answered. While Redis fails or is slower than `timeoutMs`, attempts are
 * counted by an in-process limiter instead: never unlimited, never locked out by an outage.
 */
export class RedisLoginRateLimiter implements LoginLimiter {
  private readonly redis: RedisClient;
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly timeoutMs: number;
  private readonly tally = new RefusalTally();
  private readonly fallback: LoginRateLimiter;

  /** Told of each sign-in the shared counter could not count (then counted by this engine alone). */
  private readonly onUnchecked: (error: unknown) => void;

  constructor(
    redis: RedisClient,
    limit: number,
    options: { windowMs?: number; timeoutMs?: number; onUnchecked?: (error: unknown) => void } = {},
  ) {
    this.redis = redis;
    this.limit = limit;
    this.windowMs = options.windowMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 500;
    this.fallback = new LoginRateLimiter(limit, this.windowMs);
    this.onUnchecked = options.onUnchecked ?? (() => {});
  }

  async allow(key: string, now = Date.now()): Promise<boolean> {
    let current: number;
    try {
      ({ current } = await countHit(this.redis, loginAttemptsKey(key), this.windowMs, this.timeoutMs));
    } catch (error) {
      this.onUnchecked(error);
      if (this.fallback.allow(key, now)) return true;
      this.fallback.takeRefusals(); // tallied below, once
      this.tally.add(key);
      return false;
    }
    if (current <= this.limit) return true;
    this.tally.add(key);
    return false;
  }

  takeRefusals(): RefusalSummary | undefined {
    return this.tally.take();
  }
}
