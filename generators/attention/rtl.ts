/**
 * RTL emitter of the attention head block: spec -> the Verilog modules (templates/attention shells and leaves, the
 * GEMM's PE and requantizer leaves, the softmax block's files) and the layer program.
 *
 * The softmax is the programmable softmax block (generators/softmax), built for the layer range min_score_scale and
 * named under the block scope (spec.ts subPrefix), as are the GEMM leaves. A layer's program is the block's own words
 * followed by the softmax's program (its exp table for the layer's s_score); the top forwards those to the softmax's
 * s_cfg_axis, and appends the softmax's status_error to its own.
 */
import { clog2, toUnsigned } from '../common/arith.ts';
import type { FileSet } from '../common/files.ts';
import { libraryFiles, libraryName } from '../common/library.ts';
import { moduleNames } from '../common/names.ts';
import { packWord, type Program, type ProgramFormat } from '../common/program.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral, signExtend, zeroExtend } from '../common/verilog.ts';
import { emitPe, emitRequantSerial } from '../gemm/rtl.ts';
import type { GemmSpec } from '../gemm/spec.ts';
import { softmaxProgram } from '../softmax/program.ts';
import { SOFTMAX_ERRORS, SOFTMAX_STATUS_WIDTH, emitSoftmaxRtl, log2Latency, softmaxLatency, softmaxTop, sumStages, type SoftmaxRtlOptions } from '../softmax/rtl.ts';
import type { SoftmaxSpec } from '../softmax/spec.ts';
import { attentionNames, emitPvAcc, emitPvTerm, pvWidths } from './leaves.ts';
import type { AttentionLayer } from './model.ts';
import { subPrefix, type AttentionSpec } from './spec.ts';

/** The GEMM leaves the block instantiates, named under the block scope (`<prefix>_attention_gemm_pe`, ...). */
export function gemmLeafNames(spec: AttentionSpec) {
  return moduleNames(subPrefix(spec.prefix), ['gemm_pe', 'gemm_requant_serial'] as const);
}
/** log2 of the entries of the score and output FIFOs (plus a head register each): 32, or room for two runs of lanes outputs. */
export function fifoAddrWidthOf(spec: AttentionSpec): number {
  return Math.max(5, clog2(spec.params.lanes) + 1);
}
/** The block's own words at the start of a program: qkv zero point, score M, S, B, output M, S, B. */
export const PROGRAM_WORDS = 7;
/** Words of a whole program: the block's own, then the softmax's exp table (range.tableDepth words). */
export function programLength(spec: AttentionSpec): number {
  return PROGRAM_WORDS + spec.derived.softmax.range.tableDepth;
}
/** Bits of the block's own status flags; the softmax's follow them. */
export const OWN_STATUS_WIDTH = 3;
export const STATUS_WIDTH = OWN_STATUS_WIDTH + SOFTMAX_STATUS_WIDTH;
/** status_error bits: the block's own, then the built-in softmax's (appended). */
export const ERROR_BITS = [
  { bit: 0, name: 'program', meaning: 'a program word out of range (the block\'s own words, or a softmax word the softmax would refuse), or a program of the wrong length: the program is refused (no valid program)' },
  { bit: 1, name: 'no_program', meaning: 'data arrived while no valid program was loaded: the packet is dropped up to its tlast' },
  { bit: 2, name: 'packet', meaning: 'a packet that does not end at a token boundary (3 * heads * head_dim codes a token) or holds more than max_tokens tokens: dropped' },
  ...SOFTMAX_ERRORS.map((e) => ({
    bit: OWN_STATUS_WIDTH + e.bit,
    name: `softmax_${e.name}`,
    meaning: `the built-in softmax's status_error bit ${e.bit}: ${e.meaning}` +
      (e.name === 'no_program' ? ' (never set: the block feeds the softmax only under a valid program, which it checks word by word as the softmax does)' : ' (set together with bit 0)'),
  })),
] as const;

/** The built-in softmax (spec.derived.softmax): in_bits = bits, out_bits = s_bits, rows up to max_tokens, min_scale = min_score_scale. */
export function softmaxSpecOf(spec: AttentionSpec): SoftmaxSpec {
  return spec.derived.softmax;
}

