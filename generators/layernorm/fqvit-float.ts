/**
 * FQ-ViT's own float64 forward of QIntLayerNorm (mode 'int'), in the same operation order, for measuring how close
 * the integer datapath comes to it on stimulus beyond the vector files (`npx tsx generators/layernorm/measure.ts`).
 * Not a source of expected values for the RTL: that is the integer golden model (model.ts).
 */
import { roundHalfEvenNumber } from '../common/arith.ts';

export interface FloatLayer {
  inScaleMin: number;
  zeroPoint: number;
  alpha: readonly number[];
  gamma: readonly number[];
  beta: readonly number[];
  outScale: number;
  outZeroPoint: number;
}

/** y (before the output zero point) of one token, or NaN where FQ-ViT divides by a zero std. */
export function fqvitLayernormToken(codes: readonly number[], l: FloatLayer): number[] {
  const C = codes.length;
  const s1 = l.inScaleMin;
  const xq = codes.map((q, c) => roundHalfEvenNumber(((q - l.zeroPoint) * (s1 * 2 ** l.alpha[c]!)) / s1));
  let sum = 0;
  let sumSq = 0;
  for (const v of xq) { sum += v; sumSq += v * v; } // small integers: exact in any order
  const mean = (sum / C) * s1;
  const std = (s1 / C) * Math.sqrt(C * sumSq - sum * sum);
  return xq.map((v, c) => {
    const A = ((s1 / std) * l.gamma[c]!) / l.outScale;
    const sign = Math.sign(A);
    const a = Math.abs(A);
    const N = Math.min(Math.max(7 - Math.floor(Math.log2(a)), 0), 31);
    const M = Math.min(Math.max(Math.floor(a * 2 ** N), 0), 255);
    const B = roundHalfEvenNumber(((l.beta[c]! - (mean / std) * l.gamma[c]!) / l.outScale) * 2 ** N);
    return roundHalfEvenNumber((sign * M * v + B) / 2 ** N);
  });
}
