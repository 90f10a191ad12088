/**
 * The GEMM block's spec: the user-facing parameters (GemmParams, JSDoc'd: the source of --help and
 * docs/parameters.md) and the resolved spec with every width derived once, exactly, from the extreme values.
 */
import { clog2, maxUnsigned, signedWidth, unsignedWidth } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';
import { intInRange, object, oneOf, onlyKeys } from '../common/validate.ts';

/**
 * Integer GEMM: an output-stationary ROWS × COLS MAC array (unsigned activations with a zero point, signed weights,
 * K streamed at run time) and one shared per-channel requantizer to unsigned output codes.
 */
export interface GemmParams {
  /** Rows of the MAC array: rows of A (tokens) computed at once. The default keeps the block within an iCE40 HX8K at 100 MHz, whose multipliers are LUTs (no DSPs). @range 1..16 @default 8 when a_bits and w_bits are at most 4, else 4 */
  rows: number;
  /** Columns of the MAC array: output channels computed at once (one per column). @range 1..16 @default 8 when a_bits and w_bits are at most 4, else 4 */
  cols: number;
  /** Width of the unsigned activation codes and of their zero point. @range 2..16 @default --bits */
  a_bits: number;
  /** Width of the signed (two's complement) weights. @range 2..16 @default --bits */
  w_bits: number;
  /** Width of the unsigned output codes (saturated to 0 .. 2^out_bits - 1). @range 2..16 @default --bits */
  out_bits: number;
  /** Longest K (dot-product length) the accumulators hold without overflow; the driver rejects a longer K. @range 1..1048576 @default 4096 */
  max_k: number;
  /** Fraction bits of the requantizer: each channel's rescale a_scale*w_scale/out_scale is stored as M * 2^-S with M an unsigned frac_bits-bit integer (top bit set when S allows), so its relative error is at most 2^-frac_bits. @range 8..40 @default 24 */
  frac_bits: number;
  /** Cycles the requantizer spends on each output code: it multiplies the sum by M one chunk of ceil(ceil(frac_bits / 2) / requant_cycles) two-bit digits per cycle, so a tile's rows·cols codes take about rows·cols·requant_cycles cycles, and the array never waits when K is at least that (the manifest's throughput condition gives the exact bound). 1 is a fully parallel requantizer. @range 1..20 @default 3 */
  requant_cycles: number;
  /** How each MAC forms its product (a - zp) * w: "logic" sums registered radix-4 digit products in logic cells (any FPGA; iCE40 HX has no multipliers); "dsp" writes a plain signed a * w with registered operands and product and an accumulator that holds or loads zero, which Yosys `synth_ice40 -dsp` (the UP5K flow) packs into one SB_MAC16 per MAC (the accumulator too, at 8 bits) when the product is at least 11 bits wide (mul2dsp's DSP_Y_MINWIDTH, i.e. a_bits + 1 + w_bits >= 11); a narrower product stays in logic cells. Same latency and results either way. @allowed logic, dsp @default logic */
  multiplier: 'logic' | 'dsp';
}

/** The MAC's product implementations (GemmParams.multiplier). */
export const GEMM_MULTIPLIERS = ['logic', 'dsp'] as const;
export type GemmMultiplier = GemmParams['multiplier'];
/** Narrowest product Yosys's synth_ice40 -dsp maps onto SB_MAC16 (mul2dsp's DSP_Y_MINWIDTH in that pass). */
export const ICE40_DSP_MIN_PRODUCT_WIDTH = 11;

export const GEMM_PARAM_KEYS = ['rows', 'cols', 'a_bits', 'w_bits', 'out_bits', 'max_k', 'frac_bits', 'requant_cycles', 'multiplier'] as const;

