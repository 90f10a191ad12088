/**
 * The LayerNorm block's spec: the user-facing parameters (LayernormParams, JSDoc'd: the source of --help and
 * docs/parameters.md), the calibrated layer they describe, and the resolved spec with every width and per-channel
 * constant derived once, exactly, from the float layer.
 */
import { exactBinary, maxUnsigned, roundHalfEvenDiv, signedWidth, unsignedWidth } from '../common/arith.ts';
import { mulberry32 } from '../common/random.ts';
import { checkPrefix } from '../common/names.ts';
import { LANE_DATAPATHS, lanesParam, type LaneDatapath } from '../common/lanes.ts';
import { arrayOf, finite, intInRange, object, oneOf, onlyKeys, positiveFinite, require } from '../common/validate.ts';
import { calibratePtf } from './calibrate.ts';
import { isqrt, type ChannelConstants, type LayernormPrecision } from './model.ts';

/**
 * PTF LayerNorm (FQ-ViT QIntLayerNorm, integer-only): tokens of C unsigned codes in, one unsigned code per channel out,
 * for --bits 2..16 (agreement with FQ-ViT measured at 4..8 bits; at every width the RTL equals the integer golden
 * model). One instance serves every layer with C ≤ max_channels: a layer's C, zero points and per-channel constants
 * are a program loaded at run time through s_cfg_axis. The layer given here (or calibrated from `calibration` rows by
 * the PTF observer) is the default program written beside the RTL and the testbench's stimulus.
 */
export interface LayernormParams {
  /** Channels C per token of the default layer (a program sets C at run time; the block frames tokens by counting C beats and checks s_axis_tlast). @range 8..max_channels @default 384 */
  channels: number;
  /** Largest C the hardware takes (sizes the channel RAMs, the token buffer and every width, for the worst layer of any C up to it). @range 8..1024 @default channels */
  max_channels: number;
  /** s1, the smallest channel scale of the input quantizer (documentation only: the integer datapath does not need it). @default from calibration */
  in_scale_min: number;
  /** Input zero point, shared by all channels. @range 0..2^bits-1 @default from calibration */
  zero_point: number;
  /** Power-of-two factor per channel (C integers): channel scale = in_scale_min * 2^alpha. @range 0..3 @default from calibration */
  alpha: number[];
  /** LayerNorm weight per channel (C floats; |gamma/out_scale| below 2^scale_ratio_bits). @default deterministic synthetic layer */
  gamma: number[];
  /** LayerNorm bias per channel (C floats; |beta/out_scale| below 2^scale_ratio_bits). @default deterministic synthetic layer */
  beta: number[];
  /** Scale of the output quantizer (float > 0). @default deterministic synthetic layer */
  out_scale: number;
  /** Zero point of the output quantizer. @range 0..2^bits-1 @default 2^(bits-1) */
  out_zero_point: number;
  /** Calibration rows (samples × C floats): when given, alpha, in_scale_min and zero_point come from FQ-ViT's PTF observer on them and must not be given too. @default none */
  calibration: number[][];
  /** Hardware: |gamma/out_scale| and |beta/out_scale| of every layer stay below 2^scale_ratio_bits; sizes the per-channel constants and the offset datapath (a layer outside is refused). FQ-ViT layers sit near 2^(bits-3); the public vectors reach 2^(bits-1.4). @range 1..max(15, bits+1) @default min(bits + 2, max(15, bits + 1)) */
  scale_ratio_bits: number;
  /** Significant bits of the per-token reciprocal square root R = floor(2^(2F) / floor(sqrt(var·4^(k+G)))). @range 16..40 @default 28 */
  rsqrt_bits: number;
  /** Elements per beat and per clock: tdata carries lanes codes, channel lanes b + l in word l of a token's beat b; a token whose C is not a multiple of lanes ends with a partial beat (words from lane C mod lanes up are ignored, output 0). The element pipeline is copied per lane; the stats unit sums lanes x and x² a beat; token units are added until tokens of max_channels stream at lanes elements a cycle (at most 2·lanes, generators/layernorm/README.md). At most max_channels. @range 1, 2, 4, 8 @default 1 */
  lanes: number;
  /** Hardware: the most token units (each about 700 LUT4 at 8 bits). Token units are added up to this while one unit's time per token T exceeds a token's beats; fewer units make tokens shorter than T beats wait for the token unit (a small C streams below lanes elements a cycle: U·C/T), with the same results. The serial datapath has one whatever this says (its element unit reads the token unit's outputs in place). @range 1..2·lanes @default 2·lanes */
  max_token_units: number;
  /** Hardware: how the element unit computes. "pipelined": an element every clock (multipliers and rounders as a pipeline of about 16 stages). "serial": one element at a time, its channel constants read 16 bits a clock from one block RAM, its three products by shift-and-add a bit a clock on small adders side by side, the same rounding leaves (about 50 to 60 clocks an element; a fraction of the logic; the encoder's choice). Same results either way. Serial needs lanes 1. @allowed pipelined, serial @default pipelined */
  datapath: LaneDatapath;
}

