// PTF LayerNorm, fast checks: spec validation, exact integer helpers, hand-worked model cases, the PTF calibration
// and the golden model against FQ-ViT's own outputs (../shared/vectors) and against its float64 forward.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../generators/common/errors.ts';
import { calibratePtf, sumLikeTorch } from '../generators/layernorm/calibrate.ts';
import { fqvitLayernormToken } from '../generators/layernorm/fqvit-float.ts';
import { defaultTokens as defaultTokensOf, generateLayernorm, modelLayer, modelOutputs, modelUnclamped, specOfCase } from '../generators/layernorm/index.ts';
import { elementsPerCycle, layernormProgram, rtlWidths, tokenUnitCycles } from '../generators/layernorm/rtl.ts';
import { centeredInputs, elementTerms, isqrt, tokenScalars, tokenStats } from '../generators/layernorm/model.ts';
import { mulberry32 } from '../generators/common/random.ts';
import { resolveLayernorm } from '../generators/layernorm/spec.ts';

const vectors = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };
const lnCases = vectors.cases.map((c, index) => ({ c, index })).filter(({ c }) => c.block === 'layernorm');

/** A hand-sized layer: C = 8, alpha 0, zp 0, gamma = s_out (so gamma/s_out = 1), beta = 0 unless given. */
function smallSpec(extra: Record<string, unknown> = {}) {
  return resolveLayernorm(4, {
    channels: 8, in_scale_min: 0.1, zero_point: 0, alpha: new Array(8).fill(0),
    gamma: new Array(8).fill(0.25), beta: new Array(8).fill(0), out_scale: 0.25, out_zero_point: 8, ...extra,
  });
}

