/** RTL emitter of the LIS softmax: spec -> FileSet of Verilog modules (one per file) and the JSON manifest. */
import { unsignedWidth } from '../common/arith.ts';
import type { FileSet } from '../common/files.ts';
import { libraryFiles } from '../common/library.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { moduleName, moduleNames } from '../common/names.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral, zeroExtend } from '../common/verilog.ts';
import { softmaxProgramFormat } from './program.ts';
import type { SoftmaxSpec } from './spec.ts';
import { EXP_LATENCY, LOG2_ROUND_LATENCY, emitExpUnit, emitLog2RoundSerialUnit, emitLog2RoundUnit, log2RoundSerialCycles, log2RoundWidths } from './units.ts';

/** Base name of the top module (the generated name is moduleName(spec.prefix, SOFTMAX_TOP)). */
export const SOFTMAX_TOP = 'softmax_lis';
/** Base names of every module of the block. */
export const SOFTMAX_MODULES = ['softmax_lis', 'softmax_exp', 'softmax_log2_round', 'softmax_fifo', 'softmax_ram', 'softmax_lane_sum'] as const;
/** Bits of status_error at lanes 1 (the attention block's built-in softmax); softmaxStatusWidth(spec) in general. */
export const SOFTMAX_STATUS_WIDTH = 3;

/** Bits of status_error: lanes above 1 add bit 3 (tkeep). */
export function softmaxStatusWidth(spec: SoftmaxSpec): number {
  return softmaxErrors(spec).length;
}

/** The top module's name for a spec. */
export function softmaxTop(spec: SoftmaxSpec): string {
  return moduleName(spec.prefix, SOFTMAX_TOP);
}

/** Pass B and C from the buffer read to the exp unit's output: buffer read, distance register, exp unit. */
export const FRONT_DEPTH = 2 + EXP_LATENCY;
/** Pass B's row sum: the low half, then the high half and the push register (with the serial log2 unit: the sum in one
 * carry chain, then the push register). */
export const SUM_STAGES = 3;
const SUM_STAGES_SERIAL = 2;

/** Pass B's sum stages of the block built with these options. */
export function sumStages(options: SoftmaxRtlOptions): number {
  return options.serialLog2 ? SUM_STAGES_SERIAL : SUM_STAGES;
}
/** Cycles a write takes to reach the head of a softmax_fifo. */
const FIFO_LATENCY = 2;

/**
 * Cycles from the first input beat of a row of `length` elements to its first output beat, with no stalls and an
 * idle block: the row is taken in (its beats, `lanes` elements each; above one lane, stages A1 and A2 two cycles
 * more), summed (its beats, after the row FIFO, then a register and the lane adder's log2(lanes) levels), handed to
 * pass C through a FIFO, then pass C's pipeline and the output FIFO. Measured in simulation by the tests.
 */
export function softmaxLatency(length: number, lanes = 1, log2Latency = LOG2_ROUND_LATENCY, passBStages = SUM_STAGES): number {
  const beats = Math.ceil(length / lanes);
  // The last input beat is at beats - 1; pass B reads the row from FIFO_LATENCY cycles later, one beat a cycle.
  const lastSumRead = (beats - 1) + FIFO_LATENCY + (beats - 1);
  // The row FIFO's write is registered (one cycle); above one lane, stages A1 and A2 (the beat's lanes and maximum, the
  // row's) write it instead, two cycles later, and pass B registers the masked e_i before the lane adder.
  const laneStages = lanes > 1 ? 3 + Math.log2(lanes) : 1;
  const passCStart = lastSumRead + laneStages + FRONT_DEPTH + passBStages - 1 + FIFO_LATENCY;
  return passCStart + FRONT_DEPTH + log2Latency + FIFO_LATENCY;
}

/** The spec as written into headers: the generation-time parameters and the layer range (the table is a program). */
export function specSummary(spec: SoftmaxSpec) {
  // lanes 1 is left out, so that a one-lane block's files stay as they were before lanes existed.
  const { scale: _scale, lanes, ...rest } = spec.params;
  const hardware = lanes === 1 ? rest : { ...rest, lanes };
  return { block: 'softmax', prefix: spec.prefix, ...hardware, table_depth: spec.range.tableDepth, z_max: spec.range.zMax };
}

/** status_error bits, as the manifest and the README list them. */
export const SOFTMAX_ERRORS = [
  { bit: 0, name: 'config_range', meaning: 'a program word with m above n or z above the range\'s largest c; the program is refused (no valid program until the next good one)' },
  { bit: 1, name: 'config_length', meaning: 'a program whose tlast is not on its table_depth-th word (early, or missing there: words after it are dropped until tlast); the program is refused' },
  { bit: 2, name: 'no_program', meaning: 'a row whose first beat came with no valid program (after reset, or after a refused program): the row is taken in and dropped, no output' },
];

