// PTF LayerNorm RTL against the golden model in Icarus: a sweep over widths 4..8 and several C with random stalls
// (constant tokens and extreme codes included), the widths outside FQ-ViT's measured range (2, 3, 12, 16; extreme
// layers), C = 768 once, C below the token unit's time, a slow reader that fills the code buffer, back-to-back tokens at
// one element per cycle, the public vector cases, and lint of the generated modules.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inParallel } from '../generators/common/lint.ts';
import { packWord, programBeats } from '../generators/common/program.ts';
import { simulateAndCompare, type Beat } from '../generators/common/sim.ts';
import { defaultTokens, latencyCycles, layernormBlock, modelOutputs, outputBeats, rawHarness, runLayers, runTokens, tokenBeats } from '../generators/layernorm/index.ts';
import { cyclesPerTokenGroup, elementsPerCycle, tokenBeatCount, layernormProgram, programLayout, rtlWidths, serialElementPlan, tokenUnitCycles } from '../generators/layernorm/rtl.ts';
import { resolveLayernorm, scaleRatioLog2 } from '../generators/layernorm/spec.ts';
import { mulberry32 } from '../generators/common/random.ts';
import { unpackLanes } from '../generators/common/lanes.ts';
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

  it.each(['pipelined', 'serial'] as const)('with extreme layers at 2 and 16 bits (%s): |gamma|, |beta| at the ratio limit, tiny and zero gamma, extreme zero points', async (datapath) => {
    const jobs = [2, 16].flatMap((bits) => {
      const C = 12;
      const qmax = 2 ** bits - 1;
      const lim = 2 ** scaleRatioLog2(bits) * 0.999 * 0.01;
      const gamma = Array.from({ length: C }, (_, c) => [lim, -lim, 0, 1e-9, -3e-12, 0.3][c % 6]!);
      const beta = Array.from({ length: C }, (_, c) => [-lim, lim, 0.3, -0.005, 0][c % 5]!);
      return [[0, qmax], [qmax, 0]].map(([zp, ozp]) => async () => {
        const spec = resolveLayernorm(bits, {
          channels: C, alpha: Array.from({ length: C }, (_, c) => c % 4), in_scale_min: 0.1, zero_point: zp, gamma, beta,
          out_scale: 0.01, out_zero_point: ozp, rsqrt_bits: bits === 2 ? 40 : 16, scale_ratio_bits: scaleRatioLog2(bits), datapath,
        });
        const r = await runTokens(spec, defaultTokens(spec, 6, bits + zp!), { workDir: work(), stallPercent: 30, seed: bits + zp! });
        return { bits, zp, elements: r.expected.length, mismatches: r.comparison.mismatches, first: r.comparison.first, timedOut: r.result.timedOut };
      });
    });
    const runs = await inParallel(jobs);
    for (const r of runs) expect(r).toMatchObject({ mismatches: 0, timedOut: false });
    expect(runs.every((r) => r.elements > 0)).toBe(true);
  });

  it('at C = 768 (8 bits), and at C = 8 (below the token unit time: the input waits, nothing is lost) on two token units and on one', async () => {
    const cases = [resolveLayernorm(8, { channels: 768 }), resolveLayernorm(6, { channels: 8 }), resolveLayernorm(6, { channels: 8, max_token_units: 1 })];
    const runs = await inParallel(cases.map((spec) => async () => {
      const tokens = spec.channels === 768 ? defaultTokens(spec, 1, 3).slice(0, 3) : defaultTokens(spec, 12, 5);
      const r = await runTokens(spec, tokens, { workDir: work(), stallPercent: 10, seed: 11 });
      return { mismatches: r.comparison.mismatches, first: r.comparison.first, timedOut: r.result.timedOut, beats: r.result.beats.length, expected: r.expected.length };
    }));
    for (const r of runs) expect(r).toMatchObject({ mismatches: 0, timedOut: false });
    expect(runs.map((r) => r.beats)).toEqual(runs.map((r) => r.expected));
  });

  it('fills its code buffer under a slow reader (the sink ready one cycle in ten): the input waits, nothing is lost', async () => {
    // The buffer is written a cycle after the handshake, so the input stops at almost full. Here it must stop there:
    // with everything downstream waiting, the two scalar slots, the token units and the stats unit's sums hold whole
    // tokens and the next token streams in up to its last beat, more codes than the buffer holds.
    const spec = resolveLayernorm(6, { channels: 64 });
    const { bufferAddrWidth, tokenUnits } = rtlWidths(spec);
    expect((2 + tokenUnits + 1) * spec.channels + spec.channels - 1).toBeGreaterThan(2 ** bufferAddrWidth);
    const r = await runTokens(spec, defaultTokens(spec, 12, 7), { workDir: work(), stallPercent: 0, sinkStallPercent: 90, seed: 5 });
    expect({ mismatches: r.comparison.mismatches, timedOut: r.result.timedOut, beats: r.result.beats.length }).toEqual({ mismatches: 0, timedOut: false, beats: r.expected.length });
  });

  it('streams back-to-back tokens at the manifest throughput, U·C / max(U·C, T), and with the manifest latency', async () => {
    // One token unit (T < max C = 192) at C = 192 and C = 32; two token units (T > max C = 64) at C = 64, 50, 16 and 8;
    // one again at max C 64 when max_token_units is 1 (the encoder's), C = 16.
    const cases: Array<[number, Record<string, unknown>]> = [
      [4, { max_channels: 192, channels: 192 }], [4, { max_channels: 192, channels: 32 }],
      [5, { max_channels: 64, channels: 64 }], [5, { max_channels: 64, channels: 50 }], [5, { max_channels: 64, channels: 16 }], [5, { max_channels: 64, channels: 8 }],
      [5, { max_channels: 64, channels: 16, max_token_units: 1 }],
    ];
    const runs = await inParallel(cases.map(([bits, o]) => async () => {
      const spec = resolveLayernorm(bits, o);
      // Tokens with var > 0 (a constant token skips the root and the dividers, so it takes the token unit less time).
      const tokens = defaultTokens(spec, 12, 9).filter((t) => new Set(t).size > 1).slice(0, 9);
      const r = await runTokens(spec, tokens, { workDir: work(), stallPercent: 0 });
      const C = spec.channels;
      const U = rtlWidths(spec).tokenUnits;
      const starts = tokens.map((_, t) => r.result.beats[t * C]!.cycle);
      // Steady state: every group of U tokens (from the second token on) takes cyclesPerTokenGroup cycles.
      const groups = starts.slice(1 + U).map((s, i) => s - starts[1 + i]!);
      return { spec, U, mismatches: r.comparison.mismatches, groups, latency: starts[0]! - r.result.firstInput.s_axis! };
    }));
    expect(runs.map((r) => r.U)).toEqual([1, 1, 2, 2, 2, 2, 1]);
    for (const r of runs) {
      expect(r.mismatches).toBe(0);
      expect(r.groups.length).toBeGreaterThan(4);
      expect(new Set(r.groups)).toEqual(new Set([cyclesPerTokenGroup(r.spec)]));
      // Every non-constant token takes the token unit the same time, so the latency is the manifest's, exactly.
      expect(r.latency).toBe(latencyCycles(r.spec));
    }
    // The figures the manifest states: one element per cycle at C = 192 and 64, below it for short tokens.
    expect(runs.map((r) => Math.round(elementsPerCycle(r.spec) * 1000) / 1000)).toEqual([1, Math.round(32 / tokenUnitCycles(runs[1]!.spec) * 1000) / 1000, 1, Math.round(100 / tokenUnitCycles(runs[3]!.spec) * 1000) / 1000, Math.round(32 / tokenUnitCycles(runs[4]!.spec) * 1000) / 1000, Math.round(16 / tokenUnitCycles(runs[5]!.spec) * 1000) / 1000, Math.round(16 / tokenUnitCycles(runs[6]!.spec) * 1000) / 1000]);
  });

  it('runs different layers back to back on one instance, reprogrammed between tokens of one stream, with 30% random stalls', async () => {
    const hw = { max_channels: 48 };
    const C2 = 20;
    const rnd = mulberry32(77);
    const layers = [
      resolveLayernorm(6, { ...hw, channels: 48 }),
      resolveLayernorm(6, {
        ...hw, channels: C2, in_scale_min: 0.02, zero_point: 50, alpha: Array.from({ length: C2 }, (_, c) => (c * 3) % 4),
        gamma: Array.from({ length: C2 }, () => (rnd() - 0.3) * 2), beta: Array.from({ length: C2 }, () => (rnd() - 0.5)), out_scale: 0.04, out_zero_point: 9,
      }),
      resolveLayernorm(6, { ...hw, channels: 9, in_scale_min: 0.1, zero_point: 3, alpha: new Array(9).fill(3), gamma: new Array(9).fill(-0.7), beta: new Array(9).fill(0.2), out_scale: 0.1, out_zero_point: 60 }),
    ];
    const segments = [0, 1, 2, 0, 2, 1].map((l, k) => ({ spec: layers[l]!, tokens: defaultTokens(layers[l]!, 3, k + 1) }));
    const r = await runLayers(segments, { workDir: work(), stallPercent: 30, seed: 4 });
    expect(r.result.timedOut).toBe(false);
    expect(r.comparison).toMatchObject({ mismatches: 0 });
    expect(r.perSegment).toEqual(segments.map(() => 0));
    expect(r.result.beats.length).toBe(r.expected.length);
    expect(r.result.statusError).toBe(0n);
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

  it('verifyOneInstance: one instance per --bits for all public cases, back to back with programs between', async () => {
    const cases = vectors.cases.map((vectorCase, index) => ({ index, vectorCase })).filter(({ vectorCase }) => vectorCase.block === 'layernorm');
    const bits = new Set(cases.map(({ vectorCase }) => vectorCase.in_bits));
    const { instances, reports } = await layernormBlock.verifyOneInstance!(cases, { workDir: work(), stallPercent: 20, seed: 3 });
    expect(instances).toBe(bits.size);
    expect(reports.map((r) => r.index)).toEqual(cases.map((c) => c.index));
    for (const r of reports) expect(r).toMatchObject({ rtl_vs_model: 0, calibration: 'match', max_abs_diff: 0 });
    expect(reports.every((r) => r.elements > 0)).toBe(true);
  });
});

