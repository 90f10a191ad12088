/**
 * The softmax's two leaf arithmetic units, each a small module with one job and a fixed latency, emitted on their
 * own so a test (or a formal proof) can generate them for small widths:
 *  - softmax_exp: FQ-ViT's i-exp of a distance d = max - q, as a table RAM of {m, z} (the program) and a shift;
 *  - softmax_log2_round: the log2 code of round(E / e) from leading-one positions and one compare of shifted values.
 */
import { unsignedWidth } from '../common/arith.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral, zeroExtend } from '../common/verilog.ts';

/** Cycles from d to e in softmax_exp: the table read, then the shift. */
export const EXP_LATENCY = 2;
/** Cycles from (sum, elem) to (code, zero) in softmax_log2_round. */
export const LOG2_ROUND_LATENCY = 10;

export interface ExpUnitView {
  /** Module name (prefixed). @default softmax_exp */
  name?: string;
  /** Width of d (the input code width). */
  dWidth: number;
  /** Entries of the table (2 .. 2^dWidth); distances past the last entry read the last entry. */
  depth: number;
  /** Widths of the table word's fields {m, z}. */
  zWidth: number;
  mWidth: number;
  /** Width of e; must hold (2^zWidth - 1) << (2^mWidth - 1) for the words the caller lets through. */
  eWidth: number;
  /** The spec written into the header. */
  spec: unknown;
}

/**
 * softmax_exp: e = z << m for the distance d, from a RAM of {m, z} words written through its write port (the
 * program). Latency EXP_LATENCY cycles from d, free-running (no enable).
 */
export function emitExpUnit(view: ExpUnitView): string {
  const { dWidth, depth } = view;
  if (depth < 2 || depth > 2 ** dWidth) throw new RangeError(`emitExpUnit: a table of ${depth} entries for ${dWidth}-bit distances`);
  // Distances past the table's end are clamped to its last entry (FQ-ViT's x >= n x0).
  const clamped = depth < 2 ** dWidth;
  const addrWidth = clamped ? unsignedWidth(depth - 1) : dWidth;
  const last = depth - 1;
  // The fine part of the shift (m mod 4, or all of m when m has at most 2 bits) is done when a word is written.
  const fineBits = Math.min(2, view.mWidth);
  const coarseBits = view.mWidth - fineBits;
  const zsWidth = Math.min(view.zWidth + 2 ** fineBits - 1, view.eWidth);
  if (zsWidth <= view.zWidth) throw new RangeError(`emitExpUnit: e (${view.eWidth} bits) must be wider than z (${view.zWidth} bits)`);
  const wrZs = `{${zsWidth - view.zWidth}'b0, wr_z} << wr_m[${fineBits - 1}:0]`;
  const zsWide = zeroExtend('zs', zsWidth, view.eWidth);
  return render('softmax/softmax_exp.v', {
    storedForm: coarseBits > 0 ? '{m[M_WIDTH-1:2], z << m[1:0]}' : '{z << m}',
    storedWidth: coarseBits + zsWidth,
    zsWidth,
    wrZsExpr: wrZs,
    wrWord: coarseBits > 0 ? `{wr_m[${view.mWidth - 1}:2], wr_zs}` : 'wr_zs',
    coarse: coarseBits > 0,
    eExpr: coarseBits > 0 ? `${zsWide} << {mh, 2'b00}` : zsWide,
    header: headerComment('softmax_exp: FQ-ViT integer exp as a table RAM and a shift', view.spec),
    name: view.name ?? 'softmax_exp',
    dMsb: dWidth - 1,
    depth,
    addrWidth,
    addrMsb: addrWidth - 1,
    addrExpr: clamped ? `d > ${hexLiteral(dWidth, last)} ? ${hexLiteral(addrWidth, last)} : d[${addrWidth - 1}:0]` : 'd',
    eMsb: view.eWidth - 1,
    wordMsb: view.mWidth + view.zWidth - 1,
    zWidth: view.zWidth,
    mWidth: view.mWidth,
    eWidth: view.eWidth,
    latency: EXP_LATENCY,
  });
}

