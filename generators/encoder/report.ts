/**
 * The encoder model against an `encoder` case (issue 11, "The block's golden model"):
 *   stages   every step fed the REFERENCE's own input to it, against every name in `intermediate` (attn_prob against
 *            attn_prob_exact, attn_prob_fqvit against FQ-ViT's float attn_prob; the attention steps are
 *            attention/stages.ts stageChecks)
 *   chain    the whole model fed only `inputs`, against `expect` (reported: FQ-ViT's float LIS artifact may flip a
 *            probability, FQVIT.md)
 *   sqnr_db  the chain's dequantized output against `float_out`; sqnr_fqvit_db the same for `expect`
 * `encoderReportFailures` states the requirements once (the tolerances below), for the tests and for verify.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTN_PROB_FQVIT_LIMIT, stageChecks } from '../attention/stages.ts';
import { limitViolations, type StageLimit } from '../block.ts';
import { layernormBlock } from '../layernorm/index.ts';
import type { EncoderCase, PtfQuantizer } from './case.ts';
import { encoderChain, encoderLayers, fc1GeluCodes, linearCodes, normStep, residualCodes, type EncoderLayers } from './model.ts';

/** One step's comparison. */
export interface StageResult {
  mismatches: number;
  max_abs_diff: number;
  elements: number;
  /** The first mismatch, with its indices. */
  first?: string;
  /** attn_prob_fqvit only: mismatches where one side is exactly 0 (null) and the other a code (no difference counted). */
  null_flips?: number;
}

