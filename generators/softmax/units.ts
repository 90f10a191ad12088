/**
 * The softmax's two leaf arithmetic units, each a small module with one job and a fixed latency, emitted on their
 * own so a test (or a formal proof) can generate them for small widths:
 *  - softmax_exp: FQ-ViT's i-exp of a distance d = max - q, as a table of {m, z} and a shift;
 *  - softmax_log2_round: the log2 code of round(E / e) from leading-one positions and one compare of shifted values.
 */
import { unsignedWidth } from '../common/arith.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral } from '../common/verilog.ts';
import type { ExpEntry, LisConstants } from './model.ts';

/** Cycles from d to e in softmax_exp: the table read, then the shift. */
export const EXP_LATENCY = 2;
/** Cycles from (sum, elem) to (code, zero) in softmax_log2_round. */
export const LOG2_ROUND_LATENCY = 7;

/** `{N'b0, expr}`: expr (of `width` bits) zero-extended to `to` bits. */
export function zeroExtend(expr: string, width: number, to: number): string {
  if (to < width) throw new RangeError(`zeroExtend: ${to} < ${width}`);
  return to === width ? expr : `{${to - width}'b0, ${expr}}`;
}

export interface ExpUnitView {
  table: readonly ExpEntry[];
  constants: LisConstants;
  /** Width of d (the input code width): the table has 2^dWidth entries. */
  dWidth: number;
  /** Width of e; must hold every table entry's e. */
  eWidth: number;
  /** The spec written into the header. */
  spec: unknown;
}

/**
 * softmax_exp: e = z << m for the distance d, from a table of {m, z} over every d (computed by the golden model).
 * Latency EXP_LATENCY cycles, free-running (no enable).
 */
export function emitExpUnit(view: ExpUnitView): string {
  const { table, dWidth, eWidth } = view;
  if (table.length !== 2 ** dWidth) throw new RangeError(`emitExpUnit: the table needs ${2 ** dWidth} entries, got ${table.length}`);
  const zWidth = unsignedWidth(table.reduce((m, t) => (t.z > m ? t.z : m), 0n));
  const mWidth = unsignedWidth(table.reduce((m, t) => Math.max(m, t.m), 0));
  const eMax = table.reduce((m, t) => (t.e > m ? t.e : m), 0n);
  if (unsignedWidth(eMax) > eWidth) throw new RangeError(`emitExpUnit: e needs ${unsignedWidth(eMax)} bits, eWidth is ${eWidth}`);
  const wordWidth = mWidth + zWidth;
  const rows = table.map((t) => `${dWidth}'d${t.d}: word_reg <= ${hexLiteral(wordWidth, (BigInt(t.m) << BigInt(zWidth)) | t.z)}; // k ${t.k}, r ${t.r}, e ${t.e}`);
  return render('softmax/softmax_exp.v', {
    header: headerComment('softmax_exp: FQ-ViT integer exp as a table and a shift', view.spec),
    b: view.constants.b.toString(),
    c: view.constants.c.toString(),
    x0: view.constants.x0.toString(),
    n: view.constants.n,
    dWidth,
    dMsb: dWidth - 1,
    eMsb: eWidth - 1,
    zWidth,
    mWidth,
    eWidth,
    eMax: eMax.toString(),
    latency: EXP_LATENCY,
    rows,
    zExtend: zeroExtend('z', zWidth, eWidth),
  });
}

export interface Log2RoundView {
  /** Width of the row sum E. */
  sumWidth: number;
  /** Width of e (at most sumWidth). */
  elemWidth: number;
  /** Width of the output code. */
  outBits: number;
  spec: unknown;
}

/** Derived widths of softmax_log2_round, exported for the manifest and tests. */
export function log2RoundWidths(sumWidth: number, elemWidth: number) {
  if (elemWidth > sumWidth) throw new RangeError(`log2 round unit: elemWidth ${elemWidth} exceeds sumWidth ${sumWidth}`);
  const aWidth = Math.max(sumWidth + 1, elemWidth) + 1; // 2E + e
  const bWidth = elemWidth + 2; // 3e
  const cWidth = Math.max(sumWidth + 1, elemWidth + 3); // 2E against 5e
  const posWidth = unsignedWidth(aWidth - 1);
  // Signed distance of the leading ones (-(bWidth-1) .. aWidth-1) and t (<= aWidth + 1) share one width.
  const shWidth = Math.max(posWidth + 1, unsignedWidth(aWidth + 1) + 1);
  return { aWidth, bWidth, cWidth, posWidth, shWidth };
}

