/** RTL emitter of the residual block: spec -> FileSet of Verilog modules (one per file) and the manifest. */
import type { FileSet } from '../common/files.ts';
import { laneBlockSummary, laneModule, lanePipelineView } from '../common/lanes.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { CARRY_SEGMENT_BITS, libraryFiles, libraryName } from '../common/library.ts';
import { moduleName, moduleNames } from '../common/names.ts';
import { render } from '../common/render.ts';
import { unsignedWidth } from '../common/arith.ts';
import { headerComment, hexLiteral, zeroExtend } from '../common/verilog.ts';
import { residualProgramFormat } from './program.ts';
import { RESIDUAL_HEADER_WORDS, type ResidualSpec } from './spec.ts';

const BASES = ['residual', 'residual_lane', 'residual_div_step', 'residual_fifo'] as const;

export function residualTop(spec: ResidualSpec): string {
  return moduleName(spec.prefix, 'residual');
}

export const RESIDUAL_ERRORS = [
  { bit: 0, name: 'config_range', meaning: 'a program word out of range for its position (C - 1 >= max_channels, a zero point >= 2^bits, a constant >= 2^const_bits, O\' = 0, an alpha word above 15)' },
  { bit: 1, name: 'config_length', meaning: 'a program of the wrong length (tlast not on word 8 + C - 1); the program is not used' },
  { bit: 2, name: 'no_program', meaning: 'data with no valid program (after reset or a bad program): the elements are taken and dropped' },
  { bit: 3, name: 'token_framing', meaning: 'x tlast not on channel C - 1 (or missing there), or x and y tlast differ; the channel count restarts after tlast either way' },
];

/**
 * The program word's bits cut into chunks for its range checks: every check asks whether the bits from one of
 * `starts` up are all zero (or the whole word), so chunks break at those bits and every CHUNK_BITS between. A chunk's
 * nonzero flag is registered as the word is taken (an OR of at most 16 bits: two LUT levels); a check is then an OR
 * of a few flags, so neither cycle holds a 70-bit OR tree.
 */
const CHUNK_BITS = 16;

export function wordChunks(width: number, starts: readonly number[]): { chunks: Array<{ lo: number; hi: number }>; first: (start: number) => number } {
  const cuts = new Set([0, width]);
  for (let b = CHUNK_BITS; b < width; b += CHUNK_BITS) cuts.add(b);
  for (const b of starts) if (b > 0 && b < width) cuts.add(b);
  const sorted = [...cuts].sort((a, b) => a - b);
  const chunks = sorted.slice(1).map((hi, i) => ({ lo: sorted[i]!, hi: hi - 1 }));
  return { chunks, first: (start) => chunks.findIndex((c) => c.lo >= start) };
}

/**
 * A serial lane's memory: its channels' alphas at their bank addresses, then from `constBase` the pieces of K, Y', X'
 * and O' (`constPieces` each, most significant first, in the order the lane reads them).
 */
function serialLaneMemory(spec: ResidualSpec): { depth: number; addrWidth: number; constBase: number; slot: Record<'k' | 'y' | 'x' | 'o', number> } {
  const d = spec.derived;
  const pieces = d.constPieces;
  const depth = d.bankDepth + 4 * pieces;
  const constBase = d.bankDepth;
  return { depth, addrWidth: unsignedWidth(depth - 1), constBase, slot: { k: constBase, y: constBase + pieces, x: constBase + 2 * pieces, o: constBase + 3 * pieces } };
}

