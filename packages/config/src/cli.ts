// A command's arguments, the way every Trellis tool reads them: `node:util` parseArgs in
// strict mode, `--help` printing the usage and exiting 0 before anything else runs, bad
// input refused with one line plus the usage line and exit code 2, a confirmation before
// anything that replaces data, and main-module detection that survives symlinks and paths
// with spaces. Tools (tools/src), benchmarks (bench/) and the explorer build import it.
import { realpathSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A command's options, as parseArgs takes them. */
export type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Exit status of a refused invocation (unknown flag, missing or invalid argument). */
export const USAGE_EXIT_CODE = 2;

export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  /** The command as typed, e.g. `pnpm db:seed`: prefixes error lines. */
  command: string;
  /** Arguments after the command, e.g. `[--scale N] [--yes]`: the usage line. */
  usage: string;
  /** What `--help` prints under the usage line: what the command does, then its options. */
  help: string;
  /** Options besides `--help`/`-h` (added to every command). */
  options: O;
  /** Positional arguments allowed: `[min, max]`. @default [0, 0] */
  positionals?: readonly [number, number];
}

export type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>
>;

/** The usage line of `spec`: `usage: <command> <usage>`. */
export function usageLine(spec: Pick<CommandSpec<ParseArgsOptionsConfig>, 'command' | 'usage'>): string {
  return `usage: ${spec.command}${spec.usage ? ` ${spec.usage}` : ''}`;
}

/** Refuses the invocation: `<command>: <message>` and the usage line on stderr, exit 2. */
export function usageError(
  spec: Pick<CommandSpec<ParseArgsOptionsConfig>, 'command' | 'usage'>,
  message: string,
): never {
  process.stderr.write(`${spec.command}: ${message}\n${usageLine(spec)}\n`);
  process.exit(USAGE_EXIT_CODE);
}

/**
 * Parses `argv` against `spec`. `--help` (or `-h`) prints the usage and the help text and
 * exits 0; an unknown option, a missing value or a wrong number of positionals exits 2 via
 * usageError. Only returns for an invocation that may run.
 */
export function parseCommand<const O extends ParseArgsOptionsConfig>(
  spec: CommandSpec<O>,
  argv: readonly string[] = process.argv.slice(2),
): Parsed<O> {
  // pnpm passes a `--` through when asked to (`pnpm run x -- --flag`); it separates nothing here.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let parsed: Parsed<O>;
  let help = false;
  try {
    const all = parseArgs({
      args,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    help = (all.values as { help?: boolean }).help === true;
    parsed = all as unknown as Parsed<O>;
  } catch (error) {
    // --help wins over a bad argument beside it: asking for help never runs anything.
    if (args.includes('--help') || args.includes('-h')) help = true;
    else usageError(spec, parseErrorMessage(error as Error & { code?: string }));
  }
  if (help) {
    process.stdout.write(`${usageLine(spec)}\n\n${spec.help.trimEnd()}\n`);
    process.exit(0);
  }
  const [min, max] = spec.positionals ?? [0, 0];
  const count = parsed!.positionals.length;
  if (count > max) usageError(spec, `unexpected argument '${parsed!.positionals[max]}'`);
  if (count < min)
    usageError(spec, `expected ${min === max ? min : `at least ${min}`} argument${min === 1 ? '' : 's'}, got ${count}`);
  return parsed!;
}

/** Node's message, without its advice on positionals that start with '-' (a second sentence). */
function parseErrorMessage(error: Error & { code?: string }): string {
  return error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ? (error.message.split('. ')[0] ?? error.message)
    : error.message;
}

/** A numeric option's value: a finite number within bounds, or usageError naming the option. */
export function numberOption(
  spec: Pick<CommandSpec<ParseArgsOptionsConfig>, 'command' | 'usage'>,
  name: string,
  raw: string | undefined,
  bounds: { min?: number; integer?: boolean } = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const min = bounds.min ?? 0;
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || (bounds.integer && !Number.isInteger(value)))
    usageError(spec, `--${name} must be ${bounds.integer ? 'an integer' : 'a number'} ≥ ${min} (got '${raw}')`);
  return value;
}

export interface ConfirmOptions {
  /** `--yes` was given: go ahead without asking. */
  yes: boolean;
  /** @default process.stdin */
  input?: Readable & { isTTY?: boolean };
  /** Where the question is written. @default process.stderr */
  output?: Writable;
}

/**
 * Asks before a destructive step. With `yes`, true. Without a terminal to ask on (CI,
 * a pipe), false: the caller refuses. With one, the answer (`y`/`yes`; anything else,
 * including end of input, is no).
 */
export async function confirm(question: string, options: ConfirmOptions): Promise<boolean> {
  if (options.yes) return true;
  const input = options.input ?? process.stdin;
  if (!input.isTTY) return false;
  const prompt = createInterface({ input, output: options.output ?? process.stderr, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      prompt.once('close', () => resolve(''));
      prompt.question(`${question} [y/N] `).then(resolve, () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

/**
 * confirm(), exiting when the answer is no: without a terminal, exit 2 naming `--yes`;
 * declined at the prompt, exit 1. Nothing has run yet in either case.
 */
export async function confirmOrExit(
  spec: Pick<CommandSpec<ParseArgsOptionsConfig>, 'command' | 'usage'>,
  question: string,
  options: ConfirmOptions,
): Promise<void> {
  if (await confirm(question, options)) return;
  if (!(options.input ?? process.stdin).isTTY)
    usageError(spec, `${question} Refused: no terminal to ask on; pass --yes to confirm`);
  process.stderr.write(`${spec.command}: not confirmed; nothing changed\n`);
  process.exit(1);
}

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the process's entry point.
 * Compares real paths as file URLs: a checkout reached through a symlink, or whose path
 * holds spaces (percent-encoded in URLs), is still recognised.
 */
export function isMainModule(moduleUrl: string, entry: string | undefined = process.argv[1]): boolean {
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === moduleUrl;
  } catch {
    return false;
  }
}
