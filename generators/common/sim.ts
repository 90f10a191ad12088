/**
 * Stream simulation shared by every block: a block describes its DUT as a SimHarness (module, parameters, input
 * streams with their beats, the output stream); this module emits the testbench and stimulus files, runs the
 * simulator, and returns the output beats with their cycle numbers. Comparing them with the golden model is the
 * block's job, in TypeScript.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileSet } from './files.ts';
import { render } from './render.ts';
import { headerComment, hexWord } from './verilog.ts';

export interface Beat {
  data: bigint;
  last: boolean;
  /**
   * Input streams only: the beat is presented once every stream has had all its beats of lower epochs accepted
   * (default 0). Orders streams against each other, e.g. a program (epoch 2k) before the rows that use it (2k + 1).
   */
  epoch?: number;
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
  /**
   * The output stream; with `expected` (the golden model's beats) the testbench also checks itself: it prints
   * `PASS <n> outputs` or the first `FAIL`, so it runs standalone from its Makefile.
   */
  output: StreamPort & { expectedBeats: number; expected?: Beat[] };
  /** Upper bound on the cycles the run may take with no stalls; scaled up for stalls. */
  maxCycles: number;
  /** Width of the DUT's sticky `status_error` output, when it has one: the run reports its final value. */
  statusWidth?: number;
}

/** The simulators the harness runs on; both see the same testbench and the same (xorshift) stall pattern. */
export const SIMULATORS = ['icarus', 'verilator'] as const;
export type Simulator = (typeof SIMULATORS)[number];

/**
 * A second reset in the middle of the stream. "Nothing lost or duplicated" is then checked as: the output logged
 * after the reset equals the golden model on the input streams replayed from `restartAt` (beat index per stream
 * prefix, default 0), and `output.expectedBeats` counts those beats.
 */
export interface MidReset {
  /** Cycle (as counted by the testbench from time 0) of the first rising edge that sees rst high. */
  cycle: number;
  /** Rising edges rst stays high for. @default 3 */
  cycles?: number;
  /** Beat index each input stream replays from after the reset, by stream prefix. @default 0 for every stream */
  restartAt?: Record<string, number>;
}

export interface SimOptions {
  /** Chance in percent that a source withholds a beat or the sink is not ready, per cycle. */
  stallPercent?: number;
  /** The sink's own chance in percent of not being ready (back-pressure tests: a slow reader). @default stallPercent */
  sinkStallPercent?: number;
  /** Seed of the stall pattern. */
  seed?: number;
  /** Dump a VCD waveform (wave.vcd in the work folder). */
  vcd?: boolean;
  /** Simulator to run the testbench on. @default 'icarus' */
  simulator?: Simulator;
  /** Optional reset in the middle of the stream (see MidReset). */
  midReset?: MidReset;
}

export interface SimBeat extends Beat {
  cycle: number;
}

export interface SimResult {
  /** Output beats, in order; with a mid-stream reset, only those accepted after it. */
  beats: SimBeat[];
  /** With a mid-stream reset: the output beats accepted before it (empty otherwise). */
  beatsBeforeReset: SimBeat[];
  /** Whether each input stream (by prefix) had every beat accepted when the testbench stopped. */
  inputsConsumed: Record<string, boolean>;
  /** Cycle at which each input stream's first beat was accepted. */
  firstInput: Record<string, number>;
  /** Cycle at which the testbench stopped. */
  doneCycle: number;
  /** The DUT's status_error at the end of the run, and the cycle it first became non-zero (harness.statusWidth). */
  statusError?: bigint;
  statusErrorCycle?: number;
  timedOut: boolean;
  workDir: string;
}

/** Where the testbench reads the expected output beats from, relative to the block folder (self-checking runs). */
export const EXPECTED_FILE = 'vectors/expected.hex';

const tbDir = fileURLToPath(new URL('../../tb/', import.meta.url));
export const TB_LIBRARY = ['axis_source.v', 'axis_sink.v'];
export const TB_NAME = 'tb_top';

/** Cycles the testbench keeps running after the last expected beat, to catch extra output. */
const DRAIN_CYCLES = 64;
/** Rising edges with rst high at the start of every run. */
export const RESET_CYCLES = 4;
const MID_RESET_CYCLES = 3;

