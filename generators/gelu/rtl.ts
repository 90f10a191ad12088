/** RTL emitter of the GELU block: spec -> FileSet of Verilog modules (one per file) and the manifest. */
import { clog2 } from '../common/arith.ts';
import type { FileSet } from '../common/files.ts';
import { laneBlockSummary, laneModule, lanePipelineView } from '../common/lanes.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { CARRY_SEGMENT_BITS, libraryFiles, libraryName } from '../common/library.ts';
import { moduleName, moduleNames } from '../common/names.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral } from '../common/verilog.ts';
import { geluProgramFormat } from './program.ts';
import type { GeluSpec } from './spec.ts';

const BASES = ['gelu', 'gelu_lane', 'gelu_search_level', 'gelu_compare', 'gelu_compare_combine', 'gelu_fifo'] as const;

/** Search levels of at most this many entries are flip-flops rather than block RAM (a 2^bits-entry level fills one). */
export const GELU_LOGIC_ENTRIES = 8;

export function geluTop(spec: GeluSpec): string {
  return moduleName(spec.prefix, 'gelu');
}

export const GELU_ERRORS = [
  { bit: 0, name: 'config_range', meaning: 'a program word out of range for its position (C - 1 >= max_channels, M[c] = 0 or >= 2^mult_bits)' },
  { bit: 1, name: 'config_length', meaning: 'a program of the wrong length (tlast not on word 2 + 2 (2^bits - 1) + 2C - 1); the program is not used' },
  { bit: 2, name: 'no_program', meaning: 'data with no valid program (after reset or a bad program): the elements are taken and dropped' },
  { bit: 3, name: 'token_framing', meaning: 'tlast not on channel C - 1 (or missing there); the channel count restarts after tlast either way' },
];

export function emitGeluRtl(spec: GeluSpec): FileSet {
  const p = spec.params;
  const d = spec.derived;
  const serial = p.datapath === 'serial';
  const names = { ...moduleNames(spec.prefix, BASES), shift_add_step: libraryName('shift_add_step', spec.prefix, 'gelu') };
  const summary = laneBlockSummary('gelu', spec.prefix, p);
  const header = (what: string) => headerComment(what, summary);
  const idx = (v: number) => hexLiteral(d.idxWidth, v);
  const tables = 2 ** p.bits - 1;
  const files: FileSet = new Map();
  files.set(`${names.gelu}.v`, render('gelu/gelu.v', {
    header: header(`${names.gelu}: GELU requantizer, exact, comparisons only, ${p.lanes} element(s) per cycle`),
    names,
    ...lanePipelineView(d, p.lanes, p.max_channels),
    bits: p.bits,
    bitsMsb: p.bits - 1,
    dataInMsb: p.lanes * d.accWidth - 1,
    dataOutMsb: p.lanes * p.bits - 1,
    accWidth: d.accWidth,
    accMsb: d.accWidth - 1,
    multBits: p.mult_bits,
    zWidth: d.zWidth,
    zMsb: d.zWidth - 1,
    idxWidth: d.idxWidth,
    tablesPlusFour: idx(2 * tables + 4),
    idxOne: idx(1),
    idxTwo: idx(2),
    idxFalling: idx(2 + tables),
    idxFallingMinusOne: idx(1 + tables),
    idxChannels: idx(2 + 2 * tables),
  }));
  const lane = laneModule('gelu', 'GELU', names.gelu_lane, p.datapath, d.elementPeriod);
  files.set(`${names.gelu_lane}.v`, render(lane.template, {
    header: header(lane.what),
    names,
    bits: p.bits,
    bitsMsb: p.bits - 1,
    accWidth: d.accWidth,
    accMsb: d.accWidth - 1,
    multBits: p.mult_bits,
    zWidth: d.zWidth,
    zMsb: d.zWidth - 1,
    bankDepth: d.bankDepth,
    bankMsb: d.bankWidth - 1,
    laneLatency: d.laneLatency,
    logicEntries: GELU_LOGIC_ENTRIES,
    segment: CARRY_SEGMENT_BITS,
    segments: d.segments,
    stepWidth: d.stepWidth,
    zAddrWidth: clog2(2 ** (p.bits + 1) + d.bankDepth),
    bankWidth: d.bankWidth,
    zeroCode: hexLiteral(p.bits, 0),
  }));
  // The serial lane compares on its adder and keeps both tables in one memory
  if (!serial) files.set(`${names.gelu_compare}.v`, render('gelu/gelu_compare.v', {
    header: header(`${names.gelu_compare}: signed comparison by segments (short carry chains), a flag pair a segment`),
    names,
  }));
  if (!serial) files.set(`${names.gelu_compare_combine}.v`, render('gelu/gelu_compare_combine.v', {
    header: header(`${names.gelu_compare_combine}: a > b and a == b from the segments' flags`),
    names,
  }));
  if (!serial) files.set(`${names.gelu_search_level}.v`, render('gelu/gelu_search_level.v', {
    header: header(`${names.gelu_search_level}: one level of the GELU block's pipelined binary search`),
    names,
  }));
  // The output FIFO is the library's (templates/lib/fifo.v.hbs), named <prefix>_gelu_fifo
  for (const [path, text] of libraryFiles(serial ? ['fifo'] : ['shift_add_step', 'fifo'], spec.prefix, 'gelu')) files.set(path, text);
  files.set('manifest.json', manifestJson(geluManifest(spec, [...files.keys()].sort())));
  return files;
}

