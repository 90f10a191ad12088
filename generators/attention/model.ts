/**
 * Golden model of the attention head block, pure BigInt (../shared/FQVIT.md, "The whole encoder block"), one head at
 * a time:
 *   S_ij = Σ_d (q_id - zp)(k_jd - zp)                                     exact (gemm/model.ts accumulate)
 *   attn_score_ij = clamp(round_half_even(S_ij · s_qkv² · attn_scale / s_score) + zp_score)   (the GEMM requantizer)
 *   t_ij = LIS softmax of row i of attn_score, scale s_score                 (softmax/model.ts softmaxRow)
 *   O_id = Σ_{j: p_ij ≠ 0} (v_jd - zp) · 2^(F - t_ij)   with F = 2^s_bits - 1 fraction bits: exact, t ≤ F
 *   attn_out_id = clamp(round_half_even(O_id · 2^-F · s_qkv / s_attn_out) + zp_out)     (the GEMM requantizer)
 * The requantizer constants come from requant.ts exactChannel, which makes the fixed-point requantizer equal the
 * exact rational rescale of the float64 scales on every accumulator the hardware can produce.
 */
import { exactBinary, maxUnsigned } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';
import { accumulate, requantize, type ChannelConstants } from '../gemm/model.ts';
import { softmaxRow, type ExpEntry, type LisConstants } from '../softmax/model.ts';
import { softmaxLayer, type SoftmaxLayer } from '../softmax/spec.ts';
import { exactChannel, type Ratio } from './requant.ts';
import type { AttentionSpec } from './spec.ts';

/** The float quantizers of one layer, as FQ-ViT has them. */
export interface AttentionScales {
  qkvScale: number;
  qkvZeroPoint: number;
  /** head_dim^-0.5. */
  attnScale: number;
  scoreScale: number;
  scoreZeroPoint: number;
  outScale: number;
  outZeroPoint: number;
}

/** The run-time constants of one layer, derived once from its scales (the program the hardware loads). */
export interface AttentionLayer {
  scales: AttentionScales;
  /** s_qkv² · attn_scale / s_score and s_qkv / s_attn_out / 2^F, exact rationals of the float64 scales. */
  scoreRatio: Ratio;
  outRatio: Ratio;
  score: ChannelConstants;
  out: ChannelConstants;
  /** The built-in softmax's layer of scale s_score (its program is the tail of this layer's program). */
  softmax: SoftmaxLayer;
  /** Shorthands of softmax.constants and softmax.table (the exp of every distance max - q). */
  lis: LisConstants;
  table: readonly ExpEntry[];
}

function ratioOf(x: number): Ratio {
  const b = exactBinary(x);
  return { num: b.num, den: 1n << BigInt(b.exp) };
}

function times(a: Ratio, b: Ratio): Ratio {
  return { num: a.num * b.num, den: a.den * b.den };
}

function over(a: Ratio, b: Ratio): Ratio {
  return { num: a.num * b.den, den: a.den * b.num };
}

function positive(parameter: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new SpecError(parameter, 'must be a finite number greater than 0', v);
  return v;
}

function code(parameter: string, v: number, bits: number): number {
  if (!Number.isInteger(v) || v < 0 || v > Number(maxUnsigned(bits))) throw new SpecError(parameter, `must be an integer from 0 to ${maxUnsigned(bits)} (bits)`, v);
  return v;
}

/** Checks a layer's scales against the spec's range and derives its constants (SpecError naming the value). */
export function attentionLayer(spec: AttentionSpec, scales: AttentionScales): AttentionLayer {
  const { bits } = spec.params;
  const d = spec.derived;
  const s = {
    qkvScale: positive('layer.qkv_out.scale', scales.qkvScale),
    qkvZeroPoint: code('layer.qkv_out.zero_point', scales.qkvZeroPoint, bits),
    attnScale: positive('layer.attn_scale', scales.attnScale),
    scoreScale: positive('layer.attn_score.scale', scales.scoreScale),
    scoreZeroPoint: code('layer.attn_score.zero_point', scales.scoreZeroPoint, bits),
    outScale: positive('layer.attn_out.scale', scales.outScale),
    outZeroPoint: code('layer.attn_out.zero_point', scales.outZeroPoint, bits),
  };
  const sq = ratioOf(s.qkvScale);
  const scoreRatio = over(times(times(sq, sq), ratioOf(s.attnScale)), ratioOf(s.scoreScale));
  const outRatio = over(sq, times(ratioOf(s.outScale), { num: 1n << BigInt(d.probFracBits), den: 1n }));
  // The softmax's range check (min_score_scale <= s_score, c >= 1): a SpecError naming the range
  const softmax = softmaxLayer(d.softmax, s.scoreScale, 'layer.attn_score.scale');
  return {
    scales: s,
    scoreRatio,
    outRatio,
    score: exactChannel(d.score, scoreRatio, (s.qkvScale * s.qkvScale * s.attnScale) / s.scoreScale, s.scoreZeroPoint, d.scoreAbsMax, 'layer.attn_score.scale'),
    out: exactChannel(d.out, outRatio, s.qkvScale / s.outScale / 2 ** d.probFracBits, s.outZeroPoint, d.outAbsMax, 'layer.attn_out.scale'),
    softmax,
    lis: softmax.constants,
    table: softmax.table,
  };
}

