/**
 * The hand-written behavioural baselines of the benchmark (baselines/*.v): each block's function written as a user
 * would by hand (`*`, `/`, no pipelining). Each is parameterized from the block's resolved spec, and simulated on the
 * block's own default problem against the block's golden model, so that the benchmark compares equal functions and
 * measures the baseline's cycles per element the same way.
 */
import { readFileSync } from 'node:fs';
import type { BlockName } from '../block.ts';
import { simulate, type Beat, type SimOptions } from '../common/sim.ts';
import { defaultProblem, integerProblem } from '../gemm/index.ts';
import { gemmModel } from '../gemm/model.ts';
import type { GemmSpec } from '../gemm/spec.ts';
import type { SynthDesign } from './flow.ts';

export interface BaselineRun {
  /** Output elements compared with the golden model. */
  elements: number;
  /** Elements that differ from the golden model (must be 0). */
  mismatches: number;
  /** Cycles from the first input beat to the last output beat, without stalls. */
  cycles: number;
  /** What the run covered, for the benchmark's notes. */
  note: string;
}

export interface Baseline<Spec> {
  block: BlockName;
  top: string;
  /** The baseline's Verilog and parameters for a block spec. */
  design(spec: Spec): SynthDesign;
  /** Simulates the block's default problem on the baseline and compares it with the golden model. */
  run(spec: Spec, workDir: string, options?: SimOptions): Promise<BaselineRun>;
}

const baselineDir = new URL('../../baselines/', import.meta.url);

function baselineFile(top: string): Record<string, string> {
  return { [`${top}.v`]: readFileSync(new URL(`${top}.v`, baselineDir), 'utf8') };
}

function pack(fields: Array<[bigint, number]>): bigint {
  // fields from least to most significant: [value, width]; negative values in two's complement
  let word = 0n;
  let lsb = 0;
  for (const [value, width] of fields) {
    word |= (value & ((1n << BigInt(width)) - 1n)) << BigInt(lsb);
    lsb += width;
  }
  return word;
}

function gemmParams(spec: GemmSpec): Record<string, number> {
  const d = spec.derived;
  return {
    A_BITS: spec.aBits,
    W_BITS: spec.wBits,
    OUT_BITS: spec.outBits,
    ACC_WIDTH: d.accWidth,
    MULT_WIDTH: d.multWidth,
    SHIFT_WIDTH: d.shiftWidth,
    OFFSET_WIDTH: d.offsetWidth,
    SUM_WIDTH: d.sumWidth,
  };
}

/** GEMM: one MAC per cycle, one dot product (one output code) per K beats, requantized with `*` and `/`. */
export const gemmBaseline: Baseline<GemmSpec> = {
  block: 'gemm',
  top: 'gemm_baseline',
  design(spec) {
    return { name: 'gemm-baseline', top: this.top, files: baselineFile(this.top), params: gemmParams(spec) };
  },
  async run(spec, workDir, options = {}) {
    const p = integerProblem(spec, defaultProblem(spec));
    const model = gemmModel(spec, p);
    const params = gemmParams(spec);
    const beatWidth = params.OFFSET_WIDTH! + params.SHIFT_WIDTH! + params.MULT_WIDTH! + 2 * spec.aBits + spec.wBits;
    const beats: Beat[] = [];
    const expected: bigint[] = [];
    p.a.forEach((row, m) => p.w.forEach((wRow, n) => {
      const c = p.channels[n]!;
      row.forEach((a, k) => beats.push({
        data: pack([[BigInt(a), spec.aBits], [BigInt(wRow[k]!), spec.wBits], [BigInt(p.aZeroPoint), spec.aBits],
          [c.mult, params.MULT_WIDTH!], [BigInt(c.shift), params.SHIFT_WIDTH!], [c.offset, params.OFFSET_WIDTH!]]),
        last: k === row.length - 1,
      }));
      expected.push(model.out[m]![n]!);
    }));
    const r = await simulate({
      dut: this.top,
      params: Object.entries(params).map(([name, value]) => ({ name, value })),
      rtl: new Map(Object.entries(baselineFile(this.top))),
      inputs: [{ prefix: 's_axis', width: beatWidth, beats }],
      output: { prefix: 'm_axis', width: spec.outBits, expectedBeats: expected.length },
      maxCycles: beats.length + 100,
    }, workDir, { ...options, stallPercent: options.stallPercent ?? 0 });
    const mismatches = Math.abs(r.beats.length - expected.length) + expected.filter((v, i) => r.beats[i] !== undefined && r.beats[i]!.data !== v).length;
    const first = Object.values(r.firstInput)[0] ?? 0;
    const k = p.a[0]!.length;
    return {
      elements: expected.length,
      mismatches,
      cycles: (r.beats.at(-1)?.cycle ?? r.doneCycle) - first + 1,
      note: `${p.a.length}x${k} by ${k}x${p.w.length}: ${expected.length} dot products of ${k} beats, one MAC per cycle`,
    };
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const BASELINES: ReadonlyArray<Baseline<any>> = [gemmBaseline];

export function baselineFor(block: BlockName): Baseline<unknown> | undefined {
  return BASELINES.find((b) => b.block === block);
}
