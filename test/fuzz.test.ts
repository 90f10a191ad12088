// Random sweep from a printed seed (SEED=<n> npm test reproduces a run): for every block, a random configuration
// within its documented ranges and random stimulus, simulated with random valid/ready stalls on both sides and
// compared with the golden model; then the same stream with a reset in the middle of it, after which the sources
// replay from a packet boundary: the output after the reset must equal the golden model on the replayed stream
// (nothing lost, nothing duplicated, nothing left over from before the reset). One block, drawn by the seed, also
// runs on Verilator, which must give the same beats at the same cycles as Icarus.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlockName } from '../generators/block.ts';
import { UsageError } from '../generators/common/errors.ts';
import { simulate, simulateAndCompare, type Beat, type SimHarness, type SimOptions } from '../generators/common/sim.ts';
import { expectedBeats as gemmExpectedBeats } from '../generators/gemm/driver.ts';
import { defaultProblem, harnessFor, integerProblem } from '../generators/gemm/index.ts';
import { resolveGemm } from '../generators/gemm/spec.ts';
import { defaultTokens, layernormHarness, modelOutputs, outputBeats } from '../generators/layernorm/index.ts';
import { resolveLayernorm } from '../generators/layernorm/spec.ts';
import { defaultStimulus, expectedBeats as softmaxExpectedBeats, softmaxHarness } from '../generators/softmax/index.ts';
import { resolveSoftmax } from '../generators/softmax/spec.ts';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : Math.floor(Math.random() * 2 ** 31) + 1;
if (!Number.isSafeInteger(SEED) || SEED < 1) throw new Error(`SEED must be a positive integer (got ${process.env.SEED})`);

/** mulberry32: the one source of randomness of this file, from SEED. */
function rng(seed: number): { float: () => number; int: (lo: number, hi: number) => number; pick: <T>(xs: readonly T[]) => T } {
  let s = seed >>> 0;
  const float = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(float() * (hi - lo + 1));
  return { float, int, pick: (xs) => xs[Math.floor(float() * xs.length)]! };
}

/** A configuration, its stimulus, the model's output, and how the stream replays after a mid-stream reset. */
interface FuzzCase {
  label: string;
  harness: SimHarness;
  expected: Beat[];
  /** Packet boundaries (beat index per input stream) a replay may start from, and the model's output from there. */
  replays: Array<{ restartAt: Record<string, number>; expected: Beat[] }>;
}

type Draw = ReturnType<typeof rng>;

/** Draws until the block accepts the configuration (ranges interact: a spec error just means draw again). */
function accepted<T>(what: string, draw: () => T): T {
  for (let i = 0; i < 50; i++) {
    try {
      return draw();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
    }
  }
  throw new Error(`no valid ${what} configuration in 50 draws`);
}

// attention is not here: its three output taps arrive merged in a timing-dependent order, so its random shapes under
// stalls are in test/attention-rtl.test.ts, compared tap by tap.
const CASES: Partial<Record<BlockName, (r: Draw) => FuzzCase>> = {
  gemm: (r) => {
    const bits = r.int(2, 16);
    const overrides = { rows: r.int(1, 4), cols: r.int(1, 4), max_k: r.int(1, 40), frac_bits: r.int(8, 40), a_bits: r.int(2, 16), w_bits: r.int(2, 16), out_bits: r.int(2, 16) };
    const spec = accepted('gemm', () => resolveGemm(bits, overrides));
    const p = integerProblem(spec, defaultProblem(spec, r.int(1, 1e9), { m: r.int(1, 9), k: r.int(1, spec.maxK), n: r.int(1, 9) }));
    const { harness, model } = harnessFor(spec, p);
    const expected = gemmExpectedBeats(spec, p, model.out);
    // Three streams feed one problem: the replay restarts all of them from the beginning.
    return { label: `gemm --bits ${bits} ${JSON.stringify(overrides)}`, harness, expected, replays: [{ restartAt: {}, expected }] };
  },
  softmax: (r) => {
    const bits = r.int(2, 9);
    const overrides = { out_bits: r.int(1, 8), max_length: r.int(1, 24), n: r.int(1, 30) };
    const spec = accepted('softmax', () => resolveSoftmax(bits, overrides));
    const beats = defaultStimulus(spec, r.int(1, 1e9));
    const starts = beats.flatMap((_, i) => (i === 0 || beats[i - 1]!.last ? [i] : []));
    return {
      label: `softmax --bits ${bits} ${JSON.stringify(overrides)}`,
      harness: softmaxHarness(spec, beats),
      expected: softmaxExpectedBeats(spec, beats),
      replays: starts.map((i) => ({ restartAt: { s_axis: i }, expected: softmaxExpectedBeats(spec, beats.slice(i)) })),
    };
  },
  layernorm: (r) => {
    const bits = r.int(2, 16);
    const overrides = { channels: r.int(8, 40), rsqrt_bits: r.int(16, 40) };
    const spec = accepted('layernorm', () => resolveLayernorm(bits, overrides));
    const tokens = defaultTokens(spec, r.int(2, 6), r.int(1, 1e9));
    return {
      label: `layernorm --bits ${bits} ${JSON.stringify(overrides)}`,
      harness: layernormHarness(spec, tokens),
      expected: outputBeats(modelOutputs(spec, tokens)),
      replays: tokens.map((_, t) => ({ restartAt: { s_axis: t * spec.channels }, expected: outputBeats(modelOutputs(spec, tokens.slice(t))) })),
    };
  },
};

