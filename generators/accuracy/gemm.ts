/**
 * Accuracy of the integer GEMM against float64: the dequantized output (code - out_zero_point) * out_scale against
 * the float product of the dequantized operands, sum_k (a - a_zero_point) * a_scale * w * w_scale[n], plus bias[n].
 * Uses the spec (resolveGemm) and the golden model (deriveChannel, gemmModel).
 */
import { deriveChannel, gemmModel, type GemmScales } from '../gemm/model.ts';
import { resolveGemm, type GemmSpec } from '../gemm/spec.ts';
// The project's seeded generator (mulberry32); moving to generators/common/random.ts.
import { mulberry32 } from '../common/random.ts';
import { errorStats, type ErrorStats } from './float.ts';
import { DEFAULT_SAMPLES, type AccuracyReport, type SampleOptions } from './types.ts';

/** A quantized problem: A (m × k unsigned codes), W (n × k signed codes) and the float quantizers. */
export interface QuantizedGemm {
  a: number[][];
  w: number[][];
  aZeroPoint: number;
  scales: GemmScales;
}

/** Errors of the golden model's dequantized outputs against the float product (+ bias) of the dequantized operands. */
export function gemmErrors(spec: GemmSpec, p: QuantizedGemm): ErrorStats {
  const s = p.scales;
  const channels = p.w.map((_, n) => deriveChannel(spec, s, n));
  const { out } = gemmModel(spec, { a: p.a, w: p.w, aZeroPoint: p.aZeroPoint, channels });
  const got = out.flatMap((row) => row.map((y) => (Number(y) - s.outZeroPoint) * s.outScale));
  const want = p.a.flatMap((aRow) => p.w.map((wRow, n) =>
    aRow.reduce((acc, a, k) => acc + (a - p.aZeroPoint) * s.aScale * wRow[k]! * s.wScale[n]!, 0) + s.bias[n]!));
  return errorStats(got, want);
}

/** Columns of W (output channels) in the measured problem. */
export const GEMM_CHANNELS = 16;
/** K of the measured problem (at most the spec's max_k). */
export const GEMM_K = 64;

/**
 * A problem whose float values do not depend on the widths, quantized for the spec: activations and weights uniform
 * in [-1, 1), biases in [-0.5, 0.5); a_scale = 2 / (2^a_bits - 1) with the zero point in the middle; per-channel
 * symmetric weight scales max|w| / (2^(w_bits-1) - 1); the output quantizer spans +-4 standard deviations of the
 * product, sqrt(k / 9), around the zero point 2^(out_bits-1).
 */
export function gemmInputs(spec: GemmSpec, options: SampleOptions): QuantizedGemm {
  const rnd = mulberry32(options.seed);
  const k = Math.min(GEMM_K, spec.maxK);
  const uniform = () => 2 * rnd() - 1;
  const aMax = 2 ** spec.aBits - 1;
  const aScale = 2 / aMax;
  const aZeroPoint = Math.floor(aMax / 2);
  const a = Array.from({ length: options.samples }, () => Array.from({ length: k }, () =>
    Math.max(0, Math.min(aMax, Math.round(uniform() / aScale) + aZeroPoint))));
  const wHi = 2 ** (spec.wBits - 1) - 1;
  const wFloat = Array.from({ length: GEMM_CHANNELS }, () => Array.from({ length: k }, uniform));
  const wScale = wFloat.map((row) => Math.max(...row.map(Math.abs)) / wHi);
  const w = wFloat.map((row, n) => row.map((v) => Math.max(-wHi - 1, Math.min(wHi, Math.round(v / wScale[n]!)))));
  const bias = Array.from({ length: GEMM_CHANNELS }, () => rnd() - 0.5);
  const outScale = (8 * Math.sqrt(k / 9)) / 2 ** spec.outBits;
  return { a, w, aZeroPoint, scales: { aScale, wScale, bias, outScale, outZeroPoint: 2 ** (spec.outBits - 1) } };
}

export function gemmAccuracy(bits: number, overrides: unknown, options: SampleOptions = DEFAULT_SAMPLES): AccuracyReport {
  const spec = resolveGemm(bits, overrides);
  const problem = gemmInputs(spec, options);
  const stats = gemmErrors(spec, problem);
  return {
    block: 'gemm',
    inputs: `A ${options.samples} × ${problem.a[0]!.length}, W ${GEMM_CHANNELS} × ${problem.a[0]!.length}: floats uniform in [-1, 1) quantized to a_bits ${spec.aBits} / w_bits ${spec.wBits}, bias in [-0.5, 0.5), output scale ${problem.scales.outScale} (mulberry32, seed ${options.seed}); ${stats.count} elements`,
    metrics: [
      { name: 'rms_error', value: stats.rms, meaning: 'RMS of (code - out_zero_point) * out_scale minus the float64 product of the dequantized operands plus bias; output units (the product has standard deviation about sqrt(k / 9))' },
      { name: 'max_abs_error', value: stats.maxAbs, meaning: 'largest |difference| of any element, same comparison; output units' },
    ],
    primary: 'rms_error',
  };
}
