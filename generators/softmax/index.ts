/**
 * The LIS softmax block: spec -> RTL, default program, testbench and vectors; verification of the RTL against the
 * golden model on a seeded default stimulus, on the softmax cases of a vector file (one instance per case, or one
 * instance for all of them with a program per case).
 */
import { join } from 'node:path';
import type { Block, CaseReport, DefaultReport, VerifyOptions } from '../block.ts';
import { UsageError } from '../common/errors.ts';
import { mergeFileSets, type FileSet } from '../common/files.ts';
import { programBeats } from '../common/program.ts';
import { mulberry32 } from '../common/random.ts';
import { compareBeats, emitTestbench, runTiming, simulateAndCompare, type Beat, type SimHarness, type SimOptions } from '../common/sim.ts';
import { positiveFinite } from '../common/validate.ts';
import { intMatrix } from '../common/vectors.ts';
import { softmaxRow, splitRows, type SoftmaxOut } from './model.ts';
import { defaultProgramFiles, softmaxProgram } from './program.ts';
import { emitSoftmaxRtl, softmaxLatency, softmaxStatusWidth, softmaxTop } from './rtl.ts';
import { beatFirstElements, laneTestWrapper, packLanes, readLaneBeats } from './lanes.ts';
import { resolveSoftmax, softmaxLayer, type SoftmaxLayer, type SoftmaxSpec } from './spec.ts';

/** One input element of the stream: a code and whether it ends its row. */
export interface SoftmaxBeat {
  q: number;
  last: boolean;
}

/** The output word {zero, code} of one element. */
export function outputWord(o: SoftmaxOut, outBits: number): bigint {
  return (o.zero ? 1n << BigInt(outBits) : 0n) | BigInt(o.code);
}

/** The golden model's output beats for an input stream on one layer (rows end at tlast or at max_length, as in the RTL). */
export function expectedBeats(spec: SoftmaxSpec, beats: readonly SoftmaxBeat[], layer: SoftmaxLayer = spec.layer): Beat[] {
  const out: Beat[] = [];
  for (const row of splitRows(beats, spec.params.max_length)) {
    softmaxRow(row, layer.table, spec.params.out_bits).forEach((o, i) => {
      out.push({ data: outputWord(o, spec.params.out_bits), last: i === row.length - 1 });
    });
  }
  return out;
}

/**
 * One phase of a stream: configuration beats (a program, or deliberately bad words), then rows. The testbench
 * presents phase k's configuration at epoch 2k and its rows at epoch 2k + 1, so the program is in before the rows
 * and the next program waits until these rows are taken (the block then takes it once they are out).
 */
export interface SoftmaxPhase {
  /** Words for s_cfg_axis before the rows; none: the rows run on the program already loaded. */
  cfg?: ReadonlyArray<{ data: bigint; last: boolean }>;
  /** The layer the rows run on; null when the block has no valid program then (the rows are dropped, no output). */
  layer: SoftmaxLayer | null;
  /** The rows (must end with tlast when not empty). */
  beats: readonly SoftmaxBeat[];
  /**
   * s_axis beats as given (lanes > 1: {tkeep, codes}, e.g. with a wrong tkeep) instead of `beats` packed by the rule;
   * the expected output is the model's on the elements the block reads from them (lanes.ts: readLaneBeats).
   */
  raw?: ReadonlyArray<{ data: bigint; last: boolean }>;
}

/** The elements a phase's rows carry, as the block reads them. */
function phaseElements(spec: SoftmaxSpec, ph: SoftmaxPhase): readonly SoftmaxBeat[] {
  return ph.raw ? readLaneBeats(spec, ph.raw) : ph.beats;
}

/** A phase that loads the program of `layer` and runs `beats` on it. */
export function programPhase(spec: SoftmaxSpec, layer: SoftmaxLayer, beats: readonly SoftmaxBeat[]): SoftmaxPhase {
  return { cfg: programBeats(softmaxProgram(spec, layer)), layer, beats };
}

