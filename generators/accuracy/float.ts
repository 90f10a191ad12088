/**
 * The float64 references the accuracy figures compare with, and the error statistics. Plain float64 arithmetic, no
 * quantization anywhere: this is the "float" side of every accuracy figure.
 */
import type { EncoderCase, LinearLayer } from '../encoder/case.ts';
import { geluFloat } from '../gelu/erf.ts';

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

/** The float parameters of an encoder block: its layers (weights as codes with per-channel scales) and input quantizer. */
export type EncoderFloatLayer = Pick<EncoderCase, 'dim' | 'heads' | 'headDim' | 'attnScale' | 'layers'> & { quantizers: Pick<EncoderCase['quantizers'], 'in'> };

/** x · Wᵀ + bias for one token, W dequantized (code · w_scale of its output channel). */
function linearFloat(x: readonly number[], layer: LinearLayer): number[] {
  return layer.w.map((row, n) => row.reduce((acc, w, k) => acc + x[k]! * w * layer.wScale[n]!, 0) + layer.bias[n]!);
}

/**
 * The whole FQ-ViT encoder block in float64 (../shared/FQVIT.md, "The whole encoder block", with no quantizer between
 * the steps) on input codes dequantized by quantizer `in`: LayerNorm (no epsilon), qkv, per head softmax(q·kᵀ ·
 * attn_scale)·v, proj, residual, LayerNorm, fc1, GELU (erf), fc2, residual. The weights are the layer's codes times
 * their scales: this is the block with its quantized weights, so weight quantization is not part of an error against it.
 */
export function encoderFloat(layer: EncoderFloatLayer, inputs: readonly (readonly number[])[]): number[][] {
  const { dim, heads, headDim } = layer;
  const l = layer.layers;
  const q = layer.quantizers.in;
  const x = inputs.map((t) => t.map((code, c) => (code - q.zeroPoint) * q.scales[c]!));
  const qkv = x.map((t) => linearFloat(layerNormFloat(t, l.norm1.gamma, l.norm1.beta), l.qkv));
  const attn = x.map(() => new Array<number>(dim).fill(0));
  for (let h = 0; h < heads; h++) {
    const col = (part: number, d: number) => part * dim + h * headDim + d;
    qkv.forEach((qi, i) => {
      const scores = qkv.map((kj) => {
        let s = 0;
        for (let d = 0; d < headDim; d++) s += qi[col(0, d)]! * kj[col(1, d)]!;
        return s * layer.attnScale;
      });
      const p = softmaxFloat(scores);
      for (let d = 0; d < headDim; d++) attn[i]![h * headDim + d] = p.reduce((acc, pj, j) => acc + pj * qkv[j]![col(2, d)]!, 0);
    });
  }
  const resid1 = x.map((t, i) => { const proj = linearFloat(attn[i]!, l.proj); return t.map((v, c) => v + proj[c]!); });
  return resid1.map((t) => {
    const hidden = linearFloat(layerNormFloat(t, l.norm2.gamma, l.norm2.beta), l.fc1).map(geluFloat);
    const fc2 = linearFloat(hidden, l.fc2);
    return t.map((v, c) => v + fc2[c]!);
  });
}
