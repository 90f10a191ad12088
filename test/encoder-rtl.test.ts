// Encoder RTL against the chained golden model (generators/encoder/model.ts encoderChain) on the small public encoder
// cases: the whole block (norm1 ... resid2), every stream stalling at random, runs of different N back to back on one
// instance (and verify --one-instance), Icarus and Verilator; the header's dimension check (on one case's run) and
// the case-fits check. Elsewhere: the 4-bit case (N 9, C 48) runs through `verify --vectors --sim
// verilator` in test/verify-vectors.test.ts; lint (every width, the extremes) in test/lint-blocks.test.ts; the
// DeiT-Tiny case is `npm run verify`'s (generators/encoder/README.md).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../generators/common/errors.ts';
import { simulateAndCompare } from '../generators/common/sim.ts';
import { readEncoderCase, type EncoderCase } from '../generators/encoder/case.ts';
import { headerWord, checkCaseFits } from '../generators/encoder/host.ts';
import { encoderBlock, encoderHarness, expectedCodes, firstTokens, runEncoder } from '../generators/encoder/index.ts';
import { bufferPacking, headerFields, ice40BlockRams } from '../generators/encoder/rtl.ts';
import { resolveEncoder, type EncoderSpec } from '../generators/encoder/spec.ts';

const work = (name: string) => mkdtempSync(join(tmpdir(), `encoder-${name}-`));
const vectors = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-encoder-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };
const encoderCases = vectors.cases.filter((c) => c.block === 'encoder').map((c) => readEncoderCase(c));
/** The small public cases (N·C at most 17·64); the DeiT-Tiny-shaped one belongs in the benchmark. */
const small = encoderCases.filter((c) => c.tokens * c.dim <= 17 * 64);
/** The 4-bit one runs in test/verify-vectors.test.ts (verify --vectors --sim verilator), not again here. */
const viaVerify = (c: EncoderCase) => c.aBits === 4;
const smallestCase = small.reduce((a, b) => (a.tokens * a.dim <= b.tokens * b.dim ? a : b));

/** An instance for a case: its widths and C, room for a few more tokens than it has, a 2 × 2 array unless told. */
function instanceFor(c: EncoderCase, extra: Record<string, number> = {}): EncoderSpec {
  return resolveEncoder(c.aBits, { w_bits: c.wBits, dim: c.dim, heads: c.heads, max_tokens: c.tokens + 3, max_mlp_hidden: c.mlpHidden, min_score_scale: c.quantizers.attn_score.scale, rows: 2, cols: 2, ...extra });
}

