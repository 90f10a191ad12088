/**
 * npm run synth -- --bits 4: generates each block, synthesizes it with YoWASP Yosys (iCE40, ECP5, Xilinx 7-series) and
 * places and routes it with nextpnr-ice40, then writes report.json, report.md and SVG plots into the configuration's
 * folder. Jobs run in parallel on the available cores and are cached under build/synth-cache/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../generators/common/errors.ts';
import { checkWritableFolder, type FileSet } from '../generators/common/files.ts';
import { cliInt, oneOf } from '../generators/common/validate.ts';
import { synthesizeDesign, type DesignReport, type FlowOptions, type SynthDesign } from '../generators/synth/flow.ts';
import { FAMILIES, ICE40_DEVICES, type Family } from '../generators/synth/report.ts';
import { buildReport, plainRow, reportMarkdown, reportPlots, type SynthReport } from '../generators/synth/summary.ts';
import { ToolError, ToolRunner, type ToolResult } from '../generators/synth/tools.ts';
import { parseBits, parseCli, runMain } from './cli.ts';
import { generateConfiguration, writeConfiguration, type Generated } from './gen.ts';
import { SYNTH_HELP } from './help.generated.ts';

export const SYNTH_CACHE = resolve('build', 'synth-cache');

export interface SynthArgs {
  bits?: string;
  blocks?: string;
  spec?: string;
  out?: string;
  device?: string;
  families?: string;
  seed?: string;
  jobs?: string;
}

/** --bits for synth and bench: one width or a comma-separated list, each checked like gen's --bits. */
export function parseBitsList(value: string | undefined, fallback = '4'): number[] {
  const list = (value ?? fallback).split(',').map((s) => s.trim());
  return [...new Set(list.map((b) => parseBits(b)))].sort((a, b) => a - b);
}

export function parseFlow(args: SynthArgs): FlowOptions & { jobs: number } {
  const families = (args.families ?? FAMILIES.join(',')).split(',').map((f) => oneOf('--families', f.trim(), FAMILIES) as Family);
  return {
    device: oneOf('--device', args.device ?? 'hx8k', ICE40_DEVICES),
    families: FAMILIES.filter((f) => families.includes(f)),
    seed: cliInt('--seed', args.seed ?? '1', 1, 2147483647),
    targetMhz: 100,
    jobs: cliInt('--jobs', args.jobs ?? String(availableParallelism()), 1, 256),
  };
}

/** The block's generated files, read through its manifest (`top`, `files`): nothing is re-derived here. */
export function designFromGenerated(generated: Generated, block: string, name = block): SynthDesign {
  const manifestText = generated.files.get(`${block}/rtl/manifest.json`);
  if (manifestText === undefined) throw new Error(`${block}: generate() wrote no rtl/manifest.json`);
  const manifest = JSON.parse(manifestText) as { top?: string; files?: string[]; spec?: { lanes?: unknown }; derived?: { macs?: unknown } };
  if (typeof manifest.top !== 'string' || !Array.isArray(manifest.files)) throw new Error(`${block}: rtl/manifest.json lacks "top" or "files"`);
  const files: Record<string, string> = {};
  for (const f of manifest.files) {
    const text = generated.files.get(`${block}/rtl/${f}`);
    if (text === undefined) throw new Error(`${block}: manifest lists ${f}, which generate() did not write`);
    files[f] = text;
  }
  const lanes = manifest.spec?.lanes;
  const macs = manifest.derived?.macs;
  return { name, top: manifest.top, files, ...(typeof lanes === 'number' ? { lanes } : {}), ...(typeof macs === 'number' ? { macs } : {}) };
}

/** Progress lines on stderr: one per finished tool job, with its time or "cached". */
export function progressPrinter(total: () => number): (label: string, result: ToolResult) => void {
  let done = 0;
  return (label, result) => {
    done++;
    const secs = result.logs.reduce((s, l) => s + l.seconds, 0).toFixed(1);
    process.stderr.write(`[${String(done).padStart(String(total()).length)}/${total()}] ${label}: ${result.cached ? `cached (${secs} s when run)` : `${secs} s`}\n`);
  };
}

