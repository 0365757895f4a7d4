// scripts/run.sh as the Docker image runs it: dependencies installed at build time by root, the
// stamp written by the Dockerfile's own step, then `USER node`: node_modules cannot be written.
// Every `npm run` in the container (`docker compose exec engine npm run users -- create-admin …`)
// goes through run.sh, which must take that install as current, neither reinstall nor write.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

/** The shell command of the Dockerfile's RUN step that writes the stamp, without its `npm ci`. */
function dockerStampStep(): string {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const run = dockerfile.split('\n').find((line) => line.startsWith('RUN ') && line.includes('.leakguard-installed'));
  if (!run) throw new Error('the Dockerfile writes no node_modules/.leakguard-installed');
  const steps = run
    .slice('RUN '.length)
    .split('&&')
    .map((s) => s.trim());
  expect(steps[0]).toMatch(/^npm ci /);
  return steps.slice(1).join(' && ');
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A copy of the image's /app: package files, scripts/run.sh, node_modules with the stamp. */
function imageLike(stampStep: string): { app: string; bin: string; home: string } {
  dir = mkdtempSync(join(tmpdir(), 'leakguard-docker-'));
  chmodSync(dir, 0o755);
  const app = join(dir, 'app');
  const bin = join(dir, 'bin');
  const home = join(dir, 'home');
  for (const d of [app, join(app, 'scripts'), join(app, 'node_modules'), bin, home]) mkdirSync(d, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(app, 'package.json'));
  copyFileSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
  copyFileSync(join(root, 'scripts/run.sh'), join(app, 'scripts/run.sh'));
  // Stand-ins for Node 24 and npm: what matters here is what run.sh decides, not what Node does.
  writeFileSync(join(bin, 'node'), '#!/bin/sh\nif [ "$1" = -p ]; then echo 24; exit 0; fi\necho "node ran: $*"\n', {
    mode: 0o755,
  });
  writeFileSync(join(bin, 'npm'), '#!/bin/sh\necho "npm ran: $*" >&2\nexit 3\n', { mode: 0o755 });
  execFileSync('sh', ['-c', stampStep], { cwd: app });
  chmodSync(home, 0o777);
  return { app, bin, home };
}

/** Runs `sh scripts/run.sh ARGS` as a user who cannot write node_modules (the image's `node`). */
function runAsOtherUser(app: string, bin: string, home: string, args: string[]) {
  const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: home };
  // Root writes anywhere whatever the mode: as root, run as nobody (the files stay root's, 755).
  // As another user, take the write permission away, as root's ownership does in the image.
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) chmodSync(join(app, 'node_modules'), 0o555);
  const [cmd, cmdArgs] = asRoot
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', 'scripts/run.sh', ...args]]
    : ['sh', ['scripts/run.sh', ...args]];
  const res = spawnSync(cmd as string, cmdArgs as string[], { cwd: app, env, encoding: 'utf8' });
  chmodSync(join(app, 'node_modules'), 0o755);
  return res;
}

describe('scripts/run.sh in the Docker image', () => {
  it("accepts the Dockerfile's stamp as current and runs the command without writing node_modules", () => {
    const { app, bin, home } = imageLike(dockerStampStep());
    const stampBefore = readFileSync(join(app, 'node_modules/.leakguard-installed'), 'utf8');
    const res = runAsOtherUser(app, bin, home, ['services/cli/users.ts', 'create-admin']);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
    expect(res.stdout).toContain('node ran: --disable-warning=ExperimentalWarning');
    expect(res.stdout).toContain('services/cli/users.ts create-admin');
    expect(readFileSync(join(app, 'node_modules/.leakguard-installed'), 'utf8')).toBe(stampBefore);
  });

  it('takes an empty stamp dated after the lock file (an older image) as current when it cannot rewrite it', () => {
    const { app, bin, home } = imageLike('touch node_modules/.leakguard-installed');
    const res = runAsOtherUser(app, bin, home, ['services/cli/keys.ts', 'list']);
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
    expect(res.stdout).toContain('services/cli/keys.ts list');
  });

  it('still reinstalls when the stamp names another lock file', () => {
    const { app, bin, home } = imageLike('echo "1 2" > node_modules/.leakguard-installed');
    const res = runAsOtherUser(app, bin, home, ['services/cli/keys.ts', 'list']);
    expect(res.status).toBe(3);
    expect(res.stderr).toContain('leakguard: installing dependencies (npm ci)');
    expect(res.stderr).toContain('npm ran: ci');
  });
});
