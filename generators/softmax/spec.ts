/**
 * The LIS softmax spec: user parameters (JSDoc'd, the source of --help and docs/parameters.md), their validation, and
 * the resolved spec with every constant and width derived once. The LIS constants b, c, x0 come from the float scale
 * exactly as FQ-ViT computes them (float64); the exp table and every width come from the golden model over the whole
 * input domain, so nothing is re-derived elsewhere.
 */
import { clog2, unsignedWidth } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';
import { intInRange, object, onlyKeys, positiveFinite } from '../common/validate.ts';
import { expTable, expTableSize, lisCFloat, lisConstants, type ExpEntry, type LisConstants } from './model.ts';

/**
 * LIS softmax (FQ-ViT's Log-Int-Softmax): rows of unsigned codes in, one log2 code per element out (value 2^-code),
 * with a flag for an exact zero; integer only, no divider, one element per cycle.
 */
export interface SoftmaxParams {
  /** Width of the unsigned input codes. @range 2..16 @default --bits */
  in_bits: number;
  /** Width of the log2 output code t (value 2^-t). FQ-ViT uses 4 whatever the input width; a code that would not fit is an exact zero. @range 1..8 @default 4 */
  out_bits: number;
  /** Float input scale s (x = q * s); FQ-ViT's b, c, x0 derive from it in float64. Must keep c = floor((1 / 0.35815147) / s^2) below 2^53 (s at least about 1.8e-8) and the exp table (min(2^in_bits, n * |x0| + 1) entries) at most 4096 entries. The hardware is exact at any row sum width; the manifest's derived.float_exact_bound says whether FQ-ViT's float64 sum and division provably agree with it on every row (see generators/softmax/README.md). @default min(8 / 2^in_bits, 1), doubled until the largest row sum is below 2^52 (the code range spans 8 units of logit) */
  scale: number;
  /** Longest row L the hardware accepts; any length from 1 to this, chosen by tlast at run time. A row that reaches it without tlast ends there. @range 1..4096 @default 197 */
  max_length: number;
  /** Exp shift n of FQ-ViT's i-exp (e = z * 2^(n - k)). FQ-ViT uses 30; a smaller n narrows the sum and the datapath but changes some codes (see generators/softmax/README.md). @range 1..30 @default 30 */
  n: number;
}

/** Everything the model, the emitters, the testbench and the manifest read. Frozen. */
export interface SoftmaxSpec {
  readonly params: Readonly<SoftmaxParams>;
  readonly constants: Readonly<LisConstants>;
  /** The exp of every distance d = max - q up to the clamp (larger distances use the last entry). */
  readonly table: readonly ExpEntry[];
  readonly derived: Readonly<SoftmaxDerived>;
}

export interface SoftmaxDerived {
  /** Bits of the polynomial value z in the exp table. */
  zWidth: number;
  /** Bits of the exp shift m = n - k in the exp table. */
  shiftWidth: number;
  /** Bits of one exp e = z << m. */
  elemWidth: number;
  /** Bits of the row sum E (max_length times the largest e). */
  sumWidth: number;
  /** Largest e in the table and the largest row sum. */
  elemMax: bigint;
  sumMax: bigint;
  /**
   * Whether FQ-ViT's float64 row sum and division E / e provably give the exact integers for EVERY row the hardware
   * accepts: sumMax < floatExactLimit. Informative only: the hardware and the golden model are exact integers at any
   * sumWidth; when false, a row with E >= floatExactLimit may (rarely) round differently in FQ-ViT (README).
   */
  floatExactBound: boolean;
  /**
   * 2^(52 + mMin), mMin the smallest exp shift n - k of any non-zero table entry: every e is a multiple of 2^mMin, so
   * a row sum below this keeps FQ-ViT's float64 sum exact and its division on the right side of every rounding tie.
   */
  floatExactLimit: bigint;
  /** Bits of a row length minus one. */
  lengthWidth: number;
  /** Output word: {zero, code}. */
  outWidth: number;
  /** Row buffer: 2^ringAddrWidth entries of in_bits (holds three rows in flight plus slack). */
  ringAddrWidth: number;
  /** Row FIFOs (A->B, B->C): 2^rowFifoAddrWidth rows. */
  rowFifoAddrWidth: number;
  /** Output FIFO: 2^outFifoAddrWidth entries. */
  outFifoAddrWidth: number;
}

export const SOFTMAX_DEFAULTS = { out_bits: 4, max_length: 197, n: 30 } as const;
export const SOFTMAX_KEYS = ['in_bits', 'out_bits', 'scale', 'max_length', 'n'] as const;

/**
 * FQ-ViT computes y = round(E / e) as a float64 division of float64 sums. Both agree with the exact integers when the
 * row sum stays below 2^52 (below 2^(52 + m) when every e of the row is a multiple of 2^m; see
 * generators/softmax/README.md for the proof). The hardware does not need it; the default scale keeps to it.
 */
export const EXACT_SUM_LIMIT = 1n << 52n;

