/**
 * The golden model of the PTF LayerNorm block: the integer-only datapath the RTL implements, in BigInt, bit for bit.
 * Every rounding is named here and implemented once (generators/common/arith.ts); the per-channel constants come from
 * the resolved spec (computed once by the generator from the float layer), never from floats at run time.
 *
 * Per token of C codes q_c (FQ-ViT QIntLayerNorm, mode 'int', made integer-only):
 *   x_c = (q_c - zp) << alpha_c;  S = Σ x_c;  Q = Σ x_c²;  var = C·Q − S²                  (exact)
 *   var = 0 (a constant token): y_c = round(beta_c / s_out)                              (documented choice)
 *   k: the even left shift that brings var to VAR_WIDTH bits: vn = var · 4^k ∈ [2^(VW−2), 2^VW)  (exact)
 *   s = floor(sqrt(vn · 4^G))  ∈ [2^F, 2^(F+1))                                           (exact integer sqrt)
 *   R = floor(2^(2F) / s)      ∈ (2^(F−1), 2^F]            so 1/sqrt(var) ≈ R · 2^(k + G − 2F)
 *   W = floor(S · 2^(FW + k + G) / s)                      ≈ S/sqrt(var) · 2^FW  (mean/std, fixed point)
 * Per element, FQ-ViT's A_c = C·gamma_c/(s_out·sqrt(var)) as a float with a per-channel exponent:
 *   PA = (R >> (F − WR)) · |ga_c|  ∈ [2^(WR+WG−2), 2^(WR+WG)),  δ = its top bit
 *   N_u = nA_c − k − δ;  M_u = PA >> (WR + WG − 9 + δ) ∈ [128, 255]    (floor: FQ-ViT's M = floor(A·2^N))
 *   N = clamp(N_u, 0, 31): N_u < 0 → M = 255;  N_u > 31 → M = M_u >> (N_u − 31);  gamma_c = 0 → M = 0, N = 31
 *   B = round((bk_c − W · gt_c) · 2^N / 2^FK)       (FQ-ViT's B = round((beta − mean/std·gamma)/s_out · 2^N))
 *   y = round((sign(gamma_c) · M · x_c + B) / 2^N);  out_c = clamp(y + zp_out, 0, 2^bits − 1)
 * `round` is round half to even throughout.
 */
import { clamp, floorDiv, maxUnsigned, roundHalfEvenDiv, shiftRound } from '../common/arith.ts';

/** The internal precision of the datapath (derived in spec.ts; listed here so the model reads on its own). */
export interface LayernormPrecision {
  /** F: significant bits of the reciprocal square root R. */
  rsqrtBits: number;
  /** VW: the variance is normalized to this (even) width by an even left shift. */
  varWidth: number;
  /** G: radicand bit pairs added (or, when negative, dropped by floor) so that s = isqrt(vn · 4^G) has F + 1 bits. */
  sqrtGuard: number;
  /** WR: bits of R that enter the per-element A multiplier. */
  rBitsA: number;
  /** WG: mantissa bits of C·gamma/s_out. */
  mantissaA: number;
  /** FW: fraction bits of mean/std (W). */
  fracW: number;
  /** FG: fraction bits of gamma/s_out (gt). */
  fracG: number;
  /** FK = FW + FG: fraction bits of beta/s_out (bk) and of the offset before rounding. */
  fracK: number;
}

/** Per-channel constants, all exact integers computed once by the generator (spec.ts). */
export interface ChannelConstants {
  /** Power-of-two factor of the channel's input scale. */
  alpha: number;
  /** |ga|: mantissa of |C · gamma/s_out| in [2^(WG−1), 2^WG), or 0 when gamma = 0. */
  gaMag: bigint;
  /** Sign of gamma: −1, 0 or 1. */
  sign: number;
  /** nA: the exponent part of N that depends on the channel only (N_u = nA − k − δ). */
  nA: number;
  /** round(gamma/s_out · 2^FG). */
  gt: bigint;
  /** round(beta/s_out · 2^FK). */
  bk: bigint;
}

export interface TokenStats {
  S: bigint;
  Q: bigint;
  variance: bigint;
}

export interface TokenScalars {
  /** Even-shift count that normalizes the variance (vn = var · 4^k). */
  k: number;
  /** floor(sqrt(vn · 4^G)). */
  s: bigint;
  /** floor(2^(2F) / s). */
  R: bigint;
  /** floor(S · 2^(FW + k + G) / s). */
  W: bigint;
}

