// Random sweep from a fixed, printed seed (SEED=<n> npx vitest run test/fuzz.test.ts replays another): for every
// block, two configurations drawn from its documented ranges (every numeric parameter of its section of
// docs/parameters.md, a range or a list such as lanes, and --bits, read from that file so the sweep follows the
// documentation). For each parameter one
// configuration draws from the lower half of its range and the other from the upper half (a coin decides which), so
// every run reaches both ends of every range; ranges wider than 64 values are halved on a log scale. Each is run on
// random stimulus with random valid/ready stalls on both sides and compared with the golden model; then the same
// stream with a reset in the middle of it, after which the sources replay from a packet boundary: the output after
// the reset must equal the golden model on the replayed stream (nothing lost, nothing duplicated, nothing left over
// from before the reset). One block, drawn by the seed, also runs on Verilator (its smaller configuration, to bound
// compile time), which must give the same beats at the same cycles as Icarus. Stimulus lengths are bounded (K up to
// 512, a few rows or tokens) so the file stays near a minute.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlockName } from '../generators/block.ts';
import { UsageError } from '../generators/common/errors.ts';
import { randomFrom, type Random } from '../generators/common/random.ts';
import { simulate, simulateAndCompare, type Beat, type SimHarness, type SimOptions } from '../generators/common/sim.ts';
import { expectedBeats as gemmExpectedBeats } from '../generators/gemm/driver.ts';
import { defaultProblem, harnessFor, integerProblem } from '../generators/gemm/index.ts';
import { resolveGemm } from '../generators/gemm/spec.ts';
import { defaultTokens, layernormHarness, modelOutputs, outputBeats } from '../generators/layernorm/index.ts';
import { tokenBeatCount } from '../generators/layernorm/rtl.ts';
import { resolveLayernorm } from '../generators/layernorm/spec.ts';
import { rowsToBeats, softmaxHarness } from '../generators/softmax/index.ts';
import { resolveSoftmax } from '../generators/softmax/spec.ts';
import { expectedBeats as residualExpectedBeats, randomTokens, residualHarness, syntheticLayer } from '../generators/residual/index.ts';
import { residualProgram } from '../generators/residual/program.ts';
import { resolveResidual } from '../generators/residual/spec.ts';
import { expectedBeats as geluExpectedBeats, geluHarness, randomAccs, syntheticLayer as geluLayer } from '../generators/gelu/index.ts';
import { geluProgram } from '../generators/gelu/program.ts';
import { resolveGelu } from '../generators/gelu/spec.ts';

/** The seed CI runs; SEED=<n> replays any other. */
const FIXED_SEED = 20260901;
const SEED = process.env.SEED ? Number(process.env.SEED) : FIXED_SEED;
if (!Number.isSafeInteger(SEED) || SEED < 1) throw new Error(`SEED must be a positive integer (got ${process.env.SEED})`);

type Range = readonly [number, number];

/**
 * The integer ranges documented in docs/parameters.md under `heading` (rows whose type is `number` and whose allowed
 * column reads "lo to hi"), by parameter name without leading dashes.
 */
function documentedRanges(heading: string): Record<string, Range> {
  const doc = readFileSync(new URL('../docs/parameters.md', import.meta.url), 'utf8');
  const start = doc.indexOf(`## ${heading}\n`);
  if (start < 0) throw new Error(`docs/parameters.md has no section ${heading}`);
  const section = doc.slice(start + 3).split('\n## ')[0]!;
  const ranges: Record<string, Range> = {};
  for (const m of section.matchAll(/^\| `(?:--)?([\w]+)` \| `number` \| (\d+) to (\d+) \|/gm)) ranges[m[1]!] = [Number(m[2]), Number(m[3])];
  return ranges;
}

/**
 * The integer parameters documented in docs/parameters.md under `heading` whose allowed column lists the values
 * ("1, 2, 4 or 8", "1, 2, 4, 8": lanes), by name, each list in increasing order.
 */
function documentedChoices(heading: string): Record<string, readonly number[]> {
  const doc = readFileSync(new URL('../docs/parameters.md', import.meta.url), 'utf8');
  const start = doc.indexOf(`## ${heading}\n`);
  if (start < 0) throw new Error(`docs/parameters.md has no section ${heading}`);
  const section = doc.slice(start + 3).split('\n## ')[0]!;
  const choices: Record<string, readonly number[]> = {};
  for (const m of section.matchAll(/^\| `(?:--)?([\w]+)` \| `number` \| (\d+(?:, \d+)+(?:,? or \d+)?|\d+ or \d+) \|/gm)) {
    choices[m[1]!] = m[2]!.split(/,? or |, /).map(Number).sort((a, b) => a - b);
  }
  return choices;
}

