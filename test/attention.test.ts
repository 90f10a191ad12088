// Attention head: spec validation, the exact requantizer constants (exhaustive at small widths), hand-worked heads, and
// every stage of the golden model against FQ-ViT's encoder vectors, each stage fed the reference's own input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../generators/common/errors.ts';
import { readEncoderCase } from '../generators/encoder/case.ts';
import { requantize } from '../generators/gemm/model.ts';
import { mulberry32 } from '../generators/common/random.ts';
import { attentionHead, attentionLayer, attentionModel, pvAccumulators, type AttentionScales } from '../generators/attention/model.ts';
import { exactChannel, exactInterval, exactRequantize, type Ratio } from '../generators/attention/requant.ts';
import { resolveAttention } from '../generators/attention/spec.ts';
import { stageChecks } from '../generators/attention/stages.ts';
import { exactBinary } from '../generators/common/arith.ts';

const vectors = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-encoder-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };
const encoderCases = vectors.cases.filter((c) => c.block === 'encoder').map((c) => readEncoderCase(c));

function specError(f: () => unknown): SpecError {
  try {
    f();
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError');
}

describe('attention spec', () => {
  it('defaults and ranges', () => {
    const s = resolveAttention(8, undefined);
    expect(s.params).toEqual({ bits: 8, s_bits: 4, head_dim: 16, heads: 2, lanes: 1, max_tokens: 32, score_scale: 1 / 32, min_score_scale: 1 / 32, frac_bits: 28, requant_cycles: 4 });
    // frac_bits 28: 14 two-bit digits of M, 4 a cycle in 4 cycles
    expect([s.derived.requantChunkDigits, s.derived.requantCycles]).toEqual([4, 4]);
    // The default requant_cycles keeps the QK pass's rate: 2R <= head_dim / lanes, at most 4
    expect([[8, 1], [6, 1], [4, 1], [2, 1], [16, 8], [64, 1]].map(([hd, l]) => resolveAttention(8, { head_dim: hd, lanes: l }).params.requant_cycles)).toEqual([4, 3, 2, 1, 1, 4]);
    // A requested count the chunking cannot make exactly: 3 asks for 5 digits a cycle, 14 digits then take 3 cycles
    expect(resolveAttention(8, { requant_cycles: 3 }).derived.requantCycles).toBe(3);
    expect(resolveAttention(8, { requant_cycles: 6 }).derived.requantCycles).toBe(5);
    expect(s.derived.probFracBits).toBe(15);
    expect(s.derived.scoreAbsMax).toBe(16n * 255n * 255n);
    expect(s.derived.outAbsMax).toBe(32n * 255n << 15n);
    // The requantizers' accumulators hold every |S| and |O|.
    expect(s.derived.score.derived.accMax >= s.derived.scoreAbsMax && -s.derived.score.derived.accMin >= s.derived.scoreAbsMax).toBe(true);
    expect(s.derived.out.derived.accMax >= s.derived.outAbsMax && -s.derived.out.derived.accMin >= s.derived.outAbsMax).toBe(true);
    expect(specError(() => resolveAttention(4, { head_dim: 0 })).parameter).toBe('attention.head_dim');
    expect(specError(() => resolveAttention(4, { s_bits: 6 })).parameter).toBe('attention.s_bits');
    expect(specError(() => resolveAttention(4, { frac_bits: 20 })).parameter).toBe('attention.frac_bits');
    expect(specError(() => resolveAttention(4, { lanes: 3 })).parameter).toBe('attention.lanes'); // does not divide 16
    expect(specError(() => resolveAttention(4, { requant_cycles: 0 })).parameter).toBe('attention.requant_cycles');
    expect(specError(() => resolveAttention(4, { requant_cycles: 21 })).parameter).toBe('attention.requant_cycles');
    expect(specError(() => resolveAttention(4, { nonsense: 2 })).parameter).toBe('attention.nonsense');
    expect(specError(() => resolveAttention(4, undefined, '9x')).parameter).toBe('attention.prefix');
  });
});

const ratio = (x: number): Ratio => { const b = exactBinary(x); return { num: b.num, den: 1n << BigInt(b.exp) }; };

describe('exact requantizer constants (requant.ts) on the GEMM requantizer', () => {
  it('equal the exact rational rescale on EVERY accumulator up to the bound, for random layers (exhaustive, 6 bits, head_dim 16)', () => {
    const spec = resolveAttention(6, { head_dim: 16, max_tokens: 4, frac_bits: 24 });
    const rnd = mulberry32(7);
    const absMax = spec.derived.scoreAbsMax;
    for (let trial = 0; trial < 6; trial++) {
      const r = ratio(2 ** (-12 + 10 * rnd()) * (1 + rnd()) / 3);
      const zp = Math.floor(rnd() * 64);
      const c = exactChannel(spec.derived.score, r, Number(r.num) / Number(r.den), zp, absMax, 'r');
      for (let s = -absMax; s <= absMax; s++) {
        if (requantize(spec.derived.score, s, c) !== exactRequantize(s, r, zp, 6)) throw new Error(`r = ${r.num}/${r.den} zp ${zp}: S = ${s} differs`);
      }
    }
  });

  it('the interval is tight: one multiplier step outside it gives a wrong code for some accumulator', () => {
    const spec = resolveAttention(6, { head_dim: 16, max_tokens: 4, frac_bits: 24 });
    const absMax = spec.derived.scoreAbsMax;
    const rnd = mulberry32(3);
    let checked = 0;
    for (let trial = 0; trial < 4; trial++) {
      const r = ratio(2 ** (-10 + 8 * rnd()) * (1 + rnd()) / 3);
      const zp = 20;
      const c = exactChannel(spec.derived.score, r, Number(r.num) / Number(r.den), zp, absMax, 'r');
      const { lo, hi } = exactInterval(r, c.shift, absMax, Math.max(63 - zp, zp));
      for (const mult of [lo - 1n, hi! + 1n]) {
        const bad = { ...c, mult };
        let differs = false;
        for (let s = -absMax; s <= absMax && !differs; s++) differs = requantize(spec.derived.score, s, bad) !== exactRequantize(s, r, zp, 6);
        expect(differs).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(8);
  });

  it('a frac_bits too small for a layer is a SpecError naming the layer value, never a wrong requantizer', () => {
    // Found on the public file's first case: frac_bits 24 leaves no multiplier for its attn_out rescale.
    const c = encoderCases[0]!;
    const q = c.quantizers;
    const spec = resolveAttention(c.aBits, { bits: c.aBits, head_dim: c.headDim, heads: c.heads, max_tokens: c.tokens, score_scale: q.attn_score.scale, frac_bits: 24 });
    const scales: AttentionScales = {
      qkvScale: q.qkv_out.scale, qkvZeroPoint: q.qkv_out.zeroPoint, attnScale: c.attnScale, scoreScale: q.attn_score.scale,
      scoreZeroPoint: q.attn_score.zeroPoint, outScale: q.attn_out.scale, outZeroPoint: q.attn_out.zeroPoint,
    };
    expect(specError(() => attentionLayer(spec, scales)).parameter).toBe('layer.attn_out.scale');
    expect(() => attentionLayer(resolveAttention(c.aBits, { bits: c.aBits, head_dim: c.headDim, heads: c.heads, max_tokens: c.tokens, score_scale: q.attn_score.scale }), scales)).not.toThrow();
  });

  it('the score scale is a layer value: any s_score from min_score_scale up runs on one instance, one below is a SpecError naming the range', () => {
    const spec = resolveAttention(8, { head_dim: 2, heads: 1, max_tokens: 4, score_scale: 0.05, min_score_scale: 0.02 });
    const scales: AttentionScales = { qkvScale: 1 / 32, qkvZeroPoint: 128, attnScale: 0.5, scoreScale: 0.02, scoreZeroPoint: 100, outScale: 1 / 64, outZeroPoint: 128 };
    expect(attentionLayer(spec, scales).softmax.scale).toBe(0.02);
    expect(attentionLayer(spec, { ...scales, scoreScale: 0.5 }).lis.c).toBe(BigInt(Math.floor(1 / 0.35815147 / 0.25)));
    const e = specError(() => attentionLayer(spec, { ...scales, scoreScale: 0.0199 }));
    expect(e.parameter).toBe('layer.attn_score.scale');
    expect(e.message).toMatch(/min_scale 0\.02/);
    expect(specError(() => resolveAttention(8, { score_scale: 0.01, min_score_scale: 0.02 })).parameter).toBe('attention.score_scale');
  });
});

describe('attention model, hand-worked (8 bits, s_qkv = s_score = s_out = 1, attn_scale = 1/2)', () => {
  // With s_score = 1, FQ-ViT's LIS constants are b = 2, c = 2, x0 = -1, so e(d) = 2 · 2^(30 - d) for a distance
  // d = max - q up to 30 (and 2 beyond): the softmax is a ratio of powers of two, which makes these cases hand-workable.
  const spec = resolveAttention(8, { head_dim: 2, heads: 1, max_tokens: 4 });
  const scales: AttentionScales = { qkvScale: 1, qkvZeroPoint: 128, attnScale: 0.5, scoreScale: 1, scoreZeroPoint: 100, outScale: 1, outZeroPoint: 128 };
  const layer = attentionLayer(spec, scales);
  const c = (...centered: number[]) => centered.map((x) => x + 128);

  it('LIS constants at s_score = 1 are b = 2, c = 2, x0 = -1', () => {
    expect([layer.lis.b, layer.lis.c, layer.lis.x0]).toEqual([2n, 2n, -1n]);
  });

  it('a single token: S = -1, score round_half_even(-0.5) = 0 -> 100, probability 1 (t = 0), out = v', () => {
    const r = attentionHead(spec, layer, [c(3, -2)], [c(1, 2)], [c(12, -8)]);
    expect(r).toEqual({ score: [[100]], prob: [[0]], out: [[140, 120]] });
  });

  it('all-equal scores in a row of 4: t = 2 everywhere (E / e = 4), out = round_half_even(Σ (v - zp) / 4) + 128', () => {
    // k the same for every token: row i of S is q_i · k in every column.
    const q = [c(2, 0), c(0, 0), c(-2, 1), c(1, 1)];
    const k = [c(3, 1), c(3, 1), c(3, 1), c(3, 1)];
    // v - zp: element 0 is (4, 8, -4, 1): 9/4 = 2.25 -> 2; element 1 is (2, 2, 2, 0): 6/4 = 1.5 -> 2 (tie to even)
    const v = [c(4, 2), c(8, 2), c(-4, 2), c(1, 0)];
    const r = attentionHead(spec, layer, q, k, v);
    // S rows: 6, 0, -5, 4; times 1/2: 3, 0, -2.5 -> -2 (tie to even), 2; plus 100
    expect(r.score).toEqual([[103, 103, 103, 103], [100, 100, 100, 100], [98, 98, 98, 98], [102, 102, 102, 102]]);
    expect(r.prob).toEqual(Array.from({ length: 4 }, () => [2, 2, 2, 2]));
    expect(r.out).toEqual(Array.from({ length: 4 }, () => [130, 130]));
  });

  it('a row where every probability is exactly 0 but one: scores 150, 100, 50 give t = 0, null, null and out = v of token 0', () => {
    const q = [c(10, 0), c(0, 0), c(0, 0)];
    const k = [c(10, 0), c(0, 0), c(-10, 0)];
    const v = [c(7, -3), c(100, 100), c(-100, 50)];
    const r = attentionHead(spec, layer, q, k, v);
    // Row 0: S = 100, 0, -100 -> 50, 0, -50 -> 150, 100, 50. e = 2^31, 2, 2 (distances 50, 100 clamp at 30):
    // E / e_max rounds to 1 (t = 0); E / 2 is about 2^30, t = 30 > 15: exactly 0.
    expect(r.score[0]).toEqual([150, 100, 50]);
    expect(r.prob[0]).toEqual([0, null, null]);
    expect(r.out[0]).toEqual([135, 125]);
    // Rows 1 and 2: all scores 100, E / e = 3 -> log_round(3) = 2 (3 - 2 >= 1: up), so t = 2;
    // O = (7 + 100 - 100) / 4 = 1.75 -> 2, (-3 + 100 + 50) / 4 = 36.75 -> 37.
    expect(r.prob[1]).toEqual([2, 2, 2]);
    expect(r.out[1]).toEqual([130, 165]);
  });

  it('pvAccumulators skips exact zeros and keeps 2^s_bits - 1 fraction bits', () => {
    expect(pvAccumulators(spec, [c(1), c(3), c(-5)], [15, null, 0], 128)).toEqual([1n + (-5n << 15n)]);
  });
});

describe('attention model against FQ-ViT (encoder vectors, each stage from the reference\'s own input)', () => {
  encoderCases.forEach((c, index) => {
    it(`case ${index} (${c.kind}, N = ${c.tokens}, C = ${c.dim}, H = ${c.heads}, ${c.aBits} bits)`, () => {
      const r = stageChecks(c);
      expect(r.attn_score.first).toBeUndefined();
      expect(r.attn_score.mismatches).toBe(0);
      expect(r.attn_prob.first).toBeUndefined();
      expect(r.attn_out.first).toBeUndefined();
      expect(r.attn_out.elements).toBe(c.tokens * c.dim);
      // FQ-ViT's own float artifact (FQVIT.md): at most 0.1% of the elements, never by more than 1.
      expect(r.attn_prob_fqvit.mismatches).toBeLessThanOrEqual(0.001 * r.attn_prob_fqvit.elements);
      expect(r.attn_prob_fqvit.maxAbsDiff).toBeLessThanOrEqual(1);
    });
  });

  it('the chained model equals the stage-by-stage one wherever FQ-ViT\'s float probabilities agree with the exact ones', () => {
    const c = encoderCases[1]!; // a case with no attn_prob_fqvit difference
    const spec = resolveAttention(c.aBits, { bits: c.aBits, s_bits: c.sBits, head_dim: c.headDim, heads: c.heads, max_tokens: c.tokens });
    const q = c.quantizers;
    const layer = attentionLayer(spec, {
      qkvScale: q.qkv_out.scale, qkvZeroPoint: q.qkv_out.zeroPoint, attnScale: c.attnScale, scoreScale: q.attn_score.scale,
      scoreZeroPoint: q.attn_score.zeroPoint, outScale: q.attn_out.scale, outZeroPoint: q.attn_out.zeroPoint,
    });
    const m = attentionModel(spec, layer, c.intermediate.qkv_out);
    expect(m.score).toEqual(c.intermediate.attn_score);
    expect(m.prob).toEqual(c.intermediate.attn_prob_exact);
    expect(m.out).toEqual(c.intermediate.attn_out);
  });
});
