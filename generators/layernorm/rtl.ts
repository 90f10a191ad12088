/**
 * RTL emitter of the LayerNorm block: spec → the Verilog modules (one job each) and the JSON manifest. The modules are
 * Handlebars shells in templates/layernorm/ that bind values computed here (widths from the resolved spec, the element
 * pipeline's registers and the multipliers' adder trees, which are built in TypeScript); the templates do no arithmetic.
 *
 *   s_axis → stats (x, S, Q per token; writes the codes into the token buffer)
 *          → token unit (var, k, s = isqrt, R and W by two dividers, or one in turn for the serial element unit; once
 *            per token, overlapped with the next token)
 *          → element pipeline (reads the buffered codes and the channel RAM: M, N, B, y, clamp) → m_axis
 */
import { clog2, signedWidth, toUnsigned, unsignedWidth } from '../common/arith.ts';
import type { FileSet } from '../common/files.ts';
import { moduleName, moduleNames } from '../common/names.ts';
import { packWord, type Program, type ProgramField, type ProgramFormat } from '../common/program.ts';
import { render } from '../common/render.ts';
import { headerComment, zeroExtend } from '../common/verilog.ts';
import { boothCorrection, emitDivider, emitIsqrt, emitMn, emitPipelinedMultiplier, emitRoundShiftPipelined, pipelinedMultiplierPlan, type PipelinedMultiplierPlan } from './leaves.ts';
import type { ChannelConstants } from './model.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { CHANNELS_MIN, type LayernormSpec } from './spec.ts';

export const TOP = 'ptf_layernorm';

/** Cycles of the stats pipeline from an accepted beat to the token's S and Q. */
/** Latency of the stats' squaring multiplier d·d (d = q − zp). */
function squareLatency(spec: LayernormSpec): number {
  return pipelinedMultiplierPlan(spec.bits + 1, spec.bits + 1, 0, CHUNK, MAX_CARRY).latency;
}

/** Cycles of the stats pipeline from an accepted beat to the token's S and Q (one more with lanes: the beat's sums). */
export function statsStages(spec: LayernormSpec): number {
  return 3 + squareLatency(spec) + (spec.lanes > 1 ? 1 : 0);
}


/** Widths of the RTL that follow from the spec's derived widths (so the emitters and the manifest agree). */
export interface LayernormRtlWidths {
  absWidth: number;
  prodWidth: number;
  wShift: number;
  kfInWidth: number;
  kShiftWidth: number;
  accWidth: number;
  bufferAddrWidth: number;
  /**
   * Token units taking tokens in turn (round robin): ceil(T / ceil(max_channels / lanes)), so that tokens of
   * max_channels stream at lanes elements a cycle, capped at max_token_units (default 2·lanes: 1 or 2 at one lane).
   * The serial datapath has one: its element unit reads the token unit's outputs in place (no copy), and the unit
   * waits to overwrite them until the element unit is done with them.
   */
  tokenUnits: number;
  /** Beats of the longest token, ceil(max_channels / lanes): the depth of each lane's channel-RAM bank. */
  maxBeats: number;
}

function absWidthOf(spec: LayernormSpec): number {
  return unsignedWidth(BigInt(spec.maxChannels) * (((1n << BigInt(spec.bits)) - 1n) << 3n));
}

export function rtlWidths(spec: LayernormSpec): LayernormRtlWidths {
  const d = spec.derived;
  const p = d.precision;
  const absWidth = absWidthOf(spec);
  const t = tokenUnitCycles(spec);
  // A token's beats stay in the buffer from its first beat in until its last beat out (2B + the stats pipeline + the
  // token unit, B = ceil(C / lanes) beats a token, tokens arriving every B cycles), so the buffer holds that many beats,
  // and one more: its writer stops at one free entry (almost_full), a beat being on its way to it.
  const maxBeats = Math.ceil(spec.maxChannels / spec.lanes);
  let bufferDepth = spec.lanes === 1 ? d.bufferDepth : 1;
  while (bufferDepth < 2 * maxBeats + statsStages(spec) + t + 3) bufferDepth *= 2;
  return {
    absWidth,
    prodWidth: Math.max(p.varWidth, 2 * absWidth),
    wShift: p.fracW + p.sqrtGuard + d.kMax,
    kfInWidth: Math.max(d.wWidth + d.gtWidth, d.bkWidth) + 1,
    kShiftWidth: unsignedWidth(p.fracK),
    accWidth: Math.max(d.accWidth, 33),
    bufferAddrWidth: clog2(bufferDepth),
    tokenUnits: spec.datapath === 'serial' ? 1 : Math.min(Math.ceil(t / maxBeats), spec.maxTokenUnits),
    maxBeats,
  };
}

/** What every lane-aware template binds: one lane (the text of the block before lanes) or several. */
function laneView(spec: LayernormSpec) {
  return { multiLane: spec.lanes > 1, singleLane: spec.lanes === 1, lanes: spec.lanes, laneBits: clog2(spec.lanes) };
}

function lanesOf(spec: LayernormSpec): number[] {
  return Array.from({ length: spec.lanes }, (_, l) => l);
}

/**
 * A lane's bank of a channel RAM (channel c in bank c mod lanes at address c / lanes, common/lanes.ts): its depth
 * (at least 2, so that the address has a bit), address width, and the bank address of a channel index `addr`.
 */
function bankView(spec: LayernormSpec, addr: string) {
  const d = spec.derived;
  const lb = clog2(spec.lanes);
  const depth = Math.max(2, rtlWidths(spec).maxBeats);
  const bankWidth = unsignedWidth(depth - 1);
  const high = d.channelWidth - lb;
  const bankWrAddr = high <= 0 ? `${bankWidth}'d0` : high >= bankWidth ? `${addr}[LANE_BITS+BANK_WIDTH-1:LANE_BITS]` : `{${bankWidth - high}'d0, ${addr}[CHANNEL_WIDTH-1:LANE_BITS]}`;
  return { bankDepth: depth, bankWidth, bankWrAddr };
}

/** The hardware spec as written into headers and the manifest (the layer is a program: not in the RTL). */
export function specSummary(spec: LayernormSpec): Record<string, unknown> {
  // lanes only above 1: the one-lane headers stay those of the block before lanes (same bytes).
  return { block: 'layernorm', bits: spec.bits, max_channels: spec.maxChannels, scale_ratio_bits: spec.scaleRatioBits, rsqrt_bits: spec.rsqrtBits, ...(spec.lanes > 1 ? { lanes: spec.lanes } : {}), ...(spec.maxTokenUnits !== 2 * spec.lanes ? { max_token_units: spec.maxTokenUnits } : {}), ...(spec.datapath === 'serial' ? { datapath: 'serial' } : {}), prefix: spec.prefix };
}

/**
 * A RAM with one write port (the program) and one synchronous read port (inferred as block RAM where the target has
 * it). Its words are written by a program before any token reads them: a read never meets a write.
 */
function emitRam(spec: LayernormSpec, name: string, what: string, blockRam = false): string {
  return render('layernorm/ptf_layernorm_ram.v', {
    header: headerComment(`${name}: ${what}`, specSummary(spec)),
    name,
    blockRam,
  });
}

/** bk plus the +1s the Booth multiplier leaves out of W·(-gt) (a per-channel constant: it depends on gt only). */
function kfAddend(ch: ChannelConstants, gtWidth: number): bigint {
  return ch.bk + boothCorrection(-ch.gt, gtWidth);
}

/** Signed width of the Kf multiplier's addend bk + boothCorrection(−gt) over every allowed layer (|bk| ≤ 2^(bkWidth−1) − 1). */
export function kfAddendWidth(spec: LayernormSpec): number {
  const d = spec.derived;
  const bkMax = (1n << BigInt(d.bkWidth - 1)) - 1n;
  const boothMax = ((1n << BigInt(2 * Math.ceil(d.gtWidth / 2))) - 1n) / 3n; // Σ 4^i over the digits
  return signedWidth(-bkMax, bkMax + boothMax);
}

