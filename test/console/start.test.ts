// `npm start` serves the console and writes a demo analyst (username, password, base32 TOTP
// secret) into .leakguard/demo-credentials.json; that analyst signs in over real HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { totp } from '../../services/console/credentials.ts';
import { freePort } from '../support/ports.ts';

const root = new URL('../..', import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), 'lg-start-console-'));
let engine: ChildProcess;
let base: string;
let out = '';

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  engine = spawn(process.execPath, [join(root, 'services/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      LEAKGUARD_STATE_DIR: stateDir,
      PORT: String(port),
      REDIS_URL: '',
      DATABASE_URL: '',
      NODE_ENV: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  engine.stdout!.on('data', (d) => (out += d.toString()));
  engine.stderr!.on('data', (d) => (out += d.toString()));
  const end = Date.now() + 90_000;
  while (!out.includes('demo analyst:') && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  if (!out.includes('demo analyst:')) throw new Error(`console did not start:\n${out}`);
}, 120_000);
afterAll(() => {
  engine?.kill('SIGTERM');
});

it('writes the demo analyst with the other demo credentials, and it can sign in', async () => {
  const creds = JSON.parse(readFileSync(join(stateDir, 'demo-credentials.json'), 'utf8'));
  expect(Object.keys(creds)).toEqual(expect.arrayContaining(['merchantKey', 'issuerKey', 'adminKey', 'analyst']));
  expect(creds.analyst).toMatchObject({
    username: 'demo-analyst',
    password: expect.any(String),
    totpSecret: expect.stringMatching(/^[A-Z2-7]{32}$/),
  });
  const login = await fetch(`${base}/console/login`);
  expect(login.headers.get('content-security-policy')).toContain("default-src 'self'");
  const prelogin = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('lg_prelogin='))!
    .split(';')[0]!;
  expect(prelogin).toBeTruthy();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!;
  const res = await fetch(`${base}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: prelogin },
    body: new URLSearchParams({
      _csrf: csrf,
      username: creds.analyst.username,
      password: creds.analyst.password,
      code: totp(creds.analyst.totpSecret),
    }),
  });
  expect(res.status).toBe(303);
  const session = res.headers.getSetCookie().find((c) => c.startsWith('lg_console='))!;
  expect(session).toMatch(/HttpOnly/);
  expect(session).toMatch(/SameSite=Strict/);
  const queue = await fetch(`${base}/console/queue`, { headers: { cookie: session.split(';')[0]! } });
  expect(queue.status).toBe(200);
  expect(await queue.text()).toContain('demo-analyst');
});
