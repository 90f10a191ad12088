/**
 * The LIS softmax spec: user parameters (JSDoc'd, the source of --help and docs/parameters.md), their validation, and
 * the resolved spec with every width derived once. The hardware serves every layer whose input scale is at least
 * min_scale: widths come from that worst case; a layer (softmaxLayer) is a scale with its LIS constants b, c, x0,
 * computed exactly as FQ-ViT computes them (float64), and its exp table from the golden model over the whole input
 * domain, which the block loads at run time as a program (program.ts). Nothing is re-derived elsewhere.
 */
import { clog2, unsignedWidth } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';
import { intInRange, object, onlyKeys, positiveFinite } from '../common/validate.ts';
import { checkPrefix } from '../common/names.ts';
import { expTable, expTableSize, lisCFloat, lisConstants, type ExpEntry, type LisConstants } from './model.ts';

/**
 * LIS softmax (FQ-ViT's Log-Int-Softmax): rows of unsigned codes in, one log2 code per element out (value 2^-code),
 * with a flag for an exact zero; integer only, no divider, one element per cycle and lane (lanes). One instance serves
 * every layer whose input scale is at least min_scale: a layer's exp table (all that follows from its scale) is a
 * program loaded at run time through s_cfg_axis.
 */
export interface SoftmaxParams {
  /** Width of the unsigned input codes. @range 2..16 @default --bits */
  in_bits: number;
  /** Width of the log2 output code t (value 2^-t). FQ-ViT uses 4 whatever the input width; a code that would not fit is an exact zero. @range 1..8 @default 4 */
  out_bits: number;
  /** Input scale s (x = q * s) of the default layer: gen writes its program as program/default.{hex,json} and the testbench runs it. Any layer with min_scale <= s (and c = floor((1 / 0.35815147) / s^2) >= 1, s up to about 1.67) runs on the same hardware by loading its own program. Whether FQ-ViT's float64 sum and division provably agree with the exact hardware depends on the layer: the manifest's derived.default_layer.float_exact_bound says it for this one, each program's JSON for its own (generators/softmax/README.md). @default min(8 / 2^in_bits, 1), doubled until the largest row sum is below 2^52 (the code range spans 8 units of logit) */
  scale: number;
  /** Smallest input scale of any layer the instance serves: every width (exp table depth, z, e, the row sum) is derived for it, the worst case. Must keep c = floor((1 / 0.35815147) / s^2) below 2^53 (s at least about 1.8e-8) and the exp table (min(2^in_bits, n * |x0| + 1) entries) at most 4096 entries; a layer below it is refused (SpecError on scale). @default scale */
  min_scale: number;
  /** Longest row L the hardware accepts; any length from 1 to this, chosen by tlast at run time. A row that reaches it without tlast ends there. @range 1..4096 @default 197 */
  max_length: number;
  /** Exp shift n of FQ-ViT's i-exp (e = z * 2^(n - k)). FQ-ViT uses 30; a smaller n narrows the sum and the datapath but changes some codes (see generators/softmax/README.md). @range 1..30 @default 30 */
  n: number;
  /** Elements per beat and per cycle: s_axis and m_axis carry this many codes a beat, with tkeep on a row's last beat (above 1 only; the rule is in generators/softmax/README.md), and the block computes this many exps and log2 codes a cycle (each lane has its own two copies of the exp table, all written from the one program). At most max_length. @range 1, 2, 4 or 8 @default 1 */
  lanes: number;
}

/**
 * The layer range one instance serves: every input scale s with min_scale <= s <= maxScale. Everything that follows
 * from s (b, c, x0 and the exp table) is a run-time program (program.ts); every width is derived for the worst case
 * over this range, which is s = min_scale (c, |x0| and the table length all shrink as s grows).
 */
export interface SoftmaxRange {
  /** The smallest scale (the worst case every width is derived from). */
  minScale: number;
  /** The largest scale with c = floor((1 / 0.35815147) / s^2) >= 1 (about 1.67). */
  maxScale: number;
  /** Words of a program: the exp table's depth, min(2^in_bits, n |x0| + 1) at min_scale. */
  tableDepth: number;
  /** Largest polynomial value z a program word may hold: c at min_scale (z <= c on the whole domain). */
  zMax: bigint;
}