/** Testbench, stream library and stimulus files for a harness, relative to a run folder. */
export function emitTestbench(harness: SimHarness, options: SimOptions = {}): FileSet {
  const stallPercent = options.stallPercent ?? 0;
  const sinkStallPercent = options.sinkStallPercent ?? stallPercent;
  for (const [name, value] of [['stallPercent', stallPercent], ['sinkStallPercent', sinkStallPercent]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 99) throw new Error(`${name} must be an integer from 0 to 99 (got ${value})`);
  }
  const seed = options.seed ?? 1;
  const files: FileSet = new Map();
  const inputs = harness.inputs.map((input, i) => {
    if (input.beats.length === 0) throw new Error(`stream ${input.prefix} has no beats`);
    const file = `vectors/${input.prefix}.hex`;
    files.set(file, stimulusHex(input.width, input.beats));
    const restartIndex = options.midReset?.restartAt?.[input.prefix] ?? 0;
    if (!Number.isInteger(restartIndex) || restartIndex < 0 || restartIndex >= input.beats.length) {
      throw new Error(`midReset.restartAt.${input.prefix} must be a beat index from 0 to ${input.beats.length - 1} (got ${restartIndex})`);
    }
    return { ...input, msb: input.width - 1, count: input.beats.length, file, stallPercent, seed: streamSeed(seed, i + 1), restartIndex };
  });
  for (const prefix of Object.keys(options.midReset?.restartAt ?? {})) {
    if (!harness.inputs.some((input) => input.prefix === prefix)) throw new Error(`midReset.restartAt names no input stream: ${prefix}`);
  }
  const midReset = midResetView(options.midReset);
  const expected = midReset ? undefined : harness.output.expected;
  if (expected && expected.length !== harness.output.expectedBeats) throw new Error(`output.expected has ${expected.length} beats, expectedBeats says ${harness.output.expectedBeats}`);
  if (expected) files.set(EXPECTED_FILE, beatsHex(harness.output.width, expected));
  const worstStall = Math.max(stallPercent, sinkStallPercent);
  const stallFactor = worstStall > 0 ? Math.ceil(100 / (100 - worstStall)) * 2 : 1;
  const view = {
    header: headerComment(`Testbench for ${harness.dut}`, { dut: harness.dut, params: harness.params, stallPercent, ...(sinkStallPercent === stallPercent ? {} : { sinkStallPercent }), seed }),
    name: TB_NAME,
    dut: harness.dut,
    params: harness.params,
    inputs,
    output: {
      ...harness.output,
      msb: harness.output.width - 1,
      count: Math.max(1, harness.output.expectedBeats),
      file: 'output.txt',
      stallPercent: sinkStallPercent,
      seed: streamSeed(seed, 0),
      check: expected ? 1 : 0,
      expectFile: EXPECTED_FILE,
    },
    status: harness.statusWidth === undefined ? undefined : { width: harness.statusWidth, msb: harness.statusWidth - 1 },
    epochWidth: EPOCH_WIDTH,
    epochMsb: EPOCH_WIDTH - 1,
    drainCycles: DRAIN_CYCLES,
    resetCycles: RESET_CYCLES,
    midReset,
    timeoutCycles: harness.maxCycles * stallFactor + 1000 + (midReset?.end ?? 0),
    vcdFile: 'wave.vcd',
  };
  files.set(`tb/${TB_NAME}.v`, render('tb_top.v', view));
  for (const lib of TB_LIBRARY) files.set(`tb/${lib}`, readFileSync(join(tbDir, lib), 'utf8'));
  const sources = [...[...harness.rtl.keys()].filter((p) => p.endsWith('.v')).sort().map((p) => `rtl/${p}`), `tb/${TB_NAME}.v`, ...TB_LIBRARY.map((l) => `tb/${l}`)];
  files.set('tb/files.f', sources.join('\n') + '\n');
  files.set('tb/Makefile', render('tb_makefile', { tb: TB_NAME, dut: harness.dut, selfCheck: expected !== undefined, verilatorFlags: VERILATOR_BINARY_FLAGS.join(' ') }));
  return files;
}

function midResetView(midReset: MidReset | undefined): { cycle: number; cycles: number; end: number } | undefined {
  if (!midReset) return undefined;
  const cycles = midReset.cycles ?? MID_RESET_CYCLES;
  if (!Number.isInteger(midReset.cycle) || midReset.cycle <= RESET_CYCLES) {
    throw new Error(`midReset.cycle must be an integer after the initial reset (> ${RESET_CYCLES}); got ${midReset.cycle}`);
  }
  if (!Number.isInteger(cycles) || cycles < 1) throw new Error(`midReset.cycles must be a positive integer; got ${cycles}`);
  return { cycle: midReset.cycle, cycles, end: midReset.cycle + cycles };
}

