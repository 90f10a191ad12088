// What `gen` writes into an --out folder that already holds output: each call replaces only the block folders it
// generates (and configuration.json, which lists every block present), never deletes what another call wrote, and
// writes nothing at all when anything is wrong, including a malformed spec section of a block that is not selected.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { writeEntriesAtomic, type FileSet, type FolderEntry } from '../generators/common/files.ts';
import { generateConfiguration, main as genMain } from '../scripts/gen.ts';
import { main as verifyMain } from '../scripts/verify.ts';
import { runInProcess } from './setup/cli.ts';

// renameSync with a switch to make one rename fail, for the roll-back test (everything else passes through).
const fsHooks = vi.hoisted(() => ({ failOnRename: undefined as undefined | ((from: string, to: string) => boolean) }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const renameSync = (from: string, to: string) => {
    if (fsHooks.failOnRename?.(String(from), String(to))) throw new Error(`EIO: injected failure renaming ${from}`);
    actual.renameSync(from, to);
  };
  return { ...actual, default: { ...actual, renameSync }, renameSync };
});

const scratch = () => mkdtempSync(join(tmpdir(), 'gen-output-'));
/** `npm run gen` as its main in-process (test/setup/cli.ts); test/cli.test.ts runs it through tsx too. */
const gen = (args: string[]) => runInProcess(genMain, args);

/** Every file under `dir` (relative path → text), sorted. */
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

