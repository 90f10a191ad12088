/**
 * The LayerNorm block: spec → RTL, testbench and vectors; the default stimulus and the vector cases run through the
 * golden model and the RTL (Icarus), and the vector cases also through the PTF calibration.
 */
import type { Block, CaseReport, DefaultReport, VerifyOptions } from '../block.ts';
import { programBeats, programFiles } from '../common/program.ts';
import { maxUnsigned } from '../common/arith.ts';
import { UsageError } from '../common/errors.ts';
import { mergeFileSets, type FileSet } from '../common/files.ts';
import { compareBeats, emitTestbench, runTiming, simulateAndCompare, type Beat, type SimHarness } from '../common/sim.ts';
import { intMatrix } from '../common/vectors.ts';
import { calibratePtf } from './calibrate.ts';
import { layernormToken, layernormTokenUnclamped, type ModelLayer } from './model.ts';
import { cyclesPerToken, tokenBeatCount, elementLatency, emitLayernormRtl, layernormManifest, layernormProgram, programLayout, STATUS_ERRORS, statsStages, tokenUnitCycles, topName } from './rtl.ts';
import { resolveLayernorm, type LayernormSpec } from './spec.ts';
import { mulberry32 } from '../common/random.ts';
import { packLanes } from '../common/lanes.ts';

export function modelLayer(spec: LayernormSpec): ModelLayer {
  return {
    bits: spec.bits,
    zeroPoint: spec.layer.zeroPoint,
    outZeroPoint: spec.layer.outZeroPoint,
    channels: spec.constants,
    precision: spec.derived.precision,
  };
}

/** Output codes of the golden model for tokens of codes. */
export function modelOutputs(spec: LayernormSpec, tokens: readonly (readonly number[])[]): bigint[][] {
  const layer = modelLayer(spec);
  return tokens.map((t) => layernormToken(t, layer));
}

/** y before the output zero point and the clamp, for diagnosis. */
export function modelUnclamped(spec: LayernormSpec, tokens: readonly (readonly number[])[]): bigint[][] {
  const layer = modelLayer(spec);
  return tokens.map((t) => layernormTokenUnclamped(t, layer));
}

/**
 * Cycles from the first accepted input beat to the first output beat with no stalls (any token with var > 0: the
 * token unit takes the same time for every one): ceil(C / lanes) beats in, the stats pipeline, the token unit, the
 * element pipeline.
 */
export function latencyCycles(spec: LayernormSpec, channels = spec.channels): number {
  return tokenBeatCount(spec, channels) - 1 + statsStages(spec) + tokenUnitCycles(spec) + elementLatency(spec);
}

/**
 * The seeded default stimulus: tokens drawn around the zero point with several spreads, plus the edge tokens (a
 * constant token, all zeros, all maximum codes, alternating extremes, one outlier).
 */
export function defaultTokens(spec: LayernormSpec, count = 8, seed = 1): number[][] {
  const rnd = mulberry32(seed * 7919 + spec.channels);
  const qmax = Number(maxUnsigned(spec.bits));
  const C = spec.channels;
  const zp = spec.layer.zeroPoint;
  const clampCode = (v: number) => Math.max(0, Math.min(qmax, Math.round(v)));
  const tokens: number[][] = [];
  const edges: number[][] = [
    new Array<number>(C).fill(zp),
    new Array<number>(C).fill(0),
    new Array<number>(C).fill(qmax),
    Array.from({ length: C }, (_, c) => (c % 2 ? qmax : 0)),
    Array.from({ length: C }, (_, c) => (c === C - 1 ? qmax : 0)),
  ];
  for (let t = 0; t < count; t++) {
    if (t % 3 === 2 && edges.length) { tokens.push(edges.shift()!); continue; }
    const spread = [qmax / 2, qmax / 6, 1.5][t % 3]!;
    tokens.push(Array.from({ length: C }, () => clampCode(zp + (rnd() - 0.5) * 2 * spread)));
  }
  return [...tokens, ...edges];
}

/** The hardware's beat shape: `lanes` codes of `bits` a beat (common/lanes.ts). */
export type LaneShape = Pick<LayernormSpec, 'lanes' | 'bits'>;

/** A token's codes as beats of `lanes` codes, channel lanes·b + l in word l of beat b, tlast on its last beat. */
function packToken<T>(hw: LaneShape, codes: readonly T[], word: (v: T) => bigint): Beat[] {
  return packLanes(codes.map((v, c) => ({ v, c })), codes.map((_, c) => c), hw.lanes, (e) => word(e.v), (e) => e.c === codes.length - 1, hw.bits);
}

