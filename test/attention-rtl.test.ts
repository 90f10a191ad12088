// Attention head RTL against the chained golden model on all three taps (attn_score, attn_prob, attn_out): random
// shapes under random stalls on every stream, two layers back to back with a reprogramming between packets, the
// status_error bits and recovery, public encoder cases, and lint.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toUnsigned } from '../generators/common/arith.ts';
import { lintVerilator } from '../generators/common/lint.ts';
import { programBeats, type Program } from '../generators/common/program.ts';
import type { Beat } from '../generators/common/sim.ts';
import { mulberry32 } from '../generators/common/random.ts';
import { attentionBlock, defaultScales, randomQkv, runAttention, runAttentionBeats, stimulus, type AttentionRun } from '../generators/attention/index.ts';
import { attentionLayer } from '../generators/attention/model.ts';
import { attentionProgram, emitAttentionRtl, headCycles, packetCycles, programLength, pvRowCycles, qkRowCycles } from '../generators/attention/rtl.ts';
import { resolveAttention, type AttentionSpec } from '../generators/attention/spec.ts';

const work = (name: string) => mkdtempSync(join(tmpdir(), `attention-${name}-`));
const vectors = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-encoder-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };

function packet(spec: AttentionSpec, tokens: number, rnd: () => number, scales = defaultScales(spec)): AttentionRun {
  return { layer: attentionLayer(spec, scales), qkv: randomQkv(spec, tokens, rnd, 0.5 + rnd()) };
}

const dataBeats = (run: AttentionRun, epoch: number, drop = 0): Beat[] => {
  const codes = run.qkv.flat().slice(0, run.qkv.flat().length - drop);
  return codes.map((q, i) => ({ data: BigInt(q), last: i === codes.length - 1, epoch }));
};

