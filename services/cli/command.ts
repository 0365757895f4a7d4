// What the CLIs share: a failure that names the command (exit 2: bad usage; 1: the work failed),
// the sub-command parse with --help and the usage on a bad flag or a missing command, and the
// paths a caller gives: relative to where they called from, checked before the work that writes them;
// who runs the command, as the audit log names them.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';

/**
 * Who runs this command, as its audit entries and key records name them: `cli:<user>@<host>`.
 * USER, else LOGNAME, else the account the process runs as: docker exec, cron and systemd set
 * neither variable. A uid without an account (docker run --user 12345) is named by its number.
 */
export function cliActor(
  env: NodeJS.ProcessEnv = process.env,
  account: () => string = () => userInfo().username,
  host: string = hostname(),
): string {
  let user = env.USER || env.LOGNAME;
  if (!user)
    try {
      user = account();
    } catch {
      // No passwd entry for this uid.
    }
  if (!user) user = process.getuid ? `uid-${process.getuid()}` : 'unknown';
  return `cli:${user}@${host}`;
}

/** Annotate the constant with it (`const fail: Fail = failWith(...)`): TypeScript narrows after a call only then. */
export type Fail = (message: string, code?: number) => never;

export function failWith(name: string): Fail {
  return (message, code = 2) => {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(code);
  };
}

/** `parse` runs node:util parseArgs (typed by the caller); a thrown parse error becomes a usage failure. */
export function parseCommand<R extends { values: { help?: boolean | undefined }; positionals: string[] }>(
  parse: () => R,
  usage: string,
  fail: Fail,
): R & { command: string } {
  let parsed: R;
  try {
    parsed = parse();
  } catch (error) {
    return fail(`${(error as Error).message}\n${usage}`);
  }
  const [command] = parsed.positionals;
  if (parsed.values.help || !command) {
    process.stdout.write(`${usage}\n`);
    process.exit(parsed.values.help ? 0 : 2);
  }
  return { ...parsed, command };
}

/** For processes configured by environment variables only: an argument is a mistake to report, not to ignore. */
export function rejectArguments(name: string, usage: string): void {
  const args = process.argv.slice(2);
  if (args.length === 0) return;
  const help = args.some((a) => a === '--help' || a === '-h');
  (help ? process.stdout : process.stderr).write(`${help ? '' : `${name}: no such option ${args[0]}\n`}${usage}\n`);
  process.exit(help ? 0 : 2);
}

/**
 * A path given on the command line, as its caller meant it. npm runs a script in the project's
 * folder whatever folder it was called from, and scripts/run.sh (which the npm scripts call) names
 * that folder in LEAKGUARD_CALLER_DIR for the process it becomes (LEAKGUARD_CALLER_PID: a child
 * inherits the variables, not the pid, and resolves against its own working directory).
 */
export function callerPath(path: string): string {
  const env = process.env;
  const fromRunSh = env.LEAKGUARD_CALLER_DIR && Number(env.LEAKGUARD_CALLER_PID) === process.pid;
  return resolve(fromRunSh ? env.LEAKGUARD_CALLER_DIR! : process.cwd(), path);
}

/** The nearest of `path` and its ancestors that exists, with what it is. */
function nearestExisting(path: string): { path: string; stats: Stats } {
  for (let p = path; ; p = dirname(p)) {
    try {
      return { path: p, stats: statSync(p) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOENT: p is missing; ENOTDIR: an ancestor of p is a file (found further up).
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) throw error;
    }
  }
}

/** Why nothing can be written in `folder`, an existing path, or undefined. */
function notWritableFolder(folder: string, stats: Stats): string | undefined {
  if (!stats.isDirectory()) return `${folder} is not a folder`;
  try {
    accessSync(folder, constants.W_OK);
    return undefined;
  } catch (error) {
    return `cannot write in ${folder} (${(error as NodeJS.ErrnoException).code})`;
  }
}

/**
 * Why a file cannot be written at `path` (its folder missing, a file, or read-only; the path a
 * folder or a read-only file), or undefined: asked before the work that makes it.
 */
export function unwritable(path: string): string | undefined {
  let at;
  try {
    at = nearestExisting(path);
  } catch (error) {
    return `cannot reach ${path} (${(error as NodeJS.ErrnoException).code})`;
  }
  if (at.path === path) {
    if (at.stats.isDirectory()) return `${path} is a folder`;
    try {
      accessSync(path, constants.W_OK);
    } catch (error) {
      return `cannot write ${path} (${(error as NodeJS.ErrnoException).code})`;
    }
    return undefined;
  }
  const folder = dirname(path);
  if (at.path !== folder) return at.stats.isDirectory() ? `no folder ${folder}` : `${at.path} is not a folder`;
  return notWritableFolder(folder, at.stats);
}

/**
 * Why a folder of outputs cannot be at `folder` (a file there or above it, or a folder that cannot
 * be written or created in), or undefined: it may be missing (created with its parents).
 */
export function unwritableFolder(folder: string): string | undefined {
  let at;
  try {
    at = nearestExisting(folder);
  } catch (error) {
    return `cannot reach ${folder} (${(error as NodeJS.ErrnoException).code})`;
  }
  return notWritableFolder(at.path, at.stats);
}