/** The golden model's output beats of a sequence of phases (dropped rows give none). */
export function expectedPhaseBeats(spec: SoftmaxSpec, phases: readonly SoftmaxPhase[]): Beat[] {
  return phases.flatMap((ph) => (ph.layer === null ? [] : expectedBeats(spec, phaseElements(spec, ph), ph.layer)));
}

/** The simulation harness of a sequence of phases, or of a stream of rows on the default layer (program loaded first). */
export function softmaxHarness(spec: SoftmaxSpec, input: readonly SoftmaxBeat[] | readonly SoftmaxPhase[], rtl: FileSet = emitSoftmaxRtl(spec)): SimHarness {
  const phases = asPhases(spec, input);
  const cfg: Beat[] = phases.flatMap((ph, k) => (ph.cfg ?? []).map((b) => ({ data: b.data, last: b.last, epoch: 2 * k })));
  const { lanes, in_bits: inBits } = spec.params;
  const data: Beat[] = phases.flatMap((ph, k) => {
    const beats = ph.raw ?? packInput(spec, ph.beats);
    if (beats.length > 0 && !beats.at(-1)!.last) throw new Error(`softmax phase ${k}: its rows must end with tlast`);
    return beats.map((b) => ({ data: b.data, last: b.last, epoch: 2 * k + 1 }));
  });
  if (data.length === 0 || cfg.length === 0) throw new Error('softmax stimulus needs at least one configuration word and one row');
  const expected = packLanes(expectedPhaseBeats(spec, phases), lanes, spec.derived.outWidth);
  const verilog: FileSet = new Map([...rtl].filter(([p]) => p.endsWith('.v')));
  // Above one lane the stream ports have tkeep, which the harness's streams do not: a wrapper carries it above the
  // codes of each stream word.
  const wrapper = lanes > 1 ? laneTestWrapper(spec) : undefined;
  if (wrapper) verilog.set(wrapper.file, wrapper.text);
  const keep = lanes > 1 ? lanes : 0;
  return {
    dut: wrapper ? wrapper.name : softmaxTop(spec),
    params: [],
    rtl: verilog,
    inputs: [
      { prefix: 's_cfg_axis', width: spec.derived.wordWidth, beats: cfg },
      { prefix: 's_axis', width: lanes * inBits + keep, beats: data },
    ],
    output: { prefix: 'm_axis', width: lanes * spec.derived.outWidth + keep, expectedBeats: expected.length, expected },
    // Each phase drains the block before the next program goes in.
    maxCycles: 3 * data.length + 2 * cfg.length + phases.length * (softmaxLatency(spec.params.max_length, lanes) + 16) + 100,
    statusWidth: softmaxStatusWidth(spec),
  };
}

/**
 * s_axis beats of an element stream: each row in beats of `lanes` codes (lanes.ts: packLanes), cut at max_length as
 * the block cuts it (that row's last beat then has no tlast; its tkeep still marks its lanes).
 */
export function packInput(spec: SoftmaxSpec, elements: readonly SoftmaxBeat[]): Beat[] {
  const { lanes, in_bits: inBits, max_length: maxLength } = spec.params;
  const beats: Beat[] = [];
  let row: bigint[] = [];
  const flush = (last: boolean) => {
    const packed = packLanes(row.map((q, i) => ({ data: q, last: i === row.length - 1 })), lanes, inBits);
    packed.at(-1)!.last = last;
    beats.push(...packed);
    row = [];
  };
  for (const e of elements) {
    row.push(BigInt(e.q));
    if (e.last || row.length === maxLength) flush(e.last);
  }
  if (row.length) flush(false);
  return beats;
}

function asPhases(spec: SoftmaxSpec, input: readonly SoftmaxBeat[] | readonly SoftmaxPhase[]): readonly SoftmaxPhase[] {
  if (input.length > 0 && 'layer' in input[0]!) return input as readonly SoftmaxPhase[];
  return [programPhase(spec, spec.layer, input as readonly SoftmaxBeat[])];
}