describe('layernorm lanes: lanes codes a beat (common/lanes.ts), RTL == model', () => {
  // Per lanes value: one instance, three layers back to back (C a multiple of lanes and not, the smallest C = 8), under
  // random stalls on every stream; the output words of a partial last beat above its last lane must be 0.
  it.each([
    { lanes: 2, bits: 4, max: 24, layers: [24, 21, 8], stall: 30, seed: 61 },
    { lanes: 4, bits: 6, max: 20, layers: [13, 20, 8], stall: 25, seed: 62 },
    { lanes: 8, bits: 5, max: 16, layers: [11, 16, 8], stall: 35, seed: 63 },
  ])('lanes $lanes, $bits bits, C = $layers on one instance (max_channels $max), stall $stall%', async (c) => {
    const rnd = mulberry32(c.seed);
    const layers = c.layers.map((C, k) => k === 1 ? resolveLayernorm(c.bits, { channels: C, max_channels: c.max, lanes: c.lanes }) : resolveLayernorm(c.bits, {
      channels: C, max_channels: c.max, lanes: c.lanes, in_scale_min: 0.05, zero_point: 3 + k, alpha: Array.from({ length: C }, (_, i) => (i * (k + 1)) % 4),
      gamma: Array.from({ length: C }, () => (rnd() - 0.3) * 2), beta: Array.from({ length: C }, () => rnd() - 0.5), out_scale: 0.05, out_zero_point: 2 ** (c.bits - 1) - k,
    }));
    const segments = [0, 1, 2, 0].map((l, k) => ({ spec: layers[l]!, tokens: defaultTokens(layers[l]!, 2, k + c.seed) }));
    const r = await runLayers(segments, { workDir: work(), stallPercent: c.stall, seed: c.seed });
    expect(r.result.timedOut).toBe(false);
    expect(r.comparison).toMatchObject({ mismatches: 0 });
    expect(r.perSegment).toEqual(segments.map(() => 0));
    expect(r.result.beats.length).toBe(r.expected.length);
    expect(r.result.statusError).toBe(0n);
    // The words of each token's beats, unpacked: the model's codes, then 0 in a partial last beat.
    const words = r.result.beats.flatMap((b) => unpackLanes(b.data, c.lanes, c.bits));
    const model = segments.flatMap((s) => modelOutputs(s.spec, s.tokens).flatMap((t) => [...t, ...new Array<bigint>(tokenBeatCount(s.spec) * c.lanes - t.length).fill(0n)]));
    expect(words).toEqual(model);
  });

  it('verify --vectors --spec {"layernorm": {"lanes": 4}}: the smallest public case at 4 lanes, RTL == model == the reference', async () => {
    const cases = vectors.cases.map((c, i) => ({ c, i })).filter(({ c }) => c.block === 'layernorm');
    const { c, i } = cases.reduce((a, b) => ((b.c.inputs as unknown[]).length * Number(b.c.channels) < (a.c.inputs as unknown[]).length * Number(a.c.channels) ? b : a));
    const r = await layernormBlock.verifyCase(c, i, { workDir: work(), hardware: { lanes: 4 }, stallPercent: 30, seed: 7 });
    expect(r).toMatchObject({ rtl_vs_model: 0, model_vs_expect: 0, calibration: 'match' });
    expect(r.elements).toBeGreaterThan(0);
  });

  it('streams lanes elements per cycle where max(U·ceil(C/lanes), T) says so, and with the manifest latency', async () => {
    // lanes 2, max C 64: U = ceil(T / 32) token units; C = 64 and 63 (a partial last beat) at 2 elements a cycle, C = 16
    // paced by the token units. lanes 4, max C 64: U = ceil(T / 16), C = 64 at 4 a cycle; max C 32: ceil(T / 8) is
    // above the cap 2·lanes = 8, so the token units set the pace even at C = max_channels.
    const cases: Array<[number, Record<string, unknown>]> = [
      [4, { max_channels: 64, channels: 64, lanes: 2 }], [4, { max_channels: 64, channels: 63, lanes: 2 }], [4, { max_channels: 64, channels: 16, lanes: 2 }],
      [5, { max_channels: 64, channels: 64, lanes: 4 }], [5, { max_channels: 32, channels: 32, lanes: 4 }],
    ];
    const runs = await inParallel(cases.map(([bits, o]) => async () => {
      const spec = resolveLayernorm(bits, o);
      const U = rtlWidths(spec).tokenUnits;
      // Tokens with var > 0 (a constant token takes the token unit less time), enough for four groups of U after the first.
      const tokens = defaultTokens(spec, 3 * U + 12, 9).filter((t) => new Set(t).size > 1).slice(0, 5 * U + 1);
      const r = await runTokens(spec, tokens, { workDir: work(), stallPercent: 0 });
      const B = tokenBeatCount(spec);
      const starts = tokens.map((_, t) => r.result.beats[t * B]!.cycle);
      const groups = starts.slice(1 + U).map((s, i) => s - starts[1 + i]!);
      return { spec, U, T: tokenUnitCycles(spec), mismatches: r.comparison.mismatches, groups, latency: starts[0]! - r.result.firstInput.s_axis! };
    }));
    for (const r of runs) {
      expect(r.mismatches).toBe(0);
      expect(r.groups.length).toBeGreaterThanOrEqual(3 * r.U);
      expect(new Set(r.groups)).toEqual(new Set([cyclesPerTokenGroup(r.spec)]));
      expect(r.latency).toBe(latencyCycles(r.spec));
    }
    // Token units: ceil(T / ceil(max_channels / lanes)), so that U tokens of max_channels take no more than T.
    expect(runs.map((r) => r.U)).toEqual(runs.map((r) => Math.min(Math.ceil(r.T / Math.ceil(r.spec.maxChannels / r.spec.lanes)), 2 * r.spec.lanes)));
    // lanes elements per cycle at C = max_channels (measured: the groups above), C·U/max(U·ceil(C/lanes), T) below.
    const perCycle = runs.map((r) => r.spec.channels * r.U / r.groups[0]!);
    expect(perCycle[0]).toBe(2);
    expect(perCycle[1]).toBeCloseTo(63 / 32, 10);
    expect(perCycle[2]).toBeLessThan(2);
    expect(perCycle[3]).toBe(4);
    expect(runs[4]!.U).toBe(8);
    expect(perCycle[4]).toBe(32 * 8 / runs[4]!.T);
    expect(runs.map((r) => elementsPerCycle(r.spec))).toEqual(perCycle);
  });
});