/** The half of a range a draw comes from: 0 the lower, 1 the upper (on a log scale for ranges wider than 64). */
type Half = 0 | 1;

/** An integer of [lo, hi] from the given half of the range. */
function drawIn(r: Random, [lo, hi]: Range, half: Half): number {
  if (hi - lo > 64 && lo >= 1) {
    const [a, b] = [Math.log(lo), Math.log(hi + 1)];
    const u = a + ((half + r.float()) * (b - a)) / 2;
    return Math.max(lo, Math.min(hi, Math.floor(Math.exp(u))));
  }
  const mid = lo + Math.floor((hi - lo + 1) / 2);
  return half === 0 ? r.int(lo, Math.max(lo, mid - 1)) : r.int(mid, hi);
}

/** Which half each parameter of configuration `index` draws from: the two configurations always take opposite halves. */
function halves(block: BlockName, index: 0 | 1): (parameter: string) => Half {
  const coins = randomFrom(seedOf(block, 'halves'));
  const names = ['bits', ...Object.keys(documentedRanges(`--spec "${block}"`)), ...Object.keys(documentedChoices(`--spec "${block}"`))];
  const coin = new Map(names.map((n) => [n, coins.int(0, 1)]));
  return (parameter) => ((coin.get(parameter)! ^ index) as Half);
}

/** One value for every documented numeric parameter of a block's --spec section (a listed one: from its half of the list). */
function drawSection(r: Random, block: BlockName, half: (parameter: string) => Half): Record<string, number> {
  const ranges = documentedRanges(`--spec "${block}"`);
  const choices = documentedChoices(`--spec "${block}"`);
  return {
    ...Object.fromEntries(Object.entries(ranges).map(([name, range]) => [name, drawIn(r, range, half(name))])),
    ...Object.fromEntries(Object.entries(choices).map(([name, list]) => [name, list[drawIn(r, [0, list.length - 1], half(name))]!])),
  };
}

/** A seed for one use within the run, derived from SEED. */
function seedOf(...parts: string[]): number {
  let h = SEED >>> 0;
  for (const ch of parts.join('/')) h = (Math.imul(h ^ ch.charCodeAt(0), 2654435761) + 40503) >>> 0;
  return h || 1;
}

const bitsRange = () => documentedRanges('npm run gen').bits!;

/** A configuration, its stimulus, the model's output, and how the stream replays after a mid-stream reset. */
interface FuzzCase {
  label: string;
  harness: SimHarness;
  expected: Beat[];
  /** Packet boundaries (beat index per input stream) a replay may start from. */
  replayStarts: Array<Record<string, number>>;
  /** The model's output on the stream replayed from a start. */
  replayExpected: (restartAt: Record<string, number>) => Beat[];
  /** Set for a configuration Icarus would take minutes on (a wide GEMM array): every run of it is on Verilator. */
  verilatorOnly?: boolean;
}

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

type Draw = (r: Random, half: (parameter: string) => Half) => FuzzCase;

/** Draws --bits and the block's section until the block accepts them (ranges interact: a spec error means draw again). */
function drawSpec<S>(r: Random, block: BlockName, half: (parameter: string) => Half, resolve: (bits: number, o: unknown) => S) {
  return accepted(block, () => {
    const bits = drawIn(r, bitsRange(), half('bits'));
    const overrides = drawSection(r, block, half);
    return { bits, overrides, spec: resolve(bits, overrides) };
  });
}

