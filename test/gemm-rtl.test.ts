// GEMM RTL against the golden model in Icarus: a sweep of widths (2 to 8 bits), array shapes, odd matrix sizes and
// random valid/ready stalls; accumulators at max_k's extremes; lint of the generated modules.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxUnsigned } from '../generators/common/arith.ts';
import { lintVerilator, lintYosys } from '../generators/common/lint.ts';
import { simulateAndCompare } from '../generators/common/sim.ts';
import { expectedBeats } from '../generators/gemm/driver.ts';
import { defaultProblem, gemmBlock, harnessFor, integerProblem, runProblem } from '../generators/gemm/index.ts';
import type { GemmProblem } from '../generators/gemm/model.ts';
import { drainCycles, emitPe, emitRequantSerial, emitRtl, gemmTop, tileCycles, tileOutputSpan } from '../generators/gemm/rtl.ts';
import { resolveGemm } from '../generators/gemm/spec.ts';

const work = () => mkdtempSync(join(tmpdir(), 'gemm-'));

interface SweepCase {
  a: number; w: number; rows: number; cols: number; m: number; k: number; n: number; stall: number;
  out?: number; frac?: number; rc?: number; seed: number;
}

// Widths 2..8 for activations and weights, several array shapes, K = 1 (drain-bound: the bank hand-over stalls the
// array), K below and above ROWS * COLS, shapes that are not multiples of the array.
const SWEEP: SweepCase[] = [
  { a: 2, w: 2, rows: 1, cols: 1, m: 3, k: 5, n: 2, stall: 30, seed: 1 },
  { a: 3, w: 5, rows: 2, cols: 3, m: 5, k: 1, n: 7, stall: 20, seed: 2 },
  { a: 5, w: 3, rows: 3, cols: 2, m: 7, k: 13, n: 3, stall: 50, seed: 3 },
  { a: 8, w: 8, rows: 4, cols: 4, m: 9, k: 40, n: 9, stall: 20, seed: 4 },
  { a: 7, w: 2, rows: 1, cols: 4, m: 2, k: 6, n: 9, stall: 10, seed: 5 },
  { a: 2, w: 8, rows: 2, cols: 2, m: 4, k: 9, n: 5, stall: 40, out: 6, seed: 6 },
  { a: 6, w: 7, rows: 3, cols: 3, m: 5, k: 11, n: 4, stall: 25, frac: 12, seed: 7 },
  { a: 4, w: 6, rows: 2, cols: 4, m: 3, k: 3, n: 6, stall: 60, seed: 8 },
  // The requantizer fully parallel (1 cycle per code) and slower than the default (7 chunks of M)
  { a: 4, w: 4, rows: 3, cols: 3, m: 7, k: 2, n: 5, stall: 30, rc: 1, seed: 9 },
  { a: 5, w: 6, rows: 2, cols: 3, m: 5, k: 30, n: 7, stall: 30, rc: 7, frac: 20, seed: 10 },
];

