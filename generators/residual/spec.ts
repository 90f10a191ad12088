/**
 * The residual block's spec: generation-time widths (code width, constant width, most channels) and the derived
 * datapath widths; the layer itself (scales, alphas, zero points) is a run-time program (program.ts).
 */
import { clog2, unsignedWidth } from '../common/arith.ts';
import { checkPrefix } from '../common/names.ts';
import { intInRange, object, onlyKeys } from '../common/validate.ts';

/**
 * Residual add with PTF requantization (FQ-ViT's x + branch(x) between two PTF quantizers): out_c =
 * clamp(round_half_even(((x_c - zp_x) s_x,c + (y - zp_y) s_y) / s_out,c) + zp_out), exact, one element per cycle.
 */
export interface ResidualParams {
  /** Width of the codes x, y and out. @range 2..16 @default --bits */
  bits: number;
  /** Width of the exact integer scale constants X', Y', O' (see generators/residual/model.ts). Float64 scales need 53 bits plus the log2 of their ratios; a layer needing more is refused when its program is built. @range 16..128 @default 64 */
  const_bits: number;
  /** Most channels C of a token; a program sets C from 1 to this. @range 1..4096 @default 192 */
  max_channels: number;
}

export interface ResidualDerived {
  /** s_cfg_axis word width: the widest program word, K = (2 zp_out + 1) O'. */
  cfgWidth: number;
  chanWidth: number;
  /** Program word index width (8 header words + C alphas). */
  idxWidth: number;
  /** Signed widths of the products (x - zp) X', of P and of n = 2P + K 2^ao; the unsigned remainder. */
  prodWidth: number;
  pWidth: number;
  nWidth: number;
  remWidth: number;
  /** Cycles from an accepted element to its output beat (no stalls). */
  latency: number;
  flightWidth: number;
}

export interface ResidualSpec {
  readonly params: Readonly<ResidualParams>;
  readonly prefix: string;
  readonly derived: Readonly<ResidualDerived>;
}

export const RESIDUAL_KEYS = ['bits', 'const_bits', 'max_channels'] as const;
export const RESIDUAL_DEFAULTS = { const_bits: 64, max_channels: 192 } as const;
/** Program words before the per-channel alphas. */
export const RESIDUAL_HEADER_WORDS = 8;

export function resolveResidual(bits: number, overrides: unknown, prefix = ''): ResidualSpec {
  const o = overrides === undefined ? {} : object('residual', overrides);
  onlyKeys('residual', o, RESIDUAL_KEYS);
  const params: ResidualParams = {
    bits: intInRange('residual.bits', o.bits ?? bits, 2, 16),
    const_bits: intInRange('residual.const_bits', o.const_bits ?? RESIDUAL_DEFAULTS.const_bits, 16, 128),
    max_channels: intInRange('residual.max_channels', o.max_channels ?? RESIDUAL_DEFAULTS.max_channels, 1, 4096),
  };
  if (prefix !== '') checkPrefix('prefix', prefix);
  return Object.freeze({ params: Object.freeze(params), prefix, derived: Object.freeze(deriveResidual(params)) });
}

export function deriveResidual(p: ResidualParams): ResidualDerived {
  const b = p.bits;
  const c = p.const_bits;
  const latency = 5 + b + 1; // offsets, products, P, n, flags, b division steps, output
  return {
    cfgWidth: c + b + 1,
    chanWidth: unsignedWidth(p.max_channels - 1),
    idxWidth: unsignedWidth(RESIDUAL_HEADER_WORDS + p.max_channels),
    // |x - zp| < 2^b, X' < 2^c: the signed product needs b + c + 1 bits; one more from the operands' sign bits.
    prodWidth: b + c + 2,
    // |P| < 2^(b + c) (2^3 + 1)
    pWidth: b + c + 5,
    // |2P| < 2^(b + c + 5), K 2^ao < 2^(b + 1 + c + 3)
    nWidth: b + c + 7,
    // 0 <= n < O' 2^(ao + 1 + b) <= 2^(c + 4 + b)
    remWidth: b + c + 4,
    latency,
    flightWidth: clog2(latency + 2) + 1,
  };
}