/** Beats as a $readmemh file: one {tlast, tdata} word per line, tdata `width` bits wide (stimulus and expected output). */
export function beatsHex(width: number, beats: readonly Beat[]): string {
  return beats.map((b) => hexWord(width + 1, (b.last ? 1n << BigInt(width) : 0n) | b.data)).join('\n') + '\n';
}

/** Bits of a stimulus word above {tlast, tdata} that hold the beat's epoch. */
export const EPOCH_WIDTH = 16;

/** Stimulus as a $readmemh file: one {epoch, tlast, tdata} word per line (the source's format). */
export function stimulusHex(width: number, beats: readonly Beat[]): string {
  return beats.map((b) => {
    const epoch = b.epoch ?? 0;
    if (!Number.isInteger(epoch) || epoch < 0 || epoch >= 2 ** EPOCH_WIDTH - 1) throw new Error(`beat epoch must be an integer from 0 to ${2 ** EPOCH_WIDTH - 2} (got ${epoch})`);
    return hexWord(width + 1 + EPOCH_WIDTH, (BigInt(epoch) << BigInt(width + 1)) | (b.last ? 1n << BigInt(width) : 0n) | b.data);
  }).join('\n') + '\n';
}

/** Distinct, non-zero seeds per stream, derived from one user seed. */
function streamSeed(seed: number, stream: number): number {
  return ((seed * 2654435761 + stream * 40503) >>> 0) || 1;
}

/**
 * Writes the harness into `workDir`, simulates it (Icarus Verilog by default, or Verilator) and parses the output
 * beats. With `options.midReset`, `beats` holds only the beats accepted after the mid-stream reset.
 */
export async function simulate(harness: SimHarness, workDir: string, options: SimOptions = {}): Promise<SimResult> {
  const simulator = options.simulator ?? 'icarus';
  if (!(SIMULATORS as readonly string[]).includes(simulator)) throw new Error(`simulator must be one of ${SIMULATORS.join(', ')} (got ${simulator})`);
  const files: FileSet = new Map([...harness.rtl].map(([p, t]) => [`rtl/${p}`, t]));
  for (const [p, t] of emitTestbench(harness, options)) files.set(p, t);
  for (const [path, text] of files) {
    mkdirSync(dirname(join(workDir, path)), { recursive: true });
    writeFileSync(join(workDir, path), text);
  }
  const sources = [...files.keys()].filter((p) => p.endsWith('.v')).sort();
  const plusargs = options.vcd ? ['+vcd'] : [];
  let stdout: string;
  if (simulator === 'icarus') {
    await ensureIcarus();
    await execa('iverilog', ['-g2005', '-Wall', '-Wno-timescale', '-o', 'sim.vvp', '-s', TB_NAME, ...sources], { cwd: workDir });
    stdout = (await execa('vvp', ['-n', 'sim.vvp', ...plusargs], { cwd: workDir })).stdout;
  } else {
    await ensureVerilator();
    await buildVerilator(workDir, sources, options.vcd === true);
    stdout = (await execa(join(workDir, 'obj_dir', `V${TB_NAME}`), plusargs, { cwd: workDir })).stdout;
  }
  const result = parseRun(stdout, readFileSync(join(workDir, 'output.txt'), 'utf8'), harness.output.width, workDir);
  if (!options.midReset) return result;
  const cut = options.midReset.cycle;
  return { ...result, beats: result.beats.filter((b) => b.cycle >= cut), beatsBeforeReset: result.beats.filter((b) => b.cycle < cut) };
}

/**
 * Verilator builds the testbench as a binary with its timing support (delays, `wait`). The build is for simulation
 * only: warnings are not fatal here because lint has its own, stricter check (generators/common/lint.ts); -O1 keeps
 * the C++ compile short, which dominates on the vector sets of a test. These are `--binary` spelled out without
 * `--build`, so that make runs here, after the runtime is put in place (buildVerilator).
 */
const VERILATOR_OPTIONS = ['--timing', '-Wno-fatal', '-Wno-lint', '-Wno-style', '--quiet-exit'];
const VERILATOR_FLAGS = ['--cc', '--exe', '--main', ...VERILATOR_OPTIONS];
const VERILATOR_MAKE_VARIABLES = ['OPT_FAST=-O1', 'OPT_SLOW=-O0', 'OPT_GLOBAL=-O1'];
/** The same build as one `verilator --binary` command line, for the standalone testbench's Makefile. */
const VERILATOR_BINARY_FLAGS = ['--binary', ...VERILATOR_OPTIONS, '-j', '2'];