describe('gemm RTL equals the golden model (Icarus)', () => {
  it.each(SWEEP)('a$a w$w $rows x $cols, m$m k$k n$n, stall $stall%', async (c) => {
    const spec = resolveGemm(c.a, { a_bits: c.a, w_bits: c.w, rows: c.rows, cols: c.cols, out_bits: c.out ?? c.a, frac_bits: c.frac ?? 24, max_k: 64, ...(c.rc === undefined ? {} : { requant_cycles: c.rc }) });
    const p = integerProblem(spec, defaultProblem(spec, c.seed, { m: c.m, k: c.k, n: c.n }));
    const r = await runProblem(spec, p, work(), { stallPercent: c.stall, seed: c.seed });
    expect(r.first).toBeUndefined();
    expect(r.rtlVsModel).toBe(0);
    expect(r.out).toEqual(r.model.out);
  });

  it.each([1, 2, 3, 4, 6])('runs one k-step per cycle without stalls: a tile every max(K, drainCycles) cycles, latency as in the manifest (requant_cycles %i)', async (requantCycles) => {
    const spec = resolveGemm(4, { rows: 2, cols: 3, requant_cycles: requantCycles });
    expect(spec.derived.requantCycles).toBe(requantCycles);
    for (const k of [1, 4, 20, drainCycles(spec) - 1, drainCycles(spec), drainCycles(spec) + 3]) {
      const p = integerProblem(spec, defaultProblem(spec, 9, { m: 6, k, n: 6 }));
      const r = await runProblem(spec, p, work(), { stallPercent: 0 });
      expect(r.rtlVsModel).toBe(0);
      expect(r.firstOutput).toBe(k - 1 + spec.derived.drainLatency);
      // First k-step to last code: the first tile's latency, one period per further tile, the last tile's codes.
      const tiles = 3 * 2;
      expect(r.cycles).toBe(r.firstOutput + (tiles - 1) * tileCycles(spec, k) + tileOutputSpan(spec));
    }
  });

  it.each(['logic', 'dsp'] as const)('holds the extreme sums of max_k products and the widest requantizer sums exactly (multiplier %s)', async (multiplier) => {
    for (const [aBits, wBits] of [[8, 8], [3, 6]] as const) {
      const k = 23;
      const spec = resolveGemm(aBits, { a_bits: aBits, w_bits: wBits, rows: 2, cols: 2, max_k: k, multiplier });
      const { accMax, shiftMax, offsetAbsMax } = spec.derived;
      const aMax = Number(maxUnsigned(aBits));
      const wMin = -(2 ** (wBits - 1));
      const wMax = 2 ** (wBits - 1) - 1;
      const multMax = maxUnsigned(spec.fracBits);
      // zp = aMax: a = 0 centers to -aMax (the most negative), a = aMax to 0.
      const p: GemmProblem = {
        a: [Array(k).fill(0), Array(k).fill(aMax), Array(k).fill(0)],
        w: [Array(k).fill(wMin), Array(k).fill(wMax), Array(k).fill(wMin), Array(k).fill(wMin)],
        aZeroPoint: aMax,
        channels: [
          // out = acc + B: a window of width 2^a_bits around the expected extreme sum shows every bit of it.
          { mult: 1n, shift: 0, offset: -accMax + 5n },
          { mult: 1n, shift: 0, offset: BigInt(k * aMax * wMax) + 7n },
          { mult: multMax, shift: shiftMax, offset: offsetAbsMax },
          { mult: multMax, shift: shiftMax, offset: -offsetAbsMax },
        ],
      };
      const r = await runProblem(spec, p, work(), { stallPercent: 20, seed: 11 });
      expect(r.rtlVsModel).toBe(0);
      expect(r.model.acc[0]![0]).toBe(accMax);
      expect(r.out[0]!.slice(0, 2)).toEqual([5n, 7n]);
      expect(r.out).toEqual(r.model.out);
    }
  });

  it('recovers from a reset in the middle of the stream: the replayed problem comes out whole', async () => {
    const spec = resolveGemm(5, { rows: 3, cols: 2 });
    const p = integerProblem(spec, defaultProblem(spec, 12, { m: 5, k: 17, n: 3 }));
    const r = await runProblem(spec, p, work(), { stallPercent: 20, seed: 12, midReset: { cycle: 60 } });
    expect(r.beatsBeforeReset).toBeGreaterThan(0); // the reset really cut a run short
    expect(r.first).toBeUndefined();
    expect(r.rtlVsModel).toBe(0);
  });

  it('equals the golden model on Verilator too', async () => {
    const spec = resolveGemm(6, { a_bits: 6, w_bits: 4, rows: 2, cols: 3 });
    const p = integerProblem(spec, defaultProblem(spec, 13, { m: 5, k: 9, n: 7 }));
    const r = await runProblem(spec, p, work(), { stallPercent: 30, seed: 13, simulator: 'verilator' });
    expect(r.first).toBeUndefined();
    expect(r.rtlVsModel).toBe(0);
  });

  it('verifies the default configuration at --bits 4 through the Block', async () => {
    const spec = gemmBlock.resolve(4, undefined);
    const report = await gemmBlock.verifyDefault(spec, { workDir: work(), stallPercent: 20, seed: 5 });
    expect(report.rtl_vs_model).toBe(0);
    expect(report.elements).toBeGreaterThan(0);
  });
});

// The MAC whose product is a plain registered a * w (multiplier "dsp", mapped onto SB_MAC16 on the UP5K): the same
// results and the same cycle of every output beat as the logic MAC, under stalls and without.
const DSP_SWEEP: SweepCase[] = [
  { a: 8, w: 8, rows: 2, cols: 4, m: 5, k: 19, n: 9, stall: 30, seed: 21 },
  { a: 3, w: 5, rows: 3, cols: 2, m: 4, k: 1, n: 5, stall: 40, seed: 22 },
  { a: 5, w: 7, rows: 1, cols: 3, m: 3, k: 7, n: 4, stall: 20, rc: 1, seed: 23 },
];

