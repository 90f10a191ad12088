/** Argument handling shared by the scripts: one message and exit status 2 for anything the user can fix. */
import { createHash } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BLOCK_NAMES, type Block, type BlockName } from '../generators/block.ts';
import { UsageError } from '../generators/common/errors.ts';
import { cliInt, object, onlyKeys } from '../generators/common/validate.ts';
import { readJsonFile } from '../generators/common/vectors.ts';
import { checkPrefix } from '../generators/common/names.ts';
import { BLOCKS, blockByName } from '../generators/registry.ts';

/** A script's entry point: takes its arguments (without `node script`), returns its exit status or nothing for 0. */
export type ScriptMain = (argv: string[]) => Promise<number | void>;

/**
 * Runs a script's main on `argv` and returns its exit status: a UsageError becomes `error: ...` on stderr and status 2,
 * any other error its stack and status 1. The tests call this in-process; runMain is the same from the command line.
 */
export async function exitStatus(main: ScriptMain, argv: string[]): Promise<number> {
  try {
    return (await main(argv)) ?? 0;
  } catch (err: unknown) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

/** Runs a script's main on the command line's arguments and sets the process's exit status. */
export function runMain(main: ScriptMain): void {
  void exitStatus(main, process.argv.slice(2)).then((code) => { process.exitCode = code; });
}

/** node:util parseArgs with its errors turned into UsageError (unknown flags, missing values, positionals). */
export function parseCli<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  // A negative number after a flag that takes a value is that value (`--bits -3`), so the range check can name it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = /^--([\w-]+)$/.exec(argv[i]!)?.[1];
    const next = argv[i + 1];
    if (flag && options[flag]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      args.push(`${argv[i]}=${next}`);
      i++;
    } else {
      args.push(argv[i]!);
    }
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const allowed = Object.keys(options).map((o) => `--${o}`).join(', ');
    const message = (err as Error).message;
    const valueMissing = /^Option '(--[\w-]+)[^']*' argument (?:is ambiguous|missing)/.exec(message);
    if (valueMissing) throw new UsageError(`${valueMissing[1]}: needs a value (see --help)`);
    const first = message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '');
    throw new UsageError(`${first}; allowed options: ${allowed} (see --help)`);
  }
}

export const BITS_MIN = 2;
export const BITS_MAX = 16;

export function parseBits(value: string | undefined): number {
  return cliInt('--bits', value ?? '4', BITS_MIN, BITS_MAX);
}

/** The blocks named by --blocks (all by default), in registry order. */
export function parseBlocks(value: string | undefined): BlockName[] {
  if (value === undefined) return BLOCKS.map((b) => b.name);
  const names = value.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(BLOCK_NAMES as readonly string[]).includes(n)) {
      throw new UsageError(`--blocks: must be a comma-separated list of ${BLOCK_NAMES.join(', ')} (got ${JSON.stringify(n)})`);
    }
    if (!BLOCKS.some((b) => b.name === n)) throw new UsageError(`--blocks: block ${n} is not implemented yet`);
  }
  return BLOCKS.map((b) => b.name).filter((n) => names.includes(n));
}

/**
 * The blocks a call works on: those named by --blocks, or, with none named, every block whose default spec takes
 * `bits` (a block with a narrower width range, Block.maxBits, is left out above it unless the spec file has its
 * section); `skipped` says which were left out.
 */
export function selectBlocks(value: string | undefined, bits: number, spec: SpecFile | undefined): { blocks: BlockName[]; skipped: string[] } {
  const named = parseBlocks(value);
  if (value !== undefined) return { blocks: named, skipped: [] };
  const fits = (name: BlockName) => bits <= (blockByName(name)?.maxBits ?? BITS_MAX) || spec?.blocks[name] !== undefined;
  return {
    blocks: named.filter(fits),
    skipped: named.filter((n) => !fits(n)).map((n) => `${n}: left out, it takes --bits up to ${blockByName(n)!.maxBits} (name it with --blocks to see why)`),
  };
}

export interface SpecFile {
  /** Per-block overrides. */
  blocks: Partial<Record<BlockName, unknown>>;
  /** The file's "prefix", if it has one. */
  prefix?: string;
  /** Short hash of the file's content, so that a configuration with overrides gets its own folder. */
  hash: string;
}

/** Reads and checks a --spec file: a JSON object whose keys are block names. */
export function readSpecFile(path: string | undefined): SpecFile | undefined {
  if (path === undefined) return undefined;
  const json = readJsonFile('--spec', path);
  const { prefix, ...blocks } = object('--spec', json);
  onlyKeys('--spec', { prefix, ...blocks }, ['prefix', ...BLOCK_NAMES]);
  const hash = createHash('sha256').update(canonicalJson(blocks)).digest('hex').slice(0, 8);
  return { blocks: blocks as SpecFile['blocks'], hash, ...(prefix === undefined ? {} : { prefix: checkPrefix('--spec prefix', prefix) }) };
}

/**
 * The configuration's folder name and module-name prefix: the folder is bits4 (bits4-<hash> with a spec file), and
 * -<prefix> is added when a prefix is given (--prefix wins over the spec file's); without one, the prefix is the
 * folder's name with '-' as '_', so that module names are unique per configuration.
 */
export function configNaming(bits: number, spec: SpecFile | undefined, cliPrefix: string | undefined): { folder: string; prefix: string } {
  const base = configName(bits, spec);
  const given = cliPrefix === undefined ? spec?.prefix : checkPrefix('--prefix', cliPrefix);
  return given === undefined ? { folder: base, prefix: base.replace(/-/g, '_') } : { folder: `${base}-${given}`, prefix: given };
}

/** JSON with object keys sorted, so equal specs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Resolves the selected blocks at `bits`, with their --spec sections. Every other section of the spec file is
 * resolved too and its result dropped: a malformed section is a SpecError (exit 2) whichever blocks are selected.
 */
export function resolveBlocks(bits: number, selected: readonly BlockName[], spec: SpecFile | undefined, prefix = ''): Array<{ block: Block<unknown>; spec: unknown }> {
  const resolved: Array<{ block: Block<unknown>; spec: unknown }> = [];
  for (const block of BLOCKS) {
    const section = spec?.blocks[block.name];
    if (!selected.includes(block.name) && section === undefined) continue;
    const s = block.resolve(bits, section, prefix);
    if (selected.includes(block.name)) resolved.push({ block, spec: s });
  }
  return resolved;
}

/** Folder name of a configuration: bits4, or bits4-1a2b3c4d with a spec file. */
export function configName(bits: number, spec: SpecFile | undefined): string {
  return spec ? `bits${bits}-${spec.hash}` : `bits${bits}`;
}
