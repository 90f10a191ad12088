/**
 * The encoder block's simulation: runs of the block (cases of the vector file, any N up to max_tokens) back to back on
 * one instance, every stream stalling at random, compared with the chained golden model (model.ts encoderChain).
 * Not yet in generators/registry.ts: the RTL runs a prefix of the chain (rtl.ts ENCODER_STEPS), and `gen` must not
 * emit a partial encoder.
 */
import { packetCycles } from '../attention/rtl.ts';
import type { FileSet } from '../common/files.ts';
import { simulateAndCompare, type Beat, type CheckedRun, type SimHarness, type SimOptions } from '../common/sim.ts';
import type { EncoderCase } from './case.ts';
import { encoderStreams, runBeats } from './host.ts';
import { encoderChain, encoderLayers, type ChainResult } from './model.ts';
import { cfgWidth, emitEncoderRtl, ENCODER_STEPS, encoderTop, STATUS_WIDTH } from './rtl.ts';
import type { EncoderSpec } from './spec.ts';

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
function runCycles(spec: EncoderSpec, c: EncoderCase): number {
  const { rows, cols } = spec.params;
  const rowTiles = Math.ceil(c.tokens / rows);
  const gemm = (out: number, k: number) => Math.ceil(out / cols) * (k + cols + rowTiles * (k + rows * cols + 80));
  return c.tokens * (c.dim + 400) + gemm(3 * c.dim, c.dim) + 3 * c.tokens * c.dim + packetCycles(spec.derived.attention, c.tokens) + gemm(c.dim, c.dim) + 2 * c.tokens * c.dim + c.tokens * (c.dim + 400)
    + gemm(c.mlpHidden, c.dim) + 2 * c.tokens * c.mlpHidden + gemm(c.dim, c.mlpHidden) + 2 * c.tokens * c.dim + 1000;
}

/** The harness of `runs` back to back on the instance, and the output beats the model gives. */
export function encoderHarness(spec: EncoderSpec, runs: readonly EncoderCase[], rtl: FileSet = emitEncoderRtl(spec)): { harness: SimHarness; expected: Beat[] } {
  const streams = runs.map((c) => encoderStreams(spec, c));
  const expected = runs.flatMap((c) => runBeats(expectedCodes(c)));
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
  return { harness, expected };
}

/** Simulates runs back to back and compares every output code with the model's (simulateAndCompare). */
export async function runEncoder(spec: EncoderSpec, runs: readonly EncoderCase[], workDir: string, options: SimOptions = {}): Promise<CheckedRun> {
  const { harness, expected } = encoderHarness(spec, runs);
  return simulateAndCompare(harness, workDir, options, expected, (i) => describeBeat(runs, i));
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