describe('gemm RTL with multiplier "dsp" equals the golden model (Icarus)', () => {
  const dspSpec = (c: SweepCase, multiplier: 'logic' | 'dsp') =>
    resolveGemm(c.a, { a_bits: c.a, w_bits: c.w, rows: c.rows, cols: c.cols, out_bits: c.out ?? c.a, max_k: 64, multiplier, ...(c.rc === undefined ? {} : { requant_cycles: c.rc }) });

  it.each(DSP_SWEEP)('a$a w$w $rows x $cols, m$m k$k n$n, stall $stall%', async (c) => {
    const spec = dspSpec(c, 'dsp');
    expect(emitRtl(spec).get(`${gemmTop(spec)}_mac.v`)).toMatch(/product_reg <= a_reg \* w_reg;/);
    const p = integerProblem(spec, defaultProblem(spec, c.seed, { m: c.m, k: c.k, n: c.n }));
    const r = await runProblem(spec, p, work(), { stallPercent: c.stall, seed: c.seed });
    expect(r.first).toBeUndefined();
    expect(r.rtlVsModel).toBe(0);
    expect(r.out).toEqual(r.model.out);
  });

  it('has the logic MAC\'s latency and cycle count without stalls', async () => {
    const c = DSP_SWEEP[0]!;
    const [logic, dsp] = await Promise.all((['logic', 'dsp'] as const).map((m) => {
      const spec = dspSpec(c, m);
      return runProblem(spec, integerProblem(spec, defaultProblem(spec, c.seed, { m: c.m, k: c.k, n: c.n })), work(), { stallPercent: 0 });
    }));
    expect(dsp!.rtlVsModel).toBe(0);
    expect(dsp!.firstOutput).toBe(c.k - 1 + dspSpec(c, 'dsp').derived.drainLatency);
    expect([dsp!.firstOutput, dsp!.cycles]).toEqual([logic!.firstOutput, logic!.cycles]);
    expect(dsp!.out).toEqual(logic!.out);
  });
});

describe('gemm K guard', () => {
  it('a K run longer than max_k sets K_OVERFLOW, adds nothing past max_k (no wrap), and the next tile is right', async () => {
    const spec = resolveGemm(4, { rows: 2, cols: 2, max_k: 5 });
    const p = integerProblem(spec, defaultProblem(spec, 3, { m: 4, k: 5, n: 2 }));
    const { harness, model } = harnessFor(spec, p);
    // The first tile's run gets three extra beats after its max_k = 5 beats (copies of its first beats); the hardware
    // must ignore them, so every code still equals the golden model of the k = 5 problem.
    const lengthen = (beats: typeof harness.inputs[number]['beats']) => [
      ...beats.slice(0, 5).map((b) => ({ ...b, last: false })),
      ...beats.slice(0, 3).map((b, i) => ({ ...b, last: i === 2 })),
      ...beats.slice(5),
    ];
    const inputs = harness.inputs.map((s) => (s.prefix === 's_param_axis' ? s : { ...s, beats: lengthen(s.beats) }));
    const run = await simulateAndCompare({ ...harness, inputs, maxCycles: harness.maxCycles + 20 }, work(), { stallPercent: 25, seed: 4 }, expectedBeats(spec, p, model.out));
    expect(run.comparison.first).toBeUndefined();
    expect(run.comparison.mismatches).toBe(0);
    expect(run.result.statusError).toBe(1n);
  });

  it('a run of exactly max_k beats raises nothing', async () => {
    const spec = resolveGemm(4, { rows: 2, cols: 2, max_k: 5 });
    const r = await runProblem(spec, integerProblem(spec, defaultProblem(spec, 3, { m: 4, k: 5, n: 2 })), work(), { stallPercent: 25, seed: 4 });
    expect(r.rtlVsModel).toBe(0);
    expect(r.statusError).toBe(0n);
  });
});

describe('gemm RTL lint', () => {
  it.each([
    [2, 2, 1, 1, 1],
    [8, 8, 4, 4, 4096],
    [16, 5, 3, 5, 100],
  ])('is clean under verilator -Wall and yosys hierarchy -check (a%i w%i %ix%i, max_k %i), with either multiplier', async (a, w, rows, cols, maxK) => {
    for (const multiplier of ['logic', 'dsp'] as const) {
      const spec = resolveGemm(a, { a_bits: a, w_bits: w, rows, cols, max_k: maxK, multiplier });
      const files = emitRtl(spec);
      expect(await lintVerilator(files, gemmTop(spec)), multiplier).toEqual([]);
      expect(await lintYosys(files, gemmTop(spec)), multiplier).toEqual([]);
    }
  });

  it('emits each leaf arithmetic unit alone, lint-clean at small widths', async () => {
    const leaves: Array<[string, string]> = [
      ['gemm_pe', emitPe({ aWidth: 3, wWidth: 2, accWidth: 6 })],
      ['gemm_requant_serial', emitRequantSerial({ accWidth: 5, fracBits: 3, shiftWidth: 3, offsetWidth: 8, sumWidth: 9, outBits: 2, chunkDigits: 1 })],
    ];
    for (const [top, text] of leaves) {
      const files = new Map([[`${top}.v`, text]]);
      expect(await lintVerilator(files, top)).toEqual([]);
    }
  });
});