export function emitResidualRtl(spec: ResidualSpec): FileSet {
  const p = spec.params;
  const d = spec.derived;
  const serial = p.datapath === 'serial';
  const names = { ...moduleNames(spec.prefix, BASES), shift_add_step: libraryName('shift_add_step', spec.prefix, 'residual') };
  const summary = laneBlockSummary('residual', spec.prefix, p);
  const header = (what: string) => headerComment(what, summary);
  const idx = (v: number) => hexLiteral(d.idxWidth, v);
  const files: FileSet = new Map();
  const word = wordChunks(d.cfgWidth, [4, p.bits, d.chanWidth, p.const_bits]);
  const memory = serialLaneMemory(spec);
  const ramHex = (v: number) => hexLiteral(memory.addrWidth, v);
  // The flags from a check's first chunk up (every start is below the word's width, so each has at least one).
  const above = (start: number) => `chunk_nz_reg[${word.chunks.length - 1}:${word.first(start)}]`;
  files.set(`${names.residual}.v`, render('residual/residual.v', {
    chunkCount: word.chunks.length,
    chunks: word.chunks,
    aboveAlpha: above(4),
    aboveBits: above(p.bits),
    aboveChan: above(d.chanWidth),
    aboveConst: above(p.const_bits),
    header: header(`${names.residual}: residual add with PTF requantization, exact, ${p.lanes} element(s) per cycle`),
    names,
    ...lanePipelineView(d, p.lanes, p.max_channels),
    bits: p.bits,
    bitsMsb: p.bits - 1,
    dataMsb: p.lanes * p.bits - 1,
    constBits: p.const_bits,
    cfgWidth: d.cfgWidth,
    cfgMsb: d.cfgWidth - 1,
    idxWidth: d.idxWidth,
    headerMinusOne: idx(RESIDUAL_HEADER_WORDS - 1),
    idxHeader: idx(RESIDUAL_HEADER_WORDS),
    idx1: idx(1), idx2: idx(2), idx3: idx(3), idx4: idx(4), idx5: idx(5), idx6: idx(6), idx7: idx(7),
    // Serial: a constant word is written from s_cfg_axis a piece a clock, most significant first; the word register
    // keeps the low bits of the other words' fields (the channel count, the zero points, an alpha's 4 bits)
    lowWidth: Math.min(d.cfgWidth, Math.max(4, p.bits, d.chanWidth)),
    pieceOne: hexLiteral(unsignedWidth(d.constPieces), 1),
    wordMsb: 16 * d.constPieces - 1,
    wordLoad: zeroExtend('s_cfg_axis_tdata', d.cfgWidth, 16 * d.constPieces),
    constPieces: d.constPieces,
    pieceCountWidth: unsignedWidth(d.constPieces),
    ramAddrWidth: memory.addrWidth,
    alphaAddrExtended: zeroExtend('alpha_bank[BANK_WIDTH-1:0]', d.bankWidth, memory.addrWidth),
    slotX: ramHex(memory.slot.x), slotY: ramHex(memory.slot.y), slotO: ramHex(memory.slot.o), slotK: ramHex(memory.slot.k),
  }));
  const lane = laneModule('residual', 'residual', names.residual_lane, p.datapath, d.elementPeriod);
  files.set(`${names.residual_lane}.v`, render(lane.template, {
    header: header(lane.what),
    names,
    bits: p.bits,
    bitsMsb: p.bits - 1,
    zeroCode: hexLiteral(p.bits, 0),
    constBits: p.const_bits,
    constMsb: p.const_bits - 1,
    cfgWidth: d.cfgWidth,
    cfgMsb: d.cfgWidth - 1,
    nWidth: d.nWidth,
    bankDepth: d.bankDepth,
    bankMsb: d.bankWidth - 1,
    laneLatency: d.laneLatency,
    chainStages: 2 * p.bits + 5,
    segment: CARRY_SEGMENT_BITS,
    nSegments: d.nSegments,
    divSegments: d.divSegments,
    satSegments: d.satSegments,
    stepWidth: d.stepWidth,
    elementPeriod: d.elementPeriod,
    constPieces: d.constPieces,
    stepMulY: d.stepMulY,
    ramDepth: memory.depth,
    ramAddrWidth: memory.addrWidth,
    ramMsb: memory.addrWidth - 1,
    constBase: ramHex(memory.constBase),
    rdAddrExtended: zeroExtend('rd_addr', d.bankWidth, memory.addrWidth),
  }));
  if (!serial) {
    files.set(`${names.residual_div_step}.v`, render('residual/residual_div_step.v', {
      header: header(`${names.residual_div_step}: one restoring-division step of the residual block`),
      names,
    }));
  }
  // The output FIFO is the library's (templates/lib/fifo.v.hbs), named <prefix>_residual_fifo
  for (const [path, text] of libraryFiles(serial ? ['fifo'] : ['shift_add_step', 'fifo'], spec.prefix, 'residual')) files.set(path, text);
  files.set('manifest.json', manifestJson(residualManifest(spec, [...files.keys()].sort())));
  return files;
}

