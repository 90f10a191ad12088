/**
 * The hand-written behavioural baselines of the benchmark (baselines/*.v): each block's function written as a user
 * would by hand (`*`, `/`, no pipelining). Each is parameterized from the block's resolved spec, and simulated on the
 * seeded problem against the block's golden model (GEMM and LayerNorm: the block's own default problem; softmax: seeded
 * rows of 1 to max_length codes), so that the benchmark compares equal functions and measures cycles per element.
 */
import { readFileSync } from 'node:fs';
import type { BlockName } from '../block.ts';
import { compareBeats, simulate, type Beat, type SimHarness, type SimOptions } from '../common/sim.ts';
import { randomFrom } from '../common/random.ts';
import { defaultProblem, integerProblem } from '../gemm/index.ts';
import { gemmModel } from '../gemm/model.ts';
import { resolveGemm, type GemmSpec } from '../gemm/spec.ts';
import { softmaxRow } from '../softmax/model.ts';
import { resolveSoftmax, type SoftmaxSpec } from '../softmax/spec.ts';
import { defaultTokens, modelOutputs } from '../layernorm/index.ts';
import { resolveLayernorm, type LayernormSpec } from '../layernorm/spec.ts';
import { hexWord } from '../common/verilog.ts';
import { clog2, toUnsigned } from '../common/arith.ts';
import { defaultRuns, expectedTaps } from '../attention/index.ts';
import { resolveAttention, type AttentionSpec } from '../attention/spec.ts';
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
  /** The block's resolved spec at --bits with no overrides (the block's own resolver). */
  resolve(bits: number): Spec;
  /** The baseline's Verilog and parameters for a block spec. */
  design(spec: Spec): SynthDesign;
  /** Simulates the baseline's benchmark problem and compares it with the block's golden model. */
  run(spec: Spec, workDir: string, options?: SimOptions): Promise<BaselineRun>;
  /** Yosys takes over an hour on it (measured: its wide combinational divider); the benchmark runs it after every other job. */
  slowSynthesis?: boolean;
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

/** Verilog parameters of a baseline, as the harness takes them. */
function harnessParams(params: Record<string, number>, extra: Record<string, string> = {}): SimHarness['params'] {
  return [...Object.entries(params), ...Object.entries(extra)].map(([name, value]) => ({ name, value }));
}

/**
 * Simulates a baseline (without stalls unless asked: its cycles are measured) and compares every output beat, data
 * and tlast, with the golden model's; cycles count from the first input beat to the last output beat.
 */