// At one lane, and at 4 lanes with C = 14 (a partial last beat): early tlast on beat j pads beats j + 1 .. B − 1.
describe.each([
  { lanes: 1, channels: 16, cut: 6 },
  { lanes: 4, channels: 14, cut: 8 },
])('layernorm status_error guards, lanes $lanes', ({ lanes, channels, cut }) => {
  const spec = resolveLayernorm(5, { channels, max_channels: 24, lanes });
  const C = spec.channels;
  const zp = spec.layer.zeroPoint;
  const tokens = defaultTokens(spec, 4, 6).filter((t) => new Set(t).size > 1).slice(0, 3);
  const program = (epoch: number) => programBeats(layernormProgram(spec), epoch);
  const data = (ts: readonly (readonly number[])[], epoch: number) => tokenBeats(spec, ts).map((b) => ({ ...b, epoch }));
  /** Runs raw streams; the output must equal the model on `expectTokens` (each C codes). */
  async function run(cfg: Beat[], beats: Beat[], expectTokens: number[][], seed: number) {
    const expected = outputBeats(spec, modelOutputs(spec, expectTokens));
    const harness = rawHarness(spec, cfg, beats, expected.length, 20 * (cfg.length + beats.length) + 2000);
    const { result, comparison } = await simulateAndCompare(harness, work(), { stallPercent: 25, seed }, expected);
    return { mismatches: comparison.mismatches, first: comparison.first, timedOut: result.timedOut, status: result.statusError };
  }

  it('token_length (bit 1): an early tlast pads the token with the zero point, a late one drops beats up to tlast; the next token is right', async () => {
    const t = tokens[0]!;
    const early = data([t.slice(0, cut)], 1); // tlast on channel cut − 1 of C (beat cut / lanes − 1)
    const late = tokenBeats(spec, [[...t, 1, 2, 3]]).map((b) => ({ ...b, epoch: 1 })); // tlast on channel C + 2
    const runs = await Promise.all([
      run(program(0), [...early, ...data(tokens.slice(1), 1)], [[...t.slice(0, cut), ...new Array<number>(C - cut).fill(zp)], ...tokens.slice(1)], 1),
      run(program(0), [...late, ...data(tokens.slice(1), 1)], [t, ...tokens.slice(1)], 2),
    ]);
    for (const r of runs) expect(r).toMatchObject({ mismatches: 0, timedOut: false, status: 0b010n });
  });

  it('no_program (bit 2): data before any program is discarded up to its tlast; after the program, tokens are right', async () => {
    const r = await run(program(1), [...data(tokens.slice(0, 2), 0), ...data(tokens, 2)], tokens, 3);
    expect(r).toMatchObject({ mismatches: 0, timedOut: false, status: 0b100n });
  });

  it('config (bit 0): a program of the wrong length or with a word out of range is not loaded; a good one after it is', async () => {
    const good = layernormProgram(spec).words;
    const layout = programLayout(spec);
    const beatsOf = (words: bigint[]) => words.map((w, i) => ({ data: w, last: i === words.length - 1, epoch: 0 }));
    const headerWith = (last: number) => packWord(layout.header, { last_channel: last, zero_point: zp, out_zero_point: spec.layer.outZeroPoint });
    const naField = layout.channel.fields.find((f) => f.name === 'na')!;
    const badNa = (good[1]! & ~(((1n << BigInt(naField.width)) - 1n) << BigInt(naField.lsb))) | (BigInt(spec.derived.nAMax + 1) << BigInt(naField.lsb));
    const bad = [
      [beatsOf(good.slice(0, -1))], // one channel word short
      [beatsOf([...good, good[1]!])], // one word too many
      [beatsOf([headerWith(3), ...good.slice(1, 5)])], // C = 4 < 8
      [beatsOf([headerWith(24), ...good.slice(1), good[1]!, ...good.slice(1, 9)])], // C = 25 > max_channels
      [beatsOf([good[0]!, badNa, ...good.slice(2)])], // nA above its range
    ];
    const runs = await Promise.all(bad.map(([cfg], i) => run(
      [...cfg!, ...program(2)],
      [...data(tokens.slice(0, 1), 1), ...data(tokens, 3)],
      tokens, 10 + i,
    )));
    // Bit 0 for the program; bit 2 for the token sent after it (the bad program left the block with none).
    for (const r of runs) expect(r).toMatchObject({ mismatches: 0, timedOut: false, status: 0b101n });
  });
});