export interface Log2RoundView {
  /** Width of the row sum E. */
  sumWidth: number;
  /** Width of e (at most sumWidth). */
  elemWidth: number;
  /** Width of the output code. */
  outBits: number;
  /** Module name (prefixed). @default softmax_log2_round */
  name?: string;
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

/** What both log2 units share: the widths and names of the view, the saturation and the code of t. */
function log2RoundCommon(view: Log2RoundView) {
  const { sumWidth, elemWidth, outBits } = view;
  const { aWidth, bWidth, cWidth, posWidth, shWidth } = log2RoundWidths(sumWidth, elemWidth);
  const codeMax = 2 ** outBits - 1;
  // t <= 2 + (aWidth - 2): compare with the largest code only where t can exceed it (or has bits the code drops).
  const maxT = aWidth;
  const saturate = (t: string, zero: string) =>
    maxT > codeMax || shWidth > outBits ? `${zero} || ${t} > ${hexLiteral(shWidth, codeMax)}` : zero;
  const codeOf = (t: string) => (shWidth >= outBits ? `${t}[${outBits - 1}:0]` : zeroExtend(t, shWidth, outBits));
  // The adders' operands from the inputs (or their registers): A = 2E + e, B = 3e, 5e, and 2E, each at its width
  const operands = (sum: string, elem: string) => ({
    aX: zeroExtend(`{${sum}, 1'b0}`, sumWidth + 1, aWidth),
    aY: zeroExtend(elem, elemWidth, aWidth),
    bX: zeroExtend(elem, elemWidth, bWidth),
    bY: zeroExtend(`{${elem}, 1'b0}`, elemWidth + 1, bWidth),
    fX: zeroExtend(elem, elemWidth, cWidth),
    fY: zeroExtend(`{${elem}, 2'b00}`, elemWidth + 2, cWidth),
    twoSum: zeroExtend(`{${sum}, 1'b0}`, sumWidth + 1, cWidth),
  });
  // The leading-one detectors of A and B, their group flags registered in stage `stage` (a_nz<stage>_reg, ...)
  const detectors = (aSrc: string, bSrc: string, stage: number) => {
    const flag = (name: string) => `${name}${stage}_reg`;
    const a = leadingOneDetector({ src: aSrc, width: aWidth, posWidth, nz: flag('a_nz'), lp: flag('a_lp'), lead: 'a_lead', pos: 'a_pos' });
    const b = leadingOneDetector({ src: bSrc, width: bWidth, posWidth, nz: flag('b_nz'), lp: flag('b_lp'), lead: 'b_lead', pos: 'b_pos' });
    return { aGroups: a.groups, bGroups: b.groups, groupLines: [...a.groupLines, ...b.groupLines], leadLines: [...a.leadLines, ...b.leadLines] };
  };
  return {
    saturate,
    codeOf,
    operands,
    detectors,
    view: {
      header: headerComment('softmax_log2_round: LIS log2 rounding of E / e without a divider', view.spec),
      name: view.name ?? 'softmax_log2_round',
      latency: LOG2_ROUND_LATENCY,
      codeMax,
      sumMsb: sumWidth - 1,
      elemMsb: elemWidth - 1,
      codeMsb: outBits - 1,
      elemWidth,
      aWidth,
      bWidth,
      cWidth,
      posWidth,
      shWidth,
      outBits,
      shOne: hexLiteral(shWidth, 1),
      shTwo: hexLiteral(shWidth, 2),
      shThree: hexLiteral(shWidth, 3),
    },
  };
}

/** Clocks an element takes in the serial log2 unit (emitLog2RoundSerialUnit), from `start` to `done`, for codes of `outBits` bits. */
export function log2RoundSerialCycles(outBits: number): number {
  return 2 ** outBits + 2;
}

/**
 * softmax_log2_round, serial (templates/softmax/softmax_log2_round_serial.v.hbs): the same code and zero, one
 * comparison of A with a multiple of e a clock on one carry chain, an element every log2RoundSerialCycles clocks
 * (start/done). For a softmax that needs far less than an element a clock (the encoder's, paced by its requantizer).
 */
export function emitLog2RoundSerialUnit(view: Log2RoundView): string {
  const { sumWidth, elemWidth, outBits } = view;
  const { aWidth } = log2RoundWidths(sumWidth, elemWidth);
  const codeMax = 2 ** outBits - 1;
  // Comparisons 1 (4e), 2 (6e), then k = 2 .. codeMax + 1; t counts them (at most lastStep)
  const lastStep = codeMax + 2;
  // The step counter and t count to lastStep
  const stepWidth = unsignedWidth(lastStep);
  const tWidth = stepWidth;
  return render('softmax/softmax_log2_round_serial.v', {
    header: headerComment('softmax_log2_round: LIS log2 rounding of E / e without a divider, one comparison a clock', view.spec),
    name: view.name ?? 'softmax_log2_round',
    sumMsb: sumWidth - 1,
    elemMsb: elemWidth - 1,
    codeMsb: outBits - 1,
    outBits,
    aWidth,
    codeMax,
    lastStep,
    cycles: log2RoundSerialCycles(outBits),
    stepWidth,
    tWidth,
    lastStepLiteral: hexLiteral(stepWidth, lastStep),
    stepOne: hexLiteral(stepWidth, 1),
    stepTwo: hexLiteral(stepWidth, 2),
    aX: zeroExtend(`{sum, 1'b0}`, sumWidth + 1, aWidth),
    aY: zeroExtend('elem', elemWidth, aWidth),
    fourE: zeroExtend(`{elem, 2'b00}`, elemWidth + 2, aWidth),
    codeMaxT: hexLiteral(tWidth, codeMax),
    codeOfT: `t_reg[${outBits - 1}:0]`,
  });
}

/**
 * softmax_log2_round: code = log_round(round_half_even(sum / elem)), zero when elem = 0 or the code exceeds
 * 2^outBits - 1 (code is then all ones). Latency LOG2_ROUND_LATENCY cycles, free-running.
 */
export function emitLog2RoundUnit(view: Log2RoundView): string {
  const { sumWidth, elemWidth } = view;
  const { aWidth, bWidth, cWidth, posWidth, shWidth } = log2RoundWidths(sumWidth, elemWidth);
  const common = log2RoundCommon(view);
  // The barrel shift of B onto A's leading one, split in a coarse step (multiples of 8) and a fine step.
  const bExt = zeroExtend('b4_reg', bWidth, aWidth);
  const coarseShift = posWidth > 3 ? `${bExt} << {sh4_reg[${posWidth - 1}:3], 3'b000}` : bExt;
  const fineWidth = Math.min(posWidth, 3);
  const fineShift = 'bs5_reg << sh5_reg';
  const { saturate, codeOf } = common;
  const half = (w: number) => Math.ceil(w / 2);
  const carry = (reg: string, lo: string, width: number) => zeroExtend(`${reg}[${lo}]`, 1, width);
  return render('softmax/softmax_log2_round.v', {
    ...common.view,
    sumZero: `${sumWidth}'d0`,
    aLo: half(aWidth),
    bLo: half(bWidth),
    cLo: half(cWidth),
    ...common.operands('sum0_reg', 'elem0_reg'),
    aCarry: carry('a_lo1_reg', 'A_LO', aWidth - half(aWidth)),
    bCarry: carry('b_lo1_reg', 'B_LO', bWidth - half(bWidth)),
    fCarry: carry('f_lo1_reg', 'C_LO', cWidth - half(cWidth)),
    b2Wide: zeroExtend('b2_reg', bWidth, cWidth),
    ...common.detectors('a2_reg', 'b2_reg', 3),
    shExpr: `${zeroExtend('a_pos4_reg', posWidth, shWidth)} - ${zeroExtend('b_pos4_reg', posWidth, shWidth)}`,
    coarseShift,
    fineShift,
    fineMsb: fineWidth - 1,
    fineZero: `${fineWidth}'d0`,
    smallExpr: zeroExtend('small5_reg', 2, shWidth),
    saturateHi: saturate('t_hi', 'zero5_reg'),
    saturateLo: saturate('t_lo', 'zero5_reg'),
    codeHi: codeOf('t_hi'),
    codeLo: codeOf('t_lo'),
  });
}

/**
 * A two-stage leading-one detector of `src` (`width` bits, at least 2), as Verilog lines: registered per group of four
 * bits (`nz`: the group is non-zero, `lp`: 2 bits per group, the position of its leading one), then combinational:
 * the one-hot leading group (`lead`) and the position
 * `pos` (`posWidth` bits) = 4 * group + position in the group. Position 0 when `src` is 0. LUT levels only, no carry
 * chain and no priority chain.
 */
export function leadingOneDetector(o: { src: string; width: number; posWidth: number; nz: string; lp: string; lead: string; pos: string }) {
  const { src, width, posWidth } = o;
  const groups = Math.ceil(width / 4);
  const groupLines: string[] = [];
  const set = (target: string, expr: string) => `${target} <= ${expr};`;
  for (let g = 0; g < groups; g++) {
    const lo = 4 * g;
    const size = Math.min(4, width - lo);
    const bit = (i: number) => `${src}[${lo + i}]`;
    groupLines.push(set(`${o.nz}[${g}]`, `|${src}[${lo + size - 1}:${lo}]`));
    let lp = "2'd0";
    for (let i = 1; i < size; i++) lp = `${bit(i)} ? 2'd${i} : ${lp}`;
    groupLines.push(set(`${o.lp}[${2 * g + 1}:${2 * g}]`, lp));
  }
  const leadLines: string[] = [];
  for (let g = 0; g < groups; g++) {
    leadLines.push(g === groups - 1
      ? `assign ${o.lead}[${g}] = ${o.nz}[${g}];`
      : `assign ${o.lead}[${g}] = ${o.nz}[${g}] && !(|${o.nz}[${groups - 1}:${g + 1}]);`);
  }
  const lpBits = (j: number) => `{${Array.from({ length: groups }, (_, i) => `${o.lp}[${2 * (groups - 1 - i) + j}]`).join(', ')}}`;
  const groupMask = (j: number) => {
    let m = 0n;
    for (let g = 0; g < groups; g++) if ((g >> j) & 1) m |= 1n << BigInt(g);
    return hexLiteral(groups, m);
  };
  const posBits = 2 + (groups > 1 ? unsignedWidth(groups - 1) : 0);
  if (posBits > posWidth && groups > 1) throw new RangeError(`leadingOneDetector: ${posBits} position bits exceed ${posWidth}`);
  for (let j = 0; j < posWidth; j++) {
    const expr = j < 2 ? `|(${o.lead} & ${lpBits(j)})` : j < posBits ? `|(${o.lead} & ${groupMask(j - 2)})` : "1'b0";
    leadLines.push(`assign ${o.pos}[${j}] = ${expr};`);
  }
  return { groups, groupLines, leadLines };
}
