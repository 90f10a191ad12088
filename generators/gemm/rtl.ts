/**
 * RTL emitter of the GEMM block: spec → the Verilog modules (Handlebars shells in templates/gemm/ bound to widths
 * computed here) and the JSON manifest. The leaf arithmetic units have their own emitters so that a test (or the
 * formal flow) can generate them alone, at small widths.
 */
import type { FileSet } from '../common/files.ts';
import { libraryFiles } from '../common/library.ts';
import { render } from '../common/render.ts';
import { headerComment, jsonBigint } from '../common/verilog.ts';
import { clog2 } from '../common/arith.ts';
import { ARRAY_STAGES, requantStages, type GemmSpec } from './spec.ts';

export const GEMM_TOP = 'gemm';

/** The spec as it appears in headers and the manifest (user-facing names). */
export function publicSpec(spec: GemmSpec): Record<string, number> {
  return { rows: spec.rows, cols: spec.cols, a_bits: spec.aBits, w_bits: spec.wBits, out_bits: spec.outBits, max_k: spec.maxK, frac_bits: spec.fracBits };
}

/**
 * The processing element (MAC): the product a * w (signed) registered after PE_PRODUCT_STAGES (spec.ts) cycles,
 * accumulator with first/last control and the result register of the double buffer. a is aWidth bits signed (a
 * centered activation), w is wWidth bits signed.
 */
export function emitPe(p: { aWidth: number; wWidth: number; accWidth: number }, spec?: unknown): string {
  return render('gemm/gemm_pe.v', { header: headerComment('gemm_pe: one MAC of the GEMM array', spec ?? p), ...p });
}

/** The round-half-even shifter, combinational: quotient = floor(value / 2^shift) and round_up, with round_half_even(value / 2^shift) = quotient + round_up; value is `width` bits signed. */
export function emitRneShift(p: { width: number; shiftWidth: number }, spec?: unknown): string {
  return render('gemm/gemm_rne_shift.v', { header: headerComment('gemm_rne_shift: arithmetic right shift, rounding half to even', spec ?? p), ...p });
}

/**
 * The requantizer: clamp(round_half_even((acc * M + B) / 2^S), 0, 2^outBits - 1), `requantStages(fracBits)` pipeline
 * stages (spec.ts): digit products, an adder tree, the offset in two halves, the shift, the saturation.
 */
export function emitRequant(
  p: { accWidth: number; fracBits: number; shiftWidth: number; offsetWidth: number; sumWidth: number; outBits: number },
  spec?: unknown,
): string {
  return render('gemm/gemm_requant.v', { header: headerComment('gemm_requant: per-channel requantizer', spec ?? p), ...p });
}

function view(spec: GemmSpec) {
  const d = spec.derived;
  return {
    rows: spec.rows,
    cols: spec.cols,
    aBits: spec.aBits,
    wBits: spec.wBits,
    outBits: spec.outBits,
    maxK: spec.maxK,
    fracBits: spec.fracBits,
    accWidth: d.accWidth,
    shiftWidth: d.shiftWidth,
    offsetWidth: d.offsetWidth,
    sumWidth: d.sumWidth,
    paramWidth: d.paramWidth,
    indexWidth: Math.max(1, clog2(spec.rows * spec.cols)),
    rowWidth: d.rowIndexWidth,
  };
}

/** Top-level parameters, in declaration order, for instantiation (testbench, synthesis). */
export function topParams(spec: GemmSpec): Array<{ name: string; value: number }> {
  const v = view(spec);
  return [
    { name: 'ROWS', value: v.rows },
    { name: 'COLS', value: v.cols },
    { name: 'A_BITS', value: v.aBits },
    { name: 'W_BITS', value: v.wBits },
    { name: 'OUT_BITS', value: v.outBits },
    { name: 'ACC_WIDTH', value: v.accWidth },
    { name: 'FRAC_BITS', value: v.fracBits },
    { name: 'SHIFT_WIDTH', value: v.shiftWidth },
    { name: 'OFFSET_WIDTH', value: v.offsetWidth },
    { name: 'SUM_WIDTH', value: v.sumWidth },
    { name: 'INDEX_WIDTH', value: v.indexWidth },
    { name: 'ROW_WIDTH', value: v.rowWidth },
  ];
}

/** The block's Verilog modules (with the library skid buffer), keyed by file name. */
export function emitRtl(spec: GemmSpec): FileSet {
  const v = view(spec);
  const pub = publicSpec(spec);
  const d = spec.derived;
  const files: FileSet = new Map([
    [`${GEMM_TOP}.v`, render('gemm/gemm.v', { header: headerComment('gemm: integer GEMM with per-channel requantization (FQ-ViT)', pub), ...v })],
    ['gemm_pe.v', emitPe({ aWidth: d.centeredWidth, wWidth: spec.wBits, accWidth: d.accWidth }, pub)],
    ['gemm_drain.v', render('gemm/gemm_drain.v', { header: headerComment('gemm_drain: reads a finished tile and pairs it with its channel constants', pub), ...v })],
    ['gemm_requant.v', emitRequant({ accWidth: d.accWidth, fracBits: spec.fracBits, shiftWidth: d.shiftWidth, offsetWidth: d.offsetWidth, sumWidth: d.sumWidth, outBits: spec.outBits }, pub)],
    ['gemm_rne_shift.v', emitRneShift({ width: d.sumWidth, shiftWidth: d.shiftWidth }, pub)],
  ]);
  for (const [path, text] of libraryFiles(['axis_skid_buffer'])) files.set(path, text);
  return files;
}

/** Cycles per tile in steady state: the longer of the K run and the drain (ROWS * COLS cycles plus its restart gap). */
export function tileCycles(spec: GemmSpec, k: number): number {
  return Math.max(k, spec.rows * spec.cols + DRAIN_RESTART_GAP);
}

/**
 * Cycles between the drain's last read of a tile and its first read of the next when K is short (bank hand-over): the
 * run's last beat waits for the bank, then crosses the array's register stages.
 */
export const DRAIN_RESTART_GAP = ARRAY_STAGES;

export function manifest(spec: GemmSpec): string {
  const d = spec.derived;
  const files = [...emitRtl(spec).keys()].sort();
  return JSON.stringify({
    block: 'gemm',
    top: GEMM_TOP,
    files,
    spec: publicSpec(spec),
    params: topParams(spec),
    derived: { ...d, requantStages: requantStages(spec.fracBits) },
    // First input beat to first output beat with no stalls, for a K run of 1; a K run of k adds k - 1.
    latency_cycles: d.drainLatency,
    latency_note: 'cycles from the first k-step beat to the first output code, for K = 1; add K - 1 for a K run of K',
    // One k-step beat (ROWS * COLS MACs) per cycle; a tile of ROWS * COLS codes every max(K, ROWS * COLS + gap) cycles.
    cycles_per_element: 1,
    throughput_note: `one k-step beat (ROWS*COLS MACs) per cycle; one tile of ROWS*COLS output codes every max(K, ROWS*COLS + ${DRAIN_RESTART_GAP}) cycles`,
    ports: {
      s_act_axis: { width: d.actWidth, beat: '{zero_point, a[ROWS-1], ..., a[0]}, tlast ends the K run' },
      s_wgt_axis: { width: d.wgtWidth, beat: '{w[COLS-1], ..., w[0]} signed, moves with s_act_axis' },
      s_param_axis: { width: d.paramWidth, beat: '{B (signed), S, M}, one per column per tile' },
      m_axis: { width: spec.outBits, beat: 'one code; ROWS*COLS per tile, column-major, tlast on the last' },
    },
  }, jsonBigint, 2) + '\n';
}
