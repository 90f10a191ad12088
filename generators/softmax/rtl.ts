/** RTL emitter of the LIS softmax: spec -> FileSet of Verilog modules (one per file) and the JSON manifest. */
import type { FileSet } from '../common/files.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { moduleName, moduleNames } from '../common/names.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral } from '../common/verilog.ts';
import { softmaxProgramFormat } from './program.ts';
import type { SoftmaxSpec } from './spec.ts';
import { EXP_LATENCY, LOG2_ROUND_LATENCY, emitExpUnit, emitLog2RoundUnit, log2RoundWidths, zeroExtend } from './units.ts';

/** Base name of the top module (the generated name is moduleName(spec.prefix, SOFTMAX_TOP)). */
export const SOFTMAX_TOP = 'softmax_lis';
/** Base names of every module of the block. */
export const SOFTMAX_MODULES = ['softmax_lis', 'softmax_exp', 'softmax_log2_round', 'softmax_fifo', 'softmax_ram'] as const;
/** Bits of status_error. */
export const SOFTMAX_STATUS_WIDTH = 3;

/** The top module's name for a spec. */
export function softmaxTop(spec: SoftmaxSpec): string {
  return moduleName(spec.prefix, SOFTMAX_TOP);
}

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

/** The spec as written into headers: the generation-time parameters and the layer range (the table is a program). */
export function specSummary(spec: SoftmaxSpec) {
  const { scale: _scale, ...hardware } = spec.params;
  return { block: 'softmax', prefix: spec.prefix, ...hardware, table_depth: spec.range.tableDepth, z_max: spec.range.zMax };
}

/** status_error bits, as the manifest and the README list them. */
export const SOFTMAX_ERRORS = [
  { bit: 0, name: 'config_range', meaning: 'a program word with m above n or z above the range\'s largest c; the program is refused (no valid program until the next good one)' },
  { bit: 1, name: 'config_length', meaning: 'a program whose tlast is not on its table_depth-th word (early, or missing there: words after it are dropped until tlast); the program is refused' },
  { bit: 2, name: 'no_program', meaning: 'a row whose first beat came with no valid program (after reset, or after a refused program): the row is taken in and dropped, no output' },
];

export function emitSoftmaxRtl(spec: SoftmaxSpec): FileSet {
  const p = spec.params;
  const d = spec.derived;
  const names = moduleNames(spec.prefix, SOFTMAX_MODULES);
  const summary = specSummary(spec);
  const header = (what: string) => headerComment(what, summary);
  const files: FileSet = new Map();
  const rangeTerms = [
    ...(p.n < 2 ** d.shiftWidth - 1 ? [`cfg_word_reg[WORD_WIDTH-1:Z_WIDTH] > ${hexLiteral(d.shiftWidth, p.n)}`] : []),
    ...(spec.range.zMax < (1n << BigInt(d.zWidth)) - 1n ? [`cfg_word_reg[Z_WIDTH-1:0] > ${hexLiteral(d.zWidth, spec.range.zMax)}`] : []),
  ];
  files.set(`${names.softmax_lis}.v`, render('softmax/softmax_lis.v', {
    header: header(`${names.softmax_lis}: LIS softmax, rows of ${p.in_bits}-bit codes to ${p.out_bits}-bit log2 codes`),
    names,
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
    wordWidth: d.wordWidth,
    wordMsb: d.wordWidth - 1,
    zWidth: d.zWidth,
    tableDepth: spec.range.tableDepth,
    tableAddrWidth: d.tableAddrWidth,
    tableLastLiteral: hexLiteral(d.tableAddrWidth, spec.range.tableDepth - 1),
    cfgRangeError: rangeTerms.length ? rangeTerms.join(' || ') : "1'b0",
  }));
  files.set(`${names.softmax_exp}.v`, emitExpUnit({
    name: names.softmax_exp, dWidth: p.in_bits, depth: spec.range.tableDepth, zWidth: d.zWidth, mWidth: d.shiftWidth, eWidth: d.elemWidth, spec: summary,
  }));
  files.set(`${names.softmax_log2_round}.v`, emitLog2RoundUnit({ name: names.softmax_log2_round, sumWidth: d.sumWidth, elemWidth: d.elemWidth, outBits: p.out_bits, spec: summary }));
  files.set(`${names.softmax_fifo}.v`, render('softmax/softmax_fifo.v', { name: names.softmax_fifo, header: header(`${names.softmax_fifo}: first-word-fall-through FIFO on a block RAM`) }));
  files.set(`${names.softmax_ram}.v`, render('softmax/softmax_ram.v', { name: names.softmax_ram, header: header(`${names.softmax_ram}: simple dual-port RAM (row buffer)`) }));
  files.set('manifest.json', manifestJson(softmaxManifest(spec, [...files.keys()].sort())));
  return files;
}