export function geluManifest(spec: GeluSpec, files: string[]): BlockManifest {
  const p = spec.params;
  const d = spec.derived;
  const serial = p.datapath === 'serial';
  return {
    block: 'gelu',
    top: geluTop(spec),
    prefix: spec.prefix,
    files: files.filter((f) => f.endsWith('.v')),
    parameters: [],
    spec: p,
    derived: {
      acc_width: d.accWidth,
      z_width: d.zWidth,
      table_entries: 2 * (2 ** p.bits - 1),
      lanes: p.lanes,
      lane_latency: d.laneLatency,
      output_fifo_beats: d.capacity,
      datapath: p.datapath,
      element_period: d.elementPeriod,
      tables_in_logic: serial
        ? 'both tables (at {falling, k}) and the channels\' B in one memory of z-wide words a lane, M in another; each lane has its own copy'
        : `search levels of at most ${GELU_LOGIC_ENTRIES} entries are flip-flops, larger ones block RAM; each lane has its own copy`,
      carry_segment_bits: CARRY_SEGMENT_BITS,
      arithmetic: (serial
        ? 'z = acc M[c] + B[c] exactly (acc_width shift-and-add steps of one adder, one bit wider than z); code'
        : 'z = acc M[c] + B[c] exactly (shift-and-add, carries deferred by segments); code')
        + ' = z >= SPLIT ? #{R[k] <= z} : #{z <= F[k]} with F[k] = -N[k] (= #{N[k] <= -z}); proven equal to clamp(round_half_even(GELU(y) / s_act) + zp_act), y = acc s_a s_w[c] + bias[c] exactly, for every acc in the signed acc_width range, when the program is built',
      rounding: 'half to even (decided exactly by the generator; the hardware only compares)',
      overflow: 'none: |z| stays strictly between the sentinels -2^(z_width - 1) (always) and 2^(z_width - 1) - 1 (never), checked per layer',
    },
    latency: serial
      ? { cycles: d.latency, formula: 'acc_width + 2 bits + 5 cycles from an accepted beat to its output beat (acc_width + 2 bits + 3 in a lane, 2 through the output FIFO)' }
      : { cycles: d.latency, formula: 'acc_width + segments + 4 bits + 4 cycles from an accepted beat to its output beat (acc_width + segments + 4 bits + 2 in a lane, 2 through the output FIFO; segments = ceil(z_width / ' + CARRY_SEGMENT_BITS + '))' },
    throughput: { elements_per_cycle: p.lanes / d.elementPeriod, unit: 'element', condition: `input valid and output ready every cycle, no program loading, tokens whose C is a multiple of lanes (a partial last beat carries fewer)${serial ? `; a beat every ${d.elementPeriod} cycles (serial lanes)` : ''}; measured in test/gelu-rtl.test.ts` },
    ports: {
      s_cfg_axis: { direction: 'in', tdata: d.zWidth, meaning: 'the layer program (program format); tlast on its last word' },
      s_axis: { direction: 'in', tdata: p.lanes * d.accWidth, meaning: 'signed fc1 accumulators of channels lanes b .. lanes b + lanes - 1 of a token (word l = channel lanes b + l; in a partial last beat the words from lane C mod lanes up are ignored); tlast on the token\'s last beat' },
      m_axis: { direction: 'out', tdata: p.lanes * p.bits, meaning: 'fc1_act codes, word for word (0 in the unused words of a partial last beat); tlast as the input' },
    },
    errors: GELU_ERRORS,
    program: { ...geluProgramFormat(spec), file: 'program/default.hex' },
  };
}
