/**
 * The LIS softmax block: spec -> RTL, testbench and vectors; verification of the RTL against the golden model on a
 * seeded default stimulus and on the softmax cases of a vector file.
 */
import type { Block, CaseReport, DefaultReport, VerifyOptions } from '../block.ts';
import { UsageError } from '../common/errors.ts';
import { mergeFileSets, type FileSet } from '../common/files.ts';
import { beatsHex, emitTestbench, runTiming, simulateAndCompare, type Beat, type SimHarness, type SimOptions } from '../common/sim.ts';
import { mulberry32 } from '../common/random.ts';
import { intMatrix } from '../common/vectors.ts';
import { softmaxRow, splitRows, type SoftmaxOut } from './model.ts';
import { SOFTMAX_TOP, emitSoftmaxRtl, softmaxLatency } from './rtl.ts';
import { resolveSoftmax, type SoftmaxSpec } from './spec.ts';

/** One input element of the stream: a code and whether it ends its row. */
export interface SoftmaxBeat {
  q: number;
  last: boolean;
}

/** The output word {zero, code} of one element. */
export function outputWord(o: SoftmaxOut, outBits: number): bigint {
  return (o.zero ? 1n << BigInt(outBits) : 0n) | BigInt(o.code);
}

/** The golden model's output beats for an input stream (rows end at tlast or at max_length, as in the RTL). */
export function expectedBeats(spec: SoftmaxSpec, beats: readonly SoftmaxBeat[]): Beat[] {
  const out: Beat[] = [];
  for (const row of splitRows(beats, spec.params.max_length)) {
    softmaxRow(row, spec.table, spec.params.out_bits).forEach((o, i) => {
      out.push({ data: outputWord(o, spec.params.out_bits), last: i === row.length - 1 });
    });
  }
  return out;
}

/** The simulation harness of a stream of input beats (the stream must end with tlast). */
export function softmaxHarness(spec: SoftmaxSpec, beats: readonly SoftmaxBeat[], rtl: FileSet = emitSoftmaxRtl(spec)): SimHarness {
  if (beats.length === 0 || !beats.at(-1)!.last) throw new Error('softmax stimulus must end with tlast');
  return {
    dut: SOFTMAX_TOP,
    params: [],
    rtl: new Map([...rtl].filter(([p]) => p.endsWith('.v'))),
    inputs: [{ prefix: 's_axis', width: spec.params.in_bits, beats: beats.map((b) => ({ data: BigInt(b.q), last: b.last })) }],
    output: { prefix: 'm_axis', width: spec.derived.outWidth, expectedBeats: beats.length },
    maxCycles: 3 * beats.length + softmaxLatency(spec.params.max_length) + 100,
  };
}

/** Rows as beats: tlast on the last element of each row. */
export function rowsToBeats(rows: readonly (readonly number[])[]): SoftmaxBeat[] {
  return rows.flatMap((row) => row.map((q, i) => ({ q, last: i === row.length - 1 })));
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

/** Names an element of a stream by its row, its position and its input code, for the first-difference message. */
function describeElement(beats: readonly SoftmaxBeat[]): (index: number) => string {
  const where: string[] = [];
  let row = 0;
  let pos = 0;
  for (const b of beats) {
    where.push(`element ${where.length} (row ${row}, position ${pos}, input code ${b.q})`);
    [row, pos] = b.last ? [row + 1, 0] : [row, pos + 1];
  }
  return (i) => where[i] ?? `element ${i}`;
}

/**
 * Simulates a stream and compares it with the golden model; a difference is printed with its inputs and a waveform
 * (simulateAndCompare).
 */
export async function runSoftmax(spec: SoftmaxSpec, beats: readonly SoftmaxBeat[], workDir: string, options: SimOptions = {}) {
  const expected = expectedBeats(spec, beats);
  const { result, comparison } = await simulateAndCompare(softmaxHarness(spec, beats), workDir, options, expected, describeElement(beats));
  return { expected, result, comparison };
}

function specOfCase(c: Record<string, unknown>): { spec: SoftmaxSpec; rows: number[][]; expect: Array<Array<number | null>> } {
  const length = c.length;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 1) throw new UsageError('softmax case: length must be a positive integer');
  const rows = intMatrix(c, 'inputs', undefined, length);
  const expect = intMatrix(c, 'expect', rows.length, length) as Array<Array<number | null>>;
  const inBits = c.in_bits;
  if (typeof inBits !== 'number') throw new UsageError('softmax case: in_bits must be a number');
  const spec = resolveSoftmax(inBits, { in_bits: inBits, out_bits: c.out_bits, scale: c.scale, max_length: length });
  return { spec, rows, expect };
}

export const softmaxBlock: Block<SoftmaxSpec> = {
  name: 'softmax',
  summary: 'LIS softmax (FQ-ViT log-int-softmax): rows of codes to log2 codes, integer only, no divider, one element per cycle',
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
    const tb = emitTestbench(harness, { stallPercent: 20, seed: 1 });
    const expected = expectedBeats(spec, beats);
    const files: FileSet = new Map([...rtl].map(([p, t]) => [`rtl/${p}`, t]));
    const expectedFile: FileSet = new Map([[
      'vectors/expected.hex',
      beatsHex(spec.derived.outWidth, expected),
    ]]);
    return mergeFileSets(files, tb, expectedFile);
  },
  async verifyDefault(spec, options: VerifyOptions): Promise<DefaultReport> {
    const beats = defaultStimulus(spec, options.seed ?? 1);
    const { expected, result, comparison } = await runSoftmax(spec, beats, options.workDir, options);
    return { block: 'softmax', module: SOFTMAX_TOP, elements: expected.length, rtl_vs_model: comparison.mismatches, ...runTiming(result), first: comparison.first };
  },
  async verifyCase(vectorCase, index, options: VerifyOptions): Promise<CaseReport> {
    const { spec, rows, expect } = specOfCase(vectorCase);
    let modelVsExpect = 0;
    let maxAbsDiff = 0;
    rows.forEach((row, r) => {
      softmaxRow(row, spec.table, spec.params.out_bits).forEach((o, i) => {
        const want = expect[r]![i];
        if (want === null || want === undefined) {
          if (!o.zero) modelVsExpect++;
        } else if (o.zero || o.code !== want) {
          modelVsExpect++;
          if (!o.zero) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(o.code - want));
        }
      });
    });
    const { expected, comparison } = await runSoftmax(spec, rowsToBeats(rows), options.workDir, options);
    return {
      block: 'softmax', index, elements: expected.length, rtl_vs_model: comparison.mismatches,
      model_vs_expect: modelVsExpect, max_abs_diff: maxAbsDiff, first: comparison.first,
    };
  },
};

export default softmaxBlock;
