// Lint: every hand-written module (templates/lib, tb/) and the rendered testbench are clean under
// `verilator --lint-only -Wall`, and the synthesizable ones under Yosys `hierarchy -check`; the linters' verdicts are
// read from their output, and each check is shown to fail on a module with a known defect.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FileSet } from '../generators/common/files.ts';
import { libraryFiles, type LibraryModule } from '../generators/common/library.ts';
import { inParallel, lintVerilator, lintVerilatorTops, lintYosys, lintYosysTops } from '../generators/common/lint.ts';
import { emitTestbench, TB_NAME, type Beat, type SimHarness } from '../generators/common/sim.ts';

const libModules = readdirSync(new URL('../templates/lib/', import.meta.url)).filter((f) => f.endsWith('.v.hbs')).map((f) => f.slice(0, -6));
const tbModules = readdirSync(new URL('../tb/', import.meta.url)).filter((f) => f.endsWith('.v')).map((f) => f.slice(0, -2));

const module = (name: string, body: string): FileSet =>
  new Map([[`${name}.v`, `\`resetall\n\`timescale 1ns / 1ps\n\`default_nettype none\n\nmodule ${name} (\n${body}\nendmodule\n\n\`resetall\n`]]);

describe('lint of hand-written modules', () => {
  it('finds the library modules and testbench modules to lint', () => {
    expect(libModules).toContain('axis_skid_buffer');
    expect(tbModules).toEqual(expect.arrayContaining(['axis_source', 'axis_sink']));
  });

  it('templates/lib modules are clean under Verilator -Wall and Yosys at several widths', async () => {
    // Modules with a DATA_WIDTH at several widths; the others (shift_add_step: widths its instances derive) at their defaults.
    const hasDataWidth = (m: string) => readFileSync(new URL(`../templates/lib/${m}.v.hbs`, import.meta.url), 'utf8').includes('DATA_WIDTH');
    const jobs = libModules.flatMap((m) => (hasDataWidth(m) ? [1, 8, 33] : [0]).map((w) => async () => {
      const files = libraryFiles([m as LibraryModule]);
      const params: Record<string, number> = w === 0 ? {} : { DATA_WIDTH: w };
      return { m, w, verilator: await lintVerilator(files, m, { params }), yosys: await lintYosys(files, m, { params }) };
    }));
    for (const r of await inParallel(jobs)) expect(r, `${r.m} DATA_WIDTH=${r.w || 'default'}`).toEqual({ m: r.m, w: r.w, verilator: [], yosys: [] });
  });

  it('tb/ modules and the rendered testbench (with and without a mid-stream reset, with stalls) are clean under Verilator -Wall', async () => {
    const beats: Beat[] = [{ data: 1n, last: false }, { data: 2n, last: true }];
    const harness: SimHarness = {
      dut: 'axis_skid_buffer', params: [{ name: 'DATA_WIDTH', value: 5 }], rtl: libraryFiles(['axis_skid_buffer']),
      inputs: [{ prefix: 's_axis', width: 5, beats }], output: { prefix: 'm_axis', width: 5, expectedBeats: 2 }, maxCycles: 20,
    };
    const jobs = [
      ...tbModules.map((m) => () => lintVerilator(new Map([[`${m}.v`, readFileSync(new URL(`../tb/${m}.v`, import.meta.url), 'utf8')]]), m)),
      ...[{}, { stallPercent: 30, midReset: { cycle: 10, restartAt: { s_axis: 1 } } }].map((options) => () =>
        lintVerilator(new Map([...emitTestbench(harness, options), ...harness.rtl]), TB_NAME, { timing: true })),
    ];
    expect(await inParallel(jobs)).toEqual(jobs.map(() => []));
  });
});

describe('the linters catch defects', () => {
  it('Verilator -Wall reports an unused signal and a width mismatch with their codes', async () => {
    const bad = module('bad_width', '    input  wire [3:0] x,\n    output wire [3:0] y\n);\nwire [3:0] spare;\nassign y = x + 5\'d1;');
    const findings = await lintVerilator(bad, 'bad_width');
    expect(findings.some((l) => l.startsWith('%Warning-WIDTH'))).toBe(true);
    expect(findings.some((l) => l.startsWith('%Warning-UNUSEDSIGNAL'))).toBe(true);
  });

  it('Yosys hierarchy -check reports a missing module and an implicit wire', async () => {
    const missing = module('bad_missing', '    input  wire x,\n    output wire y\n);\nnot_defined not_defined_inst (.a(x), .b(y));');
    expect((await lintYosys(missing, 'bad_missing')).join('\n')).toMatch(/not_defined/);
    const implicit = new Map([['bad_implicit.v', 'module bad_implicit (input wire x, output wire y);\nassign z = x;\nassign y = z;\nendmodule\n']]);
    expect((await lintYosys(implicit, 'bad_implicit')).join('\n')).toMatch(/Warning: Identifier `\\z' is implicitly declared/);
  });

  it('Yosys over several tops in one run reports the missing module under the second top, and a module defined twice', async () => {
    const clean = module('good_top', '    input  wire x,\n    output wire y\n);\nassign y = x;');
    const missing = module('bad_missing', '    input  wire x,\n    output wire y\n);\nnot_defined not_defined_inst (.a(x), .b(y));');
    const both: FileSet = new Map([...clean, ...missing]);
    expect(await lintYosysTops(clean, ['good_top'])).toEqual([]);
    expect((await lintYosysTops(both, ['good_top', 'bad_missing'])).join('\n')).toMatch(/not_defined/);
    const twice: FileSet = new Map([...clean, ['copy/good_top.v', clean.get('good_top.v')!]]);
    expect(await lintYosysTops(twice, ['good_top'])).not.toEqual([]);
    // Read with -defer, a module is elaborated under its top: an implicit wire in an instantiated module still shows
    const implicit = new Map([['bad_implicit.v', 'module bad_implicit (input wire x, output wire y);\nassign z = x;\nassign y = z;\nendmodule\n']]);
    const user = module('implicit_user', '    input  wire x,\n    output wire y\n);\nbad_implicit bad_implicit_inst (.x(x), .y(y));');
    expect((await lintYosysTops(new Map([...clean, ...user, ...implicit]), ['good_top', 'implicit_user'])).join('\n')).toMatch(/Warning: Identifier `\\z' is implicitly declared/);
  });

  it('Verilator over several tops in one run reports a defect under the second top, a top too many or too few, and a module defined twice', async () => {
    const first = module('good_top', '    input  wire x,\n    output wire y\n);\nassign y = x;');
    const second = module('other_top', '    input  wire x,\n    output wire y\n);\nassign y = ~x;');
    const clean: FileSet = new Map([...first, ...second]);
    expect(await lintVerilatorTops(clean, ['good_top', 'other_top'])).toEqual([]);
    const unused = module('bad_unused', '    input  wire [3:0] x,\n    output wire [3:0] y\n);\nwire [3:0] spare;\nassign y = x;');
    expect((await lintVerilatorTops(new Map([...first, ...unused]), ['good_top', 'bad_unused'])).join('\n')).toMatch(/%Warning-UNUSEDSIGNAL/);
    expect((await lintVerilatorTops(clean, ['good_top', 'third_top'])).join('\n')).toMatch(/found the top modules good_top, other_top, expected good_top, third_top/);
    const twice: FileSet = new Map([...clean, ['copy/good_top.v', first.get('good_top.v')!]]);
    expect(await lintVerilatorTops(twice, ['good_top', 'other_top'])).not.toEqual([]);
  });
});
