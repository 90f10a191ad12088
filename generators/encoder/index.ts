/**
 * The encoder block: its simulation (runs of the block, cases of the vector file or the synthetic default layer, any
 * N up to max_tokens, back to back on one instance, every stream stalling at random, compared with the chained golden
 * model, model.ts encoderChain), and the Block that `gen` and `verify` run.
 */
import { join } from 'node:path';
import { packetCycles } from '../attention/rtl.ts';
import type { Block, CaseReport, DefaultReport, StageLimit, VerifyOptions } from '../block.ts';
import { mergeFileSets, type FileSet } from '../common/files.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { programFiles, type Program } from '../common/program.ts';
import { compareBeats, emitTestbench, runTiming, simulateAndCompare, type Beat, type CheckedRun, type SimHarness, type SimOptions } from '../common/sim.ts';
import { ERROR_BITS as ATTENTION_ERRORS } from '../attention/rtl.ts';
import { GELU_ERRORS } from '../gelu/rtl.ts';
import { GELU_MAX_BITS } from '../gelu/spec.ts';
import { RESIDUAL_ERRORS } from '../residual/rtl.ts';
import { elementPeriod, STATUS_ERRORS as LN_ERRORS } from '../layernorm/rtl.ts';
import { readEncoderCase, type EncoderCase } from './case.ts';
import { defaultRuns } from './default.ts';
import { encoderStreams, runBeats, type EncoderStreams } from './host.ts';
import { encoderChain, encoderLayers, type ChainResult } from './model.ts';
import { dumpEncoder, encoderCaseReport, SQNR_MARGIN_DB, STAGE_NAMES, STAGE_TOLERANCE, type EncoderReport } from './report.ts';
import { attentionOptions, bufferGeometry, cfgWidth, emitEncoderRtl, ENCODER_STEPS, encoderTop, headerFields, OWN_ERRORS, publicSpec, STATUS_WIDTH } from './rtl.ts';
import { resolveEncoder, type EncoderSpec } from './spec.ts';

/** The step whose codes the RTL outputs in this build (the last of ENCODER_STEPS), as the chain names them. */
export const OUTPUT_STAGE = 'resid2' satisfies keyof ChainResult;

/** The codes the RTL must output for a run: the chained model's codes of OUTPUT_STAGE, N × width. */
export function expectedCodes(c: EncoderCase): number[][] {
  return encoderChain(encoderLayers(c), c.inputs)[OUTPUT_STAGE];
}

/** A case cut to its first `tokens` tokens (a run with a smaller N; the model takes any N). */
export function firstTokens(c: EncoderCase, tokens: number): EncoderCase {
  return { ...c, tokens, inputs: c.inputs.slice(0, tokens) };
}

/**
 * Cycles a run may take with no stalls, generously: the LayerNorm at its token unit's pace, each GEMM column tile
 * (its load, every row tile's K run and drain), the output.
 */
function runCycles(spec: EncoderSpec, c: Pick<EncoderCase, 'tokens' | 'dim' | 'mlpHidden'>): number {
  const { rows, cols } = spec.params;
  const rowTiles = Math.ceil(c.tokens / rows);
  // A row tile takes its K beats, or its rows·cols codes through the serial requantizer when that is longer
  const requant = rows * cols * spec.derived.gemm.derived.requantCycles;
  const gemm = (out: number, k: number) => Math.ceil(out / cols) * (k + cols + rowTiles * (Math.max(k, requant) + rows * cols + 80));
  const residual = 2 * c.tokens * c.dim * spec.derived.residual.derived.elementPeriod;
  const layernorm = c.tokens * (c.dim * elementPeriod(spec.derived.layernorm) + 400);
  const gelu = 2 * c.tokens * c.mlpHidden * spec.derived.gelu.derived.elementPeriod;
  return layernorm + gemm(3 * c.dim, c.dim) + 3 * c.tokens * c.dim + packetCycles(spec.derived.attention, c.tokens, attentionOptions(spec)) + gemm(c.dim, c.dim) + residual + layernorm
    + gemm(c.mlpHidden, c.dim) + gelu + gemm(c.dim, c.mlpHidden) + residual + 1000;
}

