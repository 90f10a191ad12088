/**
 * Exact constants for the GEMM's requantizer (generators/gemm/model.ts: deriveChannel and requantize, the one
 * requantizer of the project) when the reference is an exact rational rescale r of integer accumulators.
 *
 * FQ-ViT's attention requantizes S · s_qkv² · attn_scale / s_score (and O · s_qkv / s_attn_out) in float64; over the
 * codes that equals clamp(round_half_even(S · r) + zp) with r the exact rational of the float64 scales
 * (../shared/FQVIT.md: measured equal on every element). The requantizer computes round_half_even(S · M / 2^shift)
 * instead. deriveChannel's M = round(r · 2^shift) is within 2^-frac_bits of r, relatively, which is not enough by
 * itself: an S whose S · r lies closer than |S| · r · 2^-frac_bits to a rounding threshold (k + 1/2) could round the
 * other way. exactChannel therefore computes, in exact integers, the whole interval of M for which every |S| up to
 * the accumulator's bound gives the same code as r, and takes deriveChannel's M when it is inside, else the nearest
 * M inside. An empty interval (frac_bits too small for this rescale) is a SpecError; so exactness is a checked fact,
 * not a probability.
 */
import { clamp, maxUnsigned, roundHalfEvenDiv } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';
import { deriveChannel, type ChannelConstants } from '../gemm/model.ts';
import type { GemmSpec } from '../gemm/spec.ts';

/** An exact positive rational num / den. */
export interface Ratio {
  num: bigint;
  den: bigint;
}

function floorDivPos(a: bigint, b: bigint): bigint {
  return a / b; // both non-negative here
}

/**
 * The integers M for which round_half_even(s · M / 2^shift) and round_half_even(s · r) agree, capped at `cap`, for
 * every integer s in [0, absMax]. Rounding half to even is odd-symmetric, so the same holds for s in [-absMax, 0].
 *
 * For each threshold j + 1/2 (j = 0 .. cap - 1), let L be the largest s ≤ absMax with round(s · r) ≤ j. M must keep
 * round(L · M / 2^shift) ≤ j and, when L < absMax, push L + 1 above j; a tie at j + 1/2 rounds down when j is even.
 */
export function exactInterval(r: Ratio, shift: number, absMax: bigint, cap: number): { lo: bigint; hi: bigint | undefined } {
  let lo = 0n;
  let hi: bigint | undefined;
  const scale = 1n << BigInt(shift);
  for (let j = 0; j < cap; j++) {
    const twice = BigInt(2 * j + 1); // 2 (j + 1/2)
    const even = j % 2 === 0;
    // L: 2 s r.num ≤ twice r.den (j even), < (j odd)
    const lr = even ? floorDivPos(twice * r.den, 2n * r.num) : floorDivPos(twice * r.den - 1n, 2n * r.num);
    const l = lr < absMax ? lr : absMax;
    const num = twice * scale; // 2 (j + 1/2) 2^shift
    if (l > 0n) {
      const upper = even ? floorDivPos(num, 2n * l) : floorDivPos(num - 1n, 2n * l);
      if (hi === undefined || upper < hi) hi = upper;
    }
    if (l < absMax) {
      const l1 = l + 1n;
      const lower = even ? floorDivPos(num, 2n * l1) + 1n : (num + 2n * l1 - 1n) / (2n * l1);
      if (lower > lo) lo = lower;
    }
  }
  return { lo, hi }; // hi undefined: no upper bound
}

/**
 * Requantizer constants (M, shift, offset = zp · 2^shift) that give clamp(round_half_even(s · r) + zp, 0,
 * 2^out_bits - 1) for every integer |s| ≤ absMax, through requantize(gemm, s, constants). `approx` is r as a float64
 * (deriveChannel's input); `parameter` names the layer value in errors.
 */
export function exactChannel(gemm: GemmSpec, r: Ratio, approx: number, zeroPoint: number, absMax: bigint, parameter: string): ChannelConstants {
  let base: ChannelConstants;
  try {
    base = deriveChannel(gemm, { aScale: approx, wScale: [1], bias: [0], outScale: 1, outZeroPoint: zeroPoint }, 0);
  } catch (err) {
    if (err instanceof SpecError) throw new SpecError(parameter, `${err.allowed} (frac_bits ${gemm.fracBits})`, approx);
    throw err;
  }
  const top = Number(maxUnsigned(gemm.outBits));
  // Codes clamp below 0 and above top: thresholds beyond max(top - zp, zp) in either direction change no code.
  const cap = Math.max(top - zeroPoint, zeroPoint);
  const { lo, hi: upper } = exactInterval(r, base.shift, absMax, cap);
  const hi = upper ?? maxUnsigned(gemm.fracBits);
  const mult = base.mult < lo ? lo : base.mult > hi ? hi : base.mult;
  if (lo > hi || mult > maxUnsigned(gemm.fracBits)) {
    throw new SpecError(
      parameter,
      `needs a requantizer multiplier in [${lo}, ${hi}] · 2^-${base.shift} to equal the exact rescale on every accumulator up to ±${absMax}; ` +
        `frac_bits ${gemm.fracBits} has none: raise frac_bits`,
      approx,
    );
  }
  return { ...base, mult };
}

/** The exact reference: clamp(round_half_even(s · r) + zp, 0, 2^outBits - 1). */
export function exactRequantize(s: bigint, r: Ratio, zeroPoint: number, outBits: number): bigint {
  return clamp(roundHalfEvenDiv(s * r.num, r.den) + BigInt(zeroPoint), 0n, maxUnsigned(outBits));
}
