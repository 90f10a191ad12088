/**
 * Accuracy of the encoder: the SQNR (dB) of the chained golden model's dequantized output (resid2 codes through the
 * resid2 PTF quantizer) against a float reference, with the encoder model's own helper (encoder/report.ts sqnrDb).
 *   sqnr_db              against `float_out` of a public encoder case (../shared/vectors/FORMAT.md) that the
 *                        configuration runs: its widths, C, heads, N and MLP width, and its layer's programs build
 *                        on the instance. The same figure `verify --vectors` reports for that case.
 *   sqnr_fqvit_db        FQ-ViT's own float run (`expect`) against `float_out` on the same case, for comparison.
 *   sqnr_float_block_db  against float64 evaluation of the same block with its quantized weights (float.ts
 *                        encoderFloat). Where no public case fits (the default dim 16 instance), this is the figure, on
 *                        the encoder's seeded synthetic default layer (default.ts), which has no float run of its own.
 * A configuration with several fitting public cases reports the lowest sqnr_db among them (its case is named).
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpecError } from '../common/errors.ts';
import { readVectorFile } from '../common/vectors.ts';
import { readEncoderCase, type EncoderCase } from '../encoder/case.ts';
import { defaultCase } from '../encoder/default.ts';
import { encoderStreams } from '../encoder/host.ts';
import { encoderChain, encoderLayers } from '../encoder/model.ts';
import { sqnrDb } from '../encoder/report.ts';
import { resolveEncoder, type EncoderSpec } from '../encoder/spec.ts';
import { encoderFloat } from './float.ts';
import { DEFAULT_SAMPLES, type AccuracyMetric, type AccuracyReport, type SampleOptions } from './types.ts';

/** The public encoder vectors, beside the repository (../shared/vectors). */
export const ENCODER_PUBLIC_VECTORS = fileURLToPath(new URL('../../../shared/vectors/fqvit-encoder-public.json', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A vector file as the report names it: relative to the repository, so that a report does not depend on where it ran. */
function shownPath(path: string): string {
  return relative(REPO_ROOT, path);
}

const FLOAT_BLOCK_MEANING = 'SQNR 10·log10(Σ f² / Σ (deq − f)²) in dB, higher is better: deq = the chained golden model\'s resid2 codes dequantized by the resid2 PTF quantizer, f = float64 evaluation of the same block (float.ts encoderFloat: LayerNorm without epsilon, softmax, erf GELU, no quantizer between steps) with the same quantized weights (code · w_scale) on the dequantized input codes; weight quantization is not counted';

/** The file's encoder cases, read once per path (the file is several megabytes). */
const filesRead = new Map<string, Array<Record<string, unknown>>>();
function encoderCasesOf(path: string): Array<Record<string, unknown>> {
  let cases = filesRead.get(path);
  if (cases === undefined) {
    cases = existsSync(path) ? readVectorFile(path).cases.filter((c) => c.block === 'encoder') : [];
    filesRead.set(path, cases);
  }
  return cases;
}

/** Whether the instance runs case `c` as it is: same widths, C and heads, N and MLP width within range, programs build. */
export function instanceRuns(spec: EncoderSpec, c: EncoderCase): boolean {
  if (c.sBits !== spec.params.s_bits) return false;
  try {
    encoderStreams(spec, c);
    return true;
  } catch (err) {
    if (err instanceof SpecError) return false;
    throw err;
  }
}

/** The public cases (with their index in the file) that the instance runs. */
export function fittingCases(spec: EncoderSpec, path = ENCODER_PUBLIC_VECTORS): Array<{ index: number; c: EncoderCase }> {
  const p = spec.params;
  return encoderCasesOf(path).flatMap((raw, index) => {
    // Cheap checks on the raw fields first: most cases are another shape and need not be read whole
    const shape = raw.a_bits === p.bits && raw.w_bits === p.w_bits && raw.s_bits === p.s_bits && raw.dim === p.dim && raw.heads === p.heads
      && typeof raw.tokens === 'number' && raw.tokens <= p.max_tokens && typeof raw.mlp_hidden === 'number' && raw.mlp_hidden <= p.max_mlp_hidden;
    if (!shape) return [];
    const c = readEncoderCase(raw);
    return instanceRuns(spec, c) ? [{ index, c }] : [];
  });
}

/** resid2 codes of the chained model fed only the case's input codes. */
function chainOutput(c: EncoderCase): number[][] {
  return encoderChain(encoderLayers(c), c.inputs).resid2;
}

/** How many of the output codes sit at 0 or 2^bits - 1 (clamped, or exactly there): the quantizer's clipping shows here. */
function atRangeEnds(out: readonly (readonly number[])[], bits: number): string {
  const codes = out.flat();
  const ends = codes.filter((v) => v === 0 || v === 2 ** bits - 1).length;
  return `${ends} of ${codes.length} resid2 codes at 0 or ${2 ** bits - 1}`;
}

/** sqnr_float_block_db of the chain's output `out` on case `c`. */
export function floatBlockSqnr(c: EncoderCase, out: readonly (readonly number[])[]): number {
  return sqnrDb(out, c.quantizers.resid2, encoderFloat(c, c.inputs));
}

export function encoderAccuracy(bits: number, overrides: unknown, options: SampleOptions = DEFAULT_SAMPLES, vectors = ENCODER_PUBLIC_VECTORS): AccuracyReport {
  const spec = resolveEncoder(bits, overrides);
  const p = spec.params;
  const measured = fittingCases(spec, vectors).map(({ index, c }) => {
    const out = chainOutput(c);
    return { index, c, out, sqnr: sqnrDb(out, c.quantizers.resid2, c.floatOut) };
  });
  if (measured.length > 0) {
    const worst = measured.reduce((a, b) => (b.sqnr < a.sqnr ? b : a));
    const { c, out } = worst;
    const metrics: AccuracyMetric[] = [
      { name: 'sqnr_db', value: worst.sqnr, better: 'higher', meaning: 'SQNR 10·log10(Σ f² / Σ (deq − f)²) in dB, higher is better: deq = the chained golden model\'s resid2 codes dequantized by the resid2 PTF quantizer, f = the case\'s float_out (FQ-ViT\'s block unquantized, float weights and tokens; FORMAT.md); as verify --vectors reports it' },
      { name: 'sqnr_fqvit_db', value: sqnrDb(c.expect, c.quantizers.resid2, c.floatOut), better: 'higher', meaning: 'the same SQNR of the case\'s expect (FQ-ViT\'s own quantized float run) against float_out: what FQ-ViT itself reaches on the case' },
      { name: 'sqnr_float_block_db', value: floatBlockSqnr(c, out), better: 'higher', meaning: FLOAT_BLOCK_MEANING },
    ];
    const others = measured.length > 1 ? `; lowest sqnr_db of the ${measured.length} fitting cases ${measured.map((m) => m.index).join(', ')}` : '';
    return {
      block: 'encoder',
      inputs: `public case ${worst.index} of ${shownPath(vectors)} ("${c.kind}", N = ${c.tokens}, C = ${c.dim}, H = ${c.heads}, MLP ${c.mlpHidden}, a_bits ${c.aBits}, w_bits ${c.wBits})${others}; ${atRangeEnds(out, c.aBits)}`,
      metrics,
      primary: 'sqnr_db',
    };
  }
  const tokens = Math.min(options.samples, p.max_tokens);
  const c = defaultCase(spec, tokens, options.seed);
  return {
    block: 'encoder',
    inputs: `no public case of ${shownPath(vectors)} fits this instance: the encoder's synthetic default layer (encoder/default.ts, mulberry32 seed ${options.seed}) on N = ${tokens} tokens of C = ${p.dim} codes, H = ${p.heads}, MLP ${p.max_mlp_hidden}, a_bits ${p.bits}, w_bits ${p.w_bits}; ${atRangeEnds(c.expect, p.bits)}`,
    metrics: [{ name: 'sqnr_float_block_db', value: floatBlockSqnr(c, c.expect), better: 'higher', meaning: FLOAT_BLOCK_MEANING }],
    primary: 'sqnr_float_block_db',
  };
}