/** The harness of `runs` back to back on the instance, and the output beats the model gives. */
export function encoderHarness(
  spec: EncoderSpec, runs: readonly EncoderCase[], rtl: FileSet = emitEncoderRtl(spec), codes: ReadonlyArray<readonly (readonly number[])[]> = runs.map(expectedCodes),
): { harness: SimHarness; expected: Beat[]; streams: EncoderStreams[] } {
  const streams = runs.map((c) => encoderStreams(spec, c));
  const expected = codes.flatMap((k) => runBeats(k));
  const all = (key: 'cfg' | 'tokens' | 'wgt' | 'param') => streams.flatMap((s) => s[key]);
  const harness: SimHarness = {
    dut: encoderTop(spec),
    params: [],
    rtl,
    inputs: [
      { prefix: 's_cfg_axis', width: cfgWidth(spec), beats: all('cfg') },
      { prefix: 's_axis', width: spec.params.bits, beats: all('tokens') },
      { prefix: 's_wgt_axis', width: spec.params.cols * spec.params.w_bits, beats: all('wgt') },
      { prefix: 's_param_axis', width: spec.derived.gemm.derived.paramWidth, beats: all('param') },
    ],
    output: { prefix: 'm_axis', width: spec.params.bits, expectedBeats: expected.length, expected },
    maxCycles: runs.reduce((sum, c) => sum + runCycles(spec, c), 0),
    statusWidth: STATUS_WIDTH,
  };
  return { harness, expected, streams };
}

/** Simulates runs back to back and compares every output code with the model's (simulateAndCompare). */
export async function runEncoder(
  spec: EncoderSpec, runs: readonly EncoderCase[], workDir: string, options: SimOptions = {}, codes: ReadonlyArray<readonly (readonly number[])[]> = runs.map(expectedCodes),
): Promise<CheckedRun & { expected: Beat[] }> {
  const { harness, expected } = encoderHarness(spec, runs, emitEncoderRtl(spec), codes);
  return { ...(await simulateAndCompare(harness, workDir, options, expected, (i) => describeBeat(runs, i))), expected };
}

/** Names output beat i: its run, token and channel. */
function describeBeat(runs: readonly EncoderCase[], index: number): string {
  let i = index;
  for (const [r, c] of runs.entries()) {
    const width = expectedCodes(c)[0]!.length;
    if (i < c.tokens * width) return `run ${r} ${OUTPUT_STAGE} token ${Math.floor(i / width)} channel ${i % width} (steps ${ENCODER_STEPS.join(' -> ')})`;
    i -= c.tokens * width;
  }
  return `beat ${index} (past the last run)`;
}

/**
 * The instance `verify --vectors` builds for a case: its widths, C and heads, room for exactly its N and MLP width,
 * the softmax table sized for its score scale, and a 4 × 4 array (the figures of README.md, "DeiT-Tiny") unless
 * `hardware` (verify --spec) gives rows and cols.
 */
export function caseInstance(c: EncoderCase, hardware: VerifyOptions['hardware'] = {}): EncoderSpec {
  return resolveEncoder(c.aBits, {
    // A 4 × 4 array and a requantizer at 10 cycles a code: at DeiT-Tiny's shape neither waits for the other
    rows: 4, cols: 4, requant_cycles: 10, ...hardware,
    w_bits: c.wBits, dim: c.dim, heads: c.heads, max_tokens: c.tokens, max_mlp_hidden: c.mlpHidden,
    min_score_scale: c.quantizers.attn_score.scale,
  });
}