/** Width of a program word: the widest field of the block's own words, or a softmax word. */
export function cfgWidth(spec: AttentionSpec): number {
  const { score, out } = spec.derived;
  return Math.max(spec.params.bits, spec.params.frac_bits, score.derived.shiftWidth, score.derived.offsetWidth, out.derived.shiftWidth, out.derived.offsetWidth, spec.derived.softmax.derived.wordWidth);
}

export function programFormat(spec: AttentionSpec): ProgramFormat {
  const w = cfgWidth(spec);
  const sm = spec.derived.softmax;
  return {
    wordWidth: w,
    fields: [{ name: 'value', lsb: 0, width: w, meaning: 'the value of the word at its position in the program, zero-extended (offsets in two\'s complement of their own width; softmax words {m, z} as the softmax\'s program format)' }],
    order: `${programLength(spec)} words, tlast on the last: qkv_out zero point; score requantizer M (frac_bits), S, B (${spec.derived.score.derived.offsetWidth}-bit two's complement); ` +
      `output requantizer M, S, B (${spec.derived.out.derived.offsetWidth}-bit two's complement); then the softmax's program for s_score, ${sm.range.tableDepth} words {m (${sm.derived.shiftWidth} bits), z (${sm.derived.zWidth} bits)}, ` +
      'the exp of distance d = 0, 1, ... (generators/softmax/README.md, Programs), forwarded to the built-in softmax. S above the requantizer\'s shift_max, |B| above its offset_abs_max, a softmax word with m above n or z above z_max, ' +
      'or another length sets status_error bit 0',
  };
}

/** The program of one layer for this instance: the words the hardware loads, from the model's constants. */
export function attentionProgram(spec: AttentionSpec, layer: AttentionLayer): Program {
  const format = programFormat(spec);
  const { score, out } = spec.derived;
  const softmax = softmaxProgram(spec.derived.softmax, layer.softmax);
  const values = [
    BigInt(layer.scales.qkvZeroPoint),
    layer.score.mult, BigInt(layer.score.shift), toUnsigned(layer.score.offset, score.derived.offsetWidth),
    layer.out.mult, BigInt(layer.out.shift), toUnsigned(layer.out.offset, out.derived.offsetWidth),
    ...softmax.words,
  ];
  return {
    format,
    words: values.map((value) => packWord(format, { value })),
    values: { qkv_zero_point: layer.scales.qkvZeroPoint, score: layer.score, out: layer.out, scales: layer.scales, softmax: softmax.values },
  };
}

/**
 * The softmax's range check of a program word {m, z} (m <= n, z <= z_max; generators/softmax/rtl.ts) and zero bits
 * above it, as a Verilog expression on `word` / `word_softmax`; a term that always holds at these widths is left out.
 */
function softmaxWordCheck(spec: AttentionSpec): string {
  const sm = spec.derived.softmax;
  const { shiftWidth, zWidth, wordWidth } = sm.derived;
  const terms = [
    ...(wordWidth < cfgWidth(spec) ? ['(word >> SM_WORD_WIDTH) == {CFG_WIDTH{1\'b0}}'] : []),
    ...(sm.params.n < 2 ** shiftWidth - 1 ? [`word_softmax[SM_WORD_WIDTH-1:SM_Z_WIDTH] <= ${hexLiteral(shiftWidth, sm.params.n)}`] : []),
    ...(sm.range.zMax < (1n << BigInt(zWidth)) - 1n ? [`word_softmax[SM_Z_WIDTH-1:0] <= ${hexLiteral(zWidth, sm.range.zMax)}`] : []),
  ];
  return terms.length ? terms.join(' && ') : "1'b1";
}

function requantView(g: GemmSpec, cfg: number) {
  const d = g.derived;
  return {
    accWidth: d.accWidth,
    shiftWidth: d.shiftWidth,
    offsetWidth: d.offsetWidth,
    sumWidth: d.sumWidth,
    shiftMaxLiteral: hexLiteral(cfg, d.shiftMax),
    offsetMaxLiteral: hexLiteral(d.offsetWidth, d.offsetAbsMax),
    offsetMinLiteral: hexLiteral(d.offsetWidth, -d.offsetAbsMax),
  };
}

/**
 * The one requantizer both passes share (time-multiplexed): each width the larger of the score's and the output's,
 * so every accumulator, shift and offset of either fits unchanged, and SUM_WIDTH >= ACC_WIDTH + FRAC_BITS + 1 still
 * holds (it holds for each).
 */