export const LAYERNORM_PARAM_KEYS = [
  'channels', 'max_channels', 'in_scale_min', 'zero_point', 'alpha', 'gamma', 'beta', 'out_scale', 'out_zero_point', 'calibration', 'scale_ratio_bits', 'rsqrt_bits', 'lanes',
  'max_token_units', 'datapath',
] as const;

export const CHANNELS_MIN = 8;
export const CHANNELS_MAX = 1024;
export const BITS_MIN = 2;
export const BITS_MAX = 16;
export const ALPHA_MAX = 3;
/**
 * The largest scale_ratio_bits: |gamma/out_scale| and |beta/out_scale| below 2^15, or 2^(bits+1) for wider codes (a
 * ratio beyond the output code range only saturates).
 */
export function scaleRatioLog2(bits: number): number {
  return Math.max(15, bits + 1);
}

/** The default scale_ratio_bits: 2^(bits+2), four times the code range, far above FQ-ViT's layers (near 2^(bits-3)). */
export function defaultScaleRatioBits(bits: number): number {
  return Math.min(bits + 2, scaleRatioLog2(bits));
}
export const DEFAULT_CHANNELS = 384;
export const DEFAULT_RSQRT_BITS = 28;

/** The calibrated layer: what FQ-ViT knows about one LayerNorm after calibration, in floats. */
export interface CalibratedLayer {
  inScaleMin: number;
  zeroPoint: number;
  alpha: number[];
  gamma: number[];
  beta: number[];
  outScale: number;
  outZeroPoint: number;
}

/**
 * Widths of the datapath, derived once from the hardware parameters (bits, max_channels, scale_ratio_bits, rsqrt_bits) for the worst case
 * over every layer they allow: any C from CHANNELS_MIN to max_channels, any zero points, alpha in 0..3, and
 * |gamma/out_scale|, |beta/out_scale| below 2^scale_ratio_bits. Names as in the RTL parameters.
 */
export interface LayernormDerived {
  precision: LayernormPrecision;
  /** Width of the channel counters. */
  channelWidth: number;
  /** Width of C itself (up to max_channels). */
  countWidth: number;
  /** Entries of the token buffer (a power of two ≥ 2·max_channels, so one token streams in while the previous one streams out). */
  bufferDepth: number;
  /** Signed width of x = (q − zp) << alpha. */
  xWidth: number;
  /** Signed width of S = Σ x. */
  sumWidth: number;
  /** Unsigned width of Q = Σ x² and of x². */
  sqWidth: number;
  xSqWidth: number;
  /** Largest normalizing shift k (the smallest non-zero var is C − 1), and the width of k. */
  kMax: number;
  kWidth: number;
  /** Bits of the radicand vn · 4^G (2F + 2) and of the root s (F + 1). */
  radicandWidth: number;
  rootWidth: number;
  /** Numerator and quotient widths of the W divider: |S| · 2^(FW + G + kMax) / s. */
  wNumWidth: number;
  wQuotWidth: number;
  /** Signed width of W (after its shift by kMax − k): |W| ≤ wAbsMax, the mean/std bound (wAbsBound). */
  wWidth: number;
  /** The bound on |W| (decimal: it may exceed 2^53). */
  wAbsMax: string;
  /** Width of R's top bits RA = R >> (F − WR) (WR + 1: RA = 2^WR when s = 2^F). */
  raWidth: number;
  /** Width of PA = RA · |ga|. */
  paWidth: number;
  /** Signed widths of gt, bk, W·gt and Kf = bk − W·gt. */
  gtWidth: number;
  bkWidth: number;
  ptWidth: number;
  kfWidth: number;
  /** Signed width of the per-channel exponent nA and of N_u = nA − k − δ. */
  nAWidth: number;
  /** Range of nA over every allowed layer; nA above nAMax (a tiny |gamma|: M = 0 for every k) is saturated to it. */
  nAMin: number;
  nAMax: number;
  /** Signed width of B = round(Kf · 2^N / 2^FK). */
  offsetWidth: number;
  /** Signed width of sign·M·x + B and of y. */
  accWidth: number;
  /** Width of one constant-RAM word {bk, gt, nA, sign, |ga|, alpha}. */
  constWidth: number;
}

