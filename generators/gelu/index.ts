/**
 * The GELU block: spec -> RTL, testbench, default program and vectors; verification of the RTL against the golden
 * model on a seeded default stimulus (two layers back to back) and on the GELU step of encoder cases.
 */
import type { Block, CaseReport, DefaultReport, VerifyOptions } from '../block.ts';
import { toUnsigned } from '../common/arith.ts';
import { againstReference, reportsPerCase } from '../common/instance.ts';
import { mergeFileSets, type FileSet } from '../common/files.ts';
import { programBeats, programFiles } from '../common/program.ts';
import { emitTestbench, runTiming, simulateAndCompare, type Beat, type SimHarness, type SimOptions } from '../common/sim.ts';
import { readEncoderCase, type EncoderCase } from '../encoder/case.ts';
import { accumulate } from '../gemm/model.ts';
import { mulberry32 } from '../common/random.ts';
import { SpecError } from '../common/errors.ts';
import { packLanes, tokenCodes } from '../common/lanes.ts';
import { geluStream, streamChannels, type GeluBeat, type GeluLayer } from './model.ts';
import { geluProgram, type GeluProgram } from './program.ts';
import { emitGeluRtl, geluTop } from './rtl.ts';
import { GELU_MAX_BITS, resolveGelu, type GeluSpec } from './spec.ts';

/** One layer of a run: its program and the accumulators that use it. */
export interface GeluRun {
  program: GeluProgram;
  beats: GeluBeat[];
}

/**
 * A seeded synthetic layer whose accumulators of about 2^(accWidth - 5) span y in about [-12, 12] (so both branches
 * and most codes occur), per-channel w_scale within a factor 4, biases within +-1.
 */
export function syntheticLayer(spec: GeluSpec, channels: number, seed: number): GeluLayer {
  const rnd = mulberry32(seed);
  const bits = spec.params.bits;
  const outScale = (4 + rnd() * 4) / 2 ** bits;
  const aScale = 0.02 + rnd() * 0.05;
  const typical = 2 ** Math.max(1, spec.derived.accWidth - 5);
  return {
    aScale,
    wScale: Array.from({ length: channels }, () => ((6 + rnd() * 18) / typical) / aScale),
    bias: Array.from({ length: channels }, () => (rnd() - 0.5) * 2),
    outScale,
    outZeroPoint: Math.min(2 ** bits - 1, Math.round(0.17 / outScale) + Math.floor(rnd() * 3)),
  };
}

/** `tokens` tokens of accumulators: mostly within the layer's interesting range, some at the extremes. */
export function randomAccs(spec: GeluSpec, channels: number, tokens: number, seed: number): GeluBeat[] {
  const rnd = mulberry32(seed);
  const w = spec.derived.accWidth;
  const lo = -(2 ** (w - 1));
  const hi = 2 ** (w - 1) - 1;
  const typical = 2 ** Math.max(1, w - 5);
  const beats: GeluBeat[] = [];
  for (let t = 0; t < tokens; t++) {
    for (let c = 0; c < channels; c++) {
      const r = rnd();
      const acc = r < 0.05 ? lo : r < 0.1 ? hi : r < 0.2 ? Math.floor(lo + rnd() * (hi - lo + 1)) : Math.round((rnd() - 0.5) * 2 * typical);
      beats.push({ acc: BigInt(acc), last: c === channels - 1 });
    }
  }
  return beats;
}

/** The default layer: min(max_channels, 16) channels. */
export function defaultLayer(spec: GeluSpec, seed = 1): GeluLayer {
  return syntheticLayer(spec, Math.min(spec.params.max_channels, 16), seed);
}

/** The default stimulus: two different layers back to back, a few tokens each. */
export function defaultRuns(spec: GeluSpec, seed = 1): GeluRun[] {
  return [seed, seed + 1].map((s, i) => {
    const layer = i === 0 ? defaultLayer(spec, s) : syntheticLayer(spec, Math.max(1, Math.min(spec.params.max_channels, 5)), s);
    return { program: geluProgram(spec, layer), beats: randomAccs(spec, layer.wScale.length, 4, s + 100) };
  });
}

/** A run's elements packed into beats of `lanes` words (common/lanes.ts), by the model's channel count. */
function packRun<T>(r: GeluRun, values: readonly T[], lanes: number, width: number, word: (v: T) => bigint): Beat[] {
  const channels = streamChannels(r.beats, r.program.integers.channels);
  return packLanes(values.map((v, i) => ({ v, last: r.beats[i]!.last })), channels, lanes, (e) => word(e.v), (e) => e.last, width);
}