describe('layernorm serial element unit (datapath "serial"): RTL == model', () => {
  it('over widths 2..16, several C, the widest scale_ratio_bits (the encoder\'s), with 25% random stalls', async () => {
    const cases: Array<[number, Record<string, unknown>, number]> = [
      [2, { channels: 16 }, 6], [4, { channels: 16, max_channels: 16, max_token_units: 1, scale_ratio_bits: scaleRatioLog2(4) }, 8],
      [5, { channels: 50, max_channels: 64 }, 4], [8, { channels: 24, rsqrt_bits: 20, scale_ratio_bits: scaleRatioLog2(8) }, 6],
      [12, { channels: 40 }, 4], [16, { channels: 32, rsqrt_bits: 40 }, 4],
    ];
    const runs = await inParallel(cases.map(([bits, o, count]) => async () => {
      const spec = resolveLayernorm(bits, { ...o, datapath: 'serial' });
      const r = await runTokens(spec, defaultTokens(spec, count, bits + 100), { workDir: work(), stallPercent: 25, sinkStallPercent: 25, seed: bits });
      return { bits, elements: r.expected.length, mismatches: r.comparison.mismatches, first: r.comparison.first, timedOut: r.result.timedOut };
    }));
    for (const r of runs) expect(r).toMatchObject({ mismatches: 0, timedOut: false });
    expect(runs.every((r) => r.elements > 0)).toBe(true);
  });

  it('under a slow reader (the sink ready one cycle in ten) and with layers back to back: nothing is lost', async () => {
    const spec = resolveLayernorm(6, { channels: 32, max_channels: 32, datapath: 'serial' });
    const slow = await runTokens(spec, defaultTokens(spec, 6, 7), { workDir: work(), stallPercent: 0, sinkStallPercent: 90, seed: 5 });
    expect({ mismatches: slow.comparison.mismatches, timedOut: slow.result.timedOut, beats: slow.result.beats.length }).toEqual({ mismatches: 0, timedOut: false, beats: slow.expected.length });
    const other = resolveLayernorm(6, { channels: 9, max_channels: 32, datapath: 'serial', in_scale_min: 0.1, zero_point: 3, alpha: new Array(9).fill(3), gamma: new Array(9).fill(-0.7), beta: new Array(9).fill(0.2), out_scale: 0.1, out_zero_point: 60 });
    const segments = [spec, other, spec].map((l, k) => ({ spec: l, tokens: defaultTokens(l, 3, k + 1) }));
    const r = await runLayers(segments, { workDir: work(), stallPercent: 30, seed: 4 });
    expect(r.comparison).toMatchObject({ mismatches: 0 });
    expect(r.perSegment).toEqual(segments.map(() => 0));
    expect(r.result.statusError).toBe(0n);
  });

  it('takes one element every serialElementPlan period, tokens at max(C·period, T, the token unit\'s tail after the last capture), with the manifest latency (measured)', async () => {
    // The last two: the token unit's W division and scale outlast the last element after its capture (wide dividers)
    const cases: Array<[number, Record<string, unknown>]> = [[4, { channels: 16, max_channels: 16, max_token_units: 1 }], [4, { channels: 8, max_channels: 16 }], [4, { channels: 16, max_channels: 384 }], [16, { channels: 9, max_channels: 384 }]];
    const runs = await inParallel(cases.map(([bits, o]) => async () => {
      const spec = resolveLayernorm(bits, { ...o, datapath: 'serial' });
      const tokens = defaultTokens(spec, 12, 9).filter((t) => new Set(t).size > 1).slice(0, 6);
      const r = await runTokens(spec, tokens, { workDir: work(), stallPercent: 0 });
      const C = spec.channels;
      const starts = tokens.map((_, t) => r.result.beats[t * C]!.cycle);
      const U = rtlWidths(spec).tokenUnits;
      return { spec, mismatches: r.comparison.mismatches, groups: starts.slice(1 + U).map((st, i) => st - starts[1 + i]!), inToken: r.result.beats[1]!.cycle - r.result.beats[0]!.cycle, latency: starts[0]! - r.result.firstInput.s_axis! };
    }));
    for (const r of runs) {
      expect(r.mismatches).toBe(0);
      expect(r.inToken).toBe(serialElementPlan(r.spec).period);
      expect(new Set(r.groups)).toEqual(new Set([cyclesPerTokenGroup(r.spec)]));
      expect(r.latency).toBe(latencyCycles(r.spec));
    }
  });

  it('on every public vector case with --spec {"layernorm": {"datapath": "serial"}}: RTL == model, the model within the thresholds', async () => {
    const cases = vectors.cases.map((c, i) => ({ c, i })).filter(({ c }) => c.block === 'layernorm');
    const reports = await inParallel(cases.map(({ c, i }) => () => layernormBlock.verifyCase(c, i, { workDir: work(), hardware: { datapath: 'serial' }, stallPercent: 20, seed: i })));
    for (const r of reports) {
      expect(r.rtl_vs_model).toBe(0);
      expect(r.calibration).toBe('match');
      expect(r.max_abs_diff).toBeLessThanOrEqual(1);
    }
  });
});

describe('layernorm RTL: a lint corner', () => {
  // Lint (Verilator -Wall, Yosys hierarchy -check) of every width and of the corners is in test/lint-blocks.test.ts;
  // one of its corners is there for this property.
  it('has a square-root guard G < 0 at 8 bits, C 768, rsqrt_bits 16 (a corner test/lint-blocks.test.ts lints)', () => {
    expect(resolveLayernorm(8, { channels: 768, rsqrt_bits: 16 }).derived.precision.sqrtGuard).toBeLessThan(0);
  });
});
