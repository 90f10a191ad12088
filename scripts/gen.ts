/**
 * npm run gen -- --bits 4: validates everything first, then writes RTL, testbenches, vectors and manifests for each
 * block into its folder of the configuration folder, atomically. A block folder another call wrote stays.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCK_NAMES, type BlockName } from '../generators/block.ts';
import { checkWritableFolder, writeEntriesAtomic, type FileSet, type FolderEntry } from '../generators/common/files.ts';
import { GENERATOR_NAME, GENERATOR_VERSION } from '../generators/common/verilog.ts';
import { configNaming, parseBits, parseCli, readSpecFile, resolveBlocks, runMain, selectBlocks, type SpecFile } from './cli.ts';
import { GEN_HELP } from './help.generated.ts';

export interface Generated {
  name: string;
  /** The module-name prefix (common/names.ts). */
  prefix: string;
  bits: number;
  spec: SpecFile | undefined;
  /** `<block>/...` for every generated block, and configuration.json (listing these blocks). */
  files: FileSet;
  blocks: BlockName[];
  /** Blocks left out because they do not take --bits (selectBlocks), one line each. */
  skipped: string[];
}

/** configuration.json of a configuration folder holding `blocks` (in registry order: the same blocks, the same bytes). */
export function configurationJson(bits: number, prefix: string, blocks: readonly BlockName[], spec: SpecFile | undefined): string {
  const ordered = BLOCK_NAMES.filter((b) => blocks.includes(b));
  return JSON.stringify({ generator: GENERATOR_NAME, version: GENERATOR_VERSION, bits, prefix, blocks: ordered, spec: spec?.blocks ?? {} }, null, 2) + '\n';
}

/** Everything `gen` would write, computed in memory from the arguments (every spec section validated). */
export function generateConfiguration(args: { bits?: string; blocks?: string; spec?: string; prefix?: string }): Generated {
  const bits = parseBits(args.bits);
  const spec = readSpecFile(args.spec);
  const { blocks, skipped } = selectBlocks(args.blocks, bits, spec);
  const { folder: name, prefix } = configNaming(bits, spec, args.prefix);
  const files: FileSet = new Map();
  for (const { block, spec: s } of resolveBlocks(bits, blocks, spec, prefix)) {
    for (const [path, text] of block.generate(s)) files.set(`${block.name}/${path}`, text);
  }
  files.set('configuration.json', configurationJson(bits, prefix, blocks, spec));
  return { name, prefix, bits, spec, files, blocks, skipped };
}

/** Block folders already in `folder` (written by an earlier call), by name. */
function blockFoldersIn(folder: string): BlockName[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return BLOCK_NAMES.filter((b) => names.includes(b) && statSync(join(folder, b)).isDirectory());
}

/**
 * Writes a generated configuration into `out/<name>/`: each generated block's folder replaces only that block's
 * folder, configuration.json is rewritten to list every block folder present afterwards, and `extra` top-level files
 * (e.g. synthesis reports) are written beside it. Nothing else in the folder is touched; nothing is written on error.
 */
export function writeConfiguration(out: string, generated: Generated, extra: FileSet = new Map()): string {
  const entries = new Map<string, FolderEntry>();
  for (const block of generated.blocks) {
    const prefix = `${block}/`;
    entries.set(block, new Map([...generated.files].filter(([p]) => p.startsWith(prefix)).map(([p, t]) => [p.slice(prefix.length), t])));
  }
  const present = [...new Set([...blockFoldersIn(join(out, generated.name)), ...generated.blocks])];
  entries.set('configuration.json', configurationJson(generated.bits, generated.prefix, present, generated.spec));
  for (const [path, text] of extra) {
    if (path.includes('/') || entries.has(path)) throw new Error(`extra configuration file must be a new top-level name: ${path}`);
    entries.set(path, text);
  }
  return writeEntriesAtomic(out, generated.name, entries);
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const args = parseCli(argv, {
    bits: { type: 'string' },
    blocks: { type: 'string' },
    out: { type: 'string' },
    spec: { type: 'string' },
    prefix: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (args.help) {
    process.stdout.write(`${GEN_HELP}\n`);
    return 0;
  }
  const out = args.out ?? 'rtl-out';
  checkWritableFolder('--out', out);
  const generated = generateConfiguration(args);
  const target = writeConfiguration(out, generated);
  for (const line of generated.skipped) process.stderr.write(`${line}\n`);
  for (const block of generated.blocks) {
    const count = [...generated.files.keys()].filter((p) => p.startsWith(`${block}/`)).length;
    process.stdout.write(`${block.padEnd(10)} ${count} files\n`);
  }
  process.stdout.write(`wrote ${target}\n`);
  return 0;
}

if (process.argv[1]?.endsWith('gen.ts')) runMain(main);