export function residualManifest(spec: ResidualSpec, files: string[]): BlockManifest {
  const p = spec.params;
  const d = spec.derived;
  const serial = p.datapath === 'serial';
  return {
    block: 'residual',
    top: residualTop(spec),
    prefix: spec.prefix,
    files: files.filter((f) => f.endsWith('.v')),
    parameters: [],
    spec: p,
    derived: {
      cfg_width: d.cfgWidth,
      n_width: d.nWidth,
      remainder_width: d.remWidth,
      carry_segment_bits: CARRY_SEGMENT_BITS,
      lanes: p.lanes,
      lane_latency: d.laneLatency,
      output_fifo_beats: d.capacity,
      datapath: p.datapath,
      element_period: d.elementPeriod,
      arithmetic: serial
        ? 'exact: n = 2 (x - zp_x) X\' 2^ax + 2 (y - zp_y) Y\' + (2 zp_out + 1) O\' 2^ao by 2 bits + 7 shift-and-add steps of one adder (the constants read from the lane\'s memory in 16-bit pieces), out = clamp(round_half_even(n / (2 O\' 2^ao))) by bits + 1 restoring-division steps of n by O\' 2^(ao + 1 + bits - s) on the same adder (the first is the saturation)'
        : 'exact: n = 2 (x - zp_x) X\' 2^ax + 2 (y - zp_y) Y\' + (2 zp_out + 1) O\' 2^ao by a shift-and-add chain (one carry chain per stage), m = n >> (ao + 1), out = clamp(round_half_even(n / (2 O\' 2^ao))) by saturation and bits restoring-division steps of m by O\'',
      rounding: 'half to even (a tie is a zero remainder; q - 1 when q - zp_out is odd)',
      overflow: 'none: every width holds its largest value; the output saturates to 0 and 2^bits - 1 (the clamp)',
    },
    latency: serial
      ? { cycles: d.latency, formula: 'element_period + 3 cycles from an accepted beat to its output beat (element_period + 1 in a lane, 2 through the output FIFO); a lane\'s element_period is 4 bits + 4 P + 14 clocks (3 P + 4 bits + 18 when P < 4), P = ceil((const_bits + bits + 4) / 16) the 16-bit pieces of each constant it reads from its memory' }
      : { cycles: d.latency, formula: '4 bits + segments + 13 cycles from an accepted beat to its output beat (4 bits + segments + 11 in a lane, 2 through the output FIFO; segments = ceil(n_width / ' + CARRY_SEGMENT_BITS + '))' },
    throughput: { elements_per_cycle: p.lanes / d.elementPeriod, unit: 'element (x, y pair)', condition: `x and y valid and the output ready every cycle, no program loading, tokens whose C is a multiple of lanes (a partial last beat carries fewer)${serial ? `; a beat every ${d.elementPeriod} cycles (serial lanes)` : ''}; measured in test/residual-rtl.test.ts` },
    ports: {
      s_cfg_axis: { direction: 'in', tdata: d.cfgWidth, meaning: 'the layer program (program format); tlast on its last word' },
      s_x_axis: { direction: 'in', tdata: p.lanes * p.bits, meaning: 'x codes of channels lanes b .. lanes b + lanes - 1 of a token (word l = channel lanes b + l; in a partial last beat the words from lane C mod lanes up are ignored); tlast on the token\'s last beat' },
      s_y_axis: { direction: 'in', tdata: p.lanes * p.bits, meaning: 'y codes, word for word with x; tlast as x' },
      m_axis: { direction: 'out', tdata: p.lanes * p.bits, meaning: 'output codes, word for word with x (0 in the unused words of a partial last beat); tlast as x' },
    },
    errors: RESIDUAL_ERRORS,
    program: { ...residualProgramFormat(spec), file: 'program/default.hex' },
  };
}