async function measure(harness: SimHarness, workDir: string, options: SimOptions, expected: Beat[], note: string): Promise<BaselineRun> {
  const r = await simulate(harness, workDir, { ...options, stallPercent: options.stallPercent ?? 0 });
  const first = Object.values(r.firstInput)[0] ?? 0;
  return {
    elements: expected.length,
    mismatches: compareBeats(expected, r.beats).mismatches,
    cycles: (r.beats.at(-1)?.cycle ?? r.doneCycle) - first + 1,
    note,
  };
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

/**
 * The GEMM's array alone, written plainly (baselines/gemm_array_baseline.v: acc <= acc + (a - zp) * w with `*`, no
 * requantizer), with the generated gemm_array's ports and shape, for the benchmark's logic cells per MAC. Synthesized
 * only: it is not simulated.
 */
export function gemmArrayBaseline(spec: GemmSpec): SynthDesign {
  const top = 'gemm_array_baseline';
  return {
    name: 'gemm-array-plain',
    top,
    files: baselineFile(top),
    params: { ROWS: spec.rows, COLS: spec.cols, A_BITS: spec.aBits, W_BITS: spec.wBits, ACC_WIDTH: spec.derived.accWidth },
    macs: spec.rows * spec.cols,
  };
}

/** GEMM: one MAC per cycle, one dot product (one output code) per K beats, requantized with `*` and `/`. */
export const gemmBaseline: Baseline<GemmSpec> = {
  block: 'gemm',
  top: 'gemm_baseline',
  resolve: (bits) => resolveGemm(bits, undefined),
  design(spec) {
    return { name: 'gemm-baseline', top: this.top, files: baselineFile(this.top), params: gemmParams(spec) };
  },
  async run(spec, workDir, options = {}) {
    const p = integerProblem(spec, defaultProblem(spec));
    const model = gemmModel(spec, p);
    const params = gemmParams(spec);
    const beatWidth = params.OFFSET_WIDTH! + params.SHIFT_WIDTH! + params.MULT_WIDTH! + 2 * spec.aBits + spec.wBits;
    const beats: Beat[] = [];
    const expected: Beat[] = [];
    p.a.forEach((row, m) => p.w.forEach((wRow, n) => {
      const c = p.channels[n]!;
      row.forEach((a, k) => beats.push({
        data: pack([[BigInt(a), spec.aBits], [BigInt(wRow[k]!), spec.wBits], [BigInt(p.aZeroPoint), spec.aBits],
          [c.mult, params.MULT_WIDTH!], [BigInt(c.shift), params.SHIFT_WIDTH!], [c.offset, params.OFFSET_WIDTH!]]),
        last: k === row.length - 1,
      }));
      // Every output beat of the baseline is a whole dot product: its tlast is always 1
      expected.push({ data: model.out[m]![n]!, last: true });
    }));
    const k = p.a[0]!.length;
    return measure({
      dut: this.top,
      params: harnessParams(params),
      rtl: new Map(Object.entries(baselineFile(this.top))),
      inputs: [{ prefix: 's_axis', width: beatWidth, beats }],
      output: { prefix: 'm_axis', width: spec.outBits, expectedBeats: expected.length },
      maxCycles: beats.length + 100,
    }, workDir, options, expected, `${p.a.length}x${k} by ${k}x${p.w.length}: ${expected.length} dot products of ${k} beats, one MAC per cycle`);
  },
};

function softmaxParams(spec: SoftmaxSpec): Record<string, number> {
  const { params: p, constants: k, derived: d } = spec;
  return {
    IN_BITS: p.in_bits,
    OUT_BITS: p.out_bits,
    MAX_LENGTH: p.max_length,
    INDEX_WIDTH: d.lengthWidth + 1,
    ELEM_WIDTH: d.elemWidth,
    SUM_WIDTH: d.sumWidth,
    X0: Number(k.x0),
    B: Number(k.b),
    C: Number(k.c),
    N: k.n,
  };
}

/** Seeded rows for the softmax baseline: lengths from 1 to max_length (both ends included), codes over the range. */
function softmaxRows(spec: SoftmaxSpec, count: number, seed: number): number[][] {
  const random = randomFrom(seed);
  const top = 2 ** spec.params.in_bits - 1;
  const lengths = [1, spec.params.max_length, ...Array.from({ length: count - 2 }, () => random.int(1, Math.min(spec.params.max_length, 64)))];
  return lengths.map((len, i) => Array.from({ length: len }, () => (i === 2 ? top : random.int(0, top))));
}

/** LIS softmax: three passes over a row buffer (load, exp with `/` and `*`, divide and log2 round), no pipelining. */
export const softmaxBaseline: Baseline<SoftmaxSpec> = {
  block: 'softmax',
  top: 'softmax_baseline',
  resolve: (bits) => resolveSoftmax(bits, undefined),
  design(spec) {
    return { name: 'softmax-baseline', top: this.top, files: baselineFile(this.top), params: softmaxParams(spec) };
  },
  async run(spec, workDir, options = {}) {
    const outBits = spec.params.out_bits;
    const rows = softmaxRows(spec, 8, 1);
    const beats: Beat[] = rows.flatMap((row) => row.map((q, i) => ({ data: BigInt(q), last: i === row.length - 1 })));
    const expected: Beat[] = rows.flatMap((row) => softmaxRow(row, spec.table, outBits)
      .map((o, i) => ({ data: (o.zero ? 1n << BigInt(outBits) : 0n) | BigInt(o.code), last: i === row.length - 1 })));
    return measure({
      dut: this.top,
      params: harnessParams(softmaxParams(spec)),
      rtl: new Map(Object.entries(baselineFile(this.top))),
      inputs: [{ prefix: 's_axis', width: spec.params.in_bits, beats }],
      output: { prefix: 'm_axis', width: outBits + 1, expectedBeats: expected.length },
      maxCycles: 6 * beats.length + 100,
    }, workDir, options, expected, `${rows.length} seeded rows of 1 to ${spec.params.max_length} codes (${expected.length} elements), one row at a time in three passes`);
  },
};

function layernormParams(spec: LayernormSpec): Record<string, number> {
  const d = spec.derived;
  const p = d.precision;
  return {
    BITS: spec.bits,
    CHANNELS: spec.channels,
    CHANNEL_WIDTH: d.channelWidth,
    ZERO_POINT: spec.layer.zeroPoint,
    OUT_ZERO_POINT: spec.layer.outZeroPoint,
    X_WIDTH: d.xWidth,
    SUM_WIDTH: d.sumWidth,
    SQ_WIDTH: d.sqWidth,
    VAR_WIDTH: p.varWidth,
    K_MAX: d.kMax,
    K_WIDTH: d.kWidth,
    RSQRT_BITS: p.rsqrtBits,
    SQRT_GUARD: p.sqrtGuard,
    R_BITS_A: p.rBitsA,
    MANTISSA_A: p.mantissaA,
    FRAC_W: p.fracW,
    FRAC_K: p.fracK,
    W_WIDTH: d.wWidth,
    GT_WIDTH: d.gtWidth,
    BK_WIDTH: d.bkWidth,
    NA_WIDTH: d.nAWidth,
    KF_WIDTH: d.kfWidth,
    ACC_WIDTH: d.accWidth,
  };
}

/** The baseline's constant ROMs: {bk, gt, nA, sign, |ga|, alpha} per channel, and alpha alone. */
function layernormFiles(spec: LayernormSpec): Record<string, string> {
  const k = layernormParams(spec);
  const width = k.BK_WIDTH! + k.GT_WIDTH! + k.NA_WIDTH! + 2 + k.MANTISSA_A! + 2;
  const words = spec.constants.map((c) => hexWord(width, pack([[BigInt(c.alpha), 2], [c.gaMag, k.MANTISSA_A!], [BigInt(c.sign), 2],
    [BigInt(c.nA), k.NA_WIDTH!], [c.gt, k.GT_WIDTH!], [c.bk, k.BK_WIDTH!]])));
  return {
    ...baselineFile('layernorm_baseline'),
    'layernorm_baseline_constants.hex': words.join('\n') + '\n',
    'layernorm_baseline_alpha.hex': spec.constants.map((c) => hexWord(2, c.alpha)).join('\n') + '\n',
  };
}

/** PTF LayerNorm: one token at a time (load, stats, square-root loop, `/` for R and W, one code per channel). */
export const layernormBaseline: Baseline<LayernormSpec> = {
  block: 'layernorm',
  top: 'layernorm_baseline',
  slowSynthesis: true,
  resolve: (bits) => resolveLayernorm(bits, undefined),
  design(spec) {
    return { name: 'layernorm-baseline', top: this.top, files: layernormFiles(spec), params: layernormParams(spec) };
  },
  async run(spec, workDir, options = {}) {
    const tokens = defaultTokens(spec);
    const outputs = modelOutputs(spec, tokens);
    const beats: Beat[] = tokens.flatMap((t) => t.map((q, i) => ({ data: BigInt(q), last: i === t.length - 1 })));
    const expected: Beat[] = outputs.flatMap((t) => t.map((y, i) => ({ data: y, last: i === t.length - 1 })));
    return measure({
      dut: this.top,
      // The simulator runs beside rtl/, where the ROM files are.
      params: harnessParams(layernormParams(spec), { CONST_FILE: '"rtl/layernorm_baseline_constants.hex"', ALPHA_FILE: '"rtl/layernorm_baseline_alpha.hex"' }),
      rtl: new Map(Object.entries(layernormFiles(spec))),
      inputs: [{ prefix: 's_axis', width: spec.bits, beats }],
      output: { prefix: 'm_axis', width: spec.bits, expectedBeats: expected.length },
      maxCycles: 4 * beats.length + 200 * tokens.length + 100,
    }, workDir, options, expected, `the block's default tokens (${tokens.length} of ${spec.channels} channels), one token at a time`);
  },
};

/** The attention baseline's widths and the default layer's softmax constants (its LIS i-exp, as the softmax baseline's). */
function attentionParams(spec: AttentionSpec): Record<string, number> {
  const p = spec.params;
  const d = spec.derived;
  const lis = defaultRuns(spec)[0]!.layer.lis;
  return {
    BITS: p.bits,
    S_BITS: p.s_bits,
    HEADS: p.heads,
    HEAD_DIM: p.head_dim,
    MAX_TOKENS: p.max_tokens,
    J_WIDTH: clog2(p.max_tokens + 1),
    S_ACC_WIDTH: d.score.derived.accWidth,
    O_ACC_WIDTH: Math.max(d.score.derived.accWidth, d.out.derived.accWidth),
    FRAC_BITS: p.frac_bits,
    CONST_WIDTH: attentionConstWidth(spec),
    SM_INDEX_WIDTH: d.softmax.derived.lengthWidth + 1,
    SM_ELEM_WIDTH: d.softmax.derived.elemWidth,
    SM_SUM_WIDTH: d.softmax.derived.sumWidth,
    X0: Number(lis.x0),
    B: Number(lis.b),
    C: Number(lis.c),
    N: lis.n,
  };
}

/** Width of a word of the attention baseline's constant ROM: the widest of zp, M, S and B (B in two's complement). */
function attentionConstWidth(spec: AttentionSpec): number {
  const { score, out } = spec.derived;
  return Math.max(spec.params.bits, spec.params.frac_bits, 8, score.derived.offsetWidth, out.derived.offsetWidth);
}

/** The default layer's constants (the same values as its program's first 7 words), one ROM word each. */
function attentionFiles(spec: AttentionSpec): Record<string, string> {
  const w = attentionConstWidth(spec);
  const layer = defaultRuns(spec)[0]!.layer;
  const words = [BigInt(layer.scales.qkvZeroPoint), layer.score.mult, BigInt(layer.score.shift), toUnsigned(layer.score.offset, w),
    layer.out.mult, BigInt(layer.out.shift), toUnsigned(layer.out.offset, w)];
  return {
    ...baselineFile('attention_baseline'),
    ...baselineFile('softmax_baseline'),
    'attention_baseline_constants.hex': words.map((v) => hexWord(w, v)).join('\n') + '\n',
  };
}

/** Attention head: one head at a time, one MAC or shift-add term per step, `*` for 2^(F - t) and the requantizers. */
export const attentionBaseline: Baseline<AttentionSpec> = {
  block: 'attention',
  top: 'attention_baseline',
  resolve: (bits) => resolveAttention(bits, undefined),
  design(spec) {
    return { name: 'attention-baseline', top: this.top, files: attentionFiles(spec), params: attentionParams(spec) };
  },
  async run(spec, workDir, options = {}) {
    const runs = defaultRuns(spec);
    const beats: Beat[] = runs.flatMap((run) => {
      const codes = run.qkv.flat();
      return codes.map((q, i) => ({ data: BigInt(q), last: i === codes.length - 1 }));
    });
    const expected = expectedTaps(spec, runs).taps.out;
    const { heads, head_dim: hd } = spec.params;
    const work = runs.reduce((sum, run) => {
      const n = run.qkv.length;
      return sum + heads * n * (n * (2 * hd + 8) + 8 * n + hd * (2 * n + 4));
    }, 0);
    return measure({
      dut: this.top,
      params: harnessParams(attentionParams(spec), { CONST_FILE: '"rtl/attention_baseline_constants.hex"' }),
      rtl: new Map(Object.entries(attentionFiles(spec))),
      inputs: [{ prefix: 's_axis', width: spec.params.bits, beats }],
      output: { prefix: 'm_axis', width: spec.params.bits, expectedBeats: expected.length },
      maxCycles: beats.length + 2 * work + 1000,
    }, workDir, options, expected, `the block's default packets (${runs.map((run) => run.qkv.length).join(' and ')} tokens, ${heads} heads of ${hd}), one head, row and term at a time`);
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const BASELINES: ReadonlyArray<Baseline<any>> = [gemmBaseline, layernormBaseline, softmaxBaseline, attentionBaseline];

export function baselineFor(block: BlockName): Baseline<unknown> | undefined {
  return BASELINES.find((b) => b.block === block);
}