/** One `verify --vectors` row of an encoder case: the model's report (report.ts) beside the RTL's run. */
export function encoderRow(index: number, model: EncoderReport, run: CheckedRun): CaseReport {
  const resid2 = model.stages.resid2;
  const stages: Record<string, number> = {};
  const detail: Record<string, { elements: number; max_abs_diff: number }> = {};
  for (const name of STAGE_NAMES) {
    stages[name] = model.stages[name].mismatches;
    detail[name] = { elements: model.stages[name].elements, max_abs_diff: model.stages[name].max_abs_diff };
  }
  const { comparison, result } = run;
  const first = comparison.first ?? (result.timedOut ? `timed out at cycle ${result.doneCycle}` : (result.statusError ?? 0n) !== 0n ? `status_error 0x${result.statusError!.toString(16)}` : undefined);
  return {
    block: 'encoder', index,
    elements: resid2.elements,
    // Every output code against the chained model; a timeout or a raised error bit counts as a mismatch too
    rtl_vs_model: comparison.mismatches + (result.timedOut ? 1 : 0) + ((result.statusError ?? 0n) !== 0n ? 1 : 0),
    model_vs_expect: resid2.mismatches,
    max_abs_diff: resid2.max_abs_diff,
    stages, stage_detail: detail,
    chain: { mismatches: model.chain.mismatches, max_abs_diff: model.chain.max_abs_diff },
    sqnr_db: model.sqnr_db,
    sqnr_fqvit_db: model.sqnr_fqvit_db,
    ...(first === undefined ? {} : { first }),
  };
}

/** The whole cfg stream of one run as a Program (header, then each step's program in order: README.md, "Host protocol"). */
export function encoderProgram(spec: EncoderSpec, c: EncoderCase, streams: EncoderStreams = encoderStreams(spec, c)): Program {
  const wordWidth = cfgWidth(spec);
  const h = headerFields(spec);
  return {
    format: {
      wordWidth,
      fields: [
        { name: 'n', lsb: h.nLsb, width: h.nWidth, meaning: 'header (first word): tokens N of the run, 1..max_tokens' },
        { name: 'mlp_hidden', lsb: h.hLsb, width: h.hWidth, meaning: 'header (first word): MLP hidden width, 1..max_mlp_hidden' },
        { name: 'word', lsb: 0, width: wordWidth, meaning: 'every later word: a word of the step\'s own program (its block\'s format), zero-extended' },
      ],
      order: 'header; norm1 (LayerNorm program); qkv (input zero point); attention program; proj (input zero point); resid1 (residual program); norm2 (LayerNorm program); fc1 (input zero point); GELU program; fc2 (input zero point); resid2 (residual program); tlast on the last word of each (README.md, "Host protocol")',
    },
    words: streams.cfg.map((b) => b.data),
    values: { tokens: c.tokens, mlp_hidden: c.mlpHidden, layer: c.kind, steps: [...ENCODER_STEPS] },
  };
}

/**
 * Multiply-accumulates of one run: the four GEMMs (N · (3C² + C² + 2 · C · hidden)) and attention's QK and PV
 * (2 · N² · C).
 */
export function encoderMacs(c: Pick<EncoderCase, 'tokens' | 'dim' | 'mlpHidden'>): number {
  return c.tokens * (4 * c.dim * c.dim + 2 * c.dim * c.mlpHidden) + 2 * c.tokens * c.tokens * c.dim;
}

