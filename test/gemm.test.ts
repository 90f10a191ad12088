// GEMM block without simulation: spec validation, hand-computed model cases, the driver's tiling, and the golden
// model against FQ-ViT's own reference vectors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../generators/common/errors.ts';
import { maxUnsigned } from '../generators/common/arith.ts';
import { assembleOutput, buildStreams, expectedBeats, planTiles } from '../generators/gemm/driver.ts';
import { caseProblem, defaultProblem, gemmBlock, integerProblem } from '../generators/gemm/index.ts';
import { accumulate, deriveChannel, gemmModel, requantize, type GemmScales } from '../generators/gemm/model.ts';
import { resolveGemm } from '../generators/gemm/spec.ts';

function specError(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError');
}

describe('gemm spec', () => {
  it('applies --bits to every width and keeps the defaults', () => {
    const s = resolveGemm(6, undefined);
    expect([s.rows, s.cols, s.aBits, s.wBits, s.outBits, s.maxK, s.fracBits, s.requantCycles]).toEqual([4, 4, 6, 6, 6, 4096, 24, 3]);
    expect([resolveGemm(4, undefined).rows, resolveGemm(4, undefined).cols]).toEqual([8, 8]);
    expect([resolveGemm(8, { w_bits: 4 }).rows, resolveGemm(8, { w_bits: 4 }).cols]).toEqual([4, 4]);
    // frac_bits 24 is 12 two-bit digits: 3 cycles of 4 digits; 5 requested cycles give chunks of 3 digits, 4 cycles
    expect([s.derived.requantChunkDigits, s.derived.requantCycles]).toEqual([4, 3]);
    expect(resolveGemm(6, { requant_cycles: 5 }).derived.requantCycles).toBe(4);
  });

  it.each([
    [{ rows: 0 }, 'gemm.rows'],
    [{ cols: 17 }, 'gemm.cols'],
    [{ a_bits: 1 }, 'gemm.a_bits'],
    [{ w_bits: 4.5 }, 'gemm.w_bits'],
    [{ out_bits: 'x' }, 'gemm.out_bits'],
    [{ max_k: 0 }, 'gemm.max_k'],
    [{ frac_bits: 7 }, 'gemm.frac_bits'],
    [{ requant_cycles: 0 }, 'gemm.requant_cycles'],
    [{ requant_cycles: 21 }, 'gemm.requant_cycles'],
    [{ rowz: 4 }, 'gemm.rowz'],
    [[1, 2], 'gemm'],
  ])('rejects %j naming %s', (overrides, parameter) => {
    const err = specError(() => resolveGemm(4, overrides));
    expect(err.parameter).toBe(parameter);
    expect(err.message).toMatch(/must|not a parameter/);
  });

  it('sizes the accumulator so max_k extreme products fit and one more would not', () => {
    for (const [a, w, k] of [[2, 2, 1], [4, 4, 4096], [8, 8, 4096], [8, 3, 197], [3, 8, 1000]] as const) {
      const d = resolveGemm(4, { a_bits: a, w_bits: w, max_k: k }).derived;
      // The largest |sum|: max_k times (2^a - 1) * 2^(w-1) (a - zp = -(2^a - 1) with the most negative weight).
      const extreme = BigInt(k) * maxUnsigned(a) * (1n << BigInt(w - 1));
      expect(d.accMax).toBe(extreme);
      expect(extreme).toBeLessThan(1n << BigInt(d.accWidth - 1));
      expect(d.accWidth).toBeGreaterThanOrEqual(a + 1 + w);
    }
  });
});

