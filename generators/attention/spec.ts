/**
 * The attention-head block's spec: user parameters (JSDoc'd, the source of --help and docs/parameters.md), their
 * validation, and every width derived once for the worst case over every layer the parameters allow.
 *
 * What a layer may be (the layer range): any qkv_out, attn_score and attn_out quantizers and attn_scale for which
 * (1) the two rescales s_qkv² · attn_scale / s_score and s_qkv / s_attn_out / 2^prob_frac_bits fit the requantizer
 * (generators/gemm/model.ts deriveChannel: below 2^(frac_bits - 1)) and the exact requantizer constants exist
 * (requant.ts exactChannel), and (2) s_score is in the built-in softmax's range, min_score_scale <= s_score (its exp
 * table is part of the layer's program; generators/softmax/spec.ts softmaxLayer). Building a layer
 * outside that range is a SpecError naming the parameter and the range (model.ts attentionLayer).
 */
import { maxUnsigned } from '../common/arith.ts';
import { checkPrefix, moduleName } from '../common/names.ts';
import { intInRange, object, onlyKeys, positiveFinite, require } from '../common/validate.ts';
import { SOFTMAX_DEFAULTS, defaultScale, deriveSoftmax, type SoftmaxSpec } from '../softmax/spec.ts';
import { deriveGemm, requantChunking, requantSerialStages, type GemmSpec } from '../gemm/spec.ts';

/**
 * FQ-ViT attention head: per head, S = (Q - zp)(K - zp)ᵀ exact, requantized to attn_score codes, LIS softmax of each
 * row to 4-bit log2 codes, then O = Σ_j 2^-t_ij (v_j - zp) by shifts and adds (no multiplier), requantized to attn_out.
 */
export interface AttentionParams {
  /** Width of the unsigned qkv_out, attn_score and attn_out codes (FQ-ViT's activation width). @range 2..16 @default --bits */
  bits: number;
  /** Width of the softmax's log2 code t (value 2^-t). FQ-ViT uses 4. The PV accumulator keeps 2^s_bits - 1 fraction bits, so 2^-t is exact for every code. @range 1..5 @default 4 */
  s_bits: number;
  /** Elements of one head's query, key and value (C / H). @range 1..256 @default 16 */
  head_dim: number;
  /** Heads of the layer (C = heads * head_dim); the heads are computed one after another. The default, 2, is smaller than DeiT-Tiny's 3 so that the q, k and v memories of the default build fit an iCE40 HX8K's block RAMs at 8 bits beside the softmax's (specs/deit-tiny-attention.json is DeiT-Tiny's layer). @range 1..16 @default 2 */
  heads: number;
  /** Elements of a head computed at once: the QK pass has this many MACs and the PV pass this many shift-add units, so both take N * N * head_dim / lanes cycles a head (the PV pass at least N * head_dim: one output code a cycle). Must divide head_dim. 1 keeps the block small (an iCE40 HX8K has no multipliers). @range 1..256 @default 1 */
  lanes: number;
  /** Largest number of tokens N; any N from 1 to this is chosen at run time. The default, 32, is below DeiT-Tiny's 197 so that the default build fits an iCE40 HX8K at --bits 4 and 8 (5,215 and 6,240 logic cells; Fmax over nextpnr seeds in the README) (specs/deit-tiny-attention.json: 197). @range 1..1024 @default 32 */
  max_tokens: number;
  /** The attn_score scale s_score of the default layer (gen's program/default and the testbench's stimulus). Any layer with min_score_scale <= s_score runs on the same hardware: its softmax exp table is part of its program. @default the softmax's default scale for bits and max_tokens */
  score_scale: number;
  /** Smallest attn_score scale s_score of any layer the instance serves: the built-in softmax's min_scale, so its exp table depth and every softmax width are derived for it (generators/softmax/README.md). A layer below it is refused when its program is built (SpecError on layer.attn_score.scale). @default score_scale */
  min_score_scale: number;
  /** Fraction bits of the requantizer (the GEMM's requantizer: M * 2^-S with M a frac_bits-bit integer; one instance serves both the score and the output requantization). A rescale r must map every |S| up to the accumulator's bound to the same code as the exact r, which needs M's grid (r * 2^(1 - frac_bits)) finer than the gap between r and the nearest rescale that moves a rounding threshold across an integer S; requant.ts exactChannel checks it exactly per layer and moves M inside the exact interval, and a layer with no exact M is a SpecError. The default, 28, is 2 bits above the most any layer of the public encoder file needs (24 to 26, at N up to 197 and 8 bits) and keeps the default build inside an iCE40 HX8K; verify builds each case's instance with 40 (stages.ts CASE_FRAC_BITS). @range 24..40 @default 28 */
  frac_bits: number;
  /** Cycles the one requantizer spends on each code (the GEMM's digit-serial requantizer, multiplying M a chunk of ceil(ceil(frac_bits / 2) / requant_cycles) two-bit digits a cycle; the chunking may round it down, derived.requantCycles is what is built). The QK and the PV pass each get the requantizer once every 2 * requant_cycles cycles, which costs no throughput while 2 * requant_cycles <= head_dim / lanes (a score's MACs) and 2 * requant_cycles * lanes <= N (a PV run). Larger is smaller: at 8 bits, frac_bits 28, 4 takes about 1,150 fewer LUT4 than 1. @range 1..20 @default the largest of 1 to 4 with 2 * requant_cycles <= head_dim / lanes */
  requant_cycles: number;
}

