/**
 * The GEMM block: spec → RTL, testbench and vectors; verification of the RTL against the golden model on a seeded
 * default problem and on the "gemm" cases of a vector file.
 */
import type { Block, CaseReport, DefaultReport, VerifyOptions } from '../block.ts';
import type { FileSet } from '../common/files.ts';
import { emitTestbench, runTiming, simulateAndCompare, type SimHarness, type SimOptions } from '../common/sim.ts';
import { UsageError } from '../common/errors.ts';
import { randomFrom } from '../common/random.ts';
import { intMatrix } from '../common/vectors.ts';
import { assembleOutput, buildStreams, expectedBeats, planTiles } from './driver.ts';
import { deriveChannel, gemmModel, type GemmProblem, type GemmResult, type GemmScales } from './model.ts';
import { emitRtl, gemmTop, manifest, tileCycles } from './rtl.ts';
import { resolveGemm, type GemmSpec } from './spec.ts';

/** A problem with the float scales it came from, so the channel constants are derived in one place. */
export interface ScaledProblem {
  a: number[][];
  w: number[][];
  aZeroPoint: number;
  scales: GemmScales;
}

/** Derives every channel's constants (model.ts deriveChannel) and returns the integer problem. */
export function integerProblem(spec: GemmSpec, p: ScaledProblem): GemmProblem {
  return { a: p.a, w: p.w, aZeroPoint: p.aZeroPoint, channels: p.w.map((_, n) => deriveChannel(spec, p.scales, n)) };
}

/**
 * A seeded problem for the spec: odd m, k, n (not multiples of the array), k longer than a tile's drain so the
 * double buffer is exercised, one row and one channel at the extremes of the code ranges, and an output scale that
 * spreads the codes over their range (some saturate).
 */
export function defaultProblem(spec: GemmSpec, seed = 1, dims?: { m: number; k: number; n: number }): ScaledProblem {
  const random = randomFrom(seed);
  const rnd = random.float;
  const int = random.int;
  const m = dims?.m ?? 2 * spec.rows + 1;
  const n = dims?.n ?? 2 * spec.cols + 1;
  const k = Math.min(spec.maxK, dims?.k ?? spec.rows * spec.cols + 11);
  const aMax = 2 ** spec.aBits - 1;
  const wLo = -(2 ** (spec.wBits - 1));
  const wHi = 2 ** (spec.wBits - 1) - 1;
  const a = Array.from({ length: m }, (_, i) => Array.from({ length: k }, () => (i === 0 ? (rnd() < 0.5 ? 0 : aMax) : int(0, aMax))));
  const w = Array.from({ length: n }, (_, i) => Array.from({ length: k }, () => (i === 0 ? (rnd() < 0.5 ? wLo : wHi) : int(wLo, wHi))));
  const aZeroPoint = int(0, aMax);
  const aScale = 0.01 + rnd() * 0.05;
  const wScale = Array.from({ length: n }, () => 0.001 + rnd() * 0.02);
  // Typical |acc| is about sqrt(k) * aMax/2 * wHi/2 (w_scale averages 0.011); map it to a quarter of the code range.
  const typical = Math.sqrt(k) * (aMax / 2) * (wHi / 2);
  const outScale = (typical * aScale * 0.011) / (2 ** spec.outBits / 4);
  // Biases worth up to a quarter of the code range either way, around a zero point in the middle half.
  const bias = Array.from({ length: n }, () => (rnd() - 0.5) * outScale * 2 ** (spec.outBits - 1));
  const outZeroPoint = int(2 ** (spec.outBits - 2), 3 * 2 ** (spec.outBits - 2));
  return { a, w, aZeroPoint, scales: { aScale, wScale, bias, outScale, outZeroPoint } };
}

/** The simulation harness of a problem: three input streams, the output stream, and a cycle bound. */
export function harnessFor(spec: GemmSpec, p: GemmProblem): { harness: SimHarness; model: GemmResult } {
  const plan = planTiles(spec, p);
  const streams = buildStreams(spec, p);
  const model = gemmModel(spec, p);
  const expected = expectedBeats(spec, p, model.out);
  const d = spec.derived;
  const tiles = plan.rowTiles * plan.colTiles;
  const harness: SimHarness = {
    dut: gemmTop(spec),
    params: [],
    rtl: emitRtl(spec),
    inputs: [
      { prefix: 's_act_axis', width: d.actWidth, beats: streams.act },
      { prefix: 's_wgt_axis', width: d.wgtWidth, beats: streams.wgt },
      { prefix: 's_param_axis', width: d.paramWidth, beats: streams.param },
    ],
    output: { prefix: 'm_axis', width: spec.outBits, expectedBeats: expected.length, expected },
    maxCycles: (tiles + 1) * tileCycles(spec, plan.k) + d.drainLatency + 100,
    statusWidth: 1,
  };
  return { harness, model };
}

export interface RunResult {
  elements: number;
  rtlVsModel: number;
  first?: string;
  cycles: number;
  /** With a mid-stream reset: output beats accepted before it. */
  beatsBeforeReset: number;
  /** Cycles from the first accepted k-step beat to the first output code. */
  firstOutput: number;
  out: (bigint | null)[][];
  model: GemmResult;
  /** status_error at the end of the run (bit 0: K_OVERFLOW). */
  statusError: bigint;
}

