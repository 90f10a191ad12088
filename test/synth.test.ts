import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { libraryFiles } from '../generators/common/library.ts';
import { simulateAndCompare } from '../generators/common/sim.ts';
import { expectedBeats } from '../generators/gemm/driver.ts';
import { defaultProblem, harnessFor, integerProblem } from '../generators/gemm/index.ts';
import { emitRtl, gemmArrayTop, gemmTop } from '../generators/gemm/rtl.ts';
import { resolveGemm } from '../generators/gemm/spec.ts';
import { lintVerilator } from '../generators/common/lint.ts';
import { DEFAULT_FLOW, NEXTPNR_DOES_NOT_FIT, subtractCells, synthCommand, synthesizeDesign, verilogInteger, yosysJob, type SynthDesign } from '../generators/synth/flow.ts';
import { chainLayout, emitHarness, emitStub, HARNESS_TOP, type PortInfo } from '../generators/synth/harness.ts';
import { lineChartSvg } from '../generators/synth/plot.ts';
import { cellsFromStat, parseNextpnrOverflow } from '../generators/synth/report.ts';
import { buildReport, reportMarkdown, reportPlots } from '../generators/synth/summary.ts';
import { JobSlots, ToolError, ToolRunner } from '../generators/synth/tools.ts';
import { SYNTH_HELP } from '../scripts/help.generated.ts';
import { main as synthMain } from '../scripts/synth.ts';
import { runInProcess } from './setup/cli.ts';

// One small configuration through the whole flow: the skid buffer (the library's leaf module) synthesized for iCE40
// HX8K (placed and routed through the pin harness), ECP5 and Xilinx 7-series. Speed is not asserted; the benchmark
// measures it.
const skid: SynthDesign = {
  name: 'skid',
  top: 'axis_skid_buffer',
  files: Object.fromEntries(libraryFiles(['axis_skid_buffer'])),
};
// The skid buffer's registers: output and skid copies of tdata (DATA_WIDTH = 8 by default), tlast and tvalid.
const SKID_DATA_WIDTH = Number(/parameter DATA_WIDTH = (\d+)/.exec(skid.files['axis_skid_buffer.v']!)![1]);
const SKID_FLOPS = 2 * (SKID_DATA_WIDTH + 2);