/** The machine-readable description beside the RTL (common/manifest.ts): what the synthesis flow, reports and users read. */
export function softmaxManifest(spec: SoftmaxSpec, files: string[]): BlockManifest {
  const d = spec.derived;
  const p = spec.params;
  return {
    block: 'softmax',
    top: softmaxTop(spec),
    prefix: spec.prefix,
    files: files.filter((f) => f.endsWith('.v')),
    parameters: [],
    spec: p,
    derived: {
      layer_range: {
        min_scale: spec.range.minScale,
        max_scale: spec.range.maxScale,
        meaning: 'every layer with min_scale <= s <= max_scale (c >= 1) runs on this instance with its own program; building the program of another is a SpecError',
      },
      table_depth: spec.range.tableDepth,
      z_max: spec.range.zMax,
      n: p.n,
      z_width: d.zWidth,
      shift_width: d.shiftWidth,
      word_width: d.wordWidth,
      elem_width: d.elemWidth,
      elem_max: d.elemMax,
      sum_width: d.sumWidth,
      sum_max: d.sumMax,
      hardware_guarantee: 'every program the block accepts (m <= n, z <= z_max) gives the exact integer results of the golden model on every row: e <= z_max << n and E <= max_length * e hold in elem_width and sum_width bits',
      default_layer: {
        scale: p.scale,
        b: spec.constants.b,
        c: spec.constants.c,
        x0: spec.constants.x0,
        float_exact_bound: d.floatExactBound,
        float_exact_limit: d.floatExactLimit,
      },
      float_exact: 'per layer (it depends on the scale): float_exact_bound says that every row sum of the layer is below float_exact_limit, so FQ-ViT\'s float64 sum and division provably equal these exact integers (README); each program\'s JSON gives it for its layer, default_layer for program/default; the RTL is exact integer either way',
      length_width: d.lengthWidth,
      row_buffer_entries: 2 ** d.ringAddrWidth,
      row_fifo_entries: 2 ** d.rowFifoAddrWidth,
      out_fifo_entries: 2 ** d.outFifoAddrWidth,
      exp_latency: EXP_LATENCY,
      log2_round_latency: LOG2_ROUND_LATENCY,
      log2_round_widths: log2RoundWidths(d.sumWidth, d.elemWidth),
      rounding: 'half-even (y = round(E / e)), then log2 to the nearest power of two, up on a tie',
      overflow: 'none: every width holds its largest value over the layer range; codes above 2^out_bits - 1 are an exact zero',
    },
    latency: { cycles: softmaxLatency(p.max_length), formula: `2 * L + ${softmaxLatency(0)} (row of L elements, idle block, program loaded)` },
    throughput: {
      elements_per_cycle: 1,
      unit: 'output elements per cycle',
      condition: 'rows of any length back to back, output always ready, after the program is loaded (measured by test/softmax-rtl.test.ts)',
    },
    ports: {
      s_cfg_axis: { direction: 'in', tdata: d.wordWidth, meaning: 'program word {m, z} (program.fields); tlast on the last word; ready only while the block holds no data' },
      s_axis: { direction: 'in', tdata: p.in_bits, meaning: 'input code q; tlast ends a row (a row reaching max_length ends there); not ready while a program loads' },
      m_axis: { direction: 'out', tdata: d.outWidth, meaning: '{zero, code}: value 2^-code, or exactly 0 when zero (code all ones); tlast ends a row' },
    },
    errors: SOFTMAX_ERRORS,
    program: { ...softmaxProgramFormat(spec), file: 'program/default.hex' },
  };
}