export interface LayernormSpec {
  readonly bits: number;
  /** Module-name prefix (common/names.ts). */
  readonly prefix: string;
  /** Hardware: the largest C. */
  readonly maxChannels: number;
  /** Hardware: elements per beat (common/lanes.ts). */
  readonly lanes: number;
  /** Hardware: the most token units (1 to 2·lanes). */
  readonly maxTokenUnits: number;
  /** Hardware: the element unit's datapath (pipelined, or serial at one lane). */
  readonly datapath: LaneDatapath;
  /** The layer's C. */
  readonly channels: number;
  readonly layer: Readonly<CalibratedLayer>;
  /** Whether alpha, in_scale_min and zero_point came from calibration rows (PTF observer). */
  readonly calibrated: boolean;
  readonly rsqrtBits: number;
  /** Hardware: |gamma/out_scale|, |beta/out_scale| < 2^scaleRatioBits for every layer. */
  readonly scaleRatioBits: number;
  readonly constants: readonly ChannelConstants[];
  /** Hardware widths: a function of bits, maxChannels and rsqrtBits only (every layer of one instance shares them). */
  readonly derived: Readonly<LayernormDerived>;
}

/** Internal precision that is not a parameter: chosen by measurement against FQ-ViT (see the README of the block). */
export const MANTISSA_A_BITS = 18;
export const R_BITS_A = 22;
export const FRAC_W_BITS = 22;
export const FRAC_G_BITS = 22;

/** Synthetic calibration rows for the default layer: channels with different spreads so that alpha takes every value. */
export function syntheticCalibration(channels: number, rows = 64, seed = 2024): number[][] {
  const rnd = mulberry32(seed);
  const spread = Array.from({ length: channels }, (_, c) => 2 ** -(c % 4) * (0.5 + rnd()));
  const offset = Array.from({ length: channels }, () => (rnd() - 0.5) * 0.5);
  return Array.from({ length: rows }, () => spread.map((sp, c) => offset[c]! + sp * (rnd() + rnd() + rnd() - 1.5) * 2));
}

/** The default layer: calibrated by the PTF observer on synthetic rows, gamma near 1, small beta. */
function defaultLayer(bits: number, channels: number): { rows: number[][]; gamma: number[]; beta: number[]; outScale: number; outZeroPoint: number } {
  const rnd = mulberry32(7 + channels);
  return {
    rows: syntheticCalibration(channels),
    gamma: Array.from({ length: channels }, () => 0.5 + rnd()),
    beta: Array.from({ length: channels }, () => (rnd() - 0.5) * 0.4),
    outScale: 8 / 2 ** bits,
    outZeroPoint: 2 ** (bits - 1),
  };
}

function floatArray(parameter: string, value: unknown, length: number): number[] {
  return arrayOf(parameter, value, length, finite);
}

