// Same arguments, same bytes: two `gen` runs (as a user runs them) write identical folders for every block, and the
// atomic writer leaves either the old folder or the new one, never a mix and never a staging folder.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../generators/common/errors.ts';
import { writeFolderAtomic, type FileSet } from '../generators/common/files.ts';
import { BLOCKS } from '../generators/registry.ts';
import { generateConfiguration } from '../scripts/gen.ts';
import { sweepsWidth } from './setup/widths.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsx = join(root, 'node_modules/.bin/tsx');
const scratch = () => mkdtempSync(join(tmpdir(), 'determinism-'));

/** Every file under `dir` (relative path → bytes), sorted. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.set(relative(dir, full), readFileSync(full, 'latin1'));
    }
  };
  walk(dir);
  return out;
}

const gen = (args: string[]) => execa(tsx, ['scripts/gen.ts', ...args], { cwd: root, env: { NODE_OPTIONS: '' } });

describe('same arguments, same bytes', () => {
  it('two gen runs with the same arguments write identical folders, for every block', async () => {
    const [a, b] = [scratch(), scratch()];
    const runs = await Promise.all([gen(['--bits', '5', '--out', a]), gen(['--bits', '5', '--out', b])]);
    expect(runs.map((r) => r.stdout.replace(a, 'OUT').replace(b, 'OUT'))).toEqual([runs[0]!.stdout.replace(a, 'OUT'), runs[0]!.stdout.replace(a, 'OUT')]);
    const [sa, sb] = [snapshot(a), snapshot(b)];
    for (const block of BLOCKS) expect([...sa.keys()].some((p) => p.startsWith(`bits5/${block.name}/rtl/`)), block.name).toBe(true);
    expect([...sb.keys()]).toEqual([...sa.keys()]);
    for (const [path, bytes] of sa) expect(sb.get(path), path).toBe(bytes);
  });

  it('a spec file with its keys in another order gives the same folder name and bytes', async () => {
    const dir = scratch();
    const spec1 = join(dir, 'one.json');
    const spec2 = join(dir, 'two.json');
    writeFileSync(spec1, JSON.stringify({ gemm: { rows: 2, cols: 3 }, softmax: { max_length: 16, out_bits: 3 } }));
    writeFileSync(spec2, JSON.stringify({ softmax: { out_bits: 3, max_length: 16 }, gemm: { cols: 3, rows: 2 } }));
    const one = generateConfiguration({ bits: '4', blocks: 'gemm,softmax', spec: spec1 });
    const two = generateConfiguration({ bits: '4', blocks: 'gemm,softmax', spec: spec2 });
    expect(two.name).toBe(one.name);
    expect(one.name).toMatch(/^bits4-[0-9a-f]{8}$/);
    const configuration = (g: typeof one) => ({ ...JSON.parse(g.files.get('configuration.json')!), spec: undefined });
    expect(configuration(two)).toEqual(configuration(one));
    for (const [path, text] of one.files) if (path !== 'configuration.json') expect(two.files.get(path), path).toBe(text);
  });

  it('every block at every width it accepts (the encoder at a few, test/setup/widths.ts) generates the same files twice in one process, with no timestamp', async () => {
    for (const block of BLOCKS) {
      let generated = 0;
      for (let bits = 2; bits <= 16; bits++) {
        if (!sweepsWidth(block.name, bits)) continue;
        // Let the worker answer vitest between widths: on a busy machine a long synchronous loop times out its RPC.
        await new Promise((resolve) => setImmediate(resolve));
        let spec: unknown;
        try {
          spec = block.resolve(bits, undefined);
        } catch (err) {
          // A width a block refuses must be a clean SpecError (test/lint-blocks.test.ts checks which); anything else is a bug.
          if (err instanceof SpecError) continue;
          throw err;
        }
        generated++;
        const first = block.generate(spec);
        const second = block.generate(block.resolve(bits, undefined));
        expect([...second.keys()], `${block.name} bits ${bits}`).toEqual([...first.keys()]);
        for (const [path, text] of first) {
          expect(second.get(path), `${block.name} bits ${bits} ${path}`).toBe(text);
          expect(text, `${block.name} bits ${bits} ${path}`).not.toMatch(/\b20\d\d-\d\d-\d\d[T ]\d\d:\d\d/);
        }
      }
      expect(generated, `${block.name}: widths generated`).toBeGreaterThan(0);
    }
  });
});

describe('atomic writer', () => {
  const files = (entries: Record<string, string>): FileSet => new Map(Object.entries(entries));

  it('replaces a folder whole: no file of the old one survives, nothing is left beside it', () => {
    const out = scratch();
    writeFolderAtomic(out, 'cfg', files({ 'a/old.v': 'old', 'keep.txt': 'v1' }));
    const target = writeFolderAtomic(out, 'cfg', files({ 'keep.txt': 'v2', 'b/new.v': 'new' }));
    expect(target).toBe(join(out, 'cfg'));
    expect(readdirSync(out)).toEqual(['cfg']);
    expect(snapshot(target)).toEqual(new Map([['b/new.v', 'new'], ['keep.txt', 'v2']]));
  });

  it.each([
    ['a path escaping the folder', { 'ok.v': 'x', '../escape.v': 'y' }, /escapes its folder/],
    ['a file where a folder must go', { 'rtl': 'a file', 'rtl/top.v': 'x' }, /ENOTDIR|EEXIST/],
  ])('a failure while writing (%s) keeps the old folder as it was and leaves no staging folder', (_what, entries, error) => {
    const out = scratch();
    writeFolderAtomic(out, 'cfg', files({ 'top.v': 'old top', 'sub/leaf.v': 'old leaf' }));
    const before = snapshot(join(out, 'cfg'));
    expect(() => writeFolderAtomic(out, 'cfg', files(entries as Record<string, string>))).toThrow(error);
    expect(readdirSync(out)).toEqual(['cfg']);
    expect(snapshot(join(out, 'cfg'))).toEqual(before);
  });

  it('a failure on a first write leaves no folder at all', () => {
    const out = scratch();
    expect(() => writeFolderAtomic(out, 'cfg', files({ 'x': 'a file', 'x/y.v': 'z' }))).toThrow();
    expect(readdirSync(out)).toEqual([]);
  });

  it('a gen run that fails after validation (a block spec error) writes nothing into an existing output folder', async () => {
    const out = scratch();
    mkdirSync(join(out, 'bits4'));
    writeFileSync(join(out, 'bits4', 'previous.txt'), 'kept');
    const spec = join(out, 'bad.json');
    writeFileSync(spec, JSON.stringify({ gemm: { rows: 0 } }));
    const run = await execa(tsx, ['scripts/gen.ts', '--bits', '4', '--spec', spec, '--out', out], { cwd: root, reject: false, env: { NODE_OPTIONS: '' } });
    expect(run.exitCode).toBe(2);
    expect(readdirSync(out).sort()).toEqual(['bad.json', 'bits4']);
    expect(snapshot(join(out, 'bits4'))).toEqual(new Map([['previous.txt', 'kept']]));
  });
});
