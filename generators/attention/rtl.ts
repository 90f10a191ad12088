/**
 * RTL emitter of the attention head block: spec -> the Verilog modules (templates/attention shells and leaves, the
 * GEMM's PE and requantizer leaves, the softmax block's files) and the layer program.
 *
 * The softmax is today's softmax block, used through a narrow interface: the files emitSoftmaxRtl returns and its top
 * module SOFTMAX_TOP with ports clk, rst, s_axis_* (in_bits codes, tlast ends a row) and m_axis_* ({zero, code},
 * tlast ends a row). Its scale-derived constants are built in at generation (spec.params.score_scale).
 */
import { clog2, toUnsigned } from '../common/arith.ts';
import { SpecError } from '../common/errors.ts';
import type { FileSet } from '../common/files.ts';
import { packWord, type Program, type ProgramFormat } from '../common/program.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral } from '../common/verilog.ts';
import { emitPe, emitRequant, emitRneShift } from '../gemm/rtl.ts';
import type { GemmSpec } from '../gemm/spec.ts';
import { SOFTMAX_TOP, emitSoftmaxRtl, softmaxLatency } from '../softmax/rtl.ts';
import { resolveSoftmax, type SoftmaxSpec } from '../softmax/spec.ts';
import { zeroExtend } from '../softmax/units.ts';
import { attentionNames, emitPvAcc, emitPvTerm, pvWidths } from './leaves.ts';
import type { AttentionLayer } from './model.ts';
import type { AttentionSpec } from './spec.ts';

/** The GEMM leaves the block instantiates (module names as the GEMM emits them). */
export const PE_MODULE = 'gemm_pe';
export const REQUANT_MODULE = 'gemm_requant';
/** log2 of the entries of the score and output FIFOs (plus a head register each): 32, or room for two runs of lanes outputs. */
export function fifoAddrWidthOf(spec: AttentionSpec): number {
  return Math.max(5, clog2(spec.params.lanes) + 1);
}
/** Words of a program: qkv zero point, score M, S, B, output M, S, B. */
export const PROGRAM_WORDS = 7;
/** status_error bits. */
export const ERROR_BITS = [
  { bit: 0, name: 'program', meaning: 'a program word out of range, or a program of the wrong length: the program is refused (no valid program)' },
  { bit: 1, name: 'no_program', meaning: 'data arrived while no valid program was loaded: the packet is dropped up to its tlast' },
  { bit: 2, name: 'packet', meaning: 'a packet that does not end at a token boundary (3 * heads * head_dim codes a token) or holds more than max_tokens tokens: dropped' },
] as const;

/** The softmax the block instantiates: in_bits = bits, out_bits = s_bits, rows up to max_tokens, scale score_scale. */
export function softmaxSpecOf(spec: AttentionSpec): SoftmaxSpec {
  const p = spec.params;
  return resolveSoftmax(p.bits, { in_bits: p.bits, out_bits: p.s_bits, scale: p.score_scale, max_length: p.max_tokens });
}

/** Width of a program word: the widest field. */
export function cfgWidth(spec: AttentionSpec): number {
  const { score, out } = spec.derived;
  return Math.max(spec.params.bits, spec.params.frac_bits, score.derived.shiftWidth, score.derived.offsetWidth, out.derived.shiftWidth, out.derived.offsetWidth);
}

export function programFormat(spec: AttentionSpec): ProgramFormat {
  const w = cfgWidth(spec);
  return {
    wordWidth: w,
    fields: [{ name: 'value', lsb: 0, width: w, meaning: 'the value of the word at its position in the program, zero-extended (offsets in two\'s complement of their own width)' }],
    order: `${PROGRAM_WORDS} words, tlast on the last: qkv_out zero point; score requantizer M (frac_bits), S, B (${spec.derived.score.derived.offsetWidth}-bit two's complement); ` +
      `output requantizer M, S, B (${spec.derived.out.derived.offsetWidth}-bit two's complement). S above the requantizer's shift_max or |B| above its offset_abs_max sets status_error bit 0`,
  };
}

