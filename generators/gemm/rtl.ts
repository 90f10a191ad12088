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
import { ARRAY_STAGES, ICE40_DSP_MIN_PRODUCT_WIDTH, requantSerialStages, type GemmMultiplier, type GemmSpec } from './spec.ts';

/** Base names of the block's own modules (each is prefixed, common/names.ts). */
const MODULES = ['gemm', 'gemm_array', 'gemm_mac', 'gemm_drain', 'gemm_requant_serial'] as const;

/** The top module's name for a spec (prefixed). */
export function gemmTop(spec: GemmSpec): string {
  return moduleNames(spec.prefix, MODULES).gemm;
}

/** The array module's name (prefixed): the MACs alone, which the benchmark synthesizes beside a plain array. */
export function gemmArrayTop(spec: GemmSpec): string {
  return moduleNames(spec.prefix, MODULES).gemm_array;
}

/** The spec as it appears in headers and the manifest (user-facing names). */
export function publicSpec(spec: GemmSpec): Record<string, number | string> {
  // multiplier only when it is not the default "logic", so a default spec's headers and manifest stay as they were.
  const multiplier: Record<string, string> = spec.multiplier === 'dsp' ? { multiplier: spec.multiplier } : {};
  return { rows: spec.rows, cols: spec.cols, a_bits: spec.aBits, w_bits: spec.wBits, out_bits: spec.outBits, max_k: spec.maxK, frac_bits: spec.fracBits, requant_cycles: spec.requantCycles ?? 1, ...multiplier, prefix: spec.prefix };
}

/**
 * The processing element (MAC): the product a * w (signed) registered after PE_PRODUCT_STAGES (spec.ts) cycles,
 * accumulator with first/last control and the result register of the double buffer. a is aWidth bits signed (a
 * centered activation), w is wWidth bits signed.
 */
export function emitPe(p: { aWidth: number; wWidth: number; accWidth: number }, spec?: unknown, name = 'gemm_pe'): string {
  return render('gemm/gemm_pe.v', { header: headerComment(`${name}: one MAC of the GEMM array`, spec ?? p), name, ...p });
}

/**
 * The GEMM array's MAC: the same product stages as emitPe, an accumulator cleared by its flip-flops' synchronous reset
 * (acc_clear) instead of a first-term multiplexer, and a result register that is also a link of the drain's shift
 * chain (shift, shift_in), so the drain needs no ROWS * COLS-way multiplexer. `multiplier` "dsp" writes the product as
 * a registered a * w that Yosys maps onto a DSP block (gemm_mac_dsp.v.hbs): same ports, stages and results.
 */
export function emitMac(p: { aWidth: number; wWidth: number; accWidth: number }, spec?: unknown, name = 'gemm_mac', multiplier: GemmMultiplier = 'logic'): string {
  const template = multiplier === 'dsp' ? 'gemm/gemm_mac_dsp.v' : 'gemm/gemm_mac.v';
  return render(template, { header: headerComment(`${name}: one MAC of the GEMM array, a link of the drain chain`, spec ?? p), name, ...p });
}

/**
 * The requantizer, clamp(round_half_even((acc * M + B) / 2^S), 0, 2^outBits - 1), digit serial: one element every
 * `requantChunking(...).cycles` cycles (in_ready), multiplying by M `chunkDigits` two-bit digits per cycle (all of M in
 * one cycle when chunkDigits covers it); `requantSerialStages` stages (spec.ts) from taking an element to its code.
 * The GEMM and the attention block both use it.
 */
export function emitRequantSerial(
  p: { accWidth: number; fracBits: number; shiftWidth: number; offsetWidth: number; sumWidth: number; outBits: number; chunkDigits: number },
  spec?: unknown,
  name = 'gemm_requant_serial',
): string {
  // M zero-padded to whole chunks; the offset's bits above it join the sum's high part, so the sum reaches past it
  const chunkBits = 2 * p.chunkDigits;
  const multPadWidth = Math.ceil(p.fracBits / chunkBits) * chunkBits;
  if (p.sumWidth <= multPadWidth) throw new RangeError(`${name}: sumWidth ${p.sumWidth} must exceed M's padded width ${multPadWidth}`);
  return render('gemm/gemm_requant_serial.v', { header: headerComment(`${name}: per-channel requantizer, digit serial`, spec ?? p), name, ...p });
}