export function sharedRequantWidths(spec: AttentionSpec) {
  const s = spec.derived.score.derived;
  const o = spec.derived.out.derived;
  return {
    accWidth: Math.max(s.accWidth, o.accWidth),
    shiftWidth: Math.max(s.shiftWidth, o.shiftWidth),
    offsetWidth: Math.max(s.offsetWidth, o.offsetWidth),
    sumWidth: Math.max(s.sumWidth, o.sumWidth),
  };
}

/** The spec as written in headers and the manifest. */
export function publicSpec(spec: AttentionSpec) {
  return { block: 'attention', prefix: spec.prefix, ...spec.params };
}

/**
 * The block's Verilog modules. Two generation-time options for the encoder (off for the block itself, whose bytes
 * they leave unchanged): `requantPort` leaves the requantizer out, the registered element going out on the rq_* ports
 * and the codes coming back in, so that the encoder can share one requantizer (same chunk digits, so the same stages
 * and rate, and at least these widths) with its GEMM; `serialLog2` is the softmax's (emitSoftmaxRtl); `programSkid`
 * false sends the softmax's program words straight to it, without the skid buffer that keeps the block's program
 * forwarding and the softmax's program control apart at 100 MHz (for a design clocked well below that).
 */
export function emitAttentionRtl(spec: AttentionSpec, options: { requantPort?: boolean; programSkid?: boolean } & SoftmaxRtlOptions = {}): FileSet {
  const requantPort = options.requantPort ?? false;
  const p = spec.params;
  const d = spec.derived;
  const names = attentionNames(spec.prefix);
  const pub = publicSpec(spec);
  const cfg = cfgWidth(spec);
  const dim = p.heads * p.head_dim;
  const lanes = p.lanes;
  // Memory words of LANES codes: a token's q (or k, v) is dim / lanes words, a head head_dim / lanes
  const dimWords = dim / lanes;
  const headWords = p.head_dim / lanes;
  const jWidth = Math.max(1, clog2(p.max_tokens));
  const dWidth = Math.max(1, clog2(headWords));
  const hWidth = Math.max(1, clog2(p.heads));
  const cWidth = Math.max(1, clog2(dimWords));
  const laneWidth = Math.max(1, clog2(lanes));
  const ramAddrWidth = Math.max(1, clog2(p.max_tokens * dimWords));
  const fifoAddrWidth = fifoAddrWidthOf(spec);
  const pv = pvWidths(p.bits, p.s_bits, d.out.derived.accWidth);
  const sm = d.softmax;
  const leaves = gemmLeafNames(spec);
  // The program index counts to one past the last word (a longer program stays there)
  const cfgIndexWidth = clog2(programLength(spec) + 1);
  const shared = sharedRequantWidths(spec);
  const sw = d.score.derived;
  const ow = d.out.derived;
  const stages = d.requantStages;
  const slots = requantSlots(spec);
  const files: FileSet = new Map();
  files.set(`${names.attention}.v`, render('attention/attention.v', {
    header: headerComment(`${names.attention}: FQ-ViT attention head (QK^T, LIS softmax, attention x V by shifts)`, pub),
    names,
    peName: leaves.gemm_pe,
    requantName: leaves.gemm_requant_serial,
    requantPort,
    programSkid: options.programSkid ?? true,
    skidName: libraryName('axis_skid_buffer', spec.prefix, 'attention'),
    softmaxTop: softmaxTop(sm),
    programWords: programLength(spec),
    cfgIndexWidth,
    ownLastWord: hexLiteral(cfgIndexWidth, PROGRAM_WORDS - 1),
    lastWord: hexLiteral(cfgIndexWidth, programLength(spec) - 1),
    pastEnd: hexLiteral(cfgIndexWidth, programLength(spec)),
    ...Object.fromEntries(Array.from({ length: PROGRAM_WORDS }, (_, i) => [`index${i}`, hexLiteral(cfgIndexWidth, i)])),
    smWordWidth: sm.derived.wordWidth,
    smWordMsb: sm.derived.wordWidth - 1,
    smZWidth: sm.derived.zWidth,
    smWordOk: softmaxWordCheck(spec),
    statusWidth: STATUS_WIDTH,
    statusMsb: STATUS_WIDTH - 1,
    bits: p.bits,
    bitsMsb: p.bits - 1,
    probWidth: p.s_bits + 1,
    probMsb: p.s_bits,
    cfgWidth: cfg,
    cfgMsb: cfg - 1,
    lanes,
    laneWidth,
    lastLane: hexLiteral(laneWidth, lanes - 1),
    serialOne: hexLiteral(laneWidth + 1, 1),
    serialLanes: hexLiteral(laneWidth + 1, lanes),
    jWidth, dWidth, hWidth, cWidth, ramAddrWidth,
    lastD: hexLiteral(dWidth, headWords - 1),
    lastH: hexLiteral(hWidth, p.heads - 1),
    lastCol: hexLiteral(cWidth, dimWords - 1),
    lastToken: hexLiteral(jWidth, p.max_tokens - 1),
    dimLiteral: hexLiteral(ramAddrWidth, dimWords),
    headDimLiteral: hexLiteral(ramAddrWidth, headWords),
    fracBits: p.frac_bits,
    fracMsb: p.frac_bits - 1,
    score: requantView(d.score, cfg),
    out: requantView(d.out, cfg),
    pvTermWidth: pv.termWidth,
    shared: { ...shared, accMsb: shared.accWidth - 1, shiftMsb: shared.shiftWidth - 1, offsetMsb: shared.offsetWidth - 1 },
    requantStages: stages,
    requantCycles: d.requantCycles,
    requantChunkDigits: d.requantChunkDigits,
    slotWidth: slots.width,
    lastSlot: hexLiteral(slots.width, slots.period - 1),
    pvSlot: hexLiteral(slots.width, d.requantCycles),
    // Taken in slot R (the PV slot) on cycle t, a PV sum is registered at t + 1 and leaves the requantizer at
    // t + 1 + stages, in slot (R + 1 + stages) mod 2R; a score leaves R slots away from it
    outSlotExit: hexLiteral(slots.width, (d.requantCycles + 1 + stages) % slots.period),
    gapWidth: slots.gapWidth,
    gapOne: hexLiteral(slots.gapWidth, 1),
    qkGap: hexLiteral(slots.gapWidth, slots.period - 1),
    pvGap: hexLiteral(slots.gapWidth, slots.period * lanes - 1),
    sharedAccS: signExtend('score_in_acc', sw.accWidth, shared.accWidth),
    sharedAccO: signExtend('pv_sum', ow.accWidth, shared.accWidth),
    sharedShiftS: zeroExtend('s_shift_reg', sw.shiftWidth, shared.shiftWidth),
    sharedShiftO: zeroExtend('o_shift_reg', ow.shiftWidth, shared.shiftWidth),
    sharedOffsetS: signExtend('s_offset_reg', sw.offsetWidth, shared.offsetWidth),
    sharedOffsetO: signExtend('o_offset_reg', ow.offsetWidth, shared.offsetWidth),
    fifoAddrWidth,
    creditsLiteral: hexLiteral(fifoAddrWidth + 1, 2 ** fifoAddrWidth),
    laneCreditsLiteral: hexLiteral(fifoAddrWidth + 1, lanes),
    inColExt: zeroExtend('in_col_reg', cWidth, ramAddrWidth),
    qkDExt: zeroExtend('qk_d_reg', dWidth, ramAddrWidth),
  }));
  const leafHeader = (what: string) => headerComment(what, pub);
  files.set(`${names.attention_ram}.v`, render('attention/attention_ram.v', { header: leafHeader(`${names.attention_ram}: simple dual-port RAM`), names }));
  files.set(`${names.attention_fifo}.v`, render('attention/attention_fifo.v', { header: leafHeader(`${names.attention_fifo}: first-word-fall-through FIFO`), names }));
  for (const [path, text] of [emitPvTerm(spec.prefix, pv, pub), emitPvAcc(spec.prefix, pv, pub)]) files.set(path, text);
  // The GEMM's leaves: the PE at the score's widths, the requantizer at the shared widths
  files.set(`${leaves.gemm_pe}.v`, emitPe({ aWidth: p.bits + 1, wWidth: p.bits + 1, accWidth: sw.accWidth }, pub, leaves.gemm_pe));
  if (!requantPort) {
    files.set(`${leaves.gemm_requant_serial}.v`, emitRequantSerial(
      { accWidth: shared.accWidth, fracBits: p.frac_bits, shiftWidth: shared.shiftWidth, offsetWidth: shared.offsetWidth, sumWidth: shared.sumWidth, outBits: p.bits, chunkDigits: d.requantChunkDigits },
      pub,
      leaves.gemm_requant_serial,
    ));
  }
  for (const [path, text] of emitSoftmaxRtl(sm, { serialLog2: options.serialLog2 })) if (path.endsWith('.v')) files.set(path, text);
  for (const [path, text] of libraryFiles(['axis_skid_buffer'], spec.prefix, 'attention')) files.set(path, text);
  return files;
}

