/**
 * npm run gen -- --bits 4: validates everything first, then writes RTL, testbenches, vectors and manifests for each
 * block into one configuration folder, atomically.
 */
import { checkWritableFolder, writeFolderAtomic, type FileSet } from '../generators/common/files.ts';
import { GENERATOR_NAME, GENERATOR_VERSION } from '../generators/common/verilog.ts';
import { blockByName } from '../generators/registry.ts';
import { configNaming, parseBits, parseBlocks, parseCli, readSpecFile, runMain } from './cli.ts';
import { GEN_HELP } from './help.generated.ts';

export interface Generated {
  name: string;
  files: FileSet;
  blocks: string[];
}

/** Everything `gen` would write, computed in memory from the arguments. */
export function generateConfiguration(args: { bits?: string; blocks?: string; spec?: string; prefix?: string }): Generated {
  const bits = parseBits(args.bits);
  const blocks = parseBlocks(args.blocks);
  const spec = readSpecFile(args.spec);
  const { folder: name, prefix } = configNaming(bits, spec, args.prefix);
  const files: FileSet = new Map();
  const resolved = blocks.map((blockName) => {
    const block = blockByName(blockName)!;
    return { block, spec: block.resolve(bits, spec?.blocks[blockName], prefix) };
  });
  for (const { block, spec: s } of resolved) {
    for (const [path, text] of block.generate(s)) files.set(`${block.name}/${path}`, text);
  }
  files.set('configuration.json', JSON.stringify({ generator: GENERATOR_NAME, version: GENERATOR_VERSION, bits, prefix, blocks, spec: spec?.blocks ?? {} }, null, 2) + '\n');
  return { name, files, blocks };
}

async function main(): Promise<number> {
  const args = parseCli(process.argv.slice(2), {
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
  const target = writeFolderAtomic(out, generated.name, generated.files);
  for (const block of generated.blocks) {
    const count = [...generated.files.keys()].filter((p) => p.startsWith(`${block}/`)).length;
    process.stdout.write(`${block.padEnd(10)} ${count} files\n`);
  }
  process.stdout.write(`wrote ${target}\n`);
  return 0;
}

if (process.argv[1]?.endsWith('gen.ts')) runMain(main);
