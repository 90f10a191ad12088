/**
 * The encoder's default layer: a deterministic synthetic FQ-ViT block for an instance (gen's program/default.*, the
 * standalone testbench, `verify` without vectors), drawn with the project's seeded generator (common/random.ts), so it
 * needs no vector file. It is a layer, not a reference: it has no float run, so its `intermediate` and `expect` are
 * the chained model's own codes and `floatOut` is empty; only RTL == model is checked on it.
 *
 * Scales are powers of two (activation scales 2^k / 2^bits, weight scales chosen so that a GEMM's output has about
 * unit spread) and biases whole multiples of a_scale · w_scale, so every requantizer's rescale is an exact binary
 * fraction and each block's exactness proof holds at every width; alpha is drawn from 0..2, gamma from 0.5..1.5.
 */
import { mulberry32 } from '../common/random.ts';
import type { EncoderCase, LinearLayer, NormLayer, PtfQuantizer, Quantizer } from './case.ts';
import { encoderChain, encoderLayers } from './model.ts';
import type { EncoderSpec } from './spec.ts';

/** 2^round(log2 x). */
const pow2 = (x: number) => 2 ** Math.round(Math.log2(x));

/** The default layer of an instance, run on `tokens` tokens (1..max_tokens) of seeded random input codes. */
export function defaultCase(spec: EncoderSpec, tokens: number, seed = 1): EncoderCase {
  const p = spec.params;
  const rnd = mulberry32(seed);
  const top = 2 ** p.bits - 1;
  const mid = 2 ** (p.bits - 1);
  const dim = p.dim;
  const hidden = p.max_mlp_hidden;
  const act = 8 / 2 ** p.bits;
  const uniform = (scale: number, zeroPoint = mid): Quantizer => ({ scale, zeroPoint });
  const ptf = (scaleMin: number): PtfQuantizer => {
    const alpha = Array.from({ length: dim }, () => Math.floor(rnd() * 3));
    return { scaleMin, alpha, scales: alpha.map((a) => scaleMin * 2 ** a), zeroPoint: mid };
  };
  const norm = (): NormLayer => ({
    gamma: Array.from({ length: dim }, () => 0.5 + rnd()),
    beta: Array.from({ length: dim }, () => rnd() - 0.5),
  });
  const wTop = 2 ** (p.w_bits - 1) - 1;
  // Weights uniform in -wTop..wTop; w_scale puts the output's spread near 1 for inputs spread over the codes
  const linear = (out: number, k: number, aScale: number): LinearLayer => {
    const spread = Math.sqrt(k) * (mid / Math.sqrt(3)) * Math.max(1, wTop / Math.sqrt(3)) * aScale;
    const wScale = pow2(1 / spread);
    return {
      w: Array.from({ length: out }, () => Array.from({ length: k }, () => Math.round((2 * rnd() - 1) * wTop))),
      wScale: new Array<number>(out).fill(wScale),
      bias: Array.from({ length: out }, () => Math.round((rnd() - 0.5) * 0.5 / (aScale * wScale)) * aScale * wScale),
    };
  };
  // A residual sum x + y needs more range than x: its quantizer keeps x's channel exponents (alpha) at twice the
  // scale, so that the sum of a full-range input and a branch output of about unit spread rarely clips.
  const doubled = (q: PtfQuantizer): PtfQuantizer => ({ ...q, scaleMin: 2 * q.scaleMin, scales: q.scales.map((s) => 2 * s) });
  const input = ptf(act / 2);
  const resid1 = doubled(input);
  const quantizers = {
    in: input, norm1_out: uniform(act), qkv_out: uniform(act),
    attn_score: uniform(spec.derived.attention.params.score_scale), attn_out: uniform(act),
    proj_out: uniform(act), resid1, norm2_out: uniform(act),
    fc1_act: uniform(act / 2, Math.max(1, 2 ** (p.bits - 3))), fc2_out: uniform(act), resid2: doubled(resid1),
  };
  const inputs = Array.from({ length: tokens }, () => Array.from({ length: dim }, () => Math.floor(rnd() * (top + 1))));
  const c: EncoderCase = {
    kind: 'synthetic default', tokens, dim, heads: p.heads, headDim: dim / p.heads, mlpHidden: hidden,
    aBits: p.bits, wBits: p.w_bits, sBits: p.s_bits, attnScale: 2 ** -Math.round(Math.log2(dim / p.heads) / 2),
    quantizers,
    layers: {
      norm1: norm(), norm2: norm(),
      qkv: linear(3 * dim, dim, act), proj: linear(dim, dim, act), fc1: linear(hidden, dim, act), fc2: linear(dim, hidden, act / 2),
    },
    inputs,
    intermediate: { norm1_out: [], qkv_out: [], attn_score: [], attn_prob: [], attn_prob_exact: [], attn_out: [], proj_out: [], resid1: [], norm2_out: [], fc1_act: [], fc2_out: [], resid2: [] },
    expect: [],
    floatOut: [],
  };
  const chain = encoderChain(encoderLayers(c), inputs);
  c.intermediate = { ...chain, attn_prob_exact: chain.attn_prob };
  c.expect = chain.resid2;
  return c;
}

/** The default stimulus: the default layer on max_tokens tokens, then on ceil(max_tokens / 3) (another N, same instance). */
export function defaultRuns(spec: EncoderSpec, seed = 1): EncoderCase[] {
  const n = spec.params.max_tokens;
  return [defaultCase(spec, n, seed), defaultCase(spec, Math.max(1, Math.ceil(n / 3)), seed + 1)];
}