/** Every width of the datapath, derived once from the parameters (see `deriveGemm`). */
export interface GemmDerived {
  /** Signed width of a centered activation a - zp: every value in [-(2^a_bits - 1), 2^a_bits - 1]. */
  centeredWidth: number;
  /** Signed width of one product (a - zp) * w over the extreme operands. */
  productWidth: number;
  /** Extreme accumulator values over max_k products. */
  accMin: bigint;
  accMax: bigint;
  /** Signed width of an accumulator: max_k extreme products never overflow it. */
  accWidth: number;
  /** Width of the multiplier M (= frac_bits). */
  multWidth: number;
  /** Largest shift S; a smaller rescale keeps absolute precision 2^-shiftMax instead of frac_bits significant bits. */
  shiftMax: number;
  /** Width of the shift field. */
  shiftWidth: number;
  /** Largest |B| after the exact clamp of the offset (see model.ts deriveChannel). */
  offsetAbsMax: bigint;
  /** Signed width of the offset B. */
  offsetWidth: number;
  /** Signed width of acc * M + B, the value the round-half-even shifter takes. */
  sumWidth: number;
  /** One channel-constant beat: {B, S, M}, B in the top bits. */
  paramWidth: number;
  /** One activation beat: {zero point, a[ROWS-1], ..., a[0]}. */
  actWidth: number;
  /** One weight beat: {w[COLS-1], ..., w[0]}. */
  wgtWidth: number;
  /** Two-bit digits of M the requantizer multiplies per cycle. */
  requantChunkDigits: number;
  /** Cycles the requantizer spends per code (chunks of M): it takes one element every requantCycles cycles. */
  requantCycles: number;
  /** Register stages from an input beat to the output: cycles from a K run's last beat to its tile's first code (no stalls). */
  drainLatency: number;
  /** Width of the drain index (row and column counters). */
  rowIndexWidth: number;
  colIndexWidth: number;
}

export interface GemmSpec {
  readonly rows: number;
  readonly cols: number;
  readonly aBits: number;
  readonly wBits: number;
  readonly outBits: number;
  readonly maxK: number;
  readonly fracBits: number;
  /** Requested cycles per code of the serial requantizer (derived.requantCycles is what the chunking gives, never
   * more); absent (1, parallel) in the GEMM specs the attention block derives for its own requantizers. */
  readonly requantCycles?: number;
  /** The MACs' product (GemmParams.multiplier); absent means "logic" (the specs the attention and encoder blocks
   * derive never set it). */
  readonly multiplier?: GemmMultiplier;
  /** Starts every module name (common/names.ts). */
  readonly prefix: string;
  readonly derived: Readonly<GemmDerived>;
}

/** Pipeline stages, named so the latency below is a sum of facts about the RTL. */
/** Register stages of the PE's product a * w (gemm_pe, gemm_mac): digit products, then their sum; with multiplier
 * "dsp", the operands (SB_MAC16's input registers), then the product (its output register). */
export const PE_PRODUCT_STAGES = 2;
// beat register (centered activations, weights), the MAC's product stages, accumulator, result register (which takes
// the sum in the idle cycle after the run)
export const ARRAY_STAGES = 1 + PE_PRODUCT_STAGES + 1 + 1;
/** Bits of M per digit product of the requantizer (templates/gemm/gemm_requant_serial.v.hbs has the same). */
export const REQUANT_DIGIT_BITS = 2;

/** The serial requantizer's chunking: two-bit digits of M per cycle, and the cycles (chunks) per code. */
export function requantChunking(fracBits: number, requestedCycles: number): { chunkDigits: number; cycles: number } {
  const digits = Math.ceil(fracBits / REQUANT_DIGIT_BITS);
  const chunkDigits = Math.ceil(digits / requestedCycles);
  return { chunkDigits, cycles: Math.ceil(digits / chunkDigits) };
}

/**
 * Register stages of the requantizer (gemm_requant_serial, the GEMM's and the attention block's) from taking an element to its code: the hold
 * registers, the digit products, the adder tree over one chunk, one running-product step per chunk (the offset's low
 * bits enter there, a chunk a step), the offset's high bits, the coarse and fine shifts, the saturated code.
 */
export function requantSerialStages(chunkDigits: number, cycles: number): number {
  return 1 + 1 + clog2(chunkDigits) + cycles + 1 + 2 + 1;
}
const SKID_STAGES = 1; // output skid buffer register
const DRAIN_STAGES = 1; // the chain's head moved into the drain's output register