/** Validates the "layernorm" section of a --spec file and derives everything. */
export function resolveLayernorm(bits: number, overrides: unknown, prefix = ''): LayernormSpec {
  bits = intInRange('--bits (layernorm)', bits, BITS_MIN, BITS_MAX);
  if (prefix !== '') checkPrefix('prefix', prefix);
  const o = overrides === undefined ? {} : object('layernorm', overrides);
  onlyKeys('layernorm', o, LAYERNORM_PARAM_KEYS);
  const maxChannelsGiven = o.max_channels === undefined ? undefined : intInRange('layernorm.max_channels', o.max_channels, CHANNELS_MIN, CHANNELS_MAX);
  const channels = o.channels === undefined ? Math.min(DEFAULT_CHANNELS, maxChannelsGiven ?? DEFAULT_CHANNELS)
    : intInRange('layernorm.channels', o.channels, CHANNELS_MIN, maxChannelsGiven ?? CHANNELS_MAX);
  const maxChannels = maxChannelsGiven ?? channels;
  const lanes = lanesParam('layernorm', o.lanes ?? 1, maxChannels);
  const maxTokenUnits = intInRange('layernorm.max_token_units', o.max_token_units ?? 2 * lanes, 1, 2 * lanes);
  const datapath = oneOf('layernorm.datapath', o.datapath ?? 'pipelined', LANE_DATAPATHS);
  require(datapath === 'pipelined' || lanes === 1, 'layernorm.datapath', 'must be pipelined when lanes is above 1 (the serial element unit has one lane)', datapath);
  const rsqrtBits = o.rsqrt_bits === undefined ? DEFAULT_RSQRT_BITS : intInRange('layernorm.rsqrt_bits', o.rsqrt_bits, 16, 40);
  const scaleRatioBits = o.scale_ratio_bits === undefined ? defaultScaleRatioBits(bits) : intInRange('layernorm.scale_ratio_bits', o.scale_ratio_bits, 1, scaleRatioLog2(bits));
  const qmax = Number(maxUnsigned(bits));
  const userLayer = o.gamma !== undefined || o.beta !== undefined || o.out_scale !== undefined;
  const synthetic = userLayer ? undefined : defaultLayer(bits, channels);
  if (userLayer) {
    for (const key of ['gamma', 'beta', 'out_scale'] as const) {
      require(o[key] !== undefined, `layernorm.${key}`, 'is required when gamma, beta or out_scale is given', undefined);
    }
  }
  let calibrationRows: number[][] | undefined;
  if (o.calibration !== undefined) {
    for (const key of ['alpha', 'in_scale_min', 'zero_point'] as const) {
      require(o[key] === undefined, `layernorm.${key}`, 'must not be given together with calibration (the PTF observer computes it)', o[key]);
    }
    const rows = arrayOf('layernorm.calibration', o.calibration, undefined, (p, v) => floatArray(p, v, channels));
    require(rows.length >= 1, 'layernorm.calibration', 'must have at least one row', o.calibration);
    calibrationRows = rows;
  } else if (!synthetic || o.alpha !== undefined || o.in_scale_min !== undefined || o.zero_point !== undefined) {
    for (const key of ['alpha', 'in_scale_min', 'zero_point'] as const) {
      require(o[key] !== undefined, `layernorm.${key}`, 'is required unless calibration rows are given', undefined);
    }
  }
  let alpha: number[];
  let inScaleMin: number;
  let zeroPoint: number;
  const rows = calibrationRows ?? (o.alpha === undefined ? synthetic?.rows : undefined);
  if (rows) {
    const cal = calibratePtf(rows, bits);
    ({ alpha, s1: inScaleMin, zeroPoint } = cal);
  } else {
    alpha = arrayOf('layernorm.alpha', o.alpha, channels, (p, v) => intInRange(p, v, 0, ALPHA_MAX));
    inScaleMin = positiveFinite('layernorm.in_scale_min', o.in_scale_min);
    zeroPoint = intInRange('layernorm.zero_point', o.zero_point, 0, qmax);
  }
  const gamma = synthetic ? synthetic.gamma : floatArray('layernorm.gamma', o.gamma, channels);
  const beta = synthetic ? synthetic.beta : floatArray('layernorm.beta', o.beta, channels);
  const outScale = synthetic ? synthetic.outScale : positiveFinite('layernorm.out_scale', o.out_scale);
  const outZeroPoint = o.out_zero_point === undefined ? (synthetic?.outZeroPoint ?? 2 ** (bits - 1)) : intInRange('layernorm.out_zero_point', o.out_zero_point, 0, qmax);
  const limit = 2 ** scaleRatioBits;
  const raise = scaleRatioBits < scaleRatioLog2(bits) ? ` (the hardware's layernorm.scale_ratio_bits = ${scaleRatioBits}; it may be raised up to ${scaleRatioLog2(bits)})` : '';
  gamma.forEach((g, c) => require(Math.abs(g / outScale) < limit, `layernorm.gamma[${c}]`, `must satisfy |gamma/out_scale| < 2^${scaleRatioBits}${raise}`, g));
  beta.forEach((b, c) => require(Math.abs(b / outScale) < limit, `layernorm.beta[${c}]`, `must satisfy |beta/out_scale| < 2^${scaleRatioBits}${raise}`, b));
  const layer: CalibratedLayer = { inScaleMin, zeroPoint, alpha, gamma, beta, outScale, outZeroPoint };
  const precision = derivePrecision(bits, maxChannels, rsqrtBits);
  const derived = deriveWidths(bits, maxChannels, scaleRatioBits, precision);
  const constants = channelConstants(layer, channels, precision, derived.nAMax);
  return Object.freeze({
    bits, prefix, maxChannels, lanes, maxTokenUnits, datapath, channels, layer: Object.freeze(layer), calibrated: rows !== undefined, rsqrtBits, scaleRatioBits,
    constants: Object.freeze(constants), derived: Object.freeze(derived),
  });
}