/** Input beats of tokens (a token of any length: its last beat carries tlast; unused words of a partial beat are 0). */
export function tokenBeats(hw: LaneShape, tokens: readonly (readonly number[])[]): Beat[] {
  return tokens.flatMap((t) => packToken(hw, t, (q) => BigInt(q)));
}

/** Output beats of the model's tokens (0 in the unused words of a token's partial last beat). */
export function outputBeats(hw: LaneShape, outputs: readonly (readonly bigint[])[]): Beat[] {
  return outputs.flatMap((t) => packToken(hw, t, (y) => y));
}

/** One layer's stretch of a stream: its program (spec) and the tokens that use it. */
export interface LayerSegment {
  spec: LayernormSpec;
  tokens: readonly (readonly number[])[];
}

/** Whether two specs describe the same hardware (one instance runs both layers). */
export function sameHardware(a: LayernormSpec, b: LayernormSpec): boolean {
  return a.bits === b.bits && a.maxChannels === b.maxChannels && a.lanes === b.lanes && a.rsqrtBits === b.rsqrtBits && a.scaleRatioBits === b.scaleRatioBits && a.maxTokenUnits === b.maxTokenUnits && a.datapath === b.datapath && a.prefix === b.prefix;
}

/**
 * A harness from raw streams: program beats on s_cfg_axis and data beats on s_axis (with their epochs), the output
 * beat count expected, and a bound on the run's length. Tests of the error guards build their streams with it.
 */
export function rawHarness(hw: LayernormSpec, cfg: Beat[], data: Beat[], expectedBeats: number, maxCycles: number): SimHarness {
  return {
    dut: topName(hw),
    params: [],
    rtl: emitLayernormRtl(hw),
    inputs: [
      { prefix: 's_cfg_axis', width: programLayout(hw).wordWidth, beats: cfg },
      { prefix: 's_axis', width: hw.lanes * hw.bits, beats: data },
    ],
    output: { prefix: 'm_axis', width: hw.lanes * hw.bits, expectedBeats },
    maxCycles,
    statusWidth: STATUS_ERRORS.length,
  };
}

/** Cycles a stretch of tokens may take with no stalls: its program, every token at the steady pace, the latency. */
function segmentCycles(hw: LayernormSpec, channels: number, tokens: number): number {
  return channels + 1 + Math.ceil((tokens + 1) * cyclesPerToken(hw, channels)) + latencyCycles(hw, channels) + 100;
}

/**
 * Layers back to back on one instance (the first segment's hardware): program k at epoch 2k, then its tokens at epoch
 * 2k + 1, so each program is loaded between the tokens of the layer before and those of its own.
 */
export function layersHarness(segments: readonly LayerSegment[]): SimHarness {
  const hw = segments[0]!.spec;
  for (const s of segments) {
    if (!sameHardware(hw, s.spec)) throw new Error('layernorm: every layer of one stream must run on the same hardware (bits, max_channels, lanes, max_token_units, datapath, scale_ratio_bits, rsqrt_bits, prefix)');
    if (s.tokens.length === 0) throw new Error('layernorm: a layer segment needs at least one token');
  }
  const cfg = segments.flatMap((s, k) => programBeats(layernormProgram(s.spec), 2 * k));
  const data = segments.flatMap((s, k) => tokenBeats(hw, s.tokens).map((b) => ({ ...b, epoch: 2 * k + 1 })));
  const expected = segments.reduce((n, s) => n + s.tokens.length * tokenBeatCount(hw, s.spec.channels), 0);
  const cycles = segments.reduce((n, s) => n + segmentCycles(hw, s.spec.channels, s.tokens.length), 0);
  return rawHarness(hw, cfg, data, expected, cycles);
}

/** One layer: its program, then its tokens. */
export function layernormHarness(spec: LayernormSpec, tokens: readonly (readonly number[])[]): SimHarness {
  return layersHarness([{ spec, tokens }]);
}

export function generateLayernorm(spec: LayernormSpec): FileSet {
  const rtl = emitLayernormRtl(spec);
  const files: FileSet = new Map([...rtl].map(([p, t]) => [`rtl/${p}`, t]));
  files.set('rtl/manifest.json', layernormManifest(spec, rtl, latencyCycles(spec)));
  for (const [p, t] of programFiles('program/default', layernormProgram(spec))) files.set(p, t);
  const tokens = defaultTokens(spec);
  const harness = layernormHarness(spec, tokens);
  // The testbench checks itself against the golden model's beats (vectors/expected.hex).
  const expected = outputBeats(spec, modelOutputs(spec, tokens));
  const tb = emitTestbench({ ...harness, output: { ...harness.output, expected } }, { stallPercent: 20, seed: 1 });
  return mergeFileSets(files, tb);
}