/** Rows as beats: tlast on the last element of each row. */
export function rowsToBeats(rows: readonly (readonly number[])[]): SoftmaxBeat[] {
  return rows.flatMap((row) => row.map((q, i) => ({ q, last: i === row.length - 1 })));
}

/** Seeded random rows: lengths 1..maxLen (every fifth one full), peaky or flat, sometimes all equal (the tests' stimulus). */
export function randomRows(bits: number, maxLen: number, count: number, seed: number): number[][] {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const top = 2 ** bits - 1;
  return Array.from({ length: count }, (_, r) => {
    const len = r % 5 === 0 ? maxLen : 1 + int(maxLen);
    if (r % 7 === 3) return Array(len).fill(int(top + 1));
    const spread = r % 2 ? top : Math.max(1, top >> 2);
    const base = int(top + 1 - spread);
    return Array.from({ length: len }, () => base + int(spread + 1));
  });
}

/**
 * The default stimulus: the edge cases (L = 1, an all-equal row, the largest spread of codes, a full-length row, a
 * row cut at max_length) and seeded random rows of random lengths, peaky and flat.
 */
export function defaultStimulus(spec: SoftmaxSpec, seed = 1): SoftmaxBeat[] {
  const { in_bits: bits, max_length: maxLen } = spec.params;
  const top = 2 ** bits - 1;
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const rows: number[][] = [
    [int(top + 1)],
    Array.from({ length: maxLen }, () => top >> 1),
    Array.from({ length: maxLen }, (_, i) => (i === maxLen >> 1 ? top : 0)),
    Array.from({ length: Math.min(maxLen, 8) }, (_, i) => (i % 2 ? top : 0)),
  ];
  for (let r = 0; r < 6; r++) {
    const len = 1 + int(maxLen);
    const spread = r % 2 ? top : Math.max(1, top >> 2);
    const base = int(top + 1 - spread);
    rows.push(Array.from({ length: len }, () => base + int(spread + 1)));
  }
  rows.push(Array.from({ length: maxLen }, () => int(top + 1)));
  const beats = rowsToBeats(rows);
  // A row longer than max_length: the hardware ends it at max_length and starts a new row.
  const long = Array.from({ length: maxLen + 3 }, () => int(top + 1));
  return [...beats, ...long.map((q, i) => ({ q, last: i === long.length - 1 }))];
}

/** Names an output element by its phase, row, position and input code, for the first-difference message. */
function describeElement(spec: SoftmaxSpec, phases: readonly SoftmaxPhase[]): (index: number) => string {
  const where: string[] = [];
  phases.forEach((ph, k) => {
    if (ph.layer === null) return;
    splitRows(phaseElements(spec, ph), spec.params.max_length).forEach((row, r) => row.forEach((q, i) => {
      where.push(`element ${where.length} (phase ${k}, scale ${ph.layer!.scale}, row ${r}, position ${i}, input code ${q})`);
    }));
  });
  return (i) => where[i] ?? `element ${i}`;
}

/**
 * Simulates a stream (rows on the default layer, or phases with their programs) and compares it with the golden
 * model; a difference is printed with its inputs and a waveform (simulateAndCompare).
 */
export async function runSoftmax(spec: SoftmaxSpec, input: readonly SoftmaxBeat[] | readonly SoftmaxPhase[], workDir: string, options: SimOptions = {}) {
  const phases = asPhases(spec, input);
  const expected = expectedPhaseBeats(spec, phases);
  const packed = packLanes(expected, spec.params.lanes, spec.derived.outWidth);
  const describe = describeElement(spec, phases);
  // Above one lane a beat holds several elements: a difference names the beat's first.
  const first = beatFirstElements(packed, spec.params.lanes, spec.derived.outWidth);
  const describeBeat = spec.params.lanes === 1 ? describe : (i: number) => `beat ${i}, from ${describe(first[i] ?? i * spec.params.lanes)}`;
  const { result, comparison } = await simulateAndCompare(softmaxHarness(spec, phases), workDir, options, packed, describeBeat);
  return { expected, packed, result, comparison };
}

