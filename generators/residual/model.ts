/**
 * Golden model of the residual add with PTF requantization, pure BigInt and exact.
 *
 * The formula, with every float64 scale an exact dyadic rational:
 *   out_c = clamp(round_half_even(((x_c - zp_x) s_x1 2^ax_c + (y - zp_y) s_y) / (s_o1 2^ao_c)) + zp_o, 0, 2^bits - 1)
 * (x and the output PTF-quantized: per-channel scale s1 2^alpha_c, one zero point; y a layer-wise code).
 *
 * Exact integer form: write s_x1 = X / 2^E, s_y = Y / 2^E (E the larger of their exponents) and s_o1 = O / 2^G.
 * Then the quotient is P / D with
 *   P = u X' 2^ax + v Y',   D = O' 2^ao,   u = x - zp_x, v = y - zp_y,
 *   X' = X 2^max(0, G - E), Y' = Y 2^max(0, G - E), O' = O 2^max(0, E - G),
 * with the common power of two of X', Y', O' divided out. The hardware computes
 *   n = 2P + (2 zp_o + 1) D           (= 2D (P / D + zp_o + 1/2))
 * and, because the output is clamped to [0, 2^bits - 1], only a bits-wide quotient of n by 2D: n < 0 gives 0,
 * n >= 2^bits 2D gives 2^bits - 1, otherwise q = floor(n / (2D)) by bits restoring-division steps, the remainder
 * telling a tie (0), where round half to even takes q - 1 when q - zp_o is odd. `residualHardware` is that
 * algorithm; the tests prove it equal to `residualExact` (the formula over exact rationals) exhaustively.
 */
import { clamp, exactBinary, maxUnsigned, roundHalfEvenDiv } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';

/** The float description of one residual add, as FQ-ViT has it. */
export interface ResidualLayer {
  /** x (the residual stream): PTF, per-channel scale xScaleMin 2^xAlpha[c]. */
  xScaleMin: number;
  xAlpha: number[];
  xZeroPoint: number;
  /** y (the branch output): one scale. */
  yScale: number;
  yZeroPoint: number;
  /** The output quantizer: PTF. */
  outScaleMin: number;
  outAlpha: number[];
  outZeroPoint: number;
}

/** Generation-time widths a program must fit. */
export interface ResidualWidths {
  bits: number;
  /** Width of the unsigned constants X', Y', O'. */
  constBits: number;
  maxChannels: number;
}