describe('synthesis flow on the skid buffer', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'synth-cache-'));

  it('reports the block own resources and Fmax on every family, and the harness separately', async () => {
    const runner = new ToolRunner({ cacheDir });
    const steps: string[] = [];
    const report = await synthesizeDesign(skid, DEFAULT_FLOW, runner, (label) => steps.push(label));
    expect(report.rows.map((r) => r.device)).toEqual(['hx8k', 'ecp5', 'xc7']);
    expect(steps).toHaveLength(5);
    const [ice40, ecp5, xc7] = report.rows;
    for (const row of report.rows) {
      expect(Object.keys(row).slice(0, 9)).toEqual(['block', 'device', 'lc', 'lut', 'ff', 'carry', 'bram', 'dsp', 'fmax_mhz']);
      expect(row.ff).toBe(SKID_FLOPS);
      expect(row.lut).toBeGreaterThan(0);
      expect(row.cached).toBe(false);
    }
    expect(ice40!.lc).toBeGreaterThan(0);
    expect(ice40!.fmax_mhz).toBeGreaterThan(0);
    expect(ecp5!.lc).toBeNull();
    expect(xc7!.fmax_mhz).toBeNull();
    // The block's LCs are the routed total minus the harness alone; every chain bit is a flip-flop in its own LC.
    const routed = ice40!.routed!;
    const layout = chainLayout(skid.top, report.ports);
    expect(routed.lc_total - routed.harness_lc).toBe(ice40!.lc);
    expect(routed.harness_lc).toBeGreaterThanOrEqual(layout.inWidth + layout.outWidth);
    expect(routed.io).toBe(5);
    expect(routed.fits).toBe(true);
    // The critical path names the registers nextpnr timed, inside the block or the harness chain.
    expect(routed.critical_path!.from).toMatch(/axis_skid_buffer_inst\.|in_chain_reg|out_chain_reg/);
    expect(routed.critical_path!.logic_ns).toBeGreaterThan(0);
    // No I/O buffers are counted as logic on Xilinx (synthesized without pads).
    expect(Object.keys(xc7!.cells).filter((c) => /BUF/.test(c) && c !== 'BUFG')).toEqual([]);

    const summary = buildReport('skid4', 4, DEFAULT_FLOW, [report]);
    expect(summary.rows).toHaveLength(3);
    expect(reportMarkdown(summary)).toContain(`| skid | hx8k | ${ice40!.lc} | ${ice40!.lut} | ${ice40!.ff} |`);
    const plots = reportPlots([summary, { ...summary, bits: 8, rows: summary.rows.map((r) => ({ ...r, lc: (r.lc ?? 0) * 2 })) }]);
    expect(plots['resources.svg']).toContain('<polyline');
    expect(plots['fmax.svg']).toContain('100 MHz target');
  });

  it('serves an unchanged design from the cache, with the same figures', async () => {
    const runner = new ToolRunner({ cacheDir });
    const first = await synthesizeDesign(skid, DEFAULT_FLOW, runner);
    const again = await synthesizeDesign(skid, DEFAULT_FLOW, runner);
    expect(again.rows.every((r) => r.cached)).toBe(true);
    expect(again.rows).toEqual(first.rows);
    // A different placer seed is a different job.
    expect(ToolRunner.key({ label: 'x', steps: [{ tool: 'nextpnr-ice40', args: ['--seed', '1'] }], files: {}, keep: [] }))
      .not.toBe(ToolRunner.key({ label: 'x', steps: [{ tool: 'nextpnr-ice40', args: ['--seed', '2'] }], files: {}, keep: [] }));
  });

  it('gives a freed slot to the waiting job of highest priority, in arrival order among equals (the benchmark runs its own designs first)', async () => {
    const slots = new JobSlots(2);
    const started: string[] = [];
    const take = (name: string, priority: number) => slots.acquire(priority).then(() => started.push(name));
    // Two slots: the first two callers start at once, whatever their priority; the rest wait.
    const all = [take('first', -1), take('second', 0), take('low', -1), take('own a', 2), take('array', 1), take('own b', 2), take('plain', 0)];
    await Promise.resolve();
    expect(started).toEqual(['first', 'second']);
    for (let i = 0; i < 5; i++) {
      slots.release();
      await Promise.resolve();
      await Promise.resolve();
    }
    await Promise.all(all);
    expect(started).toEqual(['first', 'second', 'own a', 'own b', 'array', 'plain', 'low']);
    // Each release with nobody waiting frees a slot: two callers start at once again.
    slots.release();
    slots.release();
    const again: string[] = [];
    await Promise.all([slots.acquire(0).then(() => again.push('x')), slots.acquire(-5).then(() => again.push('y'))]);
    expect(again).toEqual(['x', 'y']);
  });

  it('fails with the tool\'s own error lines on broken Verilog', async () => {
    const broken: SynthDesign = { name: 'broken', top: 'broken', files: { 'broken.v': 'module broken(input wire clk, output wire q);\nassign q = nosuchsignal +;\nendmodule\n' } };
    const error = await synthesizeDesign(broken, DEFAULT_FLOW, new ToolRunner()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).tool).toBe('yosys');
    expect((error as ToolError).lines.join('\n')).toMatch(/broken\.v:2: ERROR: syntax error/);
  });
});

describe('parameter overrides', () => {
  it('writes negative values as 32-bit signed constants, which chparam parses', () => {
    expect(verilogInteger(197)).toBe('197');
    expect(verilogInteger(-2)).toBe("32'shfffffffe");
    expect(() => verilogInteger(2 ** 40)).toThrow(/not a 32-bit integer/);
  });
});

describe('block figures from the harnessed design', () => {
  it('subtract the harness alone per cell type, dropping types the harness accounts for', () => {
    expect(subtractCells({ SB_LUT4: 30, SB_DFF: 22, SB_DFFE: 20, SB_CARRY: 4 }, { SB_LUT4: 11, SB_DFF: 22 }))
      .toEqual({ SB_LUT4: 19, SB_DFFE: 20, SB_CARRY: 4 });
  });
});