describe('gemm golden model, by hand', () => {
  const spec4 = resolveGemm(4, { max_k: 16 });

  it('accumulates (a - zp) * w exactly', () => {
    // (3-2)*4 + (5-2)*(-1) = 1;  (0-2)*4 + (15-2)*(-1) = -21;  (3-2)*(-8) + (5-2)*7 = 13;  (0-2)*(-8) + (15-2)*7 = 107
    expect(accumulate([[3, 5], [0, 15]], [[4, -1], [-8, 7]], 2)).toEqual([[1n, 13n], [-21n, 107n]]);
  });

  it('rounds half to even and saturates', () => {
    const half = { mult: 1n, shift: 1, offset: 0n }; // acc / 2
    expect([5n, 7n, 3n, 1n, -1n, -3n, 29n, 30n, 31n, 40n].map((acc) => requantize(spec4, acc, half)))
      .toEqual([2n, 4n, 2n, 0n, 0n, 0n, 14n, 15n, 15n, 15n]);
  });

  it('derives M, S and B exactly from the scales and keeps ties exact', () => {
    // rescale 0.5 * 0.25 / 1 = 2^-3: M = 2^23 with S = 26 (top bit of M at frac_bits - 1 = 23).
    const scales: GemmScales = { aScale: 0.5, wScale: [0.25], bias: [0.75], outScale: 1, outZeroPoint: 3 };
    const ch = deriveChannel(spec4, scales, 0);
    expect(ch).toEqual({ mult: 1n << 23n, shift: 26, offset: 15n << 24n }); // (0.75 + 3) * 2^26
    // acc 2: 0.25 + 3.75 = 4; acc 6: 0.75 + 3.75 = 4.5 → 4 (even); acc 14: 1.75 + 3.75 = 5.5 → 6; acc -30: 0
    expect([2n, 6n, 14n, -30n, 200n].map((acc) => requantize(spec4, acc, ch))).toEqual([4n, 4n, 6n, 0n, 15n]);
  });

  it('clamps an out-of-range offset without changing any output', () => {
    const spec = resolveGemm(4, { max_k: 8 });
    const { accMin, accMax } = spec.derived;
    for (const bias of [1e9, -1e9]) {
      const ch = deriveChannel(spec, { aScale: 0.1, wScale: [0.1], bias: [bias], outScale: 0.5, outZeroPoint: 3 }, 0);
      const want = bias > 0 ? 15n : 0n;
      for (const acc of [accMin, -1n, 0n, 1n, accMax]) expect(requantize(spec, acc, ch)).toBe(want);
      expect(ch.offset < 0n ? -ch.offset : ch.offset).toBeLessThanOrEqual(spec.derived.offsetAbsMax);
    }
  });

  it('rejects scales it cannot represent, naming the channel', () => {
    const scales: GemmScales = { aScale: 1, wScale: [1, 1e9], bias: [0, 0], outScale: 1e-3, outZeroPoint: 0 };
    expect(specError(() => deriveChannel(spec4, scales, 1)).parameter).toBe('w_scale[1]');
    expect(specError(() => deriveChannel(spec4, { ...scales, wScale: [1, -1] }, 1)).parameter).toBe('w_scale[1]');
  });
});

describe('gemm driver', () => {
  it('tiles odd shapes and reassembles exactly the model output', () => {
    for (const [rows, cols, m, k, n] of [[4, 4, 9, 7, 5], [3, 2, 1, 1, 7], [1, 1, 2, 3, 2], [2, 5, 5, 2, 11]] as const) {
      const spec = resolveGemm(5, { rows, cols });
      const p = integerProblem(spec, defaultProblem(spec, 3, { m, k, n }));
      const plan = planTiles(spec, p);
      const streams = buildStreams(spec, p);
      const tiles = plan.rowTiles * plan.colTiles;
      expect([streams.act.length, streams.wgt.length, streams.param.length]).toEqual([tiles * k, tiles * k, tiles * cols]);
      expect(streams.act.filter((b) => b.last).length).toBe(tiles);
      const model = gemmModel(spec, p);
      const beats = expectedBeats(spec, p, model.out);
      expect(beats.length).toBe(tiles * rows * cols);
      expect(assembleOutput(spec, plan, beats)).toEqual(model.out);
    }
  });

  it('rejects k beyond max_k and codes out of range', () => {
    const spec = resolveGemm(4, { max_k: 3 });
    const ch = [{ mult: 1n, shift: 0, offset: 0n }];
    expect(specError(() => planTiles(spec, { a: [[1, 2, 3, 4]], w: [[1, 1, 1, 1]], aZeroPoint: 0, channels: ch })).parameter).toBe('k');
    expect(specError(() => planTiles(spec, { a: [[1, 16]], w: [[1, 1]], aZeroPoint: 0, channels: ch })).parameter).toBe('a[0][1]');
    expect(specError(() => planTiles(spec, { a: [[1, 1]], w: [[1, -9]], aZeroPoint: 0, channels: ch })).parameter).toBe('w[0][1]');
    expect(specError(() => planTiles(spec, { a: [[1, 1]], w: [[1, 1]], aZeroPoint: 16, channels: ch })).parameter).toBe('a_zero_point');
  });
});