/** Width of one constant-RAM word (a channel word of the program). */
function constWidth(spec: LayernormSpec): number {
  const d = spec.derived;
  return kfAddendWidth(spec) + d.gtWidth + d.nAWidth + 2 + d.precision.mantissaA + 2;
}

/** Width of a piece of the serial element's constant word: one iCE40 block RAM word (256 × 16). */
const PIECE_WIDTH = 16;

/**
 * The serial element reads its channel's constant word in pieces of PIECE_WIDTH bits, one a clock, from a RAM one
 * piece wide (channel c's pieces at P·c .. P·c + P − 1): one block RAM per 4 kbit of constants, where a whole word a
 * clock takes one block RAM per 16 bits of its width (9 for 16 channels at 4 bits). The pipelined element needs a
 * word a clock: one piece, the whole word.
 */
export function constPieces(spec: LayernormSpec): number {
  if (spec.datapath !== 'serial') return 1;
  const pieces = Math.ceil(constWidth(spec) / PIECE_WIDTH);
  if (pieces < 2) throw new Error('layernorm serial element: the constant word must span at least two pieces');
  return pieces;
}

/** What the config and the serial element bind for the pieces (serial only): their count, counter and address widths. */
function pieceView(spec: LayernormSpec) {
  const pieces = constPieces(spec);
  if (pieces === 1) return { pieces: false };
  const pad = pieces * PIECE_WIDTH - constWidth(spec);
  return {
    pieces,
    pieceWidth: PIECE_WIDTH,
    pieceBits: unsignedWidth(pieces - 1),
    lastPiece: `${unsignedWidth(pieces - 1)}'d${pieces - 1}`,
    // piece · PIECE_WIDTH, a power of two
    pieceShift: `${clog2(PIECE_WIDTH)}'d0`,
    pieceAddrWidth: unsignedWidth(spec.maxChannels * pieces - 1),
    pieceDepth: spec.maxChannels * pieces,
    // the word above `pad` zero bits (the serial element shifts the pieces in from the top, so its fields end aligned)
    paddedWord: pad === 0 ? 's_cfg_axis_tdata[CONST_WIDTH-1:0]' : `{ s_cfg_axis_tdata[CONST_WIDTH-1:0], {${pad}{1'b0}} }`,
  };
}

/** The constant-RAM word of each channel (its program word): {bk, -gt, nA, sign_neg, gamma_zero, |ga|, alpha}, bk in the top bits. */
export function constWords(spec: LayernormSpec): bigint[] {
  const d = spec.derived;
  return spec.constants.map((ch) => {
    let w = toUnsigned(kfAddend(ch, d.gtWidth), kfAddendWidth(spec));
    w = (w << BigInt(d.gtWidth)) | toUnsigned(-ch.gt, d.gtWidth);
    w = (w << BigInt(d.nAWidth)) | toUnsigned(BigInt(ch.nA), d.nAWidth);
    w = (w << 1n) | (ch.sign < 0 ? 1n : 0n);
    w = (w << 1n) | (ch.sign === 0 ? 1n : 0n);
    w = (w << BigInt(d.precision.mantissaA)) | ch.gaMag;
    return (w << 2n) | BigInt(ch.alpha);
  });
}

function emitBuffer(spec: LayernormSpec): string {
  const w = rtlWidths(spec);
  return render('layernorm/ptf_layernorm_buffer.v', {
    names: moduleNames(spec.prefix, MODULE_BASES),
    header: headerComment(`${moduleName(spec.prefix, 'ptf_layernorm_buffer')}: the token buffer, a FIFO in inferred RAM`, specSummary(spec)),
    bits: spec.lanes * spec.bits,
    bufferAddrWidth: w.bufferAddrWidth,
  });
}

function emitStats(spec: LayernormSpec): string {
  const d = spec.derived;
  return render('layernorm/ptf_layernorm_stats.v', {
    names: moduleNames(spec.prefix, MODULE_BASES),
    header: headerComment(`${moduleName(spec.prefix, 'ptf_layernorm_stats')}: x = (q - zp) << alpha, and the exact sums S and Q of each token`, specSummary(spec)),
    bits: spec.bits,
    channelWidth: d.channelWidth,
    xWidth: d.xWidth,
    xSqWidth: d.xSqWidth,
    sumWidth: d.sumWidth,
    sqWidth: d.sqWidth,
    squareLatency: squareLatency(spec),
    squareWidth: pipelinedMultiplierPlan(spec.bits + 1, spec.bits + 1, 0, CHUNK, MAX_CARRY).productWidth,
    maxChannels: spec.maxChannels,
    ...laneView(spec),
    ...bankView(spec, 'alpha_wr_addr'),
    codes: spec.lanes === 1 ? 'DATA_WIDTH' : 'LANES*DATA_WIDTH',
    sumValid: spec.lanes === 1 ? 'valid_c' : 'beat_valid_reg',
    sumLast: spec.lanes === 1 ? 'last_c' : 'beat_last_reg',
    // Σ over the lanes of x (sign-extended) and of x^2 (zero-extended).
    beatSum: lanesOf(spec).map((l) => `\{{SUM_WIDTH-X_WIDTH{x_c_lanes[${l + 1}*X_WIDTH-1]}}, x_c_lanes[${l}*X_WIDTH +: X_WIDTH]}`).join(' + '),
    beatSq: lanesOf(spec).map((l) => `\{{SQ_WIDTH-XSQ_WIDTH{1'b0}}, xsq_c_lanes[${l}*XSQ_WIDTH +: XSQ_WIDTH]}`).join(' + '),
  });
}

function emitToken(spec: LayernormSpec): string {
  const d = spec.derived;
  const p = d.precision;
  const w = rtlWidths(spec);
  const F = p.rsqrtBits;
  const g = p.sqrtGuard;
  const radicand = g > 0 ? `{var_reg, {${2 * g}{1'b0}}}` : g === 0 ? 'var_reg' : `var_reg[VAR_WIDTH-1:${-2 * g}]`;
  const wNumerator = w.wShift > 0 ? `{abs_reg, {W_SHIFT{1'b0}}}` : 'abs_reg';
  const countWidth = unsignedWidth(w.absWidth);
  const lowVarBits = g < 0 ? `\n// The radicand drops the ${-2 * g} lowest bits of the normalized variance (floor; the model does the same).` : '';
  return render('layernorm/ptf_layernorm_token.v', {
    names: moduleNames(spec.prefix, MODULE_BASES),
    header: headerComment(`${moduleName(spec.prefix, 'ptf_layernorm_token')}: once per token, var = C·Q - S^2, k, s = isqrt(var·4^(k+G)), R = 2^(2F)/s, W = S·2^(FW+k+G)/s`, specSummary(spec)),
    countWidth: d.countWidth,
    sumWidth: d.sumWidth,
    sqWidth: d.sqWidth,
    absWidth: w.absWidth,
    prodWidth: w.prodWidth,
    varWidth: p.varWidth,
    kWidth: d.kWidth,
    kMax: d.kMax,
    rsqrtBits: F,
    raWidth: d.raWidth,
    wShift: w.wShift,
    wQuotWidth: d.wQuotWidth,
    wWidth: d.wWidth,
    wFullWidth: d.wQuotWidth + 1,
    stepWidth: countWidth,
    lastStep: w.absWidth - 1,
    lowVarBits,
    radicand,
    wNumerator,
    ...serialTokenView(spec, wNumerator),
  });
}