/**
 * Verilates the testbench into `workDir/obj_dir` and makes the binary. Verilator's runtime (verilated.o,
 * verilated_threads.o, verilated_timing.o: its "global" classes) is the same object code for every design built by
 * the same Verilator and compiler with the same flags, and compiling it is most of a small design's build (about 6
 * of its 8 CPU seconds). So it is compiled once per key into a folder under the system's temporary folder and copied
 * into each obj_dir after verilating, where make finds it newer than its sources and its makefile and links it as it is.
 */
async function buildVerilator(workDir: string, sources: string[], trace: boolean): Promise<void> {
  const flags = [...VERILATOR_FLAGS, ...(trace ? ['--trace'] : [])];
  await execa('verilator', [...flags, '--top-module', TB_NAME, '-Mdir', 'obj_dir', ...sources], { cwd: workDir });
  const objDir = join(workDir, 'obj_dir');
  const classes = readFileSync(join(objDir, `V${TB_NAME}_classes.mk`), 'utf8');
  const runtime = [...classes.matchAll(/^VM_GLOBAL_(?:FAST|SLOW) \+= \\\n((?:\t\S+ \\\n)*)/gm)]
    .flatMap((m) => m[1]!.split('\n').map((l) => l.trim().replace(/ \\$/, '')).filter((name) => name !== ''))
    .map((name) => `${name}.o`);
  const cache = join(tmpdir(), 'fqvit-verilator-runtime', await runtimeKey(flags, runtime));
  const cached = runtime.length > 0 && runtime.every((o) => existsSync(join(cache, o)));
  if (cached) for (const o of runtime) copyFileSync(join(cache, o), join(objDir, o));
  await execa('make', ['-C', objDir, '-f', `V${TB_NAME}.mk`, '-j', '2', ...VERILATOR_MAKE_VARIABLES], { cwd: workDir });
  if (!cached && runtime.length > 0) {
    // Filled in a folder of its own and renamed into place, so a build running beside this one sees all or nothing.
    mkdirSync(dirname(cache), { recursive: true });
    const staging = mkdtempSync(`${cache}.part-`);
    for (const o of runtime) copyFileSync(join(objDir, o), join(staging, o));
    try {
      renameSync(staging, cache);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another build put it there first
    }
  }
}

let toolVersions: Promise<string> | undefined;

/** What the runtime objects depend on: Verilator's and the compiler's versions, the flags, the objects' names. */
async function runtimeKey(flags: string[], runtime: string[]): Promise<string> {
  toolVersions ??= Promise.all([execa('verilator', ['--version']), execa('g++', ['--version'])]).then((runs) => runs.map((r) => r.stdout).join('\n'));
  return createHash('sha256').update(JSON.stringify([await toolVersions, flags, VERILATOR_MAKE_VARIABLES, runtime])).digest('hex').slice(0, 16);
}

function parseRun(stdout: string, output: string, width: number, workDir: string): SimResult {
  const firstInput: Record<string, number> = {};
  const inputsConsumed: Record<string, boolean> = {};
  let doneCycle = -1;
  let timedOut = false;
  let statusError: bigint | undefined;
  let statusErrorCycle: number | undefined;
  for (const line of stdout.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'FIRST_IN') firstInput[words[1]!] = Number(words[2]);
    else if (words[0] === 'CONSUMED') inputsConsumed[words[1]!] = words[2] === '1';
    else if (words[0] === 'DONE') doneCycle = Number(words[1]);
    else if (words[0] === 'STATUS_ERROR') statusError = BigInt(`0x${words[1]}`);
    else if (words[0] === 'ERROR_RAISED') statusErrorCycle ??= Number(words[1]);
    else if (words[0] === 'TIMEOUT') { timedOut = true; doneCycle = Number(words[1]); }
  }
  const beats = output.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const [cycle, hex] = line.trim().split(/\s+/);
    if (!/^[0-9a-f]+$/i.test(hex ?? '')) throw new Error(`simulation wrote an undefined output (x or z): ${line}`);
    const word = BigInt(`0x${hex}`);
    return { cycle: Number(cycle), data: word & ((1n << BigInt(width)) - 1n), last: (word >> BigInt(width)) === 1n };
  });
  const status = statusError === undefined ? {} : { statusError, ...(statusErrorCycle === undefined ? {} : { statusErrorCycle }) };
  return { beats, beatsBeforeReset: [], inputsConsumed, firstInput, doneCycle, timedOut, workDir, ...status };
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

