/**
 * The residual block: spec -> RTL, testbench, default program and vectors; verification of the RTL against the
 * golden model on a seeded default stimulus (two layers back to back) and on the residual steps of encoder cases.
 */
import type { Block, CaseReport, DefaultReport, VerifyOptions } from '../block.ts';
import { readEncoderCase } from '../encoder/case.ts';
import { againstReference, reportsPerCase } from '../common/instance.ts';
import { mergeFileSets, type FileSet } from '../common/files.ts';
import { programBeats, programFiles, type Program } from '../common/program.ts';
import { emitTestbench, runTiming, simulateAndCompare, type Beat, type SimHarness, type SimOptions } from '../common/sim.ts';
import { mulberry32 } from '../common/random.ts';
import { packLanes, tokenCodes } from '../common/lanes.ts';
import { residualChannels, residualStream, type ResidualBeat, type ResidualLayer, type ResidualProgramValues } from './model.ts';
import { residualProgram } from './program.ts';
import { emitResidualRtl, residualTop } from './rtl.ts';
import { resolveResidual, type ResidualSpec } from './spec.ts';

/** One layer of a run: its program and the elements that use it. */
export interface ResidualRun {
  program: Program & { integers: ResidualProgramValues };
  beats: ResidualBeat[];
}

/**
 * A seeded synthetic layer of `channels` channels: scales near 2^-bits * 8 (with `mantissa` significant bits, so
 * that narrow const_bits fit; float64 ones by default), random alphas and zero points.
 */
export function syntheticLayer(bits: number, channels: number, seed: number, mantissa = 53): ResidualLayer {
  const rnd0 = mulberry32(seed);
  const rnd = () => { const v = 0.5 + rnd0() / 2; const f = 2 ** mantissa; return (Math.round(v * f) / f - 0.5) * 2; };
  const top = 2 ** bits;
  const base = 8 / top;
  // An integer 0 .. n - 1 (rnd() can be 1 once rounded to `mantissa` bits)
  const below = (n: number) => Math.min(n - 1, Math.floor(rnd() * n));
  const alphas = () => Array.from({ length: channels }, () => below(4));
  return {
    xScaleMin: base * (0.5 + rnd()), xAlpha: alphas(), xZeroPoint: below(top),
    yScale: base * (0.5 + rnd() * 2), yZeroPoint: below(top),
    outScaleMin: base * (0.5 + rnd()), outAlpha: alphas(), outZeroPoint: below(top),
  };
}

/** `tokens` tokens of random codes (one token at the extremes). */
export function randomTokens(bits: number, channels: number, tokens: number, seed: number): ResidualBeat[] {
  const rnd = mulberry32(seed);
  const top = 2 ** bits;
  const beats: ResidualBeat[] = [];
  for (let t = 0; t < tokens; t++) {
    for (let c = 0; c < channels; c++) {
      const pick = () => (t === 0 ? (rnd() < 0.5 ? 0 : top - 1) : Math.floor(rnd() * top));
      beats.push({ x: pick(), y: pick(), last: c === channels - 1 });
    }
  }
  return beats;
}

/** Significant bits of the default layers' scales: float64's 53 where const_bits allows (8 bits of room for their ratios). */
function defaultMantissa(spec: ResidualSpec): number {
  return Math.min(53, spec.params.const_bits - 8);
}

/** The default layer of a spec: min(max_channels, 16) channels. */
export function defaultLayer(spec: ResidualSpec, seed = 1): ResidualLayer {
  return syntheticLayer(spec.params.bits, Math.min(spec.params.max_channels, 16), seed, defaultMantissa(spec));
}

/** The default stimulus: two different layers back to back, a few tokens each. */
export function defaultRuns(spec: ResidualSpec, seed = 1): ResidualRun[] {
  const bits = spec.params.bits;
  return [seed, seed + 1].map((s, i) => {
    const layer = i === 0 ? defaultLayer(spec, s) : syntheticLayer(bits, Math.max(1, Math.min(spec.params.max_channels, 5)), s, defaultMantissa(spec));
    return { program: residualProgram(spec, layer), beats: randomTokens(bits, layer.xAlpha.length, 4, s + 100) };
  });
}

/** A run's elements packed into beats of `lanes` words (common/lanes.ts), by the model's channel count. */
function packRun<T>(spec: ResidualSpec, r: ResidualRun, values: readonly T[], word: (v: T) => bigint): Beat[] {
  const channels = residualChannels(r.beats, r.program.integers.channels);
  return packLanes(values.map((v, i) => ({ v, last: r.beats[i]!.last })), channels, spec.params.lanes, (e) => word(e.v), (e) => e.last, spec.params.bits);
}