/**
 * The serial datapath's token unit divides with one divider, R and then W, and shifts W by K_MAX − k a bit a clock
 * (the serial element unit leaves it C · period cycles a token). The divider's widths are the larger of the two
 * divisions' (either quotient fits, its bits above are 0: NUM − QUOT ≤ DEN holds for the maxima as for each), and
 * both numerators are zero-extended to its width.
 */
function sharedDivider(spec: LayernormSpec): { numWidth: number; quotWidth: number } | undefined {
  if (spec.datapath !== 'serial') return undefined;
  const d = spec.derived;
  const F = d.precision.rsqrtBits;
  return { numWidth: Math.max(2 * F + 1, d.wNumWidth), quotWidth: Math.max(F + 1, d.wQuotWidth) };
}

/** The token template's view of the shared divider: its quotient width and both numerators at its width. */
function serialTokenView(spec: LayernormSpec, wNumerator: string) {
  const div = sharedDivider(spec);
  if (div === undefined) return { serialToken: false };
  const d = spec.derived;
  const F = d.precision.rsqrtBits;
  return {
    serialToken: true,
    divQuotWidth: div.quotWidth,
    divRNumerator: zeroExtend(`{1'b1, {${2 * F}{1'b0}}}`, 2 * F + 1, div.numWidth),
    divWNumerator: zeroExtend(wNumerator, d.wNumWidth, div.numWidth),
  };
}

/** A pipeline signal: the name of the register (or wire) holding it at `stage` (cycles after the issue). */
interface Sig {
  name: string;
  width: number;
  signed: boolean;
  stage: number;
}

/** Declarations and clock-enabled assignments of the element pipeline, with delay lines made on demand. */
class Pipeline {
  readonly decls: string[] = [];
  readonly stmts: string[] = [];

  reg(name: string, width: number, signed: boolean, stage: number, expr: string): Sig {
    this.decls.push(`reg ${signed ? 'signed ' : ''}[${width - 1}:0] ${name} = ${width}'${signed ? 's' : ''}d0;`);
    this.stmts.push(`${name} <= ${expr};`);
    return { name, width, signed, stage };
  }

  /** The signal at a later stage (registers in between). */
  at(sig: Sig, stage: number, base = sig.name.replace(/\d*_reg$/, '')): Sig {
    if (stage < sig.stage) throw new Error(`layernorm element: ${sig.name} is needed at stage ${stage} before it exists (${sig.stage})`);
    let s = sig;
    while (s.stage < stage) s = this.reg(`${base}_s${s.stage + 1}_reg`, s.width, s.signed, s.stage + 1, s.name);
    return s;
  }
}

/** Longest carry chain the element pipeline puts in one cycle; wider adds take two. */
export const MAX_CARRY = 50;
/** Slice width of the multipliers' partial products (2: one adder per partial product). */
const CHUNK = 2;

/** PA = |ga| · RA with radix-4 Booth digits of RA; the correction (boothCorrection(RA)) is RA's negative digits. */
function paCorrection(spec: LayernormSpec): { width: number; extWidth: number; expr: string } {
  const bw = spec.derived.raWidth + 1;
  const digits = Math.ceil(bw / 2);
  const bits: string[] = [];
  for (let i = digits - 1; i >= 0; i--) bits.push(`1'b0`, `pa_b_ext[${2 * i + 2}] && !(pa_b_ext[${2 * i + 1}] && pa_b_ext[${2 * i}])`);
  return { width: 2 * digits + 1, extWidth: 2 * digits + 1, expr: `{1'b0, ${bits.join(', ')}}` };
}

function paMultiplierPlan(spec: LayernormSpec): PipelinedMultiplierPlan {
  return pipelinedMultiplierPlan(spec.derived.precision.mantissaA + 1, spec.derived.raWidth + 1, paCorrection(spec).width, CHUNK, MAX_CARRY, true);
}

/** Stage numbers and widths of the element pipeline (cycles after a buffer read is issued). */
export interface ElementPlan {
  ptLatency: number;
  kfWidth: number;
  paLatency: number;
  mxLatency: number;
  mxWidth: number;
  /** Stage of the registered M and N. */
  mnStage: number;
  /** Stage at which Kf and the shift FK − N enter the offset rounding. */
  offsetStage: number;
  /** Stage at which B and ±M·x enter the accumulation. */
  accInStage: number;
  accSplit: boolean;
  /** Stage of the output register: the pipeline's length. */
  stages: number;
}

export function elementPlan(spec: LayernormSpec): ElementPlan {
  const d = spec.derived;
  const w = rtlWidths(spec);
  const pt = pipelinedMultiplierPlan(d.wWidth, d.gtWidth, kfAddendWidth(spec), CHUNK, MAX_CARRY, true);
  const pa = paMultiplierPlan(spec);
  const mx = pipelinedMultiplierPlan(d.xWidth, 9, 0, 5, MAX_CARRY);
  // PA's top bits at stage 2 + its latency, then two cycles of M/N (emitMn), which give the offset's shift FK − N too.
  const mnStage = 4 + pa.latency;
  const offsetStage = Math.max(2 + pt.latency, mnStage);
  const accInStage = Math.max(offsetStage + 2, mnStage + mx.latency);
  const accSplit = w.accWidth > MAX_CARRY;
  const accStage = accInStage + (accSplit ? 2 : 1);
  return {
    ptLatency: pt.latency, kfWidth: pt.productWidth, paLatency: pa.latency, mxLatency: mx.latency, mxWidth: mx.productWidth,
    mnStage, offsetStage, accInStage, accSplit, stages: accStage + 4,
  };
}

/**
 * The serial element unit's steps after an issue (templates/layernorm/ptf_layernorm_element_serial.v.hbs): the
 * constant word's P pieces (constPieces) read one a clock from the issue and shifted in at steps 1 .. P, the capture
 * at step P + 1, the Booth correction off Kf, then -gt's GT bits; PA's |ga| bits from the step after the capture; M/N
 * two steps after PA; M's 8 bits; B's rounding in bFirst .. bLast, once Kf and M/N are both final (roundingSteps of
 * FK, the largest FK − N); acc (also after ±M·x); y's rounding (roundingSteps of 31, the largest N); the code.
 * `period` is the clocks from one issue to the next (no stalls), `stages` from an issue to its code at the output.
 */
export interface SerialElementPlan {
  captureStep: number;
  kfLast: number;
  paLast: number;
  mnStep: number;
  mxLast: number;
  bFirst: number;
  bLast: number;
  accStep: number;
  yStep: number;
  outStep: number;
  stages: number;
  period: number;
}

export function serialElementPlan(spec: LayernormSpec): SerialElementPlan {
  const d = spec.derived;
  // the pieces of the constant word are read from the issue on, one a clock, and shifted in at steps 1 .. P
  const captureStep = constPieces(spec) + 1;
  const kfLast = captureStep + 1 + d.gtWidth;
  const paLast = captureStep + d.precision.mantissaA;
  const mnStep = paLast + 2;
  const mxLast = mnStep + 8;
  // B's rounding once Kf and FK − N are final, acc once ±M·x is too, then y's rounding (N ≤ 31)
  const bFirst = Math.max(kfLast, mnStep) + 1;
  const bLast = bFirst + roundingSteps(d.precision.fracK) - 1;
  const accStep = Math.max(bLast + 1, mxLast + 1);
  const yStep = accStep + roundingSteps(31) + 1;
  const outStep = yStep + 1;
  return { captureStep, kfLast, paLast, mnStep, mxLast, bFirst, bLast, accStep, yStep, outStep, stages: outStep + 1, period: outStep + 1 };
}

/** Steps of a serial rounding by up to `maxShift`: a shift by 8 a step while 8 or more are left, then by 1. */
function roundingSteps(maxShift: number): number {
  let most = 0;
  for (let s = 0; s <= maxShift; s++) most = Math.max(most, Math.floor(s / 8) + (s % 8));
  return most;
}

