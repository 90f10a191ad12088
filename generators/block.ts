/**
 * The contract every block generator implements. A block turns a validated spec into files (pure), and knows how to
 * check its RTL against its golden model, on its default stimulus and on the cases of a vector file.
 */
import type { FileSet } from './common/files.ts';
import type { SimOptions } from './common/sim.ts';

export const BLOCK_NAMES = ['gemm', 'layernorm', 'softmax', 'attention', 'gelu', 'residual', 'encoder'] as const;
export type BlockName = (typeof BLOCK_NAMES)[number];

/** One row of `npm run verify -- --vectors FILE --json`. */
export interface CaseReport {
  block: BlockName;
  /** Index of the case in the vector file. */
  index: number;
  /** Output elements compared. */
  elements: number;
  /** Elements where the RTL differs from the golden model (must be 0). */
  rtl_vs_model: number;
  /** Elements where the golden model differs from the file's `expect`. */
  model_vs_expect: number;
  /** Largest |model - expect| over the elements (0 for softmax codes that agree, 0-vs-null counts as a mismatch). */
  max_abs_diff: number;
  /** gemm only: accumulators that differ from `expect_acc`. */
  acc_vs_expect?: number;
  /** layernorm only: whether the TypeScript PTF calibration reproduced the file's `alpha` and zero point. */
  calibration?: 'match' | 'differs';
  /**
   * Blocks that check several stages of a case (attention): the model's mismatches against the file per stage, each
   * stage fed the file's own input to it.
   */
  stages?: Record<string, number>;
  /** With `stages`: each stage's element count and largest |model - reference| (a stage's limit is checked on them). */
  stage_detail?: Record<string, { elements: number; max_abs_diff: number }>;
  /** encoder only: the whole chained model fed only the case's `inputs`, against `expect` (reported, not limited). */
  chain?: { mismatches: number; max_abs_diff: number };
  /** encoder only: SQNR in dB of the chain's dequantized output against the file's `float_out`. */
  sqnr_db?: number;
  /** encoder only: the same figure for the file's `expect` (FQ-ViT's own float run); sqnr_db is checked against it. */
  sqnr_fqvit_db?: number;
  /**
   * encoder only, on its own instance per case: `run`, the cycles from the first input beat (of any stream: programs,
   * weights, tokens) to the last output beat, with verify's stalls (`--stall 0` gives the block's own pace); `ideal`,
   * the case's MACs over the array's MACs a cycle; `array_utilisation` = ideal / run.
   */
  cycles?: { run: number; macs: number; array_macs_per_cycle: number; ideal: number; array_utilisation: number };
  /** When rtl_vs_model > 0: the first differing element, its inputs, expected and actual values (compareBeats). */
  first?: string;
  /** What puts the case outside its block's tolerance (toleranceViolations); empty when it passes. Set by verify. */
  violations?: string[];
}

/** How far one set of codes may stand from the reference: the largest difference and the share that may differ. */
export interface StageLimit {
  /** Largest |model - expect| of any output code. */
  maxAbsDiff: number;
  /** Largest share of the elements that may differ from `expect` at all (allowed count rounded down). */
  maxMismatchFraction: number;
  /** Why these bounds, in one sentence (the README's verification section quotes it). */
  reason: string;
}

/**
 * How far a block's golden model may stand from the reference outputs of a vector file (FQ-ViT's float64 forward),
 * per case. `npm run verify -- --vectors` fails a case outside it; the RTL must equal the model exactly regardless.
 * Accumulators (`acc_vs_expect`) must always agree exactly and a calibration must always reproduce the file's.
 */
export interface Tolerance extends StageLimit {
  /**
   * Blocks that report `stages`: the stages that may differ from the file (FQ-ViT's own float artifacts), each with
   * its limit, checked against the report's `stage_detail`; every other stage must be 0.
   */
  artifactStages?: Readonly<Record<string, StageLimit>>;
  /**
   * Blocks that report `sqnr_db` (encoder): the model's chain may be less accurate than the reference's own run
   * (`sqnr_fqvit_db`) by at most this many dB.
   */
  sqnrMarginDb?: number;
}

/**
 * What puts `mismatches` of `elements` codes, off by up to `maxAbsDiff`, outside `limit`, one message each (empty:
 * within it). `name` labels the count and `diffName` the difference (model_vs_expect and max_abs_diff for a case).
 */
export function limitViolations(name: string, diffName: string, mismatches: number, elements: number, maxAbsDiff: number, limit: StageLimit): string[] {
  const out: string[] = [];
  const allowed = Math.floor(limit.maxMismatchFraction * elements);
  if (mismatches > allowed) out.push(`${name} ${mismatches} of ${elements} (at most ${allowed}: ${limit.maxMismatchFraction} of the elements)`);
  if (maxAbsDiff > limit.maxAbsDiff) out.push(`${diffName} ${maxAbsDiff} (at most ${limit.maxAbsDiff})`);
  return out;
}

