/**
 * The GELU block's spec: generation-time widths (code width, weight width and the longest K, which fix the
 * accumulator; the multiplier width; the most channels) and the derived widths. The layer itself (scales, bias,
 * quantizer) is a run-time program (program.ts), proven exact when it is built.
 */
import { clog2, unsignedWidth } from '../common/arith.ts';
import { checkPrefix } from '../common/names.ts';
import { LANE_DATAPATHS, lanePipeline, lanesParam, type LaneDatapath, type LanePipeline } from '../common/lanes.ts';
import { carrySegments } from '../common/library.ts';
import { intInRange, object, oneOf, onlyKeys } from '../common/validate.ts';

/**
 * GELU requantizer (FQ-ViT's fc1 -> GELU -> fc1_act quantizer): the fc1 accumulator of each channel in, the code
 * clamp(round_half_even(GELU(acc s_a s_w[c] + bias[c]) / s_act) + zp_act) out, exactly, with comparisons only.
 */
export interface GeluParams {
  /** Width of the output code and of the fc1 input activations. @range 2..12 @default --bits */
  bits: number;
  /** Width of fc1's signed weights. @range 2..16 @default --bits */
  w_bits: number;
  /** Longest fc1 reduction K (the layer's input width C): the accumulator is ceil(log2 max_k) + bits + w_bits signed bits. @range 1..65536 @default 192 */
  max_k: number;
  /** Width of the per-channel multiplier M[c] ~ s_a s_w[c] 2^F. More bits make the exactness proof pass for layers with a wider spread of w_scale (and cost a wider datapath and bound tables); a layer it cannot prove is refused when its program is built. @range 16..64 @default min(64, accumulator width + 12) */
  mult_bits: number;
  /** Most channels (fc1 outputs) of a token; a program sets C from 1 to this (at least lanes). The default is DeiT-Tiny's MLP width, 768, below 7 bits; 256 from 7 bits, where the wider M[c], B[c] of 768 channels would not fit the HX8K's 32 block RAMs beside the bound tables. @range 1..4096 @default 768 below 7 bits, 256 from 7 */
  max_channels: number;
  /** Elements per beat and per clock: tdata carries lanes words, channel lanes b + l in word l of a token's beat b; a token whose C is not a multiple of lanes ends with a partial beat (words from lane C mod lanes up are ignored, output 0). Each lane has its own copy of the bound tables. @range 1, 2, 4, 8 @default 1 */
  lanes: number;
  /** How a lane computes: "pipelined" takes an element every clock (a register stage per multiply bit, four per search level); "serial" has one adder that does one step a clock (accumulator width multiply steps, the branch, two steps a code bit of the search), an element every accumulator width + 2 bits + 2 clocks, with one memory for both bound tables (the encoder's choice). Same results either way. @allowed pipelined, serial @default pipelined */
  datapath: LaneDatapath;
}

export interface GeluDerived extends LanePipeline {
  accWidth: number;
  /** Signed width of z = acc M + B and of the bounds (two more than z needs: room for the two sentinels). */
  zWidth: number;
  chanWidth: number;
  /** Program word index width: 2 + 2 (2^bits - 1) + 2C words. */
  idxWidth: number;
  /** Segments of z (carry chains and comparisons are at most CARRY_SEGMENT_BITS long). */
  segments: number;
}

export interface GeluSpec {
  readonly params: Readonly<GeluParams>;
  readonly prefix: string;
  readonly derived: Readonly<GeluDerived>;
}

/** Widest output code: the two bound tables have 2^bits - 1 entries each. */
export const GELU_MAX_BITS = 12;

export const GELU_KEYS = ['bits', 'w_bits', 'max_k', 'mult_bits', 'max_channels', 'lanes', 'datapath'] as const;
/** mult_bits defaults to the accumulator width plus MULT_MARGIN_BITS (at most 64). */
export const MULT_MARGIN_BITS = 12;
export const GELU_DEFAULTS = { max_k: 192, max_channels: 768, lanes: 1, datapath: 'pipelined' } as const;
/** From this code width the default max_channels is GELU_WIDE_MAX_CHANNELS (block RAM: see max_channels). */
export const GELU_WIDE_BITS = 7;
export const GELU_WIDE_MAX_CHANNELS = 256;

