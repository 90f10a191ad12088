/**
 * The LayerNorm block: spec → RTL, testbench and vectors; the default stimulus and the vector cases run through the
 * golden model and the RTL (Icarus), and the vector cases also through the PTF calibration.
 */
import type { Block, CaseReport, DefaultReport, VerifyOptions } from '../block.ts';
import { maxUnsigned } from '../common/arith.ts';
import { UsageError } from '../common/errors.ts';
import { mergeFileSets, type FileSet } from '../common/files.ts';
import { beatsHex, emitTestbench, runTiming, simulateAndCompare, type Beat, type SimHarness } from '../common/sim.ts';
import { intMatrix } from '../common/vectors.ts';
import { calibratePtf } from './calibrate.ts';
import { layernormToken, layernormTokenUnclamped, type ModelLayer } from './model.ts';
import { statsStages, TOP, elementPlan, emitLayernormRtl, layernormManifest, tokenUnitCycles } from './rtl.ts';
import { mulberry32 } from '../common/random.ts';
import { resolveLayernorm, type LayernormSpec } from './spec.ts';

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
 * token unit takes the same time for every one): C beats in, the stats pipeline, the token unit, the element pipeline.
 */
export function latencyCycles(spec: LayernormSpec): number {
  return spec.channels - 1 + statsStages(spec) + tokenUnitCycles(spec) + elementPlan(spec).stages;
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

export function tokenBeats(tokens: readonly (readonly number[])[]): Beat[] {
  return tokens.flatMap((t) => t.map((q, c) => ({ data: BigInt(q), last: c === t.length - 1 })));
}

export function outputBeats(outputs: readonly (readonly bigint[])[]): Beat[] {
  return outputs.flatMap((t) => t.map((y, c) => ({ data: y, last: c === t.length - 1 })));
}

export function layernormHarness(spec: LayernormSpec, tokens: readonly (readonly number[])[]): SimHarness {
  const rtl = emitLayernormRtl(spec);
  const perToken = Math.max(spec.channels, tokenUnitCycles(spec));
  return {
    dut: TOP,
    params: [{ name: 'DATA_WIDTH', value: spec.bits }],
    rtl,
    inputs: [{ prefix: 's_axis', width: spec.bits, beats: tokenBeats(tokens) }],
    output: { prefix: 'm_axis', width: spec.bits, expectedBeats: tokens.length * spec.channels },
    maxCycles: (tokens.length + 1) * perToken + latencyCycles(spec) + 100,
  };
}

export function generateLayernorm(spec: LayernormSpec): FileSet {
  const rtl = emitLayernormRtl(spec);
  const files: FileSet = new Map([...rtl].map(([p, t]) => [`rtl/${p}`, t]));
  files.set('rtl/manifest.json', layernormManifest(spec, rtl, latencyCycles(spec)));
  const tokens = defaultTokens(spec);
  const tb = emitTestbench(layernormHarness(spec, tokens), { stallPercent: 20, seed: 1 });
  const expected = outputBeats(modelOutputs(spec, tokens));
  tb.set('vectors/expected.hex', beatsHex(spec.bits, expected));
  return mergeFileSets(files, tb);
}

/** Simulates tokens through the RTL and compares with the golden model. */
export async function runTokens(spec: LayernormSpec, tokens: readonly (readonly number[])[], options: VerifyOptions) {
  const expected = outputBeats(modelOutputs(spec, tokens));
  const describe = (i: number) => {
    const [t, c] = [Math.floor(i / spec.channels), i % spec.channels];
    return `token ${t} channel ${c} (input code ${tokens[t]?.[c] ?? '?'})`;
  };
  const { result, comparison } = await simulateAndCompare(layernormHarness(spec, tokens), options.workDir, options, expected, describe);
  if (result.timedOut) comparison.mismatches = Math.max(comparison.mismatches, 1);
  return { expected, result, comparison };
}

async function verifyDefault(spec: LayernormSpec, options: VerifyOptions): Promise<DefaultReport> {
  const tokens = defaultTokens(spec, 8, options.seed ?? 1);
  const { expected, result, comparison } = await runTokens(spec, tokens, options);
  return { block: 'layernorm', module: TOP, elements: expected.length, rtl_vs_model: comparison.mismatches, ...runTiming(result), first: comparison.first };
}

function num(c: Record<string, unknown>, field: string): number {
  const v = c[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`layernorm vector case field ${field} must be a number`);
  return v;
}

/** The spec of a vector case: its layer as a --spec "layernorm" section. */
export function specOfCase(c: Record<string, unknown>): LayernormSpec {
  return resolveLayernorm(num(c, 'in_bits'), {
    channels: num(c, 'channels'),
    in_scale_min: c.in_scale_min,
    zero_point: c.zero_point,
    alpha: c.alpha,
    gamma: c.gamma,
    beta: c.beta,
    out_scale: c.out_scale,
    out_zero_point: c.out_zero_point,
  });
}

async function verifyCase(c: Record<string, unknown>, index: number, options: VerifyOptions): Promise<CaseReport> {
  const spec = specOfCase(c);
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
  const { comparison } = await runTokens(spec, tokens, options);
  return {
    block: 'layernorm',
    index,
    elements: tokens.length * spec.channels,
    rtl_vs_model: comparison.mismatches,
    model_vs_expect: modelVsExpect,
    max_abs_diff: maxAbsDiff,
    calibration,
  };
}

function intOrFloatRows(v: unknown[], channels: number): number[][] {
  if (!v.every((r) => Array.isArray(r) && r.length === channels && r.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
    throw new UsageError(`layernorm vector case field calibration must be rows of ${channels} numbers`);
  }
  return v as number[][];
}

export const layernormBlock: Block<LayernormSpec> = {
  name: 'layernorm',
  summary: 'PTF LayerNorm (FQ-ViT QIntLayerNorm, integer-only): per-token integer rsqrt, per-channel M/N/B, one element per cycle',
  tolerance: {
    maxAbsDiff: 1,
    maxMismatchFraction: 1e-4,
    reason: 'the integer rsqrt and 8-bit M of FQ-ViT\'s int mode: at least 99.99% of codes equal, none off by more than 1 (the requirement measured at 4..8 bits, generators/layernorm/README.md); the PTF calibration must reproduce alpha and the zero point',
  },
  resolve: resolveLayernorm,
  generate: generateLayernorm,
  verifyDefault,
  verifyCase,
};

export default layernormBlock;