describe('nextpnr logs', () => {
  it('reads the packed utilisation of a design that does not fit', () => {
    const log = [
      'Info: Device utilisation:',
      'Info: \t         ICESTORM_LC:  8374/ 7680   109%',
      'Info: \t        ICESTORM_RAM:     2/   32     6%',
      'Info: \t               SB_IO:     5/  256     1%',
      'ERROR: Failed to expand region (0, 0) |_> (33, 33) of 8374 ICESTORM_LCs',
    ].join('\n');
    expect(parseNextpnrOverflow(log)).toEqual({ lc: 8374, available_lc: 7680, bram: 2, dsp: 0, io: 5, fmax_mhz: null });
    expect(() => parseNextpnrOverflow('ERROR: something else')).toThrow(/no ICESTORM_LC/);
  });

  it('takes the three placement failures of a design too large for the device as "does not fit", and no other error', () => {
    // nextpnr's placer messages (the third came from the softmax at 8 bits with 4 lanes, 2026-12-02)
    for (const line of [
      'ERROR: Failed to expand region (0, 0) |_> (33, 33) of 8374 ICESTORM_LCs',
      'ERROR: Unable to place cell \'x\', no BELs remaining to implement cell type \'ICESTORM_LC\'',
      'ERROR: Unable to find legal placement for all cells, design is probably at utilisation limit.',
    ]) expect(NEXTPNR_DOES_NOT_FIT.test(line), line).toBe(true);
    expect(NEXTPNR_DOES_NOT_FIT.test('ERROR: Max frequency for clock \'clk\': 12.00 MHz')).toBe(false);
    expect(NEXTPNR_DOES_NOT_FIT.test('ERROR: nextpnr-ice40 crashed: unreachable')).toBe(false);
  });
});

describe('pin harness', () => {
  const ports = (inWidth: number, outWidth: number): PortInfo[] => [
    { name: 'clk', direction: 'input', width: 1 },
    { name: 'rst', direction: 'input', width: 1 },
    { name: 's_axis_tdata', direction: 'input', width: inWidth },
    { name: 'm_axis_tdata', direction: 'output', width: outWidth },
  ];

  it.each([[1, 1], [1, 9], [12, 3]])('is lint-clean with its stub for %i input and %i output bits', async (inWidth, outWidth) => {
    const p = ports(inWidth, outWidth);
    const files = new Map([[`${HARNESS_TOP}.v`, emitHarness('dut', p)], ['dut.v', emitStub('dut', p)]]);
    expect(await lintVerilator(files, HARNESS_TOP)).toEqual([]);
  });

  it('rejects a design without a clock', () => {
    expect(() => emitHarness('dut', ports(4, 4).slice(1))).toThrow(/no clk input/);
  });
});

describe('SVG plot', () => {
  it('is deterministic and names every series', () => {
    const chart = { title: 't', xLabel: 'bits', yLabel: 'LC', series: [{ name: 'a<b', points: [{ x: 8, y: 10 }, { x: 4, y: 5 }] }, { name: 'c', points: [{ x: 4, y: 1 }] }] };
    const svg = lineChartSvg(chart);
    expect(svg).toBe(lineChartSvg(chart));
    expect(svg).toContain('a&lt;b');
    expect(svg.match(/<circle/g)).toHaveLength(3);
  });
});

