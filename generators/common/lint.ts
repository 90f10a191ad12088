/**
 * Lint of generated and hand-written Verilog: `verilator --lint-only -Wall` and Yosys `hierarchy -check`. Both take
 * a FileSet in memory (only paths ending in `.v` are read) and return the findings as lines; an empty list means
 * clean. Waivers belong in the Verilog, next to the line, with their reason: nothing is suppressed here.
 */
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FileSet } from './files.ts';
import { ensureVerilator } from './sim.ts';

export interface LintOptions {
  /** Parameter overrides of the top module, e.g. {DATA_WIDTH: 8}. */
  params?: Record<string, string | number>;
  /** Testbench code with delays and `wait`: lint it with Verilator's timing support. */
  timing?: boolean;
}

function verilogSources(files: FileSet): Array<[string, string]> {
  return [...files].filter(([p]) => p.endsWith('.v')).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Runs `verilator --lint-only -Wall` with `args` over the `.v` files (written to a temporary folder, removed after);
 * returns its stderr and the %Warning/%Error lines (with their codes) but Verilator's closing line, or, when it failed
 * without such a line, one finding saying so.
 */
async function runVerilatorLint(files: FileSet, args: string[]): Promise<{ stderr: string; findings: string[] }> {
  await ensureVerilator();
  const dir = mkdtempSync(join(tmpdir(), 'lint-'));
  try {
    const sources = verilogSources(files);
    for (const [path, text] of sources) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const run = await execa('verilator', ['--lint-only', '-Wall', ...args, ...sources.map(([p]) => p)], { cwd: dir, reject: false });
    const findings = run.stderr.split('\n').filter((l) => /^%(Warning|Error)/.test(l) && !/^%Error: Exiting due to/.test(l));
    if (run.exitCode !== 0 && findings.length === 0) findings.push(`verilator exited with ${run.exitCode}: ${run.stderr.trim()}`);
    return { stderr: run.stderr, findings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Verilator's verdict on the design under `top`: every %Warning/%Error line (with its code), empty when clean. */
export async function lintVerilator(files: FileSet, top: string, options: LintOptions = {}): Promise<string[]> {
  const params = Object.entries(options.params ?? {}).map(([k, v]) => `-G${k}=${v}`);
  return (await runVerilatorLint(files, [...(options.timing ? ['--timing'] : []), '--top-module', top, ...params])).findings;
}

/**
 * Verilator's verdict on one design with several tops, in one run: without --top-module it elaborates every module
 * nothing instantiates, each at its default parameters, as lintVerilator does one at a time. Its MULTITOP warning
 * lists those modules; it is the expected answer here, not a finding, when they are exactly `tops` (any other
 * uninstantiated module, or a top missing, is a finding).
 */
export async function lintVerilatorTops(files: FileSet, tops: readonly string[]): Promise<string[]> {
  if (tops.length < 2) return tops.length === 1 ? lintVerilator(files, tops[0]!) : [];
  const run = await runVerilatorLint(files, []);
  const findings = run.findings.filter((l) => !/^%Warning-MULTITOP:/.test(l));
  const found = [...run.stderr.matchAll(/: \.\.\. Top module '(\w+)'/g)].map((m) => m[1]!).sort();
  const expected = [...tops].sort();
  if (JSON.stringify(found) !== JSON.stringify(expected)) findings.push(`verilator found the top modules ${found.join(', ') || '(none)'}, expected ${expected.join(', ')}`);
  return findings;
}

/** Runs Yosys (the WebAssembly build, in-process) with `script` over the `.v` files; returns its log and exit code. */
export async function runYosysScript(files: FileSet, script: string): Promise<{ log: string; code: number; files: Record<string, unknown> }> {
  const { runYosys, Exit } = await import('@yowasp/yosys');
  // The in-memory file system takes folders as nested objects.
  type Tree = { [name: string]: Tree | string };
  const tree: Tree = {};
  for (const [path, text] of verilogSources(files)) {
    const parts = path.split('/');
    let folder = tree;
    for (const part of parts.slice(0, -1)) folder = (folder[part] ??= {}) as Tree;
    folder[parts.at(-1)!] = text;
  }
  let log = '';
  const decoder = new TextDecoder();
  const sink = (bytes: Uint8Array | null) => { if (bytes) log += decoder.decode(bytes, { stream: true }); };
  try {
    const out = await runYosys(['-Q', '-p', script], tree, { stdout: sink, stderr: sink });
    return { log, code: 0, files: (out ?? {}) as Record<string, unknown> };
  } catch (err) {
    if (err instanceof Exit) return { log, code: err.code, files: err.files as Record<string, unknown> };
    throw err;
  }
}

/**
 * Yosys reads every file (as Verilog-2005) and elaborates the hierarchy under `top` with `hierarchy -check`:
 * returns its warnings and errors, empty when clean.
 */
export async function lintYosys(files: FileSet, top: string, options: Pick<LintOptions, 'params'> = {}): Promise<string[]> {
  const paths = verilogSources(files).map(([p]) => p);
  const chparam = Object.entries(options.params ?? {}).map(([k, v]) => ` -chparam ${k} ${v}`).join('');
  const script = `read_verilog ${paths.join(' ')}; hierarchy -check -top ${top}${chparam}`;
  const { log, code } = await runYosysScript(files, script);
  // Lines like "Warning: ...", "file.v:12: Warning: ..." and "ERROR: ..."; not the closing "Warnings: N unique messages".
  const findings = log.split('\n').map((l) => l.trim()).filter((l) => /(^|: )(Warning|ERROR):/.test(l));
  if (code !== 0 && findings.length === 0) findings.push(`yosys exited with ${code}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
  return findings;
}

/**
 * Yosys's verdict on one design under each of several tops, in one run: the sources are read once and the design is
 * restored before each `hierarchy -check -top` (which drops what its top does not use). They are read with -defer:
 * each module is elaborated only under a top, with the parameters it gets there, not also at its defaults first (half
 * of LayerNorm's 15 widths' time); every module of a design is under one of its tops. Findings as lintYosys.
 */
export async function lintYosysTops(files: FileSet, tops: readonly string[]): Promise<string[]> {
  const paths = verilogSources(files).map(([p]) => p);
  const checks = tops.map((top) => `design -load sources; hierarchy -check -top ${top}`).join('; ');
  const { log, code } = await runYosysScript(files, `read_verilog -defer ${paths.join(' ')}; design -save sources; ${checks}`);
  const findings = log.split('\n').map((l) => l.trim()).filter((l) => /(^|: )(Warning|ERROR):/.test(l));
  if (code !== 0 && findings.length === 0) findings.push(`yosys exited with ${code}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
  return findings;
}

/** Runs `jobs` with at most `limit` in flight (the machine has 2 cores), keeping the results in order. */
export async function inParallel<T>(jobs: Array<() => Promise<T>>, limit = 2): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