// attention is not here: its three output taps arrive merged in a timing-dependent order, so its random shapes under
// stalls are in test/attention-rtl.test.ts, compared tap by tap.
const CASES: Partial<Record<BlockName, Draw>> = {
  gemm: (r, half) => {
    const { bits, overrides, spec } = drawSpec(r, 'gemm', half, resolveGemm);
    // One to three tiles each way; K up to 512 whatever max_k allows (max_k only widens the accumulators).
    const dims = { m: r.int(1, 3 * spec.rows), k: drawIn(r, [1, Math.min(spec.maxK, 512)], r.int(0, 1) as Half), n: r.int(1, 3 * spec.cols) };
    const p = integerProblem(spec, defaultProblem(spec, r.int(1, 1e9), dims));
    const { harness, model } = harnessFor(spec, p);
    const expected = gemmExpectedBeats(spec, p, model.out);
    // Three streams feed one problem: the replay restarts all of them from the beginning.
    return {
      label: `gemm --bits ${bits} ${JSON.stringify(overrides)} ${JSON.stringify(dims)}`, harness, expected, replayStarts: [{}], replayExpected: () => expected,
      verilatorOnly: spec.rows * spec.cols > 16,
    };
  },
  softmax: (r, half) => {
    const { bits, overrides, spec } = drawSpec(r, 'softmax', half, resolveSoftmax);
    const L = spec.params.max_length;
    const top = 2 ** spec.params.in_bits - 1;
    const row = (length: number) => Array.from({ length }, () => r.int(0, top));
    // A full-length row, a peaky one, two of random length, one element, then a row longer than max_length (the
    // hardware ends it at max_length and starts a new row): about 4 L beats at most.
    const rows = [row(L), Array.from({ length: L }, (_, i) => (i === L >> 1 ? top : 0)), row(drawIn(r, [1, L], 0)), row(drawIn(r, [1, L], 1)), row(1)];
    const long = row(L + r.int(1, 3));
    const beats = [...rowsToBeats(rows), ...long.map((q, i) => ({ q, last: i === long.length - 1 }))];
    const harness = softmaxHarness(spec, beats);
    // A replay starts at a row's first element; with lanes > 1 that is a later s_axis beat (rows are packed by the
    // block's rule, so the beat index comes from the harness of the rows before it), and the output is packed too.
    const rowStarts = beats.flatMap((_, i) => (i > 0 && beats[i - 1]!.last ? [i] : []));
    const packedLength = (elements: number) => softmaxHarness(spec, beats.slice(0, elements)).inputs.find((s) => s.prefix === 's_axis')!.beats.length;
    const starts = new Map([[0, 0], ...rowStarts.map((i) => [packedLength(i), i] as const)]);
    return {
      label: `softmax --bits ${bits} ${JSON.stringify(overrides)}, ${beats.length} elements`,
      harness,
      expected: harness.output.expected!,
      replayStarts: [...starts.keys()].map((b) => ({ s_axis: b })),
      replayExpected: (at) => (at.s_axis === 0 ? harness.output.expected! : softmaxHarness(spec, beats.slice(starts.get(at.s_axis!)!)).output.expected!),
    };
  },
  // A drawn layer may need more constant bits than the drawn hardware has: draw both again.
  gelu: (r, half) => accepted('gelu', () => {
    const { bits, overrides, spec } = drawSpec(r, 'gelu', half, resolveGelu);
    // Two layers back to back, reprogrammed between; a reset forgets the program, so a replay starts every stream over.
    const runs = [0, 1].map(() => {
      const layer = geluLayer(spec, r.int(1, Math.min(spec.params.max_channels, 48)), r.int(1, 1e9));
      return { program: geluProgram(spec, layer), beats: randomAccs(spec, layer.wScale.length, r.int(1, 4), r.int(1, 1e9)) };
    });
    const expected = geluExpectedBeats(spec, runs);
    return { label: `gelu --bits ${bits} ${JSON.stringify(overrides)}`, harness: geluHarness(spec, runs), expected, replayStarts: [{}], replayExpected: () => expected };
  }),
  // A drawn layer may need more constant bits than the drawn hardware has: draw both again.
  residual: (r, half) => accepted('residual', () => {
    const { bits, overrides, spec } = drawSpec(r, 'residual', half, resolveResidual);
    // Two layers back to back, reprogrammed between; a reset forgets the program, so a replay starts every stream over.
    const runs = [0, 1].map(() => {
      const layer = syntheticLayer(bits, r.int(1, Math.min(spec.params.max_channels, 48)), r.int(1, 1e9));
      return { program: residualProgram(spec, layer), beats: randomTokens(bits, layer.xAlpha.length, r.int(1, 4), r.int(1, 1e9)) };
    });
    const expected = residualExpectedBeats(spec, runs);
    return { label: `residual --bits ${bits} ${JSON.stringify(overrides)}`, harness: residualHarness(spec, runs), expected, replayStarts: [{}], replayExpected: () => expected };
  }),
  layernorm: (r, half) => {
    const { bits, overrides, spec } = drawSpec(r, 'layernorm', half, resolveLayernorm);
    // Random tokens of three spreads plus the five edge tokens (constant, zeros, maxima, alternating, one outlier).
    const tokens = defaultTokens(spec, r.int(2, 4), r.int(1, 1e9));
    return {
      label: `layernorm --bits ${bits} ${JSON.stringify(overrides)}, ${tokens.length} tokens`,
      harness: layernormHarness(spec, tokens),
      expected: outputBeats(spec, modelOutputs(spec, tokens)),
      // A token is ceil(C / lanes) beats (common/lanes.ts): a replay starts at a token's first beat.
      replayStarts: tokens.map((_, t) => ({ s_axis: t * tokenBeatCount(spec) })),
      replayExpected: (at) => outputBeats(spec, modelOutputs(spec, tokens.slice(at.s_axis! / tokenBeatCount(spec)))),
    };
  },
};