describe('attention RTL', () => {
  it('random shapes, random stalls on every stream: RTL == model on every tap', async () => {
    const rnd = mulberry32(Number(process.env.SEED ?? 11));
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    for (let trial = 0; trial < 5; trial++) {
      const bits = int(2, 9);
      const headDim = int(1, 6);
      const divisors = Array.from({ length: headDim }, (_, i) => i + 1).filter((l) => headDim % l === 0);
      const lanes = divisors[int(0, divisors.length - 1)]!;
      const spec = resolveAttention(bits, { s_bits: int(2, 4), heads: int(1, 3), head_dim: headDim, lanes, max_tokens: int(1, 7), frac_bits: int(32, 40), requant_cycles: int(1, 5) });
      const runs = [packet(spec, int(1, spec.params.max_tokens), rnd), packet(spec, spec.params.max_tokens, rnd)];
      const { comparison, result } = await runAttention(spec, runs, work('random'), { stallPercent: int(10, 50), seed: int(1, 1000) });
      expect(comparison.first, JSON.stringify(spec.params)).toBeUndefined();
      expect(comparison.mismatches).toBe(0);
      expect(result.statusError).toBe(0n);
    }
  });

  it('two layers back to back, reprogrammed between packets of one stream (zero points, requantizers and the softmax\'s score scale differ)', async () => {
    const spec = resolveAttention(6, { heads: 2, head_dim: 3, max_tokens: 6, min_score_scale: 0.05 });
    const rnd = mulberry32(5);
    const a = defaultScales(spec);
    const b = { ...a, qkvScale: a.qkvScale * 0.37, qkvZeroPoint: 21, scoreScale: 0.0625, scoreZeroPoint: 40, outScale: a.outScale * 0.11, outZeroPoint: 9, attnScale: 0.3 };
    const runs = [packet(spec, 6, rnd, a), packet(spec, 4, rnd, b), packet(spec, 5, rnd, a)];
    const words = (k: number) => attentionProgram(spec, runs[k]!.layer).words;
    // Both the block's own words and the softmax's exp table differ
    expect(words(0).slice(0, 7)).not.toEqual(words(1).slice(0, 7));
    expect(words(0).slice(7)).not.toEqual(words(1).slice(7));
    const { comparison, expected } = await runAttention(spec, runs, work('layers'), { stallPercent: 30, seed: 4 });
    expect(comparison.first).toBeUndefined();
    expect(expected.taps.out.length).toBe((6 + 4 + 5) * 6);
  });

  describe('status_error', () => {
    const spec = resolveAttention(4, { heads: 1, head_dim: 2, max_tokens: 3 });
    const rnd = mulberry32(9);
    const good = packet(spec, 3, rnd);
    const goodProgram = attentionProgram(spec, good.layer);

    async function run(cfg: Beat[], data: Beat[], accepted: AttentionRun[]) {
      const { comparison, result } = await runAttentionBeats(spec, cfg, data, accepted, work('errors'), { stallPercent: 25, seed: 2 });
      expect(comparison.first).toBeUndefined();
      return result.statusError;
    }

    it('bit 1: data before any program is dropped; the next packet after a program is right', async () => {
      const cfg = programBeats(goodProgram, 1);
      const status = await run(cfg, [...dataBeats(good, 0), ...dataBeats(good, 2)], [good]);
      expect(status).toBe(0b010n);
    });

    it('bit 0: a program word out of range (shift above shift_max) refuses the program; bit 1 for the packet under it', async () => {
      const bad: Program = { ...goodProgram, words: goodProgram.words.map((w, i) => (i === 2 ? BigInt(spec.derived.score.derived.shiftMax + 1) : w)) };
      const cfg = [...programBeats(bad, 0), ...programBeats(goodProgram, 2)];
      const status = await run(cfg, [...dataBeats(good, 1), ...dataBeats(good, 3)], [good]);
      expect(status).toBe(0b011n);
    });

    it('bit 0: an offset one above offset_abs_max (score B) or one below its negative (output B) refuses the program', async () => {
      const s = spec.derived.score.derived;
      const o = spec.derived.out.derived;
      for (const [index, value] of [[3, toUnsigned(s.offsetAbsMax + 1n, s.offsetWidth)], [6, toUnsigned(-o.offsetAbsMax - 1n, o.offsetWidth)]] as const) {
        const bad: Program = { ...goodProgram, words: goodProgram.words.map((w, i) => (i === index ? value : w)) };
        const status = await run([...programBeats(bad, 0), ...programBeats(goodProgram, 2)], [...dataBeats(good, 1), ...dataBeats(good, 3)], [good]);
        expect(status).toBe(0b011n);
      }
    });

    it('bit 0: a program one word short is refused', async () => {
      const short: Program = { ...goodProgram, words: goodProgram.words.slice(0, 6) };
      const status = await run([...programBeats(short, 0), ...programBeats(goodProgram, 2)], [...dataBeats(good, 1), ...dataBeats(good, 3)], [good]);
      expect(status).toBe(0b011n);
    });

    it('bits 0 and 3: a softmax word out of range (z above z_max) refuses the program in both; the packet under it is dropped (bit 1)', async () => {
      const zMax = spec.derived.softmax.range.zMax;
      const bad: Program = { ...goodProgram, words: goodProgram.words.map((w, i) => (i === 8 ? zMax + 1n : w)) };
      const status = await run([...programBeats(bad, 0), ...programBeats(goodProgram, 2)], [...dataBeats(good, 1), ...dataBeats(good, 3)], [good]);
      expect(status).toBe(0b001011n);
    });

    it('bits 0 and 4: a program one softmax word short is refused by both', async () => {
      const short: Program = { ...goodProgram, words: goodProgram.words.slice(0, -1) };
      const status = await run([...programBeats(short, 0), ...programBeats(goodProgram, 2)], [...dataBeats(good, 1), ...dataBeats(good, 3)], [good]);
      expect(status).toBe(0b010011n);
    });

    it('bit 2: a packet that ends inside a token, or holds more than max_tokens tokens, is dropped; the next is right', async () => {
      const long: AttentionRun = { layer: good.layer, qkv: randomQkv(spec, 4, rnd) };
      const data = [...dataBeats(good, 1, 1), ...dataBeats(long, 1), ...dataBeats(good, 1)];
      const status = await run(programBeats(goodProgram, 0), data, [good]);
      expect(status).toBe(0b100n);
    });
  });

  it.each([1, 3])('public encoder case %i: RTL == chained model on every tap, every stage 0', async (index) => {
    const r = await attentionBlock.verifyCase(vectors.cases[index]!, index, { workDir: work(`case${index}`), stallPercent: 20, seed: 1 });
    expect(r.first).toBeUndefined();
    expect(r.rtl_vs_model).toBe(0);
    expect(r.stages).toEqual({ attn_score: 0, attn_prob: 0, attn_prob_fqvit: 0, attn_out: 0 });
  });

  it('verifyOneInstance: one instance per set of generation-time parameters, the cases back to back in one simulation', async () => {
    const cases = [3, 1, 3].map((i, index) => ({ index, vectorCase: vectors.cases[i]! }));
    const { instances, reports } = await attentionBlock.verifyOneInstance!(cases, { workDir: work('one'), stallPercent: 20, seed: 3 });
    expect(instances).toBe(2);
    expect(reports.map((r) => [r.index, r.rtl_vs_model, r.first])).toEqual([[0, 0, undefined], [1, 0, undefined], [2, 0, undefined]]);
    expect(reports.map((r) => r.elements)).toEqual([9 * 48, 10 * 32, 9 * 48]);
  });

  it('is lint clean under Verilator -Wall at small and default sizes, with a prefix', async () => {
    for (const [bits, o, prefix] of [[2, { heads: 1, head_dim: 1, max_tokens: 1, s_bits: 1 }, ''], [8, {}, 'cfg_a']] as const) {
      const spec = resolveAttention(bits, o, prefix);
      expect(await lintVerilator(emitAttentionRtl(spec), prefix ? `${prefix}_attention` : 'attention')).toEqual([]);
    }
  });

  it('cycles per head, measured: heads after the first each take headCycles (the QK pass, lanes MACs a cycle, with the PV pass overlapped and no slower when 2R * lanes <= N)', async () => {
    const rnd = mulberry32(2);
    // requant_cycles: its default (the largest of 1 .. 4 keeping the QK rate), else where its slots set the pace (20:
    // one digit a cycle, the encoder's default)
    for (const [n, hd, heads, lanes, rc] of [[4, 4, 2, 1], [8, 4, 2, 1], [16, 8, 3, 1], [12, 6, 3, 1], [12, 8, 2, 4], [6, 8, 2, 8], [3, 2, 3, 2], [40, 4, 2, 1], [4, 8, 2, 1, 4], [6, 4, 2, 1, 4], [9, 4, 2, 2, 3], [8, 8, 2, 1, 20]] as const) {
      const spec = resolveAttention(8, { heads, head_dim: hd, max_tokens: n, lanes, ...(rc === undefined ? {} : { requant_cycles: rc }) });
      // attn_out only: the score and probability taps are always ready and dropped by the testbench wrapper
      const { comparison, result } = await runAttention(spec, [packet(spec, n, rnd)], work('throughput'), { stallPercent: 0, taps: false });
      expect(comparison.first).toBeUndefined();
      const lastInput = result.firstInput.s_axis! + 3 * heads * hd * n - 1;
      const cycles = result.beats.at(-1)!.cycle - lastInput;
      // Each head's last attn_out beat: the heads after the first are the steady state
      const headEnds = Array.from({ length: heads }, (_, h) => result.beats[(h + 1) * n * hd - 1]!.cycle);
      const perHead = headEnds.slice(1).map((c, h) => c - headEnds[h]!);
      const qk = n * n * hd / lanes;
      console.log(`attention N ${n} head_dim ${hd} heads ${heads} lanes ${lanes} requant_cycles ${spec.derived.requantCycles}: ${perHead.join(', ')} cycles a head (steady state; headCycles ${headCycles(spec, n)}), ` +
        `ideal ${qk} (QK MACs / lanes; QK + softmax + PV unoverlapped: ${qk + n * n + pvRowCycles(spec, n) * n}), ${cycles} after the last input (bound ${packetCycles(spec, n)})`);
      expect(perHead).toEqual(Array(heads - 1).fill(headCycles(spec, n)));
      expect(headCycles(spec, n)).toBeGreaterThanOrEqual(qk);
      // The PV pass no slower than the QK pass when 2R * lanes <= N
      if (2 * spec.derived.requantCycles * lanes <= n) expect(pvRowCycles(spec, n)).toBeLessThanOrEqual(qkRowCycles(spec, n));
      expect(cycles).toBeLessThanOrEqual(packetCycles(spec, n));
    }
  });

  it('the stimulus puts program k at epoch 2k and its packet at 2k + 1', () => {
    const spec = resolveAttention(4, { heads: 1, head_dim: 1, max_tokens: 2 });
    const rnd = mulberry32(1);
    const { cfg, data } = stimulus(spec, [packet(spec, 1, rnd), packet(spec, 2, rnd)]);
    const words = programLength(spec);
    expect(cfg.map((b) => b.epoch)).toEqual([...Array(words).fill(0), ...Array(words).fill(2)]);
    expect(data.map((b) => b.epoch)).toEqual([1, 1, 1, 3, 3, 3, 3, 3, 3]);
  });
});