/** Largest |x| = |q − zp| · 2^alpha for any zero point and alpha. */
function xAbsMax(bits: number): bigint {
  return maxUnsigned(bits) << BigInt(ALPHA_MAX);
}

/**
 * Fraction bits added to W and gt above 8-bit codes: mean/std · gamma/s_out grows as 2^bits (s_out scales with the
 * code range), so its error in output codes stays that of 8 bits (measured: 31 → 4 outputs of 23,040 ≠ FQ-ViT at 16 bits).
 */
export function extraFractionBits(bits: number): number {
  return Math.max(0, bits - 8);
}

/**
 * The internal precision of the hardware (see model.ts for what each field means), for every C up to maxChannels.
 * VW (and so G) follows maxChannels, but the outputs depend only on k + G, which var alone fixes: a layer gives the
 * same outputs on any instance that takes its C.
 */
export function derivePrecision(bits: number, maxChannels: number, rsqrtBits: number): LayernormPrecision {
  const extra = extraFractionBits(bits);
  const C = BigInt(maxChannels);
  const varMax = C * C * xAbsMax(bits) ** 2n; // C·Q ≤ C² · max x², and var ≤ C·Q
  let varWidth = unsignedWidth(varMax);
  if (varWidth % 2) varWidth++;
  return {
    rsqrtBits,
    varWidth,
    sqrtGuard: rsqrtBits + 1 - varWidth / 2,
    rBitsA: Math.min(R_BITS_A, rsqrtBits),
    mantissaA: MANTISSA_A_BITS,
    fracW: FRAC_W_BITS + extra,
    fracG: FRAC_G_BITS + extra,
    fracK: FRAC_W_BITS + FRAC_G_BITS + 2 * extra,
  };
}

/** ratio = a / b of two floats as an exact fraction num/den (den > 0). */
function exactRatio(a: number, b: number): { num: bigint; den: bigint } {
  const x = exactBinary(a);
  const y = exactBinary(b);
  // a/b = (xn / 2^xe) / (yn / 2^ye) = xn · 2^ye / (yn · 2^xe)
  return { num: x.num << BigInt(y.exp), den: y.num << BigInt(x.exp) };
}

/** floor(log2(num/den)) for num, den > 0. */
function floorLog2Ratio(num: bigint, den: bigint): number {
  let e = num.toString(2).length - den.toString(2).length;
  if (e >= 0 ? num < den << BigInt(e) : num << BigInt(-e) < den) e--;
  return e;
}

/**
 * The per-channel constants (the program's channel words), exact from the float layer. nA above nAMax (|gamma/out_scale|
 * so small that M = 0 for every token) is saturated to nAMax, which gives the same M = 0: outputs are unchanged.
 */
