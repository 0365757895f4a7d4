// A small browser stand-in over app.inject: a cookie jar, form posts with the page's CSRF token.
import type { FastifyInstance } from 'fastify';
import { createAccount } from '../../services/console/accounts.ts';
import { totp } from '../../services/console/credentials.ts';
import type { ConsoleRole } from '../../services/cases/users.ts';
import { expect } from 'vitest';
import { bearer, type TestApp } from '../support/app.ts';

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
  location?: string;
}

let userSeq = 0;
export async function newUser(t: TestApp, role: ConsoleRole, prefix: string = role) {
  const cases = t.runtime.cases!;
  return createAccount(cases.users, cases.audit, `${prefix}-${process.pid}-${++userSeq}`, role, 'test', {
    logN: 14,
    r: 8,
    p: 1,
  });
}

export class ConsoleClient {
  readonly jar = new Map<string, string>();
  csrf = '';
  private readonly app: FastifyInstance;
  private readonly remoteAddress: string;
  constructor(app: FastifyInstance, remoteAddress = '127.0.0.1') {
    this.app = app;
    this.remoteAddress = remoteAddress;
  }

  private cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private take(res: { statusCode: number; body: string; headers: Reply['headers'] }): Reply {
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [String(set)] : []) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /Max-Age=0/.test(c)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const token = /name="_csrf" value="([A-Za-z0-9_-]+)"/.exec(res.body)?.[1];
    if (token) this.csrf = token;
    const location = res.headers.location as string | undefined;
    return { status: res.statusCode, body: res.body, headers: res.headers, ...(location ? { location } : {}) };
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.take(
      await this.app.inject({
        method: 'GET',
        url,
        remoteAddress: this.remoteAddress,
        headers: { cookie: this.cookieHeader(), ...headers },
      }),
    );
  }

  async post(
    url: string,
    fields: Record<string, string | number> = {},
    options: { csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const form = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)]));
    if (options.csrf !== false && !form.has('_csrf')) form.set('_csrf', this.csrf);
    return this.take(
      await this.app.inject({
        method: 'POST',
        url,
        remoteAddress: this.remoteAddress,
        payload: form.toString(),
        headers: {
          cookie: this.cookieHeader(),
          'content-type': 'application/x-www-form-urlencoded',
          ...(options.headers ?? {}),
        },
      }),
    );
  }

  /** Posts a form as a browser does: a 303 answer is followed to the page it lands on (Post/Redirect/Get). */
  async submit(
    url: string,
    fields: Record<string, string | number> = {},
    options: { csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const posted = await this.post(url, fields, options);
    return posted.status === 303 && posted.location ? this.get(posted.location) : posted;
  }

  async login(username: string, password: string, secret: string, code = totp(secret)): Promise<Reply> {
    await this.get('/console/login');
    const res = await this.post('/console/login', { username, password, code });
    if (res.status === 303) await this.get('/console/queue');
    return res;
  }
}

export async function loggedIn(t: TestApp, role: ConsoleRole, remoteAddress?: string) {
  const user = await newUser(t, role);
  const client = new ConsoleClient(t.app, remoteAddress);
  const res = await client.login(user.username, user.password, user.totpSecret);
  if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.body.slice(0, 500)}`);
  return { client, user };
}

/** Waits, if need be, until the current TOTP step has at least 10 s left: codes of the steps around it stay valid while a test runs. */
export async function freshTotpStep(): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 10_000) await new Promise((r) => setTimeout(r, left + 50));
}

/** Enrols through the console's two forms, as a browser would: the enrolment code, then an own authenticator and password. */
export async function enrol(
  client: ConsoleClient,
  username: string,
  enrolmentCode: string,
  password: string,
  options: { password2?: string; code?: (secret: string) => string } = {},
) {
  await client.get(`/console/enrol?username=${encodeURIComponent(username)}`);
  const start = await client.post('/console/enrol', { username, enrolmentCode });
  const secret = /id="totp-secret">([A-Z2-7]{32})</.exec(start.body)?.[1];
  if (start.status !== 200 || !secret) return { start, secret: undefined, finish: undefined };
  const finish = await client.post('/console/enrol', {
    username,
    enrolmentCode,
    totpSecret: secret,
    code: options.code ? options.code(secret) : totp(secret),
    password,
    password2: options.password2 ?? password,
  });
  return { start, secret, finish };
}

let flagged = 0;
/** Scores an order of merchant m1 the default rules flag (a security-code mismatch) and waits for its case; `over` replaces or adds request fields. */
export async function flagCase(t: TestApp, over: Record<string, unknown> = {}) {
  const transactionId = `case-${process.pid}-${++flagged}`;
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
    payload: {
      transactionId,
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '5555555555554444', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
      ...over,
    },
  });
  expect(res.statusCode).toBe(200);
  expect(res.json().decision).not.toBe('approve');
  await t.runtime.flaggedSink.drain();
  const cases = t.runtime.cases!;
  await cases.ingester.idle();
  const c = await cases.store.getByTransaction('m1', transactionId);
  expect(c).toBeDefined();
  return c!;
}
