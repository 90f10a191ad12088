/**
 * The golden model of the LIS softmax (FQ-ViT's QIntSoftmax with log_i_softmax), in exact integers.
 *
 * FQ-ViT computes its constants in float64 from the input scale s; they are computed here the same way, in the same
 * order of operations, with JS numbers (float64). Everything after the constants is BigInt. Where FQ-ViT uses floats
 * on integers (the sum E, the division E / e, log2), generators/softmax/README.md shows why the exact integer result is the same
 * for every row whose sum is below 2^52 (2^(52 + m) when every e of the row is a multiple of 2^m); the model stays exact
 * integer above that too, as the hardware does.
 */
import { floorDiv, roundHalfEvenDiv } from '../common/arith.ts';

/** FQ-ViT's polynomial exp(x) ~ a (x + b/a)^2 ... written as a x^2 + b x + c with a = 0.35815147. */
const COEF_A = 0.35815147;
const COEF_B = 0.96963238;
const COEF_C = 1.0;
/** -ln 2 as FQ-ViT writes it. */
const X0_FLOAT = -0.6931;

export interface LisConstants {
  /** b = floor((0.96963238 / 0.35815147) / s). */
  b: bigint;
  /** c = floor((1 / 0.35815147) / s^2). */
  c: bigint;
  /** x0 = floor(-0.6931 / s), negative. */
  x0: bigint;
  /** Exp shift (FQ-ViT: 30). */
  n: number;
}

/** FQ-ViT's c = floor((1 / 0.35815147) / s^2) as the float64 it computes (Infinity when s^2 underflows). */
export function lisCFloat(scale: number): number {
  const coef2 = COEF_C / COEF_A; // coef[2] /= coef[0]
  return Math.floor(coef2 / (scale * scale)); // scaling_factor ** 2 is one rounded product
}

/** b, c and x0 exactly as FQ-ViT's int_polynomial / int_exp compute them in float64. */
export function lisConstants(scale: number, n: number): LisConstants {
  const coef1 = COEF_B / COEF_A; // coef[1] /= coef[0]
  const b = Math.floor(coef1 / scale);
  const c = lisCFloat(scale);
  const x0 = Math.floor(X0_FLOAT / scale);
  return { b: BigInt(b), c: BigInt(c), x0: BigInt(x0), n };
}

/** One entry of the exp: for the distance d = max - q of an element from its row's maximum. */
export interface ExpEntry {
  /** d = max - q (the exp argument is x = -d). */
  d: number;
  /** k = floor(x / x0) after the clamp x >= n * x0, in 0..n. */
  k: number;
  /** r = x - x0 * k, in (x0, 0]. */
  r: bigint;
  /** z = max(r (r + b) + c, 0): the polynomial, clamped like FQ-ViT's exp (z <= 0 gives e = 0). */
  z: bigint;
  /** The left shift m = n - k. */
  m: number;
  /** e = z * 2^m. */
  e: bigint;
}

/** FQ-ViT's i-exp of one integer x <= 0 (x = q - max). */
export function expEntry(d: number, k: LisConstants): ExpEntry {
  const nx0 = BigInt(k.n) * k.x0;
  let x = -BigInt(d);
  if (x < nx0) x = nx0; // x_int = max(x_int, n * x0_int)
  const q = floorDiv(x, k.x0); // 0 .. n (x / x0 is exact enough in float64 for floor; see generators/softmax/README.md)
  const r = x - k.x0 * q;
  const poly = r * (r + k.b) + k.c;
  const z = poly > 0n ? poly : 0n;
  const m = k.n - Number(q);
  return { d, k: Number(q), r, z, m, e: z << BigInt(m) };
}

/**
 * The exp of every distance d that gives a distinct entry: d = 0 .. min(2^inBits - 1, n |x0|). Every larger distance
 * is clamped to x = n x0 and equals the last entry (see expOf).
 */
export function expTable(inBits: number, k: LisConstants): ExpEntry[] {
  return Array.from({ length: expTableSize(inBits, k) }, (_, d) => expEntry(d, k));
}

/** Entries of the exp table: min(2^inBits, n |x0| + 1). */
export function expTableSize(inBits: number, k: LisConstants): number {
  const clampAt = Number(BigInt(k.n) * -k.x0);
  return Math.min(2 ** inBits, clampAt + 1);
}

/** The exp entry of distance d from a table of expTable: distances past its end are clamped like x >= n x0. */
export function expOf(table: readonly ExpEntry[], d: number): ExpEntry {
  return table[Math.min(d, table.length - 1)]!;
}

/** FQ-ViT's log_round of an integer y >= 0: floor(log2 y), plus one when y - 2^f >= 2^(f-1). log_round(0) gives 0 (FQ-ViT clamps -inf to 0). */
export function logRound(y: bigint): number {
  if (y <= 0n) return 0;
  const f = y.toString(2).length - 1;
  return 2n * (y - (1n << BigInt(f))) >= 1n << BigInt(f) ? f + 1 : f;
}

/** One output element: the code t (value 2^-t) and whether the value is exactly zero (then code is all ones, as FQ-ViT clamps). */
export interface SoftmaxOut {
  code: number;
  zero: boolean;
}

/**
 * The log2 rounding of one element: y = round_half_even(E / e), t = log_round(y); zero when e = 0 or t >= 2^outBits.
 * This is also the behaviour of the hardware's log2 rounding unit for every E >= 0 and e >= 0.
 */
export function log2RoundCode(sum: bigint, e: bigint, outBits: number): SoftmaxOut {
  const top = 2 ** outBits - 1;
  if (e === 0n) return { code: top, zero: true };
  const t = logRound(roundHalfEvenDiv(sum, e));
  return t > top ? { code: top, zero: true } : { code: t, zero: false };
}

/** The LIS softmax of one row of codes (length >= 1) with a precomputed exp table (indexed by d). */
export function softmaxRow(row: readonly number[], table: readonly ExpEntry[], outBits: number): SoftmaxOut[] {
  if (row.length === 0) throw new RangeError('softmaxRow of an empty row');
  const max = Math.max(...row);
  const e = row.map((q) => expOf(table, max - q).e);
  const sum = e.reduce((a, v) => a + v, 0n);
  return e.map((v) => log2RoundCode(sum, v, outBits));
}

/** Splits a stream of codes into rows as the hardware does: at tlast, or after maxLength elements. */
export function splitRows(beats: ReadonlyArray<{ q: number; last: boolean }>, maxLength: number): number[][] {
  const rows: number[][] = [];
  let row: number[] = [];
  for (const b of beats) {
    row.push(b.q);
    if (b.last || row.length === maxLength) { rows.push(row); row = []; }
  }
  if (row.length) rows.push(row);
  return rows;
}
