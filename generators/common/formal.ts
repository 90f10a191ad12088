/**
 * Formal equivalence with Yosys (the WebAssembly build, in-process): an implementation module is proven equal to a
 * plain behavioural reference for ALL input values, with a miter (`miter -equiv`) whose assertion SAT must prove.
 *
 * Combinational units are proven outright. Units with registers are proven by bounded model checking from the
 * all-zero state over `depth` cycles of free inputs: for a feed-forward pipeline of latency L (no feedback), every
 * output from cycle L on depends only on the last L+1 inputs, so a depth of L+2 covers every input sequence. The
 * reference must then have the same latency (write it as the behavioural function followed by L registers).
 * A unit whose outputs are meaningful only at some cycles (a bit-serial unit's result when `done`) is wrapped by the
 * caller in a module that shows them only then. The reference may state the unit's input contract with assume().
 */
import type { FileSet } from './files.ts';
import { runYosysScript } from './lint.ts';

export interface ProofOptions {
  /** Parameter overrides applied to both tops (e.g. small widths), by name. */
  params?: Record<string, number>;
  /** Cycles of bounded model checking from the all-zero state, for units with registers; omit for combinational ones. */
  depth?: number;
  /**
   * Cycles at the start whose outputs are not compared (a pipeline's warm-up, where the outputs come from the zero
   * state rather than from inputs). With skip = latency and depth = latency + 2, every compared output of a
   * feed-forward pipeline comes from free inputs.
   */
  skip?: number;
}

export interface ProofResult {
  proven: boolean;
  /** One line: what was proven, or why not (with the counterexample's input values when SAT found one). */
  summary: string;
  /** The full Yosys log. */
  log: string;
}

const GOLD = 'formal_ref_top';
const GATE = 'formal_impl_top';

/**
 * Proves `implTop` (from `implFiles`) equal to `refTop` (from the Verilog text `refText`) on every input. Both tops
 * must have the same ports (names and widths). The reference is renamed internally, so it may share the implementation's
 * module name.
 */
export async function proveEquivalent(implFiles: FileSet, implTop: string, refText: string, refTop: string, options: ProofOptions = {}): Promise<ProofResult> {
  const files: FileSet = new Map([...implFiles].filter(([p]) => p.endsWith('.v')).map(([p, t]) => [`impl/${p}`, t]));
  files.set('ref/reference.v', refText);
  const chparam = (top: string) => Object.entries(options.params ?? {}).map(([k, v]) => `chparam -set ${k} ${v} ${top}`);
  // -enable_undef with defined inputs: an x the implementation produces where the reference is defined is a mismatch
  // (without it SAT would pick any value for the x and could hide a bug).
  const problem = [
    '-enable_undef -set-def-inputs',
    ...(options.depth === undefined ? [] : [`-set-init-zero -seq ${options.depth}`]),
    // The reference may state the unit's input contract with immediate assume() statements (read with -formal).
    '-set-assumes',
  ].join(' ');
  // First, that some input satisfies the contract at all: unsatisfiable assumptions would make any proof vacuous.
  const satisfiable = `sat ${problem} formal_miter`;
  const sat = `sat -verify -prove-asserts ${problem}${options.skip ? ` -prove-skip ${options.skip}` : ''} -show-inputs -show-outputs formal_miter`;
  // Read the reference alone first and rename its top, so a reference may reuse the implementation's module name.
  const script = [
    'read_verilog -formal ref/reference.v',
    ...chparam(refTop),
    `hierarchy -top ${refTop}`,
    `rename ${refTop} ${GOLD}`,
    // Immediate assume() becomes a $check cell; lower it to $assume, which SAT takes as a constraint.
    'proc; chformal -lower; memory; flatten; design -stash gold',
    `read_verilog ${[...files.keys()].filter((p) => p.startsWith('impl/')).join(' ')}`,
    ...chparam(implTop),
    `hierarchy -check -top ${implTop}`,
    `rename ${implTop} ${GATE}`,
    // A case table becomes a ROM ($memrd) that SAT cannot import: map memories to logic first.
    'proc; memory; flatten; design -stash gate',
    `design -copy-from gold -as ${GOLD} ${GOLD}`,
    `design -copy-from gate -as ${GATE} ${GATE}`,
    `miter -equiv -flatten -make_assert ${GOLD} ${GATE} formal_miter`,
    'hierarchy -top formal_miter',
    'opt_clean',
    ...(/\bassume\s*\(/.test(refText) ? [satisfiable] : []),
    sat,
  ].join('; ');
  const { log, code } = await runYosysScript(files, script);
  const what = `${implTop} equals ${refTop}${options.params ? ` at ${JSON.stringify(options.params)}` : ''}${options.depth === undefined ? '' : ` over ${options.depth} cycles from reset`}`;
  if (/SAT solving finished - no model found/.test(log)) {
    return { proven: false, summary: `not proven: ${what}: no input satisfies the reference's assumptions (the proof would be vacuous)`, log };
  }
  if (code === 0 && /SAT proof finished - no model found: SUCCESS!/.test(log)) {
    return { proven: true, summary: `proven: ${what}`, log };
  }
  const error = log.split('\n').find((l) => l.startsWith('ERROR:')) ?? `yosys exited with ${code}`;
  return { proven: false, summary: `not proven: ${what}: ${error}${counterexample(log)}`, log };
}

/**
 * The input values of SAT's counterexample from its -show-inputs table (values as unsigned decimals): "x=6" for a
 * combinational proof, "x@1=6 x@2=15" (per cycle) for a sequential one. The clock input is left out.
 */
function counterexample(log: string): string {
  const pairs: string[] = [];
  for (const line of log.split('\n')) {
    const m = /^\s*(\d+\s+)?\\in_(\S+)\s+(\S+)\s+\S+\s+\S+\s*$/.exec(line);
    if (!m || m[2] === 'clk') continue;
    pairs.push(`${m[2]}${m[1] ? `@${m[1].trim()}` : ''}=${m[3]}`);
  }
  return pairs.length ? `; counterexample: ${pairs.join(' ')}` : '';
}