export interface ElementTerms {
  M: bigint;
  N: number;
  B: bigint;
  y: bigint;
}

/** Floor of the square root of a non-negative BigInt (Newton's method on integers; exact). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative value');
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** x_c = (q_c − zp) · 2^alpha_c for one token. */
export function centeredInputs(codes: readonly number[], zeroPoint: number, channels: readonly ChannelConstants[]): bigint[] {
  return codes.map((q, c) => BigInt(q - zeroPoint) << BigInt(channels[c]!.alpha));
}

export function tokenStats(x: readonly bigint[]): TokenStats {
  let S = 0n;
  let Q = 0n;
  for (const v of x) { S += v; Q += v * v; }
  return { S, Q, variance: BigInt(x.length) * Q - S * S };
}

/** The once-per-token scalars from S and var (> 0). */
export function tokenScalars(S: bigint, variance: bigint, p: LayernormPrecision): TokenScalars {
  if (variance <= 0n) throw new RangeError('tokenScalars needs a positive variance');
  const vw = BigInt(p.varWidth);
  let k = 0;
  while ((variance << BigInt(2 * (k + 1))) < (1n << vw)) k++;
  if ((variance << BigInt(2 * k)) >= (1n << vw)) throw new RangeError(`variance ${variance} exceeds VAR_WIDTH ${p.varWidth} bits`);
  const vn = variance << BigInt(2 * k);
  const s = isqrt(p.sqrtGuard >= 0 ? vn << BigInt(2 * p.sqrtGuard) : vn >> BigInt(-2 * p.sqrtGuard));
  const R = (1n << BigInt(2 * p.rsqrtBits)) / s;
  const W = floorDiv(S << BigInt(p.fracW + k + p.sqrtGuard), s);
  return { k, s, R, W };
}

/** M, N, B and y of one element, given the token's scalars. */
export function elementTerms(x: bigint, t: TokenScalars, ch: ChannelConstants, p: LayernormPrecision): ElementTerms {
  let M: bigint;
  let N: number;
  if (ch.sign === 0) {
    M = 0n;
    N = 31;
  } else {
    const pa = (t.R >> BigInt(p.rsqrtBits - p.rBitsA)) * ch.gaMag;
    const delta = pa >> BigInt(p.rBitsA + p.mantissaA - 1) !== 0n ? 1 : 0;
    const nU = ch.nA - t.k - delta;
    const mU = pa >> BigInt(p.rBitsA + p.mantissaA - 9 + delta);
    if (nU < 0) { M = 255n; N = 0; } else if (nU > 31) { M = mU >> BigInt(nU - 31); N = 31; } else { M = mU; N = nU; }
  }
  const kf = ch.bk - t.W * ch.gt;
  const B = shiftRound(kf, p.fracK - N, 'half-even');
  const y = shiftRound(BigInt(ch.sign) * M * x + B, N, 'half-even');
  return { M, N, B, y };
}

/** The output of a constant token (var = 0): round(beta_c / s_out), from the same constant bk. */
export function constantTokenOutput(ch: ChannelConstants, p: LayernormPrecision): bigint {
  return roundHalfEvenDiv(ch.bk, 1n << BigInt(p.fracK));
}

export interface ModelLayer {
  bits: number;
  zeroPoint: number;
  outZeroPoint: number;
  channels: readonly ChannelConstants[];
  precision: LayernormPrecision;
}

/** y_c (before the output zero point) of one token of codes. */
export function layernormTokenUnclamped(codes: readonly number[], layer: ModelLayer): bigint[] {
  const x = centeredInputs(codes, layer.zeroPoint, layer.channels);
  const { S, variance } = tokenStats(x);
  if (variance === 0n) return layer.channels.map((ch) => constantTokenOutput(ch, layer.precision));
  const t = tokenScalars(S, variance, layer.precision);
  return x.map((v, c) => elementTerms(v, t, layer.channels[c]!, layer.precision).y);
}

/** Output codes of one token: clamp(y + zp_out, 0, 2^bits − 1). */
export function layernormToken(codes: readonly number[], layer: ModelLayer): bigint[] {
  const hi = maxUnsigned(layer.bits);
  return layernormTokenUnclamped(codes, layer).map((y) => clamp(y + BigInt(layer.outZeroPoint), 0n, hi));
}