/**
 * Pipeline cycles beyond the passes and the requantizer: memory reads, PE, FIFOs (bounded by the throughput test). A
 * packet's last code crosses the requantizer twice (its score, then its output), each time waiting up to a slot period.
 */
export const PIPELINE_OVERHEAD = 28;

/** The requantizer's part of a packet's latency: two crossings of its pipeline, each after up to a slot period's wait. */
export function requantCrossings(spec: AttentionSpec): number {
  const d = spec.derived;
  return 2 * (d.requantStages + requantSlots(spec).period);
}

/**
 * The requantizer's time slots: a period of 2R cycles (R = derived.requantCycles), the QK pass's slot at 0 and the PV
 * pass's at R, each taking one element a period; the width of the slot counter and of the passes' gap counters.
 */
export function requantSlots(spec: AttentionSpec): { period: number; width: number; gapWidth: number } {
  const period = 2 * spec.derived.requantCycles;
  return { period, width: clog2(period), gapWidth: clog2(period * spec.params.lanes) + 1 };
}

/** Cycles of the QK pass for one row of N scores: head_dim / lanes a score, at least 2R (its requantizer slot). */
export function qkRowCycles(spec: AttentionSpec, n: number): number {
  return n * Math.max(spec.params.head_dim / spec.params.lanes, requantSlots(spec).period);
}

