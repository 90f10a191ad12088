/**
 * The encoder RTL's spec: the generation-time parameters (the hardware: widths, array size, the largest dimensions a
 * run may ask for) and the sub-block specs derived from them once. Every sub-block is named under the block scope
 * `<prefix>_encoder` (subPrefix), as the attention block names its softmax and GEMM leaves.
 *
 * What a run may be: N from 1 to max_tokens tokens of C = dim channels (the attention block fixes heads × head_dim at
 * generation), an MLP hidden width from 1 to max_mlp_hidden, any layer whose programs the sub-blocks accept.
 */
import { clog2 } from '../common/arith.ts';
import { checkPrefix, moduleName } from '../common/names.ts';
import { intInRange, object, oneOf, onlyKeys, positiveFinite, require } from '../common/validate.ts';
import { resolveAttention, type AttentionSpec } from '../attention/spec.ts';
import { resolveResidual, type ResidualSpec } from '../residual/spec.ts';
import { LANE_DATAPATHS, type LaneDatapath } from '../common/lanes.ts';
import { GELU_MAX_BITS, resolveGelu, type GeluSpec } from '../gelu/spec.ts';
import { resolveGemm, type GemmSpec } from '../gemm/spec.ts';
import { resolveLayernorm, scaleRatioLog2, type LayernormSpec } from '../layernorm/spec.ts';
import { ENCODER_GEMM_FRAC_BITS } from './model.ts';

export interface EncoderParams {
  /** Width of the unsigned activation codes (every quantizer of the block). The GELU block's tables bound it at 12. @range 2..12 @default --bits */
  bits: number;
  /** Width of the signed weights of qkv, proj, fc1 and fc2. @range 2..16 @default --bits */
  w_bits: number;
  /** Largest number of tokens N of a run; any N from 1 to this is chosen at run time. @range 1..1024 @default 8 */
  max_tokens: number;
  /** Channels C of the block (heads × head_dim; fixed by the attention block at generation). @range 8..1024 @default 16 */
  dim: number;
  /** Attention heads H (C / H must be an integer). @range 1..16 @default 2 */
  heads: number;
  /** Largest MLP hidden width of a run (fc1 outputs, fc2's K). @range 1..4096 @default 64 */
  max_mlp_hidden: number;
  /** Rows of the shared GEMM array (tokens at once). The default, 1 × 1, is the smallest array (the HX8K default); DeiT-Tiny's shape runs on 4 × 4 (verify's case instances). @range 1..16 @default 1 */
  rows: number;
  /** Columns of the shared GEMM array (output channels at once). @range 1..16 @default 1 */
  cols: number;
  /** Width of the softmax's log2 codes (FQ-ViT: 4). @range 1..5 @default 4 */
  s_bits: number;
  /** Cycles the one requantizer (shared by the GEMM steps and the attention block, 40 fraction bits) spends on a code: it multiplies by M two bits a cycle at 20, four at 10, six at 8 (derived.requantCycles of the GEMM and attention specs is what the chunking gives). The default, 20, is the smallest requantizer (the HX8K default); the GEMM array waits for it when rows·cols·requant_cycles exceeds K, the attention block when 2·requant_cycles exceeds head_dim or N. At DeiT-Tiny's shape on a 4 × 4 array, 10 costs no time (16·10 <= K = 192, 2·10 <= head_dim = 64). @range 1..20 @default 20 */
  requant_cycles: number;
  /** Smallest attn_score scale of any layer the instance serves (the attention block's min_score_scale: its softmax's exp table is sized for it). @default the softmax's default scale for bits and max_tokens */
  min_score_scale?: number;
  /** How the element-wise units compute, the LayerNorm's element unit (norm1, norm2), the residual add (resid1, resid2) and the GELU: "serial" (bit-serial products on small adders: the LayerNorm takes an element about every 75 cycles, the residual every 4 bits + 34, the GELU every accumulator width + 2 bits + 2; a fraction of the logic) or "pipelined" (an element every cycle each). They see 4·N·C and N·hidden elements against the GEMMs' 12·N·C² MACs. @allowed serial, pipelined @default serial */
  datapath: LaneDatapath;
}

export const ENCODER_KEYS = ['bits', 'w_bits', 'max_tokens', 'dim', 'heads', 'max_mlp_hidden', 'rows', 'cols', 's_bits', 'requant_cycles', 'min_score_scale', 'datapath'] as const;
export const ENCODER_DEFAULTS = { max_tokens: 8, dim: 16, heads: 2, max_mlp_hidden: 64, rows: 1, cols: 1, s_bits: 4, requant_cycles: 20, datapath: 'serial' } as const;

export interface EncoderDerived {
  /** The LayerNorm instance (norm1 and norm2): max_channels = dim, the largest scale_ratio_bits, one token unit, the encoder's datapath. */
  layernorm: LayernormSpec;
  /** The attention block (heads × head_dim = dim, max_tokens, one lane, its requantizer the encoder's shared one: 40 fraction bits, requant_cycles cycles a code). */
  attention: AttentionSpec;
  /** The GELU block (fc1's accumulators, K = dim, up to max_mlp_hidden channels). */
  gelu: GeluSpec;
  /** The residual block (resid1, resid2): max_channels = dim, the default constant width, the encoder's datapath. */
  residual: ResidualSpec;
  /** The GEMM array (qkv, proj, fc1, fc2): K up to max(dim, max_mlp_hidden), its requantizer the encoder's shared one. */
  gemm: GemmSpec;
  /** Longest K of any GEMM step. */
  maxK: number;
  /** Widest GEMM output of any step (3C for qkv, the hidden width for fc1). */
  maxOut: number;
  /** Token tiles of the banked buffers: ceil(max_tokens / rows). */
  tokenTiles: number;
  /** Width of a token count 0..max_tokens. */
  nWidth: number;
  /** Width of a K count 0..maxK. */
  kWidth: number;
  /** Width of an output-channel count 0..maxOut. */
  chWidth: number;
}