/** The golden model's output beats of a run list (lanes codes a beat; 0 in the unused words of a partial beat). */
export function expectedBeats(spec: ResidualSpec, runs: readonly ResidualRun[]): Beat[] {
  return runs.flatMap((r) => packRun(spec, r, residualStream(r.program.integers, r.beats, spec.params.bits), (code) => BigInt(code)));
}

/** The simulation harness: program k at epoch 2k, its elements at 2k + 1, on three input streams. */
export function residualHarness(spec: ResidualSpec, runs: readonly ResidualRun[], rtl: FileSet = emitResidualRtl(spec)): SimHarness {
  const bits = spec.params.bits;
  const cfg = runs.flatMap((r, k) => programBeats(r.program, 2 * k));
  const x = runs.flatMap((r, k) => packRun(spec, r, r.beats, (b) => BigInt(b.x)).map((b) => ({ ...b, epoch: 2 * k + 1 })));
  const y = runs.flatMap((r, k) => packRun(spec, r, r.beats, (b) => BigInt(b.y)).map((b) => ({ ...b, epoch: 2 * k + 1 })));
  const elements = x.length;
  const width = spec.params.lanes * bits;
  return {
    dut: residualTop(spec),
    params: [],
    rtl: new Map([...rtl].filter(([p]) => p.endsWith('.v'))),
    inputs: [
      { prefix: 's_cfg_axis', width: spec.derived.cfgWidth, beats: cfg },
      { prefix: 's_x_axis', width, beats: x },
      { prefix: 's_y_axis', width, beats: y },
    ],
    output: { prefix: 'm_axis', width, expectedBeats: elements },
    maxCycles: 2 * (elements * spec.derived.elementPeriod + cfg.length) + runs.length * (spec.derived.latency + 8) + 100,
    statusWidth: 4,
  };
}

function describeBeat(spec: ResidualSpec, runs: readonly ResidualRun[]): (i: number) => string {
  const where: string[] = [];
  runs.forEach((r, k) => {
    const channels = residualChannels(r.beats, r.program.integers.channels);
    let t = 0;
    r.beats.forEach((b, i) => {
      const c = channels[i]!;
      if (c % spec.params.lanes === 0) where.push(`beat ${where.length} (layer ${k}, token ${t}, channel ${c}, x ${b.x}, y ${b.y}${spec.params.lanes > 1 ? ' in lane 0' : ''})`);
      if (channels[i + 1] === 0) t++;
    });
  });
  return (i) => where[i] ?? `beat ${i}`;
}

/** Simulates runs and compares with the golden model (simulateAndCompare prints the first difference). */
export async function runResidual(spec: ResidualSpec, runs: readonly ResidualRun[], workDir: string, options: SimOptions = {}) {
  const expected = expectedBeats(spec, runs);
  const { result, comparison } = await simulateAndCompare(residualHarness(spec, runs), workDir, options, expected, describeBeat(spec, runs));
  return { expected, result, comparison };
}

/** The two residual steps of an encoder case (resid1 = in + proj_out, resid2 = resid1 + fc2_out), on its own inputs. */
export function encoderResidualSteps(c: ReturnType<typeof readEncoderCase>) {
  const q = c.quantizers;
  const layer = (x: 'in' | 'resid1', y: 'proj_out' | 'fc2_out', o: 'resid1' | 'resid2'): ResidualLayer => ({
    xScaleMin: q[x].scaleMin, xAlpha: q[x].alpha, xZeroPoint: q[x].zeroPoint,
    yScale: q[y].scale, yZeroPoint: q[y].zeroPoint,
    outScaleMin: q[o].scaleMin, outAlpha: q[o].alpha, outZeroPoint: q[o].zeroPoint,
  });
  const beats = (xs: number[][], ys: number[][]) => xs.flatMap((row, t) => row.map((x, ch) => ({ x, y: ys[t]![ch]!, last: ch === row.length - 1 })));
  return [
    { name: 'resid1', layer: layer('in', 'proj_out', 'resid1'), beats: beats(c.inputs, c.intermediate.proj_out), expect: c.intermediate.resid1 },
    { name: 'resid2', layer: layer('resid1', 'fc2_out', 'resid2'), beats: beats(c.intermediate.resid1, c.intermediate.fc2_out), expect: c.intermediate.resid2 },
  ];
}

