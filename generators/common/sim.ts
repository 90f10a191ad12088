/**
 * Stream simulation shared by every block: a block describes its DUT as a SimHarness (module, parameters, input
 * streams with their beats, the output stream); this module emits the testbench and stimulus files, runs the
 * simulator, and returns the output beats with their cycle numbers. Comparing them with the golden model is the
 * block's job, in TypeScript.
 */
import { execa } from 'execa';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileSet } from './files.ts';
import { render } from './render.ts';
import { headerComment, hexWord } from './verilog.ts';

export interface Beat {
  data: bigint;
  last: boolean;
}

export interface StreamPort {
  /** Port prefix on the DUT, e.g. `s_axis` or `s_act_axis`. */
  prefix: string;
  /** tdata width in bits. */
  width: number;
}

export interface SimHarness {
  /** Module name of the DUT. */
  dut: string;
  /** Parameter overrides, as Verilog expressions, in the order written. */
  params: Array<{ name: string; value: string | number }>;
  /** The DUT's Verilog files (every path ending in `.v` is compiled). */
  rtl: FileSet;
  inputs: Array<StreamPort & { beats: Beat[] }>;
  output: StreamPort & { expectedBeats: number };
  /** Upper bound on the cycles the run may take with no stalls; scaled up for stalls. */
  maxCycles: number;
}

export interface SimOptions {
  /** Chance in percent that a source withholds a beat or the sink is not ready, per cycle. */
  stallPercent?: number;
  /** Seed of the stall pattern. */
  seed?: number;
  /** Dump a VCD waveform (wave.vcd in the work folder). */
  vcd?: boolean;
}

export interface SimBeat extends Beat {
  cycle: number;
}

export interface SimResult {
  beats: SimBeat[];
  /** Cycle at which each input stream's first beat was accepted. */
  firstInput: Record<string, number>;
  /** Cycle at which the testbench stopped. */
  doneCycle: number;
  timedOut: boolean;
  workDir: string;
}

const tbDir = fileURLToPath(new URL('../../tb/', import.meta.url));
export const TB_LIBRARY = ['axis_source.v', 'axis_sink.v'];
export const TB_NAME = 'tb_top';

/** Cycles the testbench keeps running after the last expected beat, to catch extra output. */
const DRAIN_CYCLES = 64;

/** Testbench, stream library and stimulus files for a harness, relative to a run folder. */
export function emitTestbench(harness: SimHarness, options: SimOptions = {}): FileSet {
  const stallPercent = options.stallPercent ?? 0;
  const seed = options.seed ?? 1;
  const files: FileSet = new Map();
  const inputs = harness.inputs.map((input, i) => {
    if (input.beats.length === 0) throw new Error(`stream ${input.prefix} has no beats`);
    const file = `vectors/${input.prefix}.hex`;
    files.set(file, input.beats.map((b) => hexWord(input.width + 1, (b.last ? 1n << BigInt(input.width) : 0n) | b.data)).join('\n') + '\n');
    return { ...input, msb: input.width - 1, count: input.beats.length, file, stallPercent, seed: streamSeed(seed, i + 1) };
  });
  const stallFactor = stallPercent > 0 ? Math.ceil(100 / (100 - stallPercent)) * 2 : 1;
  const view = {
    header: headerComment(`Testbench for ${harness.dut}`, { dut: harness.dut, params: harness.params, stallPercent, seed }),
    name: TB_NAME,
    dut: harness.dut,
    params: harness.params,
    inputs,
    output: {
      ...harness.output,
      msb: harness.output.width - 1,
      count: Math.max(1, harness.output.expectedBeats),
      file: 'output.txt',
      stallPercent,
      seed: streamSeed(seed, 0),
    },
    drainCycles: DRAIN_CYCLES,
    timeoutNs: (harness.maxCycles * stallFactor + 1000) * 10,
    vcdFile: 'wave.vcd',
  };
  files.set(`tb/${TB_NAME}.v`, render('tb_top.v', view));
  for (const lib of TB_LIBRARY) files.set(`tb/${lib}`, readFileSync(join(tbDir, lib), 'utf8'));
  return files;
}