/** Clocks from an element's issue to its code at the output (no stalls). */
export function elementLatency(spec: LayernormSpec): number {
  return spec.datapath === 'serial' ? serialElementPlan(spec).stages : elementPlan(spec).stages;
}

/** Clocks between the elements the element unit takes (no stalls): 1 pipelined. */
export function elementPeriod(spec: LayernormSpec): number {
  return spec.datapath === 'serial' ? serialElementPlan(spec).period : 1;
}

/** The widths both element templates (pipelined and serial) bind: the ports', the constant word's fields, Kf's. */
function elementWidthsView(spec: LayernormSpec) {
  const d = spec.derived;
  const w = rtlWidths(spec);
  const plan = elementPlan(spec);
  return {
    bits: spec.bits,
    channelWidth: d.channelWidth,
    xWidth: d.xWidth,
    raWidth: d.raWidth,
    gaWidth: d.precision.mantissaA,
    wWidth: d.wWidth,
    kWidth: d.kWidth,
    gtWidth: d.gtWidth,
    bkWidth: kfAddendWidth(spec),
    nAWidth: d.nAWidth,
    constWidth: constWidth(spec),
    kfWidth: plan.kfWidth,
    kShiftWidth: w.kShiftWidth,
    offsetWidth: d.offsetWidth,
    mxWidth: plan.mxWidth,
    accWidth: w.accWidth,
    codeWidth: spec.bits + 3,
    codeMax: (1 << spec.bits) - 1,
    maxChannels: spec.maxChannels,
  };
}

function emitSerialElement(spec: LayernormSpec): string {
  const d = spec.derived;
  // acc = B + ±M·x is formed in Kf's accumulator and judged on its low ACC_WIDTH bits
  if (d.offsetWidth > rtlWidths(spec).accWidth) throw new Error('layernorm serial element: B must fit the accumulator');
  // PA's accumulator keeps floor(PA / 2^GA_WIDTH) in RA_WIDTH bits, and the M/N leaf reads PA's top 9 bits from it
  const paHigh = d.paWidth - d.precision.mantissaA;
  if (paHigh > d.raWidth || paHigh < 9) throw new Error(`layernorm serial element: PA's top 9 bits must lie in its ${d.raWidth}-bit accumulator (PA ${d.paWidth} bits, |ga| ${d.precision.mantissaA})`);
  const plan = serialElementPlan(spec);
  const kfWidth = elementPlan(spec).kfWidth;
  const corrWidth = 2 * Math.ceil(d.gtWidth / 2);
  return render('layernorm/ptf_layernorm_element_serial.v', {
    names: moduleNames(spec.prefix, MODULE_BASES),
    header: headerComment(`${moduleName(spec.prefix, 'ptf_layernorm_element')}: per element M, N, B and y = round((±M·x + B) / 2^N), clamped with the output zero point; one element at a time, products bit-serial`, specSummary(spec)),
    period: plan.period,
    ...elementWidthsView(spec),
    kfAccWidth: Math.max(kfWidth, d.wWidth + d.gtWidth, kfAddendWidth(spec)) + 1,
    corrWidth,
    paWidth: d.paWidth,
    shiftLeftWidth: Math.max(rtlWidths(spec).kShiftWidth, 5),
    stepWidth: unsignedWidth(plan.outStep),
    ...pieceView(spec),
    captureStep: plan.captureStep,
    lastPieceStep: plan.captureStep - 2,
    corrStep: plan.captureStep + 1,
    kfLast: plan.kfLast,
    paLast: plan.paLast,
    mnStep: plan.mnStep,
    mxLast: plan.mxLast,
    bFirst: plan.bFirst,
    bLast: plan.bLast,
    accStep: plan.accStep,
    yStep: plan.yStep,
    outStep: plan.outStep,
  });
}

