import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encoderAccuracy, ENCODER_PUBLIC_VECTORS, fittingCases } from '../generators/accuracy/encoder.ts';
import { encoderFloat, errorStats, layerNormFloat, softmaxFloat } from '../generators/accuracy/float.ts';
import { gemmErrors, gemmInputs } from '../generators/accuracy/gemm.ts';
import { measureAccuracy } from '../generators/accuracy/index.ts';
import { layernormErrors } from '../generators/accuracy/layernorm.ts';
import { softmaxErrors, softmaxInputs } from '../generators/accuracy/softmax.ts';
import { SpecError } from '../generators/common/errors.ts';
import { readEncoderCase } from '../generators/encoder/case.ts';
import { caseInstance } from '../generators/encoder/index.ts';
import { encoderCaseReport } from '../generators/encoder/report.ts';
import { resolveEncoder } from '../generators/encoder/spec.ts';
import { resolveGemm } from '../generators/gemm/spec.ts';
import { resolveLayernorm } from '../generators/layernorm/spec.ts';

// Every expected value below is worked by hand (the working is in the comments).
describe('float64 references and error statistics', () => {
  it('softmax: exp(0) : exp(ln 3) is 1 : 3', () => {
    const p = softmaxFloat([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 15);
    expect(p[1]).toBeCloseTo(0.75, 15);
    expect(softmaxFloat([1000, 1000])).toEqual([0.5, 0.5]); // the maximum is subtracted first: no overflow
  });

  it('LayerNorm: [1, 3] has mean 2 and std 1; a constant token gives beta', () => {
    expect(layerNormFloat([1, 3], [1, 1], [0, 0])).toEqual([-1, 1]);
    expect(layerNormFloat([1, 3], [2, 1], [0.5, 0])).toEqual([-1.5, 1]);
    expect(layerNormFloat([4, 4, 4], [1, 2, 3], [0.1, 0.2, 0.3])).toEqual([0.1, 0.2, 0.3]);
  });

  it('errors of [1, 2] against [1, 4]: |d| = 0, 2', () => {
    expect(errorStats([1, 2], [1, 4])).toEqual({ count: 2, meanAbs: 1, maxAbs: 2, rms: Math.SQRT2 });
    expect(() => errorStats([1], [1, 2])).toThrow(/1 values against 2/);
  });
});

describe('softmax against float64', () => {
  const layer = { in_bits: 4, out_bits: 4, scale: 0.5, n: 30 };

  it('three equal scores: float 1/3 each; the model rounds E/e = 3 to t = log_round(3) = 2, i.e. 1/4', () => {
    const s = softmaxErrors(layer, [[5, 5, 5]]);
    expect(s.count).toBe(3);
    expect(s.meanAbs).toBeCloseTo(1 / 12, 15);
    expect(s.maxAbs).toBeCloseTo(1 / 12, 15);
  });

  it('one score (value 2^0 = 1) and two equal scores (2^-1 each) are exact', () => {
    expect(softmaxErrors(layer, [[7], [2, 2]]).maxAbs).toBe(0);
  });

  it('draws the same scores at every width: each within half a step of its code (a whole one where 4 bits saturate)', () => {
    const at4 = softmaxInputs(4, 0.5, 64, { seed: 2, samples: 1 })[0]!;
    const at8 = softmaxInputs(8, 1 / 32, 64, { seed: 2, samples: 1 })[0]!;
    at4.forEach((q, i) => expect(Math.abs(q * 0.5 - at8[i]! / 32)).toBeLessThanOrEqual(0.5 + 1 / 64));
    expect(Math.max(...at4)).toBeLessThanOrEqual(15);
  });
});

describe('LayerNorm against float64', () => {
  // Eight channels, scale 1, alpha 0, zero point 0; gamma 1, beta 0; output scale 0.5 around code 8.
  const spec = resolveLayernorm(4, {
    channels: 8, alpha: new Array(8).fill(0), in_scale_min: 1, zero_point: 0,
    gamma: new Array(8).fill(1), beta: new Array(8).fill(0), out_scale: 0.5, out_zero_point: 8,
  });

  it('[0 x4, 2 x4]: mean 1, std 1, so ±1 = ±2 output steps, exact', () => {
    expect(layernormErrors(spec, [[0, 0, 0, 0, 2, 2, 2, 2]]).maxAbs).toBeCloseTo(0, 12);
  });

  it('[0 x7, 3]: mean 3/8, std sqrt(63/64); -0.37796 and 2.64575 round to -0.5 and 2.5', () => {
    // |errors|: 0.122036 (seven times) and 0.145751; RMS sqrt((7 * 0.122036^2 + 0.145751^2) / 8) = 0.125246.
    const s = layernormErrors(spec, [[0, 0, 0, 0, 0, 0, 0, 3]]);
    expect(s.maxAbs).toBeCloseTo((3 - 0.375) / Math.sqrt(63 / 64) - 2.5, 12);
    expect(s.maxAbs).toBeCloseTo(0.145751, 5);
    expect(s.meanAbs).toBeCloseTo((7 * 0.122036 + 0.145751) / 8, 5);
    expect(s.rms).toBeCloseTo(0.125246, 5);
  });
});

describe('GEMM against float64', () => {
  const spec = resolveGemm(4, undefined);
  const scales = { aScale: 1, wScale: [1], bias: [0.25], outScale: 1, outZeroPoint: 0 };

  it('(3 - 1) * 2 + 0.25 = 4.25 rounds to 4; (15 - 1) * 2 + 0.25 = 28.25 saturates at code 15', () => {
    const s = gemmErrors(spec, { a: [[3], [15]], w: [[2]], aZeroPoint: 1, scales });
    // |errors| 0.25 and 13.25: RMS sqrt((0.0625 + 175.5625) / 2).
    expect(s.maxAbs).toBe(13.25);
    expect(s.rms).toBeCloseTo(Math.sqrt(87.8125), 12);
  });

  it('quantizes the same float problem at every width', () => {
    const p4 = gemmInputs(resolveGemm(4, undefined), { seed: 3, samples: 2 });
    const p8 = gemmInputs(resolveGemm(8, undefined), { seed: 3, samples: 2 });
    expect(p4.scales.aScale).toBeCloseTo(2 / 15, 15);
    expect(p8.scales.aScale).toBeCloseTo(2 / 255, 15);
    // The same float activation, seen through each quantizer, lands within half a step of each other.
    const a4 = (p4.a[0]![0]! - p4.aZeroPoint) * p4.scales.aScale;
    const a8 = (p8.a[0]![0]! - p8.aZeroPoint) * p8.scales.aScale;
    expect(Math.abs(a4 - a8)).toBeLessThanOrEqual((p4.scales.aScale + p8.scales.aScale) / 2);
  });
});

describe('measureAccuracy', () => {
  it.each(['gemm', 'layernorm', 'softmax'] as const)('%s: names each metric, is deterministic, and more bits cost less error', (block) => {
    const overrides = block === 'layernorm' ? { channels: 16 } : block === 'softmax' ? { max_length: 16 } : undefined;
    const at4 = measureAccuracy(block, 4, overrides);
    expect(measureAccuracy(block, 4, overrides)).toEqual(at4);
    expect(at4.metrics.map((m) => m.name)).toContain(at4.primary);
    for (const m of at4.metrics) expect(m.meaning.length).toBeGreaterThan(20);
    const primary = (r: typeof at4) => r.metrics.find((m) => m.name === r.primary)!.value;
    expect(primary(measureAccuracy(block, 8, overrides))).toBeLessThan(primary(at4));
  });

  it('validates the spec section like gen does', () => {
    expect(() => measureAccuracy('softmax', 4, { max_length: 0 })).toThrow(SpecError);
  });
});

describe('encoder against float', () => {
  const raws = (JSON.parse(readFileSync(ENCODER_PUBLIC_VECTORS, 'utf8')) as { cases: Array<Record<string, unknown>> }).cases;
  // Case 3: 4 bits, N = 9, C = 48, H = 3, MLP 192 (the smallest public case; its chain takes under a second)
  const small = readEncoderCase(raws[3]!);

  it('float block: with every weight 0, the output is the dequantized input plus fc2\'s bias (both residuals, by hand)', () => {
    const zero = (l: { w: number[][]; wScale: number[]; bias: number[] }, bias: number[]) => ({ ...l, w: l.w.map((r) => r.map(() => 0)), bias });
    const l = small.layers;
    const layer = {
      ...small,
      layers: {
        ...l,
        qkv: zero(l.qkv, l.qkv.bias.map(() => 0)), proj: zero(l.proj, l.proj.bias.map(() => 0)),
        fc1: zero(l.fc1, l.fc1.bias.map(() => 0)), fc2: zero(l.fc2, l.fc2.bias.map((_, c) => c / 8)),
      },
    };
    const q = small.quantizers.in;
    const out = encoderFloat(layer, small.inputs);
    out.forEach((row, t) => row.forEach((v, c) => expect(v).toBeCloseTo((small.inputs[t]![c]! - q.zeroPoint) * q.scales[c]! + c / 8, 12)));
  });

  it('float block: near each public case\'s float_out (which also has float weights and tokens): above 10 dB (k and v swapped: 4.8 dB)', () => {
    for (const index of [1, 2, 3]) {
      const c = readEncoderCase(raws[index]!);
      const f = encoderFloat(c, c.inputs);
      let signal = 0;
      let noise = 0;
      f.forEach((row, t) => row.forEach((v, ch) => { signal += c.floatOut[t]![ch]! ** 2; noise += (v - c.floatOut[t]![ch]!) ** 2; }));
      expect(10 * Math.log10(signal / noise), `case ${index}`).toBeGreaterThan(10);
    }
  });

  it('a configuration that runs a public case reports the encoder model\'s own sqnr_db and sqnr_fqvit_db on it', () => {
    const report = encoderAccuracy(4, { ...caseInstance(small).params });
    const model = encoderCaseReport(small);
    expect(report.primary).toBe('sqnr_db');
    expect(report.metrics.map((m) => m.name)).toEqual(['sqnr_db', 'sqnr_fqvit_db', 'sqnr_float_block_db']);
    expect(report.metrics[0]!.value).toBe(model.sqnr_db);
    expect(report.metrics[1]!.value).toBe(model.sqnr_fqvit_db);
    for (const m of report.metrics) expect(m.better).toBe('higher');
    expect(report.inputs).toMatch(/^public case 3 of \.\.\/shared\/vectors\/fqvit-encoder-public\.json /);
  });

  it('a configuration no public case fits is measured on the synthetic default layer against the float block', () => {
    // Case 3's instance but one token short (8 < N = 9), and the default instance (C = 16: no public case)
    expect(fittingCases(resolveEncoder(4, { ...caseInstance(small).params, max_tokens: 8 }))).toEqual([]);
    const report = encoderAccuracy(4, undefined);
    expect(report.primary).toBe('sqnr_float_block_db');
    expect(report.metrics.map((m) => m.name)).toEqual(['sqnr_float_block_db']);
    expect(Number.isFinite(report.metrics[0]!.value)).toBe(true);
    expect(report.inputs).toMatch(/^no public case .* synthetic default layer .* N = 8 tokens of C = 16 codes/);
    expect(encoderAccuracy(4, undefined)).toEqual(report);
  });

  it('a missing vector file is not an error: every configuration takes the synthetic layer, and says so', () => {
    const report = encoderAccuracy(4, { ...caseInstance(small).params }, undefined, '/nonexistent/encoder.json');
    expect(report.primary).toBe('sqnr_float_block_db');
    expect(report.inputs).toMatch(/no public case of .*nonexistent/);
  });
});