function view(spec: GemmSpec, accOut = false, requantPort = false) {
  const d = spec.derived;
  return {
    accOut,
    requantPort,
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
    requantChunkDigits: d.requantChunkDigits,
    requantCycles: d.requantCycles,
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
 * only; off for the GEMM block) adds the run-time accumulator-out mode: ports acc_mode and m_axis_tacc. `requantPort`
 * (the encoder only) leaves the requantizer out: its inputs and outputs become the rq_* ports, so that the encoder can
 * share one requantizer between the GEMM and the attention block (the leaf is still emitted, for the encoder to use).
 */
export function emitRtl(spec: GemmSpec, options: { accOut?: boolean; requantPort?: boolean } = {}): FileSet {
  const v = view(spec, options.accOut ?? false, options.requantPort ?? false);
  const n = v.names;
  const pub = publicSpec(spec);
  const d = spec.derived;
  const files: FileSet = new Map([
    [`${n.gemm}.v`, render('gemm/gemm.v', { header: headerComment(`${n.gemm}: integer GEMM with per-channel requantization (FQ-ViT)`, pub), ...v })],
    [`${n.gemm_array}.v`, render('gemm/gemm_array.v', { header: headerComment(`${n.gemm_array}: the MAC array, its operand registers and the drain chain`, pub), name: n.gemm_array, macName: n.gemm_mac, ...v })],
    [`${n.gemm_mac}.v`, emitMac({ aWidth: d.centeredWidth, wWidth: spec.wBits, accWidth: d.accWidth }, pub, n.gemm_mac, spec.multiplier)],
    [`${n.gemm_drain}.v`, render('gemm/gemm_drain.v', { header: headerComment(`${n.gemm_drain}: reads a finished tile and pairs it with its channel constants`, pub), name: n.gemm_drain, ...v })],
    [`${n.gemm_requant_serial}.v`, emitRequantSerial({ accWidth: d.accWidth, fracBits: spec.fracBits, shiftWidth: d.shiftWidth, offsetWidth: d.offsetWidth, sumWidth: d.sumWidth, outBits: spec.outBits, chunkDigits: d.requantChunkDigits }, pub, n.gemm_requant_serial)],
  ]);
  for (const [path, text] of libraryFiles(['axis_skid_buffer'], spec.prefix, 'gemm')) files.set(path, text);
  return files;
}

/** Cycles between the requantizer's takes within a tile: its cycles per code, and at least 2 (the drain refills its
 * output register the cycle after a take). */
export function elementCycles(spec: GemmSpec): number {
  return Math.max(spec.derived.requantCycles, 2);
}

/**
 * Cycles per tile when the drain bounds it (short K): ROWS * COLS - 1 element intervals, then from the tile's last
 * take to the next tile's first either the requantizer's cycles per code or the bank hand-over, whichever is longer.
 * The hand-over, counted from the take before the tile's last: the last element enters the drain's register the cycle
 * after it (which frees the bank), the next run's last beat comes the cycle after that and crosses the array's
 * ARRAY_STAGES, the drain moves the first element into its register (one more), and the requantizer takes it.
 */
export function drainCycles(spec: GemmSpec): number {
  const m = elementCycles(spec);
  return (spec.rows * spec.cols - 1) * m + Math.max(spec.derived.requantCycles, DRAIN_RESTART_GAP - m);
}

/** A K run costs K + 1 cycles: the array takes no beat in the cycle after the run's last (gemm_mac). */
export function tileCycles(spec: GemmSpec, k: number): number {
  return Math.max(k + 1, drainCycles(spec));
}

/** Cycles from a tile's first code to its last, without stalls. */
export function tileOutputSpan(spec: GemmSpec): number {
  return (spec.rows * spec.cols - 1) * elementCycles(spec) + 1;
}

/** The bank hand-over (see drainCycles): refill, bank freed, the array's stages, the drain's register, the take. */
export const DRAIN_RESTART_GAP = 1 + 1 + ARRAY_STAGES + 1;

/** The K_OVERFLOW bit of status_error. */
export const GEMM_ERRORS = [
  { bit: 0, name: 'K_OVERFLOW', meaning: 'a K run longer than max_k beats: the beats past max_k were taken but not accumulated (nothing wraps); that tile\'s codes are not the product' },
];

/** With multiplier "dsp": the product width Yosys sees and whether synth_ice40 -dsp puts it in an SB_MAC16 (one per
 * MAC). Nothing for "logic", whose manifest stays as it was before the option. */
function multiplierFacts(spec: GemmSpec): Record<string, unknown> {
  if (spec.multiplier !== 'dsp') return {};
  const width = spec.derived.centeredWidth + spec.wBits;
  return {
    mac_product_width: width,
    ice40_dsp: width >= ICE40_DSP_MIN_PRODUCT_WIDTH
      ? `one SB_MAC16 per MAC (${spec.rows * spec.cols}) under synth_ice40 -dsp: the ${width}-bit product is at least ${ICE40_DSP_MIN_PRODUCT_WIDTH} bits`
      : `none: synth_ice40 -dsp maps only products of at least ${ICE40_DSP_MIN_PRODUCT_WIDTH} bits (mul2dsp DSP_Y_MINWIDTH); this ${width}-bit product is a LUT multiplier`,
  };
}

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
      macs: spec.rows * spec.cols,
      ...multiplierFacts(spec),
      requant_stages: requantSerialStages(d.requantChunkDigits, d.requantCycles),
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
      condition: `streams never stall: a tile of ROWS*COLS codes every max(K + 1, ${drainCycles(spec)}) cycles (one idle cycle after each K run; the requantizer takes one code every ${elementCycles(spec)} cycles, ${drainCycles(spec)} = (ROWS*COLS - 1) * ${elementCycles(spec)} + ${Math.max(d.requantCycles, DRAIN_RESTART_GAP - elementCycles(spec))}; test/gemm-rtl.test.ts measures it), so the array never waits on the requantizer when K + 1 >= ${drainCycles(spec)} and runs K / ${drainCycles(spec)} of the time below that`,
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
