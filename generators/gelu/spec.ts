/**
 * The GELU block's spec: generation-time widths (code width, weight width and the longest K, which fix the
 * accumulator; the multiplier width; the most channels) and the derived widths. The layer itself (scales, bias,
 * quantizer) is a run-time program (program.ts), proven exact when it is built.
 */
import { clog2, unsignedWidth } from '../common/arith.ts';
import { checkPrefix } from '../common/names.ts';
import { intInRange, object, onlyKeys } from '../common/validate.ts';

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
  /** Width of the per-channel multiplier M[c] ~ s_a s_w[c] 2^F. More bits make the exactness proof pass for layers with a wider spread of w_scale; a layer it cannot prove is refused when its program is built. @range 16..64 @default 48 */
  mult_bits: number;
  /** Most channels (fc1 outputs) of a token; a program sets C from 1 to this. @range 1..4096 @default 768 */
  max_channels: number;
}

export interface GeluDerived {
  accWidth: number;
  /** Signed width of z = acc M + B and of the bounds (two more than z needs: room for the two sentinels). */
  zWidth: number;
  chanWidth: number;
  /** Program word index width: 2 + 2 (2^bits - 1) + 2C words. */
  idxWidth: number;
  /** Cycles from an accepted element to its output beat (no stalls). */
  latency: number;
  flightWidth: number;
}

export interface GeluSpec {
  readonly params: Readonly<GeluParams>;
  readonly prefix: string;
  readonly derived: Readonly<GeluDerived>;
}

/** Widest output code: the two bound tables have 2^bits - 1 entries each. */
export const GELU_MAX_BITS = 12;

export const GELU_KEYS = ['bits', 'w_bits', 'max_k', 'mult_bits', 'max_channels'] as const;
export const GELU_DEFAULTS = { max_k: 192, mult_bits: 48, max_channels: 768 } as const;

export function resolveGelu(bits: number, overrides: unknown, prefix = ''): GeluSpec {
  const o = overrides === undefined ? {} : object('gelu', overrides);
  onlyKeys('gelu', o, GELU_KEYS);
  const params: GeluParams = {
    bits: intInRange('gelu.bits', o.bits ?? bits, 2, GELU_MAX_BITS),
    w_bits: intInRange('gelu.w_bits', o.w_bits ?? bits, 2, 16),
    max_k: intInRange('gelu.max_k', o.max_k ?? GELU_DEFAULTS.max_k, 1, 65536),
    mult_bits: intInRange('gelu.mult_bits', o.mult_bits ?? GELU_DEFAULTS.mult_bits, 16, 64),
    max_channels: intInRange('gelu.max_channels', o.max_channels ?? GELU_DEFAULTS.max_channels, 1, 4096),
  };
  if (prefix !== '') checkPrefix('prefix', prefix);
  return Object.freeze({ params: Object.freeze(params), prefix, derived: Object.freeze(deriveGelu(params)) });
}

export function deriveGelu(p: GeluParams): GeluDerived {
  const accWidth = clog2(p.max_k) + p.bits + p.w_bits;
  const words = 2 + 2 * (2 ** p.bits - 1) + 2 * p.max_channels;
  const chanWidth = unsignedWidth(p.max_channels - 1);
  const latency = 4 + 2 * p.bits; // channel read, product, z, key; two stages per search level
  return {
    accWidth,
    zWidth: accWidth + p.mult_bits + 2,
    chanWidth,
    idxWidth: Math.max(unsignedWidth(words), chanWidth + 2),
    latency,
    flightWidth: clog2(latency + 2) + 1,
  };
}