// The command synthesizing a block, its report, plots and JSON: test/sweep.test.ts, on the sweep's one-MAC GEMM (from
// the synthesis cache that sweep fills).
describe('npm run synth', () => {
  it.each([
    [['--device', 'xc7'], /--device: must be one of hx8k, up5k/],
    [['--families', 'ice40,gowin'], /--families: must be one of ice40, ecp5, xilinx/],
    [['--bits', '4,1'], /--bits: must be an integer from 2 to 16/],
  ])('rejects %j with one line and exit status 2', async (args, message) => {
    const run = await runInProcess(synthMain, args);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });

  it('prints its generated help', async () => {
    const run = await runInProcess(synthMain, ['--help']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(SYNTH_HELP);
  });
});

describe('gemm rows carry their MACs', () => {
  it('reads macs = rows * cols from the generated manifest into the design, and plainRow keeps it on gemm rows only', async () => {
    const { generateConfiguration } = await import('../scripts/gen.ts');
    const { designFromGenerated } = await import('../scripts/synth.ts');
    const { plainRow } = await import('../generators/synth/summary.ts');
    const spec = join(mkdtempSync(join(tmpdir(), 'macs-')), 'spec.json');
    writeFileSync(spec, JSON.stringify({ gemm: { rows: 3, cols: 5 } }));
    const generated = generateConfiguration({ bits: '4', blocks: 'gemm,softmax', spec });
    expect(designFromGenerated(generated, 'gemm').macs).toBe(15);
    expect(designFromGenerated(generated, 'softmax').macs).toBeUndefined();
    const row = { block: 'gemm', device: 'hx8k' as const, lc: 1, lut: 1, ff: 1, carry: 0, bram: 0, dsp: 0, fmax_mhz: 100 };
    expect(plainRow({ ...row, macs: 15 })).toEqual({ ...row, macs: 15 });
    expect('macs' in plainRow(row)).toBe(false);
  });
});

// The GEMM's multiplier option on the UP5K flow (synth_ice40 -dsp): one tiny array (1 x 2 MACs) per variant, the MACs
// alone (gemm_array), from an empty cache. The dsp variant goes through the whole flow (placed and routed, its row's
// dsp column); the two it is compared with need only Yosys's cell counts.
describe('gemm multiplier on the UP5K', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'synth-cache-dsp-'));
  const flow = { ...DEFAULT_FLOW, device: 'up5k' as const, families: ['ice40'] as const };
  const arrayDesign = (overrides: Record<string, unknown>): SynthDesign => {
    const spec = resolveGemm(5, { rows: 1, cols: 2, max_k: 16, ...overrides });
    return { name: 'gemm_array', top: gemmArrayTop(spec), files: Object.fromEntries(emitRtl(spec)) };
  };
  const yosysCells = async (design: SynthDesign) => {
    const job = yosysJob(`${design.name} up5k cells`, design, [synthCommand('ice40', design.top, 'up5k'), 'tee -q -o stat.json stat -json'], ['stat.json']);
    return cellsFromStat((await new ToolRunner({ cacheDir }).run(job)).outputs['stat.json']!);
  };

  it('"dsp" puts each MAC\'s product in an SB_MAC16, "logic" in none, and a product below 11 bits stays in logic', async () => {
    // a_bits 5, w_bits 6: a 6-bit centered activation times a 6-bit weight, a 12-bit product
    const [report, dspCells, logic, narrow] = await Promise.all([
      synthesizeDesign(arrayDesign({ a_bits: 5, w_bits: 6, multiplier: 'dsp' }), flow, new ToolRunner({ cacheDir })),
      yosysCells(arrayDesign({ a_bits: 5, w_bits: 6, multiplier: 'dsp' })),
      yosysCells(arrayDesign({ a_bits: 5, w_bits: 6, multiplier: 'logic' })),
      // a_bits 4, w_bits 5: 5 + 5 = 10 bits, under synth_ice40's DSP_Y_MINWIDTH of 11
      yosysCells(arrayDesign({ a_bits: 4, w_bits: 5, multiplier: 'dsp' })),
    ]);
    const dsp = report.rows[0]!;
    expect([dsp.device, dsp.dsp, dsp.cells.SB_MAC16]).toEqual(['up5k', 2, 2]);
    expect(dsp.lc).toBeGreaterThan(0);
    expect(dspCells.SB_MAC16).toBe(2);
    expect([logic.SB_MAC16, narrow.SB_MAC16]).toEqual([undefined, undefined]);
    // The products leave the logic: the dsp array has fewer LUTs
    expect(dspCells.SB_LUT4!).toBeLessThan(logic.SB_LUT4!);
  });

  // What ice40_dsp packed (operand, pipeline and accumulator registers, the accumulator's hold and zero load) is what
  // the RTL says: the synthesized netlist, simulated with Yosys's own models of the iCE40 cells, equals the golden model.
  it('the dsp GEMM\'s UP5K netlist, simulated gate by gate, equals the golden model under stalls', async () => {
    const spec = resolveGemm(8, { rows: 1, cols: 2, max_k: 64, multiplier: 'dsp' });
    const design: SynthDesign = { name: 'gemm', top: gemmTop(spec), files: Object.fromEntries(emitRtl(spec)) };
    const synth = await new ToolRunner({ cacheDir }).run(yosysJob('gemm up5k netlist', design,
      [synthCommand('ice40', design.top, 'up5k'), 'tee -q -o stat.json stat -json', 'write_verilog -noattr netlist.v'], ['netlist.v', 'stat.json']));
    expect(cellsFromStat(synth.outputs['stat.json']!).SB_MAC16).toBe(2);
    // Port defaults are SystemVerilog; the models' ports are all connected in the netlist
    const cellModels = '`define NO_ICE40_DEFAULT_ASSIGNMENTS\n`default_nettype wire\n'
      + readFileSync(fileURLToPath(new URL('../node_modules/@yowasp/yosys/gen/share/ice40/cells_sim.v', import.meta.url)), 'utf8');
    for (const [seed, k] of [[31, 40], [32, 1]] as const) {
      const p = integerProblem(spec, defaultProblem(spec, seed, { m: 3, k, n: 5 }));
      const { harness, model } = harnessFor(spec, p);
      const netlist = { ...harness, rtl: new Map([['netlist.v', synth.outputs['netlist.v']!], ['cells_sim.v', cellModels]]) };
      const run = await simulateAndCompare(netlist, mkdtempSync(join(tmpdir(), 'gemm-netlist-')), { stallPercent: 30, seed }, expectedBeats(spec, p, model.out));
      expect(run.result.timedOut).toBe(false);
      expect(run.comparison.first).toBeUndefined();
      expect(run.comparison.mismatches).toBe(0);
    }
  });
});