let verilatorChecked: Promise<void> | undefined;

/**
 * Makes sure Verilator is on PATH (Debian's package, installed like Icarus), with the C++ compiler and make that its
 * --binary builds need (Debian's verilator package does not depend on them).
 */
export function ensureVerilator(): Promise<void> {
  verilatorChecked ??= (async () => {
    await ensureDebianTool('verilator', 'verilator', 'Verilator');
    await ensureDebianTool('g++', 'g++', 'the C++ compiler Verilator builds with');
    await ensureDebianTool('make', 'make', 'make (Verilator builds with it)');
  })();
  return verilatorChecked;
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

/**
 * The cycle figures of a run, counted the same way for every block: `cycles` from the first accepted input beat to
 * the last output beat, both included; `latency` from the first accepted input beat to the first output beat.
 */
export function runTiming(result: SimResult): { cycles: number; latency: number } {
  const start = Math.min(...Object.values(result.firstInput));
  if (result.beats.length === 0 || !Number.isFinite(start)) return { cycles: 0, latency: 0 };
  return { cycles: result.beats.at(-1)!.cycle - start + 1, latency: result.beats[0]!.cycle - start };
}

export interface BeatComparison {
  mismatches: number;
  /** Human-readable description of the first difference, or undefined when equal. */
  first?: string;
  /** Index of the first differing beat (the shorter length when only the count differs). */
  firstIndex?: number;
}

/**
 * Compares output beats with the golden model's, element by element (tdata and tlast); a missing or extra beat
 * counts as a mismatch. `describe` names an element by its index (for the first-difference message): blocks make it
 * name the element's inputs.
 */
export function compareBeats(expected: Beat[], actual: Beat[], describe: (index: number) => string = (i) => `beat ${i}`): BeatComparison {
  let mismatches = Math.abs(expected.length - actual.length);
  let first: string | undefined;
  let firstIndex: number | undefined;
  for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (e.data !== a.data || e.last !== a.last) {
      mismatches++;
      if (first === undefined) {
        firstIndex = i;
        const at = 'cycle' in a ? ` at cycle ${(a as SimBeat).cycle}` : '';
        first = `${describe(i)}: expected data 0x${e.data.toString(16)} last ${Number(e.last)}, RTL gave 0x${a.data.toString(16)} last ${Number(a.last)}${at}`;
      }
    }
  }
  if (first === undefined && expected.length !== actual.length) {
    firstIndex = Math.min(expected.length, actual.length);
    first = `expected ${expected.length} beats, RTL produced ${actual.length}`;
  }
  return firstIndex === undefined ? { mismatches, first } : { mismatches, first, firstIndex };
}

export interface CheckedRun {
  result: SimResult;
  comparison: BeatComparison;
  /** The waveform of the failing run (only on a mismatch or timeout). */
  vcd?: string;
}

/**
 * Simulates `harness` and compares its output with the golden model's `expected` beats. On a mismatch or a timeout
 * it re-runs the same simulation with +vcd (unless that run already dumped one), keeps the work folder, writes the
 * first difference to mismatch.txt there, and prints one line on stderr with the first differing element (named by
 * `describe`, which should give its inputs), the expected and actual values, and the waveform's path.
 */
export async function simulateAndCompare(
  harness: SimHarness,
  workDir: string,
  options: SimOptions,
  expected: Beat[],
  describe?: (index: number) => string,
): Promise<CheckedRun> {
  const result = await simulate(harness, workDir, options);
  const comparison = compareBeats(expected, result.beats, describe);
  if (comparison.mismatches === 0 && !result.timedOut) return { result, comparison };
  if (!options.vcd) await simulate(harness, workDir, { ...options, vcd: true });
  const vcd = join(workDir, 'wave.vcd');
  const what = result.timedOut ? `timed out at cycle ${result.doneCycle}; ` : '';
  const line = `${harness.dut} (${options.simulator ?? 'icarus'}): ${what}${comparison.mismatches} mismatching beats; first: ${comparison.first ?? 'none'}; waveform: ${vcd}`;
  writeFileSync(join(workDir, 'mismatch.txt'), `${line}\n`);
  process.stderr.write(`${line}\n`);
  return { result, comparison, vcd };
}
