/**
 * Stage checks of the attention model against an `encoder` case (../shared/vectors/FORMAT.md): each stage is fed the
 * reference's own input to that stage and compared with the reference's output.
 *   attn_score       from intermediate.qkv_out                 vs intermediate.attn_score
 *   attn_prob        from intermediate.attn_score              vs intermediate.attn_prob_exact (exact integers)
 *   attn_prob_fqvit  the same model output                     vs intermediate.attn_prob (FQ-ViT's float run)
 *   attn_out         from intermediate.attn_prob and qkv_out   vs intermediate.attn_out
 */
import type { StageLimit } from '../block.ts';
import type { EncoderCase } from '../encoder/case.ts';
import { attentionLayer, headOperands, outCodes, probRow, pvAccumulators, scoreAccumulators, scoreCodes, type AttentionLayer, type AttentionScales } from './model.ts';
import { resolveAttention, type AttentionSpec } from './spec.ts';

/**
 * How far the integer LIS may stand from FQ-ViT's float run (issue 10): FQ-ViT feeds LIS a float x / s that is off the
 * integer by an ulp, so in rare rows a floor flips (FQVIT.md); the integer LIS equals attn_prob_exact.
 */
export const ATTN_PROB_FQVIT_LIMIT: StageLimit = {
  maxAbsDiff: 1,
  maxMismatchFraction: 1e-3,
  reason: 'FQ-ViT feeds LIS a float x / s that is off the integer by an ulp, so in rare rows a floor flips (FQVIT.md); the integer LIS equals attn_prob_exact',
};

/** The layer scales of an encoder case. */
export function caseScales(c: EncoderCase): AttentionScales {
  const q = c.quantizers;
  return {
    qkvScale: q.qkv_out.scale,
    qkvZeroPoint: q.qkv_out.zeroPoint,
    attnScale: c.attnScale,
    scoreScale: q.attn_score.scale,
    scoreZeroPoint: q.attn_score.zeroPoint,
    outScale: q.attn_out.scale,
    outZeroPoint: q.attn_out.zeroPoint,
  };
}

/** frac_bits of a case's instance: the GEMM requantizer's maximum, so that every layer a file may hold gets exact constants. */
export const CASE_FRAC_BITS = 40;

/**
 * The spec sized for one case: its widths, heads and head_dim, max_tokens = its N, the softmax's layer range down to
 * its s_score (or minScoreScale),
 * and `lanes` (default 1) elements of a head at once, frac_bits 40 (other parameters: defaults).
 */
export function caseSpec(c: EncoderCase, options: { prefix?: string; maxTokens?: number; lanes?: number; minScoreScale?: number } = {}): AttentionSpec {
  const scoreScale = c.quantizers.attn_score.scale;
  return resolveAttention(c.aBits, {
    bits: c.aBits, s_bits: c.sBits, head_dim: c.headDim, heads: c.heads, lanes: options.lanes ?? 1,
    max_tokens: options.maxTokens ?? c.tokens, score_scale: scoreScale, min_score_scale: Math.min(options.minScoreScale ?? scoreScale, scoreScale),
    // The requantizer's widest constants: any file's layers verify, whatever the (smaller) default for a device
    frac_bits: CASE_FRAC_BITS,
  }, options.prefix ?? '');
}

/** Mismatch count and the largest |difference| of one stage (a null against a code counts, with no difference). */
export interface StageCount {
  mismatches: number;
  maxAbsDiff: number;
  elements: number;
  /** The first mismatch, with its indices. */
  first?: string;
}

function tally(): StageCount {
  return { mismatches: 0, maxAbsDiff: 0, elements: 0 };
}

function compare(count: StageCount, got: number | null, want: number | null | undefined, where: () => string): void {
  count.elements++;
  if (got === want) return;
  count.mismatches++;
  if (got !== null && want !== null && want !== undefined) count.maxAbsDiff = Math.max(count.maxAbsDiff, Math.abs(got - want));
  count.first ??= `${where()}: model ${got ?? 'null'}, reference ${want ?? 'null'}`;
}

export interface StageReport {
  attn_score: StageCount;
  attn_prob: StageCount;
  attn_prob_fqvit: StageCount;
  attn_out: StageCount;
  /** A null on one side and a code on the other, in attn_prob_fqvit (FQ-ViT's float artifact can flip to exactly 0). */
  attn_prob_fqvit_null_flips: number;
}

/** Every stage of every head, each from the reference's own input. */
export function stageChecks(c: EncoderCase, spec: AttentionSpec = caseSpec(c), layer: AttentionLayer = attentionLayer(spec, caseScales(c))): StageReport {
  const im = c.intermediate;
  const zp = layer.scales.qkvZeroPoint;
  const r: StageReport = { attn_score: tally(), attn_prob: tally(), attn_prob_fqvit: tally(), attn_out: tally(), attn_prob_fqvit_null_flips: 0 };
  for (let h = 0; h < c.heads; h++) {
    const { q, k, v } = headOperands(im.qkv_out, h, c.headDim, c.dim);
    scoreCodes(spec, layer, scoreAccumulators(q, k, zp)).forEach((row, i) => row.forEach((x, j) =>
      compare(r.attn_score, x, im.attn_score[h]![i]![j], () => `attn_score head ${h} row ${i} column ${j}`)));
    im.attn_score[h]!.forEach((row, i) => probRow(spec, layer, row).forEach((t, j) => {
      compare(r.attn_prob, t, im.attn_prob_exact[h]![i]![j], () => `attn_prob head ${h} row ${i} column ${j}`);
      const want = im.attn_prob[h]![i]![j];
      if ((t === null) !== (want === null)) r.attn_prob_fqvit_null_flips++;
      compare(r.attn_prob_fqvit, t, want, () => `attn_prob_fqvit head ${h} row ${i} column ${j}`);
    }));
    im.attn_prob[h]!.forEach((row, i) => outCodes(spec, layer, pvAccumulators(spec, v, row, zp)).forEach((x, d) =>
      compare(r.attn_out, x, im.attn_out[i]![h * c.headDim + d], () => `attn_out token ${i} head ${h} element ${d}`)));
  }
  return r;
}
