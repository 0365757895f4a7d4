// What the CLIs share: a failure that names the command (exit 2: bad usage; 1: the work failed),
// and the sub-command parse with --help and the usage on a bad flag or a missing command.

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