export const ATTENTION_KEYS = ['bits', 's_bits', 'head_dim', 'heads', 'lanes', 'max_tokens', 'score_scale', 'min_score_scale', 'frac_bits', 'requant_cycles'] as const;
export const ATTENTION_DEFAULTS = { s_bits: 4, head_dim: 16, heads: 2, lanes: 1, max_tokens: 32, frac_bits: 28 } as const;

/** The largest requant_cycles the default takes: 4 (about 1,150 LUT4 fewer than 1 at 8 bits); more saves less. */
const DEFAULT_MAX_REQUANT_CYCLES = 4;

/** The default requant_cycles: the largest of 1 .. 4 that keeps the QK pass at its rate (2 * it <= head_dim / lanes). */
export function defaultRequantCycles(headDim: number, lanes: number): number {
  return Math.max(1, Math.min(DEFAULT_MAX_REQUANT_CYCLES, Math.floor(headDim / lanes / 2)));
}

export interface AttentionDerived {
  /** Fraction bits of the PV accumulator: 2^s_bits - 1, so (v - zp) · 2^-t is an exact integer for every code t. */
  probFracBits: number;
  /** The score requantizer as a GEMM requantizer: S is a K = head_dim run of (q - zp) (a_bits) times (k - zp) (a_bits + 1 signed). */
  score: GemmSpec;
  /** The output requantizer: O is a K = max_tokens run of (v - zp) times 2^(probFracBits - t) (probFracBits + 2 bits signed). */
  out: GemmSpec;
  /** The shared requantizer: two-bit digits of M multiplied a cycle, the cycles a code takes (requantChunking), and
   * its register stages from taking an element to its code (requantSerialStages). */
  requantChunkDigits: number;
  requantCycles: number;
  requantStages: number;
  /** Largest |S| and largest |O| (the exactness of the requantizer constants is checked over these). */
  scoreAbsMax: bigint;
  outAbsMax: bigint;
  /**
   * The built-in softmax: in_bits = bits, out_bits = s_bits, rows up to max_tokens, min_scale = min_score_scale,
   * default layer score_scale; its modules are named under the block scope (subPrefix).
   */
  softmax: SoftmaxSpec;
}

/** The prefix of the sub-blocks' module names (softmax, GEMM leaves): `<prefix>_attention`, or `attention` unprefixed. */
export function subPrefix(prefix: string): string {
  return moduleName(prefix, 'attention');
}

export interface AttentionSpec {
  readonly params: Readonly<AttentionParams>;
  readonly prefix: string;
  readonly derived: Readonly<AttentionDerived>;
}