/** Cycles of the PV pass for one row: head_dim / lanes runs of N shift-adds, a run at least 2R * lanes (its sums leave one every 2R cycles). */
export function pvRowCycles(spec: AttentionSpec, n: number): number {
  return (spec.params.head_dim / spec.params.lanes) * Math.max(n, requantSlots(spec).period * spec.params.lanes);
}

/**
 * Cycles a head takes in the steady state (every head after a packet's first), outputs always ready: N rows, each the
 * slower of its QK pass and its PV pass (they overlap). QK-bound, N^2 * head_dim / lanes, whenever 2 * lanes <= N and
 * head_dim > lanes. Measured exactly by test/attention-rtl.test.ts.
 */
export function headCycles(spec: AttentionSpec, n: number): number {
  return n * Math.max(qkRowCycles(spec, n), pvRowCycles(spec, n));
}

/**
 * Upper bound on the cycles from a packet's last input beat to its last output beat, outputs always ready: the QK
 * pass (heads * N^2 * head_dim MACs, lanes a cycle) with the PV pass overlapped row by row, then the last row's
 * softmax and PV pass, and the pipelines. Measured by test/attention-rtl.test.ts. With the softmax's serial log2 unit
 * (the encoder's), a row's pass C takes N times its interval, which may be the slowest pass.
 */
export function packetCycles(spec: AttentionSpec, n: number, options: SoftmaxRtlOptions = {}): number {
  const pvRow = pvRowCycles(spec, n);
  if (!options.serialLog2) {
    return spec.params.heads * n * Math.max(qkRowCycles(spec, n), pvRow) + pvRow + softmaxLatency(n) + requantCrossings(spec) + PIPELINE_OVERHEAD;
  }
  const interval = log2Latency(spec.derived.softmax, options);
  const row = Math.max(qkRowCycles(spec, n), pvRow, n * interval);
  return spec.params.heads * n * row + pvRow + softmaxLatency(n, 1, interval, sumStages(options)) + n * interval + requantCrossings(spec) + PIPELINE_OVERHEAD;
}

/** Registered-read memories hold max_tokens * heads * head_dim codes each (q, k, v): the entries, for the manifest. */
export function memoryBits(spec: AttentionSpec): number {
  const p = spec.params;
  return 3 * p.max_tokens * p.heads * p.head_dim * p.bits + 2 * p.max_tokens * (p.s_bits + 1);
}