/** The golden model's output beats (lanes codes a beat; 0 in the unused words of a partial beat). */
export function expectedBeats(spec: GeluSpec, runs: readonly GeluRun[]): Beat[] {
  return runs.flatMap((r) => packRun(r, geluStream(r.program.integers, r.beats, spec.params.bits), spec.params.lanes, spec.params.bits, (code) => BigInt(code)));
}

/** The simulation harness: program k at epoch 2k, its accumulators at 2k + 1. */
export function geluHarness(spec: GeluSpec, runs: readonly GeluRun[], rtl: FileSet = emitGeluRtl(spec)): SimHarness {
  const w = spec.derived.accWidth;
  const cfg = runs.flatMap((r, k) => programBeats(r.program, 2 * k));
  const lanes = spec.params.lanes;
  const data = runs.flatMap((r, k) => packRun(r, r.beats, lanes, w, (b) => toUnsigned(b.acc, w)).map((b) => ({ ...b, epoch: 2 * k + 1 })));
  return {
    dut: geluTop(spec),
    params: [],
    rtl: new Map([...rtl].filter(([p]) => p.endsWith('.v'))),
    inputs: [
      { prefix: 's_cfg_axis', width: spec.derived.zWidth, beats: cfg },
      { prefix: 's_axis', width: lanes * w, beats: data },
    ],
    output: { prefix: 'm_axis', width: lanes * spec.params.bits, expectedBeats: data.length },
    maxCycles: 2 * (data.length * spec.derived.elementPeriod + cfg.length) + runs.length * (spec.derived.latency + 8) + 100,
    statusWidth: 4,
  };
}

function describeBeat(spec: GeluSpec, runs: readonly GeluRun[]): (i: number) => string {
  const lanes = spec.params.lanes;
  const where: string[] = [];
  runs.forEach((r, k) => {
    const ch = streamChannels(r.beats, r.program.integers.channels);
    r.beats.forEach((b, i) => {
      if (ch[i]! % lanes === 0) where.push(`beat ${where.length} (layer ${k}, channel ${ch[i]}, acc ${b.acc}${lanes > 1 ? ' in lane 0' : ''})`);
    });
  });
  return (i) => where[i] ?? `beat ${i}`;
}

/** Simulates runs and compares with the golden model (simulateAndCompare prints the first difference). */
export async function runGelu(spec: GeluSpec, runs: readonly GeluRun[], workDir: string, options: SimOptions = {}) {
  const expected = expectedBeats(spec, runs);
  const { result, comparison } = await simulateAndCompare(geluHarness(spec, runs), workDir, options, expected, describeBeat(spec, runs));
  return { expected, result, comparison };
}

/** The GELU step of an encoder case: fc1's accumulators from the reference's norm2_out, its layer, the reference codes. */
export function encoderGeluStep(c: EncoderCase): { layer: GeluLayer; beats: GeluBeat[]; expect: number[][] } {
  const acc = accumulate(c.intermediate.norm2_out, c.layers.fc1.w, c.quantizers.norm2_out.zeroPoint);
  return {
    layer: {
      aScale: c.quantizers.norm2_out.scale, wScale: c.layers.fc1.wScale, bias: c.layers.fc1.bias,
      outScale: c.quantizers.fc1_act.scale, outZeroPoint: c.quantizers.fc1_act.zeroPoint,
    },
    beats: acc.flatMap((row) => row.map((a, n) => ({ acc: a, last: n === row.length - 1 }))),
    expect: c.intermediate.fc1_act,
  };
}

/**
 * The spec an encoder case needs (its widths, K = dim, mlp_hidden channels), with the default multiplier width, or
 * the narrowest wider one whose exactness proof holds for this case's layer when the default's does not.
 */
export function specForCase(c: EncoderCase, layer: GeluLayer = encoderGeluStep(c).layer, hardware: VerifyOptions['hardware'] = {}): GeluSpec {
  return specFitting(c.aBits, { ...hardware, bits: c.aBits, w_bits: c.wBits, max_k: c.dim, max_channels: c.mlpHidden }, [layer]);
}

/** The spec of `overrides`, with mult_bits raised (in steps of 4, up to 64) until every layer's program is proven. */
export function specFitting(bits: number, overrides: Readonly<Record<string, unknown>>, layers: readonly GeluLayer[]): GeluSpec {
  let spec = resolveGelu(bits, overrides);
  for (;;) {
    try {
      for (const layer of layers) geluProgram(spec, layer);
      return spec;
    } catch (e) {
      if (!(e instanceof SpecError) || spec.params.mult_bits >= 64) throw e;
      spec = resolveGelu(bits, { ...overrides, mult_bits: Math.min(64, spec.params.mult_bits + 4) });
    }
  }
}

