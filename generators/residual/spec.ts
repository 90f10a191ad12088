/**
 * The residual block's spec: generation-time widths (code width, constant width, most channels) and the derived
 * datapath widths; the layer itself (scales, alphas, zero points) is a run-time program (program.ts).
 */
import { unsignedWidth } from '../common/arith.ts';
import { checkPrefix } from '../common/names.ts';
import { LANE_DATAPATHS, lanePipeline, lanesParam, type LaneDatapath, type LanePipeline } from '../common/lanes.ts';
import { carrySegments } from '../common/library.ts';
import { intInRange, object, oneOf, onlyKeys } from '../common/validate.ts';

/**
 * Residual add with PTF requantization (FQ-ViT's x + branch(x) between two PTF quantizers): out_c =
 * clamp(round_half_even(((x_c - zp_x) s_x,c + (y - zp_y) s_y) / s_out,c) + zp_out), exact, one element per cycle.
 */
export interface ResidualParams {
  /** Width of the codes x, y and out. @range 2..16 @default --bits */
  bits: number;
  /** Width of the exact integer scale constants X', Y', O' (see generators/residual/model.ts). Float64 scales need 53 bits plus the log2 of their ratios; a layer needing more is refused when its program is built. @range 16..128 @default 64 */
  const_bits: number;
  /** Most channels C of a token; a program sets C from 1 to this (at least lanes). @range 1..4096 @default 192 */
  max_channels: number;
  /** Elements per beat and per clock: tdata carries lanes codes, channel lanes b + l in word l of a token's beat b; a token whose C is not a multiple of lanes ends with a partial beat (words from lane C mod lanes up are ignored, output 0). @range 1, 2, 4, 8 @default 1 */
  lanes: number;
  /** How a lane computes: "pipelined" takes an element every clock (a register stage per multiply bit and per division step); "serial" has one adder that does one of those steps a clock, and reads the constants from the lane's block RAM in 16-bit pieces, so a lane takes an element every 4 bits + 34 clocks at const_bits 64 (the manifest's element_period) in about a tenth of the logic (the encoder's choice: its residual adds are a small part of its time). Same results either way. @allowed pipelined, serial @default pipelined */
  datapath: LaneDatapath;
}

export interface ResidualDerived extends LanePipeline {
  /** s_cfg_axis word width: the widest program word, K = (2 zp_out + 1) O'. */
  cfgWidth: number;
  chanWidth: number;
  /** Program word index width (8 header words + C alphas). */
  idxWidth: number;
  /** Signed width of n = 2P + K 2^ao (the multiply-accumulate chain); width of the unsigned remainder. */
  nWidth: number;
  remWidth: number;
  /** Segments (carry chains of at most CARRY_SEGMENT_BITS) of n, of a division step's window and of the saturation check's. */
  nSegments: number;
  divSegments: number;
  satSegments: number;
  /** Serial lanes: the 16-bit pieces of each constant in a lane's memory (its multiplicand's width, const_bits + bits + 4, rounded up), and the step the multiplication by Y' starts at (residual_serial_lane.v.hbs). */
  constPieces: number;
  stepMulY: number;
}

export interface ResidualSpec {
  readonly params: Readonly<ResidualParams>;
  readonly prefix: string;
  readonly derived: Readonly<ResidualDerived>;
}

export const RESIDUAL_KEYS = ['bits', 'const_bits', 'max_channels', 'lanes', 'datapath'] as const;
export const RESIDUAL_DEFAULTS = { const_bits: 64, max_channels: 192, lanes: 1, datapath: 'pipelined' } as const;
/** Program words before the per-channel alphas. */
export const RESIDUAL_HEADER_WORDS = 8;

export function resolveResidual(bits: number, overrides: unknown, prefix = ''): ResidualSpec {
  const o = overrides === undefined ? {} : object('residual', overrides);
  onlyKeys('residual', o, RESIDUAL_KEYS);
  const params: ResidualParams = {
    bits: intInRange('residual.bits', o.bits ?? bits, 2, 16),
    const_bits: intInRange('residual.const_bits', o.const_bits ?? RESIDUAL_DEFAULTS.const_bits, 16, 128),
    max_channels: intInRange('residual.max_channels', o.max_channels ?? RESIDUAL_DEFAULTS.max_channels, 1, 4096),
    lanes: 1,
    datapath: oneOf('residual.datapath', o.datapath ?? RESIDUAL_DEFAULTS.datapath, LANE_DATAPATHS),
  };
  params.lanes = lanesParam('residual', o.lanes ?? RESIDUAL_DEFAULTS.lanes, params.max_channels);
  if (prefix !== '') checkPrefix('prefix', prefix);
  return Object.freeze({ params: Object.freeze(params), prefix, derived: Object.freeze(deriveResidual(params)) });
}

export function deriveResidual(p: ResidualParams): ResidualDerived {
  const b = p.bits;
  const c = p.const_bits;
  // n's carry segments (n is b + c + 7 bits, below)
  const nSegments = carrySegments(b + c + 7);
  // A pipelined lane's register stages: input, offsets, 2 bits + 5 shift-and-add stages, nSegments - 1 carry stages,
  // shift, saturation (two stages), bits division steps of two stages each, output (two stages: the tie, the code).
  // A serial lane's steps (residual_serial_lane.v.hbs): input, load, K's P pieces, K into the accumulator while Y''s P
  // pieces arrive and K doubles (3 steps), bits + 2 multiply steps, X''s P pieces, bits + 5 multiply steps, O''s P
  // pieces, bits + 4 doubling steps, bits + 1 division steps, output; it holds one element (the next one's input step
  // overlaps the output step).
  const serial = p.datapath === 'serial';
  const constPieces = Math.ceil((c + b + 4) / 16);
  const stepMulY = Math.max(2 * constPieces + 2, constPieces + 6);
  const serialPeriod = stepMulY + 4 * b + 2 * constPieces + 12;
  const laneLatency = serial ? serialPeriod + 1 : 1 + 1 + (2 * b + 5) + (nSegments - 1) + 1 + 2 + 2 * b + 2;
  return {
    cfgWidth: c + b + 1,
    chanWidth: unsignedWidth(p.max_channels - 1),
    idxWidth: unsignedWidth(RESIDUAL_HEADER_WORDS + p.max_channels),
    // |P| < 2^(b + c) (2^3 + 1), so |2P| < 2^(b + c + 5); K 2^ao < 2^(b + 1 + c + 3): n needs b + c + 7 signed bits.
    nWidth: b + c + 7,
    nSegments,
    divSegments: carrySegments(c + 1),
    satSegments: carrySegments(c + 5),
    // m = n >> (ao + 1) < O' 2^b (below the high saturation) < 2^(c + b)
    remWidth: b + c,
    constPieces,
    stepMulY,
    // A serial lane takes an element every 4 bits + 4 P + 14 clocks (3 P + 4 bits + 18 when P < 4)
    ...lanePipeline(laneLatency, p.max_channels, p.lanes, serial ? serialPeriod : 1),
  };
}