describe('encoder RTL', () => {
  it('packs a token buffer\'s banks into one memory only when that takes fewer iCE40 block RAMs (hand-worked)', () => {
    // 64 words of 4 bits: 1 block RAM in any mode; two banks side by side (8 bits, masked: 256 × 16) also 1
    expect(ice40BlockRams(64, 4, false)).toBe(1);
    expect(bufferPacking(2, 4, 64)).toBe(true);
    // 2048 words of 4 bits: 2 a bank (1024 × 4), 4 in all; packed, 2048 words in 256 × 16 take 8
    expect(ice40BlockRams(2048, 4, false)).toBe(2);
    expect(ice40BlockRams(2048, 8, true)).toBe(8);
    expect(bufferPacking(2, 4, 2048)).toBe(false);
    // 256 words of 18 bits: 2 a bank (256 × 16, two wide); packed 36 bits take 3
    expect(bufferPacking(2, 18, 256)).toBe(true);
  });

  it('the small public cases need an instance each (bits, C, heads differ) and there are at least three', () => {
    expect(small.length).toBeGreaterThanOrEqual(3);
    // One runs through verify, the smallest through verify --one-instance, at least one more on its own
    expect(small.filter((k) => !viaVerify(k) && k !== smallestCase).length).toBeGreaterThanOrEqual(1);
  });

  // Whole cases run on Verilator (Icarus takes minutes on the smallest, N·C = 10·32; it runs the array case below).
  // Building the encoder is most of a run (about 20 s of a 21-s run at N·C = 17·64), so each case builds once: the
  // smallest runs twice back to back in the verify --one-instance test below, and the first of the others runs its
  // first tokens again on the same instance (another N), after two bad headers (N = 0, N above max_tokens) that set
  // status_error bit 0 and are dropped.
  const perCase = small.filter((k) => !viaVerify(k) && k !== smallestCase);
  for (const c of perCase) {
    const twice = c === perCase[0];
    const name = twice ? ', after headers with N = 0 and N above max_tokens (status_error bit 0, dropped), then its first tokens on the same instance' : '';
    it(`${c.kind} N=${c.tokens} C=${c.dim} H=${c.heads} ${c.aBits}-bit: RTL == model (resid2)${name}, stalls on every stream (Verilator)`, async () => {
      const spec = instanceFor(c);
      const runs = twice ? [c, firstTokens(c, Math.max(1, Math.ceil(c.tokens / 3)))] : [c];
      const { harness, expected } = encoderHarness(spec, runs);
      // N = max_tokens + 1 must fit the header's N field, or the header would say something else
      if (twice) expect(spec.params.max_tokens + 1).toBeLessThan(2 ** headerFields(spec).nWidth);
      if (twice) harness.inputs[0]!.beats.unshift({ data: headerWord(spec, 0, c.mlpHidden), last: true }, { data: headerWord(spec, spec.params.max_tokens + 1, c.mlpHidden), last: true });
      const { comparison, result } = await simulateAndCompare(harness, work('case'), { stallPercent: 30, seed: c.tokens, simulator: 'verilator' }, expected);
      expect(comparison.first).toBeUndefined();
      expect(comparison.mismatches).toBe(0);
      expect(result.beats.length).toBe(runs.reduce((n, r) => n + r.tokens * expectedCodes(r)[0]!.length, 0));
      expect(result.statusError).toBe(twice ? 1n : 0n);
    });
  }

  it('another array (3 × 1: row tiles cut by N, one column a tile), stalls (Icarus)', async () => {
    // Two tokens: fewer than the array's 3 rows, so every row tile is cut by N (Icarus takes about a minute)
    const c = firstTokens(smallestCase, 2);
    const spec = instanceFor(c, { rows: 3, cols: 1 });
    const { comparison, result } = await runEncoder(spec, [c], work('array'), { stallPercent: 20, seed: 7 });
    expect(comparison.first).toBeUndefined();
    expect(result.statusError).toBe(0n);
  });

  it('verify --one-instance: two layers of one shape share an instance, back to back; each row RTL == model (Verilator)', async () => {
    // The public cases all differ in shape, so the smallest one stands for two layers of one shape (as a file of
    // several layers of one model would hold); the rows are cut from one simulation's output
    const smallest = encoderCases.indexOf(smallestCase);
    const vectorCase = vectors.cases.filter((c) => c.block === 'encoder')[smallest]!;
    const { instances, reports } = await encoderBlock.verifyOneInstance!([{ index: 3, vectorCase }, { index: 7, vectorCase }], { workDir: work('one'), stallPercent: 20, seed: 5, simulator: 'verilator' });
    expect(instances).toBe(1);
    expect(reports.map((r) => r.index)).toEqual([3, 7]);
    for (const r of reports) {
      expect(r.first).toBeUndefined();
      expect(r.rtl_vs_model).toBe(0);
      expect(r.elements).toBe(encoderCases[smallest]!.tokens * encoderCases[smallest]!.dim);
    }
  });

  it('a case that does not fit the instance is a SpecError naming the value and the range', () => {
    const c = small[0]!;
    expect(() => checkCaseFits(instanceFor(c, { max_tokens: c.tokens - 1 }), c)).toThrow(SpecError);
    expect(() => checkCaseFits(instanceFor(c, { max_tokens: c.tokens - 1 }), c)).toThrow(/max_tokens/);
    expect(() => checkCaseFits(resolveEncoder(c.aBits, { dim: c.dim + 8, heads: 1, max_tokens: 32, max_mlp_hidden: 512, w_bits: c.wBits }), c)).toThrow(/dim/);
  });
});