export function channelConstants(layer: CalibratedLayer, channels: number, p: LayernormPrecision, nAMax: number): ChannelConstants[] {
  return Array.from({ length: channels }, (_, c) => {
    const g = exactRatio(layer.gamma[c]!, layer.outScale);
    const b = exactRatio(layer.beta[c]!, layer.outScale);
    const gt = roundHalfEvenDiv(g.num << BigInt(p.fracG), g.den);
    const bk = roundHalfEvenDiv(b.num << BigInt(p.fracK), b.den);
    const sign = g.num > 0n ? 1 : g.num < 0n ? -1 : 0;
    // gamma = 0: M = 0, N = 31 whatever nA is; nA = nAMax keeps the word in the range the hardware checks.
    if (sign === 0) return { alpha: layer.alpha[c]!, gaMag: 0n, sign, nA: nAMax, gt, bk };
    // |ga| = round(|C·gamma/s_out| · 2^FA) in [2^(WG−1), 2^WG); a carry out of the rounding renormalizes.
    const num = (g.num < 0n ? -g.num : g.num) * BigInt(channels);
    let fa = p.mantissaA - 1 - floorLog2Ratio(num, g.den);
    let gaMag = roundHalfEvenDiv(fa >= 0 ? num << BigInt(fa) : num, fa >= 0 ? g.den : g.den << BigInt(-fa));
    if (gaMag === 1n << BigInt(p.mantissaA)) { gaMag >>= 1n; fa--; }
    // N_u = 7 − floor(log2 A) with A = PA · 2^−(WR + FA + F − G − k) and floor(log2 PA) = WR + WG − 2 + δ.
    const nA = Math.min(nAMax, nAOf(p, fa));
    return { alpha: layer.alpha[c]!, gaMag, sign, nA, gt, bk };
  });
}

/** nA for the exponent fa of |ga| (N_u = 7 − floor(log2 A) with A = PA · 2^−(WR + FA + F − G − k), floor(log2 PA) = WR + WG − 2 + δ). */
function nAOf(p: LayernormPrecision, fa: number): number {
  return 9 - p.mantissaA + fa + p.rsqrtBits - p.sqrtGuard;
}

/**
 * Bound on |W| = |floor(S · 2^(FW + k + G) / s)| over every token of every C up to maxChannels (W ≈ mean/std · 2^FW):
 *  - var = C·Q − S² = Σ_{i<j} (x_i − x_j)² is a sum of integer squares with at least C − 1 non-zero terms when the
 *    token is not constant (a constant token never reaches the divider), so var ≥ C − 1; and |S| ≤ C · xMax. So
 *    |S| / sqrt(var) ≤ C · xMax / sqrt(C − 1), which grows with C: largest at C = maxChannels.
 *  - X = sqrt(var) · 2^(k + G) is the exact root of the radicand; s = isqrt(radicand) > X − 2 (G < 0 floors the
 *    radicand first) and s ≥ 2^F, so X / s < 1 + 2^(1 − F) and |S| · 2^(FW + k + G) / s < |S| / sqrt(var) · 2^FW · (1 + 2^(1 − F)).
 *  - The floor of a negative quotient adds at most 1 to the magnitude.
 * Result: ceil(sqrt((C·xMax)² · 4^FW / (C − 1))) · (1 + 2^(2 − F)) + 2, rounded up (a little above the exact bound).
 */
export function wAbsBound(maxChannels: number, xMax: bigint, p: LayernormPrecision): bigint {
  const C = BigInt(maxChannels);
  const num = (C * xMax) ** 2n << BigInt(2 * p.fracW);
  const den = C - 1n;
  const ratio = isqrt((num + den - 1n) / den) + 1n; // ≥ sqrt(num / den)
  return ratio + (ratio >> BigInt(p.rsqrtBits - 2)) + 1n + 2n;
}

/**
 * Every width of the datapath from the extremes of its operands over every layer the hardware allows (C up to
 * maxChannels, |gamma/out_scale| and |beta/out_scale| below 2^scale_ratio_bits): no layer's program can overflow it.
 */