/**
 * verify --one-instance: one instance per distinct code width among the encoder cases, sized for the most channels
 * of its cases; every case's two residual steps (resid1, then resid2) back to back in one simulation, each program
 * loaded before its data.
 */
export async function verifyResidualOneInstance(cases: ReadonlyArray<{ index: number; vectorCase: Record<string, unknown> }>, options: VerifyOptions): Promise<{ instances: number; reports: CaseReport[] }> {
  const read = cases.map((c) => ({ index: c.index, c: readEncoderCase(c.vectorCase) }));
  const groups = new Map<number, typeof read>();
  for (const r of read) groups.set(r.c.aBits, [...(groups.get(r.c.aBits) ?? []), r]);
  const reports: CaseReport[] = [];
  let g = 0;
  for (const [bits, members] of [...groups].sort(([a], [b]) => a - b)) {
    const spec = resolveResidual(bits, { ...options.hardware, max_channels: Math.max(...members.map((m) => m.c.dim)) });
    const perCase = members.map((m) => {
      const steps = encoderResidualSteps(m.c);
      return { m, runs: steps.map((s) => ({ program: residualProgram(spec, s.layer), beats: s.beats })), reference: steps.flatMap((s) => s.expect.flat()) };
    });
    const runs = perCase.flatMap((p) => p.runs);
    const { expected, result } = await runResidual(spec, runs, `${options.workDir}/instance-${g++}`, options);
    const { lanes } = spec.params;
    reports.push(...reportsPerCase('residual', perCase.map((p) => ({
      // Two steps (resid1, resid2) of N tokens of C codes each
      index: p.m.index, count: 2 * p.m.c.tokens * Math.ceil(p.m.c.dim / lanes), reference: p.reference,
      codes: (beats: readonly Beat[]) => tokenCodes(beats, lanes, bits, p.m.c.dim),
    })), expected, result.beats));
  }
  return { instances: groups.size, reports: reports.sort((a, b) => a.index - b.index) };
}

export const residualBlock: Block<ResidualSpec> = {
  name: 'residual',
  caseBlock: 'encoder',
  caseHardware: ['lanes', 'datapath'],
  summary: 'residual add with PTF requantization (x + y between PTF quantizers): exact integer division by restoring steps, one element per cycle, layer as a run-time program',
  tolerance: { maxAbsDiff: 0, maxMismatchFraction: 0, reason: "exact: every resid code equals the exact rational formula on the reference's own inputs (the float64 scales are exact dyadic rationals)" },
  resolve: resolveResidual,
  generate(spec) {
    const rtl = emitResidualRtl(spec);
    const runs = defaultRuns(spec);
    const harness = residualHarness(spec, runs, rtl);
    // The testbench checks itself against the golden model's beats (vectors/expected.hex).
    const tb = emitTestbench({ ...harness, output: { ...harness.output, expected: expectedBeats(spec, runs) } }, { stallPercent: 20, seed: 1 });
    const files: FileSet = new Map([...rtl].map(([p, t]) => [`rtl/${p}`, t]));
    return mergeFileSets(files, tb, programFiles('program/default', runs[0]!.program));
  },
  async verifyDefault(spec, options: VerifyOptions): Promise<DefaultReport> {
    const runs = defaultRuns(spec, options.seed ?? 1);
    const { expected, result, comparison } = await runResidual(spec, runs, options.workDir, options);
    return { block: 'residual', module: residualTop(spec), elements: expected.length, rtl_vs_model: comparison.mismatches, ...runTiming(result), first: comparison.first };
  },
  async verifyCase(vectorCase, index, options: VerifyOptions): Promise<CaseReport> {
    const c = readEncoderCase(vectorCase);
    const spec = resolveResidual(c.aBits, { ...options.hardware, max_channels: c.dim });
    const steps = encoderResidualSteps(c);
    const runs = steps.map((s) => ({ program: residualProgram(spec, s.layer), beats: s.beats }));
    const { expected, comparison } = await runResidual(spec, runs, options.workDir, options);
    const reference = steps.flatMap((s) => s.expect.flat());
    const ref = againstReference(tokenCodes(expected, spec.params.lanes, c.aBits, c.dim), reference);
    return { block: 'residual', index, elements: reference.length, rtl_vs_model: comparison.mismatches, model_vs_expect: ref.mismatches, max_abs_diff: ref.maxAbsDiff, first: comparison.first };
  },
  verifyOneInstance: verifyResidualOneInstance,
};

export default residualBlock;
