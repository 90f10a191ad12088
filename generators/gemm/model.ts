/**
 * Golden model of the GEMM block, pure BigInt: the exact accumulators, the per-channel fixed-point constants derived
 * once from the float scales, and the integer requantizer the RTL implements bit for bit.
 */
import { clamp, exactBinary, maxUnsigned, shiftRound } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';
import type { GemmSpec } from './spec.ts';

/** The runtime constants of one output channel: out = clamp(round_half_even((acc * mult + offset) / 2^shift)). */
export interface ChannelConstants {
  /** Unsigned multiplier M < 2^frac_bits. */
  mult: bigint;
  /** Right shift S in [0, shiftMax]. */
  shift: number;
  /** Signed offset B (bias / out_scale + out_zero_point, in units of 2^-S), clamped exactly (see deriveChannel). */
  offset: bigint;
}

/** The float description of one GEMM's quantization, as FQ-ViT has it. */
export interface GemmScales {
  aScale: number;
  /** One scale per output channel. */
  wScale: number[];
  /** One float bias per output channel. */
  bias: number[];
  outScale: number;
  outZeroPoint: number;
}

/** A binary fraction num / 2^exp as a BigInt pair, exact. */
interface Fraction { num: bigint; exp: number }

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** round_half_even(f * 2^shift), exact. */
function scaleRound(f: Fraction, shift: number): bigint {
  return shift >= f.exp ? f.num << BigInt(shift - f.exp) : shiftRound(f.num, f.exp - shift, 'half-even');
}

/**
 * Fixed-point constants of one channel, computed once by the generator from float64 scales (the same float64 values
 * FQ-ViT computes with). rescale = a_scale * w_scale / out_scale (float64) is taken exactly as a binary fraction;
 * S is chosen so M = round_half_even(rescale * 2^S) has its top bit at frac_bits - 1, capped at shiftMax (tiny
 * rescales keep absolute precision 2^-shiftMax). The offset bias / out_scale (float64) plus the output zero point is
 * rounded half to even to 2^-S, then clamped to ±(accAbsMax * M + (2^out_bits + 1) * 2^S): beyond that bound every
 * accumulator saturates the output the same way, so the clamp changes no output and bounds B's width.
 */
export function deriveChannel(spec: GemmSpec, scales: GemmScales, channel: number): ChannelConstants {
  const { fracBits } = spec;
  const { shiftMax, accMin, accMax } = spec.derived;
  const param = (name: string) => `${name}[${channel}]`;
  const rescale = (scales.aScale * scales.wScale[channel]!) / scales.outScale;
  if (!Number.isFinite(rescale) || rescale <= 0) {
    throw new SpecError(param('w_scale'), 'a_scale * w_scale / out_scale must be a finite number greater than 0', rescale);
  }
  const r = exactBinary(rescale);
  // floor(log2 rescale) = bitLength(num) - 1 - exp; the top bit of M lands at frac_bits - 1.
  let shift = Math.min(shiftMax, fracBits - bitLength(r.num) + r.exp);
  let mult = shift < 0 ? 0n : scaleRound(r, shift);
  while (shift >= 0 && mult > maxUnsigned(fracBits)) mult = scaleRound(r, --shift); // rounded up to 2^frac_bits
  if (shift < 0) {
    throw new SpecError(param('w_scale'), `a_scale * w_scale / out_scale must be below 2^${fracBits - 1} (frac_bits)`, rescale);
  }
  const biasOverScale = scales.bias[channel]! / scales.outScale;
  if (!Number.isFinite(biasOverScale)) throw new SpecError(param('bias'), 'bias / out_scale must be finite', biasOverScale);
  const b = exactBinary(biasOverScale);
  const zp = BigInt(scales.outZeroPoint);
  const unclamped = scaleRound({ num: b.num + (zp << BigInt(b.exp)), exp: b.exp }, shift);
  const accAbsMax = -accMin > accMax ? -accMin : accMax;
  const bound = accAbsMax * mult + (maxUnsigned(spec.outBits) + 2n) * (1n << BigInt(shift));
  return { mult, shift, offset: clamp(unclamped, -bound, bound) };
}

/** The integer requantizer: clamp(round_half_even((acc * M + B) / 2^S), 0, 2^out_bits - 1). */
export function requantize(spec: GemmSpec, acc: bigint, c: ChannelConstants): bigint {
  return clamp(shiftRound(acc * c.mult + c.offset, c.shift, 'half-even'), 0n, maxUnsigned(spec.outBits));
}

/** Exact accumulators acc[m][n] = Σ_k (a[m][k] - zp) * w[n][k]. */
export function accumulate(a: readonly (readonly number[])[], w: readonly (readonly number[])[], zeroPoint: number): bigint[][] {
  const zp = BigInt(zeroPoint);
  return a.map((row) => w.map((wRow) => {
    let acc = 0n;
    for (let k = 0; k < row.length; k++) acc += (BigInt(row[k]!) - zp) * BigInt(wRow[k]!);
    return acc;
  }));
}

/** One GEMM problem: A is m × k (unsigned codes), W is n × k (signed), one constant set per output channel. */
export interface GemmProblem {
  a: number[][];
  w: number[][];
  aZeroPoint: number;
  channels: ChannelConstants[];
}

export interface GemmResult {
  acc: bigint[][];
  out: bigint[][];
}

/** The golden model of the whole block. */
export function gemmModel(spec: GemmSpec, p: GemmProblem): GemmResult {
  const acc = accumulate(p.a, p.w, p.aZeroPoint);
  return { acc, out: acc.map((row) => row.map((v, n) => requantize(spec, v, p.channels[n]!))) };
}