/** Distinct, non-zero seeds per stream, derived from one user seed. */
function streamSeed(seed: number, stream: number): number {
  return ((seed * 2654435761 + stream * 40503) >>> 0) || 1;
}

/** Writes the harness into `workDir`, simulates it with Icarus Verilog and parses the output beats. */
export async function simulate(harness: SimHarness, workDir: string, options: SimOptions = {}): Promise<SimResult> {
  await ensureIcarus();
  const files: FileSet = new Map([...harness.rtl].map(([p, t]) => [`rtl/${p}`, t]));
  for (const [p, t] of emitTestbench(harness, options)) files.set(p, t);
  for (const [path, text] of files) {
    mkdirSync(dirname(join(workDir, path)), { recursive: true });
    writeFileSync(join(workDir, path), text);
  }
  const sources = [...files.keys()].filter((p) => p.endsWith('.v')).sort();
  await execa('iverilog', ['-g2005', '-Wall', '-Wno-timescale', '-o', 'sim.vvp', '-s', TB_NAME, ...sources], { cwd: workDir });
  const run = await execa('vvp', ['-n', 'sim.vvp', ...(options.vcd ? ['+vcd'] : [])], { cwd: workDir });
  return parseRun(run.stdout, readFileSync(join(workDir, 'output.txt'), 'utf8'), harness.output.width, workDir);
}

function parseRun(stdout: string, output: string, width: number, workDir: string): SimResult {
  const firstInput: Record<string, number> = {};
  let doneCycle = -1;
  let timedOut = false;
  for (const line of stdout.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'FIRST_IN') firstInput[words[1]!] = Number(words[2]);
    else if (words[0] === 'DONE') doneCycle = Number(words[1]);
    else if (words[0] === 'TIMEOUT') { timedOut = true; doneCycle = Number(words[1]); }
  }
  const beats = output.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const [cycle, hex] = line.trim().split(/\s+/);
    if (!/^[0-9a-f]+$/i.test(hex ?? '')) throw new Error(`simulation wrote an undefined output (x or z): ${line}`);
    const word = BigInt(`0x${hex}`);
    return { cycle: Number(cycle), data: word & ((1n << BigInt(width)) - 1n), last: (word >> BigInt(width)) === 1n };
  });
  return { beats, firstInput, doneCycle, timedOut, workDir };
}

let icarusChecked: Promise<void> | undefined;

/**
 * Makes sure Icarus Verilog is on PATH: installs Debian's package when running as root, and otherwise fails with one
 * line saying how to install it.
 */
export function ensureIcarus(): Promise<void> {
  icarusChecked ??= ensureDebianTool('iverilog', 'iverilog', 'Icarus Verilog');
  return icarusChecked;
}

export async function ensureDebianTool(command: string, debPackage: string, what: string): Promise<void> {
  if (await onPath(command)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${what} (${command}) is not installed: run \`sudo apt-get install ${debPackage}\``);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await execa('apt-get', ['update', '-qq'], { env });
  await execa('apt-get', ['install', '-y', '-qq', debPackage], { env });
  if (!(await onPath(command))) throw new Error(`${what} (${command}) is still missing after apt-get install ${debPackage}`);
}

async function onPath(command: string): Promise<boolean> {
  const r = await execa('sh', ['-c', `command -v ${command}`], { reject: false });
  return r.exitCode === 0;
}

export interface BeatComparison {
  mismatches: number;
  /** Human-readable description of the first difference, or undefined when equal. */
  first?: string;
}

/**
 * Compares output beats with the golden model's, element by element (tdata and tlast); a missing or extra beat
 * counts as a mismatch. `describe` names an element by its index (for the first-difference message).
 */
export function compareBeats(expected: Beat[], actual: Beat[], describe: (index: number) => string = (i) => `beat ${i}`): BeatComparison {
  let mismatches = Math.abs(expected.length - actual.length);
  let first: string | undefined;
  if (expected.length !== actual.length) first = `expected ${expected.length} beats, RTL produced ${actual.length}`;
  for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (e.data !== a.data || e.last !== a.last) {
      mismatches++;
      first ??= `${describe(i)}: expected data 0x${e.data.toString(16)} last ${Number(e.last)}, RTL gave 0x${a.data.toString(16)} last ${Number(a.last)}`;
    }
  }
  return { mismatches, first };
}