/** One head's q, k, v (N × head_dim each) from qkv_out (N × 3C: q | k | v, head h at columns h·head_dim ...). */
export function headOperands(qkv: readonly (readonly number[])[], head: number, headDim: number, dim: number) {
  const cols = (part: number) => qkv.map((row) => row.slice(part * dim + head * headDim, part * dim + (head + 1) * headDim));
  return { q: cols(0), k: cols(1), v: cols(2) };
}

/** Exact S = (Q - zp)(K - zp)ᵀ, N × N. */
export function scoreAccumulators(q: readonly (readonly number[])[], k: readonly (readonly number[])[], zeroPoint: number): bigint[][] {
  return accumulate(q, k.map((row) => row.map((x) => x - zeroPoint)), zeroPoint);
}

/** attn_score codes of S through the score requantizer. */
export function scoreCodes(spec: AttentionSpec, layer: AttentionLayer, s: readonly (readonly bigint[])[]): number[][] {
  return s.map((row) => row.map((x) => Number(requantize(spec.derived.score, x, layer.score))));
}

/** LIS softmax of one row of attn_score codes: t (value 2^-t), or null where the probability is exactly 0. */
export function probRow(spec: AttentionSpec, layer: AttentionLayer, row: readonly number[]): Array<number | null> {
  return softmaxRow(row, layer.table, spec.params.s_bits).map((o) => (o.zero ? null : o.code));
}

/**
 * O_d = Σ_j (v_jd - zp) · 2^(F - t_j) over the j with a nonzero probability, F = probFracBits: the value
 * Σ_j (v_jd - zp) · 2^-t_j exactly, in units of 2^-F. This is what the shift-accumulate unit computes.
 */
export function pvAccumulators(spec: AttentionSpec, v: readonly (readonly number[])[], probs: ReadonlyArray<number | null>, zeroPoint: number): bigint[] {
  const f = spec.derived.probFracBits;
  const out = Array.from({ length: v[0]?.length ?? 0 }, () => 0n);
  probs.forEach((t, j) => {
    if (t === null) return;
    if (t < 0 || t > f) throw new RangeError(`probability code ${t} outside 0..${f}`);
    v[j]!.forEach((x, d) => { out[d]! += BigInt(x - zeroPoint) << BigInt(f - t); });
  });
  return out;
}

/** attn_out codes of one head's accumulators through the output requantizer. */
export function outCodes(spec: AttentionSpec, layer: AttentionLayer, o: readonly bigint[]): number[] {
  return o.map((x) => Number(requantize(spec.derived.out, x, layer.out)));
}

/** Every stage of one head. */
export interface HeadResult {
  /** N × N. */
  score: number[][];
  /** N × N, null = exactly 0. */
  prob: Array<Array<number | null>>;
  /** N × head_dim. */
  out: number[][];
}

/** The chained model of one head. */
export function attentionHead(spec: AttentionSpec, layer: AttentionLayer, q: number[][], k: number[][], v: number[][]): HeadResult {
  const zp = layer.scales.qkvZeroPoint;
  const score = scoreCodes(spec, layer, scoreAccumulators(q, k, zp));
  const prob = score.map((row) => probRow(spec, layer, row));
  const out = prob.map((row) => outCodes(spec, layer, pvAccumulators(spec, v, row, zp)));
  return { score, prob, out };
}

/** The chained model of every head: attn_score and attn_prob (H × N × N) and attn_out (N × C, head h at h·head_dim). */
export function attentionModel(spec: AttentionSpec, layer: AttentionLayer, qkv: number[][]) {
  const { heads, head_dim: headDim } = spec.params;
  checkShape(spec, qkv);
  const results = Array.from({ length: heads }, (_, h) => {
    const { q, k, v } = headOperands(qkv, h, headDim, heads * headDim);
    return attentionHead(spec, layer, q, k, v);
  });
  return {
    score: results.map((r) => r.score),
    prob: results.map((r) => r.prob),
    out: qkv.map((_, i) => results.flatMap((r) => r.out[i]!)),
  };
}

/** qkv_out must be N × 3C codes with 1 ≤ N ≤ max_tokens. */
export function checkShape(spec: AttentionSpec, qkv: readonly (readonly number[])[]): void {
  const { max_tokens: maxTokens, heads, head_dim: headDim, bits } = spec.params;
  if (qkv.length < 1 || qkv.length > maxTokens) throw new SpecError('tokens', `must be from 1 to max_tokens (${maxTokens})`, qkv.length);
  const top = Number(maxUnsigned(bits));
  for (const row of qkv) {
    if (row.length !== 3 * heads * headDim) throw new SpecError('qkv_out', `rows must hold 3 · heads · head_dim = ${3 * heads * headDim} codes`, row.length);
    if (row.some((x) => !Number.isInteger(x) || x < 0 || x > top)) throw new SpecError('qkv_out', `codes must be integers from 0 to ${top}`, row.find((x) => !Number.isInteger(x) || x < 0 || x > top));
  }
}