/** A softmax case of a vector file, checked (../shared/vectors/FORMAT.md). */
interface SoftmaxCase {
  inBits: number;
  outBits: unknown;
  scale: unknown;
  length: number;
  rows: number[][];
  expect: Array<Array<number | null>>;
}

function readCase(c: Record<string, unknown>): SoftmaxCase {
  const length = c.length;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 1) throw new UsageError('softmax case: length must be a positive integer');
  const rows = intMatrix(c, 'inputs', undefined, length);
  const expect = intMatrix(c, 'expect', rows.length, length) as Array<Array<number | null>>;
  const inBits = c.in_bits;
  if (typeof inBits !== 'number') throw new UsageError('softmax case: in_bits must be a number');
  return { inBits, outBits: c.out_bits, scale: c.scale, length, rows, expect };
}

/** Elements where the golden model differs from the case's expect, and the largest code difference. */
function modelVsExpect(spec: SoftmaxSpec, layer: SoftmaxLayer, c: SoftmaxCase): { mismatches: number; maxAbsDiff: number } {
  let mismatches = 0;
  let maxAbsDiff = 0;
  c.rows.forEach((row, r) => {
    softmaxRow(row, layer.table, spec.params.out_bits).forEach((o, i) => {
      const want = c.expect[r]![i];
      if (want === null || want === undefined) {
        if (!o.zero) mismatches++;
      } else if (o.zero || o.code !== want) {
        mismatches++;
        if (!o.zero) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(o.code - want));
      }
    });
  });
  return { mismatches, maxAbsDiff };
}

/**
 * verify --one-instance: the cases grouped by the generation-time widths (in_bits, out_bits; n is FQ-ViT's 30), one
 * instance per group with max_length the longest row and min_scale the smallest scale, every case of the group back
 * to back in one simulation with its program loaded before its rows, under random stalls.
 */
export async function verifySoftmaxOneInstance(
  cases: ReadonlyArray<{ index: number; vectorCase: Record<string, unknown> }>,
  options: VerifyOptions,
  lanes: unknown = options.hardware?.lanes ?? 1,
): Promise<{ instances: number; reports: CaseReport[] }> {
  const groups = new Map<string, Array<{ index: number; c: SoftmaxCase }>>();
  for (const { index, vectorCase } of cases) {
    const c = readCase(vectorCase);
    const key = `${c.inBits}_${String(c.outBits)}`;
    groups.set(key, [...(groups.get(key) ?? []), { index, c }]);
  }
  const reports: CaseReport[] = [];
  for (const [key, group] of groups) {
    const scales = group.map(({ c }) => positiveFinite('softmax.scale', c.scale));
    const minScale = Math.min(...scales);
    const spec = resolveSoftmax(group[0]!.c.inBits, {
      in_bits: group[0]!.c.inBits, out_bits: group[0]!.c.outBits, max_length: Math.max(...group.map(({ c }) => c.length)), min_scale: minScale, scale: minScale, lanes,
    });
    const layers = group.map(({ c }) => softmaxLayer(spec, c.scale as number));
    const phases = group.map(({ c }, i) => programPhase(spec, layers[i]!, rowsToBeats(c.rows)));
    const workDir = join(options.workDir, `softmax-one-instance-${key}`);
    const { packed, result } = await runSoftmax(spec, phases, workDir, options);
    let at = 0;
    group.forEach(({ index, c }, i) => {
      const caseExpected = expectedBeats(spec, phases[i]!.beats, layers[i]!);
      const count = caseExpected.length;
      // Compared beat by beat (a beat holds `lanes` elements; a case's rows end on a beat boundary).
      const beats = packLanes(caseExpected, spec.params.lanes, spec.derived.outWidth).length;
      const want = packed.slice(at, at + beats);
      const got = result.beats.slice(at, at + beats);
      // The last case also owns any extra beats the RTL produced.
      const extra = i === group.length - 1 ? Math.max(0, result.beats.length - packed.length) : 0;
      const cmp = compareBeats(want, got);
      const model = modelVsExpect(spec, layers[i]!, c);
      reports.push({
        block: 'softmax', index, elements: count, rtl_vs_model: cmp.mismatches + extra,
        model_vs_expect: model.mismatches, max_abs_diff: model.maxAbsDiff, ...(cmp.first ? { first: cmp.first } : {}),
      });
      at += beats;
    });
  }
  return { instances: groups.size, reports };
}