function emitElement(spec: LayernormSpec): string {
  if (spec.datapath === 'serial') return emitSerialElement(spec);
  const d = spec.derived;
  const p = d.precision;
  const w = rtlWidths(spec);
  const plan = elementPlan(spec);
  const WG = p.mantissaA;
  const paTop = d.paWidth - 1;
  const ACC = w.accWidth;
  const L = spec.bits + 2;
  const pipe = new Pipeline();
  const bank = bankView(spec, 'const_wr_addr');
  const paBExt = `{${paCorrection(spec).extWidth - d.raWidth - 1}'d0, ra1, 1'b0}`;
  // Stage 1: the buffered code and the constants (block RAM outputs) and the token's scalars.
  const word1: Sig = { name: 'const_word', width: constWidth(spec), signed: false, stage: 1 };
  const ra1: Sig = { name: 'ra1', width: d.raWidth, signed: false, stage: 1 };
  const w1: Sig = { name: 'w1', width: d.wWidth, signed: true, stage: 1 };
  const k1: Sig = { name: 'k1', width: d.kWidth, signed: false, stage: 1 };
  const const1: Sig = { name: 'const1', width: 1, signed: false, stage: 1 };
  // Stage 2: the multiplier operands, registered (a block RAM output is slow), and x.
  const bk2 = pipe.reg('bk2_reg', kfAddendWidth(spec), true, 2, `${word1.name}[CONST_WIDTH-1 -: BK_WIDTH]`);
  const ngt2 = pipe.reg('ngt2_reg', d.gtWidth, true, 2, `${word1.name}[CONST_WIDTH-BK_WIDTH-1 -: GT_WIDTH]`);
  const na2 = pipe.reg('na2_reg', d.nAWidth, true, 2, `${word1.name}[GA_WIDTH+4+NA_WIDTH-1 -: NA_WIDTH]`);
  const gz2 = pipe.reg('gamma_zero2_reg', 1, false, 2, `${word1.name}[GA_WIDTH+2]`);
  const ga2 = pipe.reg('ga2_reg', WG, false, 2, `${word1.name}[GA_WIDTH+1:2]`);
  const ra2 = pipe.at(ra1, 2, 'ra');
  const paCorr = paCorrection(spec);
  const paCorr2 = pipe.reg('pa_corr2_reg', paCorr.width, true, 2, paCorr.expr);
  const w2 = pipe.at(w1, 2, 'w');
  const x2 = pipe.reg('x2_reg', d.xWidth, true, 2, `diff1 <<< c_alpha`);
  const neg2 = pipe.reg('neg2_reg', 1, false, 2, 'c_neg');
  // Stage 3: sign(gamma)·x.
  const nx3 = pipe.reg('nx3_reg', d.xWidth, true, 3, `${neg2.name} ? -${x2.name} : ${x2.name}`);
  // M and N: nA − k a cycle after the RAM word (N_u's first term, off the path from PA), PA's top bits two cycles before M and N.
  if (d.nAWidth <= d.kWidth) throw new Error('layernorm element: nA − k needs NA_WIDTH > K_WIDTH');
  const k2 = pipe.at(k1, 2, 'k');
  const nk3 = pipe.reg('nk3_reg', d.nAWidth, true, 3, `${na2.name} - $signed({${d.nAWidth - d.kWidth}'d0, ${k2.name}})`);
  const mnIn = plan.mnStage - 2;
  const paTopSig = pipe.at({ name: `pa[${paTop}:${paTop - 8}]`, width: 9, signed: false, stage: 2 + plan.paLatency }, mnIn, 'pa_top');
  const nkSig = pipe.at(nk3, mnIn, 'nk');
  const gzSig = pipe.at(gz2, mnIn, 'gamma_zero');
  const constSig = pipe.at(const1, mnIn, 'const');
  const m = pipe.reg('m_reg', 8, false, plan.mnStage, 'mn_m');
  const n = pipe.reg('n_reg', 5, false, plan.mnStage, 'mn_n');
  const kshift = pipe.reg('kshift_reg', w.kShiftWidth, false, plan.mnStage, 'mn_kshift');
  // B: Kf and its shift enter the offset rounding together.
  const kfIn = pipe.at({ name: 'kf', width: plan.kfWidth, signed: true, stage: 2 + plan.ptLatency }, plan.offsetStage);
  const kshiftIn = pipe.at(kshift, plan.offsetStage);
  // ±M·x.
  const nxIn = pipe.at(nx3, plan.mnStage);
  const mx = pipe.at({ name: 'mx', width: plan.mxWidth, signed: true, stage: plan.mnStage + plan.mxLatency }, plan.accInStage);
  const qB = pipe.at({ name: 'b_floor', width: d.offsetWidth, signed: true, stage: plan.offsetStage + 2 }, plan.accInStage);
  const ruB = pipe.at({ name: 'b_round_up', width: 1, signed: false, stage: plan.offsetStage + 2 }, plan.accInStage);
  // acc = B + ±M·x (B = floor + round-up, the round-up as the carry in).
  const bExt = `{{${ACC - d.offsetWidth}{${qB.name}[${d.offsetWidth - 1}]}}, ${qB.name}}`;
  const mxExt = `{{${ACC - plan.mxWidth}{${mx.name}[${plan.mxWidth - 1}]}}, ${mx.name}}`;
  let acc: Sig;
  if (!plan.accSplit) {
    acc = pipe.reg('acc_reg', ACC, true, plan.accInStage + 1, `${bExt} + ${mxExt} + {{${ACC - 1}{1'b0}}, ${ruB.name}}`);
  } else {
    const h = Math.ceil(ACC / 2);
    pipe.decls.push(`wire [${ACC - 1}:0] acc_b = ${bExt};`, `wire [${ACC - 1}:0] acc_mx = ${mxExt};`);
    const lo = pipe.reg('acc_lo_reg', h + 1, false, plan.accInStage + 1, `{1'b0, acc_b[${h - 1}:0]} + {1'b0, acc_mx[${h - 1}:0]} + {{${h}{1'b0}}, ${ruB.name}}`);
    const hb = pipe.reg('acc_hb_reg', ACC - h, false, plan.accInStage + 1, `acc_b[${ACC - 1}:${h}]`);
    const hm = pipe.reg('acc_hm_reg', ACC - h, false, plan.accInStage + 1, `acc_mx[${ACC - 1}:${h}]`);
    acc = pipe.reg('acc_reg', ACC, true, plan.accInStage + 2, `{${hb.name} + ${hm.name} + {{${ACC - h - 1}{1'b0}}, ${lo.name}[${h}]}, ${lo.name}[${h - 1}:0]}`);
  }
  const nY = pipe.at(n, acc.stage);
  // y = floor + round-up; the clamp only needs y's low L bits and whether the rest are sign copies.
  const yStage = acc.stage + 2;
  const fits = pipe.reg('fits_reg', 1, false, yStage + 1, `y_floor[${ACC - 1}:${L - 1}] == {${ACC - L + 1}{1'b0}} || y_floor[${ACC - 1}:${L - 1}] == {${ACC - L + 1}{1'b1}}`);
  const ylow = pipe.reg('y_low_reg', L, true, yStage + 1, `y_floor[${L - 1}:0]`);
  const yneg = pipe.reg('y_neg_reg', 1, false, yStage + 1, `y_floor[${ACC - 1}]`);
  const yru = pipe.reg('y_round_up_reg', 1, false, yStage + 1, 'y_round_up');
  if (yStage + 2 !== plan.stages) throw new Error('layernorm element: stage plan mismatch');
  // Multiplier operands made unsigned by a zero top bit.
  const gaUnsigned = `{1'b0, ${ga2.name}}`;
  const raUnsigned = `{1'b0, ${ra2.name}}`;
  const mUnsigned = `{1'b0, ${m.name}}`;
  pipe.decls.push(`wire signed [${L}:0] code = {${ylow.name}[${L - 1}], ${ylow.name}} + out_zp + $signed({{${L}{1'b0}}, ${yru.name}});`);
  const outExpr = `!${fits.name} ? (${yneg.name} ? {DATA_WIDTH{1'b0}} : {DATA_WIDTH{1'b1}}) : code < 0 ? {DATA_WIDTH{1'b0}} : code > CODE_MAX ? {DATA_WIDTH{1'b1}} : code[DATA_WIDTH-1:0]`;

  return render('layernorm/ptf_layernorm_element.v', {
    names: moduleNames(spec.prefix, MODULE_BASES),
    header: headerComment(`${moduleName(spec.prefix, 'ptf_layernorm_element')}: per element M, N, B and y = round((±M·x + B) / 2^N), clamped with the output zero point`, specSummary(spec)),
    ...elementWidthsView(spec),
    stages: plan.stages,
    lowWidth: L,
    pipelineRegisters: pipe.decls.filter((x) => !x.startsWith('wire')).join('\n'),
    kfStage: 2 + plan.ptLatency,
    wOperand: w2.name,
    negGtOperand: ngt2.name,
    bkOperand: bk2.name,
    paStage: 2 + plan.paLatency,
    paMsb: paMultiplierPlan(spec).productWidth - 1,
    paBExtMsb: paCorr.extWidth - 1,
    paBExt,
    gaUnsigned,
    raUnsigned,
    paCorrOperand: paCorr2.name,
    mnStage: plan.mnStage,
    paTopSignal: paTopSig.name,
    nkSignal: nkSig.name,
    gammaZeroSignal: gzSig.name,
    constSignal: constSig.name,
    mxStage: plan.mnStage + plan.mxLatency,
    nxOperand: nxIn.name,
    mUnsigned,
    bStage: plan.offsetStage + 2,
    kfOperand: kfIn.name,
    kshiftOperand: kshiftIn.name,
    pipelineWires: pipe.decls.filter((x) => x.startsWith('wire')).join('\n'),
    yStage,
    accOperand: acc.name,
    nOperand: nY.name,
    pipelineStatements: pipe.stmts.join('\n        '),
    outExpr,
    ...laneView(spec),
    ...bank,
    codes: spec.lanes === 1 ? 'DATA_WIDTH' : 'LANES*DATA_WIDTH',
    laneCodeExt: `$signed({{X_WIDTH-DATA_WIDTH{1'b0}}, ${spec.lanes === 1 ? 'buf_rd_data' : 'lane_code'}})`,
    codesZero: spec.lanes === 1 ? "{DATA_WIDTH{1'b0}}" : "{LANES*DATA_WIDTH{1'b0}}",
    ramAddrWidth: spec.lanes === 1 ? 'CHANNEL_WIDTH' : 'BANK_WIDTH',
    ramDepth: spec.lanes === 1 ? spec.maxChannels : bank.bankDepth,
    ramWrEn: spec.lanes === 1 ? 'const_wr_en' : 'const_wr_en && const_wr_addr[LANE_BITS-1:0] == LANE',
    ramWrAddr: spec.lanes === 1 ? 'const_wr_addr' : bank.bankWrAddr,
    ramRdAddr: spec.lanes === 1 ? 'channel_reg' : 'channel_reg[BANK_WIDTH-1:0]',
  });
}

/** Bits of status_error, in order (the manifest lists them with their meaning). */
export const STATUS_ERRORS = [
  { name: 'config', meaning: 'a program word out of range (header C outside 8..max_channels, a channel word whose nA is outside the derived range or with both sign and gamma-zero set) or a program whose tlast is not on word C (header + C channel words); the program is not loaded (tokens after it are discarded and set bit 2) until a good program arrives' },
  { name: 'token_length', meaning: 'a token whose s_axis_tlast is not on its C-th beat. Early tlast: the token is completed with the input zero point in its missing channels (x = 0 there) and output as C codes. Late (no tlast on beat C): the first C beats are output as a token, the beats after them are discarded up to and including the next tlast. The next token starts after that tlast' },
  { name: 'no_program', meaning: 'an s_axis beat accepted with no program loaded (after reset, or after a bad program): it is discarded, and so is every beat up to and including the next tlast; nothing is output for them' },
] as const;