/** Tool jobs of one design: ports, one synthesis per family, and on iCE40 two routed runs. */
export function jobsPerDesign(flow: FlowOptions): number {
  return 1 + flow.families.filter((f) => f !== 'ice40').length + (flow.families.includes('ice40') ? 2 : 0);
}

/** Reports of other configurations already in `out` (same spec suffix, same device), for the plots across widths. */
function siblingReports(out: string, suffix: string, device: string): SynthReport[] {
  if (!existsSync(out)) return [];
  const reports: SynthReport[] = [];
  for (const name of readdirSync(out)) {
    const m = /^bits(\d+)(-[0-9a-f]{8})?$/.exec(name);
    if (!m || (m[2] ?? '') !== suffix) continue;
    const path = join(out, name, 'report.json');
    if (!existsSync(path)) continue;
    try {
      const r = JSON.parse(readFileSync(path, 'utf8')) as SynthReport;
      if (r.flow?.device === device && Array.isArray(r.rows)) reports.push(r);
    } catch {
      // A damaged old report is left out of the plot, not fatal.
    }
  }
  return reports;
}

export async function runSynth(args: SynthArgs): Promise<SynthReport[]> {
  const bitsList = parseBitsList(args.bits);
  const flow = parseFlow(args);
  const out = args.out ?? 'rtl-out';
  checkWritableFolder('--out', out);
  const configs = bitsList.map((bits) => generateConfiguration({ bits: String(bits), blocks: args.blocks, spec: args.spec }));
  if (configs[0]!.blocks.length === 0) throw new UsageError('--blocks: no block is implemented yet, nothing to synthesize');
  const runner = new ToolRunner({ cacheDir: SYNTH_CACHE, parallel: flow.jobs });
  const designs = configs.map((g) => g.blocks.map((b) => designFromGenerated(g, b)));
  const total = designs.flat().length * jobsPerDesign(flow);
  const onStep = progressPrinter(() => total);
  let results: DesignReport[][];
  try {
    results = await Promise.all(designs.map((list) => Promise.all(list.map((d) => synthesizeDesign(d, flow, runner, onStep)))));
  } catch (err) {
    runner.cancel();
    throw err;
  }
  const reports = configs.map((g, i) => buildReport(g.name, bitsList[i]!, flow, results[i]!));
  const suffix = /-[0-9a-f]{8}$/.exec(configs[0]!.name)?.[0] ?? '';
  const byBits = new Map(siblingReports(out, suffix, flow.device).map((r) => [r.bits, r]));
  for (const r of reports) byBits.set(r.bits, r);
  const plots = reportPlots([...byBits.values()]);
  for (const [i, g] of configs.entries()) {
    const files: FileSet = new Map();
    files.set('report.json', JSON.stringify(reports[i], null, 2) + '\n');
    files.set('report.md', reportMarkdown(reports[i]!));
    for (const [name, svg] of Object.entries(plots)) files.set(name, svg);
    const target = writeConfiguration(out, g, files);
    process.stderr.write(`wrote ${join(target, 'report.json')}, report.md, resources.svg, fmax.svg\n`);
  }
  return reports;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const args = parseCli(argv, {
    bits: { type: 'string' },
    blocks: { type: 'string' },
    spec: { type: 'string' },
    out: { type: 'string' },
    device: { type: 'string' },
    families: { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (args.help) {
    process.stdout.write(`${SYNTH_HELP}\n`);
    return 0;
  }
  let reports: SynthReport[];
  try {
    reports = await runSynth(args);
  } catch (err) {
    if (err instanceof ToolError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  for (const r of reports) process.stdout.write(`${reportMarkdown(r).split('\n## Pin harness')[0]!.trimEnd()}\n\n`);
  if (args.json) {
    const rows = reports.flatMap((r) => r.rows.map((row) => ({ configuration: r.configuration, bits: r.bits, ...plainRow(row) })));
    process.stdout.write(`${JSON.stringify({ tools: reports[0]?.tools, device: reports[0]?.flow.device, rows })}\n`);
  }
  return 0;
}

if (process.argv[1]?.endsWith('synth.ts')) runMain(main);