/** The program of one layer for this instance: the words the hardware loads, from the model's constants. */
export function attentionProgram(spec: AttentionSpec, layer: AttentionLayer): Program {
  if (layer.scales.scoreScale !== spec.params.score_scale) {
    throw new SpecError('layer.attn_score.scale', `must equal the scale this instance's softmax is built for (score_scale = ${spec.params.score_scale})`, layer.scales.scoreScale);
  }
  const format = programFormat(spec);
  const { score, out } = spec.derived;
  const values = [
    BigInt(layer.scales.qkvZeroPoint),
    layer.score.mult, BigInt(layer.score.shift), toUnsigned(layer.score.offset, score.derived.offsetWidth),
    layer.out.mult, BigInt(layer.out.shift), toUnsigned(layer.out.offset, out.derived.offsetWidth),
  ];
  return {
    format,
    words: values.map((value) => packWord(format, { value })),
    values: { qkv_zero_point: layer.scales.qkvZeroPoint, score: layer.score, out: layer.out, scales: layer.scales },
  };
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

/** The spec as written in headers and the manifest. */
export function publicSpec(spec: AttentionSpec) {
  return { block: 'attention', prefix: spec.prefix, ...spec.params };
}

export function emitAttentionRtl(spec: AttentionSpec): FileSet {
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
  const files: FileSet = new Map();
  files.set(`${names.attention}.v`, render('attention/attention.v', {
    header: headerComment(`${names.attention}: FQ-ViT attention head (QK^T, LIS softmax, attention x V by shifts)`, pub),
    names,
    peName: PE_MODULE,
    requantName: REQUANT_MODULE,
    softmaxTop: SOFTMAX_TOP,
    programWords: PROGRAM_WORDS,
    lastWord: PROGRAM_WORDS - 1,
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
    score: requantView(d.score, cfg),
    out: requantView(d.out, cfg),
    pvTermWidth: pv.termWidth,
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
  // The GEMM's leaves, at the score requantizer's widths (the output requantizer overrides them at instantiation)
  const s = d.score.derived;
  files.set(`${PE_MODULE}.v`, emitPe({ aWidth: p.bits + 1, wWidth: p.bits + 1, accWidth: s.accWidth }, pub));
  files.set(`${REQUANT_MODULE}.v`, emitRequant({ accWidth: s.accWidth, fracBits: p.frac_bits, shiftWidth: s.shiftWidth, offsetWidth: s.offsetWidth, sumWidth: s.sumWidth, outBits: p.bits }, pub));
  files.set('gemm_rne_shift.v', emitRneShift({ width: s.sumWidth, shiftWidth: s.shiftWidth }, pub));
  for (const [path, text] of emitSoftmaxRtl(softmaxSpecOf(spec))) if (path.endsWith('.v')) files.set(path, text);
  return files;
}

/** Pipeline cycles beyond the passes themselves: memory reads, PE, requantizer, FIFOs (bounded by the throughput test). */
export const PIPELINE_OVERHEAD = 48;

/**
 * Upper bound on the cycles from a packet's last input beat to its last output beat, outputs always ready: the QK
 * pass (heads * N^2 * head_dim MACs, one a cycle) with the PV pass overlapped, then the last row's softmax and PV
 * pass, and the pipelines. Measured by test/attention-rtl.test.ts.
 */
export function packetCycles(spec: AttentionSpec, n: number): number {
  const { heads, head_dim: hd, lanes } = spec.params;
  // The PV pass: head_dim / lanes runs a row, each max(N, lanes) cycles
  const pvRow = (hd / lanes) * Math.max(n, lanes);
  return heads * n * Math.max(n * (hd / lanes), pvRow) + pvRow + softmaxLatency(n) + PIPELINE_OVERHEAD;
}

/** Registered-read memories hold max_tokens * heads * head_dim codes each (q, k, v): the entries, for the manifest. */
export function memoryBits(spec: AttentionSpec): number {
  const p = spec.params;
  return 3 * p.max_tokens * p.heads * p.head_dim * p.bits + 2 * p.max_tokens * (p.s_bits + 1);
}
