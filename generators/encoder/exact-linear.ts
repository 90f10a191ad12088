/**
 * A proof that a GEMM step's requantizer (gemm/model.ts deriveChannel + requantize) equals the exact formula FQ-ViT's
 * float64 run reproduces (../shared/FQVIT.md: in exact arithmetic over the codes, every step agrees):
 *   code(acc) = clamp(round_half_even((acc · s_a · s_w[n] + bias[n]) / s_out) + zp_out, 0, 2^out_bits - 1)
 * with every float64 taken as its exact dyadic rational, for EVERY accumulator of the GEMM's range.
 *
 * Both functions are non-decreasing in acc (M ≥ 0; s_a · s_w > 0). The exact one steps from below k + 1 to at least
 * k + 1 at one integer T_k, which is floor(x_k) or floor(x_k) + 1 with x_k the acc where the exact value is the tie
 * k + 1/2 - zp. So the two agree everywhere exactly when they agree at floor(x_k) - 1, floor(x_k), floor(x_k) + 1 for
 * every k (those inside the range) and at the range's two ends: between two such points the exact code is constant
 * and the requantizer, equal to it at both, cannot move. That is 3 · (2^out_bits - 1) + 2 evaluations a channel.
 * attention/requant.ts proves the same for a rescale with no bias; a bias moves every threshold, hence this file.
 */
import { clamp, exactBinary, floorDiv, maxUnsigned, roundHalfEvenDiv } from '../common/arith.ts';
import { requantize, type ChannelConstants, type GemmScales } from '../gemm/model.ts';
import type { GemmSpec } from '../gemm/spec.ts';

/** The exact formula of one channel as integers: code = clamp(rhe((acc · a + b) / d) + zp). */
export interface ExactChannel {
  a: bigint;
  b: bigint;
  d: bigint;
  zeroPoint: bigint;
  top: bigint;
}

/** a / 2^ea, b / 2^eb, s / 2^es → (acc · a + b) / s = (acc · A + B) / D with A, B, D integers. */
export function exactChannel(scales: GemmScales, channel: number, outBits: number): ExactChannel {
  const sa = exactBinary(scales.aScale);
  const sw = exactBinary(scales.wScale[channel]!);
  const bias = exactBinary(scales.bias[channel]!);
  const so = exactBinary(scales.outScale);
  const ae = sa.exp + sw.exp;
  const e = Math.max(ae, bias.exp);
  // (acc · an / 2^ae + bn / 2^be) / (sn / 2^se) = (acc · an 2^(e - ae) + bn 2^(e - be)) 2^se / (sn 2^e)
  return {
    a: (sa.num * sw.num) << BigInt(e - ae + so.exp),
    b: bias.num << BigInt(e - bias.exp + so.exp),
    d: so.num << BigInt(e),
    zeroPoint: BigInt(scales.outZeroPoint),
    top: maxUnsigned(outBits),
  };
}

export function exactCode(x: ExactChannel, acc: bigint): bigint {
  return clamp(roundHalfEvenDiv(acc * x.a + x.b, x.d) + x.zeroPoint, 0n, x.top);
}

/**
 * The first accumulator in the GEMM's range where requantize(spec, acc, constants) differs from the exact formula,
 * or undefined when they agree on every accumulator of the range (see the file comment).
 */
export function firstInexact(spec: GemmSpec, constants: ChannelConstants, x: ExactChannel): bigint | undefined {
  const { accMin, accMax } = spec.derived;
  const points: bigint[] = [accMin, accMax];
  for (let k = 0n; k < x.top; k++) {
    // acc · a + b = (k + 1/2 - zp) d  ⇔  acc = ((2 (k - zp) + 1) d - 2 b) / (2 a)
    const t = floorDiv((2n * (k - x.zeroPoint) + 1n) * x.d - 2n * x.b, 2n * x.a);
    for (const p of [t - 1n, t, t + 1n]) if (p >= accMin && p <= accMax) points.push(p);
  }
  points.sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
  return points.find((p) => requantize(spec, p, constants) !== exactCode(x, p));
}
