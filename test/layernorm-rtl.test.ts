// PTF LayerNorm RTL against the golden model in Icarus: a sweep over widths 4..8 and several C with random stalls
// (constant tokens and extreme codes included), the widths outside FQ-ViT's measured range (2, 3, 12, 16; extreme
// layers), C = 768 once, C below the token unit's time, back-to-back tokens at one element per cycle, the public vector
// cases, and lint of the generated modules.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inParallel, lintVerilator, lintYosys } from '../generators/common/lint.ts';
import { defaultTokens, latencyCycles, layernormBlock, runTokens } from '../generators/layernorm/index.ts';
import { cyclesPerToken, emitLayernormRtl, TOP, tokenUnitCycles } from '../generators/layernorm/rtl.ts';
import { resolveLayernorm, scaleRatioLog2 } from '../generators/layernorm/spec.ts';
import { readFileSync } from 'node:fs';

const work = () => mkdtempSync(join(tmpdir(), 'layernorm-'));
const vectors = JSON.parse(readFileSync(new URL('../../shared/vectors/fqvit-public.json', import.meta.url), 'utf8')) as { cases: Array<Record<string, unknown>> };

describe('layernorm RTL equals the golden model', () => {
  const sweep: Array<[number, number, number]> = [[4, 64, 28], [5, 100, 20], [6, 192, 32], [7, 96, 16], [8, 128, 40]];
  it('over widths 4..8, several C and rsqrt widths, with 25% random stalls (constant tokens and extreme codes included)', async () => {
    const runs = await inParallel(sweep.map(([bits, channels, rsqrt]) => async () => {
      const spec = resolveLayernorm(bits, { channels, rsqrt_bits: rsqrt });
      const tokens = defaultTokens(spec, 6, bits);
      const r = await runTokens(spec, tokens, { workDir: work(), stallPercent: 25, seed: bits });
      return { bits, channels, elements: r.expected.length, mismatches: r.comparison.mismatches, first: r.comparison.first, timedOut: r.result.timedOut };
    }));
    for (const r of runs) expect(r).toMatchObject({ mismatches: 0, timedOut: false });
    expect(runs.every((r) => r.elements > 0)).toBe(true);
  });

  it('at 2, 3, 12 and 16 bits (small C, default C at 16 bits, G < 0), with 25% random stalls', async () => {
    const cases: Array<[number, Record<string, unknown>, number]> = [
      [2, { channels: 16 }, 6], [3, { channels: 24, rsqrt_bits: 17 }, 6], [12, { channels: 40 }, 6], [16, { channels: 32, rsqrt_bits: 40 }, 6],
      [16, {}, 2], [16, { channels: 1024, rsqrt_bits: 16 }, 1],
    ];
    const runs = await inParallel(cases.map(([bits, o, count]) => async () => {
      const spec = resolveLayernorm(bits, o);
      const tokens = defaultTokens(spec, count, bits);
      const r = await runTokens(spec, tokens, { workDir: work(), stallPercent: 25, seed: bits });
      return { bits, G: spec.derived.precision.sqrtGuard, elements: r.expected.length, mismatches: r.comparison.mismatches, first: r.comparison.first, timedOut: r.result.timedOut };
    }));
    for (const r of runs) expect(r).toMatchObject({ mismatches: 0, timedOut: false });
    expect(runs.every((r) => r.elements > 0)).toBe(true);
    expect(runs.at(-1)!.G).toBeLessThan(0);
  });

  it('with extreme layers at 2 and 16 bits: |gamma|, |beta| at the ratio limit, tiny and zero gamma, extreme zero points', async () => {
    const jobs = [2, 16].flatMap((bits) => {
      const C = 12;
      const qmax = 2 ** bits - 1;
      const lim = 2 ** scaleRatioLog2(bits) * 0.999 * 0.01;
      const gamma = Array.from({ length: C }, (_, c) => [lim, -lim, 0, 1e-9, -3e-12, 0.3][c % 6]!);
      const beta = Array.from({ length: C }, (_, c) => [-lim, lim, 0.3, -0.005, 0][c % 5]!);
      return [[0, qmax], [qmax, 0]].map(([zp, ozp]) => async () => {
        const spec = resolveLayernorm(bits, {
          channels: C, alpha: Array.from({ length: C }, (_, c) => c % 4), in_scale_min: 0.1, zero_point: zp, gamma, beta,
          out_scale: 0.01, out_zero_point: ozp, rsqrt_bits: bits === 2 ? 40 : 16,
        });
        const r = await runTokens(spec, defaultTokens(spec, 6, bits + zp!), { workDir: work(), stallPercent: 30, seed: bits + zp! });
        return { bits, zp, elements: r.expected.length, mismatches: r.comparison.mismatches, first: r.comparison.first, timedOut: r.result.timedOut };
      });
    });
    const runs = await inParallel(jobs);
    for (const r of runs) expect(r).toMatchObject({ mismatches: 0, timedOut: false });
    expect(runs.every((r) => r.elements > 0)).toBe(true);
  });

  it('at C = 768 (8 bits), and at C = 8 (below the token unit time: the input waits, nothing is lost)', async () => {
    const cases = [resolveLayernorm(8, { channels: 768 }), resolveLayernorm(6, { channels: 8 })];
    const runs = await inParallel(cases.map((spec) => async () => {
      const tokens = spec.channels === 768 ? defaultTokens(spec, 1, 3).slice(0, 3) : defaultTokens(spec, 12, 5);
      const r = await runTokens(spec, tokens, { workDir: work(), stallPercent: 10, seed: 11 });
      return { mismatches: r.comparison.mismatches, first: r.comparison.first, timedOut: r.result.timedOut, beats: r.result.beats.length, expected: r.expected.length };
    }));
    for (const r of runs) expect(r).toMatchObject({ mismatches: 0, timedOut: false });
    expect(runs.map((r) => r.beats)).toEqual(runs.map((r) => r.expected));
  });

  it('streams back-to-back tokens at one element per cycle, with the manifest latency (C = 192; C = 64 with two token units)', async () => {
    const specs = [resolveLayernorm(4, { channels: 192 }), resolveLayernorm(5, { channels: 64 })];
    expect(tokenUnitCycles(specs[0]!)).toBeLessThan(specs[0]!.channels);
    expect(tokenUnitCycles(specs[1]!)).toBeGreaterThan(specs[1]!.channels);
    expect(cyclesPerToken(specs[1]!)).toBe(specs[1]!.channels);
    const runs = await inParallel(specs.map((spec) => async () => {
      const tokens = defaultTokens(spec, 6, 9);
      const r = await runTokens(spec, tokens, { workDir: work(), stallPercent: 0 });
      const cycles = r.result.beats.map((b) => b.cycle);
      return { spec, mismatches: r.comparison.mismatches, beats: cycles.length, span: cycles.at(-1)! - cycles[0]!, latency: cycles[0]! - r.result.firstInput.s_axis! };
    }));
    for (const r of runs) {
      expect(r.mismatches).toBe(0);
      // No bubble anywhere in the output: every token follows the previous one in the next cycle.
      expect(r.span).toBe(r.beats - 1);
      // Every non-constant token takes the token unit the same time, so the latency is the manifest's, exactly.
      expect(r.latency).toBe(latencyCycles(r.spec));
    }
  });

  it('on every public vector case (rtl_vs_model 0, calibration match, model within the thresholds)', async () => {
    const cases = vectors.cases.map((c, i) => ({ c, i })).filter(({ c }) => c.block === 'layernorm');
    const reports = await inParallel(cases.map(({ c, i }) => () => layernormBlock.verifyCase(c, i, { workDir: work(), stallPercent: 20, seed: i })));
    for (const r of reports) {
      expect(r.rtl_vs_model).toBe(0);
      expect(r.calibration).toBe('match');
      expect(r.max_abs_diff).toBeLessThanOrEqual(1);
      expect(r.model_vs_expect).toBeLessThanOrEqual(r.elements * 1e-4);
    }
  });
});

describe('layernorm RTL lint', () => {
  it('is clean under Verilator -Wall and Yosys hierarchy -check at 4 and 8 bits (and with G < 0), and at the corners of 2 and 16 bits', async () => {
    const specs = [
      resolveLayernorm(4, {}), resolveLayernorm(8, { channels: 768 }), resolveLayernorm(8, { channels: 768, rsqrt_bits: 16 }),
      resolveLayernorm(2, { channels: 8, rsqrt_bits: 40 }), resolveLayernorm(16, { channels: 1024, rsqrt_bits: 16 }), resolveLayernorm(16, { channels: 1024, rsqrt_bits: 40 }),
    ];
    expect(specs[2]!.derived.precision.sqrtGuard).toBeLessThan(0);
    const jobs = specs.map((spec) => async () => {
      const rtl = emitLayernormRtl(spec);
      return { verilator: await lintVerilator(rtl, TOP), yosys: await lintYosys(rtl, TOP) };
    });
    expect(await inParallel(jobs)).toEqual(jobs.map(() => ({ verilator: [], yosys: [] })));
  });
});