/** Simulates layers back to back (segments) through one instance and compares with the golden model. */
export async function runLayers(segments: readonly LayerSegment[], options: VerifyOptions) {
  const outputs = segments.map((s) => outputBeats(s.spec, modelOutputs(s.spec, s.tokens)));
  const expected = outputs.flat();
  const where: Array<{ segment: number; start: number }> = [];
  let start = 0;
  outputs.forEach((o, segment) => { where.push({ segment, start }); start += o.length; });
  const describe = (i: number) => {
    const seg = [...where].reverse().find((w) => w.start <= i) ?? where[0]!;
    const s = segments[seg.segment]!;
    const j = i - seg.start;
    const B = tokenBeatCount(s.spec);
    const [t, c] = [Math.floor(j / B), (j % B) * s.spec.lanes];
    const lanes = s.spec.lanes > 1 ? `beat ${j % B}: channels ${c}..${Math.min(c + s.spec.lanes, s.spec.channels) - 1}, lane 0's` : `channel ${c}`;
    return `${segments.length > 1 ? `layer ${seg.segment} ` : ''}token ${t} ${lanes} (input code ${s.tokens[t]?.[c] ?? '?'})`;
  };
  const { result, comparison } = await simulateAndCompare(layersHarness(segments), options.workDir, options, expected, describe);
  if (result.timedOut) comparison.mismatches = Math.max(comparison.mismatches, 1);
  // Per segment: its stretch of the output against its model outputs.
  const perSegment = outputs.map((o, k) => {
    const from = where[k]!.start;
    return compareBeats(o, result.beats.slice(from, from + o.length)).mismatches + (result.timedOut ? 1 : 0);
  });
  return { expected, result, comparison, perSegment };
}

/** Simulates tokens of one layer through the RTL (its program first) and compares with the golden model. */
export async function runTokens(spec: LayernormSpec, tokens: readonly (readonly number[])[], options: VerifyOptions) {
  return runLayers([{ spec, tokens }], options);
}

async function verifyDefault(spec: LayernormSpec, options: VerifyOptions): Promise<DefaultReport> {
  const tokens = defaultTokens(spec, 8, options.seed ?? 1);
  const { expected, result, comparison } = await runTokens(spec, tokens, options);
  return { block: 'layernorm', module: topName(spec), elements: expected.length, rtl_vs_model: comparison.mismatches, ...runTiming(result), first: comparison.first };
}

function num(c: Record<string, unknown>, field: string): number {
  const v = c[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`layernorm vector case field ${field} must be a number`);
  return v;
}

/**
 * The spec of a vector case: its layer as a --spec "layernorm" section, on hardware for up to maxChannels channels,
 * with the hardware choices of verify --vectors --spec (caseHardware: lanes, datapath, max_token_units).
 */
export function specOfCase(c: Record<string, unknown>, maxChannels?: number, hardware: VerifyOptions['hardware'] = {}): LayernormSpec {
  return resolveLayernorm(num(c, 'in_bits'), {
    ...hardware,
    channels: num(c, 'channels'),
    ...(maxChannels === undefined ? {} : { max_channels: maxChannels }),
    in_scale_min: c.in_scale_min,
    zero_point: c.zero_point,
    alpha: c.alpha,
    gamma: c.gamma,
    beta: c.beta,
    out_scale: c.out_scale,
    out_zero_point: c.out_zero_point,
  });
}

/** A vector case's inputs, and its golden model against the file's expect and calibration (no simulation). */
function caseModelReport(c: Record<string, unknown>, spec: LayernormSpec) {
  const tokens = intMatrix(c, 'inputs', undefined, spec.channels);
  const expect = intMatrix(c, 'expect', tokens.length, spec.channels);
  const model = modelOutputs(spec, tokens);
  let modelVsExpect = 0;
  let maxAbsDiff = 0;
  model.forEach((row, r) => row.forEach((y, ch) => {
    const d = Math.abs(Number(y) - expect[r]![ch]!);
    if (d !== 0) modelVsExpect++;
    maxAbsDiff = Math.max(maxAbsDiff, d);
  }));
  // Only a case that carries its calibration rows can be checked against them.
  let calibration: 'match' | 'differs' | undefined;
  if (c.calibration !== undefined) {
    if (!Array.isArray(c.calibration)) throw new UsageError('layernorm vector case field calibration must be rows of numbers');
    const rows = intOrFloatRows(c.calibration, spec.channels);
    const cal = calibratePtf(rows, spec.bits);
    const same = cal.zeroPoint === spec.layer.zeroPoint && cal.alpha.every((a, i) => a === spec.layer.alpha[i]);
    calibration = same ? 'match' : 'differs';
  }
  return { tokens, modelVsExpect, maxAbsDiff, calibration };
}

