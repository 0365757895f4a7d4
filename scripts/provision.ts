// Provisions the real services the test suite and benchmarks talk to, on a fresh machine:
// Debian packages through apt-get when a binary is missing, reusing whatever is already there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';

const log = (message: string) => process.stderr.write(`provision: ${message}\n`);

export function which(binary: string, extraDirs: string[] = []): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...extraDirs]) {
    if (dir && existsSync(`${dir}/${binary}`)) return `${dir}/${binary}`;
  }
  return undefined;
}

let aptUpdated = false;
function aptInstall(packages: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : ['sudo', '-n'];
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...prefix, ...args];
    return spawnSync(cmd!, rest, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  const install = () => run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...packages]).status === 0;
  log(`installing ${packages.join(' ')} (apt-get)`);
  if (install()) return;
  if (!aptUpdated) {
    run(['apt-get', 'update', '-q']);
    aptUpdated = true;
    if (install()) return;
  }
  throw new Error(`could not install ${packages.join(' ')} with apt-get; install them by hand and run again`);
}

/** redis-server and redis-cli. */
export function ensureRedis(): string {
  let server = which('redis-server', ['/usr/bin', '/usr/local/bin']);
  if (!server) {
    aptInstall(['redis-server']);
    server = which('redis-server', ['/usr/bin']);
  }
  if (!server) throw new Error('redis-server not found after installation');
  return server;
}

/** PostgreSQL server binaries (initdb, postgres, pg_ctl) from Debian's versioned directory. */
export function ensurePostgres(): string {
  const find = () => {
    try {
      const dirs = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1'], {
        encoding: 'utf8',
      }).trim();
      return dirs && existsSync(`${dirs}/initdb`) ? dirs : undefined;
    } catch {
      return undefined;
    }
  };
  let bin = find();
  if (!bin) {
    aptInstall(['postgresql']);
    bin = find();
  }
  if (!bin) throw new Error('PostgreSQL server binaries not found after installation');
  return bin;
}

/** Debian's Chromium, for browser tests driven by playwright-core. */
export function ensureChromium(): string {
  let bin = which('chromium', ['/usr/bin']);
  if (!bin) {
    aptInstall(['chromium']);
    bin = which('chromium', ['/usr/bin']);
  }
  if (!bin) throw new Error('chromium not found after installation');
  return bin;
}

/** Java for the Kafka broker. */
export function ensureJava(): string {
  let bin = which('java', ['/usr/bin']);
  if (!bin) {
    aptInstall(['openjdk-17-jre-headless']);
    bin = which('java', ['/usr/bin']);
  }
  if (!bin) throw new Error('java not found after installation');
  return bin;
}

/** Maven, which fetches the Kafka broker's jars from Maven Central. */
export function ensureMaven(): string {
  let bin = which('mvn', ['/usr/bin']);
  if (!bin) {
    aptInstall(['maven']);
    bin = which('mvn', ['/usr/bin']);
  }
  if (!bin) throw new Error('mvn not found after installation');
  return bin;
}

/**
 * promtool, which checks and unit-tests the Prometheus alert rules (ops/prometheus/), from Debian's
 * prometheus package. Installing it may start a prometheus service on :9090 where the init system
 * runs services (in a container, policy-rc.d usually forbids it): the tests listen on free ports
 * only, so a running prometheus does not disturb them.
 */
export function ensurePromtool(): string {
  let bin = which('promtool', ['/usr/bin', '/usr/local/bin']);
  if (!bin) {
    aptInstall(['prometheus']);
    bin = which('promtool', ['/usr/bin']);
  }
  if (!bin) throw new Error('promtool not found after installation');
  return bin;
}

/** valgrind with callgrind_control, for the benchmarks that count instructions (bench:cost --instructions). */
export function ensureValgrind(): string {
  let bin = which('valgrind', ['/usr/bin']);
  if (!bin || !which('callgrind_control', ['/usr/bin'])) {
    aptInstall(['valgrind']);
    bin = which('valgrind', ['/usr/bin']);
  }
  if (!bin) throw new Error('valgrind not found after installation');
  return bin;
}

/** k6 for load tests: built from source with Go when it is not on PATH. */
export function ensureK6(): string {
  const gopath = (() => {
    try {
      return execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
    } catch {
      return `${process.env.HOME}/go`;
    }
  })();
  let bin = which('k6', [`${gopath}/bin`]);
  if (!bin) {
    if (!which('go', ['/usr/local/go/bin'])) aptInstall(['golang-go']);
    log('building k6 from source (go install go.k6.io/k6@v1.8.1); this takes a few minutes once');
    const go = which('go', ['/usr/local/go/bin'])!;
    const result = spawnSync(go, ['install', 'go.k6.io/k6@v1.8.1'], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) throw new Error('go install go.k6.io/k6@v1.8.1 failed');
    bin = which('k6', [`${gopath}/bin`]);
  }
  if (!bin) throw new Error('k6 not found after go install');
  return bin;
}

/** Where the scripts keep what they install outside the repository (as scripts/run.sh). */
export function cacheDir(): string {
  return process.env.LEAKGUARD_CACHE ?? `${process.env.XDG_CACHE_HOME ?? `${homedir()}/.cache`}/leakguard`;
}

/** Schemathesis, the OpenAPI-driven fuzzer of test/http/openapi-fuzz.test.ts: pinned, from PyPI. */
export const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * The schemathesis CLI (`st`) in a Python virtual environment under the cache directory, reused
 * while it holds the pinned version. Python 3 and its venv module come from apt-get when missing.
 */
export function ensureSchemathesis(): string {
  const venv = `${cacheDir()}/schemathesis`;
  const st = `${venv}/bin/st`;
  const stamp = `${venv}/.leakguard-installed`;
  const installed = () =>
    existsSync(st) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === SCHEMATHESIS_VERSION;
  if (installed()) return st;
  // A venv needs ensurepip, which Debian ships apart from python3 (python3-venv).
  const pythonWithVenv = () => {
    const python = which('python3', ['/usr/bin', '/usr/local/bin']);
    return python && spawnSync(python, ['-c', 'import venv, ensurepip'], { stdio: 'ignore' }).status === 0
      ? python
      : undefined;
  };
  let python = pythonWithVenv();
  if (!python) {
    aptInstall(['python3', 'python3-venv']);
    python = pythonWithVenv();
  }
  if (!python) throw new Error('python3 with the venv module not found after installation');
  log(`installing schemathesis ${SCHEMATHESIS_VERSION} (pip) into ${venv}`);
  // A half-made or older environment is made anew: its scripts name its own path, so it is built in place.
  rmSync(venv, { recursive: true, force: true });
  const run = (cmd: string, args: string[]) => {
    const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  };
  run(python, ['-m', 'venv', venv]);
  run(`${venv}/bin/python`, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ]);
  if (!existsSync(st)) throw new Error(`schemathesis installed but ${st} is missing`);
  writeFileSync(stamp, `${SCHEMATHESIS_VERSION}\n`);
  return st;
}