/** The integers the hardware holds for one layer. */
export interface ResidualProgramValues {
  channels: number;
  zx: number;
  zy: number;
  zo: number;
  xConst: bigint;
  yConst: bigint;
  oConst: bigint;
  /** (2 zo + 1) O'. */
  offsetConst: bigint;
  xAlpha: number[];
  outAlpha: number[];
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function trailingZeros(x: bigint): number {
  let n = 0;
  while (x > 0n && (x & 1n) === 0n) { x >>= 1n; n++; }
  return n;
}

/** The exact quotient of one element: out = clamp(rhe(num / den) + zo) with these integers (den > 0). */
export function residualExact(layer: ResidualLayer, bits: number, x: number, y: number, c: number): number {
  const sx = exactBinary(layer.xScaleMin);
  const sy = exactBinary(layer.yScale);
  const so = exactBinary(layer.outScaleMin);
  // value = (u sx 2^ax + v sy) / (so 2^ao): everything over 2^(sx.exp + sy.exp + so.exp).
  const u = BigInt(x - layer.xZeroPoint);
  const v = BigInt(y - layer.yZeroPoint);
  const e = Math.max(sx.exp, sy.exp);
  const value = u * sx.num * (1n << BigInt(e - sx.exp + layer.xAlpha[c]!)) + v * sy.num * (1n << BigInt(e - sy.exp)); // / 2^e
  // value / 2^e / (so.num 2^(ao - so.exp)) = value 2^so.exp / (so.num 2^(ao + e))
  const num = value << BigInt(so.exp);
  const den = so.num << BigInt(layer.outAlpha[c]! + e);
  return Number(clamp(roundHalfEvenDiv(num, den) + BigInt(layer.outZeroPoint), 0n, maxUnsigned(bits)));
}

/** The integer constants of a layer; SpecError when they do not fit the generation-time widths. */
export function buildResidualProgram(w: ResidualWidths, layer: ResidualLayer): ResidualProgramValues {
  const channels = layer.xAlpha.length;
  if (channels < 1 || channels > w.maxChannels) throw new SpecError('residual layer x_alpha', `must have 1 to ${w.maxChannels} channels (max_channels)`, channels);
  if (layer.outAlpha.length !== channels) throw new SpecError('residual layer out_alpha', `must have ${channels} values, one per channel`, layer.outAlpha.length);
  const alphaOk = (name: string, a: number[]) => a.forEach((v, c) => {
    if (!Number.isInteger(v) || v < 0 || v > 3) throw new SpecError(`residual layer ${name}[${c}]`, 'must be an integer from 0 to 3', v);
  });
  alphaOk('x_alpha', layer.xAlpha);
  alphaOk('out_alpha', layer.outAlpha);
  const max = Number(maxUnsigned(w.bits));
  for (const [name, v] of [['x_zero_point', layer.xZeroPoint], ['y_zero_point', layer.yZeroPoint], ['out_zero_point', layer.outZeroPoint]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new SpecError(`residual layer ${name}`, `must be an integer from 0 to ${max}`, v);
  }
  for (const [name, v] of [['x_scale_min', layer.xScaleMin], ['y_scale', layer.yScale], ['out_scale_min', layer.outScaleMin]] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new SpecError(`residual layer ${name}`, 'must be a finite number greater than 0', v);
  }
  const sx = exactBinary(layer.xScaleMin);
  const sy = exactBinary(layer.yScale);
  const so = exactBinary(layer.outScaleMin);
  const e = Math.max(sx.exp, sy.exp);
  let x = sx.num << BigInt(e - sx.exp);
  let y = sy.num << BigInt(e - sy.exp);
  let o = so.num;
  if (so.exp >= e) { x <<= BigInt(so.exp - e); y <<= BigInt(so.exp - e); } else o <<= BigInt(e - so.exp);
  const common = Math.min(trailingZeros(x), trailingZeros(y), trailingZeros(o));
  x >>= BigInt(common); y >>= BigInt(common); o >>= BigInt(common);
  const need = Math.max(bitLength(x), bitLength(y), bitLength(o));
  if (need > w.constBits) {
    throw new SpecError('residual layer scales', `must give constants X', Y', O' of at most const_bits = ${w.constBits} bits (the ratios of x_scale_min, y_scale and out_scale_min need ${need})`, need);
  }
  return {
    channels, zx: layer.xZeroPoint, zy: layer.yZeroPoint, zo: layer.outZeroPoint,
    xConst: x, yConst: y, oConst: o, offsetConst: BigInt(2 * layer.outZeroPoint + 1) * o,
    xAlpha: [...layer.xAlpha], outAlpha: [...layer.outAlpha],
  };
}

/** The hardware's algorithm for one element (see the file comment). */
export function residualHardware(p: ResidualProgramValues, bits: number, x: number, y: number, c: number): number {
  const ax = BigInt(p.xAlpha[c]!);
  const ao = BigInt(p.outAlpha[c]!);
  const bigP = (BigInt(x - p.zx) * p.xConst << ax) + BigInt(y - p.zy) * p.yConst;
  let rem = 2n * bigP + (p.offsetConst << ao);
  const max = maxUnsigned(bits);
  if (rem < 0n) return 0;
  if (rem >= p.oConst << (ao + 1n + BigInt(bits))) return Number(max);
  let q = 0n;
  for (let i = bits - 1; i >= 0; i--) {
    const step = p.oConst << (ao + 1n + BigInt(i));
    if (rem >= step) { rem -= step; q |= 1n << BigInt(i); }
  }
  const tieOdd = rem === 0n && ((q ^ BigInt(p.zo)) & 1n) === 1n;
  return Number(tieOdd && q > 0n ? q - 1n : q);
}

/** One element of the input streams. */
export interface ResidualBeat {
  x: number;
  y: number;
  last: boolean;
}

/** The channel of each element: in order from 0, back to 0 after tlast or after channel C - 1. */
export function residualChannels(beats: readonly { last: boolean }[], channels: number): number[] {
  let n = 0;
  return beats.map((b) => {
    const here = n;
    n = b.last || n === channels - 1 ? 0 : n + 1;
    return here;
  });
}

/** The golden model of a stream. */
export function residualStream(p: ResidualProgramValues, beats: readonly ResidualBeat[], bits: number): number[] {
  const ch = residualChannels(beats, p.channels);
  return beats.map((b, i) => residualHardware(p, bits, b.x, b.y, ch[i]!));
}