export const STAGE_NAMES = [
  'norm1_out', 'qkv_out', 'attn_score', 'attn_prob', 'attn_prob_fqvit', 'attn_out', 'proj_out', 'resid1', 'norm2_out', 'fc1_act', 'fc2_out', 'resid2',
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/**
 * Steps allowed to differ from the reference, and by how much (allowed count: the fraction of the step's elements,
 * rounded down, as block.ts toleranceViolations); every other step must be exact.
 */
export const STAGE_TOLERANCE: Partial<Record<StageName, StageLimit>> = {
  norm1_out: layernormBlock.tolerance,
  norm2_out: layernormBlock.tolerance,
  attn_prob_fqvit: ATTN_PROB_FQVIT_LIMIT,
};

/** The chain may be less accurate than FQ-ViT's float run by at most this much. */
export const SQNR_MARGIN_DB = 0.1;

export interface EncoderReport {
  stages: Record<StageName, StageResult>;
  chain: StageResult;
  sqnr_db: number;
  sqnr_fqvit_db: number;
  /** N × C resid2 codes of the chain. */
  output: number[][];
}

/** Element-by-element comparison of two code matrices of one shape. */
export function compareCodes(got: readonly (readonly number[])[], want: readonly (readonly number[])[], name: string): StageResult {
  const r: StageResult = { mismatches: 0, max_abs_diff: 0, elements: 0 };
  got.forEach((row, i) => row.forEach((x, j) => {
    r.elements++;
    const y = want[i]![j]!;
    if (x === y) return;
    r.mismatches++;
    r.max_abs_diff = Math.max(r.max_abs_diff, Math.abs(x - y));
    r.first ??= `${name} token ${i} channel ${j}: model ${x}, reference ${y}`;
  }));
  return r;
}

function fromAttention(s: { mismatches: number; maxAbsDiff: number; elements: number; first?: string }): StageResult {
  return { mismatches: s.mismatches, max_abs_diff: s.maxAbsDiff, elements: s.elements, ...(s.first === undefined ? {} : { first: s.first }) };
}

/** Every step fed the reference's own input, against the reference's output of that step. */
export function encoderStages(c: EncoderCase, layers: EncoderLayers): Record<StageName, StageResult> {
  const im = c.intermediate;
  const att = stageChecks(c, layers.attention.spec, layers.attention.layer);
  return {
    norm1_out: compareCodes(normStep(layers.norm1, c.inputs), im.norm1_out, 'norm1_out'),
    qkv_out: compareCodes(linearCodes(layers.qkv, im.norm1_out), im.qkv_out, 'qkv_out'),
    attn_score: fromAttention(att.attn_score),
    attn_prob: fromAttention(att.attn_prob),
    attn_prob_fqvit: { ...fromAttention(att.attn_prob_fqvit), null_flips: att.attn_prob_fqvit_null_flips },
    attn_out: fromAttention(att.attn_out),
    proj_out: compareCodes(linearCodes(layers.proj, im.attn_out), im.proj_out, 'proj_out'),
    resid1: compareCodes(residualCodes(layers.resid1, layers.bits, c.inputs, im.proj_out), im.resid1, 'resid1'),
    norm2_out: compareCodes(normStep(layers.norm2, im.resid1), im.norm2_out, 'norm2_out'),
    fc1_act: compareCodes(fc1GeluCodes(layers, im.norm2_out), im.fc1_act, 'fc1_act'),
    fc2_out: compareCodes(linearCodes(layers.fc2, im.fc1_act), im.fc2_out, 'fc2_out'),
    resid2: compareCodes(residualCodes(layers.resid2, layers.bits, im.resid1, im.fc2_out), im.resid2, 'resid2'),
  };
}

/** 10 · log10(Σ f² / Σ (deq − f)²) of PTF codes (per-channel scale) against floats. */
export function sqnrDb(codes: readonly (readonly number[])[], q: PtfQuantizer, reference: readonly (readonly number[])[]): number {
  let signal = 0;
  let noise = 0;
  codes.forEach((row, i) => row.forEach((code, ch) => {
    const f = reference[i]![ch]!;
    const e = (code - q.zeroPoint) * q.scales[ch]! - f;
    signal += f * f;
    noise += e * e;
  }));
  return 10 * Math.log10(signal / noise);
}

/** The model's report of one case (the JSON shape, without rtl_vs_model). */
export function encoderCaseReport(c: EncoderCase, layers: EncoderLayers = encoderLayers(c)): EncoderReport {
  const output = encoderChain(layers, c.inputs).resid2;
  const q = c.quantizers.resid2;
  return {
    stages: encoderStages(c, layers),
    chain: compareCodes(output, c.expect, 'chain resid2'),
    sqnr_db: sqnrDb(output, q, c.floatOut),
    sqnr_fqvit_db: sqnrDb(c.expect, q, c.floatOut),
    output,
  };
}

/** The requirements a report breaks, one line each (empty: all hold). */
export function encoderReportFailures(r: EncoderReport): string[] {
  const failures: string[] = [];
  for (const name of STAGE_NAMES) {
    const s = r.stages[name];
    const t = STAGE_TOLERANCE[name];
    if (t === undefined) {
      if (s.mismatches !== 0) failures.push(`${name}: ${s.mismatches} of ${s.elements} differ (must be 0); first: ${s.first}`);
    } else {
      const broken = limitViolations(name, `${name} max_abs_diff`, s.mismatches, s.elements, s.max_abs_diff, t);
      if (broken.length > 0) failures.push(`${broken.join('; ')} (${t.reason}); first: ${s.first}`);
    }
  }
  if (!(r.sqnr_db >= r.sqnr_fqvit_db - SQNR_MARGIN_DB)) {
    failures.push(`sqnr_db ${r.sqnr_db.toFixed(3)} is below FQ-ViT's ${r.sqnr_fqvit_db.toFixed(3)} less ${SQNR_MARGIN_DB} dB`);
  }
  return failures;
}

/** verify --dump: writes DIR/<index>-encoder.json with {"output": N × C codes of the chain}; returns its path. */
export function dumpEncoder(dir: string, index: number, output: readonly (readonly number[])[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${index}-encoder.json`);
  writeFileSync(path, `${JSON.stringify({ output })}\n`);
  return path;
}