export function encoderManifest(spec: EncoderSpec, rtl: FileSet, program: Program): BlockManifest {
  const p = spec.params;
  const d = spec.derived;
  // The units' bits follow the encoder's own, each unit's in its own order (rtl.ts STATUS_WIDTH)
  const units: Array<[string, ReadonlyArray<{ name: string; meaning: string }>]> = [
    ['layernorm', LN_ERRORS], ['attention', ATTENTION_ERRORS], ['residual', RESIDUAL_ERRORS], ['gelu', GELU_ERRORS],
  ];
  let next = OWN_ERRORS.length;
  const errors = [
    ...OWN_ERRORS.map((e) => ({ ...e })),
    ...units.flatMap(([unit, list]) => list.map((e, i) => ({ bit: next++, name: `${unit}_${e.name}`, meaning: `the ${unit} unit's bit ${i}: ${e.meaning}` }))),
  ];
  if (next !== STATUS_WIDTH) throw new Error(`encoder manifest: ${next} status bits listed, ${STATUS_WIDTH} in the RTL`);
  const full = { tokens: p.max_tokens, dim: p.dim, mlpHidden: p.max_mlp_hidden };
  return {
    block: 'encoder',
    top: encoderTop(spec),
    prefix: spec.prefix,
    files: [...rtl.keys()].filter((f) => f.endsWith('.v')).sort(),
    parameters: [],
    spec: publicSpec(spec),
    derived: {
      max_k: d.maxK, max_out: d.maxOut, token_tiles: d.tokenTiles,
      buffers: bufferGeometry(spec),
      gemm: { top: d.gemm.prefix, acc_width: d.gemm.derived.accWidth, frac_bits: d.gemm.fracBits, param_width: d.gemm.derived.paramWidth },
      macs_at_maxima: encoderMacs(full),
      rounding: 'half-even in every requantizer (GEMM, attention, residual, LayerNorm), GELU exact against its float64 formula; each sub-block states its own (its manifest)',
      overflow: 'none: every accumulator is held at full width; codes saturate to 0 .. 2^bits - 1',
      status_bits: `${STATUS_WIDTH}: the encoder's own, then the LayerNorm's, the attention block's, the residual block's and the GELU's, in that order`,
    },
    latency: {
      cycles: runCycles(spec, full),
      formula: 'a run is a batch: its first output code comes after every step has run on all N tokens; cycles: the testbench\'s bound on a run at max_tokens and max_mlp_hidden with no stalls (index.ts runCycles: each step at its unit\'s pace, each GEMM column tile\'s load, K run and drain); measured at DeiT-Tiny shape in README.md',
    },
    throughput: {
      elements_per_cycle: p.rows * p.cols,
      unit: 'MACs a cycle in the GEMM steps (rows · cols array); attention runs at one lane',
      condition: 'weights streamed ahead (s_wgt_axis never empty); measured at DeiT-Tiny shape by verify --sim verilator (README.md)',
    },
    ports: {
      s_cfg_axis: { direction: 'in', tdata: cfgWidth(spec), meaning: 'the run\'s programs: the header, then each step\'s program, tlast on the last word of each (program format below)' },
      s_axis: { direction: 'in', tdata: p.bits, meaning: 'the N input tokens, C codes each in channel order, tlast on each token\'s last code' },
      s_wgt_axis: { direction: 'in', tdata: p.cols * p.w_bits, meaning: 'qkv, proj, fc1, fc2 weights: per column tile, K beats of cols weights' },
      s_param_axis: { direction: 'in', tdata: d.gemm.derived.paramWidth, meaning: 'per column tile, cols beats of {B, S, M} requantizer constants (fc1: zeros)' },
      m_axis: { direction: 'out', tdata: p.bits, meaning: 'resid2 codes, N × C token by token, tlast on the run\'s last code' },
    },
    errors,
    program: { ...program.format, file: 'program/default.hex' },
  };
}

/**
 * verify --one-instance: one instance per distinct set of generation-time sizes among the encoder cases (widths, C,
 * heads), with room for the most tokens and the widest MLP of its cases and a softmax table for the finest score
 * scale; the cases run back to back in one simulation, each one's header and programs before its tokens.
 */
async function verifyEncoderOneInstance(cases: ReadonlyArray<{ index: number; vectorCase: Record<string, unknown> }>, options: VerifyOptions): Promise<{ instances: number; reports: CaseReport[] }> {
  const groups = new Map<string, Array<{ index: number; c: EncoderCase }>>();
  for (const { index, vectorCase } of cases) {
    const c = readEncoderCase(vectorCase);
    const key = `${c.aBits}/${c.wBits}/${c.dim}/${c.heads}`;
    groups.set(key, [...(groups.get(key) ?? []), { index, c }]);
  }
  const reports: CaseReport[] = [];
  let g = 0;
  for (const members of groups.values()) {
    const runs = members.map((m) => m.c);
    const spec = resolveEncoder(runs[0]!.aBits, {
      rows: 4, cols: 4, ...options.hardware, w_bits: runs[0]!.wBits, dim: runs[0]!.dim, heads: runs[0]!.heads,
      max_tokens: Math.max(...runs.map((c) => c.tokens)), max_mlp_hidden: Math.max(...runs.map((c) => c.mlpHidden)),
      min_score_scale: Math.min(...runs.map((c) => c.quantizers.attn_score.scale)),
    });
    const models = runs.map((c) => encoderCaseReport(c));
    if (options.dumpDir !== undefined) members.forEach((m, i) => dumpEncoder(options.dumpDir!, m.index, models[i]!.output));
    const whole = await runEncoder(spec, runs, join(options.workDir, `instance-${g++}`), options, models.map((m) => m.output));
    // Each case's row compares its own slice of the output; a timeout or an error bit belongs to the whole run
    let at = 0;
    members.forEach((m, i) => {
      const count = m.c.tokens * models[i]!.output[0]!.length;
      const comparison = compareBeats(whole.expected.slice(at, at + count), whole.result.beats.slice(at, at + count), (k) => describeBeat([m.c], k));
      at += count;
      reports.push(encoderRow(m.index, models[i]!, { result: whole.result, comparison }));
    });
  }
  return { instances: groups.size, reports: reports.sort((a, b) => a.index - b.index) };
}