/** status_error bit 3, with lanes above 1. */
export const SOFTMAX_LANES_ERROR = {
  bit: 3,
  name: 'lanes',
  meaning: 'an input beat whose tkeep is not what the row\'s length allows (all ones before a row\'s last beat; on the last beat lanes 0 .. j, at most up to max_length): the beat is read by that rule (a last beat holds lanes 0 up to its highest kept lane, cut at max_length), the row\'s output is framed but not meaningful, the next row is exact',
};

/** status_error bits of a spec. */
export function softmaxErrors(spec: SoftmaxSpec) {
  return spec.params.lanes > 1 ? [...SOFTMAX_ERRORS, SOFTMAX_LANES_ERROR] : SOFTMAX_ERRORS;
}

/**
 * The block's Verilog modules. `serialLog2` (the encoder only, through the attention block; one lane) emits the log2
 * unit in its serial form (units.ts emitLog2RoundSerialUnit: the same code and zero, an element every
 * log2RoundSerialCycles clocks, start/done) and paces pass C to it, for a softmax that needs far less than an element a
 * clock; off, the block's bytes are unchanged.
 */
export function emitSoftmaxRtl(spec: SoftmaxSpec, options: SoftmaxRtlOptions = {}): FileSet {
  const p = spec.params;
  const d = spec.derived;
  const names = moduleNames(spec.prefix, SOFTMAX_MODULES);
  const summary = specSummary(spec);
  const header = (what: string) => headerComment(what, summary);
  const files: FileSet = new Map();
  const rangeTerms = [
    ...(p.n < 2 ** d.shiftWidth - 1 ? [`s_cfg_axis_tdata[WORD_WIDTH-1:Z_WIDTH] > ${hexLiteral(d.shiftWidth, p.n)}`] : []),
    ...(spec.range.zMax < (1n << BigInt(d.zWidth)) - 1n ? [`s_cfg_axis_tdata[Z_WIDTH-1:0] > ${hexLiteral(d.zWidth, spec.range.zMax)}`] : []),
  ];
  const multi = p.lanes > 1;
  if (options.serialLog2 && multi) throw new RangeError(`softmax: the serial log2 unit serves one lane, got lanes ${p.lanes}`);
  // The issue pacing counter of pass C (serial log2 unit): counts down from the unit's interval less one
  const paceWidth = unsignedWidth(log2Latency(spec, options) - 1);
  const lanesView = multi ? {
    multi,
    lanes: p.lanes,
    laneLast: p.lanes - 1,
    sDataMsb: p.lanes * p.in_bits - 1,
    mDataMsb: p.lanes * d.outWidth - 1,
    maxBeats: d.maxBeats,
    // The lanes the beat that reaches max_length may hold: lanes 0 .. (max_length - 1) mod lanes
    limitMaskLiteral: hexLiteral(p.lanes, (1 << (((p.max_length - 1) % p.lanes) + 1)) - 1),
    laneOneLiteral: hexLiteral(p.lanes, 1),
    beatSumWidth: d.elemWidth + d.laneBits,
    laneSumLatency: d.laneBits,
    // lanes <= max_length makes E at least lanes times e wide (spec.ts), so a beat's sum fits E.
    beatToSum: zeroExtend('b_beat_sum', d.elemWidth + d.laneBits, d.sumWidth),
    ringWidth: 'BEAT_WIDTH',
  } : { multi, ringWidth: 'IN_BITS' };
  files.set(`${names.softmax_lis}.v`, render('softmax/softmax_lis.v', {
    header: header(`${names.softmax_lis}: LIS softmax, rows of ${p.in_bits}-bit codes to ${p.out_bits}-bit log2 codes${multi ? `, ${p.lanes} a beat` : ''}`),
    names,
    ...lanesView,
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
    logLatency: log2Latency(spec, options),
    serialLog2: options.serialLog2 ?? false,
    paceWidth,
    paceLast: hexLiteral(paceWidth, log2Latency(spec, options) - 1),
    lastCountLiteral: hexLiteral(d.lengthWidth, d.maxBeats - 1),
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
  const emitLog2 = options.serialLog2 ? emitLog2RoundSerialUnit : emitLog2RoundUnit;
  files.set(`${names.softmax_log2_round}.v`, emitLog2({ name: names.softmax_log2_round, sumWidth: d.sumWidth, elemWidth: d.elemWidth, outBits: p.out_bits, spec: summary }));
  // The output FIFO is the library's (templates/lib/fifo.v.hbs), named <prefix>_softmax_fifo
  for (const [path, text] of libraryFiles(['fifo'], spec.prefix, 'softmax')) files.set(path, text);
  files.set(`${names.softmax_ram}.v`, render('softmax/softmax_ram.v', { name: names.softmax_ram, header: header(`${names.softmax_ram}: simple dual-port RAM (row buffer)`) }));
  if (multi) {
    files.set(`${names.softmax_lane_sum}.v`, render('softmax/softmax_lane_sum.v', { name: names.softmax_lane_sum, header: header(`${names.softmax_lane_sum}: sum of a beat's lanes, a registered adder tree`) }));
  }
  files.set('manifest.json', manifestJson(softmaxManifest(spec, [...files.keys()].sort(), options)));
  return files;
}

/** Generation-time choices of emitSoftmaxRtl that are not in the spec. */
export interface SoftmaxRtlOptions {
  /** The serial log2 unit, pass C paced to it (one lane). */
  serialLog2?: boolean;
}

/** Latency of the log2 unit the block is built with (the serial one's: also the clocks between two elements). */
export function log2Latency(spec: SoftmaxSpec, options: SoftmaxRtlOptions): number {
  return options.serialLog2 ? log2RoundSerialCycles(spec.params.out_bits) : LOG2_ROUND_LATENCY;
}

/** The machine-readable description beside the RTL (common/manifest.ts): what the synthesis flow, reports and users read. */
export function softmaxManifest(spec: SoftmaxSpec, files: string[], options: SoftmaxRtlOptions = {}): BlockManifest {
  const d = spec.derived;
  const p = spec.params;
  const log2 = log2Latency(spec, options);
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
      exp_table_copies: 2 * p.lanes,
      exp_table_copies_meaning: 'one copy per lane in pass B and one in pass C (an iCE40 block RAM has one read port and one write port, the program\'s), all written from the one program stream at once: the program is the same at every lanes value',
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
      log2_round_latency: log2,
      log2_round_widths: log2RoundWidths(d.sumWidth, d.elemWidth),
      rounding: 'half-even (y = round(E / e)), then log2 to the nearest power of two, up on a tie',
      overflow: 'none: every width holds its largest value over the layer range; codes above 2^out_bits - 1 are an exact zero',
    },
    latency: p.lanes === 1
      ? { cycles: softmaxLatency(p.max_length, 1, log2, sumStages(options)), formula: `2 * L + ${softmaxLatency(0, 1, log2, sumStages(options))} (row of L elements, idle block, program loaded)` }
      : {
        cycles: softmaxLatency(p.max_length, p.lanes, log2),
        formula: `2 * ceil(L / ${p.lanes}) + ${softmaxLatency(0, p.lanes, log2)} (row of L elements, ${p.lanes} a beat, idle block, program loaded)`,
      },
    throughput: options.serialLog2
      ? {
        elements_per_cycle: 1 / log2,
        unit: 'output elements per cycle',
        condition: `the serial log2 unit: pass C issues an element every ${log2} cycles`,
      }
      : p.lanes === 1
      ? {
        elements_per_cycle: 1,
        unit: 'output elements per cycle',
        condition: 'rows of any length back to back, output always ready, after the program is loaded (measured by test/softmax-rtl.test.ts)',
      }
      : {
        elements_per_cycle: p.lanes,
        unit: 'output elements per cycle',
        condition: `rows whose length is a multiple of ${p.lanes} back to back, output always ready, after the program is loaded: one beat a cycle; a row of L elements takes ceil(L / ${p.lanes}) beats (measured by test/softmax-rtl.test.ts)`,
      },
    ports: p.lanes === 1 ? {
      s_cfg_axis: { direction: 'in', tdata: d.wordWidth, meaning: 'program word {m, z} (program.fields); tlast on the last word; ready only while the block holds no data' },
      s_axis: { direction: 'in', tdata: p.in_bits, meaning: 'input code q; tlast ends a row (a row reaching max_length ends there); not ready while a program loads' },
      m_axis: { direction: 'out', tdata: d.outWidth, meaning: '{zero, code}: value 2^-code, or exactly 0 when zero (code all ones); tlast ends a row' },
    } : {
      s_cfg_axis: { direction: 'in', tdata: d.wordWidth, meaning: 'program word {m, z} (program.fields); tlast on the last word; ready only while the block holds no data' },
      s_axis: {
        direction: 'in', tdata: p.lanes * p.in_bits,
        meaning: `${p.lanes} input codes q, lane i in bits [i*${p.in_bits} +: ${p.in_bits}], lane 0 first; s_axis_tkeep (${p.lanes} bits) all ones except on a row's last beat, where it is lanes 0 .. j; tlast ends a row (the beat that reaches max_length ends it there); not ready while a program loads`,
      },
      m_axis: {
        direction: 'out', tdata: p.lanes * d.outWidth,
        meaning: `${p.lanes} words {zero, code}, lane i in bits [i*${d.outWidth} +: ${d.outWidth}]: value 2^-code, or exactly 0 when zero (code all ones); m_axis_tkeep (${p.lanes} bits) marks a row's last beat's lanes, lanes past it carry 0; tlast ends a row`,
      },
    },
    errors: softmaxErrors(spec),
    program: { ...softmaxProgramFormat(spec), file: 'program/default.hex' },
  };
}