const work = () => mkdtempSync(join(tmpdir(), 'fuzz-'));

describe(`random sweep, SEED=${SEED}`, () => {
  beforeAll(() => {
    console.log(`fuzz: SEED=${SEED}${SEED === FIXED_SEED ? ' (the fixed CI seed)' : ''} (reproduce with SEED=${SEED} npx vitest run test/fuzz.test.ts; any other positive SEED draws other configurations)`);
  });
  const blocks = Object.keys(CASES) as BlockName[];
  const verilatorBlock = randomFrom(seedOf('verilator')).pick(blocks);
  // Both configurations of every block are drawn up front, so the Verilator run can take the smaller one.
  const drawn = new Map(blocks.map((block) => {
    const cases = ([0, 1] as const).map((index) => {
      const r = randomFrom(seedOf(block, String(index)));
      return { c: CASES[block]!(r, halves(block, index)), r };
    });
    const size = (c: FuzzCase) => [...c.harness.rtl.values()].reduce((n, t) => n + t.length, 0);
    return [block, { cases, verilator: size(cases[0]!.c) <= size(cases[1]!.c) ? 0 : 1 }] as const;
  }));

  it('draws every documented numeric parameter, from both halves of its range', () => {
    expect(Object.keys(documentedRanges('--spec "gemm"')).sort()).toEqual(['a_bits', 'cols', 'frac_bits', 'max_k', 'out_bits', 'requant_cycles', 'rows', 'w_bits']);
    expect(Object.keys(documentedRanges('--spec "softmax"')).sort()).toEqual(['in_bits', 'max_length', 'n', 'out_bits']);
    for (const block of ['softmax', 'gelu', 'residual', 'layernorm']) expect(documentedChoices(`--spec "${block}"`), block).toEqual({ lanes: [1, 2, 4, 8] });
    expect(Object.keys(documentedRanges('--spec "layernorm"')).sort()).toEqual(['max_channels', 'rsqrt_bits']);
    expect(bitsRange()).toEqual([2, 16]);
    for (const block of blocks) {
      for (const name of ['bits', ...Object.keys(documentedRanges(`--spec "${block}"`))]) {
        expect(new Set([halves(block, 0)(name), halves(block, 1)(name)]), `${block} ${name}`).toEqual(new Set([0, 1]));
      }
    }
  });

  it.each(blocks.flatMap((block) => [[block, 0], [block, 1]] as const))('%s, configuration %i: random stalls, then a mid-stream reset with replay', async (block, index) => {
    const { cases, verilator: verilatorIndex } = drawn.get(block)!;
    const { c, r } = cases[index]!;
    const onVerilator = block === verilatorBlock && index === verilatorIndex;
    const options: SimOptions = { stallPercent: r.int(0, 60), seed: r.int(1, 2 ** 30), ...(c.verilatorOnly ? { simulator: 'verilator' as const } : {}) };
    const where = `${c.label}, stall ${options.stallPercent}% seed ${options.seed} (SEED=${SEED})`;
    console.log(`fuzz: ${where}${c.verilatorOnly ? ', on Verilator (a wide array)' : onVerilator ? ', also on Verilator' : ''}`);

    const run = await simulateAndCompare(c.harness, work(), options, c.expected);
    expect(run.comparison, where).toEqual({ mismatches: 0, first: undefined });
    expect(run.result.timedOut, where).toBe(false);
    expect(Object.values(run.result.inputsConsumed).every(Boolean), where).toBe(true);

    // Reset somewhere between the first and the last output beat of that run, so the stream is mid-way.
    const first = run.result.beats[0]!.cycle;
    const last = run.result.beats.at(-1)!.cycle;
    const restartAt = r.pick(c.replayStarts);
    const replayed = c.replayExpected(restartAt);
    const midReset = { cycle: r.int(first + 1, Math.max(first + 1, last)), restartAt };
    const harness = { ...c.harness, output: { ...c.harness.output, expectedBeats: replayed.length } };
    const again = await simulateAndCompare(harness, work(), { ...options, midReset }, replayed);
    const label = `${where}, reset at cycle ${midReset.cycle}, replay from ${JSON.stringify(restartAt)}`;
    expect(again.result.beatsBeforeReset.length, label).toBeGreaterThan(0);
    expect(again.comparison, label).toEqual({ mismatches: 0, first: undefined });
    expect(again.result.timedOut, label).toBe(false);

    if (onVerilator && !c.verilatorOnly) {
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