/** Everything that puts a case outside `tolerance` or makes the RTL differ from the model, one message each. */
export function toleranceViolations(r: CaseReport, tolerance: Tolerance): string[] {
  const out: string[] = [];
  if (r.rtl_vs_model !== 0) out.push(`rtl_vs_model ${r.rtl_vs_model} (must be 0)`);
  for (const [stage, mismatches] of Object.entries(r.stages ?? {})) {
    const limit = tolerance.artifactStages?.[stage];
    const detail = r.stage_detail?.[stage];
    if (limit === undefined) {
      if (mismatches !== 0) out.push(`stage ${stage}: ${mismatches} mismatches (must be 0)`);
    } else if (detail === undefined) {
      out.push(`stage ${stage}: the report has no stage_detail to check its limit against`);
    } else {
      out.push(...limitViolations(`stage ${stage}`, `stage ${stage} max_abs_diff`, mismatches, detail.elements, detail.max_abs_diff, limit));
    }
  }
  out.push(...limitViolations('model_vs_expect', 'max_abs_diff', r.model_vs_expect, r.elements, r.max_abs_diff, tolerance));
  if (r.acc_vs_expect !== undefined && r.acc_vs_expect !== 0) out.push(`acc_vs_expect ${r.acc_vs_expect} (must be 0)`);
  if (r.calibration === 'differs') out.push('calibration differs (must match)');
  if (tolerance.sqnrMarginDb !== undefined) {
    if (r.sqnr_db === undefined || r.sqnr_fqvit_db === undefined) out.push('sqnr: the report has no sqnr_db and sqnr_fqvit_db to check');
    else if (!(r.sqnr_db >= r.sqnr_fqvit_db - tolerance.sqnrMarginDb)) {
      out.push(`sqnr_db ${r.sqnr_db.toFixed(3)} (at least sqnr_fqvit_db ${r.sqnr_fqvit_db.toFixed(3)} - ${tolerance.sqnrMarginDb} dB)`);
    }
  }
  return out;
}

/** One row of `npm run verify -- --bits N`: the default stimulus of one block. */
export interface DefaultReport {
  block: BlockName;
  module: string;
  elements: number;
  rtl_vs_model: number;
  /** Cycles from the first input beat to the last output beat, and the ideal element count they compare with. */
  cycles: number;
  latency: number;
  /** When rtl_vs_model > 0: the first differing element, its inputs, expected and actual values (compareBeats). */
  first?: string;
}

export interface VerifyOptions extends SimOptions {
  /** Folder for simulation files (testbench, vectors, waveform). */
  workDir: string;
  /** verify --dump DIR: blocks that write the model's output per case (encoder: DIR/<index>-encoder.json). */
  dumpDir?: string;
  /**
   * verify --vectors --spec FILE: the block's section of the spec file, limited to its `caseHardware` keys. Each case
   * fixes the widths, dimensions and constants; these choose the hardware that runs it (lanes, array shape, ...).
   */
  hardware?: Readonly<Record<string, unknown>>;
}

export interface Block<Spec> {
  readonly name: BlockName;
  /**
   * The `block` of the vector-file cases this block runs (verifyCase), when it is not the block's own name: e.g. the
   * attention block runs the `encoder` cases. Several blocks may run the same cases.
   */
  readonly caseBlock?: string;
  /** One line for --help and the README. */
  readonly summary: string;
  /**
   * The spec keys `verify --vectors` takes from a --spec file (VerifyOptions.hardware): generation-time choices of
   * hardware that a vector case does not fix and that do not change what the block computes. Any other key of the
   * block's section is a usage error there, since each case sets it.
   */
  readonly caseHardware?: readonly string[];
  /** How far the golden model may stand from a vector file's reference outputs (see Tolerance). */
  readonly tolerance: Tolerance;
  /**
   * The widest --bits the block's default spec takes, when narrower than the CLI's 2..16 (gelu: its bound tables grow
   * as 2^bits). `gen`/`verify` with no --blocks leave the block out above it, saying so; named with --blocks, or with
   * its own width in a spec section, the block's spec decides.
   */
  readonly maxBits?: number;
  /**
   * Validates the block's section of a --spec file (or undefined), applies the defaults for --bits, and derives
   * every width and constant once. Throws SpecError naming the parameter on bad input. `prefix` starts every module
   * name (generators/common/names.ts; default '': the base names).
   */
  resolve(bits: number, overrides: unknown, prefix?: string): Spec;
  /** Everything for the block's folder: rtl/ (modules and JSON manifest), tb/, vectors/ (stimulus and expected). */
  generate(spec: Spec): FileSet;
  /** Simulates the default stimulus and compares it with the golden model. */
  verifyDefault(spec: Spec, options: VerifyOptions): Promise<DefaultReport>;
  /** Runs one case of a vector file (its `block` is this block) through the model and the RTL. */
  verifyCase(vectorCase: Record<string, unknown>, index: number, options: VerifyOptions): Promise<CaseReport>;
  /**
   * `verify --one-instance`: one instance per distinct set of generation-time widths among `cases`, sized for the
   * largest case, runs every case back to back in one simulation, with each case's program loaded before its data
   * (common/program.ts) under random stalls. Reports one row per case, and how many instances it generated.
   */
  verifyOneInstance?(cases: ReadonlyArray<{ index: number; vectorCase: Record<string, unknown> }>, options: VerifyOptions): Promise<{ instances: number; reports: CaseReport[] }>;
}
