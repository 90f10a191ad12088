/** RTL emitter of the LIS softmax: spec -> FileSet of Verilog modules (one per file) and the JSON manifest. */
import type { FileSet } from '../common/files.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral, jsonBigint } from '../common/verilog.ts';
import type { SoftmaxSpec } from './spec.ts';
import { EXP_LATENCY, LOG2_ROUND_LATENCY, emitExpUnit, emitLog2RoundUnit, log2RoundWidths, zeroExtend } from './units.ts';

export const SOFTMAX_TOP = 'softmax_lis';

/** Pass B and C from the buffer read to the exp unit's output: buffer read, distance register, exp unit. */
export const FRONT_DEPTH = 2 + EXP_LATENCY;
/** Pass B's row sum: the low half, then the high half and the push register. */
export const SUM_STAGES = 3;
/** Cycles a write takes to reach the head of a softmax_fifo. */
const FIFO_LATENCY = 2;

/**
 * Cycles from the first input beat of a row of `length` elements to its first output beat, with no stalls and an
 * idle block: the row is taken in (length), summed (length, after the row FIFO), handed to pass C through a FIFO,
 * then pass C's pipeline and the output FIFO. Measured in simulation by the tests.
 */
export function softmaxLatency(length: number): number {
  // The last input beat is at length - 1; pass B reads the row from FIFO_LATENCY cycles later, one element a cycle.
  const lastSumRead = (length - 1) + FIFO_LATENCY + (length - 1);
  const passCStart = lastSumRead + FRONT_DEPTH + SUM_STAGES - 1 + FIFO_LATENCY;
  return passCStart + FRONT_DEPTH + LOG2_ROUND_LATENCY + FIFO_LATENCY;
}

/** The spec as written into headers and the manifest: parameters and constants (the table lives in the Verilog). */
export function specSummary(spec: SoftmaxSpec) {
  return { block: 'softmax', ...spec.params, b: spec.constants.b, c: spec.constants.c, x0: spec.constants.x0 };
}

export function emitSoftmaxRtl(spec: SoftmaxSpec): FileSet {
  const p = spec.params;
  const d = spec.derived;
  const summary = specSummary(spec);
  const header = (what: string) => headerComment(what, summary);
  const files: FileSet = new Map();
  files.set(`${SOFTMAX_TOP}.v`, render('softmax/softmax_lis.v', {
    header: header(`${SOFTMAX_TOP}: LIS softmax, rows of ${p.in_bits}-bit codes to ${p.out_bits}-bit log2 codes`),
    inBits: p.in_bits,
    inMsb: p.in_bits - 1,
    outWidth: d.outWidth,
    outMsb: d.outWidth - 1,
    maxLength: p.max_length,
    lenWidth: d.lengthWidth,
    elemWidth: d.elemWidth,
    sumWidth: d.sumWidth,
    ringAddrWidth: d.ringAddrWidth,
    rowAddrWidth: d.rowFifoAddrWidth,
    outAddrWidth: d.outFifoAddrWidth,
    expLatency: EXP_LATENCY,
    logLatency: LOG2_ROUND_LATENCY,
    lastCountLiteral: hexLiteral(d.lengthWidth, p.max_length - 1),
    lenOne: hexLiteral(d.lengthWidth, 1),
    rowCreditInit: hexLiteral(d.rowFifoAddrWidth + 1, 2 ** d.rowFifoAddrWidth),
    outCreditInit: hexLiteral(d.outFifoAddrWidth + 1, 2 ** d.outFifoAddrWidth),
    elemToSum: zeroExtend('b_elem', d.elemWidth, d.sumWidth),
    sumLo: Math.ceil(d.sumWidth / 2),
    sumCarry: zeroExtend('b_carry_reg', 1, d.sumWidth - Math.ceil(d.sumWidth / 2)),
  }));
  files.set('softmax_exp.v', emitExpUnit({ table: spec.table, constants: spec.constants, dWidth: p.in_bits, eWidth: d.elemWidth, spec: summary }));
  files.set('softmax_log2_round.v', emitLog2RoundUnit({ sumWidth: d.sumWidth, elemWidth: d.elemWidth, outBits: p.out_bits, spec: summary }));
  files.set('softmax_fifo.v', render('softmax/softmax_fifo.v', { header: header('softmax_fifo: first-word-fall-through FIFO on a block RAM') }));
  files.set('softmax_ram.v', render('softmax/softmax_ram.v', { header: header('softmax_ram: simple dual-port RAM (row buffer)') }));
  files.set('manifest.json', JSON.stringify(softmaxManifest(spec, [...files.keys()].sort()), jsonBigint, 2) + '\n');
  return files;
}

/** The machine-readable description beside the RTL: what the synthesis flow and the reports read. */
export function softmaxManifest(spec: SoftmaxSpec, files: string[]) {
  const d = spec.derived;
  return {
    block: 'softmax',
    top: SOFTMAX_TOP,
    files: files.filter((f) => f.endsWith('.v')),
    spec: spec.params,
    derived: {
      b: spec.constants.b,
      c: spec.constants.c,
      x0: spec.constants.x0,
      n: spec.params.n,
      z_width: d.zWidth,
      shift_width: d.shiftWidth,
      elem_width: d.elemWidth,
      elem_max: d.elemMax,
      sum_width: d.sumWidth,
      sum_max: d.sumMax,
      float_exact_bound: d.floatExactBound,
      float_exact_limit: d.floatExactLimit,
      float_exact: 'float_exact_bound: every row sum is below float_exact_limit, so FQ-ViT\'s float64 sum and division provably equal these exact integers (README); the RTL is exact integer either way',
      length_width: d.lengthWidth,
      row_buffer_entries: 2 ** d.ringAddrWidth,
      row_fifo_entries: 2 ** d.rowFifoAddrWidth,
      out_fifo_entries: 2 ** d.outFifoAddrWidth,
      exp_latency: EXP_LATENCY,
      log2_round_latency: LOG2_ROUND_LATENCY,
      log2_round_widths: log2RoundWidths(d.sumWidth, d.elemWidth),
      rounding: 'half-even (y = round(E / e)), then log2 to the nearest power of two, up on a tie',
      overflow: 'none: every width holds its largest value; codes above 2^out_bits - 1 are an exact zero',
    },
    latency_cycles: softmaxLatency(spec.params.max_length),
    latency_formula: `2 * L + ${softmaxLatency(0)} (row of L elements)`,
    cycles_per_element: 1,
    cycles_per_row: 'L (rows back to back)',
    ports: {
      s_axis: { tdata: spec.params.in_bits, meaning: 'input code q; tlast ends a row' },
      m_axis: { tdata: d.outWidth, meaning: '{zero, code}: value 2^-code, or exactly 0 when zero (code all ones); tlast ends a row' },
    },
  };
}