/**
 * verify: a softmax case of a vector file on an instance of its own (with `lanes` elements a beat: --spec's, else 1),
 * its program loaded first.
 */
export async function verifySoftmaxCase(vectorCase: Record<string, unknown>, index: number, options: VerifyOptions, lanes: unknown = options.hardware?.lanes ?? 1): Promise<CaseReport> {
  const c = readCase(vectorCase);
  const spec = resolveSoftmax(c.inBits, { in_bits: c.inBits, out_bits: c.outBits, scale: c.scale, max_length: c.length, lanes });
  const model = modelVsExpect(spec, spec.layer, c);
  const { expected, comparison } = await runSoftmax(spec, rowsToBeats(c.rows), options.workDir, options);
  return {
    block: 'softmax', index, elements: expected.length, rtl_vs_model: comparison.mismatches,
    model_vs_expect: model.mismatches, max_abs_diff: model.maxAbsDiff, first: comparison.first,
  };
}

export const softmaxBlock: Block<SoftmaxSpec> = {
  name: 'softmax',
  caseHardware: ['lanes'],
  summary: 'LIS softmax (FQ-ViT log-int-softmax): rows of codes to log2 codes, integer only, no divider, one element per cycle per lane (lanes 1, 2, 4 or 8); a layer\'s exp table is a run-time program',
  tolerance: {
    maxAbsDiff: 1,
    maxMismatchFraction: 1e-4,
    reason: 'codes and exact zeros equal FQ-ViT\'s wherever its float64 row sum is exact (E < 2^(52+m), generators/softmax/README.md); past that bound a division can land on the other side of a rounding threshold: a code off by 1 on at most 1 in 10,000 elements',
  },
  resolve: resolveSoftmax,
  generate(spec) {
    const rtl = emitSoftmaxRtl(spec);
    const beats = defaultStimulus(spec);
    const harness = softmaxHarness(spec, beats, rtl);
    // The testbench checks itself against the golden model's beats (vectors/expected.hex).
    const tb = emitTestbench(harness, { stallPercent: 20, seed: 1 });
    // harness.rtl: the block's modules, and above one lane the test adapter that carries tkeep (lanes.ts).
    const files: FileSet = new Map([...rtl, ...harness.rtl].map(([p, t]) => [`rtl/${p}`, t]));
    return mergeFileSets(files, defaultProgramFiles(spec), tb);
  },
  async verifyDefault(spec, options: VerifyOptions): Promise<DefaultReport> {
    const beats = defaultStimulus(spec, options.seed ?? 1);
    const { expected, result, comparison } = await runSoftmax(spec, beats, options.workDir, options);
    return { block: 'softmax', module: softmaxTop(spec), elements: expected.length, rtl_vs_model: comparison.mismatches, ...runTiming(result), first: comparison.first };
  },
  verifyCase: (vectorCase, index, options) => verifySoftmaxCase(vectorCase, index, options),
  verifyOneInstance: (cases, options) => verifySoftmaxOneInstance(cases, options),
};

export default softmaxBlock;
