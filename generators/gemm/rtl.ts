/**
 * RTL emitter of the GEMM block: spec → the Verilog modules (Handlebars shells in templates/gemm/ bound to widths
 * computed here) and the JSON manifest. The leaf arithmetic units have their own emitters so that a test (or the
 * formal flow) can generate them alone, at small widths.
 */
import type { FileSet } from '../common/files.ts';
import { libraryFiles, libraryName } from '../common/library.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { moduleNames } from '../common/names.ts';
import { render } from '../common/render.ts';
import { headerComment } from '../common/verilog.ts';
import { clog2 } from '../common/arith.ts';
import { ARRAY_STAGES, requantStages, type GemmSpec } from './spec.ts';

/** Base names of the block's own modules (each is prefixed, common/names.ts). */
const MODULES = ['gemm', 'gemm_pe', 'gemm_drain', 'gemm_requant', 'gemm_rne_shift'] as const;

/** The top module's name for a spec (prefixed). */
export function gemmTop(spec: GemmSpec): string {
  return moduleNames(spec.prefix, MODULES).gemm;
}

/** The spec as it appears in headers and the manifest (user-facing names). */
export function publicSpec(spec: GemmSpec): Record<string, number | string> {
  return { rows: spec.rows, cols: spec.cols, a_bits: spec.aBits, w_bits: spec.wBits, out_bits: spec.outBits, max_k: spec.maxK, frac_bits: spec.fracBits, prefix: spec.prefix };
}

/**
 * The processing element (MAC): the product a * w (signed) registered after PE_PRODUCT_STAGES (spec.ts) cycles,
 * accumulator with first/last control and the result register of the double buffer. a is aWidth bits signed (a
 * centered activation), w is wWidth bits signed.
 */
export function emitPe(p: { aWidth: number; wWidth: number; accWidth: number }, spec?: unknown, name = 'gemm_pe'): string {
  return render('gemm/gemm_pe.v', { header: headerComment(`${name}: one MAC of the GEMM array`, spec ?? p), name, ...p });
}

/** The round-half-even shifter, combinational: quotient = floor(value / 2^shift) and round_up, with round_half_even(value / 2^shift) = quotient + round_up; value is `width` bits signed. */
export function emitRneShift(p: { width: number; shiftWidth: number }, spec?: unknown, name = 'gemm_rne_shift'): string {
  return render('gemm/gemm_rne_shift.v', { header: headerComment(`${name}: arithmetic right shift, rounding half to even`, spec ?? p), name, ...p });
}

/**
 * The requantizer: clamp(round_half_even((acc * M + B) / 2^S), 0, 2^outBits - 1), `requantStages(fracBits)` pipeline
 * stages (spec.ts): digit products, an adder tree, the offset in two halves, the shift, the saturation. It
 * instantiates the shifter `rneShiftName`.
 */
export function emitRequant(
  p: { accWidth: number; fracBits: number; shiftWidth: number; offsetWidth: number; sumWidth: number; outBits: number },
  spec?: unknown,
  names: { name: string; rneShiftName: string } = { name: 'gemm_requant', rneShiftName: 'gemm_rne_shift' },
): string {
  return render('gemm/gemm_requant.v', { header: headerComment(`${names.name}: per-channel requantizer`, spec ?? p), ...names, ...p });
}

function view(spec: GemmSpec, accOut = false) {
  const d = spec.derived;
  return {
    accOut,
    accMsb: d.accWidth - 1,
    names: { ...moduleNames(spec.prefix, MODULES), axis_skid_buffer: libraryName('axis_skid_buffer', spec.prefix, 'gemm') },
    rows: spec.rows,
    cols: spec.cols,
    aBits: spec.aBits,
    wBits: spec.wBits,
    outBits: spec.outBits,
    maxK: spec.maxK,
    kCountWidth: clog2(spec.maxK + 1),
    fracBits: spec.fracBits,
    accWidth: d.accWidth,
    shiftWidth: d.shiftWidth,
    offsetWidth: d.offsetWidth,
    sumWidth: d.sumWidth,
    paramWidth: d.paramWidth,
    indexWidth: Math.max(1, clog2(spec.rows * spec.cols)),
    rowWidth: d.rowIndexWidth,
    actMsb: d.actWidth - 1,
    wgtMsb: d.wgtWidth - 1,
    paramMsb: d.paramWidth - 1,
    outMsb: spec.outBits - 1,
  };
}