/**
 * verify --one-instance: one instance per distinct (a_bits, w_bits) among the encoder cases, sized for the longest
 * K and the most channels of its cases; every case's GELU step back to back in one simulation, each program loaded
 * before its data.
 */
export async function verifyGeluOneInstance(cases: ReadonlyArray<{ index: number; vectorCase: Record<string, unknown> }>, options: VerifyOptions): Promise<{ instances: number; reports: CaseReport[] }> {
  const read = cases.map((c) => ({ index: c.index, c: readEncoderCase(c.vectorCase) }));
  const groups = new Map<string, typeof read>();
  for (const r of read) { const key = `${r.c.aBits}/${r.c.wBits}`; groups.set(key, [...(groups.get(key) ?? []), r]); }
  const reports: CaseReport[] = [];
  let g = 0;
  for (const members of groups.values()) {
    const first = members[0]!.c;
    const spec = specFitting(first.aBits, {
      ...options.hardware, w_bits: first.wBits, max_k: Math.max(...members.map((m) => m.c.dim)), max_channels: Math.max(...members.map((m) => m.c.mlpHidden)),
    }, members.map((m) => encoderGeluStep(m.c).layer));
    const perCase = members.map((m) => {
      const step = encoderGeluStep(m.c);
      return { m, run: { program: geluProgram(spec, step.layer), beats: step.beats }, reference: step.expect.flat() };
    });
    const { expected, result } = await runGelu(spec, perCase.map((p) => p.run), `${options.workDir}/instance-${g++}`, options);
    const { lanes, bits } = spec.params;
    reports.push(...reportsPerCase('gelu', perCase.map((p) => ({
      index: p.m.index, count: p.m.c.tokens * Math.ceil(p.m.c.mlpHidden / lanes), reference: p.reference,
      codes: (beats: readonly Beat[]) => tokenCodes(beats, lanes, bits, p.m.c.mlpHidden),
    })), expected, result.beats));
  }
  return { instances: groups.size, reports: reports.sort((a, b) => a.index - b.index) };
}

export const geluBlock: Block<GeluSpec> = {
  name: 'gelu',
  caseBlock: 'encoder',
  caseHardware: ['lanes', 'datapath'],
  summary: 'GELU requantizer (fc1 accumulator -> fc1_act code): exact against the erf-based formula, comparisons only (proven per layer), one element per cycle, layer as a run-time program',
  tolerance: { maxAbsDiff: 0, maxMismatchFraction: 0, reason: "exact: every fc1_act code equals the exact formula clamp(round_half_even(GELU(acc·s_a·s_w + bias) / s_act) + zp) on the reference's own fc1 accumulators (the generator proves the program per channel)" },
  maxBits: GELU_MAX_BITS,
  resolve: resolveGelu,
  generate(spec) {
    const rtl = emitGeluRtl(spec);
    const runs = defaultRuns(spec);
    const harness = geluHarness(spec, runs, rtl);
    // The testbench checks itself against the golden model's beats (vectors/expected.hex).
    const tb = emitTestbench({ ...harness, output: { ...harness.output, expected: expectedBeats(spec, runs) } }, { stallPercent: 20, seed: 1 });
    const files: FileSet = new Map([...rtl].map(([p, t]) => [`rtl/${p}`, t]));
    return mergeFileSets(files, tb, programFiles('program/default', runs[0]!.program));
  },
  async verifyDefault(spec, options: VerifyOptions): Promise<DefaultReport> {
    const runs = defaultRuns(spec, options.seed ?? 1);
    const { expected, result, comparison } = await runGelu(spec, runs, options.workDir, options);
    return { block: 'gelu', module: geluTop(spec), elements: expected.length, rtl_vs_model: comparison.mismatches, ...runTiming(result), first: comparison.first };
  },
  async verifyCase(vectorCase, index, options: VerifyOptions): Promise<CaseReport> {
    const c = readEncoderCase(vectorCase);
    const step = encoderGeluStep(c);
    const spec = specForCase(c, step.layer, options.hardware);
    const runs = [{ program: geluProgram(spec, step.layer), beats: step.beats }];
    const { expected, comparison } = await runGelu(spec, runs, options.workDir, options);
    const reference = step.expect.flat();
    const ref = againstReference(tokenCodes(expected, spec.params.lanes, spec.params.bits, c.mlpHidden), reference);
    return { block: 'gelu', index, elements: reference.length, rtl_vs_model: comparison.mismatches, model_vs_expect: ref.mismatches, max_abs_diff: ref.maxAbsDiff, first: comparison.first };
  },
  verifyOneInstance: verifyGeluOneInstance,
};

export default geluBlock;