function deriveWidths(bits: number, maxChannels: number, ratio: number, p: LayernormPrecision): LayernormDerived {
  const C = BigInt(maxChannels);
  const xMax = xAbsMax(bits);
  const sMax = C * xMax;
  // The smallest non-zero var is C − 1 ≥ CHANNELS_MIN − 1 (var = Σ_{i<j} (x_i − x_j)² has at least C − 1 non-zero
  // terms), so k ≤ kMax for every C the hardware takes.
  let kMax = 0;
  while ((BigInt(CHANNELS_MIN - 1) << BigInt(2 * (kMax + 1))) < (1n << BigInt(p.varWidth))) kMax++;
  const sumWidth = signedWidth(-sMax, sMax);
  const wShift = p.fracW + p.sqrtGuard + kMax;
  if (wShift < 0) throw new Error('layernorm: FW + G + kMax must be ≥ 0');
  const wNumWidth = unsignedWidth(sMax) + wShift;
  const wQuotWidth = Math.max(1, wNumWidth - p.rsqrtBits); // s ≥ 2^F, so the top F numerator bits never give a quotient bit
  const wAbsMax = wAbsBound(maxChannels, xMax, p);
  const wWidth = Math.min(wQuotWidth + 1, signedWidth(-wAbsMax, wAbsMax));
  // |gamma/out_scale|, |beta/out_scale| < 2^ratio, so |gt| ≤ 2^(ratio + FG) and |bk| ≤ 2^(ratio + FK) (after rounding).
  const gtMax = 1n << BigInt(ratio + p.fracG);
  const bkMax = 1n << BigInt(ratio + p.fracK);
  const gtWidth = signedWidth(-gtMax, gtMax);
  const ptMax = (wWidth === wQuotWidth + 1 ? 1n << BigInt(wQuotWidth) : wAbsMax) * gtMax;
  const kfMax = bkMax + ptMax;
  const offsetMax = (kfMax >> BigInt(p.fracK - 31)) + 1n; // N ≤ 31
  const accMax = 255n * xMax + offsetMax;
  // nA: fa = WG − 1 − floor(log2(C·|gamma/out_scale|)) (one less when the rounding carries), smallest at the largest
  // C·|gamma/out_scale| < maxChannels · 2^ratio; above kMax + 40, N_u − 31 ≥ 8 for every k, so M = 0 (saturated there).
  const faMin = p.mantissaA - 2 - (unsignedWidth(maxChannels) - 1 + ratio);
  const nAMin = nAOf(p, faMin);
  const nAMax = kMax + 40;
  const nMin = Math.min(0, nAMin - kMax - 1);
  const bkWidth = signedWidth(-bkMax, bkMax);
  const nAWidth = signedWidth(nMin, Math.max(32, nAMax));
  let bufferDepth = 1;
  while (bufferDepth < 2 * maxChannels) bufferDepth *= 2;
  return {
    precision: p,
    channelWidth: unsignedWidth(maxChannels - 1),
    countWidth: unsignedWidth(maxChannels),
    bufferDepth,
    xWidth: signedWidth(-xMax, xMax),
    sumWidth,
    sqWidth: unsignedWidth(C * xMax * xMax),
    xSqWidth: unsignedWidth(xMax * xMax),
    kMax,
    kWidth: unsignedWidth(kMax),
    radicandWidth: 2 * p.rsqrtBits + 2,
    rootWidth: p.rsqrtBits + 1,
    wNumWidth,
    wQuotWidth,
    wWidth,
    wAbsMax: wAbsMax.toString(),
    raWidth: p.rBitsA + 1,
    paWidth: p.rBitsA + p.mantissaA,
    gtWidth,
    bkWidth,
    ptWidth: signedWidth(-ptMax, ptMax),
    kfWidth: signedWidth(-kfMax, kfMax),
    nAWidth,
    nAMin,
    nAMax,
    offsetWidth: signedWidth(-offsetMax, offsetMax),
    accWidth: signedWidth(-accMax, accMax),
    constWidth: bkWidth + gtWidth + nAWidth + 2 + p.mantissaA + 2,
  };
}
