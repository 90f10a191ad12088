// Blocks as a user drops them into a design: every generated rtl/ file of two configurations (different prefixes) read
// together by Verilator -Wall and Yosys with no duplicate module, and each block's standalone testbench run from its
// Makefile, on Icarus and on Verilator, passing as generated, and (one block) failing when one expected value is changed.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileSet } from '../generators/common/files.ts';
import { lintVerilatorTops, lintYosysTops } from '../generators/common/lint.ts';
import { ensureIcarus, ensureVerilator } from '../generators/common/sim.ts';
import { writeFolderAtomic } from '../generators/common/files.ts';
import { BLOCKS } from '../generators/registry.ts';
import { generateConfiguration } from '../scripts/gen.ts';

const blocks = BLOCKS.map((b) => b.name).join(',');
const tops = (files: FileSet) => [...files].filter(([p]) => p.endsWith('rtl/manifest.json')).map(([, t]) => (JSON.parse(t) as { top: string }).top);
const rtlOnly = (files: FileSet, under: string) => new Map([...files].filter(([p]) => /\/rtl\/[^/]+\.v$/.test(p)).map(([p, t]) => [`${under}/${p}`, t]));

describe('two configurations in one design', () => {
  const one = generateConfiguration({ bits: '4', blocks });
  const two = generateConfiguration({ bits: '4', blocks, prefix: 'acc1' });
  const design: FileSet = new Map([...rtlOnly(one.files, 'one'), ...rtlOnly(two.files, 'two')]);

  it('gives every module a prefixed name: the default one (bits4) and the given one (acc1)', () => {
    const names = (files: FileSet) => [...files.keys()].filter((p) => p.endsWith('.v')).map((p) => p.split('/').at(-1)!);
    expect(names(rtlOnly(one.files, 'x')).every((n) => n.startsWith('bits4_'))).toBe(true);
    expect(names(rtlOnly(two.files, 'x')).every((n) => n.startsWith('acc1_'))).toBe(true);
    for (const [path, text] of design) {
      const declared = [...text.matchAll(/^module\s+(\w+)/gm)].map((m) => `${m[1]}.v`);
      expect(declared, path).toEqual([path.split('/').at(-1)]);
    }
  });

  it('reads into Verilator -Wall and Yosys together, under every top, with no duplicate module', async () => {
    const all = [...tops(one.files), ...tops(two.files)];
    expect(all.length).toBe(2 * BLOCKS.length);
    // Both read the sources once: Verilator elaborates every top (the modules nothing instantiates must be exactly
    // these), Yosys checks the hierarchy under each
    const [verilator, yosys] = await Promise.all([lintVerilatorTops(design, all), lintYosysTops(design, all)]);
    expect(verilator).toEqual([]);
    expect(yosys).toEqual([]);
  });
});

describe('standalone testbench (make, no Node)', () => {
  const out = mkdtempSync(join(tmpdir(), 'dropin-'));
  const generated = generateConfiguration({ bits: '4', blocks });
  const folder = writeFolderAtomic(out, generated.name, generated.files);
  const make = (block: string, ...args: string[]) => execa('make', ['-C', join(folder, block, 'tb'), ...args], { reject: false });

  it.each(BLOCKS.map((b) => b.name))('%s passes on Icarus as generated', async (block) => {
    await ensureIcarus();
    const pass = await make(block);
    expect(pass.stdout).toMatch(/^PASS \d+ outputs$/m);
    expect(pass.exitCode).toBe(0);
  });

  // The check is the shared testbench's (tb_top and axis_sink, the same for every block), so one block stands for all;
  // a mutated run simulates to the end, as long as the passing one (about 14 s for the encoder).
  it('fails when one expected value changes (gemm)', async () => {
    await ensureIcarus();
    const expected = join(folder, 'gemm', 'vectors', 'expected.hex');
    const words = readFileSync(expected, 'utf8').split('\n');
    // Flip the lowest bit of the third word: a wrong value the testbench must catch.
    words[2] = (BigInt(`0x${words[2]}`) ^ 1n).toString(16).padStart(words[2]!.length, '0');
    writeFileSync(expected, words.join('\n'));
    const fail = await make('gemm');
    expect(fail.stdout).toMatch(/^FAIL first difference at output beat 2 /m);
    expect(fail.exitCode).not.toBe(0);
  });

  it('runs on Verilator with make SIM=verilator', async () => {
    await ensureVerilator();
    const fresh = writeFolderAtomic(mkdtempSync(join(tmpdir(), 'dropin-v-')), generated.name, new Map([...generated.files].filter(([p]) => p.startsWith('gemm/'))));
    const run = await execa('make', ['-C', join(fresh, 'gemm', 'tb'), 'SIM=verilator'], { reject: false });
    expect(run.stdout).toMatch(/^PASS \d+ outputs$/m);
    expect(run.exitCode).toBe(0);
  });
});
