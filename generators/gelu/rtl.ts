/** RTL emitter of the GELU block: spec -> FileSet of Verilog modules (one per file) and the manifest. */
import type { FileSet } from '../common/files.ts';
import { manifestJson, type BlockManifest } from '../common/manifest.ts';
import { moduleName, moduleNames } from '../common/names.ts';
import { render } from '../common/render.ts';
import { headerComment, hexLiteral } from '../common/verilog.ts';
import { geluProgramFormat } from './program.ts';
import type { GeluSpec } from './spec.ts';

const BASES = ['gelu', 'gelu_search_level'] as const;

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
  const names = moduleNames(spec.prefix, BASES);
  const summary = { block: 'gelu', prefix: spec.prefix, ...p };
  const header = (what: string) => headerComment(what, summary);
  const idx = (v: number) => hexLiteral(d.idxWidth, v);
  const tables = 2 ** p.bits - 1;
  const files: FileSet = new Map();
  files.set(`${names.gelu}.v`, render('gelu/gelu.v', {
    header: header(`${names.gelu}: GELU requantizer, exact, comparisons only, one element per cycle`),
    names,
    bits: p.bits,
    bitsMsb: p.bits - 1,
    accWidth: d.accWidth,
    accMsb: d.accWidth - 1,
    multBits: p.mult_bits,
    zWidth: d.zWidth,
    zMsb: d.zWidth - 1,
    chanWidth: d.chanWidth,
    maxChannels: p.max_channels,
    idxWidth: d.idxWidth,
    flightWidth: d.flightWidth,
    tablesPlusFour: idx(2 * tables + 4),
    idxOne: idx(1),
    idxTwo: idx(2),
    idxFalling: idx(2 + tables),
    idxFallingMinusOne: idx(1 + tables),
    idxChannels: idx(2 + 2 * tables),
    maxChanLast: hexLiteral(d.zWidth, p.max_channels - 1),
  }));
  files.set(`${names.gelu_search_level}.v`, render('gelu/gelu_search_level.v', {
    header: header(`${names.gelu_search_level}: one level of the GELU block's pipelined binary search`),
    names,
  }));
  files.set('manifest.json', manifestJson(geluManifest(spec, [...files.keys()].sort())));
  return files;
}

export function geluManifest(spec: GeluSpec, files: string[]): BlockManifest {
  const p = spec.params;
  const d = spec.derived;
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
      arithmetic: 'z = acc M[c] + B[c] exactly; code = z >= SPLIT ? #{R[k] <= z} : #{N[k] <= -z}; proven equal to clamp(round_half_even(GELU(y) / s_act) + zp_act), y = acc s_a s_w[c] + bias[c] exactly, for every acc in the signed acc_width range, when the program is built',
      rounding: 'half to even (decided exactly by the generator; the hardware only compares)',
      overflow: 'none: |z| stays strictly between the sentinels -2^(z_width - 1) (always) and 2^(z_width - 1) - 1 (never), checked per layer',
    },
    latency: { cycles: d.latency, formula: '2 bits + 4 cycles from an accepted element to its output beat' },
    throughput: { elements_per_cycle: 1, unit: 'element', condition: 'input valid and output ready every cycle, no program loading (measured in test/gelu-rtl.test.ts)' },
    ports: {
      s_cfg_axis: { direction: 'in', tdata: d.zWidth, meaning: 'the layer program (program format); tlast on its last word' },
      s_axis: { direction: 'in', tdata: d.accWidth, meaning: 'signed fc1 accumulator of channel c (channels in order); tlast ends a token' },
      m_axis: { direction: 'out', tdata: p.bits, meaning: 'fc1_act code; tlast as the input' },
    },
    errors: GELU_ERRORS,
    program: { ...geluProgramFormat(spec), file: 'program/default.hex' },
  };
}