/** Simulates a problem and compares every output beat (padding included) with the golden model. */
export async function runProblem(spec: GemmSpec, p: GemmProblem, workDir: string, options: SimOptions = {}): Promise<RunResult> {
  const { harness, model } = harnessFor(spec, p);
  const expected = expectedBeats(spec, p, model.out);
  const { result: sim, comparison: cmp } = await simulateAndCompare(harness, workDir, options, expected);
  // Every beat counts, padding included, and a run that did not finish, or that raised an error, counts once more:
  // zero means all equal.
  const mismatches = cmp.mismatches + (sim.timedOut ? 1 : 0) + (sim.statusError === 0n ? 0 : 1);
  const timing = runTiming(sim);
  return {
    elements: expected.length,
    rtlVsModel: mismatches,
    first: sim.timedOut ? `timed out; ${cmp.first ?? ''}` : cmp.first,
    cycles: timing.cycles,
    beatsBeforeReset: sim.beatsBeforeReset.length,
    firstOutput: timing.latency,
    out: assembleOutput(spec, planTiles(spec, p), sim.beats),
    model,
    statusError: sim.statusError ?? -1n,
  };
}

function numberField(c: Record<string, unknown>, field: string): number {
  const v = c[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`vector case field ${field} must be a number`);
  return v;
}

function numberList(c: Record<string, unknown>, field: string, length: number): number[] {
  const v = c[field];
  if (!Array.isArray(v) || v.length !== length || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new UsageError(`vector case field ${field} must be a list of ${length} numbers`);
  }
  return v as number[];
}

/**
 * The spec and problem of a vector-file case: the default array (or `hardware`'s: rows, cols, requant_cycles,
 * multiplier), the case's widths, max_k at least its k.
 */
export function caseProblem(c: Record<string, unknown>, hardware: Readonly<Record<string, unknown>> = {}): { spec: GemmSpec; problem: ScaledProblem; expect: number[][]; expectAcc: number[][] } {
  const aBits = numberField(c, 'a_bits');
  const m = numberField(c, 'm');
  const k = numberField(c, 'k');
  const n = numberField(c, 'n');
  const spec = resolveGemm(aBits, { ...hardware, a_bits: aBits, w_bits: numberField(c, 'w_bits'), out_bits: aBits, max_k: Math.max(4096, k) });
  const problem: ScaledProblem = {
    a: intMatrix(c, 'a', m, k),
    w: intMatrix(c, 'w', n, k),
    aZeroPoint: numberField(c, 'a_zero_point'),
    scales: {
      aScale: numberField(c, 'a_scale'),
      wScale: numberList(c, 'w_scale', n),
      bias: numberList(c, 'bias', n),
      outScale: numberField(c, 'out_scale'),
      outZeroPoint: numberField(c, 'out_zero_point'),
    },
  };
  return { spec, problem, expect: intMatrix(c, 'expect', m, n), expectAcc: intMatrix(c, 'expect_acc', m, n) };
}

export const gemmBlock: Block<GemmSpec> = {
  name: 'gemm',
  caseHardware: ['rows', 'cols', 'requant_cycles', 'multiplier'],
  summary: 'Integer GEMM: ROWS x COLS output-stationary MAC array, per-channel fixed-point requantization (round half to even, saturating)',
  tolerance: {
    maxAbsDiff: 1,
    maxMismatchFraction: 1e-3,
    reason: 'accumulators exact; a code may differ by 1 where the float reference lies within the fixed-point rescale error (2^-frac_bits) of a rounding tie, which FQVIT.md calls a vanishing set (at most 1 in 1,000)',
  },

  resolve: resolveGemm,

  generate(spec: GemmSpec): FileSet {
    const files: FileSet = new Map();
    for (const [path, text] of emitRtl(spec)) files.set(`rtl/${path}`, text);
    files.set('rtl/manifest.json', manifest(spec));
    const p = integerProblem(spec, defaultProblem(spec));
    const { harness } = harnessFor(spec, p);
    for (const [path, text] of emitTestbench(harness, { stallPercent: 20, seed: 1 })) files.set(path, text);
    return files;
  },

  async verifyDefault(spec: GemmSpec, options: VerifyOptions): Promise<DefaultReport> {
    const p = integerProblem(spec, defaultProblem(spec, options.seed ?? 1));
    const r = await runProblem(spec, p, options.workDir, options);
    return { block: 'gemm', module: gemmTop(spec), elements: r.elements, rtl_vs_model: r.rtlVsModel, cycles: r.cycles, latency: r.firstOutput, first: r.first };
  },

  async verifyCase(c: Record<string, unknown>, index: number, options: VerifyOptions): Promise<CaseReport> {
    const { spec, problem, expect, expectAcc } = caseProblem(c, options.hardware);
    const p = integerProblem(spec, problem);
    const r = await runProblem(spec, p, options.workDir, options);
    let modelVsExpect = 0;
    let maxAbsDiff = 0;
    let accVsExpect = 0;
    r.model.out.forEach((row, i) => row.forEach((v, j) => {
      const diff = Math.abs(Number(v) - expect[i]![j]!);
      if (diff !== 0) modelVsExpect++;
      maxAbsDiff = Math.max(maxAbsDiff, diff);
      if (r.model.acc[i]![j]! !== BigInt(expectAcc[i]![j]!)) accVsExpect++;
    }));
    return {
      block: 'gemm',
      index,
      // The m x n results; rtl_vs_model also counts any padding beat or missing/extra beat that differs.
      elements: expect.length * (expect[0]?.length ?? 0),
      rtl_vs_model: r.rtlVsModel,
      model_vs_expect: modelVsExpect,
      max_abs_diff: maxAbsDiff,
      acc_vs_expect: accVsExpect,
    };
  },
};

export default gemmBlock;