/** Everything the model, the emitters, the testbench and the manifest read. Frozen. */
export interface SoftmaxSpec {
  readonly params: Readonly<SoftmaxParams>;
  /** Starts every module and file name (common/names.ts); '' leaves the base names. */
  readonly prefix: string;
  readonly range: Readonly<SoftmaxRange>;
  /** The default layer (params.scale): the program gen writes as program/default, and the default stimulus's layer. */
  readonly layer: SoftmaxLayer;
  /** The default layer's constants and exp table (shorthands of layer.constants and layer.table). */
  readonly constants: Readonly<LisConstants>;
  /** The exp of every distance d = max - q up to the clamp (larger distances use the last entry). */
  readonly table: readonly ExpEntry[];
  readonly derived: Readonly<SoftmaxDerived>;
}

/**
 * One layer: an input scale inside the spec's range, with everything that follows from it (computed once, in
 * float64 as FQ-ViT for the constants, exact integers after). The golden model reads `table`; the program's words are
 * the same entries (program.ts).
 */
export interface SoftmaxLayer {
  readonly scale: number;
  readonly constants: Readonly<LisConstants>;
  /** Distinct entries, d = 0 .. min(2^in_bits, n |x0| + 1) - 1 (at most range.tableDepth). */
  readonly table: readonly ExpEntry[];
  /** Largest e and largest row sum (max_length elements) of this layer. */
  readonly elemMax: bigint;
  readonly sumMax: bigint;
  /**
   * Whether FQ-ViT's float64 row sum and division E / e provably give the exact integers for EVERY row of this layer
   * the hardware accepts: sumMax < floatExactLimit. Informative only: the hardware and the golden model are exact
   * integers at any width; when false, a row with E >= floatExactLimit may (rarely) round differently in FQ-ViT
   * (README).
   */
  readonly floatExactBound: boolean;
  /**
   * 2^(52 + mMin), mMin the smallest exp shift n - k of any non-zero table entry: every e is a multiple of 2^mMin, so
   * a row sum below this keeps FQ-ViT's float64 sum exact and its division on the right side of every rounding tie.
   */
  readonly floatExactLimit: bigint;
}

export interface SoftmaxDerived {
  /** Bits of the polynomial value z in a program word (holds range.zMax). */
  zWidth: number;
  /** Bits of the exp shift m = n - k in a program word. */
  shiftWidth: number;
  /** Bits of a program word {m, z}. */
  wordWidth: number;
  /** Bits of an exp table address (range.tableDepth entries). */
  tableAddrWidth: number;
  /** Bits of one exp e = z << m (holds zMax << n). */
  elemWidth: number;
  /** Bits of the row sum E (max_length times the largest e). */
  sumWidth: number;
  /** Largest e any program in range can give (zMax << n), and the largest row sum. */
  elemMax: bigint;
  sumMax: bigint;
  /** The default layer's layer.floatExactBound and layer.floatExactLimit (they depend on the layer). */
  floatExactBound: boolean;
  floatExactLimit: bigint;
  /** Bits of a row's beat count minus one (at lanes 1: its length minus one). */
  lengthWidth: number;
  /** Output word: {zero, code} (one lane's; a beat carries lanes of them). */
  outWidth: number;
  /** log2(lanes). */
  laneBits: number;
  /** Beats of a row of max_length elements: ceil(max_length / lanes). */
  maxBeats: number;
  /** Row buffer: 2^ringAddrWidth beats of lanes * in_bits (holds three rows in flight plus slack). */
  ringAddrWidth: number;
  /** Row FIFOs (A->B, B->C): 2^rowFifoAddrWidth rows. */
  rowFifoAddrWidth: number;
  /** Output FIFO: 2^outFifoAddrWidth entries. */
  outFifoAddrWidth: number;
}

