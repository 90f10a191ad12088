/**
 * Run-time programs. One instance of a block serves every layer: what differs between layers (scale-derived
 * constants, per-channel tables, zero points, bounds) is not built into the netlist but streamed into the block's
 * configuration port `s_cfg_axis` as a program of words, tlast on the last one. The generator computes a layer's
 * program with the same TypeScript the golden model uses (so the words cannot drift), and writes it beside the RTL.
 *
 * Protocol, the same for every block (docs/architecture.md, "Run-time programs"):
 * - A program applies to every row/token whose first beat is accepted after the program's last word.
 * - s_cfg_axis_tready is high only while the block holds no row or token (everything accepted has been output), so a
 *   program never changes constants under data in flight; while a program is partly loaded, s_axis_tready is low.
 * - A word the block cannot take (an address or value out of range, a program of the wrong length) sets the block's
 *   configuration error bit in `status_error`; data after a bad or missing program also sets an error bit.
 * - rst forgets the program: a program is loaded after every reset.
 */
import type { FileSet } from './files.ts';
import type { Beat } from './sim.ts';
import { hexWord, jsonBigint } from './verilog.ts';

/** One field of a configuration word: bits [lsb + width - 1 : lsb]. */
export interface ProgramField {
  name: string;
  lsb: number;
  width: number;
  meaning: string;
}

/** The layout of a block's configuration words; written into the manifest. */
export interface ProgramFormat {
  /** s_cfg_axis_tdata width. */
  wordWidth: number;
  fields: ProgramField[];
  /** How the words of one program are ordered, in a sentence or two. */
  order: string;
}

/** One layer's program. */
export interface Program {
  format: ProgramFormat;
  words: bigint[];
  /** What the words encode, by name, for people and for the JSON file (not read by the hardware). */
  values: Record<string, unknown>;
}

/** A word from field values by name; a value that does not fit its field is a bug of the caller (it validated). */
export function packWord(format: ProgramFormat, values: Record<string, bigint | number>): bigint {
  let word = 0n;
  for (const f of format.fields) {
    const v = BigInt(values[f.name] ?? 0);
    if (v < 0n || v >= 1n << BigInt(f.width)) throw new Error(`program field ${f.name} = ${v} does not fit ${f.width} bits`);
    word |= v << BigInt(f.lsb);
  }
  return word;
}

/** The program as configuration-stream beats, tlast on the last word; `epoch` orders it against data streams. */
export function programBeats(program: Program, epoch?: number): Beat[] {
  return program.words.map((data, i) => ({ data, last: i === program.words.length - 1, ...(epoch === undefined ? {} : { epoch }) }));
}

/**
 * The files of a program: `<name>.hex` ($readmemh, one word per line, tlast implied on the last) and `<name>.json`
 * (the words as hex strings, the field layout and the values they encode).
 */
export function programFiles(path: string, program: Program): FileSet {
  const { wordWidth } = program.format;
  const hex = program.words.map((w) => hexWord(wordWidth, w));
  return new Map([
    [`${path}.hex`, hex.join('\n') + '\n'],
    [`${path}.json`, JSON.stringify({ format: program.format, words: hex, values: program.values }, jsonBigint, 2) + '\n'],
  ]);
}