/**
 * c = floor((1 / 0.35815147) / s^2) must stay below 2^53: then FQ-ViT's float64 constants and its exp polynomial
 * z = r (r + b) + c (|r (r + b)| < c) are exact integers, which the golden model's exp table assumes.
 */
export const C_LIMIT = 2 ** 53;

/** Most entries the exp table may have (a block RAM of 4096 words at the most). */
export const EXP_TABLE_LIMIT = 4096;

/**
 * The default scale: the 2^in_bits codes span 8 units of logit (e^-8 ~ 2^-11.5, beyond what a 4-bit code holds), at
 * most 1 so that FQ-ViT's constant c = floor(2.79 / s^2) stays positive at 2 and 3 bits, and doubled while the largest
 * row sum would reach 2^52 (wide inputs, long rows), so that floatExactBound holds, or the exp table would pass
 * EXP_TABLE_LIMIT entries (wide inputs, short rows). A power of two, so that x = q * s is exact.
 */
export function defaultScale(inBits: number, maxLength: number = SOFTMAX_DEFAULTS.max_length, n: number = SOFTMAX_DEFAULTS.n): number {
  let s = Math.min(8 / 2 ** inBits, 1);
  const tooWide = (k: LisConstants) => k.c * (BigInt(maxLength) << BigInt(n)) >= EXACT_SUM_LIMIT || expTableSize(inBits, k) > EXP_TABLE_LIMIT;
  while (s < 1 && tooWide(lisConstants(s, n))) s *= 2;
  return s;
}

/** Validates a softmax section of a --spec file (or undefined) and derives the resolved spec. */
export function resolveSoftmax(bits: number, overrides: unknown): SoftmaxSpec {
  const o = overrides === undefined ? {} : object('softmax', overrides);
  onlyKeys('softmax', o, SOFTMAX_KEYS);
  const inBits = intInRange('softmax.in_bits', o.in_bits ?? bits, 2, 16);
  const maxLength = intInRange('softmax.max_length', o.max_length ?? SOFTMAX_DEFAULTS.max_length, 1, 4096);
  const n = intInRange('softmax.n', o.n ?? SOFTMAX_DEFAULTS.n, 1, 30);
  const params: SoftmaxParams = {
    in_bits: inBits,
    out_bits: intInRange('softmax.out_bits', o.out_bits ?? SOFTMAX_DEFAULTS.out_bits, 1, 8),
    scale: o.scale === undefined ? defaultScale(inBits, maxLength, n) : positiveFinite('softmax.scale', o.scale),
    max_length: maxLength,
    n,
  };
  return deriveSoftmax(params);
}

/** Constants, exp table and widths of a validated parameter set. */
export function deriveSoftmax(params: SoftmaxParams): SoftmaxSpec {
  if (!(lisCFloat(params.scale) < C_LIMIT)) {
    throw new SpecError(
      'softmax.scale',
      'must keep c = floor((1 / 0.35815147) / s^2) below 2^53 (s at least about 1.8e-8), where FQ-ViT\'s float64 exp polynomial is exact',
      params.scale,
    );
  }
  const constants = lisConstants(params.scale, params.n);
  if (constants.c < 1n) {
    throw new SpecError('softmax.scale', 'must make c = floor((1 / 0.35815147) / s^2) at least 1, i.e. s at most about 1.67', params.scale);
  }
  const tableSize = expTableSize(params.in_bits, constants);
  if (tableSize > EXP_TABLE_LIMIT) {
    throw new SpecError(
      'softmax.scale',
      `with in_bits ${params.in_bits} and n ${params.n}, the exp table needs min(2^in_bits, n * |x0| + 1) = ${tableSize} entries ` +
        `(x0 = ${constants.x0}), at most ${EXP_TABLE_LIMIT}: use a larger scale or a smaller n`,
      params.scale,
    );
  }
  const table = expTable(params.in_bits, constants);
  const elemMax = table.reduce((m, t) => (t.e > m ? t.e : m), 0n);
  const sumMax = elemMax * BigInt(params.max_length);
  const mMin = table.reduce((m, t) => (t.e > 0n ? Math.min(m, t.m) : m), params.n);
  const floatExactLimit = EXACT_SUM_LIMIT << BigInt(mMin);
  const zMax = table.reduce((m, t) => (t.z > m ? t.z : m), 0n);
  const elemWidth = unsignedWidth(elemMax);
  const derived: SoftmaxDerived = {
    zWidth: unsignedWidth(zMax),
    shiftWidth: unsignedWidth(params.n),
    elemWidth,
    sumWidth: unsignedWidth(sumMax),
    elemMax,
    sumMax,
    floatExactBound: sumMax < floatExactLimit,
    floatExactLimit,
    lengthWidth: unsignedWidth(params.max_length - 1),
    outWidth: params.out_bits + 1,
    ringAddrWidth: clog2(3 * params.max_length + 32),
    rowFifoAddrWidth: 4,
    outFifoAddrWidth: 5,
  };
  return Object.freeze({
    params: Object.freeze({ ...params }),
    constants: Object.freeze({ ...constants }),
    table: Object.freeze(table.map((t) => Object.freeze({ ...t }))),
    derived: Object.freeze(derived),
  });
}