export const SOFTMAX_DEFAULTS = { out_bits: 4, max_length: 197, n: 30, lanes: 1 } as const;
export const SOFTMAX_KEYS = ['in_bits', 'out_bits', 'scale', 'min_scale', 'max_length', 'n', 'lanes'] as const;
/** The lanes values the block is built for (a power of two: a beat's last lanes form a prefix and its sum a tree). */
export const SOFTMAX_LANES = [1, 2, 4, 8] as const;

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
export function resolveSoftmax(bits: number, overrides: unknown, prefix = ''): SoftmaxSpec {
  const o = overrides === undefined ? {} : object('softmax', overrides);
  onlyKeys('softmax', o, SOFTMAX_KEYS);
  const inBits = intInRange('softmax.in_bits', o.in_bits ?? bits, 2, 16);
  const maxLength = intInRange('softmax.max_length', o.max_length ?? SOFTMAX_DEFAULTS.max_length, 1, 4096);
  const n = intInRange('softmax.n', o.n ?? SOFTMAX_DEFAULTS.n, 1, 30);
  const scale = o.scale === undefined ? defaultScale(inBits, maxLength, n) : positiveFinite('softmax.scale', o.scale);
  const params: SoftmaxParams = {
    in_bits: inBits,
    out_bits: intInRange('softmax.out_bits', o.out_bits ?? SOFTMAX_DEFAULTS.out_bits, 1, 8),
    scale,
    min_scale: o.min_scale === undefined ? scale : positiveFinite('softmax.min_scale', o.min_scale),
    max_length: maxLength,
    n,
    lanes: softmaxLanes(o.lanes ?? SOFTMAX_DEFAULTS.lanes, maxLength),
  };
  return deriveSoftmax(params, prefix === '' ? '' : checkPrefix('prefix', prefix), o.min_scale === undefined ? 'softmax.scale' : 'softmax.min_scale');
}

/** Validates lanes: one of SOFTMAX_LANES, at most max_length (a row fills at least one beat's worth of lanes). */
function softmaxLanes(value: unknown, maxLength: number): number {
  const lanes = intInRange('softmax.lanes', value, 1, 8);
  if (!(SOFTMAX_LANES as readonly number[]).includes(lanes)) throw new SpecError('softmax.lanes', `must be one of ${SOFTMAX_LANES.join(', ')}`, lanes);
  if (lanes > maxLength) throw new SpecError('softmax.lanes', `must be at most max_length (${maxLength})`, lanes);
  return lanes;
}

/** The scale where c = floor((1 / 0.35815147) / s^2) would drop below 1: the largest scale of any layer. */
export function maxLayerScale(): number {
  let hi = 2;
  let lo = 1;
  while (hi - lo > 1e-12) {
    const mid = (lo + hi) / 2;
    if (lisCFloat(mid) >= 1) lo = mid; else hi = mid;
  }
  return lo;
}

const MAX_SCALE = maxLayerScale();

/** The hardware range of a validated parameter set: its worst case is min_scale. `parameter` names min_scale in errors. */
function deriveRange(params: SoftmaxParams, parameter: string): SoftmaxRange {
  const s = params.min_scale;
  if (!(lisCFloat(s) < C_LIMIT)) {
    throw new SpecError(
      parameter,
      'must keep c = floor((1 / 0.35815147) / s^2) below 2^53 (s at least about 1.8e-8), where FQ-ViT\'s float64 exp polynomial is exact',
      s,
    );
  }
  if (lisCFloat(s) < 1) throw new SpecError(parameter, `must make c = floor((1 / 0.35815147) / s^2) at least 1, i.e. s at most about ${MAX_SCALE.toFixed(4)}`, s);
  const constants = lisConstants(s, params.n);
  const tableDepth = expTableSize(params.in_bits, constants);
  if (tableDepth > EXP_TABLE_LIMIT) {
    throw new SpecError(
      parameter,
      `with in_bits ${params.in_bits} and n ${params.n}, the exp table needs min(2^in_bits, n * |x0| + 1) = ${tableDepth} entries ` +
        `(x0 = ${constants.x0}), at most ${EXP_TABLE_LIMIT}: use a larger scale or a smaller n`,
      s,
    );
  }
  return { minScale: s, maxScale: MAX_SCALE, tableDepth, zMax: constants.c };
}