describe('layernorm spec', () => {
  it('rejects bad parameters with SpecError naming the parameter and the range', () => {
    const bad: Array<[number, unknown, RegExp]> = [
      [1, undefined, /--bits \(layernorm\): must be an integer from 2 to 16/],
      [17, undefined, /--bits \(layernorm\): must be an integer from 2 to 16/],
      [4, { channels: 4 }, /layernorm\.channels: must be an integer from 8 to 1024/],
      [4, { chanels: 8 }, /layernorm\.chanels: is not a parameter/],
      [4, { rsqrt_bits: 8 }, /layernorm\.rsqrt_bits: must be an integer from 16 to 40/],
      [4, { lanes: 3 }, /layernorm\.lanes: must be one of 1, 2, 4, 8 \(got 3\)/],
      [4, { lanes: 16 }, /layernorm\.lanes: must be one of 1, 2, 4, 8 \(got 16\)/],
      [4, { max_token_units: 3 }, /layernorm\.max_token_units: must be an integer from 1 to 2/],
      [4, { datapath: 'bitwise' }, /layernorm\.datapath: must be one of pipelined, serial/],
      [4, { datapath: 'serial', lanes: 2, channels: 16 }, /layernorm\.datapath: must be pipelined when lanes is above 1/],
    ];
    for (const [bits, o, re] of bad) {
      expect(() => resolveLayernorm(bits, o)).toThrow(SpecError);
      expect(() => resolveLayernorm(bits, o)).toThrow(re);
    }
    expect(() => smallSpec({ alpha: [0, 1, 2, 4, 0, 0, 0, 0] })).toThrow(/layernorm\.alpha\[3\]: must be an integer from 0 to 3/);
    expect(() => smallSpec({ gamma: [1, 2] })).toThrow(/layernorm\.gamma: must have exactly 8 elements/);
    expect(() => smallSpec({ zero_point: 16 })).toThrow(/layernorm\.zero_point: must be an integer from 0 to 15/);
    // The hardware's bound (scale_ratio_bits, default bits + 2) is named, and may be raised up to 2^15.
    expect(() => smallSpec({ gamma: new Array(8).fill(1e6) })).toThrow(/layernorm\.gamma\[0\]: must satisfy \|gamma\/out_scale\| < 2\^6 \(the hardware's layernorm\.scale_ratio_bits = 6; it may be raised up to 15\)/);
    expect(() => smallSpec({ gamma: new Array(8).fill(256) })).toThrow(/layernorm\.gamma\[0\]: must satisfy \|gamma\/out_scale\| < 2\^6/);
    expect(() => smallSpec({ gamma: new Array(8).fill(256), scale_ratio_bits: 11 })).not.toThrow();
    expect(() => smallSpec({ gamma: new Array(8).fill(1e6), scale_ratio_bits: 15 })).toThrow(/< 2\^15 \(got 1000000\)$/);
    expect(() => smallSpec({ scale_ratio_bits: 16 })).toThrow(/layernorm\.scale_ratio_bits: must be an integer from 1 to 15/);
    // Wider codes allow ratios up to their own range: 2^17 at 16 bits.
    const wide = { channels: 8, in_scale_min: 0.1, zero_point: 0, alpha: new Array(8).fill(0), gamma: new Array(8).fill(1), out_scale: 2 ** -16.5 };
    expect(() => resolveLayernorm(16, { ...wide, beta: new Array(8).fill(0) })).not.toThrow();
    expect(() => resolveLayernorm(16, { ...wide, beta: new Array(8).fill(2) })).toThrow(/layernorm\.beta\[0\]: must satisfy \|beta\/out_scale\| < 2\^17/);
    expect(() => smallSpec({ calibration: [new Array(8).fill(0)] })).toThrow(/must not be given together with calibration/);
    expect(() => resolveLayernorm(4, { channels: 8, gamma: new Array(8).fill(1), beta: new Array(8).fill(0), out_scale: 1 }))
      .toThrow(/layernorm\.alpha: is required unless calibration rows are given/);
  });

  it('is deterministic: the same spec gives the same bytes', () => {
    const a = generateLayernorm(resolveLayernorm(4, { channels: 16 }));
    const b = generateLayernorm(resolveLayernorm(4, { channels: 16 }));
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [p, t] of a) expect(b.get(p), p).toBe(t);
    const manifest = JSON.parse(a.get('rtl/manifest.json')!);
    const spec = resolveLayernorm(4, { channels: 16 });
    expect(manifest).toMatchObject({ block: 'layernorm', top: 'ptf_layernorm', prefix: '', parameters: [], throughput: { elements_per_cycle: elementsPerCycle(spec) } });
    expect(manifest.errors.map((e: { name: string }) => e.name)).toEqual(['config', 'token_length', 'no_program']);
    for (const f of manifest.files) expect(a.has(`rtl/${f}`), f).toBe(true);
    // The default program beside the RTL: the same words the testbench streams, from the same constants as the model.
    const words = layernormProgram(spec).words;
    expect(a.get('program/default.hex')!.trim().split('\n').map((h) => BigInt(`0x${h}`))).toEqual(words);
    expect(JSON.parse(a.get('program/default.json')!).format.wordWidth).toBe(manifest.program.wordWidth);
    expect(words.length).toBe(spec.channels + 1);
  });

  it('lanes: tdata of lanes codes, the manifest states lanes, U and the throughput; the layer is still a program', () => {
    const spec = resolveLayernorm(4, { lanes: 8 });
    const files = generateLayernorm(spec);
    const manifest = JSON.parse(files.get('rtl/manifest.json')!);
    // The default hardware (C = 384, T = 107): 48 beats a token, so ceil(107 / 48) = 3 token units give 8 elements a cycle.
    expect(tokenUnitCycles(spec)).toBe(107);
    expect(rtlWidths(spec).tokenUnits).toBe(3);
    expect(manifest).toMatchObject({ spec: { lanes: 8 }, ports: { s_axis: { tdata: 32 }, m_axis: { tdata: 32 } }, throughput: { elements_per_cycle: 8 } });
    expect(manifest.throughput.condition).toMatch(/max\(U·ceil\(C\/lanes\), T\)/);
    expect(files.get('rtl/ptf_layernorm.v')).toMatch(/input {2}wire \[31:0\] +s_axis_tdata/);
    // One lane: the manifest says so too (synthesis rows take lanes from it).
    expect(JSON.parse(generateLayernorm(resolveLayernorm(4, {})).get('rtl/manifest.json')!).spec.lanes).toBe(1);
    // C from 8 up at every lanes value (C = 8 at 8 lanes: one beat a token).
    expect(() => resolveLayernorm(4, { channels: 8, lanes: 8 })).not.toThrow();
  });

  it('one instance serves every layer: the RTL depends only on bits, max_channels, rsqrt_bits and the prefix', () => {
    const rtl = (o: Record<string, unknown>, prefix = '') => generateLayernorm(resolveLayernorm(6, { max_channels: 64, ...o }, prefix));
    const a = rtl({ channels: 16 });
    const b = rtl({ channels: 64, calibration: [Array.from({ length: 64 }, (_, c) => c / 7 - 3)], gamma: new Array(64).fill(-0.3), beta: new Array(64).fill(0.1), out_scale: 0.05 });
    const verilog = (f: Map<string, string>) => [...f].filter(([p]) => p.startsWith('rtl/') && p.endsWith('.v'));
    expect(verilog(a)).toEqual(verilog(b));
    expect(a.get('program/default.hex')).not.toEqual(b.get('program/default.hex'));
    // A prefix starts every module and file name.
    const p = rtl({ channels: 16 }, 'enc3');
    for (const [path, text] of verilog(p)) {
      expect(path).toMatch(/^rtl\/enc3_ptf_layernorm/);
      for (const m of text.matchAll(/^module (\w+)/gm)) expect(m[1]).toMatch(/^enc3_/);
      expect(text).not.toMatch(/^\s*ptf_layernorm\w* /m);
    }
    expect(JSON.parse(p.get('rtl/manifest.json')!).top).toBe('enc3_ptf_layernorm');
    // No top-level Verilog parameter a user could override.
    const top = p.get('rtl/enc3_ptf_layernorm.v')!;
    expect(top).toMatch(/module enc3_ptf_layernorm \(/);
    expect(top).not.toMatch(/^\s*parameter\b/m);
  });

  it('refuses a layer outside the hardware: C above max_channels, a ratio beyond the derived range', () => {
    expect(() => resolveLayernorm(4, { max_channels: 32, channels: 64 })).toThrow(/layernorm\.channels: must be an integer from 8 to 32/);
    expect(() => resolveLayernorm(4, { max_channels: 2000 })).toThrow(/layernorm\.max_channels: must be an integer from 8 to 1024/);
    expect(() => resolveLayernorm(4, { max_channels: 32, channels: 8, in_scale_min: 0.1, zero_point: 0, alpha: new Array(8).fill(0), gamma: new Array(8).fill(1e6), beta: new Array(8).fill(0), out_scale: 1 }))
      .toThrow(/layernorm\.gamma\[0\]: must satisfy \|gamma\/out_scale\| < 2\^6/);
    expect(resolveLayernorm(4, { max_channels: 32 }).channels).toBe(32);
  });

  it('calibrates the default layer with the PTF observer, and takes calibration rows from a spec', () => {
    const spec = resolveLayernorm(4, { channels: 16 });
    expect(spec.calibrated).toBe(true);
    expect(new Set(spec.layer.alpha).size).toBeGreaterThan(1);
    const rows = [[0, 1, 2, 3, 4, 5, 6, 7], [0.5, -1, 2, 3, -4, 5, 6, 7.5]];
    const fromRows = smallSpec({ alpha: undefined, in_scale_min: undefined, zero_point: undefined, calibration: rows });
    const cal = calibratePtf(rows, 4);
    expect(fromRows.layer.alpha).toEqual(cal.alpha);
    expect(fromRows.layer.zeroPoint).toBe(cal.zeroPoint);
  });
});

describe('layernorm at every --bits from 2 to 16', () => {
  it('calibrates the default layer and keeps every output in range, with every width derived from the spec', () => {
    for (let bits = 2; bits <= 16; bits++) {
      const spec = resolveLayernorm(bits, { channels: 64 });
      const qmax = 2 ** bits - 1;
      expect(spec.layer.zeroPoint, `bits ${bits}`).toBeGreaterThanOrEqual(0);
      expect(spec.layer.zeroPoint, `bits ${bits}`).toBeLessThanOrEqual(qmax);
      expect(spec.layer.alpha.every((a) => a >= 0 && a <= 3), `bits ${bits}`).toBe(true);
      // The widest variance (half the channels at 0, half at the top code, alpha 3 everywhere) fits VAR_WIDTH.
      const worst = Array.from({ length: spec.channels }, (_, c) => (c % 2 ? qmax : 0));
      const tokens = [worst, ...defaultTokensOf(spec)];
      const outputs = modelOutputs(spec, tokens).flat();
      expect(outputs.every((y) => y >= 0n && y <= BigInt(qmax)), `bits ${bits}`).toBe(true);
      expect(new Set(outputs).size, `bits ${bits}: outputs spread over the code range`).toBeGreaterThan(Math.min(qmax, 4));
      const calib = calibratePtf([[-1, 0.5, 2], [0.25, 3, -2]], bits);
      expect(calib.zeroPoint >= 0 && calib.zeroPoint <= qmax, `bits ${bits}`).toBe(true);
    }
  });
});

describe('layernorm W bound (mean/std)', () => {
  // |W| ≤ wAbsMax (spec.ts wAbsBound) and W fits wWidth on the tokens that reach it: every x at ±xMax but one a step
  // away (|S| at its largest, var = C − 1 at its smallest), at C = max_channels and at the smallest C, for every zero
  // point extreme. The bound is also tight: the worst token reaches more than half of it.
  it.each([[2, 8], [4, 384], [4, 8], [8, 384], [8, 1024], [12, 64], [16, 1024]])('bits %i, max_channels %i', (bits, maxChannels) => {
    const spec = resolveLayernorm(bits, { max_channels: maxChannels, channels: 8 });
    const d = spec.derived;
    const bound = BigInt(d.wAbsMax);
    const xMax = ((1n << BigInt(bits)) - 1n) << 3n;
    let reached = 0n;
    for (const C of [8, maxChannels]) {
      for (const sign of [1n, -1n]) {
        for (const step of [1n, 8n]) {
          const x = Array.from({ length: C }, (_, i) => sign * (i === 0 ? xMax - step : xMax));
          const { S, variance } = tokenStats(x);
          const { W } = tokenScalars(S, variance, d.precision);
          const mag = W < 0n ? -W : W;
          expect(mag <= bound, `C ${C}: |W| = ${mag} > ${bound}`).toBe(true);
          expect(W >= -(1n << BigInt(d.wWidth - 1)) && W < 1n << BigInt(d.wWidth - 1)).toBe(true);
          if (mag > reached) reached = mag;
        }
      }
    }
    expect(reached * 2n > bound, `worst |W| ${reached} against the bound ${bound}`).toBe(true);
    expect(d.wWidth).toBeLessThanOrEqual(d.wQuotWidth + 1);
  });
});

describe('layernorm exact helpers', () => {
  it('isqrt is the floor of the square root', () => {
    for (let n = 0n; n < 2000n; n++) {
      const r = isqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n, `isqrt(${n})`).toBe(true);
    }
    const rnd = mulberry32(5);
    for (let i = 0; i < 200; i++) {
      const n = BigInt(Math.floor(rnd() * 2 ** 30)) * BigInt(Math.floor(rnd() * 2 ** 30)) + BigInt(i);
      const r = isqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    }
  });

  it('sums like PyTorch: lane-wise vectors, then the lanes (hand-worked: 6, where sequential gives 3)', () => {
    const v = [1e16, 1, 1, 1, -1e16, 1, 1, 1];
    expect(v.reduce((a, b) => a + b, 0)).toBe(3);
    expect(sumLikeTorch(v, 4)).toBe(6); // (1e16 − 1e16) + (1 + 1) + (1 + 1) + (1 + 1)
    expect(sumLikeTorch([1, 2, 3], 4)).toBe(6);
  });
});

describe('layernorm golden model, hand-worked', () => {
  it('normalizes a two-level token exactly: var = 64, A = 1, N = 7, M = 128, B = −128', () => {
    const spec = smallSpec();
    const layer = modelLayer(spec);
    const codes = [0, 0, 0, 0, 2, 2, 2, 2];
    const x = centeredInputs(codes, 0, layer.channels);
    const st = tokenStats(x);
    expect(st).toEqual({ S: 8n, Q: 16n, variance: 64n });
    const t = tokenScalars(st.S, st.variance, layer.precision);
    expect(elementTerms(0n, t, layer.channels[0]!, layer.precision)).toEqual({ M: 128n, N: 7, B: -128n, y: -1n });
    expect(elementTerms(2n, t, layer.channels[0]!, layer.precision)).toEqual({ M: 128n, N: 7, B: -128n, y: 1n });
    expect(modelOutputs(spec, [codes])[0]).toEqual([7n, 7n, 7n, 7n, 9n, 9n, 9n, 9n]);
  });

  it('mirrors with a negative gamma, and a zero gamma leaves round(beta/s_out)', () => {
    const spec = smallSpec({ gamma: [-0.25, -0.25, 0, 0, -0.25, -0.25, 0, 0], beta: [0, 0, 0.25, 0.625, 0, 0, -0.5, 0] });
    // channels 0, 1, 4, 5: y = −(x − 1); channels 2, 3, 6: y = round(beta / s_out) = 1, round(2.5) = 2, −2; channel 7: 0
    expect(modelUnclamped(spec, [[0, 0, 0, 0, 2, 2, 2, 2]])[0]).toEqual([1n, 1n, 1n, 2n, -1n, -1n, -2n, 0n]);
  });

  it('gives a constant token round(beta/s_out), half to even', () => {
    const spec = smallSpec({ beta: [0.125, 0.375, -0.125, -0.375, 0.25, 0, 1, -2] }); // beta/s_out: .5 1.5 −.5 −1.5 1 0 4 −8
    expect(modelUnclamped(spec, [new Array(8).fill(5)])[0]).toEqual([0n, 2n, 0n, -2n, 1n, 0n, 4n, -8n]);
    expect(modelOutputs(spec, [new Array(8).fill(15)])[0]).toEqual([8n, 10n, 8n, 6n, 9n, 8n, 12n, 0n]);
  });
});

describe('layernorm against FQ-ViT', () => {
  it.each(lnCases.map(({ c, index }) => [index, c] as const))('PTF calibration reproduces alpha, s1 and the zero point of case %i', (_i, c) => {
    const cal = calibratePtf(c.calibration as number[][], c.in_bits as number);
    expect(cal.alpha).toEqual(c.alpha);
    expect(cal.zeroPoint).toBe(c.zero_point);
    expect(cal.s1).toBe(c.in_scale_min);
  });

  it('the golden model meets the thresholds on every public vector case (≥ 99.99% equal, none off by more than 1)', () => {
    for (const { c, index } of lnCases) {
      const spec = specOfCase(c);
      const expect2d = c.expect as number[][];
      const out = modelOutputs(spec, c.inputs as number[][]);
      let mismatches = 0;
      let worst = 0;
      out.forEach((row, r) => row.forEach((y, ch) => {
        const d = Math.abs(Number(y) - expect2d[r]![ch]!);
        if (d) mismatches++;
        worst = Math.max(worst, d);
      }));
      expect({ index, worst, ok: mismatches <= out.length * spec.channels * 1e-4 }).toEqual({ index, worst: worst <= 1 ? worst : -1, ok: true });
    }
  });

  it('the golden model agrees with FQ-ViT\'s float64 forward on random tokens of the vector layers (≥ 99.99%)', () => {
    const rnd = mulberry32(2024);
    let total = 0;
    let mismatches = 0;
    let worst = 0;
    for (const { c } of lnCases) {
      const spec = specOfCase(c);
      const qmax = 2 ** spec.bits - 1;
      const tokens: number[][] = [];
      for (let t = 0; t < 40; t++) {
        const spread = [qmax, qmax / 8, 2, 1.5][t % 4]!;
        const center = t % 4 === 3 ? rnd() * qmax : spec.layer.zeroPoint;
        const row = Array.from({ length: spec.channels }, () => Math.max(0, Math.min(qmax, Math.round(center + (rnd() - 0.5) * 2 * spread))));
        if (new Set(row).size > 1) tokens.push(row);
      }
      const model = modelUnclamped(spec, tokens);
      tokens.forEach((row, r) => fqvitLayernormToken(row, spec.layer).forEach((f, ch) => {
        total++;
        const d = Math.abs(Number(model[r]![ch]!) - f);
        if (d) mismatches++;
        worst = Math.max(worst, d);
      }));
    }
    expect(total).toBeGreaterThan(20000);
    expect(worst).toBeLessThanOrEqual(1);
    expect(mismatches / total).toBeLessThanOrEqual(1e-4);
  });
});