/** Validates overrides (a --spec "gemm" section or a vector case's parameters), applies defaults, derives widths. */
export function resolveGemm(bits: number, overrides: unknown, prefix = ''): GemmSpec {
  const o = overrides === undefined ? {} : object('gemm', overrides);
  onlyKeys('gemm', o, GEMM_PARAM_KEYS);
  const get = (key: (typeof GEMM_PARAM_KEYS)[number], min: number, max: number, fallback: number) =>
    intInRange(`gemm.${key}`, o[key] ?? fallback, min, max);
  const aBits = get('a_bits', 2, 16, bits);
  const wBits = get('w_bits', 2, 16, bits);
  const spec = {
    rows: get('rows', 1, 16, Math.max(aBits, wBits) <= 4 ? 8 : 4),
    cols: get('cols', 1, 16, Math.max(aBits, wBits) <= 4 ? 8 : 4),
    aBits,
    wBits,
    outBits: get('out_bits', 2, 16, bits),
    maxK: get('max_k', 1, 1 << 20, 4096),
    fracBits: get('frac_bits', 8, 40, 24),
    requantCycles: get('requant_cycles', 1, 20, 3),
    // Left out when "logic" so the default spec (and every byte generated from it) is what it was before the option.
    ...(o.multiplier === undefined || oneOf('gemm.multiplier', o.multiplier, GEMM_MULTIPLIERS) === 'logic' ? {} : { multiplier: 'dsp' as const }),
  };
  return Object.freeze({ ...spec, prefix, derived: Object.freeze(deriveGemm(spec)) });
}

export function deriveGemm(p: Omit<GemmSpec, 'derived' | 'prefix'>): GemmDerived {
  const aMax = maxUnsigned(p.aBits); // a - zp lies in [-aMax, aMax]
  const wMin = -(1n << BigInt(p.wBits - 1));
  const wMax = (1n << BigInt(p.wBits - 1)) - 1n;
  const products = [-aMax * wMin, -aMax * wMax, aMax * wMin, aMax * wMax];
  const prodMin = products.reduce((a, b) => (b < a ? b : a));
  const prodMax = products.reduce((a, b) => (b > a ? b : a));
  const k = BigInt(p.maxK);
  const accMin = k * prodMin;
  const accMax = k * prodMax;
  const centeredWidth = signedWidth(-aMax, aMax);
  // The PE's product register is the full centered * weight width, so the accumulator is never narrower than it.
  const accWidth = Math.max(signedWidth(accMin, accMax), centeredWidth + p.wBits);
  const accAbsMax = -accMin > accMax ? -accMin : accMax;
  const multMax = maxUnsigned(p.fracBits);
  // Below 2^-(accWidth - out_bits - 2) the rescale keeps absolute precision 2^-shiftMax, which bounds the error of
  // acc * rescale by 2^(out_bits - frac_bits), the same bound the normalized multiplier gives in its range.
  const shiftMax = Math.max(p.fracBits - 1, accWidth + p.fracBits - p.outBits - 2);
  const offsetAbsMax = accAbsMax * multMax + (maxUnsigned(p.outBits) + 2n) * (1n << BigInt(shiftMax));
  const offsetWidth = signedWidth(-offsetAbsMax, offsetAbsMax);
  // At least the full width of acc * M (M taken as non-negative signed), which the requantizer registers.
  const sumWidth = Math.max(signedWidth(accMin * multMax - offsetAbsMax, accMax * multMax + offsetAbsMax), accWidth + p.fracBits + 1);
  const shiftWidth = unsignedWidth(shiftMax);
  const chunking = requantChunking(p.fracBits, p.requantCycles ?? 1);
  if (shiftMax >= sumWidth) throw new Error('gemm: shiftMax must stay below sumWidth'); // guaranteed by the bounds above
  if (sumWidth > 96) throw new SpecError('gemm.frac_bits', 'with max_k and the bit widths must keep acc * M + B within 96 bits', p.fracBits);
  return {
    centeredWidth,
    productWidth: signedWidth(prodMin, prodMax),
    accMin,
    accMax,
    accWidth,
    multWidth: p.fracBits,
    shiftMax,
    shiftWidth,
    offsetAbsMax,
    offsetWidth,
    sumWidth,
    paramWidth: offsetWidth + shiftWidth + p.fracBits,
    actWidth: (p.rows + 1) * p.aBits,
    wgtWidth: p.cols * p.wBits,
    requantChunkDigits: chunking.chunkDigits,
    requantCycles: chunking.cycles,
    drainLatency: ARRAY_STAGES + DRAIN_STAGES + requantSerialStages(chunking.chunkDigits, chunking.cycles) + SKID_STAGES,
    rowIndexWidth: Math.max(1, clog2(p.rows)),
    colIndexWidth: Math.max(1, clog2(p.cols)),
  };
}