/**
 * The layer of input scale `scale` on the hardware of `spec` (b, c, x0, the exp table, its float-exactness), or a
 * SpecError on `parameter` naming the range when the scale is outside it. Checks every table entry against what a
 * program word may hold (z <= range.zMax, m <= n), which the range guarantees.
 */
export function softmaxLayer(spec: Pick<SoftmaxSpec, 'params' | 'range'>, scale: number, parameter = 'softmax.scale'): SoftmaxLayer {
  const { params, range } = spec;
  if (!(Number.isFinite(scale) && scale >= range.minScale && lisCFloat(scale) >= 1)) {
    throw new SpecError(parameter, `must be from min_scale ${range.minScale} to ${range.maxScale.toFixed(4)} (the layer range of this instance; c >= 1 above)`, scale);
  }
  const constants = lisConstants(scale, params.n);
  const table = expTable(params.in_bits, constants);
  if (table.length > range.tableDepth || table.some((t) => t.z > range.zMax || t.m > params.n)) {
    throw new Error(`softmax layer of scale ${scale}: its exp table does not fit the hardware derived from min_scale ${range.minScale}`);
  }
  const elemMax = table.reduce((m, t) => (t.e > m ? t.e : m), 0n);
  const sumMax = elemMax * BigInt(params.max_length);
  const mMin = table.reduce((m, t) => (t.e > 0n ? Math.min(m, t.m) : m), params.n);
  const floatExactLimit = EXACT_SUM_LIMIT << BigInt(mMin);
  return Object.freeze({
    scale,
    constants: Object.freeze({ ...constants }),
    table: Object.freeze(table.map((t) => Object.freeze({ ...t }))),
    elemMax,
    sumMax,
    floatExactBound: sumMax < floatExactLimit,
    floatExactLimit,
  });
}

/**
 * Range, default layer and widths of a validated parameter set. `lanes` may be left out (1: one element per beat, as
 * the attention block builds its softmax).
 */
export function deriveSoftmax(given: Omit<SoftmaxParams, 'lanes'> & { lanes?: number }, prefix = '', minScaleParameter = 'softmax.min_scale'): SoftmaxSpec {
  const params: SoftmaxParams = { ...given, lanes: given.lanes ?? SOFTMAX_DEFAULTS.lanes };
  const laneBits = Math.log2(params.lanes);
  const maxBeats = Math.ceil(params.max_length / params.lanes);
  const range = deriveRange(params, minScaleParameter);
  const layer = softmaxLayer({ params, range }, params.scale);
  const elemMax = range.zMax << BigInt(params.n);
  const sumMax = elemMax * BigInt(params.max_length);
  const zWidth = unsignedWidth(range.zMax);
  const shiftWidth = unsignedWidth(params.n);
  const derived: SoftmaxDerived = {
    zWidth,
    shiftWidth,
    wordWidth: shiftWidth + zWidth,
    tableAddrWidth: Math.max(1, unsignedWidth(range.tableDepth - 1)),
    elemWidth: unsignedWidth(elemMax),
    sumWidth: unsignedWidth(sumMax),
    elemMax,
    sumMax,
    floatExactBound: layer.floatExactBound,
    floatExactLimit: layer.floatExactLimit,
    lengthWidth: unsignedWidth(maxBeats - 1),
    outWidth: params.out_bits + 1,
    laneBits,
    maxBeats,
    ringAddrWidth: clog2(3 * maxBeats + 32),
    rowFifoAddrWidth: 4,
    outFifoAddrWidth: 5,
  };
  return Object.freeze({
    params: Object.freeze({ ...params }),
    prefix,
    range: Object.freeze(range),
    layer,
    constants: layer.constants,
    table: layer.table,
    derived: Object.freeze(derived),
  });
}
