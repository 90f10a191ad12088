/**
 * RTL emitter of the encoder block: spec → its own modules (templates/encoder: the top with the sequencer, the banked
 * token buffer, the stream writer and reader, the GEMM step) and the sub-blocks' files, every sub-block named under
 * `<prefix>_encoder` (spec.ts subPrefix): the LayerNorm and the GEMM as their own generators emit them.
 */
import { clog2 } from '../common/arith.ts';
import type { FileSet } from '../common/files.ts';
import { moduleNames } from '../common/names.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral, signExtend, zeroExtend } from '../common/verilog.ts';
import { emitRtl as emitGemmRtl, gemmTop } from '../gemm/rtl.ts';
import { emitLayernormRtl, programLayout, STATUS_ERRORS as LN_ERRORS, topName as layernormTop } from '../layernorm/rtl.ts';
import { attentionNames } from '../attention/leaves.ts';
import { cfgWidth as attentionCfgWidth, emitAttentionRtl, sharedRequantWidths, STATUS_WIDTH as ATTENTION_STATUS_WIDTH } from '../attention/rtl.ts';
import { emitResidualRtl, RESIDUAL_ERRORS, residualTop } from '../residual/rtl.ts';
import { emitGeluRtl, GELU_ERRORS, geluTop } from '../gelu/rtl.ts';
import type { SoftmaxRtlOptions } from '../softmax/rtl.ts';
import type { EncoderSpec } from './spec.ts';

export const ENCODER_MODULES = ['encoder', 'encoder_buffer', 'encoder_writer', 'encoder_head_writer', 'encoder_reader', 'encoder_linear'] as const;

/** The steps this build runs, in order (the chain grows step by step; see README.md). */
export const ENCODER_STEPS = ['norm1', 'qkv', 'attention', 'proj', 'resid1', 'norm2', 'fc1', 'gelu', 'fc2', 'resid2'] as const;

export function encoderTop(spec: EncoderSpec): string {
  return moduleNames(spec.prefix, ENCODER_MODULES).encoder;
}

/** Fields of the header word, the first word of every run's program. */
export function headerFields(spec: EncoderSpec) {
  const d = spec.derived;
  const hWidth = clog2(spec.params.max_mlp_hidden + 1);
  return { nWidth: d.nWidth, hWidth, nLsb: 0, hLsb: d.nWidth };
}

/** Width of a program word: the widest word of any unit's program, or the encoder's own words. */
export function cfgWidth(spec: EncoderSpec): number {
  const h = headerFields(spec);
  const d = spec.derived;
  return Math.max(programLayout(d.layernorm).wordWidth, attentionCfgWidth(d.attention), d.residual.derived.cfgWidth, d.gelu.derived.zWidth, h.nWidth + h.hWidth, spec.params.bits);
}

/** The encoder's own status bits; the LayerNorm's, the attention block's, the residual block's and the GELU's follow them. */
export const OWN_ERRORS = [
  { bit: 0, name: 'dims', meaning: 'a header whose N is outside 1..max_tokens or whose MLP hidden width is outside 1..max_mlp_hidden: the header is dropped and the next word read as a header' },
  { bit: 1, name: 'program', meaning: 'one of the encoder\'s own one-word programs (the header, a GEMM step\'s input zero point) without tlast: the word is used' },
] as const;
export const STATUS_WIDTH = OWN_ERRORS.length + LN_ERRORS.length + ATTENTION_STATUS_WIDTH + RESIDUAL_ERRORS.length + GELU_ERRORS.length;

/**
 * iCE40 block RAMs (4 Kbit each: 256 × 16, 512 × 8, 1024 × 4 or 2048 × 2) for `depth` words of `width` bits; a write
 * of part of a word (`masked`) needs the 256 × 16 mode, the only one with a bit mask.
 */
export function ice40BlockRams(depth: number, width: number, masked: boolean): number {
  const modes = masked ? [16] : [16, 8, 4, 2];
  return Math.min(...modes.map((w) => Math.ceil(width / w) * Math.ceil(depth / (4096 / w))));
}

/** Whether a token buffer keeps its banks side by side in one memory (encoder_buffer PACKED): when that takes fewer iCE40 block RAMs than a memory a bank. */
export function bufferPacking(banks: number, width: number, depth: number): boolean {
  return ice40BlockRams(depth, banks * width, true) < banks * ice40BlockRams(depth, width, false);
}