async function verifyCase(c: Record<string, unknown>, index: number, options: VerifyOptions): Promise<CaseReport> {
  const spec = specOfCase(c, undefined, options.hardware);
  const m = caseModelReport(c, spec);
  const { comparison } = await runTokens(spec, m.tokens, options);
  return {
    block: 'layernorm',
    index,
    elements: m.tokens.length * spec.channels,
    rtl_vs_model: comparison.mismatches,
    model_vs_expect: m.modelVsExpect,
    max_abs_diff: m.maxAbsDiff,
    calibration: m.calibration,
    ...(comparison.first === undefined ? {} : { first: comparison.first }),
  };
}

/**
 * `verify --one-instance`: one instance per distinct --bits among the cases (rsqrt_bits at its default), sized for their
 * largest C; every case of that width back to back in one simulation, its program loaded before its tokens, under
 * random stalls. One report per case, in the order given.
 */
async function verifyOneInstance(cases: ReadonlyArray<{ index: number; vectorCase: Record<string, unknown> }>, options: VerifyOptions): Promise<{ instances: number; reports: CaseReport[] }> {
  const groups = new Map<number, Array<{ index: number; vectorCase: Record<string, unknown> }>>();
  for (const k of cases) {
    const bits = num(k.vectorCase, 'in_bits');
    groups.set(bits, [...(groups.get(bits) ?? []), k]);
  }
  const reports = new Map<number, CaseReport>();
  let g = 0;
  for (const [, group] of [...groups].sort(([a], [b]) => a - b)) {
    const maxChannels = Math.max(...group.map((k) => num(k.vectorCase, 'channels')));
    const specs = group.map((k) => specOfCase(k.vectorCase, maxChannels, options.hardware));
    const models = group.map((k, i) => caseModelReport(k.vectorCase, specs[i]!));
    const workDir = options.workDir + (groups.size > 1 ? `/instance${g++}` : '');
    const run = await runLayers(specs.map((spec, i) => ({ spec, tokens: models[i]!.tokens })), { ...options, workDir });
    group.forEach((k, i) => reports.set(k.index, {
      block: 'layernorm',
      index: k.index,
      elements: models[i]!.tokens.length * specs[i]!.channels,
      rtl_vs_model: run.perSegment[i]!,
      model_vs_expect: models[i]!.modelVsExpect,
      max_abs_diff: models[i]!.maxAbsDiff,
      calibration: models[i]!.calibration,
      ...(run.perSegment[i] && run.comparison.first !== undefined ? { first: run.comparison.first } : {}),
    }));
  }
  return { instances: groups.size, reports: cases.map((k) => reports.get(k.index)!) };
}

function intOrFloatRows(v: unknown[], channels: number): number[][] {
  if (!v.every((r) => Array.isArray(r) && r.length === channels && r.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
    throw new UsageError(`layernorm vector case field calibration must be rows of ${channels} numbers`);
  }
  return v as number[][];
}

export const layernormBlock: Block<LayernormSpec> = {
  name: 'layernorm',
  caseHardware: ['lanes', 'datapath', 'max_token_units'],
  summary: 'PTF LayerNorm (FQ-ViT QIntLayerNorm, integer-only): per-token integer rsqrt, per-channel M/N/B; one instance for every layer up to max_channels (a program per layer)',
  tolerance: {
    maxAbsDiff: 1,
    maxMismatchFraction: 1e-4,
    reason: 'the integer rsqrt and 8-bit M of FQ-ViT\'s int mode: at least 99.99% of codes equal, none off by more than 1 (the requirement measured at 4..8 bits, generators/layernorm/README.md); the PTF calibration must reproduce alpha and the zero point',
  },
  resolve: resolveLayernorm,
  generate: generateLayernorm,
  verifyDefault,
  verifyCase,
  verifyOneInstance,
};

export default layernormBlock;