/**
 * softmax_log2_round: code = log_round(round_half_even(sum / elem)), zero when elem = 0 or the code exceeds
 * 2^outBits - 1 (code is then all ones). Latency LOG2_ROUND_LATENCY cycles, free-running.
 */
export function emitLog2RoundUnit(view: Log2RoundView): string {
  const { sumWidth, elemWidth, outBits } = view;
  const { aWidth, bWidth, cWidth, posWidth, shWidth } = log2RoundWidths(sumWidth, elemWidth);
  const codeMax = 2 ** outBits - 1;
  // Position masks: a one isolated in the bit-reversed value at index i is the leading one at position width-1-i.
  const mask = (width: number, bit: number) => {
    let m = 0n;
    for (let i = 0; i < width; i++) if (((width - 1 - i) >> bit) & 1) m |= 1n << BigInt(i);
    return hexLiteral(width, m);
  };
  const posBits = Array.from({ length: posWidth }, (_, bit) => ({ bit, aMask: mask(aWidth, bit), bMask: mask(bWidth, bit) }));
  // The barrel shift of B onto A's leading one, split in a coarse step (multiples of 8) and a fine step.
  const bExt = zeroExtend('b3_reg', bWidth, aWidth);
  const coarse = posWidth > 3 ? `${bExt} << {sh3_reg[${posWidth - 1}:3], 3'b000}` : bExt;
  const fine = posWidth > 3 ? 'bs4_reg << sh4_reg[2:0]' : `bs4_reg << sh4_reg[${posWidth - 1}:0]`;
  const maxT = aWidth + 1;
  return render('softmax/softmax_log2_round.v', {
    header: headerComment('softmax_log2_round: LIS log2 rounding of E / e without a divider', view.spec),
    latency: LOG2_ROUND_LATENCY,
    codeMax,
    sumMsb: sumWidth - 1,
    elemMsb: elemWidth - 1,
    codeMsb: outBits - 1,
    sumWidth,
    elemWidth,
    aWidth,
    bWidth,
    cWidth,
    posWidth,
    shWidth,
    tWidth: shWidth,
    outBits,
    a1Expr: `${zeroExtend('{sum, 1\'b0}', sumWidth + 1, aWidth)} + ${zeroExtend('elem', elemWidth, aWidth)}`,
    b1Expr: `${zeroExtend('elem', elemWidth, bWidth)} + ${zeroExtend('{elem, 1\'b0}', elemWidth + 1, bWidth)}`,
    five1Expr: `${zeroExtend('elem', elemWidth, cWidth)} + ${zeroExtend('{elem, 2\'b00}', elemWidth + 2, cWidth)}`,
    twoSum1Expr: zeroExtend('{sum, 1\'b0}', sumWidth + 1, cWidth),
    b1Wide: zeroExtend('b1_reg', bWidth, cWidth),
    posBits,
    sh3Expr: `${zeroExtend('a_pos2_reg', posWidth, shWidth)} - ${zeroExtend('b_pos2_reg', posWidth, shWidth)}`,
    bs4Expr: coarse,
    bs5Expr: fine,
    shOneExpr: zeroExtend('a5_reg < bs5_reg', 1, shWidth),
    bigExpr: `f6_reg - ${hexLiteral(shWidth, 1)}`,
    smallExpr: zeroExtend('small6_reg', 2, shWidth),
    saturateExpr: maxT > codeMax ? `zero6_reg || t > ${hexLiteral(shWidth, codeMax)}` : 'zero6_reg',
    codeExpr: shWidth >= outBits ? `t[${outBits - 1}:0]` : zeroExtend('t', shWidth, outBits),
  });
}
