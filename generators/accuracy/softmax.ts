/**
 * Accuracy of the LIS softmax against float64: the output 2^-t (0 for an exact zero) against the float64 softmax of
 * the same dequantized scores x = q * s. Reads only the spec's parameters (resolveSoftmax) and the golden model's
 * functions (model.ts): the layer's exp table is rebuilt here from (in_bits, scale, n), so nothing depends on how the
 * block stores it.
 */
import { expTable, lisConstants, softmaxRow } from '../softmax/model.ts';
import { resolveSoftmax } from '../softmax/spec.ts';
// The project's seeded generator (mulberry32); moving to generators/common/random.ts.
import { mulberry32 } from '../common/random.ts';
import { errorStats, softmaxFloat, type ErrorStats } from './float.ts';
import { DEFAULT_SAMPLES, type AccuracyReport, type SampleOptions } from './types.ts';

/** The parameters of the layer the figures are for. */
export interface SoftmaxLayerParams {
  in_bits: number;
  out_bits: number;
  scale: number;
  n: number;
}

/** Errors of the golden model's values 2^-t (or 0) against float64 softmax(q * scale), over every element of `rows`. */
export function softmaxErrors(p: SoftmaxLayerParams, rows: readonly (readonly number[])[]): ErrorStats {
  const table = expTable(p.in_bits, lisConstants(p.scale, p.n));
  const got: number[] = [];
  const want: number[] = [];
  for (const row of rows) {
    for (const o of softmaxRow(row, table, p.out_bits)) got.push(o.zero ? 0 : 2 ** -o.code);
    want.push(...softmaxFloat(row.map((q) => q * p.scale)));
  }
  return errorStats(got, want);
}

/** Logits the scores are drawn over: the span the default scale gives the codes (generators/softmax/spec.ts). */
export const SCORE_SPAN = 8;

/**
 * `samples` rows of max_length scores, the same floats at every width: x uniform in [0, SCORE_SPAN) logits, quantized
 * to q = min(round(x / scale), 2^in_bits - 1) (a score beyond the code range saturates, as a quantizer does).
 */
export function softmaxInputs(inBits: number, scale: number, maxLength: number, options: SampleOptions): number[][] {
  const rnd = mulberry32(options.seed);
  const top = 2 ** inBits - 1;
  return Array.from({ length: options.samples }, () => Array.from({ length: maxLength }, () => Math.min(top, Math.round((rnd() * SCORE_SPAN) / scale))));
}

export function softmaxAccuracy(bits: number, overrides: unknown, options: SampleOptions = DEFAULT_SAMPLES): AccuracyReport {
  const { params } = resolveSoftmax(bits, overrides);
  const stats = softmaxErrors(params, softmaxInputs(params.in_bits, params.scale, params.max_length, options));
  const what = `the value 2^-t (0 for an exact zero) against float64 softmax of the scores q * ${params.scale}`;
  return {
    block: 'softmax',
    inputs: `${options.samples} rows of max_length = ${params.max_length} scores uniform in [0, ${SCORE_SPAN}) logits, quantized with scale ${params.scale} to codes 0..${2 ** params.in_bits - 1} (mulberry32, seed ${options.seed}); ${stats.count} elements`,
    metrics: [
      { name: 'mean_abs_error', value: stats.meanAbs, meaning: `mean |difference| per element: ${what}` },
      { name: 'max_abs_error', value: stats.maxAbs, meaning: `largest |difference| of any element: ${what}` },
    ],
    primary: 'mean_abs_error',
  };
}