/** The run-time program's word layout: a header word, then one word per channel. */
export function programLayout(spec: LayernormSpec): { header: ProgramFormat; channel: ProgramFormat; wordWidth: number; naLsb: number } {
  const d = spec.derived;
  const cw = d.channelWidth;
  const WG = d.precision.mantissaA;
  const bkW = kfAddendWidth(spec);
  const header: ProgramField[] = [
    { name: 'last_channel', lsb: 0, width: cw, meaning: `C − 1 of the layer (C from 8 to ${spec.maxChannels})` },
    { name: 'zero_point', lsb: cw, width: spec.bits, meaning: 'input zero point' },
    { name: 'out_zero_point', lsb: cw + spec.bits, width: spec.bits, meaning: 'output zero point' },
  ];
  const naLsb = WG + 4;
  const channel: ProgramField[] = [
    { name: 'alpha', lsb: 0, width: 2, meaning: 'PTF power-of-two factor of the channel' },
    { name: 'ga', lsb: 2, width: WG, meaning: '|ga|: mantissa of |C·gamma/out_scale| (0 when gamma = 0)' },
    { name: 'gamma_zero', lsb: WG + 2, width: 1, meaning: 'gamma = 0' },
    { name: 'sign_neg', lsb: WG + 3, width: 1, meaning: 'gamma < 0' },
    { name: 'na', lsb: naLsb, width: d.nAWidth, meaning: `nA, two's complement, from ${d.nAMin} to ${d.nAMax}` },
    { name: 'neg_gt', lsb: naLsb + d.nAWidth, width: d.gtWidth, meaning: "−gt = −round(gamma/out_scale·2^FG), two's complement" },
    { name: 'bk', lsb: naLsb + d.nAWidth + d.gtWidth, width: bkW, meaning: "round(beta/out_scale·2^FK) + the Booth correction of −gt, two's complement" },
  ];
  const wordWidth = Math.max(constWidth(spec), cw + 2 * spec.bits);
  const order = 'word 0 is the header (fields header.*); words 1 .. C are the channels 0 .. C − 1 in order (fields channel.*); tlast on word C and on no other';
  return {
    header: { wordWidth, fields: header, order },
    channel: { wordWidth, fields: channel, order },
    wordWidth,
    naLsb,
  };
}

/** The program of the spec's layer: computed from the same constants the golden model uses (spec.constants). */
export function layernormProgram(spec: LayernormSpec): Program {
  const layout = programLayout(spec);
  const d = spec.derived;
  // The hardware refuses a channel word whose nA is outside the derived range: a program of ours never has one.
  spec.constants.forEach((ch, c) => {
    if (ch.nA < d.nAMin || ch.nA > d.nAMax) throw new Error(`layernorm: channel ${c} has nA = ${ch.nA}, outside the derived ${d.nAMin}..${d.nAMax} (a bug of the width derivation)`);
  });
  const header = packWord(layout.header, { last_channel: spec.channels - 1, zero_point: spec.layer.zeroPoint, out_zero_point: spec.layer.outZeroPoint });
  const format: ProgramFormat = {
    wordWidth: layout.wordWidth,
    fields: [...layout.header.fields.map((f) => ({ ...f, name: `header.${f.name}` })), ...layout.channel.fields.map((f) => ({ ...f, name: `channel.${f.name}` }))],
    order: layout.header.order,
  };
  return {
    format,
    words: [header, ...constWords(spec)],
    values: { channels: spec.channels, zero_point: spec.layer.zeroPoint, out_zero_point: spec.layer.outZeroPoint, constants: spec.constants },
  };
}

function emitConfig(spec: LayernormSpec): string {
  const d = spec.derived;
  const layout = programLayout(spec);
  // Range checks, leaving out a bound the field's width already keeps (a constant comparison).
  const cw = d.channelWidth;
  const naLit = (v: number) => `${v < 0 ? '-' : ''}${d.nAWidth}'sd${Math.abs(v)}`;
  const hdrChecks = [`hdr_last < ${cw}'d${CHANNELS_MIN - 1}`, ...(spec.maxChannels - 1 < 2 ** cw - 1 ? [`hdr_last > ${cw}'d${spec.maxChannels - 1}`] : [])];
  const naChecks = [
    ...(d.nAMin > -(2 ** (d.nAWidth - 1)) ? [`word_na < ${naLit(d.nAMin)}`] : []),
    ...(d.nAMax < 2 ** (d.nAWidth - 1) - 1 ? [`word_na > ${naLit(d.nAMax)}`] : []),
  ];
  return render('layernorm/ptf_layernorm_config.v', {
    names: moduleNames(spec.prefix, MODULE_BASES),
    header: headerComment(`${moduleName(spec.prefix, 'ptf_layernorm_config')}: loads a program from s_cfg_axis (header: C, zero points; then one constant word per channel)`, specSummary(spec)),
    bits: spec.bits,
    channelWidth: d.channelWidth,
    countWidth: d.countWidth,
    wordWidth: layout.wordWidth,
    constWidth: constWidth(spec),
    naLsb: layout.naLsb,
    nAWidth: d.nAWidth,
    minChannels: CHANNELS_MIN,
    ...laneView(spec),
    maxChannels: spec.maxChannels,
    ...pieceView(spec),
    headerChecks: hdrChecks.join(' || '),
    nAMin: d.nAMin,
    nAMax: d.nAMax,
    wordChecks: [...naChecks, '(s_cfg_axis_tdata[NA_LSB-1] && s_cfg_axis_tdata[NA_LSB-2])'].join(' || '),
  });
}

function emitTop(spec: LayernormSpec): string {
  const d = spec.derived;
  const w = rtlWidths(spec);
  const layout = programLayout(spec);
  const inflightWidth = w.bufferAddrWidth + 2;
  return render('layernorm/ptf_layernorm.v', {
    names: moduleNames(spec.prefix, MODULE_BASES),
    header: headerComment(`${moduleName(spec.prefix, 'ptf_layernorm')}: PTF LayerNorm (FQ-ViT, integer-only); the layer is a program loaded through s_cfg_axis`, specSummary(spec)),
    top: topName(spec),
    cfgMsb: layout.wordWidth - 1,
    dataMsb: spec.lanes * spec.bits - 1,
    ...laneView(spec),
    codes: spec.lanes === 1 ? 'DATA_WIDTH' : 'BEAT_WIDTH',
    statusMsb: STATUS_ERRORS.length - 1,
    bits: spec.bits,
    channelWidth: d.channelWidth,
    countWidth: d.countWidth,
    constWidth: constWidth(spec),
    inflightWidth,
    sumMsb: d.sumWidth - 1,
    sqMsb: d.sqWidth - 1,
    raMsb: d.raWidth - 1,
    wMsb: d.wWidth - 1,
    kMsb: d.kWidth - 1,
    statusWidth: STATUS_ERRORS.length,
    bufferAddrWidth: w.bufferAddrWidth,
    ...pieceView(spec),
    // Token units take tokens in turn (a token unit's time exceeds a token's beats): tokens enter unit 0, 1, ..., U − 1,
    // 0, ... and their scalars leave in the same order, so short tokens stream without waiting for one unit.
    ...tokenUnitView(w.tokenUnits),
    serialToken: spec.datapath === 'serial',
  });
}

/**
 * The round robin over U token units: a pointer for the unit taking the next sums and one for the unit whose scalars
 * go out next (one bit flipped at U = 2; a counter wrapping at U − 1 above), and the multiplexers they drive.
 */