describe('gemm golden model on FQ-ViT reference vectors', () => {
  const file = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };
  const cases = file.cases.filter((c) => c.block === 'gemm');

  function score(c: Record<string, unknown>, fracBits?: number) {
    const { spec: base, problem, expect: want, expectAcc } = caseProblem(c);
    const spec = fracBits === undefined ? base : resolveGemm(base.aBits, { a_bits: base.aBits, w_bits: base.wBits, out_bits: base.outBits, max_k: base.maxK, frac_bits: fracBits });
    const r = gemmModel(spec, integerProblem(spec, problem));
    let elements = 0, mismatches = 0, maxDiff = 0, accMismatches = 0;
    r.out.forEach((row, i) => row.forEach((v, j) => {
      elements++;
      const diff = Math.abs(Number(v) - want[i]![j]!);
      if (diff) mismatches++;
      maxDiff = Math.max(maxDiff, diff);
      if (r.acc[i]![j] !== BigInt(expectAcc[i]![j]!)) accMismatches++;
    }));
    return { elements, mismatches, maxDiff, accMismatches };
  }

  it('has gemm cases', () => expect(cases.length).toBeGreaterThan(0));

  it('matches every accumulator, ≥ 99.9% of the codes, never off by more than 1', () => {
    let elements = 0, mismatches = 0;
    for (const c of cases) {
      const s = score(c);
      expect(s.accMismatches).toBe(0);
      expect(s.maxDiff).toBeLessThanOrEqual(1);
      elements += s.elements;
      mismatches += s.mismatches;
    }
    expect(mismatches / elements).toBeLessThanOrEqual(0.001);
  });

  it('loses agreement when frac_bits is cut to 8 (the parameter has a measurable effect)', () => {
    const total = (f: number) => cases.reduce((sum, c) => sum + score(c, f).mismatches, 0);
    expect(total(8)).toBeGreaterThan(total(24));
  });
});

describe('gemm generate', () => {
  it('writes the RTL, manifest, testbench and vectors, the same bytes every time', () => {
    const spec = gemmBlock.resolve(4, undefined);
    const a = gemmBlock.generate(spec);
    const b = gemmBlock.generate(gemmBlock.resolve(4, undefined));
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, v] of a) expect(b.get(k)).toBe(v);
    const manifest = JSON.parse(a.get('rtl/manifest.json')!);
    expect(manifest.top).toBe('gemm');
    for (const f of manifest.files) expect(a.has(`rtl/${f}`)).toBe(true);
    expect(a.has('vectors/expected.hex')).toBe(true);
    expect(a.has('tb/tb_top.v')).toBe(true);
    for (const [path, text] of a) {
      if (path.startsWith('rtl/') && path.endsWith('.v')) {
        expect(text.startsWith('`resetall\n`timescale 1ns / 1ps\n`default_nettype none\n')).toBe(true);
        expect(text.trimEnd().endsWith('`resetall')).toBe(true);
      }
    }
  });
});