describe('gen into an output folder that already holds output', () => {
  it('gen --blocks softmax, then gen --blocks gemm: both blocks stay, byte for byte what one call writes', async () => {
    const [twoCalls, oneCall] = [scratch(), scratch()];
    expect((await gen(['--blocks', 'softmax', '--out', twoCalls])).exitCode).toBe(0);
    const softmaxFirst = snapshot(join(twoCalls, 'bits4', 'softmax'));
    expect((await gen(['--blocks', 'gemm', '--out', twoCalls])).exitCode).toBe(0);
    expect((await gen(['--blocks', 'gemm,softmax', '--out', oneCall])).exitCode).toBe(0);
    expect(snapshot(join(twoCalls, 'bits4', 'softmax'))).toEqual(softmaxFirst);
    expect(readdirSync(twoCalls)).toEqual(['bits4']);
    expect(readdirSync(join(twoCalls, 'bits4')).sort()).toEqual(['configuration.json', 'gemm', 'softmax']);
    expect(snapshot(twoCalls)).toEqual(snapshot(oneCall));
    expect(JSON.parse(readFileSync(join(twoCalls, 'bits4', 'configuration.json'), 'utf8')).blocks).toEqual(['gemm', 'softmax']);
  });

  it('a second call replaces its own block folder whole, and leaves files it did not write (e.g. a report) alone', async () => {
    const out = scratch();
    expect((await gen(['--blocks', 'gemm,softmax', '--out', out])).exitCode).toBe(0);
    const softmax = snapshot(join(out, 'bits4', 'softmax'));
    writeFileSync(join(out, 'bits4', 'gemm', 'rtl', 'stale.v'), 'left over');
    writeFileSync(join(out, 'bits4', 'report.md'), 'a user file');
    expect((await gen(['--blocks', 'gemm', '--out', out])).exitCode).toBe(0);
    expect(readdirSync(join(out, 'bits4', 'gemm', 'rtl'))).not.toContain('stale.v');
    expect(readFileSync(join(out, 'bits4', 'report.md'), 'utf8')).toBe('a user file');
    expect(snapshot(join(out, 'bits4', 'softmax'))).toEqual(softmax);
    expect(JSON.parse(readFileSync(join(out, 'bits4', 'configuration.json'), 'utf8')).blocks).toEqual(['gemm', 'softmax']);
    expect(readdirSync(join(out, 'bits4')).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(readdirSync(out)).toEqual(['bits4']);
  });

  it('a malformed section of a block that is not selected exits 2 naming it, and writes nothing', async () => {
    const out = scratch();
    expect((await gen(['--blocks', 'softmax', '--out', out])).exitCode).toBe(0);
    const before = snapshot(out);
    const spec = join(scratch(), 'bad-softmax.json');
    writeFileSync(spec, JSON.stringify({ gemm: { rows: 2 }, softmax: { max_length: 0 } }));
    const run = await gen(['--blocks', 'gemm', '--spec', spec, '--out', out]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(/^error: softmax\.max_length: must be an integer from 1 to 4096 \(got 0\)$/);
    expect(snapshot(out)).toEqual(before);
    // The same check in process, and for a section that is not even an object.
    expect(() => generateConfiguration({ blocks: 'gemm', spec })).toThrow(/softmax\.max_length/);
    writeFileSync(spec, JSON.stringify({ layernorm: [1, 2] }));
    expect(() => generateConfiguration({ blocks: 'gemm,softmax', spec })).toThrow(/^layernorm/);
  });

  it('npm run verify refuses a malformed section of a block it does not run, too', async () => {
    const spec = join(scratch(), 'bad-layernorm.json');
    writeFileSync(spec, JSON.stringify({ layernorm: { channels: 4 } }));
    const run = await runInProcess(verifyMain, ['--blocks', 'gemm', '--spec', spec]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(/^error: layernorm\.channels: must be an integer from 8 to 1024 \(got 4\)$/);
  });
});

describe('writeEntriesAtomic', () => {
  const set = (entries: Record<string, string>): FileSet => new Map(Object.entries(entries));
  const folder = (entries: Array<[string, FolderEntry]>) => new Map<string, FolderEntry>(entries);

  it('replaces the entries it is given, keeps every other entry, leaves nothing beside the folder', () => {
    const out = scratch();
    writeEntriesAtomic(out, 'cfg', folder([['a', set({ 'x.v': 'a1', 'old.v': 'gone' })], ['b', set({ 'y.v': 'b1' })], ['top.json', 't1']]));
    writeEntriesAtomic(out, 'cfg', folder([['a', set({ 'x.v': 'a2' })], ['top.json', 't2']]));
    expect(snapshot(join(out, 'cfg'))).toEqual(new Map([['a/x.v', 'a2'], ['b/y.v', 'b1'], ['top.json', 't2']]));
    expect(readdirSync(out)).toEqual(['cfg']);
  });

  it.each([
    ['a path escaping its entry', { 'ok.v': 'x', '../../escape.v': 'y' }, /escapes its folder/],
    ['a file where a folder must go', { 'rtl': 'a file', 'rtl/top.v': 'x' }, /ENOTDIR|EEXIST/],
  ])('a failure while writing (%s) changes nothing, in an existing folder and in a new one', (_what, bad, error) => {
    const out = scratch();
    writeEntriesAtomic(out, 'cfg', folder([['a', set({ 'x.v': 'old a' })], ['b', set({ 'y.v': 'old b' })]]));
    const before = snapshot(out);
    const entries = folder([['a', set({ 'x.v': 'new a' })], ['b', set(bad as Record<string, string>)], ['top.json', 'new']]);
    expect(() => writeEntriesAtomic(out, 'cfg', entries)).toThrow(error);
    expect(snapshot(out)).toEqual(before);
    expect(readdirSync(out)).toEqual(['cfg']);
    expect(() => writeEntriesAtomic(out, 'fresh', entries)).toThrow(error);
    expect(readdirSync(out)).toEqual(['cfg']);
  });

  it('a failure while moving entries into place puts back the old ones already swapped', () => {
    const out = scratch();
    writeEntriesAtomic(out, 'cfg', folder([['a', set({ 'x.v': 'old a' })], ['b', set({ 'y.v': 'old b' })], ['keep', 'kept']]));
    const before = snapshot(out);
    // "a" is swapped first (sorted order); moving the new "b" into place then fails.
    fsHooks.failOnRename = (from, to) => from.includes('.staging-') && to.endsWith(join('cfg', 'b'));
    try {
      expect(() => writeEntriesAtomic(out, 'cfg', folder([['a', set({ 'x.v': 'new a' })], ['b', set({ 'y.v': 'new b' })]]))).toThrow(/injected/);
    } finally {
      fsHooks.failOnRename = undefined;
    }
    expect(snapshot(out)).toEqual(before);
    expect(readdirSync(out)).toEqual(['cfg']);
  });
});