export function resolveGelu(bits: number, overrides: unknown, prefix = ''): GeluSpec {
  const o = overrides === undefined ? {} : object('gelu', overrides);
  onlyKeys('gelu', o, GELU_KEYS);
  const codeBits = intInRange('gelu.bits', o.bits ?? bits, 2, GELU_MAX_BITS);
  const wBits = intInRange('gelu.w_bits', o.w_bits ?? bits, 2, 16);
  const maxK = intInRange('gelu.max_k', o.max_k ?? GELU_DEFAULTS.max_k, 1, 65536);
  const maxChannels = intInRange('gelu.max_channels', o.max_channels ?? (codeBits >= GELU_WIDE_BITS ? GELU_WIDE_MAX_CHANNELS : GELU_DEFAULTS.max_channels), 1, 4096);
  const params: GeluParams = {
    bits: codeBits,
    w_bits: wBits,
    max_k: maxK,
    mult_bits: intInRange('gelu.mult_bits', o.mult_bits ?? defaultMultBits(accumulatorWidth(maxK, codeBits, wBits)), 16, 64),
    max_channels: maxChannels,
    lanes: lanesParam('gelu', o.lanes ?? GELU_DEFAULTS.lanes, maxChannels),
    datapath: oneOf('gelu.datapath', o.datapath ?? GELU_DEFAULTS.datapath, LANE_DATAPATHS),
  };
  if (prefix !== '') checkPrefix('prefix', prefix);
  return Object.freeze({ params: Object.freeze(params), prefix, derived: Object.freeze(deriveGelu(params)) });
}

/** Signed width of the fc1 accumulator: ceil(log2 max_k) + bits + w_bits. */
export function accumulatorWidth(maxK: number, bits: number, wBits: number): number {
  return clog2(maxK) + bits + wBits;
}

/**
 * The default multiplier width: the accumulator width plus MULT_MARGIN_BITS. The proof needs M[c] well above the
 * accumulators near each bound (about accWidth bits, more for channels whose w_scale is far below the largest);
 * the public encoder layers need 28 bits at 8 bits (accWidth 22 to 25). A layer that needs more is refused by name.
 */
export function defaultMultBits(accWidth: number): number {
  return Math.min(64, Math.max(16, accWidth + MULT_MARGIN_BITS));
}

export function deriveGelu(p: GeluParams): GeluDerived {
  const accWidth = accumulatorWidth(p.max_k, p.bits, p.w_bits);
  const words = 2 + 2 * (2 ** p.bits - 1) + 2 * p.max_channels;
  const chanWidth = unsignedWidth(p.max_channels - 1);
  const zWidth = accWidth + p.mult_bits + 2;
  const segments = carrySegments(zWidth);
  // A pipelined lane's register stages: input (block RAM read), its register, accWidth shift-and-add stages,
  // segments - 1 carry stages, the branch, four per search level. A serial lane's steps: input, load, accWidth
  // shift-and-add steps, the branch, two per search level; it holds one element (the next one's input step overlaps
  // the last step).
  const serial = p.datapath === 'serial';
  const serialSteps = accWidth + 2 * p.bits + 2;
  const laneLatency = serial ? serialSteps + 1 : 2 + accWidth + (segments - 1) + 1 + 4 * p.bits;
  return {
    accWidth,
    zWidth,
    segments,
    chanWidth,
    idxWidth: Math.max(unsignedWidth(words), chanWidth + 2),
    // A serial lane takes an element every serialSteps clocks: accWidth + 2 bits + 2
    ...lanePipeline(laneLatency, p.max_channels, p.lanes, serial ? serialSteps : 1),
  };
}