/** Validates an attention section of a --spec file (or undefined), applies the defaults for --bits, derives widths. */
export function resolveAttention(bits: number, overrides: unknown, prefix = ''): AttentionSpec {
  const o = overrides === undefined ? {} : object('attention', overrides);
  onlyKeys('attention', o, ATTENTION_KEYS);
  const width = intInRange('attention.bits', o.bits ?? bits, 2, 16);
  const maxTokens = intInRange('attention.max_tokens', o.max_tokens ?? ATTENTION_DEFAULTS.max_tokens, 1, 1024);
  const scoreScale = o.score_scale === undefined ? defaultScale(width, maxTokens) : positiveFinite('attention.score_scale', o.score_scale);
  const sBits = intInRange('attention.s_bits', o.s_bits ?? ATTENTION_DEFAULTS.s_bits, 1, 5);
  const headDim = intInRange('attention.head_dim', o.head_dim ?? ATTENTION_DEFAULTS.head_dim, 1, 256);
  const heads = intInRange('attention.heads', o.heads ?? ATTENTION_DEFAULTS.heads, 1, 16);
  const lanes = intInRange('attention.lanes', o.lanes ?? ATTENTION_DEFAULTS.lanes, 1, 256);
  require(headDim % lanes === 0, 'attention.lanes', `must divide head_dim (${headDim})`, lanes);
  const params: AttentionParams = {
    bits: width,
    s_bits: sBits,
    head_dim: headDim,
    heads,
    lanes,
    max_tokens: maxTokens,
    score_scale: scoreScale,
    min_score_scale: o.min_score_scale === undefined ? scoreScale : positiveFinite('attention.min_score_scale', o.min_score_scale),
    frac_bits: intInRange('attention.frac_bits', o.frac_bits ?? ATTENTION_DEFAULTS.frac_bits, 24, 40),
    // Its default needs head_dim and lanes, checked above
    requant_cycles: intInRange('attention.requant_cycles', o.requant_cycles ?? defaultRequantCycles(headDim, lanes), 1, 20),
  };
  require(params.score_scale >= params.min_score_scale, 'attention.score_scale', `must be at least min_score_scale (${params.min_score_scale})`, params.score_scale);
  const checked = prefix === '' ? '' : checkPrefix('attention.prefix', prefix);
  return Object.freeze({
    params: Object.freeze(params),
    prefix: checked,
    derived: Object.freeze(deriveAttention(params, checked)),
  });
}

export function deriveAttention(p: AttentionParams, prefix = ''): AttentionDerived {
  const softmax = deriveSoftmax(
    { in_bits: p.bits, out_bits: p.s_bits, scale: p.score_scale, min_scale: p.min_score_scale, max_length: p.max_tokens, n: SOFTMAX_DEFAULTS.n },
    subPrefix(prefix),
    'attention.min_score_scale',
  );
  const probFracBits = 2 ** p.s_bits - 1;
  const gemm = (wBits: number, maxK: number): GemmSpec => {
    const g = { rows: 1, cols: 1, aBits: p.bits, wBits, outBits: p.bits, maxK, fracBits: p.frac_bits };
    return Object.freeze({ ...g, prefix: '', derived: Object.freeze(deriveGemm(g)) });
  };
  // (k - zp) lies in [-(2^bits - 1), 2^bits - 1]: a (bits + 1)-bit signed operand. 2^(F - t) lies in [1, 2^F]:
  // an (F + 2)-bit signed operand. Both bounds are the GEMM's (conservative by at most one bit).
  const score = gemm(p.bits + 1, p.head_dim);
  const out = gemm(probFracBits + 2, p.max_tokens);
  const aMax = maxUnsigned(p.bits);
  const chunking = requantChunking(p.frac_bits, p.requant_cycles);
  return {
    probFracBits,
    score,
    out,
    requantChunkDigits: chunking.chunkDigits,
    requantCycles: chunking.cycles,
    requantStages: requantSerialStages(chunking.chunkDigits, chunking.cycles),
    scoreAbsMax: BigInt(p.head_dim) * aMax * aMax,
    outAbsMax: BigInt(p.max_tokens) * aMax << BigInt(probFracBits),
    softmax,
  };
}