/** Address width, bank depths and index widths of the token buffers. */
export function bufferGeometry(spec: EncoderSpec) {
  const p = spec.params;
  const d = spec.derived;
  const wide = Math.max(d.maxOut, p.dim);
  return {
    dimDepth: d.tokenTiles * p.dim,
    hiddenDepth: d.tokenTiles * p.max_mlp_hidden,
    dimAddrWidth: Math.max(1, clog2(d.tokenTiles * p.dim)),
    wideAddrWidth: Math.max(1, clog2(d.tokenTiles * wide)),
    hiddenAddrWidth: Math.max(1, clog2(d.tokenTiles * p.max_mlp_hidden)),
    waddrWidth: Math.max(1, clog2(d.maxK)),
    wideDepth: d.tokenTiles * wide,
    // Wider than every channel and K count, so that one zero-extends into an address
    addrWidth: Math.max(clog2(d.tokenTiles * wide), d.chWidth + 1, d.kWidth + 1),
    bankWidth: Math.max(1, clog2(p.rows)),
    colWidth: Math.max(1, clog2(p.cols)),
    // encoder_buffer PACKED of the code buffers X and A, of Q, and of G (fc1's accumulators)
    packDim: Number(bufferPacking(p.rows, p.bits, d.tokenTiles * p.dim)),
    packWide: Number(bufferPacking(p.rows, p.bits, d.tokenTiles * wide)),
    packHidden: Number(bufferPacking(p.rows, d.gelu.derived.accWidth, d.tokenTiles * p.max_mlp_hidden)),
  };
}

export function publicSpec(spec: EncoderSpec) {
  return { block: 'encoder', prefix: spec.prefix, ...spec.params };
}

/**
 * The one requantizer of the GEMM steps and the attention block (the sequencer runs one step at a time, and a step
 * ends after its last code is written, so the requantizer is empty at every hand-over): each width the larger of the
 * two users', so that every value of either fits unchanged; the same fraction bits and chunk digits (spec.ts), so the
 * same stages and rate as each user's own would have. Returned as the template's view: the widths, and each user's
 * fields extended to them.
 */
function sharedRequantView(spec: EncoderSpec) {
  const d = spec.derived;
  const g = d.gemm.derived;
  const a = sharedRequantWidths(d.attention);
  if (d.gemm.fracBits !== d.attention.params.frac_bits || g.requantChunkDigits !== d.attention.derived.requantChunkDigits) {
    throw new Error('encoder: the GEMM and the attention block must share the requantizer\'s fraction bits and chunk digits');
  }
  const r = {
    accWidth: Math.max(g.accWidth, a.accWidth),
    shiftWidth: Math.max(g.shiftWidth, a.shiftWidth),
    offsetWidth: Math.max(g.offsetWidth, a.offsetWidth),
    sumWidth: Math.max(g.sumWidth, a.sumWidth),
  };
  return {
    ...r,
    fracBits: d.gemm.fracBits,
    chunkDigits: g.requantChunkDigits,
    linShiftWidth: g.shiftWidth,
    linShiftMsb: g.shiftWidth - 1,
    linOffsetWidth: g.offsetWidth,
    linOffsetMsb: g.offsetWidth - 1,
    attAccMsb: a.accWidth - 1,
    attShiftMsb: a.shiftWidth - 1,
    attOffsetMsb: a.offsetWidth - 1,
    linAcc: signExtend('lin_rq_in_acc', g.accWidth, r.accWidth),
    linShift: zeroExtend('lin_rq_shift', g.shiftWidth, r.shiftWidth),
    linOffset: signExtend('lin_rq_offset', g.offsetWidth, r.offsetWidth),
    attAcc: signExtend('att_rq_in_acc', a.accWidth, r.accWidth),
    attShift: zeroExtend('att_rq_in_shift', a.shiftWidth, r.shiftWidth),
    attOffset: signExtend('att_rq_in_offset', a.offsetWidth, r.offsetWidth),
  };
}

/**
 * The attention block's generation-time options under the serial datapath, whose units bound the clock well below
 * 100 MHz: the softmax's serial log2 unit (an element every 2^s_bits + 2 clocks, within the attention's QK pass of
 * 2·requant_cycles clocks a score at s_bits 4 and requant_cycles 9 or more) and no skid buffer on the softmax's
 * program words.
 */
export function attentionOptions(spec: EncoderSpec): SoftmaxRtlOptions & { programSkid: boolean } {
  const serial = spec.params.datapath === 'serial';
  return { serialLog2: serial, programSkid: !serial };
}

