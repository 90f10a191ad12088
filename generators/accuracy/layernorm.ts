/**
 * Accuracy of the PTF LayerNorm against float64: the dequantized output (code - out_zero_point) * out_scale against
 * float64 LayerNorm of the dequantized input (q - zero_point) * in_scale_min * 2^alpha, with the layer's gamma and
 * beta. Reads the resolved spec's layer (its floats) and C, and the golden model's outputs (modelOutputs); nothing
 * about how the block stores its constants.
 */
import { modelOutputs } from '../layernorm/index.ts';
import { resolveLayernorm, type LayernormSpec } from '../layernorm/spec.ts';
// The project's seeded generator (mulberry32); moving to generators/common/random.ts.
import { mulberry32 } from '../common/random.ts';
import { errorStats, layerNormFloat, type ErrorStats } from './float.ts';
import { DEFAULT_SAMPLES, type AccuracyReport, type SampleOptions } from './types.ts';

/** Errors of the golden model's dequantized outputs against float64 LayerNorm of the dequantized tokens. */
export function layernormErrors(spec: LayernormSpec, tokens: readonly (readonly number[])[]): ErrorStats {
  const l = spec.layer;
  const got: number[] = [];
  const want: number[] = [];
  modelOutputs(spec, tokens).forEach((out, t) => {
    got.push(...out.map((y) => (Number(y) - l.outZeroPoint) * l.outScale));
    const x = tokens[t]!.map((q, c) => (q - l.zeroPoint) * l.inScaleMin * 2 ** l.alpha[c]!);
    want.push(...layerNormFloat(x, l.gamma, l.beta));
  });
  return errorStats(got, want);
}

/**
 * `samples` tokens of C codes around the zero point: zero_point + (u1 + u2 + u3 - 1.5) * 2 * spread, rounded and
 * clamped to the code range, with spread a third of the codes above or below the zero point, whichever is larger.
 */
export function layernormInputs(bits: number, channels: number, zeroPoint: number, options: SampleOptions): number[][] {
  const rnd = mulberry32(options.seed);
  const qmax = 2 ** bits - 1;
  const spread = Math.max(zeroPoint, qmax - zeroPoint) / 3;
  const code = (v: number) => Math.max(0, Math.min(qmax, Math.round(v)));
  return Array.from({ length: options.samples }, () =>
    Array.from({ length: channels }, () => code(zeroPoint + (rnd() + rnd() + rnd() - 1.5) * 2 * spread)));
}

export function layernormAccuracy(bits: number, overrides: unknown, options: SampleOptions = DEFAULT_SAMPLES): AccuracyReport {
  const spec = resolveLayernorm(bits, overrides);
  const stats = layernormErrors(spec, layernormInputs(spec.bits, spec.channels, spec.layer.zeroPoint, options));
  return {
    block: 'layernorm',
    inputs: `${options.samples} tokens of C = ${spec.channels} codes around the zero point ${spec.layer.zeroPoint} (sum of three uniforms, mulberry32, seed ${options.seed}); ${stats.count} elements`,
    metrics: [
      { name: 'rms_error', value: stats.rms, meaning: 'RMS of (code - out_zero_point) * out_scale minus float64 LayerNorm (no epsilon) of (q - zero_point) * in_scale_min * 2^alpha with gamma, beta; output units' },
      { name: 'max_abs_error', value: stats.maxAbs, meaning: 'largest |difference| of any element, same comparison; output units' },
    ],
    primary: 'rms_error',
  };
}
