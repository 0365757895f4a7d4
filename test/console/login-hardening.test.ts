// Console login under attack: refused (rate-limited) attempts are counted, not audited one by
// one; a locked account and an unknown username get the same answer; failures lock an account for
// the address they come from only; behind a trusted proxy (LEAKGUARD_TRUST_PROXY) each client has
// its own address, and a forwarded header from anyone else is ignored; a malformed Origin is a 403.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressKey } from '../../services/auth/client-address.ts';
import { cookieNames, LoginRateLimiter } from '../../services/console/session.ts';
import { totp } from '../../services/console/credentials.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { ConsoleClient, freshTotpStep, loggedIn, newUser } from './client.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());
const cases = () => t.runtime.cases!;
const loginError = (body: string) => /id="login-error">([^<]*)</.exec(body)?.[1];

describe('rate-limited sign-in attempts', () => {
  it('are not written to the audit log one by one', async () => {
    const c = new ConsoleClient(t.app, '10.7.0.1');
    await c.get('/console/login');
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++)
      statuses.push((await c.post('/console/login', { username: `flood-${i}`, password: 'x', code: '000000' })).status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    const entries = await cases().audit.list({ limit: 1000 });
    expect(entries.filter((e) => e.detail.reason === 'rate_limited')).toEqual([]);
    expect(entries.filter((e) => e.detail.ip === '10.7.0.1')).toHaveLength(20);
  });

  it('are summed up in one audit entry per window at most', async () => {
    const other = await buildTestApp(
      { LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14', LEAKGUARD_LOGIN_RATE_PER_MINUTE: '2' },
      { cases: true },
    );
    try {
      for (const ip of ['10.7.1.1', '10.7.1.2', '10.7.1.3']) {
        const c = new ConsoleClient(other.app, ip);
        await c.get('/console/login');
        for (let i = 0; i < 12; i++)
          await c.post('/console/login', { username: 'someone', password: 'x', code: '000000' });
      }
      const audit = other.runtime.cases!.audit;
      expect(await audit.list({ limit: 10, action: 'login_rate_limited' })).toEqual([]);
      // The window's summary is written when the window ends, or when the console stops.
      await other.app.close();
      const summaries = await audit.list({ limit: 10, action: 'login_rate_limited' });
      expect(summaries).toHaveLength(1);
      expect(summaries[0]).toMatchObject({
        actor: 'anonymous',
        target: 'login',
        detail: { refused: 30, addresses: 3 },
      });
      expect((summaries[0]!.detail.top as { ip: string; refused: number }[]).map((x) => x.refused)).toEqual([
        10, 10, 10,
      ]);
      expect((await audit.verify()).ok).toBe(true);
    } finally {
      await other.runtime.close();
    }
  });

  it('the limiter counts refusals per address key and hands them over once', () => {
    const limiter = new LoginRateLimiter(2, 60_000);
    for (let i = 0; i < 5; i++) limiter.allow('a', 1_000);
    for (let i = 0; i < 3; i++) limiter.allow('b', 1_000);
    expect(limiter.takeRefusals()).toEqual({
      refused: 4,
      addresses: 2,
      top: [
        { ip: 'a', refused: 3 },
        { ip: 'b', refused: 1 },
      ],
    });
    expect(limiter.takeRefusals()).toBeUndefined();
    // IPv6 clients are counted by /64: one host owns the whole prefix.
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb::7'));
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
    expect(addressKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('198.51.100.7')).toBe('198.51.100.7');
  });
});

describe('the in-process login limiter under a flood of addresses', () => {
  it('tracks at most 10,000 addresses; beyond them new addresses share one window; expired windows go', () => {
    const limiter = new LoginRateLimiter(2, 60_000);
    const tracked = () => (limiter as unknown as { windows: Map<string, unknown> }).windows.size;
    // 25,000 addresses within one window (a botnet, or IPv6 /64s): the table stops at 10,000.
    const first: boolean[] = [];
    for (let i = 0; i < 25_000; i++) first.push(limiter.allow(`flood-${i}`, 1_000 + i));
    expect(tracked()).toBe(10_000);
    // The first 10,000 each had their own window; the others shared one of 2 attempts.
    expect(first.slice(0, 10_000).every(Boolean)).toBe(true);
    expect(first.slice(10_000).filter(Boolean)).toHaveLength(2);
    // An address tracked before the flood keeps its own limit.
    expect([limiter.allow('flood-5', 30_000), limiter.allow('flood-5', 30_000)]).toEqual([true, false]);
    expect(limiter.takeRefusals()).toMatchObject({ refused: 14_999 });
    // A window later the flood's windows expire as new attempts come, a few per attempt: the table
    // stays bounded and new addresses are tracked again.
    for (let i = 0; i < 25_000; i++) limiter.allow(`later-${i}`, 200_000 + i);
    expect(tracked()).toBeLessThanOrEqual(10_000);
    expect(limiter.allow('latecomer', 400_000)).toBe(true);
    expect(limiter.allow('latecomer', 400_000)).toBe(true);
    expect(limiter.allow('latecomer', 400_000)).toBe(false);
    expect(tracked()).toBeLessThanOrEqual(10_000);
  });
});

describe('lockout', () => {
  it('answers a locked account exactly as an unknown username', async () => {
    const user = await newUser(t, 'analyst');
    const c = new ConsoleClient(t.app, '10.7.2.1');
    await c.get('/console/login');
    const answers: { status: number; error: string | undefined }[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await c.post('/console/login', { username: user.username, password: `bad-${i}`, code: '000000' });
      answers.push({ status: res.status, error: loginError(res.body) });
    }
    const locked = await c.login(user.username, user.password, user.totpSecret);
    const unknown = await c.post('/console/login', {
      username: `nobody-${process.pid}`,
      password: user.password,
      code: totp(user.totpSecret),
    });
    // The tenth failure (which locks) and a locked account's right password answer like any failure.
    for (const a of [...answers, { status: locked.status, error: loginError(locked.body) }])
      expect(a).toEqual({ status: unknown.status, error: loginError(unknown.body) });
    expect(unknown.status).toBe(401);
    const failures = await cases().audit.list({ limit: 100, action: 'login_failed' });
    expect(failures.some((e) => e.target === `user:${user.username}` && e.detail.reason === 'locked')).toBe(true);
    expect(failures.some((e) => e.target === `user:nobody-${process.pid}`)).toBe(true);
  });

  it('does not write down what cannot be a username: a password typed one field early, a card number', async () => {
    const c = new ConsoleClient(t.app, '10.7.9.9');
    await c.get('/console/login');
    for (const username of ['Tr0ub4dor&3 horse', '４１１１ー１１１１ー１１１１ー１１１１'])
      expect((await c.post('/console/login', { username, password: 'x', code: '000000' })).status).toBe(401);
    const failures = await cases().audit.list({ limit: 100, action: 'login_failed' });
    const recent = failures.filter((e) => e.detail.ip === '10.7.9.9');
    expect(recent.map((e) => e.target)).toEqual(['user:(not a valid username)', 'user:(not a valid username)']);
  });

  it('locks the account for the failing address only: its holder still signs in from elsewhere', async () => {
    const user = await newUser(t, 'analyst');
    const attacker = new ConsoleClient(t.app, '10.7.3.1');
    await attacker.get('/console/login');
    for (let i = 0; i < 10; i++)
      await attacker.post('/console/login', { username: user.username, password: `bad-${i}`, code: '000000' });
    expect((await attacker.login(user.username, user.password, user.totpSecret)).status).toBe(401);
    const holder = new ConsoleClient(t.app, '10.7.3.2');
    expect(
      (await holder.login(user.username, user.password, user.totpSecret, totp(user.totpSecret, Date.now() + 30_000)))
        .status,
    ).toBe(303);
    // The attacker's address stays locked, and the lock shows to admins.
    expect(
      (await attacker.login(user.username, user.password, user.totpSecret, totp(user.totpSecret, Date.now() - 30_000)))
        .status,
    ).toBe(401);
    const stored = await cases().users.find(user.username);
    expect(Date.parse(stored!.lockedUntil!) - Date.now()).toBeGreaterThanOrEqual(29.9 * 60_000);
    // An admin's unlock clears every address.
    await cases().users.update(user.username, { unlock: true });
    expect((await cases().users.find(user.username))!.lockedUntil).toBeNull();
  });
});

describe('second factor lock: wrong codes with the right password, per account', () => {
  it('locks the second factor for every address after 10 wrong codes spread over many addresses', async () => {
    const user = await newUser(t, 'analyst');
    const locksBefore = (await t.runtime.metrics.secondFactorLocks.get()).values[0]?.value ?? 0;
    // A stolen password, one code guess from each of 10 IPv6 /64s: each address alone is far from its own lock.
    for (let i = 0; i < 10; i++) {
      const c = new ConsoleClient(t.app, `2001:db8:77:${i.toString(16)}::1`);
      expect((await c.login(user.username, user.password, user.totpSecret, '000000')).status).toBe(401);
    }
    let stored = (await cases().users.find(user.username))!;
    expect(stored.codeFailures).toBe(10);
    expect(Date.parse(stored.codeLockedUntil!) - Date.now()).toBeGreaterThanOrEqual(29.9 * 60_000);
    // The right code from a fresh address is refused too, with the same answer as any failure.
    const fresh = new ConsoleClient(t.app, '2001:db8:77:ff::1');
    const refused = await fresh.login(user.username, user.password, user.totpSecret);
    expect(refused.status).toBe(401);
    expect(loginError(refused.body)).toMatch(/^Wrong username, password or code\./);
    const failures = await cases().audit.list({ limit: 200, action: 'login_failed' });
    expect(failures.some((e) => e.target === `user:${user.username}` && e.detail.reason === 'code_locked')).toBe(true);
    const locks = await cases().audit.list({ limit: 10, action: 'login_second_factor_locked' });
    expect(locks.filter((e) => e.target === `user:${user.username}`)).toHaveLength(1);
    expect(locks[0]).toMatchObject({ actor: 'system:login', detail: { wrongCodes: 10 } });
    expect((await t.runtime.metrics.secondFactorLocks.get()).values[0]?.value).toBe(locksBefore + 1);
    // Admins see it on the users page.
    const { client: admin } = await loggedIn(t, 'admin', '10.7.8.1');
    const page = await admin.get('/console/admin/users');
    const row = new RegExp(`data-user="${user.username}">[\\s\\S]*?</tr>`).exec(page.body)?.[0] ?? '';
    expect(row).toContain('second factor locked for every address until');
    expect(row).toContain('wrong codes: 10');
    // An admin's unlock clears it.
    await cases().users.update(user.username, { unlock: true });
    stored = (await cases().users.find(user.username))!;
    expect({ failures: stored.codeFailures, until: stored.codeLockedUntil }).toEqual({ failures: 0, until: null });
    expect(
      (await fresh.login(user.username, user.password, user.totpSecret, totp(user.totpSecret, Date.now() + 30_000)))
        .status,
    ).toBe(303);
  });

  it('lets no right code through a burst of guesses sent at once, past the tenth wrong one (found by a review)', async () => {
    await freshTotpStep();
    const user = await newUser(t, 'admin');
    const right = totp(user.totpSecret);
    const wrong = (i: number) => String((Number(right) + 1000 + i * 7919) % 1_000_000).padStart(6, '0');
    // A stolen password: 30 wrong codes and the right one last, each from its own address, all at once.
    const clients = await Promise.all(
      Array.from({ length: 31 }, async (_, i) => {
        const c = new ConsoleClient(t.app, `10.7.30.${i + 1}`);
        await c.get('/console/login');
        return c;
      }),
    );
    const replies = await Promise.all(
      clients.map((c, i) =>
        c.post('/console/login', {
          username: user.username,
          password: user.password,
          code: i === 30 ? right : wrong(i),
        }),
      ),
    );
    // Every request read the account before the tenth wrong code locked it; the right one came after.
    expect(replies.map((r) => r.status)).toEqual(Array(31).fill(401));
    const stored = (await cases().users.find(user.username))!;
    expect(Date.parse(stored.codeLockedUntil!)).toBeGreaterThan(Date.now());
    const failures = (await cases().audit.list({ limit: 1000, action: 'login_failed' })).filter(
      (e) => e.target === `user:${user.username}`,
    );
    expect(failures.filter((e) => e.detail.reason === 'code_locked').length).toBeGreaterThanOrEqual(1);
    expect((await cases().audit.list({ limit: 1000, action: 'login' })).some((e) => e.actor === user.username)).toBe(
      false,
    );
  });

  it('makes no session for a sign-in checked before a reset or a password change that lands first (found by a review)', async () => {
    await freshTotpStep();
    const { client: admin } = await loggedIn(t, 'admin', '10.7.31.1');
    const users = cases().users;
    const original = users.createSession.bind(users);
    /** Holds the victim's sign-in between its checks and its session until `revoke` has run. */
    const signInDuring = async (
      victim: { username: string; password: string },
      client: ConsoleClient,
      code: string,
      revoke: () => Promise<unknown>,
    ) => {
      const atSession = Promise.withResolvers<void>();
      const gate = Promise.withResolvers<void>();
      users.createSession = async (...args: Parameters<typeof original>) => {
        if (args[1] === victim.username) {
          atSession.resolve();
          await gate.promise;
        }
        return original(...args);
      };
      try {
        await client.get('/console/login');
        const signIn = client.post('/console/login', { username: victim.username, password: victim.password, code });
        await atSession.promise;
        await revoke();
        gate.resolve();
        return await signIn;
      } finally {
        users.createSession = original;
      }
    };
    // An admin resets a lead's account while a thief holding its password and seed signs in.
    const lead = await newUser(t, 'lead');
    const thief = new ConsoleClient(t.app, '10.7.31.2');
    const afterReset = await signInDuring(lead, thief, totp(lead.totpSecret), () =>
      admin.post(`/console/admin/users/${lead.username}`, { op: 'reset' }),
    );
    expect(afterReset.status).toBe(401);
    expect((await thief.get('/console/queue')).status).toBe(303);
    // The owner changes the password while the thief signs in with the old one.
    const owner = await newUser(t, 'analyst');
    const ownerClient = new ConsoleClient(t.app, '10.7.31.3');
    // Three codes in a row, each used once: the previous step's, the current one's, the next one's.
    const code = (step: number) => totp(owner.totpSecret, Date.now() + step * 30_000);
    expect((await ownerClient.login(owner.username, owner.password, owner.totpSecret, code(-1))).status).toBe(303);
    const thief2 = new ConsoleClient(t.app, '10.7.31.4');
    const afterChange = await signInDuring(owner, thief2, code(0), async () => {
      const changed = await ownerClient.post('/console/account/password', {
        current: owner.password,
        code: code(1),
        password: 'correct horse battery staple 9',
        password2: 'correct horse battery staple 9',
      });
      expect(changed.location).toBe('/console/login?changed=1');
    });
    expect(afterChange.status).toBe(401);
    expect((await thief2.get('/console/queue')).status).toBe(303);
    const refused = await cases().audit.list({ limit: 1000, action: 'login_failed' });
    expect(refused.filter((e) => e.detail.reason === 'credentials_changed').map((e) => e.target)).toEqual(
      expect.arrayContaining([`user:${lead.username}`, `user:${owner.username}`]),
    );
  });

  it('does not count wrong passwords across addresses', async () => {
    const user = await newUser(t, 'analyst');
    for (let i = 0; i < 12; i++) {
      const c = new ConsoleClient(t.app, `2001:db8:78:${i.toString(16)}::1`);
      expect((await c.login(user.username, `bad-${i}`, user.totpSecret)).status).toBe(401);
    }
    const c = new ConsoleClient(t.app, '2001:db8:79::1');
    for (let i = 0; i < 3; i++) await c.login(user.username, user.password, user.totpSecret, '000000');
    expect((await cases().users.find(user.username))!.codeFailures).toBe(3);
    expect((await c.login(user.username, user.password, user.totpSecret)).status).toBe(303);
  });

  it('keeps counting wrong codes across genuine sign-ins, and tells the owner at each sign-in', async () => {
    const user = await newUser(t, 'analyst');
    await freshTotpStep();
    const at = Date.now();
    // Whoever holds the password guesses a few codes between the owner's sign-ins (each of which
    // used to clear the count: 9 free guesses per genuine sign-in, for ever).
    const guesser = new ConsoleClient(t.app, '2001:db8:7a::1');
    const guess = async (n: number) => {
      for (let i = 0; i < n; i++)
        expect((await guesser.login(user.username, user.password, user.totpSecret, '000000')).status).toBe(401);
    };
    const owner = new ConsoleClient(t.app, '10.7.10.1');
    const signIn = async (offsetMs: number) => {
      const res = await owner.login(
        user.username,
        user.password,
        user.totpSecret,
        totp(user.totpSecret, at + offsetMs),
      );
      return { status: res.status, queue: res.status === 303 ? (await owner.get('/console/queue')).body : '' };
    };
    await guess(3);
    const first = await signIn(-30_000);
    expect(first.status).toBe(303);
    expect(first.queue).toContain(
      '3 wrong authenticator codes were entered with your password since your last sign-in',
    );
    await guess(3);
    const second = await signIn(0);
    expect(second.status).toBe(303);
    expect(second.queue).toContain('3 wrong authenticator codes were entered');
    expect((await cases().users.find(user.username))!.codeFailures).toBe(6);
    // Four more make ten within the window: locked for every address, the owner's right code included.
    await guess(4);
    const stored = (await cases().users.find(user.username))!;
    expect(stored.codeFailures).toBe(10);
    expect(Date.parse(stored.codeLockedUntil!) - Date.now()).toBeGreaterThanOrEqual(29.9 * 60_000);
    expect((await signIn(30_000)).status).toBe(401);
    const logins = await cases().audit.list({ limit: 500, action: 'login' });
    expect(
      logins.filter((e) => e.target === `user:${user.username}`).map((e) => e.detail.wrongCodesSinceLastSignIn),
    ).toEqual([3, 3]);
    // An admin's unlock clears the window; the owner is still told of the four at their next sign-in.
    await cases().users.update(user.username, { unlock: true });
    expect((await cases().users.find(user.username))!.codeFailures).toBe(0);
    await freshTotpStep();
    const next = await owner.login(
      user.username,
      user.password,
      user.totpSecret,
      totp(user.totpSecret, Date.now() + 30_000),
    );
    expect(next.status).toBe(303);
    expect((await owner.get('/console/queue')).body).toContain('4 wrong authenticator codes were entered');
  });
});

describe('signing in replaces the session the browser presented', () => {
  // Outside NODE_ENV=development cookies are Secure, __Host- prefixed.
  const name = cookieNames(true).session;
  const sessionCookie = (c: ConsoleClient) => c.jar.get(name);
  // Only the cookie, in a client of its own: whoever holds the token, elsewhere.
  const withCookie = (token: string) => {
    const other = new ConsoleClient(t.app, '10.7.11.9');
    other.jar.set(name, token);
    return other;
  };

  it('ends the old session server-side, for the same user or another, with a new token', async () => {
    const { client, user } = await loggedIn(t, 'analyst', '10.7.11.1');
    const first = sessionCookie(client)!;
    expect((await withCookie(first).get('/console/queue')).status).toBe(200);
    // The same user again (a second sign-in in the same browser): a new session, the old one gone.
    await freshTotpStep();
    const again = await client.login(
      user.username,
      user.password,
      user.totpSecret,
      totp(user.totpSecret, Date.now() + 30_000),
    );
    expect(again.status).toBe(303);
    const second = sessionCookie(client)!;
    expect(second).not.toBe(first);
    expect((await withCookie(first).get('/console/queue')).location).toBe('/console/login');
    // Another user signing in at that browser: the first user's session does not stay alive behind it.
    const other = await newUser(t, 'lead');
    expect((await client.login(other.username, other.password, other.totpSecret)).status).toBe(303);
    expect(sessionCookie(client)).not.toBe(second);
    expect((await withCookie(second).get('/console/queue')).location).toBe('/console/login');
    expect((await client.get('/console/queue')).body).toContain(`id="current-user">${other.username}<`);
  });

  it('does not let a planted session token survive a sign-in (fixation)', async () => {
    // An attacker's own session token, planted in the victim's browser before the victim signs in.
    const { client: attacker } = await loggedIn(t, 'analyst', '10.7.11.2');
    const planted = sessionCookie(attacker)!;
    const victim = await newUser(t, 'analyst');
    const browser = withCookie(planted);
    expect((await browser.login(victim.username, victim.password, victim.totpSecret)).status).toBe(303);
    expect(sessionCookie(browser)).not.toBe(planted);
    // The planted token is dead: the attacker is signed out, and never shares the victim's session.
    expect((await attacker.get('/console/queue')).location).toBe('/console/login');
  });
});

describe('client address behind a proxy', () => {
  it('ignores X-Forwarded-For unless LEAKGUARD_TRUST_PROXY names the proxy', async () => {
    // Not configured: every client behind the same proxy shares its address (and a client cannot pick one).
    const c = new ConsoleClient(t.app, '10.7.4.1');
    await c.get('/console/login');
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++)
      statuses.push(
        (
          await c.post(
            '/console/login',
            { username: 'ghost', password: 'x', code: '000000' },
            { headers: { 'x-forwarded-for': `198.51.100.${i}` } },
          )
        ).status,
      );
    expect(statuses.at(-1)).toBe(429);

    const proxied = await buildTestApp(
      { LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14', LEAKGUARD_TRUST_PROXY: '10.7.5.0/24' },
      { cases: true },
    );
    try {
      const statusesBehind: number[] = [];
      for (let i = 0; i < 25; i++) {
        const client = new ConsoleClient(proxied.app, '10.7.5.1');
        await client.get('/console/login');
        statusesBehind.push(
          (
            await client.post(
              '/console/login',
              { username: 'ghost', password: 'x', code: '000000' },
              { headers: { 'x-forwarded-for': `198.51.100.${i}` } },
            )
          ).status,
        );
      }
      expect(statusesBehind.every((s) => s === 401)).toBe(true);
      const audited = await proxied.runtime.cases!.audit.list({ limit: 100, action: 'login_failed' });
      expect(new Set(audited.map((e) => e.detail.ip)).size).toBe(25);
      // A client that is not the proxy cannot choose its address.
      const direct = new ConsoleClient(proxied.app, '203.0.113.50');
      await direct.get('/console/login');
      for (let i = 0; i < 21; i++)
        statuses.push(
          (
            await direct.post(
              '/console/login',
              { username: 'ghost', password: 'x', code: '000000' },
              { headers: { 'x-forwarded-for': `198.51.100.${100 + i}` } },
            )
          ).status,
        );
      expect(statuses.at(-1)).toBe(429);
    } finally {
      await proxied.close();
    }
  });
});

describe('Origin check', () => {
  it('refuses a malformed Origin with a 403, not a 500', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.7.6.1');
    for (const origin of ['not a url', 'http://[::1', 'http://', '://x']) {
      const res = await client.post('/console/queue/take-next', {}, { headers: { origin } });
      expect(res.status, origin).toBe(403);
      expect(res.body).toContain('Origin');
    }
  });
});