export function emitEncoderRtl(spec: EncoderSpec): FileSet {
  const p = spec.params;
  const d = spec.derived;
  const names = {
    ...moduleNames(spec.prefix, ENCODER_MODULES),
    gemm: gemmTop(d.gemm),
    requant: moduleNames(d.gemm.prefix, ['gemm_requant_serial'] as const).gemm_requant_serial,
    attention: attentionNames(d.attention.prefix).attention,
    residual: residualTop(d.residual),
    gelu: geluTop(d.gelu),
    layernorm: layernormTop(d.layernorm),
  };
  const pub = publicSpec(spec);
  const g = bufferGeometry(spec);
  const cfg = cfgWidth(spec);
  const h = headerFields(spec);
  const leaf = {
    rows: p.rows, cols: p.cols, bits: p.bits, wBits: p.w_bits, heads: p.heads, headDim: p.dim / p.heads,
    accWidth: d.gemm.derived.accWidth, paramWidth: d.gemm.derived.paramWidth, maxK: d.maxK,
    nWidth: d.nWidth, kWidth: d.kWidth, chWidth: d.chWidth, ...g,
  };
  // The header's range checks, leaving out a bound the field's width already keeps (a constant comparison)
  const headerOk = [
    `hdr_n != ${hexLiteral(h.nWidth, 0)}`,
    ...(p.max_tokens < 2 ** h.nWidth - 1 ? [`hdr_n <= ${hexLiteral(h.nWidth, p.max_tokens)}`] : []),
    `hdr_hidden != ${hexLiteral(h.hWidth, 0)}`,
    ...(p.max_mlp_hidden < 2 ** h.hWidth - 1 ? [`hdr_hidden <= ${hexLiteral(h.hWidth, p.max_mlp_hidden)}`] : []),
  ].join(' && ');
  const files: FileSet = new Map();
  files.set(`${names.encoder}.v`, render('encoder/encoder.v', {
    headerOk,
    header: headerComment(`${names.encoder}: FQ-ViT encoder block composed of the drop-in blocks`, pub),
    names,
    stepsText: ENCODER_STEPS.join(' -> '),
    cfgMsb: cfg - 1,
    bits: p.bits,
    bitsMsb: p.bits - 1,
    wBits: p.w_bits,
    wgtMsb: p.cols * p.w_bits - 1,
    paramMsb: d.gemm.derived.paramWidth - 1,
    paramWidth: d.gemm.derived.paramWidth,
    statusMsb: STATUS_WIDTH - 1,
    rows: p.rows,
    cols: p.cols,
    dim: p.dim,
    qkvDim: 3 * p.dim,
    maxTokens: p.max_tokens,
    maxHidden: p.max_mlp_hidden,
    maxK: d.maxK,
    nWidth: d.nWidth,
    hWidth: h.hWidth,
    kWidth: d.kWidth,
    chWidth: d.chWidth,
    ...g,
    lnCfgWidth: programLayout(d.layernorm).wordWidth,
    attCfgWidth: attentionCfgWidth(d.attention),
    resCfgWidth: d.residual.derived.cfgWidth,
    geluCfgWidth: d.gelu.derived.zWidth,
    accWidth: d.gemm.derived.accWidth,
    geluAccWidth: d.gelu.derived.accWidth,
    hiddenCh: zeroExtend('hidden_reg', h.hWidth, d.chWidth),
    hiddenK: zeroExtend('hidden_reg', h.hWidth, d.kWidth),
    heads: p.heads,
    headDim: p.dim / p.heads,
    probMsb: d.attention.params.s_bits,
    requant: sharedRequantView(spec),
  }));
  const put = (base: (typeof ENCODER_MODULES)[number], what: string) =>
    files.set(`${names[base]}.v`, render(`encoder/${base}.v`, { header: headerComment(`${names[base]}: ${what}`, pub), names, leaf }));
  put('encoder_buffer', 'banked token buffer');
  put('encoder_writer', 'writes a token stream into a banked token buffer');
  put('encoder_head_writer', 'writes the attention output (head by head) into a banked token buffer');
  put('encoder_reader', 'reads tokens out of a banked token buffer as a stream');
  put('encoder_linear', 'one GEMM step over the token buffers, weights streamed once per column tile');
  for (const [path, text] of emitGemmRtl(d.gemm, { accOut: true, requantPort: true })) files.set(path, text);
  for (const [path, text] of emitLayernormRtl(d.layernorm)) files.set(path, text);
  for (const [path, text] of emitAttentionRtl(d.attention, { requantPort: true, ...attentionOptions(spec) })) files.set(path, text);
  for (const [path, text] of emitResidualRtl(d.residual)) if (path.endsWith('.v')) files.set(path, text);
  for (const [path, text] of emitGeluRtl(d.gelu)) if (path.endsWith('.v')) files.set(path, text);
  return files;
}