function tokenUnitView(units: number) {
  const sw = clog2(units);
  const two = units === 2;
  const is = (sel: string, i: number) => (two ? `${i === 0 ? '!' : ''}${sel}` : `${sel} == ${sw}'d${i}`);
  const next = (sel: string) => (two ? `!${sel}` : `${sel} == ${sw}'d${units - 1} ? ${sw}'d0 : ${sel} + 1'b1`);
  const mux = (sel: string, port: string) => {
    if (two) return `${sel} ? token1_${port} : token0_${port}`;
    let e = `token0_${port}`;
    for (let i = 1; i < units; i++) e = `${sel} == ${sw}'d${i} ? token${i}_${port} : ${e}`;
    return e;
  };
  return {
    multiTokenUnits: units > 1,
    selRange: two ? '' : `[${sw - 1}:0] `,
    selZero: two ? "1'b0" : `${sw}'d0`,
    inNext: next('in_sel_reg'),
    outNext: next('out_sel_reg'),
    tokenUnitList: Array.from({ length: units }, (_, index) => ({ index, inSelect: is('in_sel_reg', index), outSelect: is('out_sel_reg', index) })),
    mux: { s_ready: mux('in_sel_reg', 's_ready'), m_valid: mux('out_sel_reg', 'm_valid'), ra: mux('out_sel_reg', 'ra'), w: mux('out_sel_reg', 'w'), k: mux('out_sel_reg', 'k'), const: mux('out_sel_reg', 'const') },
  };
}

/** Cycles of the token unit for one token, worst case (largest k), without waiting for the element pipeline. */
export function tokenUnitCycles(spec: LayernormSpec): number {
  const d = spec.derived;
  const w = { absWidth: absWidthOf(spec) };
  // idle→square, square (ABS_WIDTH), variance (2), normalize (K_MAX + 1), root and divide (their steps, plus the start
  // pulse and the done pulse registers each; the serial datapath's one divider divides twice), scale (2; the serial
  // datapath's shifts W a step at a time: K_MAX + 2), done
  const shared = sharedDivider(spec);
  const divide = shared === undefined ? Math.max(d.rootWidth, d.wQuotWidth) + 2 : 2 * (shared.quotWidth + 2);
  const scale = shared === undefined ? 2 : d.kMax + 2;
  return 1 + w.absWidth + 2 + (d.kMax + 1) + (d.rootWidth + 2) + divide + scale + 1;
}

/** Beats of a token of C channels: ceil(C / lanes). */
export function tokenBeatCount(spec: LayernormSpec, channels = spec.channels): number {
  return Math.ceil(channels / spec.lanes);
}

/**
 * Steady-state cycles per U tokens of C channels (U = token units, taking tokens in turn), back to back with no
 * stalls: max(U·ceil(C/lanes), T) with T = tokenUnitCycles: U·ceil(C/lanes) at one beat per cycle, or a token unit's
 * time when that is longer (short tokens: the token unit, not the stream, sets the pace). Measured exactly by
 * test/layernorm-rtl.test.ts.
 */
export function cyclesPerTokenGroup(spec: LayernormSpec, channels = spec.channels): number {
  const beats = Math.max(rtlWidths(spec).tokenUnits * tokenBeatCount(spec, channels) * elementPeriod(spec), tokenUnitCycles(spec));
  if (spec.datapath !== 'serial') return beats;
  // The serial element unit reads the token unit's outputs in place, so the token unit finishes the next token (from
  // R on) only after this token's last element has taken them (RA, the last, at PA's last step): the W division and
  // scale, then the handshake, may outlast that element (large max_channels, wide codes)
  return Math.max(beats, (channels - 1) * elementPeriod(spec) + serialElementPlan(spec).paLast + serialTokenTail(spec));
}

/**
 * Cycles from the serial element unit's last PA step of a token's last element to the next token's first issue when
 * the token unit waits there with R: its release (1), the W division with its start and done registers (quotient
 * bits + 2), the scale (K_MAX + 2), DONE and the handshake (1), the slot to the issue (1). Measured by
 * test/layernorm-rtl.test.ts.
 */
function serialTokenTail(spec: LayernormSpec): number {
  const divider = sharedDivider(spec)!;
  return 1 + (divider.quotWidth + 2) + (spec.derived.kMax + 2) + 1 + 1;
}

/** Steady-state cycles per token (the average over a group of token units: may be a half). */
export function cyclesPerToken(spec: LayernormSpec, channels = spec.channels): number {
  return cyclesPerTokenGroup(spec, channels) / rtlWidths(spec).tokenUnits;
}

/** Steady-state elements per cycle for tokens of C channels: U·C / max(U·ceil(C/lanes), T) (lanes when C is a multiple of lanes and U·C/lanes ≥ T). */
export function elementsPerCycle(spec: LayernormSpec, channels = spec.channels): number {
  return channels / cyclesPerToken(spec, channels);
}

/** Base names of the block's modules (each file is named after its module); every one gets the spec's prefix. */
export const MODULE_BASES = [
  TOP, 'ptf_layernorm_config', 'ptf_layernorm_stats', 'ptf_layernorm_buffer', 'ptf_layernorm_token', 'ptf_layernorm_element',
  'ptf_layernorm_isqrt', 'ptf_layernorm_r_divider', 'ptf_layernorm_w_divider', 'ptf_layernorm_divider', 'ptf_layernorm_mn', 'ptf_layernorm_kf_multiplier',
  'ptf_layernorm_square_multiplier', 'ptf_layernorm_pa_multiplier', 'ptf_layernorm_mx_multiplier', 'ptf_layernorm_offset_round',
  'ptf_layernorm_output_round', 'ptf_layernorm_alpha_ram', 'ptf_layernorm_const_ram',
] as const;

/** The top module's name with the spec's prefix. */
export function topName(spec: LayernormSpec): string {
  return moduleName(spec.prefix, TOP);
}


/**
 * All modules of the block, by file name. They depend only on the hardware parameters (bits, max_channels,
 * scale_ratio_bits, rsqrt_bits, prefix): every layer those allow runs on the same bytes, its program loaded at run time.
 */