export const encoderBlock: Block<EncoderSpec> = {
  name: 'encoder',
  caseHardware: ['rows', 'cols', 'requant_cycles', 'datapath'],
  summary: 'The whole FQ-ViT encoder block (norm1, qkv, attention, proj, resid1, norm2, fc1, GELU, fc2, resid2) on one instance of each unit, with a sequencer',
  maxBits: GELU_MAX_BITS,
  tolerance: {
    maxAbsDiff: 0,
    maxMismatchFraction: 0,
    reason: "model_vs_expect is the resid2 step fed the file's own resid1 and fc2_out; every step fed the file's own input must be exact but the LayerNorm steps and attn_prob_fqvit (FQ-ViT's float artifacts, their own limits); the whole chain must be at least as accurate as FQ-ViT's float run less 0.1 dB",
    artifactStages: STAGE_TOLERANCE as Readonly<Record<string, StageLimit>>,
    sqnrMarginDb: SQNR_MARGIN_DB,
  },
  resolve: resolveEncoder,
  generate(spec) {
    const rtl = emitEncoderRtl(spec);
    const runs = defaultRuns(spec);
    // A default run's `expect` is the chained model's resid2 (default.ts), computed once
    const { harness, expected, streams } = encoderHarness(spec, runs, rtl, runs.map((c) => c.expect));
    // The testbench checks itself against the chained model's resid2 beats (vectors/expected.hex).
    const tb = emitTestbench({ ...harness, output: { ...harness.output, expected } }, { stallPercent: 20, seed: 1 });
    const program = encoderProgram(spec, runs[0]!, streams[0]);
    const files: FileSet = new Map([...rtl].map(([p, t]) => [`rtl/${p}`, t]));
    files.set('rtl/manifest.json', manifestJson(encoderManifest(spec, rtl, program)));
    return mergeFileSets(files, tb, programFiles('program/default', program));
  },
  async verifyDefault(spec, options: VerifyOptions): Promise<DefaultReport> {
    const runs = defaultRuns(spec, options.seed ?? 1);
    const { comparison, result } = await runEncoder(spec, runs, options.workDir, options, runs.map((c) => c.expect));
    return {
      block: 'encoder', module: encoderTop(spec), elements: runs.reduce((n, c) => n + c.tokens * c.dim, 0),
      rtl_vs_model: comparison.mismatches + (result.timedOut ? 1 : 0), ...runTiming(result), first: comparison.first,
    };
  },
  async verifyCase(vectorCase, index, options: VerifyOptions): Promise<CaseReport> {
    const c = readEncoderCase(vectorCase);
    const model = encoderCaseReport(c);
    if (options.dumpDir !== undefined) dumpEncoder(options.dumpDir, index, model.output);
    // The RTL against the chain the report already ran (model.output: resid2 of the chain fed `inputs`)
    const spec = caseInstance(c, options.hardware);
    const run = await runEncoder(spec, [c], options.workDir, options, [model.output]);
    const macs = encoderMacs(c);
    const perCycle = spec.params.rows * spec.params.cols;
    const cycles = runTiming(run.result).cycles;
    return {
      ...encoderRow(index, model, run),
      cycles: { run: cycles, macs, array_macs_per_cycle: perCycle, ideal: macs / perCycle, array_utilisation: cycles > 0 ? macs / perCycle / cycles : 0 },
    };
  },
  verifyOneInstance: verifyEncoderOneInstance,
};