export interface EncoderSpec {
  readonly params: Readonly<EncoderParams>;
  readonly prefix: string;
  readonly derived: Readonly<EncoderDerived>;
}

/** The prefix of the sub-blocks' module names: `<prefix>_encoder`, or `encoder` unprefixed. */
export function subPrefix(prefix: string): string {
  return moduleName(prefix, 'encoder');
}

export function resolveEncoder(bits: number, overrides: unknown, prefix = ''): EncoderSpec {
  const o = overrides === undefined ? {} : object('encoder', overrides);
  onlyKeys('encoder', o, ENCODER_KEYS);
  const width = intInRange('encoder.bits', o.bits ?? bits, 2, GELU_MAX_BITS);
  const params: EncoderParams = {
    bits: width,
    w_bits: intInRange('encoder.w_bits', o.w_bits ?? width, 2, 16),
    max_tokens: intInRange('encoder.max_tokens', o.max_tokens ?? ENCODER_DEFAULTS.max_tokens, 1, 1024),
    dim: intInRange('encoder.dim', o.dim ?? ENCODER_DEFAULTS.dim, 8, 1024),
    heads: intInRange('encoder.heads', o.heads ?? ENCODER_DEFAULTS.heads, 1, 16),
    max_mlp_hidden: intInRange('encoder.max_mlp_hidden', o.max_mlp_hidden ?? ENCODER_DEFAULTS.max_mlp_hidden, 1, 4096),
    rows: intInRange('encoder.rows', o.rows ?? ENCODER_DEFAULTS.rows, 1, 16),
    cols: intInRange('encoder.cols', o.cols ?? ENCODER_DEFAULTS.cols, 1, 16),
    s_bits: intInRange('encoder.s_bits', o.s_bits ?? ENCODER_DEFAULTS.s_bits, 1, 5),
    requant_cycles: intInRange('encoder.requant_cycles', o.requant_cycles ?? ENCODER_DEFAULTS.requant_cycles, 1, 20),
    ...(o.min_score_scale === undefined ? {} : { min_score_scale: positiveFinite('encoder.min_score_scale', o.min_score_scale) }),
    datapath: oneOf('encoder.datapath', o.datapath ?? ENCODER_DEFAULTS.datapath, LANE_DATAPATHS),
  };
  require(params.dim % params.heads === 0, 'encoder.heads', `must divide dim (${params.dim})`, params.heads);
  const checked = prefix === '' ? '' : checkPrefix('encoder.prefix', prefix);
  return Object.freeze({ params: Object.freeze(params), prefix: checked, derived: Object.freeze(deriveEncoder(params, checked)) });
}

export function deriveEncoder(p: EncoderParams, prefix = ''): EncoderDerived {
  const sub = subPrefix(prefix);
  const maxK = Math.max(p.dim, p.max_mlp_hidden);
  const maxOut = Math.max(3 * p.dim, p.max_mlp_hidden);
  return {
    attention: resolveAttention(p.bits, {
      bits: p.bits, s_bits: p.s_bits, head_dim: p.dim / p.heads, heads: p.heads, lanes: 1, max_tokens: p.max_tokens, frac_bits: 40, requant_cycles: p.requant_cycles,
      ...(p.min_score_scale === undefined ? {} : { score_scale: p.min_score_scale, min_score_scale: p.min_score_scale }),
    }, sub),
    residual: resolveResidual(p.bits, { max_channels: p.dim, datapath: p.datapath }, sub),
    gelu: resolveGelu(p.bits, { bits: p.bits, w_bits: p.w_bits, max_k: p.dim, max_channels: p.max_mlp_hidden, datapath: p.datapath }, sub),
    // One token unit: at a small C a second one would only let norm1/norm2 stream faster than T cycles a token
    layernorm: resolveLayernorm(p.bits, { channels: p.dim, max_channels: p.dim, scale_ratio_bits: scaleRatioLog2(p.bits), max_token_units: 1, datapath: p.datapath }, sub),
    // requant_cycles as the attention block's: the encoder shares one requantizer between them (rtl.ts
    // sharedRequantView), so both need the same chunk digits
    gemm: resolveGemm(p.bits, { rows: p.rows, cols: p.cols, a_bits: p.bits, w_bits: p.w_bits, out_bits: p.bits, max_k: maxK, frac_bits: ENCODER_GEMM_FRAC_BITS, requant_cycles: p.requant_cycles }, sub),
    maxK,
    maxOut,
    tokenTiles: Math.ceil(p.max_tokens / p.rows),
    nWidth: clog2(p.max_tokens + 1),
    kWidth: clog2(maxK + 1),
    chWidth: clog2(maxOut + 1),
  };
}