export function emitLayernormRtl(spec: LayernormSpec): FileSet {
  const d = spec.derived;
  const w = rtlWidths(spec);
  const files: FileSet = new Map();
  const put = (name: string, text: string) => files.set(`${moduleName(spec.prefix, name)}.v`, text);
  const n = moduleNames(spec.prefix, MODULE_BASES);
  put(TOP, emitTop(spec));
  put('ptf_layernorm_config', emitConfig(spec));
  put('ptf_layernorm_stats', emitStats(spec));
  put('ptf_layernorm_buffer', emitBuffer(spec));
  put('ptf_layernorm_token', emitToken(spec));
  put('ptf_layernorm_element', emitElement(spec));
  put('ptf_layernorm_isqrt', emitIsqrt(d.rootWidth, n.ptf_layernorm_isqrt));
  const divider = sharedDivider(spec);
  if (divider !== undefined) {
    // The token unit holds the divisor (the square root unit's result) through both divisions
    put('ptf_layernorm_divider', emitDivider(divider.numWidth, d.rootWidth, divider.quotWidth, n.ptf_layernorm_divider, { heldDivisor: true }));
  } else {
    put('ptf_layernorm_r_divider', emitDivider(2 * spec.rsqrtBits + 1, d.rootWidth, d.rootWidth, n.ptf_layernorm_r_divider));
    put('ptf_layernorm_w_divider', emitDivider(d.wNumWidth, d.rootWidth, d.wQuotWidth, n.ptf_layernorm_w_divider));
  }
  put('ptf_layernorm_mn', emitMn(d.nAWidth, d.precision.fracK, n.ptf_layernorm_mn));
  const plan = elementPlan(spec);
  // The serial element unit forms its products by shift-and-add: no multiplier leaves
  const pipelined = spec.datapath === 'pipelined';
  if (pipelined) put('ptf_layernorm_kf_multiplier', emitPipelinedMultiplier(d.wWidth, d.gtWidth, kfAddendWidth(spec), CHUNK, MAX_CARRY, n.ptf_layernorm_kf_multiplier, true));
  put('ptf_layernorm_square_multiplier', emitPipelinedMultiplier(spec.bits + 1, spec.bits + 1, 0, CHUNK, MAX_CARRY, n.ptf_layernorm_square_multiplier));
  if (pipelined) put('ptf_layernorm_pa_multiplier', emitPipelinedMultiplier(d.precision.mantissaA + 1, d.raWidth + 1, paCorrection(spec).width, CHUNK, MAX_CARRY, n.ptf_layernorm_pa_multiplier, true));
  if (pipelined) put('ptf_layernorm_mx_multiplier', emitPipelinedMultiplier(d.xWidth, 9, 0, 5, MAX_CARRY, n.ptf_layernorm_mx_multiplier));
  if (pipelined) {
    put('ptf_layernorm_offset_round', emitRoundShiftPipelined(plan.kfWidth, w.kShiftWidth, d.offsetWidth, n.ptf_layernorm_offset_round));
    put('ptf_layernorm_output_round', emitRoundShiftPipelined(w.accWidth, 5, w.accWidth, n.ptf_layernorm_output_round));
  }
  // The serial datapath, the small one, keeps alpha in block RAM even when the table is small (the encoder's 16 channels)
  put('ptf_layernorm_alpha_ram', emitRam(spec, n.ptf_layernorm_alpha_ram, 'alpha per channel, written by the program', spec.datapath === 'serial'));
  put('ptf_layernorm_const_ram', emitRam(spec, n.ptf_layernorm_const_ram, `the constants of each channel {bk + Booth correction of -gt, -gt, nA, sign_neg, gamma_zero, |ga|, alpha}${constPieces(spec) > 1 ? `, in ${constPieces(spec)} pieces of ${PIECE_WIDTH} bits a channel` : ''}, written by the program`));
  return files;
}

/** The manifest (common/manifest.ts): the same schema as every block. */
export function layernormManifest(spec: LayernormSpec, files: FileSet, latencyCycles: number): string {
  const d = spec.derived;
  const w = rtlWidths(spec);
  const layout = programLayout(spec);
  const program = layernormProgram(spec);
  const T = tokenUnitCycles(spec);
  const manifest: BlockManifest = {
    block: 'layernorm',
    top: topName(spec),
    prefix: spec.prefix,
    files: [...files.keys()].sort(),
    parameters: [],
    spec: { ...specSummary(spec), lanes: spec.lanes, max_token_units: spec.maxTokenUnits, default_layer: { channels: spec.channels, zero_point: spec.layer.zeroPoint, out_zero_point: spec.layer.outZeroPoint, out_scale: spec.layer.outScale, in_scale_min: spec.layer.inScaleMin, calibrated: spec.calibrated, alpha: spec.layer.alpha, gamma: spec.layer.gamma, beta: spec.layer.beta } },
    derived: {
      ...d,
      layer_range: `C from 8 to ${spec.maxChannels}; zero points 0..${2 ** spec.bits - 1}; alpha 0..3; |gamma/out_scale| and |beta/out_scale| below 2^${spec.scaleRatioBits} (scale_ratio_bits); every width above is the worst case over these (no overflow anywhere); nA above ${d.nAMax} saturates to it (M = 0 either way)`,
      rounding: 'round half to even (B, y); floor (M, W, R, s); the output clamps to 0 .. 2^bits − 1',
      rtl: { ...w, kfAddendWidth: kfAddendWidth(spec), constWidth: constWidth(spec), constPieces: constPieces(spec), element: spec.datapath === 'serial' ? { datapath: 'serial', ...serialElementPlan(spec) } : elementPlan(spec) },
      token_unit_cycles: T,
    },
    latency: {
      cycles: latencyCycles,
      formula: `${spec.lanes > 1 ? `ceil(C/${spec.lanes})` : 'C'} − 1 + ${statsStages(spec)} (stats) + ${T} (token unit) + ${elementLatency(spec)} (element ${spec.datapath === 'serial' ? 'unit, serial' : 'pipeline'}), first input beat to first output beat, no stalls; value for the default layer's C = ${spec.channels}`,
    },
    throughput: {
      elements_per_cycle: elementsPerCycle(spec),
      unit: 'output elements per cycle, back-to-back tokens, no stalls',
      condition: spec.datapath === 'serial'
        ? `C / max(C·P, T, (C - 1)·P + ${serialElementPlan(spec).paLast + serialTokenTail(spec)}) for back-to-back tokens of C channels, with P = ${elementPeriod(spec)} cycles an element (the serial element unit), T = ${T} cycles (the one token unit's time per token) and the last term the token unit finishing the next token's scalars after this token's last element has read them (they are not copied): 1/${elementPeriod(spec)} element per cycle when C·P is the largest; value for the default layer's C = ${spec.channels}`
        : spec.lanes === 1
        ? `U·C / max(U·C, T) for back-to-back tokens of C channels, with T = ${T} cycles (the token unit's time per token) and U = ${w.tokenUnits} token unit${w.tokenUnits > 1 ? 's' : ''}: one element per cycle when C ≥ ${Math.ceil(T / w.tokenUnits)}, below that ${w.tokenUnits}·C/${T}; value for the default layer's C = ${spec.channels}`
        : `U tokens of C channels every max(U·ceil(C/lanes), T) cycles (back to back), with lanes = ${spec.lanes}, T = ${T} cycles (the token unit's time per token) and U = ${w.tokenUnits} token unit${w.tokenUnits > 1 ? 's' : ''} (ceil(T / ceil(max_channels/lanes)), at most 2·lanes): ${spec.lanes} elements per cycle when C is a multiple of ${spec.lanes} and ceil(C/${spec.lanes}) ≥ ${Math.ceil(T / w.tokenUnits)}, below that ${w.tokenUnits}·C/${T}; value for the default layer's C = ${spec.channels}`,
    },
    ports: {
      s_cfg_axis: { direction: 'in', tdata: layout.wordWidth, meaning: 'the layer program (program.order); tready only while the block holds no token; tlast on the last word' },
      s_axis: spec.lanes === 1
        ? { direction: 'in', tdata: spec.bits, meaning: 'input codes, C per token in channel order; tlast on channel C − 1 (checked: status_error[1])' }
        : { direction: 'in', tdata: spec.lanes * spec.bits, meaning: `input codes, ${spec.lanes} a beat: channel ${spec.lanes}·b + l of a token in word l of its beat b, ceil(C/${spec.lanes}) beats a token; the words of a partial last beat from lane C mod ${spec.lanes} up are ignored; tlast on the token's last beat (checked: status_error[1])` },
      m_axis: spec.lanes === 1
        ? { direction: 'out', tdata: spec.bits, meaning: 'output codes clamp(y + out_zero_point, 0, 2^bits − 1), C per token; tlast on channel C − 1' }
        : { direction: 'out', tdata: spec.lanes * spec.bits, meaning: `output codes clamp(y + out_zero_point, 0, 2^bits − 1), ${spec.lanes} a beat as on s_axis (0 in the words of a partial last beat from lane C mod ${spec.lanes} up); tlast on the token's last beat` },
    },
    errors: STATUS_ERRORS.map((e, bit) => ({ bit, name: e.name, meaning: e.meaning })),
    program: { ...program.format, file: 'program/default.hex' },
  };
  return manifestJson(manifest);
}