const work = () => mkdtempSync(join(tmpdir(), 'fuzz-'));

describe(`random sweep, SEED=${SEED}`, () => {
  beforeAll(() => {
    console.log(`fuzz: SEED=${SEED} (reproduce with SEED=${SEED} npm test, or SEED=${SEED} npx vitest run test/fuzz.test.ts)`);
  });
  const top = rng(SEED);
  const verilatorBlock = top.pick(Object.keys(CASES) as BlockName[]);

  it.each(Object.keys(CASES) as BlockName[])('%s: a random configuration under random stalls, then a mid-stream reset with replay', async (block) => {
    const r = rng(SEED * 31 + block.length * 7919 + block.charCodeAt(0));
    const c = CASES[block]!(r);
    const options: SimOptions = { stallPercent: r.int(0, 60), seed: r.int(1, 2 ** 30) };
    const where = `${c.label}, stall ${options.stallPercent}% seed ${options.seed} (SEED=${SEED})`;

    const run = await simulateAndCompare(c.harness, work(), options, c.expected);
    expect(run.comparison, where).toEqual({ mismatches: 0, first: undefined });
    expect(run.result.timedOut, where).toBe(false);
    expect(Object.values(run.result.inputsConsumed).every(Boolean), where).toBe(true);

    // Reset somewhere between the first and the last output beat of that run, so the stream is mid-way.
    const first = run.result.beats[0]!.cycle;
    const last = run.result.beats.at(-1)!.cycle;
    const replay = r.pick(c.replays);
    const midReset = { cycle: r.int(first + 1, Math.max(first + 1, last)), restartAt: replay.restartAt };
    const harness = { ...c.harness, output: { ...c.harness.output, expectedBeats: replay.expected.length } };
    const again = await simulateAndCompare(harness, work(), { ...options, midReset }, replay.expected);
    const label = `${where}, reset at cycle ${midReset.cycle}, replay from ${JSON.stringify(replay.restartAt)}`;
    expect(again.result.beatsBeforeReset.length, label).toBeGreaterThan(0);
    expect(again.comparison, label).toEqual({ mismatches: 0, first: undefined });
    expect(again.result.timedOut, label).toBe(false);

    if (block === verilatorBlock) {
      const verilator = await simulate(c.harness, work(), { ...options, simulator: 'verilator' });
      expect(verilator.beats, `${where} on Verilator`).toEqual(run.result.beats);
      expect(verilator.doneCycle, `${where} on Verilator`).toBe(run.result.doneCycle);
    }
  });
});

describe('exhaustive where the input space is small', () => {
  // GEMM at 2-bit activations and weights, K = 2: every pair of activation codes against every pair of weights
  // (16 x 16 dot products), at every activation zero point, through the whole block (array, drain, requantizer).
  // (The softmax's whole 3-bit space of rows up to L = 4 is in test/softmax-rtl.test.ts; the arithmetic units of
  // every block are proven for all inputs in test/formal-leaves.test.ts; a LayerNorm token has at least 8 channels,
  // 2^32 inputs at 4 bits, so it gets the random sweep.)
  it.each([0, 1, 2, 3])('gemm, 2-bit codes, K = 2, zero point %i: all 256 dot products equal the model', async (aZeroPoint) => {
    const spec = resolveGemm(2, { out_bits: 4, rows: 2, cols: 3, max_k: 2 });
    const pairs = (lo: number, hi: number) => Array.from({ length: (hi - lo + 1) ** 2 }, (_, i) => [lo + (i % (hi - lo + 1)), lo + Math.floor(i / (hi - lo + 1))]);
    const a = pairs(0, 3);
    const w = pairs(-2, 1);
    // Accumulators span -12..12; a rescale of 0.5 maps them onto codes 2..14 around the zero point 8 (no saturation),
    // and a bias of 0.25 puts half of them on ties, which round half to even decides.
    const scales = { aScale: 0.5, wScale: w.map(() => 0.5), bias: w.map((_, n) => (n % 2 ? 0.25 : 0)), outScale: 0.25, outZeroPoint: 8 };
    const p = integerProblem(spec, { a, w, aZeroPoint, scales });
    const { harness, model } = harnessFor(spec, p);
    const expected = gemmExpectedBeats(spec, p, model.out);
    expect(expected.length).toBeGreaterThanOrEqual(256);
    const run = await simulateAndCompare(harness, work(), { stallPercent: 15, seed: aZeroPoint + 1 }, expected);
    expect(run.comparison).toEqual({ mismatches: 0, first: undefined });
    expect(run.result.timedOut).toBe(false);
  });
});
