/**
 * The float64 references the accuracy figures compare with, and the error statistics. Plain float64 arithmetic, no
 * quantization anywhere: this is the "float" side of every accuracy figure.
 */

/** softmax(x) in float64, with the row maximum subtracted first (the same value, without overflow). */
export function softmaxFloat(x: readonly number[]): number[] {
  if (x.length === 0) throw new RangeError('softmaxFloat of an empty row');
  const max = Math.max(...x);
  const e = x.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / sum);
}

/**
 * LayerNorm of one token in float64: (x - mean) / std * gamma + beta with the population variance and no epsilon
 * (FQ-ViT's integer LayerNorm has none). A constant token (std 0) gives beta, LayerNorm's limit as epsilon goes to 0.
 */
export function layerNormFloat(x: readonly number[], gamma: readonly number[], beta: readonly number[]): number[] {
  const n = x.length;
  if (n === 0) throw new RangeError('layerNormFloat of an empty token');
  const mean = x.reduce((a, v) => a + v, 0) / n;
  const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  const std = Math.sqrt(variance);
  return x.map((v, c) => (std === 0 ? beta[c]! : ((v - mean) / std) * gamma[c]! + beta[c]!));
}

/** Differences between a quantized result and its float reference, summarized. */
export interface ErrorStats {
  /** Elements compared. */
  count: number;
  /** Mean of |got - want|. */
  meanAbs: number;
  /** Largest |got - want|. */
  maxAbs: number;
  /** sqrt(mean((got - want)^2)). */
  rms: number;
}

/** Error statistics of `got` against `want`, element by element (same lengths). */
export function errorStats(got: readonly number[], want: readonly number[]): ErrorStats {
  if (got.length !== want.length) throw new RangeError(`errorStats: ${got.length} values against ${want.length}`);
  if (got.length === 0) throw new RangeError('errorStats of no values');
  let sumAbs = 0;
  let sumSq = 0;
  let maxAbs = 0;
  got.forEach((g, i) => {
    const d = Math.abs(g - want[i]!);
    sumAbs += d;
    sumSq += d * d;
    if (d > maxAbs) maxAbs = d;
  });
  return { count: got.length, meanAbs: sumAbs / got.length, maxAbs, rms: Math.sqrt(sumSq / got.length) };
}