/**
 * The block's Verilog modules (with the library skid buffer), keyed by file name. `accOut` (the encoder's fc1 -> GELU
 * only; off for the GEMM block) adds the run-time accumulator-out mode: ports acc_mode and m_axis_tacc.
 */
export function emitRtl(spec: GemmSpec, options: { accOut?: boolean } = {}): FileSet {
  const v = view(spec, options.accOut ?? false);
  const n = v.names;
  const pub = publicSpec(spec);
  const d = spec.derived;
  const files: FileSet = new Map([
    [`${n.gemm}.v`, render('gemm/gemm.v', { header: headerComment(`${n.gemm}: integer GEMM with per-channel requantization (FQ-ViT)`, pub), ...v })],
    [`${n.gemm_pe}.v`, emitPe({ aWidth: d.centeredWidth, wWidth: spec.wBits, accWidth: d.accWidth }, pub, n.gemm_pe)],
    [`${n.gemm_drain}.v`, render('gemm/gemm_drain.v', { header: headerComment(`${n.gemm_drain}: reads a finished tile and pairs it with its channel constants`, pub), name: n.gemm_drain, ...v })],
    [`${n.gemm_requant}.v`, emitRequant({ accWidth: d.accWidth, fracBits: spec.fracBits, shiftWidth: d.shiftWidth, offsetWidth: d.offsetWidth, sumWidth: d.sumWidth, outBits: spec.outBits }, pub, { name: n.gemm_requant, rneShiftName: n.gemm_rne_shift })],
    [`${n.gemm_rne_shift}.v`, emitRneShift({ width: d.sumWidth, shiftWidth: d.shiftWidth }, pub, n.gemm_rne_shift)],
  ]);
  for (const [path, text] of libraryFiles(['axis_skid_buffer'], spec.prefix, 'gemm')) files.set(path, text);
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

/** The K_OVERFLOW bit of status_error. */
export const GEMM_ERRORS = [
  { bit: 0, name: 'K_OVERFLOW', meaning: 'a K run longer than max_k beats: the beats past max_k were taken but not accumulated (nothing wraps); that tile\'s codes are not the product' },
];

export function manifest(spec: GemmSpec): string {
  const d = spec.derived;
  const m: BlockManifest = {
    block: 'gemm',
    top: gemmTop(spec),
    prefix: spec.prefix,
    files: [...emitRtl(spec).keys()].sort(),
    parameters: [],
    spec: publicSpec(spec),
    derived: {
      ...d,
      requant_stages: requantStages(spec.fracBits),
      rounding: 'half to even: out = clamp(round_half_even((acc * M + B) / 2^S), 0, 2^out_bits - 1)',
      overflow: `none: acc_width holds every sum of up to max_k = ${spec.maxK} products; a longer K run sets K_OVERFLOW`,
    },
    latency: {
      cycles: d.drainLatency,
      formula: 'cycles from the first k-step beat to the first output code, for K = 1; add K - 1 for a K run of K',
    },
    throughput: {
      elements_per_cycle: 1,
      unit: `k-step beats (ROWS*COLS = ${spec.rows * spec.cols} MACs) per cycle`,
      condition: `streams never stall; a tile of ROWS*COLS codes every max(K, ROWS*COLS + ${DRAIN_RESTART_GAP}) cycles (test/gemm-rtl.test.ts measures it)`,
    },
    ports: {
      s_act_axis: { direction: 'in', tdata: d.actWidth, meaning: '{zero_point, a[ROWS-1], ..., a[0]}, tlast ends the K run' },
      s_wgt_axis: { direction: 'in', tdata: d.wgtWidth, meaning: '{w[COLS-1], ..., w[0]} signed, moves with s_act_axis' },
      s_param_axis: { direction: 'in', tdata: d.paramWidth, meaning: '{B (signed), S, M}, one per column per tile' },
      m_axis: { direction: 'out', tdata: spec.outBits, meaning: 'one code; ROWS*COLS per tile, column-major, tlast on the last' },
    },
    errors: GEMM_ERRORS,
  };
  return manifestJson(m);
}
